//! amphora-regtest: an embedded Elements-compatible regtest node.
//!
//! `chain` holds consensus state (blocks, UTXO set, mempool, validation), `wallet` the
//! Elements-Core-like wallets, and `rpc` the JSON-RPC server that answers like Elements Core 23.3.3.
//! [`Node::start`] runs it in-process; [`cli::run`] is `amphora regtest`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), amphora_regtest::NodeError> {
//! use amphora_regtest::{Node, NodeConfig};
//!
//! // In memory, liquidregtest, 21M free coins, any free port, random credentials.
//! let node = Node::start(NodeConfig::default()).await?;
//! let (user, password) = node.credentials();
//! println!("Elements RPC at {} ({user}:{password})", node.rpc_url());
//! node.shutdown().await?;
//! # Ok(())
//! # }
//! ```

pub mod chain;
pub mod cli;
pub mod node;
mod records;
pub mod rpc;
pub mod wallet;

pub use node::{
    ChainTip, MiningPolicy, Node, NodeConfig, NodeError, NodeEvents, NodeHandle, NodeState,
};
