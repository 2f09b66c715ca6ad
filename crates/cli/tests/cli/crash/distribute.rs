//! Distribute: the server dies while answering the client's balance check (before anything is
//! sent), during the confirm call (before and after it records the payment), in the follower's
//! block transaction and between the payment's confirmations; the client dies before its node
//! call, right after its broadcast, between the confirmations, before its confirm call and
//! during it. Each
//! time the user's plain rerun pays nobody twice and the distribution ends confirmed with one
//! transaction, every output tracked. Then, on the same platform, the investor's co-signed
//! transfers (`transfer`) and a payout (`payout`).

use amphora_core::crash;
use serde_json::json;

use super::{
    kill_during, payout, rerun_as_a_user, sent_before, transfer, Engine, Harness,
    BETWEEN_CONFIRMATIONS, DURING_CONFIRM_CALL,
};

pub(super) async fn distribute_flow(engine: Engine) {
    let mut h = Harness::start(engine, &format!("distribute_{engine:?}")).await;
    let name = "Crash distribution";
    let issued = h
        .issue(name, 1_000_000, false)
        .await
        .expect("the issuance answer");
    assert_eq!(issued.0, 201, "{}", issued.1);
    let asset = h.issued(name, 1_000_000).await;
    let uuid = asset["asset_uuid"].as_str().unwrap().to_string();
    let wallet_dir = h.dir.path().join("investor");
    let (mut wallet, _) = amphora_wallet::Wallet::create(&wallet_dir, h.platform.node())
        .await
        .unwrap();
    let registered = wallet.register(&h.platform.url).await.unwrap();
    let user = h
        .api
        .ok(
            "POST",
            "/registered_users/add",
            Some(json!({"name": "Investor", "GAID": registered.gaid})),
            201,
        )
        .await["id"]
        .as_i64()
        .unwrap();

    // (who dies, the step), in flow order
    let cases = [
        ("server", crash::BALANCE_BEFORE_ANSWER),
        ("client", crash::CONFIRM_BEFORE_SEND),
        ("client", crash::CONFIRM_AFTER_SEND),
        ("server", BETWEEN_CONFIRMATIONS),
        ("client", BETWEEN_CONFIRMATIONS),
        ("server", crash::FOLLOWER_BLOCK_TRANSACTION),
        ("client", crash::CONFIRM_BEFORE_CONFIRM_CALL),
        ("client", DURING_CONFIRM_CALL),
        ("server", crash::DISTRIBUTION_CONFIRM_BEFORE_RECORD),
        ("server", crash::DISTRIBUTION_CONFIRM_AFTER_RECORD),
    ];
    let mut distributed = 0;
    for (n, (who, point)) in cases.into_iter().enumerate() {
        let amount = 100 + n as i64;
        h.api
            .until_status(
                "POST",
                &format!("/assets/{uuid}/assignments/create"),
                Some(
                    json!({"assignments": [{"registered_user": user, "amount": amount,
                    "ready_for_distribution": true}]}),
                ),
                200,
            )
            .await;
        let (api, proxy) = h.api_for(point).await;
        let file = api
            .get(&format!("/assets/{uuid}/distributions/create/"))
            .await;
        let distribution = file["distribution_uuid"].as_str().unwrap().to_string();
        let path = h.dir.path().join(format!("distribution-{n}.json"));
        std::fs::write(&path, file.to_string()).unwrap();
        let args = ["distribute", "-f", path.to_str().unwrap()];
        kill_during(&mut h, who, point, &args, proxy.as_ref()).await;
        let txid = rerun_as_a_user(&h.platform, h.dir.path(), &args, sent_before(point));
        distributed += amount;

        let done = h
            .api
            .get(&format!("/assets/{uuid}/distributions/{distribution}"))
            .await;
        assert_eq!(
            done["distribution_status"], "CONFIRMED",
            "{who} {point}: {done}"
        );
        let paid: Vec<&str> = done["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["txid"].as_str().unwrap())
            .collect();
        assert_eq!(paid, vec![txid.as_str()], "{who} {point}: one transaction");
        // Nothing paid twice: each address of the file got exactly one wallet send.
        for address in file["map_address_amount"].as_object().unwrap().keys() {
            let sends = h.sends_to(address).await;
            assert_eq!(sends.len(), 1, "{who} {point}: {address} paid by {sends:?}");
        }
        // The reports equal the chain, every output tracked.
        let summary = h
            .api
            .until(&format!("/assets/{uuid}/summary"), |s| {
                s["distributed"] == json!(distributed)
            })
            .await;
        assert_eq!(summary["issued"], json!(1_000_000), "{who} {point}");
        let lost = h.api.get(&format!("/assets/{uuid}/lost-outputs")).await;
        assert_eq!(lost["lost_outputs"], json!([]), "{who} {point}");
        let user_summary = h
            .api
            .get(&format!("/registered_users/{user}/summary"))
            .await;
        assert_eq!(
            user_summary[0]["balance"],
            json!(distributed),
            "{who} {point}"
        );
    }
    let asset_id = asset["asset_id"].as_str().unwrap();
    let recipient =
        transfer::transfer_flow(&mut h, &uuid, asset_id, &mut wallet, user, distributed).await;
    payout::payout_flow(&mut h, &uuid, [user, recipient]).await;
}
