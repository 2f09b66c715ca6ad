//! Integration tests of `amphora-confirm`, linked into one binary to keep builds small.

mod amp_api;
mod distribute;
mod node_checks;
mod reissue_burn;
mod support;
