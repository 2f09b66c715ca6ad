//! Integration tests of `amphora-cosigner`, linked into one binary to keep builds small.

// Test code: a failed `unwrap` is a failed test (helpers outside `#[test]` included).
#![allow(clippy::unwrap_used)]

mod chain_inputs;
mod cosign_flow;
mod descriptor_checks;
mod fixture;
mod issuer_authorizer;
mod platform_key;
