//! `distribute` against the embedded regtest node and the AMP API test double
//! (see `support` — the double is not the platform).

use crate::support::{file_header, with, AmpDouble, RequestFile, Script, Treasury};
use amphora_confirm::{run, ConfirmCommand, ConfirmError};
use amphora_rpc::{Amount, AssetPayment};
use serde_json::{json, Value};

const DISTRIBUTION: &str = "distribution-uuid-1";

fn assignments(is_distributed: bool) -> Vec<Value> {
    vec![
        json!({"id": 1, "distribution_uuid": DISTRIBUTION, "is_distributed": is_distributed}),
        json!({"id": 2, "distribution_uuid": DISTRIBUTION, "is_distributed": false}),
        json!({"id": 3, "distribution_uuid": null, "is_distributed": false}),
    ]
}

/// A distribution file paying 1.5 to investor1 and 2.25 to investor2.
async fn distribution_file(t: &Treasury, amp: &AmpDouble) -> (RequestFile, String, String) {
    let a1 = t.address("investor1").await;
    let a2 = t.address("investor2").await;
    let file = RequestFile::write(&with(
        file_header("distribute", amp, &t.asset),
        json!({
            "distribution_uuid": DISTRIBUTION,
            "map_address_amount": {&a1: 1.5, &a2: 2.25},
            "map_address_asset": {&a1: t.asset, &a2: t.asset},
        }),
    ));
    (file, a1, a2)
}

fn distribute(file: &RequestFile, use_existing: Option<elements::Txid>) -> ConfirmCommand {
    ConfirmCommand::Distribute {
        file: file.path.clone(),
        use_existing,
        resume: false,
    }
}

fn resume(file: &RequestFile) -> ConfirmCommand {
    ConfirmCommand::Distribute {
        file: file.path.clone(),
        use_existing: None,
        resume: true,
    }
}

/// The treasury, the test double, and a distribution file in two transactions: `a1` (of
/// investor1) alone, then `a2` and `a3` (both of investor2).
struct Split {
    t: Treasury,
    amp: AmpDouble,
    file: RequestFile,
    addresses: [String; 3],
}

async fn split() -> Split {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script {
        assignments: assignments(false),
        ..Script::default()
    })
    .await;
    let addresses = [
        t.address("investor1").await,
        t.address("investor2").await,
        t.address("investor2").await,
    ];
    let [a1, a2, a3] = &addresses;
    let file = RequestFile::write(&with(
        file_header("distribute", &amp, &t.asset),
        json!({
            "distribution_uuid": DISTRIBUTION,
            "map_address_amount": {a1: 1.5, a2: 2.25, a3: 0.25},
            "map_address_asset": {a1: t.asset, a2: t.asset, a3: t.asset},
            "transactions": [
                {"map_address_amount": {a1: 1.5}, "map_address_asset": {a1: t.asset}},
                {"map_address_amount": {a2: 2.25, a3: 0.25},
                 "map_address_asset": {a2: t.asset, a3: t.asset}},
            ],
        }),
    ));
    Split {
        t,
        amp,
        file,
        addresses,
    }
}

/// What an interrupted run sent: `payments` from the treasury wallet in one transaction.
async fn sent_by_hand(t: &Treasury, payments: &[(&String, i64)]) -> elements::Txid {
    let payments: Vec<AssetPayment> = payments
        .iter()
        .map(|(address, units)| AssetPayment {
            address: (*address).clone(),
            amount: Amount::from_units(*units),
            asset: t.asset,
        })
        .collect();
    let txid = t.wallet.send_many(&payments).await.unwrap();
    t.mine(2).await;
    txid
}

