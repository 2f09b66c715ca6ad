//! Follower integration tests against the embedded regtest node (real blocks, real
//! transactions, a real SQLite database): one binary, one module per topic.

mod common;
mod indexing;
mod lease;
mod reorg;
