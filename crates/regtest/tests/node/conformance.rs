//! Conformance of the embedded node with Elements Core 23.3.3: the real transcript's call
//! sequence is replayed against the node and every answer must have the recorded shape (keys,
//! JSON types), error codes and messages, and HTTP statuses. When `ELEMENTSD_EXE` names a real
//! `elementsd`, the same scenario also runs against it (a check of the harness and transcript).

use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use amphora_regtest::{Node, NodeConfig};
use amphora_rpc::conformance::{
    bundled_transcript_path, replay, ReplayOptions, Report, Transcript,
};
use amphora_rpc::{Auth, ElementsRpc, RetryPolicy};

/// The transcript's `-initialfreecoins`.
const INITIAL_FREE_COINS: u64 = 2_100_000_000_000_000;

fn transcript() -> Transcript {
    Transcript::load(&bundled_transcript_path()).expect("bundled transcript")
}

async fn replay_against(url: &str, auth: Auth, datadir: &Path) -> Report {
    let rpc = ElementsRpc::new(url, auth)
        .expect("node URL")
        .with_retry(RetryPolicy::none());
    let options = ReplayOptions {
        datadir: Some(datadir.to_string_lossy().into_owned()),
        allowed_extra_keys: Vec::new(),
    };
    replay(&transcript(), &rpc, &options).await
}

#[tokio::test]
async fn embedded_node_answers_like_elements_core() {
    let datadir = tempfile::tempdir().expect("temp datadir");
    let node = Node::start(NodeConfig {
        datadir: Some(datadir.path().to_owned()),
        initial_free_coins: INITIAL_FREE_COINS,
        ..NodeConfig::default()
    })
    .await
    .expect("embedded node starts");
    let (user, password) = node.credentials();
    let report = replay_against(
        node.rpc_url(),
        Auth::UserPass { user, password },
        datadir.path(),
    )
    .await;
    node.shutdown().await.expect("clean shutdown");
    assert!(
        report.is_conformant(),
        "embedded node vs Elements Core 23.3.3:\n{report}"
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

#[tokio::test]
async fn real_elementsd_answers_like_the_transcript() {
    let Some(exe) = std::env::var_os("ELEMENTSD_EXE") else {
        eprintln!("ELEMENTSD_EXE is not set: skipping the run against a real elementsd");
        return;
    };
    let datadir = tempfile::tempdir().expect("temp datadir");
    let (rpc_port, p2p_port) = (free_port(), free_port());
    let mut child = tokio::process::Command::new(&exe)
        .args([
            "-chain=liquidregtest",
            "-initialfreecoins=2100000000000000",
            "-anyonecanspendaremine=1",
            "-txindex=1",
            "-con_blocksubsidy=0",
            "-fallbackfee=0.00000100",
            "-validatepegin=0",
            "-server=1",
            "-listen=0",
            "-printtoconsole=0",
            "-rpcuser=conformance",
            "-rpcpassword=conformance",
        ])
        .arg(format!("-datadir={}", datadir.path().display()))
        .arg(format!("-rpcport={rpc_port}"))
        .arg(format!("-port={p2p_port}"))
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.to_string_lossy()));
    let url = format!("http://127.0.0.1:{rpc_port}");
    let auth = Auth::UserPass {
        user: "conformance".into(),
        password: "conformance".into(),
    };
    // Wait until the RPC server answers and the node has left warm-up (-28).
    let probe = ElementsRpc::new(&url, auth.clone())
        .expect("URL")
        .with_retry(RetryPolicy {
            max_attempts: 120,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_millis(500),
        });
    probe
        .get_blockchain_info()
        .await
        .expect("elementsd becomes ready");
    let report = replay_against(&url, auth, datadir.path()).await;
    let _ = probe.call::<serde_json::Value>("stop", &[]).await;
    let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    assert!(
        report.is_conformant(),
        "elementsd vs its own transcript:\n{report}"
    );
}
