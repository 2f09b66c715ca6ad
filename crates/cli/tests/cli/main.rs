//! Integration tests of `amphora-cli`, linked into one binary to keep builds small.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod chain_reports;
mod cli;
mod console;
mod crash;
mod demo;
mod distribute;
mod distribute_bench;
mod embedded_node;
mod payout;
mod replicas;
mod support;
mod tutorial;
mod webhook_crash;