fn confirmed_txids(amp: &AmpDouble) -> Vec<String> {
    amp.received()
        .iter()
        .filter(|r| r.path.ends_with("/confirm"))
        .map(|r| r.body["tx_data"]["txid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn distribute_pays_both_addresses_and_posts_what_the_script_posts() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script {
        assignments: assignments(false),
        ..Script::default()
    })
    .await;
    // A second asset output, from another transaction, that change_data must not include.
    let own = t.address("treasury").await;
    t.wallet
        .send_to_address(&own, Amount::from_units(1_000_000_000), Some(&t.asset))
        .await
        .unwrap();
    t.mine(1).await;
    let (file, _, _) = distribution_file(&t, &amp).await;
    t.run_mining(t.args(distribute(&file, None))).await.unwrap();

    assert_eq!(
        t.balance("investor1", &t.asset).await,
        Amount::from_units(150_000_000)
    );
    assert_eq!(
        t.balance("investor2", &t.asset).await,
        Amount::from_units(225_000_000)
    );

    let received = amp.received();
    let paths: Vec<(String, String)> = received
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    assert_eq!(
        paths,
        vec![
            ("POST".into(), "/api/user/obtain_token".into()),
            ("GET".into(), "/api/assets/asset-uuid-1/balance".into()),
            // Amphora's view-key route: this double answers 404 as Blockstream AMP does, and
            // the client goes on without it
            (
                "GET".into(),
                "/api/assets/asset-uuid-1/treasury-view-key".into()
            ),
            ("GET".into(), "/api/assets/asset-uuid-1/assignments".into()),
            (
                "POST".into(),
                format!("/api/assets/asset-uuid-1/distributions/{DISTRIBUTION}/confirm")
            ),
        ]
    );
    assert!(received[1..]
        .iter()
        .all(|r| r.authorization.as_deref() == Some("token test-token-1")));

    let body = &received.last().unwrap().body;
    let txid: elements::Txid = body["tx_data"]["txid"].as_str().unwrap().parse().unwrap();
    let tx = t.wallet.get_transaction(&txid).await.unwrap();
    assert!(tx.confirmations >= 2);
    // Exactly the node's gettransaction details and the listunspent entries of the asset
    // created by this transaction.
    let raw: Value = t
        .wallet
        .call("gettransaction", &[json!(txid)])
        .await
        .unwrap();
    let unspent: Vec<Value> = t.wallet.call("listunspent", &[]).await.unwrap();
    let change: Vec<Value> = unspent
        .iter()
        .filter(|u| u["asset"] == json!(t.asset) && u["txid"] == json!(txid))
        .cloned()
        .collect();
    assert_eq!(
        body,
        &json!({"tx_data": {"details": raw["details"], "txid": txid}, "change_data": change})
    );
    // The filter matters: the same transaction has L-BTC change, other transactions hold
    // the asset too.
    assert_eq!(change.len(), 1, "one asset change output");
    assert!(unspent
        .iter()
        .any(|u| u["txid"] == json!(txid) && u["asset"] != json!(t.asset)));
    assert!(unspent
        .iter()
        .any(|u| u["txid"] != json!(txid) && u["asset"] == json!(t.asset)));
    assert!(change[0]["amountblinder"].is_string() && change[0]["assetblinder"].is_string());
    let sends: Vec<&Value> = raw["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["category"] == json!("send") && d["asset"] == json!(t.asset))
        .collect();
    assert_eq!(sends.len(), 2);
}

#[tokio::test]
async fn a_refused_confirm_gives_the_retry_hint_and_use_existing_resends_only_the_payload() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script {
        assignments: assignments(false),
        confirm_status: 500,
        ..Script::default()
    })
    .await;
    let (file, _, _) = distribution_file(&t, &amp).await;
    let err = t
        .run_mining(t.args(distribute(&file, None)))
        .await
        .unwrap_err();
    let ConfirmError::ConfirmRejected { txid, retry, .. } = &err else {
        panic!("unexpected error {err}");
    };
    assert_eq!(retry, &format!("--use-existing {txid}"));
    let message = err.to_string();
    assert!(
        message.contains(&format!("\"--use-existing {txid}\"")),
        "{message}"
    );
    assert!(message.contains("HTTP 500"), "{message}");

    // Running it again without --use-existing (as after a crash) pays nobody twice: the
    // wallet's earlier payment to the file's addresses is found and named.
    amp.set_confirm_status(200);
    let mempool_before = t.mempool_size().await;
    let again = t
        .run_mining(t.args(distribute(&file, None)))
        .await
        .unwrap_err();
    let ConfirmError::AlreadyPaid { txid: paid, .. } = &again else {
        panic!("unexpected error {again}");
    };
    assert_eq!(paid, txid);
    assert!(
        again
            .to_string()
            .contains(&format!("\"--use-existing {txid}\"")),
        "{again}"
    );
    assert_eq!(t.mempool_size().await, mempool_before, "nothing sent");
    assert_eq!(
        t.balance("investor1", &t.asset).await,
        Amount::from_units(150_000_000)
    );

    // Retry with --use-existing: nothing is sent again, the same payload is posted.
    let txid: elements::Txid = txid.parse().unwrap();
    run(t.args(distribute(&file, Some(txid)))).await.unwrap();
    assert_eq!(t.mempool_size().await, mempool_before);
    assert_eq!(
        t.balance("investor1", &t.asset).await,
        Amount::from_units(150_000_000)
    );
    let posted = amp.posted("/confirm");
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0], posted[1]);
    // --use-existing skips the assignments check, as the official script does; the refused
    // rerun stopped at the wallet's earlier payment before it: the one check is the first run's.
    assert_eq!(
        amp.received()
            .iter()
            .filter(|r| r.path.ends_with("/assignments"))
            .count(),
        1
    );

    // An unknown transaction is refused with a clear message.
    let unknown: elements::Txid = "11".repeat(32).parse().unwrap();
    let err = run(t.args(distribute(&file, Some(unknown))))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is not a transaction of this wallet"),
        "{err}"
    );
}

