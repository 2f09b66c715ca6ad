//! The node of this run (a real `elementsd` with `ELEMENTSD_EXE`, the embedded node otherwise)
//! answers the recorded Elements Core 23.3.3 transcript with the same shapes, error codes and
//! HTTP statuses: on the real node a check of the harness and the transcript, on the embedded
//! node the conformance the whole suite relies on.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

use amphora_rpc::conformance::{bundled_transcript_path, replay, ReplayOptions, Transcript};
use amphora_rpc::{ElementsRpc, RetryPolicy};
use amphora_testenv::TestNode;

#[tokio::test]
async fn the_node_of_this_run_answers_like_elements_core_23_3_3() {
    let node = TestNode::start().await;
    let transcript = Transcript::load(&bundled_transcript_path()).expect("bundled transcript");
    let rpc = ElementsRpc::new(node.url(), node.auth())
        .expect("node URL")
        .with_retry(RetryPolicy::none());
    let options = ReplayOptions {
        datadir: Some(node.datadir().to_string_lossy().into_owned()),
        allowed_extra_keys: Vec::new(),
    };
    let report = replay(&transcript, &rpc, &options).await;
    assert!(
        report.is_conformant(),
        "{:?} vs Elements Core 23.3.3's transcript:\n{report}",
        node.kind()
    );
}
