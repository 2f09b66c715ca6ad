//! The transcript's treasury flow against a real chain: claim the free coins, raw issuance
//! with a contract hash, distribution with `sendmany`, reissuance, burn, `issueasset`.

use std::str::FromStr;

use crate::wallet_common::{sats, Node};
use elements::{AssetId, ContractHash, OutPoint, Txid};
use serde_json::json;

const CONTRACT: &str = r#"{"entity":{"domain":"example.com"},"issuer_pubkey":"02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084","name":"Example Security","precision":0,"ticker":"EXSEC","version":0}"#;

#[test]
fn treasury_flow_issue_distribute_reissue_burn() {
    let mut node = Node::new();
    for name in ["treasury", "platform", "investor1", "investor2"] {
        let r = node.try_call(None, "createwallet", json!([name])).unwrap();
        assert_eq!(r, json!({ "name": name, "warning": "" }));
    }
    // Free coins are claimed by rescanblockchain only.
    assert_eq!(
        node.call("treasury", "getbalance", json!([])),
        json!({ "bitcoin": 0.0 })
    );
    assert_eq!(
        node.call("treasury", "rescanblockchain", json!([])),
        json!({ "start_height": 0, "stop_height": 0 })
    );
    assert_eq!(
        node.call("treasury", "getbalance", json!([])),
        json!({ "bitcoin": 21000000.0 })
    );
    let info = node.call("treasury", "getwalletinfo", json!([]));
    assert_eq!(info["txcount"], json!(1));
    assert_eq!(info["balance"], json!({ "bitcoin": 21000000.0 }));

    // Fund the platform wallet.
    let platform_addr = node.call("platform", "getnewaddress", json!([]));
    let funding = node.call("treasury", "sendtoaddress", json!([platform_addr, 10]));
    node.verify_proofs(funding.as_str().unwrap());
    node.mine(1);
    assert_eq!(
        node.call("platform", "getbalance", json!([])),
        json!({ "bitcoin": 10.0 })
    );

    // Raw issuance by the platform wallet to treasury addresses, with a contract hash.
    let contract_hash = ContractHash::from_json_contract(CONTRACT).unwrap();
    assert_eq!(
        contract_hash.to_string(),
        "909986610ebfd2d9c9e5250c9733d591e70d968c391730a14c28e13a7244e1fc"
    );
    let asset_addr = node.call("treasury", "getnewaddress", json!([]));
    let token_addr = node.call("treasury", "getnewaddress", json!([]));
    let raw = node
        .try_call(
            Some("platform"),
            "createrawtransaction",
            json!([[], [{ "data": "00" }]]),
        )
        .unwrap();
    let funded = node.call(
        "platform",
        "fundrawtransaction",
        json!([raw, { "fee_rate": 10 }]),
    );
    assert_eq!(funded["changepos"], json!(0));
    assert!(sats(&funded["fee"]) > 0);
    let issued = node
        .try_call(
            None,
            "rawissueasset",
            json!([funded["hex"], [{
                "asset_amount": 0.17, "asset_address": asset_addr,
                "token_amount": 0.00000001, "token_address": token_addr,
                "blind": false, "contract_hash": contract_hash.to_string(),
            }]]),
        )
        .unwrap();
    let issued = &issued[0];
    let blinded = node.call(
        "platform",
        "blindrawtransaction",
        json!([issued["hex"], true, [], false]),
    );
    let signed = node.call("platform", "signrawtransactionwithwallet", json!([blinded]));
    assert_eq!(signed["complete"], json!(true));
    let issuance_txid = node.send_raw(signed["hex"].as_str().unwrap()).unwrap();
    node.verify_proofs(&issuance_txid.to_string());
    let tx = node.chain.tx(&issuance_txid).unwrap().tx.clone();
    let asset = AssetId::new_issuance(tx.input[0].previous_output, contract_hash);
    assert_eq!(issued["asset"], json!(asset.to_string()));
    let asset_hex = asset.to_string();
    let token_hex = issued["token"].as_str().unwrap().to_owned();

    // Seen by the treasury with 0 confirmations, then confirmed.
    let gt = node.call(
        "treasury",
        "gettransaction",
        json!([issuance_txid.to_string()]),
    );
    assert_eq!(gt["confirmations"], json!(0));
    assert_eq!(gt["trusted"], json!(false));
    assert_eq!(gt["amount"][&asset_hex], json!(0.17));
    assert_eq!(gt["amount"][&token_hex], json!(0.00000001));
    node.mine(2);
    let gt = node.call(
        "treasury",
        "gettransaction",
        json!([issuance_txid.to_string()]),
    );
    assert_eq!(gt["confirmations"], json!(2));
    assert_eq!(gt["bip125-replaceable"], json!("no"));
    let details = gt["details"].as_array().unwrap();
    assert_eq!(details.len(), 2);
    assert!(details
        .iter()
        .all(|d| d["category"] == "receive" && d["assetblinder"] != json!("0".repeat(64))));
    let pgt = node.call(
        "platform",
        "gettransaction",
        json!([issuance_txid.to_string()]),
    );
    assert_eq!(pgt["amount"], json!({ "bitcoin": 0.0 }));
    assert_eq!(sats(&pgt["fee"]["bitcoin"]), -sats(&funded["fee"]));

    let issuances = node.call("treasury", "listissuances", json!([]));
    assert_eq!(
        issuances.as_array().unwrap().len(),
        2,
        "the asset and the genesis issuance"
    );
    let mine = node.call("treasury", "listissuances", json!([asset_hex]));
    assert_eq!(
        mine,
        json!([{
            "isreissuance": false, "token": token_hex, "tokenamount": 0.00000001,
            "tokenblinds": "0".repeat(64), "entropy": issued["entropy"],
            "txid": issuance_txid.to_string(), "vin": 0, "asset": asset_hex,
            "assetamount": 0.17, "assetblinds": "0".repeat(64),
        }])
    );
    let utxos = node.call(
        "treasury",
        "listunspent",
        json!([1, 9999999, [], true, { "asset": asset_hex }]),
    );
    assert_eq!(utxos.as_array().unwrap().len(), 1);
    assert_eq!(utxos[0]["amount"], json!(0.17));
    assert_eq!(utxos[0]["label"], json!(""));
    let bal = node.call("treasury", "getbalance", json!(["*", 0, false]));
    assert_eq!(bal[&asset_hex], json!(0.17));
    assert_eq!(bal[&token_hex], json!(0.00000001));

    // Distribution to two investors (the confirm client's sendmany call).
    let inv1 = node.call("investor1", "getnewaddress", json!([]));
    let inv2 = node.call("investor2", "getnewaddress", json!([]));
    let (a1, a2) = (
        inv1.as_str().unwrap().to_owned(),
        inv2.as_str().unwrap().to_owned(),
    );
    let dist = node.call(
        "treasury",
        "sendmany",
        json!(["", { &a1: 0.015, &a2: 0.02 }, 0, "", [], false, 1, "UNSET", { &a1: asset_hex, &a2: asset_hex }]),
    );
    node.verify_proofs(dist.as_str().unwrap());
    node.mine(2);
    let gt = node.call("treasury", "gettransaction", json!([dist]));
    assert_eq!(gt["amount"][&asset_hex], json!(-0.035));
    assert_eq!(gt["amount"]["bitcoin"], json!(0.0));
    let sends: Vec<_> = gt["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["category"] == "send")
        .collect();
    assert_eq!(sends.len(), 2);
    assert!(sends
        .iter()
        .all(|d| d["amountblinder"] != json!("0".repeat(64))));
    assert_eq!(
        node.call("investor1", "getbalance", json!([]))[&asset_hex],
        json!(0.015)
    );
    assert_eq!(
        node.call("investor2", "getbalance", json!([]))[&asset_hex],
        json!(0.02)
    );
    let i1 = node.call("investor1", "gettransaction", json!([dist]));
    let recv = &i1["details"][0];
    let sent_to_1 = sends.iter().find(|d| d["vout"] == recv["vout"]).unwrap();
    assert_eq!(recv["amountblinder"], sent_to_1["amountblinder"]);
    assert_eq!(recv["assetblinder"], sent_to_1["assetblinder"]);

    // sendtoaddress with assetlabel at index 9.
    let t = node.call(
        "treasury",
        "sendtoaddress",
        json!([a1, 0.001, "", "", false, null, null, "UNSET", false, asset_hex]),
    );
    node.verify_proofs(t.as_str().unwrap());

    // Reissuance spends the blinded token.
    let re = node.call("treasury", "reissueasset", json!([asset_hex, 0.05]));
    assert_eq!(re["vin"], json!(0));
    node.verify_proofs(re["txid"].as_str().unwrap());
    node.mine(2);
    let gt = node.call("treasury", "gettransaction", json!([re["txid"]]));
    assert_eq!(gt["amount"][&asset_hex], json!(0.05));
    assert_eq!(gt["amount"][&token_hex], json!(0.0));
    let issuances = node.call("treasury", "listissuances", json!([asset_hex]));
    let list = issuances.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let reissue = list
        .iter()
        .find(|i| i["isreissuance"] == json!(true))
        .unwrap();
    assert_eq!(reissue["assetamount"], json!(0.05));
    assert_eq!(reissue["entropy"], issued["entropy"]);
    assert!(reissue.get("token").is_none());

    // Burn.
    let burn = node.call("treasury", "destroyamount", json!([asset_hex, 0.01]));
    node.verify_proofs(burn.as_str().unwrap());
    node.mine(2);
    let gt = node.call("treasury", "gettransaction", json!([burn]));
    assert_eq!(gt["amount"][&asset_hex], json!(-0.01));
    let burn_detail = &gt["details"][0];
    assert_eq!(burn_detail["category"], json!("send"));
    assert!(burn_detail.get("address").is_none());
    let bal = node.call("treasury", "getbalance", json!(["*", 0, false]));
    assert_eq!(bal[&asset_hex], json!(0.174));
    assert_eq!(bal[&token_hex], json!(0.00000001));

    // Errors the confirm client handles.
    let err = node
        .try_call(Some("investor1"), "reissueasset", json!([asset_hex, 1]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (
            -4,
            "Asset reissuance token definition could not be found in wallet."
        )
    );
    let err = node
        .try_call(
            Some("treasury"),
            "destroyamount",
            json!([asset_hex, 100000]),
        )
        .unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (-6, "Insufficient funds"));
    let err = node
        .try_call(
            Some("treasury"),
            "sendmany",
            json!(["", { &a1: 0.1 }, 0, "", [], false, 1, "UNSET", { &a1: "notanasset" }]),
        )
        .unwrap_err();
    assert_eq!(err.code, -4);
    let err = node
        .try_call(Some("treasury"), "gettransaction", json!(["0".repeat(64)]))
        .unwrap_err();
    assert_eq!(
        (err.code, err.message.as_str()),
        (-5, "Invalid or non-wallet transaction id")
    );
}

#[test]
fn issueasset_blinded_then_reissue() {
    let mut node = Node::new();
    node.try_call(None, "createwallet", json!(["w"])).unwrap();
    node.call("w", "rescanblockchain", json!([]));
    let r = node.call("w", "issueasset", json!([1000, 1, true]));
    node.verify_proofs(r["txid"].as_str().unwrap());
    let txid = Txid::from_str(r["txid"].as_str().unwrap()).unwrap();
    let tx = node.chain.tx(&txid).unwrap().tx.clone();
    let prevout: OutPoint = tx.input[0].previous_output;
    let zero = ContractHash::from_byte_array([0; 32]);
    assert_eq!(
        r["asset"],
        json!(AssetId::new_issuance(prevout, zero).to_string())
    );
    assert_eq!(
        r["token"],
        json!(AssetId::new_reissuance_token(prevout, zero, true).to_string())
    );
    assert!(tx.input[0].asset_issuance.amount.is_confidential());
    node.mine(1);
    let asset = r["asset"].as_str().unwrap();
    assert_eq!(
        node.call("w", "getbalance", json!([]))[asset],
        json!(1000.0)
    );
    let list = node.call("w", "listissuances", json!([asset]));
    assert_eq!(list[0]["assetamount"], json!(1000.0));
    assert_ne!(list[0]["assetblinds"], json!("0".repeat(64)));
    let re = node.call("w", "reissueasset", json!([asset, 5]));
    node.verify_proofs(re["txid"].as_str().unwrap());
    node.mine(1);
    assert_eq!(
        node.call("w", "getbalance", json!([]))[asset],
        json!(1005.0)
    );
}

#[test]
fn raw_flow_with_blinded_issuance() {
    let mut node = Node::new();
    node.try_call(None, "createwallet", json!(["w"])).unwrap();
    node.call("w", "rescanblockchain", json!([]));
    let asset_addr = node.call("w", "getnewaddress", json!([]));
    let token_addr = node.call("w", "getnewaddress", json!([]));
    let raw = node
        .try_call(
            Some("w"),
            "createrawtransaction",
            json!([[], [{ "data": "00" }]]),
        )
        .unwrap();
    let funded = node.call("w", "fundrawtransaction", json!([raw, { "fee_rate": 10 }]));
    let issued = node
        .try_call(
            None,
            "rawissueasset",
            json!([funded["hex"], [{
                "asset_amount": 5, "asset_address": asset_addr,
                "token_amount": 0.00000002, "token_address": token_addr,
                "blind": true,
            }]]),
        )
        .unwrap();
    let blinded = node.call("w", "blindrawtransaction", json!([issued[0]["hex"]]));
    let signed = node.call("w", "signrawtransactionwithwallet", json!([blinded]));
    let txid = node.send_raw(signed["hex"].as_str().unwrap()).unwrap();
    let tx = node.chain.tx(&txid).unwrap().tx.clone();
    assert!(tx.input[0].asset_issuance.amount.is_confidential());
    assert!(tx.input[0].asset_issuance.inflation_keys.is_confidential());
    node.mine(1);
    let asset = issued[0]["asset"].as_str().unwrap();
    let token = issued[0]["token"].as_str().unwrap();
    let bal = node.call("w", "getbalance", json!([]));
    assert_eq!(bal[asset], json!(5.0));
    assert_eq!(bal[token], json!(0.00000002));
    let list = node.call("w", "listissuances", json!([asset]));
    assert_eq!(list[0]["assetamount"], json!(5.0));
    assert_eq!(list[0]["tokenamount"], json!(0.00000002));
    // The token of a blinded issuance reissues through a blinded reissuance.
    let re = node.call("w", "reissueasset", json!([asset, 1]));
    node.verify_proofs(re["txid"].as_str().unwrap());
    node.mine(1);
    assert_eq!(node.call("w", "getbalance", json!([]))[asset], json!(6.0));
}
