//! Issue #4 end to end, over real HTTP: `amphora serve` on the node of the run (see
//! `support.rs`) mining only when told (blocks from `generatetoaddress`). Two assets issued to the
//! treasury (confidential + reissuable + transfer-restricted, and issuer-tracked), their ids
//! checked against the contract and the issuance outpoint, then every chain report; units sent
//! from the treasury to a wallet the platform does not know become lost outputs; a reorg that
//! disconnects that send brings the holdings back (the send, not final below its lock time,
//! leaves the mempool too), and broadcasting and mining it again loses them again, without
//! counting anything twice.

use crate::support::{Api, Blocks, Options, Platform};
use amphora_rpc::{AddressType, Amount, ElementsRpc};
use elements::encode::serialize_hex;
use elements::hashes::sha256;
use elements::{AssetId, ContractHash};
use serde_json::{json, Value};

const PASSWORD: &str = "chain reports password 1";
const RESTRICTED: i64 = 70_000;
const TRACKED: i64 = 40_000;
const SENT: i64 = 1_500;

/// One issued asset.
struct Issued {
    path: String,
    amount: i64,
    txid: String,
    vout: i64,
}

/// Sum of the ownership amounts.
fn owned(ownerships: &Value) -> i64 {
    ownerships
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["amount"].as_i64().unwrap())
        .sum()
}

async fn issue(
    api: &Api,
    treasury: &ElementsRpc,
    ticker: &str,
    amount: i64,
    restricted: bool,
) -> Issued {
    let destination = treasury
        .get_new_address(Some(AddressType::Blech32))
        .await
        .unwrap();
    let pubkey = treasury
        .get_address_info(&destination)
        .await
        .unwrap()
        .pubkey
        .unwrap();
    let mut body = json!({
        "name": format!("{ticker} Security"), "amount": amount,
        "destination_address": destination, "domain": "example.com", "ticker": ticker,
        "pubkey": pubkey, "precision": 0, "is_confidential": restricted,
        "is_reissuable": restricted, "transfer_restricted": restricted,
    });
    if restricted {
        body["reissuance_amount"] = json!(1);
        body["reissuance_address"] = json!(treasury
            .get_new_address(Some(AddressType::Blech32))
            .await
            .unwrap());
    }
    let issued = api.ok("POST", "/assets/issue", Some(body), 201).await;

    // The asset id is what the contract and the spent outpoint commit to.
    let contract = json!({
        "entity": {"domain": "example.com"}, "issuer_pubkey": pubkey,
        "name": format!("{ticker} Security"), "precision": 0, "ticker": ticker, "version": 0,
    });
    let digest = sha256::Hash::hash(serde_json::to_string(&contract).unwrap().as_bytes());
    let txid = issued["txid"].as_str().unwrap().to_string();
    let tx = treasury
        .get_raw_transaction(&txid.parse().unwrap())
        .await
        .unwrap();
    let prevout = tx.input[issued["vin"].as_u64().unwrap() as usize].previous_output;
    let entropy = AssetId::generate_asset_entropy(
        prevout,
        ContractHash::from_byte_array(digest.to_byte_array()),
    );
    assert_eq!(
        issued["asset_id"].as_str().unwrap(),
        AssetId::from_entropy(entropy).to_string(),
        "{issued}"
    );
    Issued {
        path: format!("/assets/{}", issued["asset_uuid"].as_str().unwrap()),
        amount,
        txid,
        vout: issued["asset_vout"].as_i64().unwrap(),
    }
}

