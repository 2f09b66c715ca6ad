//! Multiwallet routing, encryption and persistence, with the transcript's error codes and
//! messages.

use crate::wallet_common::Node;
use serde_json::json;

#[test]
fn routing_errors_match_elements() {
    let mut node = Node::new();
    let err = node.try_call(None, "getbalance", json!([])).unwrap_err();
    assert_eq!(err.code, -18);
    assert!(err.message.starts_with("No wallet is loaded."));
    node.try_call(None, "createwallet", json!(["a"])).unwrap();
    // One wallet loaded: calls without /wallet/<name> go to it.
    assert_eq!(
        node.try_call(None, "getbalance", json!([])).unwrap(),
        json!({ "bitcoin": 0.0 })
    );
    let r = node
        .try_call(
            None,
            "createwallet",
            json!(["b", false, false, "", false, true]),
        )
        .unwrap();
    assert_eq!(
        r,
        json!({ "name": "b", "warning": "Empty string given as passphrase, wallet will not be encrypted." })
    );
    assert_eq!(
        node.call("b", "getwalletinfo", json!([]))["format"],
        json!("sqlite")
    );
    let err = node.try_call(None, "getbalance", json!([])).unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            -19,
            "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path)."
        )
    );
    let err = node
        .try_call(Some("nosuchwallet"), "getnewaddress", json!([]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-18, "Requested wallet does not exist or is not loaded")
    );
    let err = node
        .try_call(None, "loadwallet", json!(["nosuchwallet"]))
        .unwrap_err();
    assert_eq!(err.code, -18);
    assert!(err.message.contains("Path does not exist."));
    let err = node
        .try_call(None, "createwallet", json!(["a"]))
        .unwrap_err();
    assert_eq!(err.code, -4);
    assert_eq!(
        node.try_call(None, "listwallets", json!([])).unwrap(),
        json!(["a", "b"])
    );

    // unload / load / already loaded (in memory).
    let addr = node.call("a", "getnewaddress", json!([]));
    assert_eq!(
        node.try_call(None, "unloadwallet", json!(["a"])).unwrap(),
        json!({ "warning": "" })
    );
    assert_eq!(
        node.try_call(None, "listwallets", json!([])).unwrap(),
        json!(["b"])
    );
    assert_eq!(
        node.try_call(None, "loadwallet", json!(["a"])).unwrap(),
        json!({ "name": "a", "warning": "" })
    );
    let err = node.try_call(None, "loadwallet", json!(["a"])).unwrap_err();
    assert_eq!(err.code, -35);
    assert!(err.message.contains("is already loaded."));
    assert_eq!(
        node.call("a", "getaddressinfo", json!([addr]))["ismine"],
        json!(true)
    );
    // Non-wallet methods are left to the server.
    assert!(amphora_regtest::wallet::dispatch(
        &mut node.wallets,
        &mut node.chain,
        None,
        "getblockcount",
        &[]
    )
    .is_none());
}

