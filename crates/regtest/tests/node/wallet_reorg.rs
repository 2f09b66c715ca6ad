//! Wallet sync across a chain switch: blocks the wallet processed are replaced by other
//! blocks at the same heights (as after a reorg), and the wallet rewinds to the fork point.

use amphora_regtest::chain::{Chain, ChainParams};
use amphora_regtest::wallet::{dispatch, WalletManager};
use elements::encode::deserialize;
use elements::Script;
use serde_json::{json, Value};

fn call(wallets: &mut WalletManager, chain: &mut Chain, method: &str, params: Value) -> Value {
    let params = params.as_array().cloned().unwrap_or_default();
    dispatch(wallets, chain, Some("w"), method, &params)
        .expect("wallet method")
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

fn script(byte: u8) -> Script {
    Script::from([vec![0x00, 0x14], vec![byte; 20]].concat())
}

#[test]
fn wallet_rewinds_blocks_that_left_the_chain() {
    let mut a = Chain::open(None, ChainParams::liquidregtest()).unwrap();
    let mut b = Chain::open(None, ChainParams::liquidregtest()).unwrap();
    let mut wallets = WalletManager::open(None, &a).unwrap();
    dispatch(&mut wallets, &mut a, None, "createwallet", &[json!("w")])
        .unwrap()
        .unwrap();
    call(&mut wallets, &mut a, "rescanblockchain", json!([]));
    let to = call(&mut wallets, &mut a, "getnewaddress", json!([]));
    let txid = call(&mut wallets, &mut a, "sendtoaddress", json!([to, 5]));
    a.mine_block(script(1)).unwrap();
    let gt = call(&mut wallets, &mut a, "gettransaction", json!([txid]));
    assert_eq!(gt["confirmations"], json!(1));
    let hex_tx = gt["hex"].as_str().unwrap().to_owned();

    // Chain b has two other blocks on the same genesis and never saw the transaction.
    b.mine_block(script(2)).unwrap();
    b.mine_block(script(2)).unwrap();
    let gt = call(&mut wallets, &mut b, "gettransaction", json!([txid]));
    assert_eq!(gt["confirmations"], json!(0));
    assert!(gt.get("blockhash").is_none());
    // The spend is unconfirmed and in no mempool: as in Elements Core (`IsSpent`, a spender
    // at depth 0), the free coins it spends stay spent, and its own outputs are untrusted
    // (not in the mempool), so nothing is spendable until it is back in the mempool.
    assert_eq!(
        call(&mut wallets, &mut b, "getbalance", json!([])),
        json!({ "bitcoin": 0.0 })
    );
    let info = call(&mut wallets, &mut b, "getwalletinfo", json!([]));
    assert_eq!(info["txcount"], json!(2));

    // Rebroadcast on b: back in the mempool, then confirmed at b's height 3.
    let tx: elements::Transaction = deserialize(&hex::decode(&hex_tx).unwrap()).unwrap();
    b.submit_transaction(tx).unwrap();
    let bal = call(&mut wallets, &mut b, "getbalance", json!([]));
    assert!(bal["bitcoin"].as_f64().unwrap() < 21_000_000.0, "fee paid");
    b.mine_block(script(2)).unwrap();
    let gt = call(&mut wallets, &mut b, "gettransaction", json!([txid]));
    assert_eq!(gt["confirmations"], json!(1));
    assert_eq!(gt["blockheight"], json!(3));
}
