//! The transcript's treasury flow driven only over HTTP JSON-RPC against a node started as
//! `amphora regtest` starts it: raw issuance with a contract hash, `sendmany` distribution
//! to two investor wallets, `reissueasset`, `destroyamount`, with balances and
//! `listissuances` as Elements reports them.

use std::net::SocketAddr;

use amphora_regtest::chain::ChainName;
use amphora_regtest::{Node, NodeConfig, NodeHandle};
use elements::ContractHash;
use serde_json::{json, Value};

const CONTRACT: &str = r#"{"entity":{"domain":"example.com"},"issuer_pubkey":"02391db83541de6ebbacada0faa44d15882872501766f197222df7b22f946a1084","name":"Example Security","precision":0,"ticker":"EXSEC","version":0}"#;

struct Rpc {
    node: NodeHandle,
    client: reqwest::Client,
}

impl Rpc {
    async fn start() -> Rpc {
        let node = Node::start(NodeConfig {
            chain: ChainName::LiquidRegtest,
            rpc_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            rpc_user: Some("amphora".into()),
            rpc_password: Some("secret".into()),
            ..NodeConfig::default()
        })
        .await
        .expect("node starts");
        Rpc {
            node,
            client: reqwest::Client::new(),
        }
    }

    async fn try_call(
        &self,
        wallet: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        let url = match wallet {
            Some(w) => format!("{}/wallet/{w}", self.node.rpc_url()),
            None => self.node.rpc_url().to_string(),
        };
        let body: Value = self
            .client
            .post(url)
            .basic_auth("amphora", Some("secret"))
            .json(&json!({"jsonrpc": "1.0", "id": method, "method": method, "params": params}))
            .send()
            .await
            .expect("http")
            .json()
            .await
            .expect("json body");
        if body["error"].is_null() {
            Ok(body["result"].clone())
        } else {
            Err(body["error"].clone())
        }
    }