#[test]
fn encryption_lock_probe_matches_the_confirm_client() {
    let mut node = Node::new();
    for name in ["t", "inv"] {
        node.try_call(None, "createwallet", json!([name])).unwrap();
    }
    node.call("t", "rescanblockchain", json!([]));
    let err = node
        .try_call(
            Some("t"),
            "signmessage",
            json!(["invalidaddress", "message"]),
        )
        .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-5, "Invalid address"));
    let err = node
        .try_call(Some("t"), "walletpassphrase", json!(["x", 60]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            -15,
            "Error: running with an unencrypted wallet, but walletpassphrase was called."
        )
    );
    let inv_addr = node.call("inv", "getnewaddress", json!([]));
    node.call("t", "sendtoaddress", json!([inv_addr, 1]));
    node.mine(1);
    assert_eq!(
        node.call("inv", "encryptwallet", json!(["secret"])),
        json!("wallet encrypted; The keypool has been flushed and a new HD seed was generated (if you are using HD). You need to make a new backup.")
    );
    let locked = "Error: Please enter the wallet passphrase with walletpassphrase first.";
    let err = node
        .try_call(
            Some("inv"),
            "signmessage",
            json!(["invalidaddress", "message"]),
        )
        .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-13, locked));
    let err = node
        .try_call(Some("inv"), "sendtoaddress", json!([inv_addr, 0.001]))
        .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-13, locked));
    let err = node
        .try_call(Some("inv"), "walletpassphrase", json!(["wrong", 60]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-14, "Error: The wallet passphrase entered was incorrect.")
    );
    // Addresses still come from the keypool while locked.
    let fresh = node.call("inv", "getnewaddress", json!([]));
    assert_eq!(
        node.call("inv", "walletpassphrase", json!(["secret", 60])),
        json!(null)
    );
    let err = node
        .try_call(
            Some("inv"),
            "signmessage",
            json!(["invalidaddress", "message"]),
        )
        .unwrap_err();
    assert_eq!(err.code, -5);
    // Unlocked: coins received before encryption are spendable.
    let txid = node.call("inv", "sendtoaddress", json!([fresh, 0.5]));
    node.verify_proofs(txid.as_str().unwrap());
    assert_eq!(node.call("inv", "walletlock", json!([])), json!(null));
    let err = node
        .try_call(
            Some("inv"),
            "signmessage",
            json!(["invalidaddress", "message"]),
        )
        .unwrap_err();
    assert_eq!(err.code, -13);
    let info = node.call("inv", "getwalletinfo", json!([]));
    assert_eq!(info["unlocked_until"], json!(0));
}

#[test]
fn wallets_and_coins_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (addr, txid) = {
        let mut node = Node::open(Some(dir.path()));
        node.try_call(None, "createwallet", json!(["t"])).unwrap();
        node.try_call(None, "createwallet", json!(["p"])).unwrap();
        node.call("t", "rescanblockchain", json!([]));
        let addr = node.call("p", "getnewaddress", json!([]));
        let txid = node.call("t", "sendtoaddress", json!([addr, 2]));
        node.mine(1);
        node.try_call(
            None,
            "createwallet",
            json!(["gone", null, null, null, null, null, false]),
        )
        .unwrap();
        node.chain.flush().unwrap();
        (addr, txid)
    };
    let mut node = Node::open(Some(dir.path()));
    assert_eq!(
        node.try_call(None, "listwallets", json!([])).unwrap(),
        json!(["p", "t"])
    );
    assert_eq!(
        node.call("p", "getbalance", json!([])),
        json!({ "bitcoin": 2.0 })
    );
    assert_eq!(
        node.call("p", "getaddressinfo", json!([addr]))["ismine"],
        json!(true)
    );
    let gt = node.call("p", "gettransaction", json!([txid]));
    assert_eq!(gt["confirmations"], json!(1));
    // A wallet not marked load-on-startup stays on disk and loads on request.
    assert_eq!(
        node.try_call(None, "loadwallet", json!(["gone"])).unwrap(),
        json!({ "name": "gone", "warning": "" })
    );
    // New blocks after the restart are picked up.
    let again = node.call("t", "sendtoaddress", json!([addr, 1]));
    node.mine(1);
    assert_eq!(
        node.call("p", "getbalance", json!([])),
        json!({ "bitcoin": 3.0 })
    );
    node.verify_proofs(again.as_str().unwrap());
}

