//! Integration tests of `amphora-confirm`, linked into one binary to keep builds small.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod amp_api;
mod distribute;
mod node_checks;
mod reissue_burn;
mod support;