#[tokio::test]
async fn distribute_refuses_to_send_when_the_platform_objects() {
    let t = Treasury::start().await;
    let cases: Vec<(Script, &str)> = vec![
        (
            Script {
                assignments: assignments(true),
                ..Script::default()
            },
            "has already been carried out",
        ),
        (
            Script {
                assignments: vec![json!({"distribution_uuid": "other", "is_distributed": false})],
                ..Script::default()
            },
            "include none for distribution",
        ),
        (
            Script {
                assignments: assignments(false),
                lost_outputs: vec![json!({"txid": "00".repeat(32), "vout": 0})],
                ..Script::default()
            },
            "reports 1 lost output(s); the transaction will not be sent",
        ),
    ];
    let balance = t.balance("treasury", &t.asset).await;
    for (script, expected) in cases {
        let amp = AmpDouble::start(script).await;
        let (file, _, _) = distribution_file(&t, &amp).await;
        let err = run(t.args(distribute(&file, None))).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
        assert!(amp.posted("/confirm").is_empty());
    }
    assert_eq!(t.mempool_size().await, 0, "nothing was sent");
    assert_eq!(t.balance("treasury", &t.asset).await, balance);
}

#[tokio::test]
async fn bad_files_and_logins_stop_before_anything_is_sent() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script {
        assignments: assignments(false),
        ..Script::default()
    })
    .await;
    let a1 = t.address("investor1").await;
    let good = with(
        file_header("distribute", &amp, &t.asset),
        json!({
            "distribution_uuid": DISTRIBUTION,
            "map_address_amount": {&a1: 1.5},
            "map_address_asset": {&a1: t.asset},
        }),
    );
    let mut old = good.clone();
    old["min_supported_client_script_version"] = json!(1);
    let mut burn = good.clone();
    burn["command"] = json!("burn");
    let mut lbtc = good.clone();
    lbtc["map_address_asset"] = json!({});
    for (file, expected) in [
        (
            old,
            "client script version (000002) not supported (min: 000001)",
        ),
        (burn, "wrong type of file"),
        (lbtc, "has no entry in map_address_asset"),
        // The platform's error answer saved instead of the file: said so, not a version error.
        (
            json!({"Error": "No assignments to distribute."}),
            "is not a confirm file: it is an error answer of the platform (Error: \"No \
             assignments to distribute.\")",
        ),
    ] {
        let file = RequestFile::write(&file);
        let err = run(t.args(distribute(&file, None))).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(amp.received().is_empty(), "the platform was not called");

    let file = RequestFile::write(&good);
    let mut args = t.args(distribute(&file, None));
    args.password = "wrong".into();
    let err = run(args).await.unwrap_err();
    assert!(
        err.to_string().contains("cannot log in to the platform"),
        "{err}"
    );
    assert!(err.root_cause().to_string().contains("HTTP 400"), "{err:#}");

    let mut base = good.clone();
    base["base_url"] = json!(amp.base_url.replace("{}", ""));
    let file = RequestFile::write(&base);
    let err = run(t.args(distribute(&file, None))).await.unwrap_err();
    assert!(format!("{err:#}").contains("ending in /{}"), "{err:#}");

    // A wallet without the asset or L-BTC: the node refuses, nothing is sent.
    let good_file = RequestFile::write(&good);
    let mut empty = t.args(distribute(&good_file, None));
    empty.node_url = t.wallet_url("investor2");
    let err = run(empty).await.unwrap_err();
    assert!(
        err.to_string().contains("the wallet cannot fund sendmany"),
        "{err}"
    );

    let missing = t.args(ConfirmCommand::Distribute {
        file: "/nonexistent/distribution.json".into(),
        use_existing: None,
        resume: false,
    });
    let err = run(missing).await.unwrap_err();
    assert!(err
        .to_string()
        .contains("cannot read /nonexistent/distribution.json"));
    assert_eq!(t.mempool_size().await, 0);
}