#[test]
fn coinbase_fees_mature_after_100_blocks() {
    let mut node = Node::new();
    node.try_call(None, "createwallet", json!(["m"])).unwrap();
    node.call("m", "rescanblockchain", json!([]));
    let miner = crate::wallet_common::addr(&node.call("m", "getnewaddress", json!([])));
    let dest = node.call("m", "getnewaddress", json!([]));
    node.call("m", "sendtoaddress", json!([dest, 1]));
    let hash = node.chain.mine_block(miner.script_pubkey()).unwrap();
    let coinbase = node.chain.block(&hash).unwrap().txdata[0]
        .txid()
        .to_string();
    let info = node.call("m", "getwalletinfo", json!([]));
    let immature = crate::wallet_common::sats(&info["immature_balance"]["bitcoin"]);
    assert!(immature > 0, "the block's fee is immature");
    let gt = node.call("m", "gettransaction", json!([coinbase]));
    assert_eq!(gt["generated"], json!(true));
    assert_eq!(gt["details"][0]["category"], json!("immature"));
    let before = crate::wallet_common::sats(&node.call("m", "getbalance", json!([]))["bitcoin"]);
    node.mine(100);
    let gt = node.call("m", "gettransaction", json!([coinbase]));
    assert_eq!(gt["details"][0]["category"], json!("generate"));
    let after = crate::wallet_common::sats(&node.call("m", "getbalance", json!([]))["bitcoin"]);
    assert_eq!(after, before + immature);
}

#[test]
fn fee_rate_and_subtract_fee_from_amount() {
    let mut node = Node::new();
    for name in ["s", "r"] {
        node.try_call(None, "createwallet", json!([name])).unwrap();
    }
    node.call("s", "rescanblockchain", json!([]));
    let to = node.call("r", "getnewaddress", json!([]));
    let txid = node.call(
        "s",
        "sendtoaddress",
        json!([to, 1, "", "", true, null, null, "unset", null, null, null, 10]),
    );
    let id: elements::Txid = txid.as_str().unwrap().parse().unwrap();
    let vsize = node.chain.tx(&id).unwrap().tx.vsize() as i64;
    let gt = node.call("s", "gettransaction", json!([txid]));
    let fee = -crate::wallet_common::sats(&gt["fee"]["bitcoin"]);
    assert!(
        fee >= vsize * 10 && fee < vsize * 10 + 100,
        "fee {fee} for vsize {vsize}"
    );
    node.mine(1);
    let got = crate::wallet_common::sats(&node.call("r", "getbalance", json!([]))["bitcoin"]);
    assert_eq!(got, 100_000_000 - fee, "the recipient paid the fee");
}

#[test]
fn history_balances_and_wallet_dir() {
    let mut node = Node::new();
    node.try_call(None, "createwallet", json!(["h"])).unwrap();
    node.call("h", "rescanblockchain", json!([]));
    let change = node.call("h", "getrawchangeaddress", json!([]));
    let info = node.call("h", "getaddressinfo", json!([change]));
    assert_eq!(info["ischange"], json!(true));
    assert_eq!(info["labels"], json!([]));
    assert!(info["hdkeypath"].as_str().unwrap().starts_with("m/0'/1'/"));
    let to = node.call("h", "getnewaddress", json!(["savings", "bech32"]));
    assert!(to.as_str().unwrap().starts_with("ert1"));
    node.call("h", "sendtoaddress", json!([to, 2]));
    let b = node.call("h", "getbalances", json!([]));
    assert!(b["mine"]["trusted"]["bitcoin"].as_f64().unwrap() > 20_999_997.0);
    let list = node.call("h", "listtransactions", json!([]));
    let list = list.as_array().unwrap();
    assert!(list
        .iter()
        .any(|e| e["category"] == "receive" && e["label"] == "savings"));
    assert!(list
        .iter()
        .all(|e| e["txid"].is_string() && e["confirmations"].is_number()));
    node.mine(1);
    let only = node.call("h", "listunspent", json!([1, 9999999, [to]]));
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["amount"], json!(2.0));
    assert!(
        only[0].get("assetcommitment").is_none(),
        "explicit output to a bech32 address"
    );
    assert_eq!(
        node.try_call(None, "listwalletdir", json!([])).unwrap(),
        json!({ "wallets": [{ "name": "h" }] })
    );
    assert_eq!(
        node.try_call(None, "dumpassetlabels", json!([])).unwrap(),
        json!({ "bitcoin": "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225" })
    );
}
