//! Follower integration tests against the test node of the run (the embedded regtest node, or
//! Elements Core with `ELEMENTSD_EXE`): real blocks, real transactions, a real SQLite
//! database; one binary, one module per topic.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod batches;
mod common;
mod indexing;
mod lease;
mod notification;
mod reorg;