    async fn call(&self, wallet: Option<&str>, method: &str, params: Value) -> Value {
        self.try_call(wallet, method, params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    async fn mine(&self, n: u32) {
        let miner = "ert1qfzmw6u70pnttvwvfr2p3r0hwdx4qynl9swy7a4";
        self.call(None, "generatetoaddress", json!([n, miner]))
            .await;
    }
}

#[tokio::test]
async fn treasury_flow_over_http() {
    let rpc = Rpc::start().await;
    for name in ["treasury", "platform", "investor1", "investor2"] {
        rpc.call(None, "createwallet", json!([name])).await;
    }
    let t = Some("treasury");
    rpc.call(t, "rescanblockchain", json!([])).await;
    assert_eq!(
        rpc.call(t, "getbalance", json!([])).await,
        json!({"bitcoin": 21000000.0})
    );

    let platform_addr = rpc.call(Some("platform"), "getnewaddress", json!([])).await;
    rpc.call(t, "sendtoaddress", json!([platform_addr, 10]))
        .await;
    rpc.mine(1).await;

    // Raw issuance with a registry contract hash, as in the transcript.
    let contract_hash = ContractHash::from_json_contract(CONTRACT)
        .expect("contract")
        .to_string();
    let asset_addr = rpc.call(t, "getnewaddress", json!([])).await;
    let token_addr = rpc.call(t, "getnewaddress", json!([])).await;
    let p = Some("platform");
    let raw = rpc
        .call(p, "createrawtransaction", json!([[], [{"data": "00"}]]))
        .await;
    let funded = rpc
        .call(p, "fundrawtransaction", json!([raw, {"fee_rate": 10}]))
        .await;
    let issued = rpc
        .call(
            p,
            "rawissueasset",
            json!([funded["hex"], [{
                "asset_amount": 0.17, "asset_address": asset_addr,
                "token_amount": 0.00000001, "token_address": token_addr,
                "blind": false, "contract_hash": contract_hash,
            }]]),
        )
        .await;
    let asset = issued[0]["asset"].as_str().expect("asset").to_string();
    let token = issued[0]["token"].as_str().expect("token").to_string();
    let blinded = rpc
        .call(
            p,
            "blindrawtransaction",
            json!([issued[0]["hex"], true, [], false]),
        )
        .await;
    let signed = rpc
        .call(p, "signrawtransactionwithwallet", json!([blinded]))
        .await;
    assert_eq!(signed["complete"], json!(true));
    let accept = rpc
        .call(None, "testmempoolaccept", json!([[signed["hex"]]]))
        .await;
    assert_eq!(accept[0]["allowed"], json!(true), "{accept}");
    let issuance_txid = rpc
        .call(None, "sendrawtransaction", json!([signed["hex"]]))
        .await;
    assert_eq!(
        rpc.call(None, "getrawmempool", json!([])).await,
        json!([issuance_txid])
    );
    rpc.mine(2).await;
    let verbose = rpc
        .call(None, "getrawtransaction", json!([issuance_txid, true]))
        .await;
    assert_eq!(verbose["confirmations"], json!(2));
    assert_eq!(verbose["vin"][0]["issuance"]["asset"], json!(asset));
    let again = rpc
        .try_call(None, "sendrawtransaction", json!([signed["hex"]]))
        .await
        .unwrap_err();
    assert_eq!(
        again,
        json!({"code": -27, "message": "Transaction already in block chain"})
    );

    let bal = rpc.call(t, "getbalance", json!(["*", 0, false])).await;
    assert_eq!(bal[&asset], json!(0.17));
    assert_eq!(bal[&token], json!(0.00000001));

    // Distribution: the confirm client's sendmany call.
    let a1 = rpc
        .call(Some("investor1"), "getnewaddress", json!([]))
        .await;
    let a2 = rpc
        .call(Some("investor2"), "getnewaddress", json!([]))
        .await;
    let (a1, a2) = (
        a1.as_str().unwrap().to_string(),
        a2.as_str().unwrap().to_string(),
    );
    let dist = rpc
        .call(t, "sendmany", json!(["", {&a1: 0.015, &a2: 0.02}, 0, "", [], false, 1, "UNSET", {&a1: asset, &a2: asset}]))
        .await;
    rpc.mine(2).await;
    let gt = rpc.call(t, "gettransaction", json!([dist])).await;
    assert_eq!(gt["confirmations"], json!(2));
    assert_eq!(gt["amount"][&asset], json!(-0.035));
    assert_eq!(
        rpc.call(Some("investor1"), "getbalance", json!([])).await[&asset],
        json!(0.015)
    );
    assert_eq!(
        rpc.call(Some("investor2"), "getbalance", json!([])).await[&asset],
        json!(0.02)
    );

    // Reissuance and burn.
    let re = rpc.call(t, "reissueasset", json!([asset, 0.05])).await;
    assert_eq!(re["vin"], json!(0));
    rpc.mine(2).await;
    let burn = rpc.call(t, "destroyamount", json!([asset, 0.01])).await;
    rpc.mine(2).await;
    let burn_tx = rpc
        .call(None, "getrawtransaction", json!([burn, true]))
        .await;
    assert!(burn_tx["vout"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["scriptPubKey"]["type"] == json!("nulldata") && o["asset"] == json!(asset)));

    let bal = rpc.call(t, "getbalance", json!(["*", 0, false])).await;
    // 0.17 issued − 0.035 distributed + 0.05 reissued − 0.01 burnt.
    assert_eq!(bal[&asset], json!(0.175));
    let issuances = rpc.call(t, "listissuances", json!([asset])).await;
    let list = issuances.as_array().expect("list");
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .any(|i| i["isreissuance"] == json!(true) && i["assetamount"] == json!(0.05)));
    assert!(list
        .iter()
        .any(|i| i["isreissuance"] == json!(false) && i["assetamount"] == json!(0.17)));
    rpc.node.shutdown().await.expect("shutdown");
}