#[tokio::test]
async fn a_split_distribution_is_paid_and_confirmed_transaction_by_transaction() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script {
        assignments: assignments(false),
        ..Script::default()
    })
    .await;
    let a1 = t.address("investor1").await;
    let a2 = t.address("investor2").await;
    let file = RequestFile::write(&with(
        file_header("distribute", &amp, &t.asset),
        json!({
            "distribution_uuid": DISTRIBUTION,
            "map_address_amount": {&a1: 1.5, &a2: 2.25},
            "map_address_asset": {&a1: t.asset, &a2: t.asset},
            "transactions": [
                {"map_address_amount": {&a1: 1.5}, "map_address_asset": {&a1: t.asset}},
                {"map_address_amount": {&a2: 2.25}, "map_address_asset": {&a2: t.asset}},
            ],
        }),
    ));
    t.run_mining(t.args(distribute(&file, None))).await.unwrap();
    assert_eq!(
        t.balance("investor1", &t.asset).await,
        Amount::from_units(150_000_000)
    );
    assert_eq!(
        t.balance("investor2", &t.asset).await,
        Amount::from_units(225_000_000)
    );
    let confirms = confirmed_txids(&amp);
    assert_eq!(confirms.len(), 2, "one confirm call per transaction");
    assert_ne!(confirms[0], confirms[1]);

    // A split that does not match the whole map is refused before anything is sent.
    let bad = RequestFile::write(&with(
        file_header("distribute", &amp, &t.asset),
        json!({
            "distribution_uuid": DISTRIBUTION,
            "map_address_amount": {&a1: 1.5, &a2: 2.25},
            "map_address_asset": {&a1: t.asset, &a2: t.asset},
            "transactions": [{"map_address_amount": {&a1: 1.5}}],
        }),
    ));
    let err = t
        .run_mining(t.args(distribute(&bad, None)))
        .await
        .unwrap_err();
    assert!(matches!(err, ConfirmError::InvalidFile { .. }), "{err:?}");
}

/// A split distribution whose run stopped after its first transaction: the plain rerun refuses
/// and names `--resume`, which confirms the first transaction without sending it again, sends
/// the second and confirms it; a second `--resume` sends nothing.
#[tokio::test]
async fn an_interrupted_split_distribution_is_finished_with_resume_paying_nobody_twice() {
    let Split {
        t,
        amp,
        file,
        addresses: [a1, ..],
    } = split().await;
    let first = sent_by_hand(&t, &[(&a1, 150_000_000)]).await;

    let err = t
        .run_mining(t.args(distribute(&file, None)))
        .await
        .unwrap_err();
    let ConfirmError::SplitAlreadyPaid { paid, of, txid } = &err else {
        panic!("unexpected error {err}");
    };
    assert_eq!((*paid, *of, txid), (1, 2, &first.to_string()));
    assert!(err.to_string().contains("\"--resume\""), "{err}");
    assert_eq!(t.mempool_size().await, 0, "nothing sent");
    assert!(confirmed_txids(&amp).is_empty());

    t.run_mining(t.args(resume(&file))).await.unwrap();
    assert_eq!(
        t.balance("investor1", &t.asset).await,
        Amount::from_units(150_000_000),
        "the first transaction's recipient is paid once"
    );
    assert_eq!(
        t.balance("investor2", &t.asset).await,
        Amount::from_units(250_000_000)
    );
    let confirms = confirmed_txids(&amp);
    assert_eq!(confirms.len(), 2, "{confirms:?}");
    assert_eq!(confirms[0], first.to_string());
    assert_ne!(confirms[1], confirms[0]);

    // Everything paid: --resume only confirms again.
    t.run_mining(t.args(resume(&file))).await.unwrap();
    assert_eq!(confirmed_txids(&amp)[2..], confirms[..]);
    assert_eq!(
        t.balance("investor2", &t.asset).await,
        Amount::from_units(250_000_000)
    );
}

