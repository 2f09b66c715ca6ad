//! Payouts and `--use-existing`: on the distribute flow's platform, an L-BTC payout to the
//! asset's two investors. `amphora confirm payout --use-existing` with a transaction the wallet
//! does not have fails at once, saying so, and sends nothing; the client killed right after its
//! broadcast is rerun as a user would: the plain run refuses to pay again and names
//! `--use-existing TXID`, which completes the payout with that one transaction: every line
//! paid by it, each investor's address paid once by the treasury.

use std::time::{Duration, Instant};

use amphora_core::crash;
use serde_json::{json, Value};

use super::{kill_during, rerun_as_a_user, Harness};

/// Longest `--use-existing` with an unknown transaction may take to fail.
const AT_ONCE: Duration = Duration::from_secs(20);

/// Pays an L-BTC payout of the asset `uuid`, whose holders are the registered users `holders`.
pub(super) async fn payout_flow(h: &mut Harness, uuid: &str, holders: [i64; 2]) {
    let labels: Value = h
        .platform
        .node()
        .call("dumpassetlabels", &[])
        .await
        .unwrap();
    let lbtc = labels["bitcoin"].as_str().unwrap();
    let file = h
        .api
        .ok(
            "POST",
            &format!("/assets/{uuid}/payouts/create"),
            Some(json!({"payout_asset": lbtc, "total_amount": 10_000})),
            200,
        )
        .await;
    let payout = file["payout_uuid"].as_str().unwrap().to_string();
    let path = h.dir.path().join("payout.json");
    std::fs::write(&path, file.to_string()).unwrap();
    let args = ["payout", "-f", path.to_str().unwrap()];

    // A transaction the wallet does not have: refused at once, nothing recorded.
    let unknown = "11".repeat(32);
    let mut with_unknown = args.to_vec();
    with_unknown.extend(["--use-existing", &unknown]);
    let started = Instant::now();
    let output = h
        .platform
        .confirm(h.dir.path(), &with_unknown)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(!output.status.success(), "{text}");
    assert!(started.elapsed() < AT_ONCE, "took {:?}", started.elapsed());
    assert!(
        text.contains(&unknown) && text.contains("not a transaction of this wallet"),
        "{text}"
    );
    let report = h.api.get(&format!("/assets/{uuid}/payouts/{payout}")).await;
    assert_eq!(report["payout_status"], "UNCONFIRMED", "{report}");

    kill_during(h, "client", crash::CONFIRM_AFTER_SEND, &args, None).await;
    let txid = rerun_as_a_user(&h.platform, h.dir.path(), &args, true);
    let report = h.api.get(&format!("/assets/{uuid}/payouts/{payout}")).await;
    assert_eq!(report["payout_status"], "CONFIRMED", "{report}");
    let lines = report["lines"].as_array().unwrap();
    let mut paid: Vec<i64> = lines
        .iter()
        .map(|l| l["registered_user"].as_i64().unwrap())
        .collect();
    paid.sort_unstable();
    let mut expected = holders.to_vec();
    expected.sort_unstable();
    assert_eq!(paid, expected, "{report}");
    for line in lines {
        assert_eq!(line["txid"], json!(txid), "{line}");
        let address = line["receiving_address"].as_str().unwrap();
        let sends = h.sends_to(address).await;
        assert_eq!(sends.len(), 1, "{address} paid by {sends:?}");
    }
}
