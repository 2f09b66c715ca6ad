//! Integration tests of `amphora-cosigner`, linked into one binary to keep builds small.

mod chain_inputs;
mod cosign_flow;
mod descriptor_checks;
mod issuer_authorizer;
mod platform_key;
