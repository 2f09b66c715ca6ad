//! Real Elements data: §G transaction fixtures, and the Elements Core 23.3.3 transcript's
//! transactions and block, checked byte-for-byte and field-for-field.

use std::collections::HashMap;
use std::str::FromStr;

use amphora_regtest::chain::{
    merkle_root, reissuance_spends_token, verify_amounts, verify_input, witness_merkle_root,
    ChainParams,
};
use amphora_regtest::rpc::json::tx_json;
use elements::encode::{deserialize, serialize};
use elements::secp256k1_zkp::Secp256k1;
use elements::{AddressParams, AssetId, Block, ContractHash, OutPoint, Transaction, TxOut, Txid};
use serde_json::Value;

fn data(name: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("fixture file")
}

fn transcript_txs() -> HashMap<Txid, (Transaction, Value)> {
    let all: serde_json::Map<String, Value> =
        serde_json::from_str(&data("transcript-txs.json")).expect("json");
    all.into_iter()
        .map(|(txid, verbose)| {
            let bytes = hex::decode(verbose["hex"].as_str().expect("hex")).expect("hex");
            let tx: Transaction = deserialize(&bytes).expect("tx");
            (Txid::from_str(&txid).expect("txid"), (tx, verbose))
        })
        .collect()
}

#[test]
fn section_g_fixtures_round_trip_with_their_txids() {
    let cases = [
        ("1in2out_tx.hex", "8b91812c"),
        ("4in3out_tx.hex", "bf81d0f7"),
        ("issue_tx.hex", "58f7720e"),
        ("2in3out_exp.hex", ""),
        ("2in3out_tx.hex", ""),
        ("elip203_3.hex", ""),
    ];
    for (file, txid_prefix) in cases {
        let hex_str = data(file);
        let bytes = hex::decode(hex_str.trim()).expect("hex");
        let tx: Transaction = deserialize(&bytes).expect(file);
        assert_eq!(serialize(&tx), bytes, "{file} must re-serialize byte-exact");
        assert!(
            tx.txid().to_string().starts_with(txid_prefix),
            "{file}: {}",
            tx.txid()
        );
    }
}

#[test]
fn transcript_transactions_render_exactly_as_elements_core() {
    for (txid, (tx, verbose)) in transcript_txs() {
        assert_eq!(tx.txid(), txid);
        let mut ours = tx_json(&tx, &AddressParams::ELEMENTS, true);
        let mut theirs = verbose.as_object().expect("object").clone();
        for key in ["blockhash", "confirmations", "time", "blocktime"] {
            theirs.remove(key);
        }
        ours.remove("__none__");
        for (key, value) in &theirs {
            let mine = ours.get(key).unwrap_or(&Value::Null);
            if mine != value {
                let show = |v: &Value| v.to_string().chars().take(600).collect::<String>();
                panic!(
                    "getrawtransaction {txid}: {key} differs:\nours   {}\ntheirs {}",
                    show(mine),
                    show(value)
                );
            }
        }
        let ours = Value::Object(ours);
        let theirs = Value::Object(theirs);
        // Key order too.
        let ours_keys: Vec<_> = ours.as_object().unwrap().keys().cloned().collect();
        let theirs_keys: Vec<_> = theirs.as_object().unwrap().keys().cloned().collect();
        assert_eq!(ours_keys, theirs_keys);
    }
}

#[test]
fn transcript_block_round_trips_and_commitments_match() {
    let bytes = hex::decode(data("transcript-block-10.hex").trim()).expect("hex");
    let block: Block = deserialize(&bytes).expect("block");
    assert_eq!(serialize(&block), bytes);
    assert_eq!(
        block.block_hash().to_string(),
        "861cac12c288673106fe6fdddb856d33681332a514590ef47cb45b9d3b522bdc"
    );
    assert_eq!(block.header.height, 10);
    assert_eq!(
        merkle_root(block.txdata.iter().map(|tx| tx.txid())),
        block.header.merkle_root
    );
    // Our dynafed params for height 10 are exactly the real header's.
    let params = ChainParams::liquidregtest();
    assert_eq!(block.header.ext, params.block_ext(10));
    // The segwit commitment in the real coinbase is what we compute.
    let coinbase = &block.txdata[0];
    let script = coinbase
        .output
        .last()
        .expect("commitment")
        .script_pubkey
        .as_bytes();
    let reserved = coinbase.input[0]
        .witness
        .script_witness
        .get(0)
        .expect("reserved");
    let commitment = {
        use elements::hashes::{sha256d, HashEngine};
        let mut e = sha256d::Hash::engine();
        e.input(&witness_merkle_root(&block));
        e.input(reserved);
        sha256d::Hash::from_engine(e).to_byte_array()
    };
    assert_eq!(&script[6..38], &commitment[..]);
}

