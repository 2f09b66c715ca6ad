//! The wallet API end to end against the real platform (`amphora-server`'s application on a
//! SQLite database) and the embedded regtest node: create, register (wallet id and GAID checked),
//! address, sync, balance and transaction history of node-funded AMP2 wallets.

use std::time::Duration;

use crate::common::{ALICE, BOB, PLATFORM_MNEMONIC};
use amphora_core::gaid::Gaid;
use amphora_core::Network;
use amphora_cosigner::PlatformKey;
use amphora_regtest::{Node, NodeConfig, NodeHandle};
use amphora_rpc::{Amount, Auth, ElementsRpc, RetryPolicy};
use amphora_server::{app, AppState};
use amphora_store::Store;
use amphora_wallet::{execute, Wallet, WalletArgs, WalletError};
use clap::Parser;

struct Env {
    node: NodeHandle,
    rpc: ElementsRpc,
    platform: String,
    _db: tempfile::TempDir,
}

async fn env() -> Env {
    let node = Node::start(NodeConfig {
        rpc_user: Some("amphora".into()),
        rpc_password: Some("secret".into()),
        ..NodeConfig::default()
    })
    .await
    .unwrap();
    let rpc = ElementsRpc::new(
        node.rpc_url(),
        Auth::UserPass {
            user: "amphora".into(),
            password: "secret".into(),
        },
    )
    .unwrap();
    let db = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite:{}",
        db.path().join("amphora.db").display()
    ))
    .await
    .unwrap();
    store.migrate().await.unwrap();
    let key = PlatformKey::from_mnemonic(PLATFORM_MNEMONIC, Network::LiquidRegtest).unwrap();
    let state = AppState::new(
        store,
        key,
        Network::LiquidRegtest,
        Duration::from_secs(3600),
    )
    // The co-signer checks every input against the node's chain.
    .with_node(rpc.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let platform = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(state)).await.unwrap() });
    Env {
        node,
        rpc,
        platform,
        _db: db,
    }
}

fn amount(text: &str) -> Amount {
    Amount::parse_decimal(text).unwrap()
}

#[tokio::test]
async fn register_sync_and_report_against_the_platform_and_node() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let (mut alice, _) =
        Wallet::create_from_mnemonic(dir.path(), ALICE, None, env.rpc.clone()).unwrap();
    assert!(matches!(
        alice.address(None).await,
        Err(WalletError::NotRegistered)
    ));

    let registered = alice.register(&format!("{}/", env.platform)).await.unwrap();
    assert_eq!(registered.platform, env.platform);
    let gaid = Gaid::parse(&registered.gaid).unwrap();
    assert_eq!(gaid, Gaid::from_descriptor(&registered.descriptor));
    // Registering again is harmless; another platform is refused.
    let again = alice.register(&env.platform).await.unwrap();
    assert_eq!(again, registered);
    assert!(matches!(
        alice.register("http://127.0.0.1:1").await,
        Err(WalletError::OtherPlatform { .. })
    ));
    // The wallet reopens with its registration.
    drop(alice);
    let mut alice = Wallet::open(dir.path(), env.rpc.clone()).unwrap();
    assert_eq!(alice.registration().unwrap().gaid, registered.gaid);

    // The node's treasury issues an asset and pays Alice.
    env.rpc.create_wallet("treasury").await.unwrap();
    let treasury = env.rpc.wallet("treasury");
    treasury.rescan_blockchain().await.unwrap();
    let share = treasury
        .issue_asset(amount("0.00000500"), amount("0.00000001"), true)
        .await
        .unwrap()
        .asset;
    let miner = treasury.get_new_address(None).await.unwrap();
    env.rpc.generate_to_address(1, &miner).await.unwrap();
    let first = alice.address(None).await.unwrap();
    assert_eq!(first.index, 0);
    treasury
        .send_to_address(&first.address, amount("0.00000120"), Some(&share))
        .await
        .unwrap();
    treasury
        .send_to_address(&first.address, amount("0.0005"), None)
        .await
        .unwrap();
    env.rpc.generate_to_address(1, &miner).await.unwrap();

    let synced = alice.sync().await.unwrap();
    assert_eq!((synced.height, synced.walk.confirmed_txs), (2, 2));
    let balance = alice.balance().await.unwrap();
    assert_eq!(balance.height, 2);
    let lbtc = &balance.assets[0];
    assert_eq!(
        (
            lbtc.asset.ticker.as_deref(),
            lbtc.amount,
            lbtc.display.as_str()
        ),
        (Some("L-BTC"), 50_000, "0.00050000")
    );
    let held = balance
        .assets
        .iter()
        .find(|a| a.asset.asset_id == share)
        .unwrap();
    assert_eq!((held.amount, held.asset.ticker.as_ref()), (120, None));
    let txs = alice.txs().await.unwrap();
    assert_eq!(txs.txs.len(), 2);
    assert!(txs
        .txs
        .iter()
        .all(|t| t.kind == "incoming" && t.height == Some(2)));
    // The used address is not handed out again.
    assert_eq!(alice.address(None).await.unwrap().index, 1);
    // Nothing new: a second sync walks no block.
    assert_eq!(alice.sync().await.unwrap().walk.blocks, 0);

    // Reopened without a node: the persisted state answers.
    drop(alice);
    let offline_node = ElementsRpc::new("http://127.0.0.1:1", Auth::None)
        .unwrap()
        .with_retry(RetryPolicy::none());
    let mut offline = Wallet::open(dir.path(), offline_node).unwrap();
    assert_eq!(offline.balance().await.unwrap(), balance);
    assert_eq!(offline.txs().await.unwrap(), txs);
    assert!(matches!(offline.sync().await, Err(WalletError::Node(_))));
    drop(offline);
    let mut alice = Wallet::open(dir.path(), env.rpc.clone()).unwrap();
    assert_eq!(alice.sync().await.unwrap().walk.blocks, 0);
    assert_eq!(alice.balance().await.unwrap(), balance);

    // Bob registers too and gets his own wallet id and GAID.
    let bob_dir = tempfile::tempdir().unwrap();
    let (mut bob, _) =
        Wallet::create_from_mnemonic(bob_dir.path(), BOB, Some(2), env.rpc.clone()).unwrap();
    let bob_reg = bob.register(&env.platform).await.unwrap();
    assert_ne!(bob_reg.wid, registered.wid);
    assert_ne!(bob_reg.gaid, registered.gaid);
    env.node.shutdown().await.unwrap();
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: WalletArgs,
}

