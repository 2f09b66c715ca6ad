//! Co-signed transfers: `amphora serve` (and with the embedded node, the node with it) is
//! killed during an AMP2 sign request, before the decision is recorded and after it is
//! recorded but before the co-signed PSET is sent back: the wallet's send fails, the server is
//! started again, and the wallet's retry (a new PSET) completes the transfer exactly once: one
//! approved decision names the transaction on chain, the attempt the crash cut off never
//! reached the chain. Then a sent transfer's server dies in the follower's block transaction
//! of its block, and between its confirmations: the restarted follower indexes it. Each time
//! both investors' summaries equal their wallets' balances on chain. (The wallet broadcasts
//! itself: there is no step of the platform's before the node call or after the broadcast.)

use amphora_core::crash;
use amphora_rpc::Amount;
use amphora_wallet::{SendRequest, Wallet};
use serde_json::{json, Value};

use super::{Harness, BETWEEN_CONFIRMATIONS, KILL_WAIT};

/// Runs the transfer cases on the distribute flow's platform: `sender` (registered user
/// `sender_user`) holds `held` units of the asset `uuid` / `asset_id`. The recipient's
/// registered user.
pub(super) async fn transfer_flow(
    h: &mut Harness,
    uuid: &str,
    asset_id: &str,
    sender: &mut Wallet,
    sender_user: i64,
    held: i64,
) -> i64 {
    h.api
        .until_status(
            "GET",
            &format!("/assets/{uuid}/register-authorized"),
            None,
            200,
        )
        .await;
    let (mut recipient, _) = Wallet::create(&h.dir.path().join("investor-2"), h.platform.node())
        .await
        .unwrap();
    let registered = recipient.register(&h.platform.url).await.unwrap();
    let recipient_user = h
        .api
        .ok(
            "POST",
            "/registered_users/add",
            Some(json!({"name": "Investor 2", "GAID": registered.gaid})),
            201,
        )
        .await["id"]
        .as_i64()
        .unwrap();
    // L-BTC for the sender's fees.
    let treasury = h.platform.treasury();
    let fees = treasury
        .send_to_address(
            &sender.address(None).await.unwrap().address,
            Amount::from_units(100_000),
            None,
        )
        .await
        .unwrap();
    crate::support::wait_confirmed(&treasury, &fees.to_string()).await;

    let mut transferred = 0;
    let points = [
        crash::COSIGN_BEFORE_RECORD,
        crash::COSIGN_AFTER_RECORD,
        crash::FOLLOWER_BLOCK_TRANSACTION,
        BETWEEN_CONFIRMATIONS,
    ];
    for (n, point) in points.into_iter().enumerate() {
        let amount = 10 + n as i64;
        let request = SendRequest {
            asset: asset_id.to_string(),
            to: recipient.address(None).await.unwrap().address,
            amount: amount.to_string(),
            fee_rate: None,
        };
        let before = decisions(h, uuid).await.len();
        let sent = match point {
            crash::FOLLOWER_BLOCK_TRANSACTION | BETWEEN_CONFIRMATIONS => {
                let armed = (point == crash::FOLLOWER_BLOCK_TRANSACTION).then_some(point);
                h.restart_mining_by_hand(armed).await;
                sender.sync().await.unwrap();
                let sent = sender.send(&request).await.unwrap();
                if armed.is_some() {
                    h.platform.mine_one().await;
                    h.platform.wait_killed(KILL_WAIT).await;
                } else {
                    h.first_confirmation().await;
                    h.platform.kill();
                }
                h.restart_instant().await;
                sent
            }
            _ => {
                h.restart(Some(point)).await;
                sender.sync().await.unwrap();
                let cut = sender.send(&request).await;
                assert!(cut.is_err(), "{point}: the send got its answer: {cut:?}");
                h.platform.wait_killed(KILL_WAIT).await;
                h.restart(None).await;
                sender.sync().await.unwrap();
                sender.send(&request).await.unwrap()
            }
        };
        transferred += amount;

        // The follower indexes the transfer once; the reports equal the chain.
        h.api
            .until(
                &format!("/registered_users/{recipient_user}/summary"),
                |s| s[0]["balance"] == json!(transferred),
            )
            .await;
        let sender_summary = h
            .api
            .get(&format!("/registered_users/{sender_user}/summary"))
            .await;
        assert_eq!(
            sender_summary[0]["balance"],
            json!(held - transferred),
            "{point}"
        );
        for (wallet, units) in [
            (&mut *sender, held - transferred),
            (&mut recipient, transferred),
        ] {
            let held_on_chain = chain_balance(wallet, asset_id, units).await;
            assert_eq!(held_on_chain, units, "{point}: the wallet's units on chain");
        }

        // One approved decision names the transaction on chain; one the crash cut off after
        // recording names a transaction that was never signed back, so never broadcast.
        let all = decisions(h, uuid).await;
        let new: Vec<&Value> = all[before..].iter().collect();
        let approved: Vec<&Value> = new
            .iter()
            .copied()
            .filter(|d| d["approved"] == json!(true))
            .collect();
        let expected = if point == crash::COSIGN_AFTER_RECORD {
            2
        } else {
            1
        };
        assert_eq!(approved.len(), expected, "{point}: {new:?}");
        let on_chain: Vec<&&Value> = approved
            .iter()
            .filter(|d| d["txid"] == json!(sent.txid))
            .collect();
        assert_eq!(on_chain.len(), 1, "{point}: {new:?}");
        for cut_off in approved.iter().filter(|d| d["txid"] != json!(sent.txid)) {
            let txid = cut_off["txid"].as_str().unwrap();
            let known: Result<Value, _> = h
                .platform
                .node()
                .call("getrawtransaction", &[json!(txid)])
                .await;
            assert!(known.is_err(), "{point}: the cut-off {txid} is on chain");
        }
        let lost = h.api.get(&format!("/assets/{uuid}/lost-outputs")).await;
        assert_eq!(lost["lost_outputs"], json!([]), "{point}");
    }
    recipient_user
}

/// The asset's co-signing decisions, oldest first.
async fn decisions(h: &Harness, uuid: &str) -> Vec<Value> {
    h.api
        .get(&format!("/assets/{uuid}/cosign-decisions"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// The wallet's units of `asset_id` once it synced to `expected` (or its last balance when it
/// does not within the harness' timeout).
async fn chain_balance(wallet: &mut Wallet, asset_id: &str, expected: i64) -> i64 {
    let deadline = std::time::Instant::now() + crate::support::TIMEOUT;
    loop {
        wallet.sync().await.unwrap();
        let units: i64 = wallet
            .balance()
            .await
            .unwrap()
            .assets
            .iter()
            .filter(|b| b.asset.asset_id.to_string() == asset_id)
            .map(|b| b.amount as i64)
            .sum();
        if units == expected || std::time::Instant::now() > deadline {
            return units;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
