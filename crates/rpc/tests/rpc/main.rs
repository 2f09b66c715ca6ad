//! Integration tests of `amphora-rpc`, linked into one binary to keep builds small.

mod conformance_selftest;
mod http_transport;
mod transcript_parsing;