/// The reports of a freshly issued asset held whole by the treasury.
async fn assert_issued(api: &Api, asset: &Issued) {
    let path = &asset.path;
    let summary = api.get(&format!("{path}/summary")).await;
    assert_eq!(summary["issued"], asset.amount, "{summary}");
    let issuer =
        json!([{"owner": "ISSUER", "amount": asset.amount, "GAID": null, "registered_user": null}]);
    let balance = api.get(&format!("{path}/balance")).await;
    assert_eq!(balance["confirmed_balance"], issuer, "{balance}");
    assert_eq!(balance["lost_outputs"], json!([]), "{balance}");
    let ownerships = api.get(&format!("{path}/ownerships")).await;
    assert_eq!(ownerships, issuer);
    let txs = api.get(&format!("{path}/txs")).await;
    assert_eq!(txs[0]["txid"], asset.txid.as_str(), "{txs}");
    assert_eq!(txs[0]["is_issuance"], true, "{txs}");
    assert_eq!(txs.as_array().unwrap().len(), 1, "{txs}");
    let activities = api.get(&format!("{path}/activities")).await;
    let issuance: Vec<&Value> = activities
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "issuance")
        .collect();
    assert_eq!(issuance.len(), 1, "{activities}");
    assert_eq!(issuance[0]["txid"], asset.txid.as_str(), "{activities}");
    assert_eq!(issuance[0]["amount"], asset.amount, "{activities}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_follow_issuance_lost_units_and_a_reorg() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        blocks: Blocks::OnDemand,
        issuer_password: Some(PASSWORD.into()),
        ..Options::default()
    };
    let platform = Platform::start(dir.path(), options).await;
    let node = platform.node();
    let treasury = platform.treasury();
    node.create_wallet("outsider").await.unwrap();
    let outsider = platform.wallet("outsider");
    // Blocks pay an outsider address, so a reorg never takes coins the treasury spends; a
    // fresh one each time, so a block mined right after invalidateblock is not a copy of the
    // invalidated one (Elements Core refuses a duplicate of an invalid block).
    let mine = |blocks: u64| {
        let (node, outsider) = (node.clone(), outsider.clone());
        async move {
            let miner = outsider.get_new_address(None).await.unwrap();
            node.generate_to_address(blocks, &miner).await.unwrap();
            node.get_block_count().await.unwrap()
        }
    };
    let api = platform.api().await;

    let restricted = issue(&api, &treasury, "RSTR", RESTRICTED, true).await;
    let tracked = issue(&api, &treasury, "TRCK", TRACKED, false).await;
    let height = mine(2).await;
    api.indexed(&node, height).await;
    assert_issued(&api, &restricted).await;
    assert_issued(&api, &tracked).await;

    // Units leave the treasury for a wallet the platform does not know: the spent output is lost.
    let path = &tracked.path;
    let asset_id: AssetId = api.get(path).await["asset_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let destination = outsider.get_new_address(None).await.unwrap();
    let sent = treasury
        .send_to_address(&destination, Amount::from_units(SENT), Some(&asset_id))
        .await
        .unwrap();
    let lost_issuance = json!([{"txid": tracked.txid, "vout": tracked.vout}]);
    let height = mine(1).await;
    let send_height = height;
    api.indexed(&node, height).await;
    let lost = api.get(&format!("{path}/lost-outputs")).await;
    assert_eq!(lost["lost_outputs"], lost_issuance, "{lost}");
    let balance = api.get(&format!("{path}/balance")).await;
    assert_eq!(balance["lost_outputs"], lost_issuance, "{balance}");
    let ownerships = api.get(&format!("{path}/ownerships")).await;
    assert_eq!(
        owned(&ownerships),
        0,
        "the lost output still counts: {ownerships}"
    );
    assert_eq!(owned(&balance["confirmed_balance"]), 0, "{balance}");
    let txs = api.get(&format!("{path}/txs")).await;
    assert_eq!(txs[1]["txid"], sent.to_string(), "{txs}");
    // The restricted asset is untouched.
    assert_issued(&api, &restricted).await;

    // A reorg of the last 3 blocks (the send's and one on top; the issuance stays confirmed
    // 1 deep) takes the send out of the chain: nothing is lost any more. The wallet locked
    // the send to the height it was made at (anti-fee-sniping), so below that height it is not
    // final and, as Elements Core does, the node drops it rather than putting it back in the
    // mempool. Elements Core picks a random earlier height one time in ten: then the send is
    // final again at once, goes back to the mempool and into the next block.
    let sent_tx = node.get_raw_transaction(&sent).await.unwrap();
    let raw = serialize_hex(&sent_tx);
    let lock_height = u64::from(sent_tx.lock_time.to_consensus_u32());
    let height = mine(1).await;
    api.indexed(&node, height).await;
    let fork = node.get_block_hash(send_height - 1).await.unwrap();
    let _: Value = node
        .call("invalidateblock", &[json!(fork.to_string())])
        .await
        .unwrap();
    assert_eq!(node.get_block_count().await.unwrap(), send_height - 2);
    let mempool: Vec<String> = node.call("getrawmempool", &[]).await.unwrap();
    // final in the next block (height send_height - 1) only when locked below that height
    let readded = lock_height < send_height - 1;
    assert_eq!(
        mempool.contains(&sent.to_string()),
        readded,
        "locked to {lock_height}, sent at {send_height}: {mempool:?}"
    );
    api.indexed(&node, send_height - 2).await;
    let lost = api
        .until(&format!("{path}/lost-outputs"), |l| {
            l["lost_outputs"] == json!([])
        })
        .await;
    assert_eq!(lost["reissuance_lost_outputs"], json!([]), "{lost}");
    assert_issued(&api, &tracked).await;
    assert_issued(&api, &restricted).await;

    // One block later the send is final again and broadcast anew (or, put back in the mempool,
    // mined in that block); three more blocks confirm it on the new branch: lost once, counted
    // once.
    mine(1).await;
    if !readded {
        node.send_raw_transaction(&raw).await.unwrap();
    }
    let height = mine(3).await;
    assert_eq!(height, send_height + 2);
    api.indexed(&node, height).await;
    assert!(
        treasury.get_transaction(&sent).await.unwrap().confirmations >= 1,
        "the send did not re-confirm"
    );
    let lost = api
        .until(&format!("{path}/lost-outputs"), |l| {
            l["lost_outputs"] == lost_issuance
        })
        .await;
    assert_eq!(lost["reissuance_lost_outputs"], json!([]), "{lost}");
    let balance = api.get(&format!("{path}/balance")).await;
    assert_eq!(balance["lost_outputs"], lost_issuance, "{balance}");
    let ownerships = api.get(&format!("{path}/ownerships")).await;
    let summary = api.get(&format!("{path}/summary")).await;
    assert_eq!(summary["issued"], TRACKED, "{summary}");
    // The lost output is the whole issuance: holdings + lost units = issued, exactly.
    assert_eq!(
        owned(&ownerships) + tracked.amount,
        summary["issued"].as_i64().unwrap(),
        "{ownerships}"
    );
    assert_eq!(owned(&balance["confirmed_balance"]), owned(&ownerships));
    let txs = api.get(&format!("{path}/txs")).await;
    let txids: Vec<&str> = txs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["txid"].as_str().unwrap())
        .collect();
    assert_eq!(txids, [tracked.txid.clone(), sent.to_string()], "{txs}");
    assert_issued(&api, &restricted).await;
}
