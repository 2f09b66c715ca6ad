//! Integration tests of `amphora-wallet`, linked into one binary to keep builds small.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod common;
mod cosign_e2e;
mod offline_flow;
mod platform_e2e;
mod regtest_node;
mod rpc_walk;