/// A transaction of the file paid in part by the wallet (not as this client pays) cannot be
/// finished: `--resume` refuses it, naming the unpaid address, and sends nothing.
#[tokio::test]
async fn a_transaction_paid_in_part_is_refused_even_with_resume() {
    let Split {
        t,
        amp,
        file,
        addresses: [a1, a2, a3],
    } = split().await;
    sent_by_hand(&t, &[(&a1, 150_000_000)]).await;
    let part = sent_by_hand(&t, &[(&a3, 25_000_000)]).await;
    for command in [distribute(&file, None), resume(&file)] {
        let err = t.run_mining(t.args(command)).await.unwrap_err();
        let ConfirmError::PaidInPart {
            transaction,
            of,
            txid,
            address,
            state,
        } = &err
        else {
            panic!("unexpected error {err}");
        };
        assert_eq!(
            (*transaction, *of, txid, address, *state),
            (2, 2, &part.to_string(), &a2, "not paid")
        );
    }
    assert_eq!(t.mempool_size().await, 0, "nothing sent");
    assert_eq!(
        t.balance("investor2", &t.asset).await,
        Amount::from_units(25_000_000)
    );
    assert!(confirmed_txids(&amp).is_empty());

    // Both addresses paid, by two transactions: still not this client's payment.
    let other = sent_by_hand(&t, &[(&a2, 225_000_000)]).await;
    let err = t.run_mining(t.args(resume(&file))).await.unwrap_err();
    let ConfirmError::PaidInPart { txid, state, .. } = &err else {
        panic!("unexpected error {err}");
    };
    assert!(
        [part.to_string(), other.to_string()].contains(txid),
        "{err}"
    );
    assert_eq!(*state, "paid by another transaction", "{err}");
    assert!(confirmed_txids(&amp).is_empty());
}

/// `payout` shares the split payment and `--resume` with `distribute`: a payout run stopped
/// after its first transaction is refused as it was and finished with `--resume`.
#[tokio::test]
async fn an_interrupted_split_payout_is_finished_with_resume() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script::default()).await;
    let (a1, a2) = (t.address("investor1").await, t.address("investor2").await);
    let file = RequestFile::write(&with(
        file_header("payout", &amp, &t.asset),
        json!({
            "payout_uuid": "payout-uuid-1",
            "payout_asset": t.asset,
            "map_address_amount": {&a1: 1.5, &a2: 2.25},
            "map_address_asset": {&a1: t.asset, &a2: t.asset},
            "transactions": [
                {"map_address_amount": {&a1: 1.5}, "map_address_asset": {&a1: t.asset}},
                {"map_address_amount": {&a2: 2.25}, "map_address_asset": {&a2: t.asset}},
            ],
        }),
    ));
    let payout = |resume: bool| ConfirmCommand::Payout {
        file: file.path.clone(),
        use_existing: None,
        resume,
    };
    let first = sent_by_hand(&t, &[(&a1, 150_000_000)]).await;
    let err = t.run_mining(t.args(payout(false))).await.unwrap_err();
    assert!(
        matches!(&err, ConfirmError::SplitAlreadyPaid { paid: 1, of: 2, .. }),
        "{err}"
    );
    t.run_mining(t.args(payout(true))).await.unwrap();
    assert_eq!(
        t.balance("investor1", &t.asset).await,
        Amount::from_units(150_000_000)
    );
    assert_eq!(
        t.balance("investor2", &t.asset).await,
        Amount::from_units(225_000_000)
    );
    let confirms = confirmed_txids(&amp);
    assert!(amp
        .received()
        .iter()
        .filter(|r| r.path.ends_with("/confirm"))
        .all(|r| r.path.contains("/payouts/payout-uuid-1/")));
    assert_eq!(confirms.len(), 2, "{confirms:?}");
    assert_eq!(confirms[0], first.to_string());
}
