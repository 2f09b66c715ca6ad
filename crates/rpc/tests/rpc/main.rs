//! Integration tests of `amphora-rpc`, linked into one binary to keep builds small.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod conformance_selftest;
mod http_transport;
mod transcript_parsing;
