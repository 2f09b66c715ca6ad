//! Reissue and burn: the server dies while answering the client's balance check, during the
//! confirm call (before and after it records), in the follower's block transaction (the one that completes the request) and
//! between the confirmations; the client before its node call, right after its broadcast,
//! between the confirmations, before its confirm call and during it. The user's plain rerun refuses to
//! send again and names `--use-existing`, which completes the request (or, when nothing was
//! sent, sends it once); the summary counts each once and the treasury holds on chain exactly
//! what was issued, reissued and burnt.

use amphora_core::crash;
use serde_json::json;

use super::{
    kill_during, rerun_as_a_user, sent_before, Engine, Harness, BETWEEN_CONFIRMATIONS,
    DURING_CONFIRM_CALL,
};

pub(super) async fn reissue_burn_flow(engine: Engine) {
    let mut h = Harness::start(engine, &format!("reissue_{engine:?}")).await;
    let name = "Crash reissuance";
    let issued = h
        .issue(name, 1_000_000, true)
        .await
        .expect("the issuance answer");
    assert_eq!(issued.0, 201, "{}", issued.1);
    let asset = h.issued(name, 1_000_000).await;
    let uuid = asset["asset_uuid"].as_str().unwrap().to_string();
    let asset_id: elements::AssetId = asset["asset_id"].as_str().unwrap().parse().unwrap();
    let cases = [
        ("reissue", "server", crash::BALANCE_BEFORE_ANSWER),
        ("reissue", "client", crash::CONFIRM_BEFORE_SEND),
        ("reissue", "client", crash::CONFIRM_AFTER_SEND),
        ("reissue", "server", BETWEEN_CONFIRMATIONS),
        ("reissue", "client", BETWEEN_CONFIRMATIONS),
        ("reissue", "server", crash::FOLLOWER_BLOCK_TRANSACTION),
        ("reissue", "client", crash::CONFIRM_BEFORE_CONFIRM_CALL),
        ("reissue", "client", DURING_CONFIRM_CALL),
        ("reissue", "server", crash::REISSUE_CONFIRM_BEFORE_RECORD),
        ("reissue", "server", crash::REISSUE_CONFIRM_AFTER_RECORD),
        ("burn", "server", crash::BALANCE_BEFORE_ANSWER),
        ("burn", "client", crash::CONFIRM_BEFORE_SEND),
        // `destroyamount` may burn from outputs the file does not list: the rerun must still
        // find the earlier burn (it once burnt a second time, README "Reliability").
        ("burn", "client", crash::CONFIRM_AFTER_SEND),
        ("burn", "server", BETWEEN_CONFIRMATIONS),
        ("burn", "client", BETWEEN_CONFIRMATIONS),
        ("burn", "server", crash::FOLLOWER_BLOCK_TRANSACTION),
        ("burn", "client", crash::CONFIRM_BEFORE_CONFIRM_CALL),
        ("burn", "client", DURING_CONFIRM_CALL),
        ("burn", "server", crash::BURN_CONFIRM_BEFORE_RECORD),
        ("burn", "server", crash::BURN_CONFIRM_AFTER_RECORD),
    ];
    let (mut reissued, mut burned) = (0, 0);
    for (n, (command, who, point)) in cases.into_iter().enumerate() {
        let amount = 1_000 + n as i64;
        let (path, body) = match command {
            "reissue" => ("reissue-request", json!({"amount_to_reissue": amount})),
            _ => ("burn-request", json!({"amount": amount})),
        };
        let (api, proxy) = h.api_for(point).await;
        let request = api
            .until_status("POST", &format!("/assets/{uuid}/{path}"), Some(body), 200)
            .await;
        let file = h.dir.path().join(format!("{command}-{n}.json"));
        std::fs::write(&file, request.to_string()).unwrap();
        let args = [command, "-f", file.to_str().unwrap()];
        kill_during(&mut h, who, point, &args, proxy.as_ref()).await;
        let existing = rerun_as_a_user(&h.platform, h.dir.path(), &args, sent_before(point));
        let txid = existing.split(':').next().unwrap();
        let case = format!("{command} {who} {point}");
        let (list, total) = match command {
            "reissue" => {
                reissued += amount;
                ("reissuances", ("reissued", reissued))
            }
            _ => {
                burned += amount;
                let id = request["burn_request_id"].as_i64().unwrap();
                let state = h
                    .api
                    .get(&format!("/assets/{uuid}/burn-requests/{id}"))
                    .await;
                assert_eq!(state["status"], "confirmed", "{case}: {state}");
                assert_eq!(state["txid"], json!(txid), "{case}: {state}");
                ("burns", ("burned", burned))
            }
        };
        let done = h.api.get(&format!("/assets/{uuid}/{list}")).await;
        let with_txid = done
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["txid"] == json!(txid))
            .count();
        assert_eq!(with_txid, 1, "{case}: {done}");
        let summary = h.api.get(&format!("/assets/{uuid}/summary")).await;
        assert_eq!(summary[total.0], json!(total.1), "{case}: {summary}");
        // Nothing sent twice: the treasury holds what the chain says was issued, reissued
        // and burnt once each (unconfirmed outputs included).
        let balances = h
            .platform
            .treasury()
            .get_balances_min_conf(0)
            .await
            .unwrap();
        let held = balances.get(&asset_id.to_string()).map(|a| a.units());
        assert_eq!(
            held.unwrap_or(0),
            1_000_000 + reissued - burned,
            "{case}: the treasury's units"
        );
        let lost = h.api.get(&format!("/assets/{uuid}/lost-outputs")).await;
        assert_eq!(lost["lost_outputs"], json!([]), "{case}");
        assert_eq!(lost["reissuance_lost_outputs"], json!([]), "{case}");
    }
}