/// Runs `amphora wallet <argv> --json` and parses what it prints.
async fn cli(argv: &[&str]) -> Result<serde_json::Value, WalletError> {
    let mut full = vec!["wallet"];
    full.extend_from_slice(argv);
    full.push("--json");
    let args = Cli::try_parse_from(full).unwrap().args;
    let text = execute(args).await?;
    Ok(serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn command_line_prints_json_for_scripts() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let wallet_dir = dir.path().join("w");
    let wd = wallet_dir.to_str().unwrap();
    let url = format!(
        "http://amphora:secret@{}",
        env.node.rpc_url().trim_start_matches("http://")
    );
    let base = ["--wallet-dir", wd, "--node-url", url.as_str()];

    let created = cli(&[&base[..], &["create"]].concat()).await.unwrap();
    assert_eq!(created["birth_height"], 0);
    assert_eq!(created["mnemonic_file"], format!("{wd}/mnemonic"));
    assert!(created.get("mnemonic").is_none());
    let again = cli(&[&base[..], &["create"]].concat()).await.unwrap_err();
    assert!(matches!(again, WalletError::AlreadyExists { .. }));

    let err = cli(&[&base[..], &["balance"]].concat()).await.unwrap_err();
    assert!(matches!(err, WalletError::NotRegistered));
    let err = cli(&[&base[..], &["register"]].concat()).await.unwrap_err();
    assert!(err.to_string().contains("--platform"));

    let reg = cli(&[
        &base[..],
        &["register", "--platform", env.platform.as_str()],
    ]
    .concat())
    .await
    .unwrap();
    let gaid = reg["gaid"].as_str().unwrap();
    Gaid::parse(gaid).unwrap();
    assert!(reg["wid"].as_str().unwrap().len() == 39);

    let addr = cli(&[&base[..], &["address"]].concat()).await.unwrap();
    assert_eq!(addr["index"], 0);
    assert!(addr["address"].as_str().unwrap().starts_with("el1"));
    let synced = cli(&[&base[..], &["sync"]].concat()).await.unwrap();
    assert_eq!(synced["height"], 0);
    let balance = cli(&[&base[..], &["balance", "--no-sync"]].concat())
        .await
        .unwrap();
    assert_eq!(balance["assets"][0]["ticker"], "L-BTC");
    assert_eq!(balance["assets"][0]["amount"], 0);
    let txs = cli(&[&base[..], &["txs"]].concat()).await.unwrap();
    assert_eq!(txs, serde_json::json!({"txs": []}));

    // Sending without funds fails before anything reaches the platform.
    let err = cli(&[
        &base[..],
        &[
            "send",
            "--asset",
            "L-BTC",
            "--to",
            addr["address"].as_str().unwrap(),
            "--amount",
            "0.001",
        ],
    ]
    .concat())
    .await
    .unwrap_err();
    assert!(matches!(err, WalletError::Build(_)), "{err}");
    assert!(err.to_string().contains("Insufficient funds"), "{err}");
    // Another platform than the registered one is refused.
    let err = cli(&[&base[..], &["balance", "--platform", "http://elsewhere:1"]].concat())
        .await
        .unwrap_err();
    assert!(matches!(err, WalletError::OtherPlatform { .. }));
    env.node.shutdown().await.unwrap();
}
