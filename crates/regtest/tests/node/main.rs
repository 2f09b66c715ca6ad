//! Integration tests of `amphora-regtest`, linked into one binary to keep builds small.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod chain_branches;
mod chain_common;
mod conformance;
mod crash_recovery;
mod fixtures;
mod instant_mining;
mod rpc_http;
mod treasury_flow_http;
mod validation_chain;
mod validation_ct;
mod validation_scripts;
mod wallet_common;
mod wallet_funding_errors;
mod wallet_multiwallet;
mod wallet_reorg;
mod wallet_treasury_flow;
