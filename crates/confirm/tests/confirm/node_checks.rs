//! Pre-flight checks and the confirmation wait against the test node of the run.

use std::time::Duration;

use crate::support::{AmpDouble, Script, Treasury};
use amphora_confirm::node::{
    preflight, wait_for_confirmations, WaitPolicy, WaitProgress, REQUIRED_CONFIRMATIONS,
};
use amphora_confirm::{run, ConfirmCommand, ConfirmError};
use amphora_rpc::{Amount, Auth, ElementsRpc};
use amphora_testenv::TestNode;

fn update_blinders(amp: &AmpDouble) -> ConfirmCommand {
    ConfirmCommand::UpdateBlinders {
        asset_uuid: "asset-uuid-1".into(),
        base_url: amp.base_url.clone(),
    }
}

#[tokio::test]
async fn an_elements_core_node_passes_once_synced() {
    let node = TestNode::start().await;
    // Credentials in the URL, as `--node-url` gives them.
    let rpc = ElementsRpc::new(&node.url_with_credentials(""), Auth::None).unwrap();
    rpc.create_wallet("w").await.unwrap();
    // A fresh chain (height 0) reports verificationprogress 0.
    let err = preflight(&rpc).await.unwrap_err();
    assert!(matches!(err, ConfirmError::NotSynced { .. }), "{err}");
    assert!(err
        .to_string()
        .contains("wait until it is fully synchronized"));

    node.mine(1).await;
    let network = preflight(&rpc).await.unwrap();
    assert!(network.subversion.contains("Elements Core"));
    assert!(network.version >= 170_001);
    node.stop().await;
}

#[tokio::test]
async fn a_locked_wallet_stops_the_client_with_the_unlock_advice() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script::default()).await;
    t.root.create_wallet("locked").await.unwrap();
    let locked = t.root.wallet("locked");
    locked.encrypt_wallet("correct horse").await.unwrap();

    let mut args = t.args(update_blinders(&amp));
    args.node_url = t.wallet_url("locked");
    let err = run(args.clone()).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("unlock your wallet with walletpassphrase"),
        "{err}"
    );
    assert!(amp.received().is_empty(), "nothing reached the platform");

    // Unlocked, the pre-flight passes (update-blinders then fails on the empty tx list).
    locked.wallet_passphrase("correct horse", 60).await.unwrap();
    let err = run(args).await.unwrap_err();
    assert!(
        err.to_string().contains("lists no transaction for asset"),
        "{err}"
    );
    assert_eq!(amp.received().len(), 2, "login and txs");
}

#[tokio::test]
async fn a_url_without_wallet_on_a_multi_wallet_node_is_explained() {
    let t = Treasury::start().await;
    let amp = AmpDouble::start(Script::default()).await;
    let mut args = t.args(update_blinders(&amp));
    args.node_url = t.node_url();
    let err = run(args.clone()).await.unwrap_err();
    assert!(
        err.to_string().contains("add /wallet/<name> to --node-url"),
        "{err}"
    );

    args.node_url = t.wallet_url("nosuchwallet");
    let err = run(args.clone()).await.unwrap_err();
    assert!(err.to_string().contains("is not loaded"), "{err}");

    args.node_url = "not a url".into();
    let err = run(args).await.unwrap_err();
    assert!(err.to_string().contains("invalid --node-url"), "{err}");
}

#[tokio::test]
async fn the_wait_needs_two_confirmations_sees_each_block_at_once_and_reports_blocks_seen() {
    let t = Treasury::start().await;
    let to = t.address("investor1").await;
    let txid = t
        .wallet
        .send_to_address(&to, Amount::from_units(1_000), None)
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<WaitProgress>();
    let wallet = t.wallet.clone();
    // A poll interval far longer than the test may take: each block must be seen at once.
    let policy = WaitPolicy {
        poll_interval: Duration::from_secs(60),
        timeout: Duration::from_secs(120),
    };
    let soon = Duration::from_secs(5);
    let wait = tokio::spawn(async move {
        wait_for_confirmations(
            &wallet,
            &txid,
            REQUIRED_CONFIRMATIONS,
            policy,
            "unused",
            |p| {
                let _ = tx.send(*p);
            },
        )
        .await
    });
    let first = rx.recv().await.unwrap();
    assert_eq!((first.confirmations, first.blocks_seen), (0, 0));

    t.mine(1).await;
    let one = tokio::time::timeout(soon, rx.recv())
        .await
        .expect("the block is seen at once")
        .unwrap();
    assert_eq!((one.confirmations, one.blocks_seen), (1, 1));
    // One confirmation is not enough (the script waits for > 1).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!wait.is_finished());

    t.mine(1).await;
    let done = tokio::time::timeout(soon, wait)
        .await
        .expect("the second block is seen at once")
        .unwrap()
        .unwrap();
    assert_eq!((done.confirmations, done.blocks_seen), (2, 2));
    assert_eq!(done.tip, one.tip + 1);
}

#[tokio::test]
async fn a_wait_that_times_out_says_how_to_retry() {
    let t = Treasury::start().await;
    let to = t.address("investor1").await;
    let txid = t
        .wallet
        .send_to_address(&to, Amount::from_units(1_000), None)
        .await
        .unwrap();
    let policy = WaitPolicy {
        poll_interval: Duration::from_millis(10),
        timeout: Duration::from_millis(100),
    };
    let retry = format!("--use-existing {txid}:0");
    let err = wait_for_confirmations(
        &t.wallet,
        &txid,
        REQUIRED_CONFIRMATIONS,
        policy,
        &retry,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        ConfirmError::NotConfirmed {
            confirmations: 0,
            ..
        }
    ));
    let message = err.to_string();
    assert!(message.contains(&format!("\"{retry}\"")), "{message}");
    assert!(
        message.contains("do NOT run this command again as it is"),
        "{message}"
    );
}

/// `dumpmasterblindingkey`, which the client hands the platform as the treasury's view key,
/// derives the blinding key of every address the wallet gives out (`confidential_key`), on the
/// node of the run: Elements Core and the embedded node derive them the same way (SLIP-77).
#[tokio::test]
async fn the_master_blinding_key_opens_every_address_of_its_wallet() {
    use amphora_core::treasury_key::TreasuryViewKey;
    use amphora_rpc::AddressType;
    use elements::secp256k1_zkp::Secp256k1;

    let node = TestNode::start().await;
    let wallet = node.create_wallet("treasury").await;
    let other = node.create_wallet("other").await;
    let key: TreasuryViewKey = wallet
        .dump_master_blinding_key()
        .await
        .unwrap()
        .parse()
        .unwrap();
    let other_key: TreasuryViewKey = other
        .dump_master_blinding_key()
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert_ne!(key, other_key);
    let secp = Secp256k1::new();
    for kind in [
        None,
        Some(AddressType::Blech32),
        Some(AddressType::Legacy),
        Some(AddressType::P2shSegwit),
    ] {
        let address: elements::Address =
            wallet.get_new_address(kind).await.unwrap().parse().unwrap();
        assert_eq!(key.check_opens(&secp, &address), Ok(()), "{address}");
        assert!(other_key.check_opens(&secp, &address).is_err(), "{address}");
    }
    node.stop().await;
}
