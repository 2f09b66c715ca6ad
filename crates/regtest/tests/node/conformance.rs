//! Conformance of the embedded node with Elements Core 23.3.3: the real transcript's call
//! sequence is replayed against the node and every answer must have the recorded shape (keys,
//! JSON types), error codes and messages, and HTTP statuses. The same replay against the node of
//! the run (a real `elementsd` with `ELEMENTSD_EXE`) is `amphora-testenv`'s conformance test.

use std::path::Path;

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