#[test]
fn transcript_issuance_reproduces_its_asset_from_the_contract() {
    let txs = transcript_txs();
    let issuance =
        &txs[&Txid::from_str("d6ffa2cfa6e906614b4286bd7cba09321b817b20c822437c9e5345a002b88388")
            .unwrap()]
            .0;
    let contract = r#"{"entity":{"domain":"example.com"},"issuer_pubkey":"02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084","name":"Example Security","precision":0,"ticker":"EXSEC","version":0}"#;
    let hash = ContractHash::from_json_contract(contract).expect("contract");
    assert_eq!(
        hash.to_string(),
        "909986610ebfd2d9c9e5250c9733d591e70d968c391730a14c28e13a7244e1fc"
    );
    let input = &issuance.input[0];
    assert_eq!(
        input.asset_issuance.asset_entropy.into_contract_hash(),
        hash
    );
    let asset = AssetId::new_issuance(input.previous_output, hash);
    assert_eq!(
        asset.to_string(),
        "46a233d92f0a672782fc5d3ae43e694cc4c4d2044c222140ebd656c3de8aeeed"
    );
    assert_eq!(input.issuance_ids().0, asset);
}

fn spent_outputs(
    txs: &HashMap<Txid, (Transaction, Value)>,
    tx: &Transaction,
) -> Vec<Option<TxOut>> {
    tx.input
        .iter()
        .map(|i| {
            txs.get(&i.previous_output.txid)
                .map(|(prev, _)| prev.output[i.previous_output.vout as usize].clone())
        })
        .collect()
}

#[test]
fn real_signatures_and_proofs_verify_and_tampering_fails() {
    let secp = Secp256k1::new();
    let txs = transcript_txs();
    let genesis = ChainParams::liquidregtest().genesis_hash();
    let mut verified = 0;
    for (tx, _) in txs.values() {
        let spent = spent_outputs(&txs, tx);
        for (index, out) in spent.iter().enumerate() {
            let Some(out) = out else { continue };
            verify_input(&secp, tx, index, out, genesis).expect("real signature verifies");
            verified += 1;
            // Flip one byte of the signature's r value: must fail.
            let mut bad = tx.clone();
            let mut items = bad.input[index].witness.script_witness.to_vec();
            items[0][10] ^= 1;
            bad.input[index].witness.script_witness = elements::Witness::from_slice(&items);
            assert!(verify_input(&secp, &bad, index, out, genesis).is_err());
        }
        if spent.iter().all(Option::is_some) {
            let spent: Vec<TxOut> = spent.into_iter().map(Option::unwrap).collect();
            tx.verify_tx_amt_proofs(&secp, &spent)
                .expect("real proofs verify");
            verify_amounts(&secp, tx, &spent).expect("the node's CT check agrees");
            let mut inflated = tx.clone();
            let fee = inflated
                .output
                .iter_mut()
                .find(|o| o.is_fee())
                .expect("fee output");
            fee.value = elements::confidential::Value::Explicit(fee.value.explicit().unwrap() + 1);
            assert!(verify_amounts(&secp, &inflated, &spent).is_err());
        }
    }
    assert!(verified >= 4, "verified {verified} inputs");
}

#[test]
fn real_reissuance_spends_the_blinded_token() {
    let secp = Secp256k1::new();
    let txs = transcript_txs();
    let reissue =
        &txs[&Txid::from_str("0b3f775af88ac4a9f7f44cfc46d39505b64a64bd81eae25a3f5a1d10ee716a9a")
            .unwrap()]
            .0;
    let (index, input) = reissue
        .input
        .iter()
        .enumerate()
        .find(|(_, i)| i.has_issuance())
        .expect("reissuance input");
    let token_out = &txs[&input.previous_output.txid].0.output[input.previous_output.vout as usize];
    assert!(reissuance_spends_token(&secp, input, token_out));
    // Any other output of the issuance (the asset itself) is not the token.
    let other = OutPoint::new(input.previous_output.txid, 1);
    let not_token = &txs[&other.txid].0.output[other.vout as usize];
    assert!(!reissuance_spends_token(&secp, input, not_token));
    let _ = index;
}

/// The real USDt issuance on Liquid (tx abb4080d…ff3d, input 0 spending 9596d259…8668:0,
/// explicit amount): its registry contract reproduces the asset and token ids. The raw
/// transaction is not available offline, so the issuance inputs are taken from the registry.
#[test]
fn usdt_issuance_reproduces_its_asset_and_token_from_the_contract() {
    let contract = r#"{"entity":{"domain":"tether.to"},"issuer_pubkey":"0337cceec0beea0232ebe14cba0197a9fbd45fcf2ec946749de920e71434c2b904","name":"Tether USD","precision":8,"ticker":"USDt","version":0}"#;
    let hash = ContractHash::from_json_contract(contract).expect("contract");
    assert_eq!(
        hash.to_string(),
        "3c7f0a53c2ff5b99590620d7f6604a7a3a7bfbaaa6aa61f7bfc7833ca03cde82"
    );
    let prevout = OutPoint::new(
        Txid::from_str("9596d259270ef5bac0020435e6d859aea633409483ba64e232b8ba04ce288668").unwrap(),
        0,
    );
    assert_eq!(
        AssetId::new_issuance(prevout, hash).to_string(),
        "ce091c998b83c78bb71a632313ba3760f1763d9cfcffae02258ffa9865a37bd2"
    );
    assert_eq!(
        AssetId::new_reissuance_token(prevout, hash, false).to_string(),
        "59fe4d2127ba9f16bd6850a3e6271a166e7ed2e1669f6c107d655791c94ee98f"
    );
}
