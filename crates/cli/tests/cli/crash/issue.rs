//! Issue: the server dies before the node is asked to broadcast the stored transaction, right
//! after the node accepted it, in the follower's block transaction of the issuance's block,
//! and between the issuance's confirmations; restarted, the platform finishes the issuance by
//! itself, exactly once. (An issuance has no confirm client: the platform sends it.)

use amphora_core::crash;
use serde_json::{json, Value};

use super::{Engine, Harness, BETWEEN_CONFIRMATIONS, KILL_WAIT};

pub(super) async fn issue_flow(engine: Engine) {
    let mut h = Harness::start(engine, &format!("issue_{engine:?}")).await;
    let points = [
        crash::ISSUE_BEFORE_BROADCAST,
        crash::ISSUE_AFTER_BROADCAST,
        crash::FOLLOWER_BLOCK_TRANSACTION,
        BETWEEN_CONFIRMATIONS,
    ];
    for (n, point) in points.into_iter().enumerate() {
        let name = format!("Crash issue {n}");
        let amount = 1_000 + n as u64;
        match point {
            crash::FOLLOWER_BLOCK_TRANSACTION => {
                // The issuance is answered (no block yet); the block the harness mines is the
                // first the follower writes, and it dies writing it.
                h.restart_mining_by_hand(Some(point)).await;
                let answer = h.issue(&name, amount, false).await;
                assert_eq!(answer.map(|a| a.0), Some(201), "{point}");
                h.platform.mine_one().await;
                h.platform.wait_killed(KILL_WAIT).await;
                h.restart_instant().await;
            }
            BETWEEN_CONFIRMATIONS => {
                h.restart_mining_by_hand(None).await;
                let answer = h.issue(&name, amount, false).await;
                assert_eq!(answer.map(|a| a.0), Some(201), "{point}");
                h.first_confirmation().await;
                h.platform.kill();
                h.restart_instant().await;
            }
            _ => {
                h.restart(Some(point)).await;
                let answer = h.issue(&name, amount, false).await;
                assert!(answer.is_none(), "{point}: the server answered {answer:?}");
                h.platform.wait_killed(KILL_WAIT).await;
                h.restart(None).await;
            }
        }
        let asset = h.issued(&name, amount as i64).await;
        // Exactly one issuance of it on chain, paying the treasury once.
        let asset_id = asset["asset_id"].as_str().unwrap();
        let issuances: Vec<Value> = h
            .platform
            .wallet(amphora_testenv::PLATFORM_WALLET)
            .call("listissuances", &[])
            .await
            .unwrap();
        let of_asset: Vec<&Value> = issuances
            .iter()
            .filter(|i| i["asset"] == json!(asset_id))
            .collect();
        assert_eq!(of_asset.len(), 1, "{point}: {of_asset:?}");
        let held = h
            .platform
            .treasury()
            .list_unspent(Some(&asset_id.parse().unwrap()))
            .await
            .unwrap();
        let units: i64 = held.iter().map(|u| u.amount.units()).sum();
        assert_eq!(units, amount as i64, "{point}");
        let (_, assets) = h.api.try_call("GET", "/assets", None).await.unwrap();
        let named = assets
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"] == json!(name));
        assert_eq!(named.count(), 1, "{point}: one asset per request");
        // The reports equal the chain: the treasury's holding, nothing lost.
        let uuid = asset["asset_uuid"].as_str().unwrap();
        let lost = h.api.get(&format!("/assets/{uuid}/lost-outputs")).await;
        assert_eq!(lost["lost_outputs"], json!([]), "{point}");
        let balance = h.api.get(&format!("/assets/{uuid}/balance")).await;
        let tracked: i64 = balance["confirmed_balance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["amount"].as_i64().unwrap())
            .sum();
        assert_eq!(tracked, amount as i64, "{point}: {balance}");
    }
}
