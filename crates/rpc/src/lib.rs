//! amphora-rpc: a typed async client for Elements Core's JSON-RPC.
//!
//! [`ElementsRpc::call`] is the one generic call (JSON-RPC 1.0 over HTTP, user:password or cookie
//! auth, bounded retries when the node is unreachable or warming up); [`ElementsRpc::wallet`]
//! routes to `/wallet/<name>`; the typed methods in [`methods`] parse answers into [`types`],
//! with amounts read exactly as [`Amount`]. Node errors keep Elements' code and message
//! ([`RpcError::Node`]). [`conformance`] replays a recorded Elements transcript against a node
//! and compares the answers' shapes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), amphora_rpc::RpcError> {
//! use amphora_rpc::{Amount, Auth, ElementsRpc};
//!
//! let node = ElementsRpc::new("http://user:pass@127.0.0.1:18884", Auth::None)?;
//! let tip = node.get_block_hash(node.get_block_count().await?).await?;
//! let block: elements::Block = node.get_block(&tip).await?;
//! let treasury = node.wallet("treasury");
//! match treasury.send_to_address("el1qq...", Amount::from_units(1_500_000), None).await {
//!     Err(e) if e.is_wallet_locked() => println!("unlock the wallet first"),
//!     other => println!("sent in {} after block {}", other?, block.block_hash()),
//! }
//! # Ok(())
//! # }
//! ```

pub mod amount;
pub mod client;
pub mod conformance;
pub mod error;
pub mod methods;
pub mod types;

pub use amount::{Amount, AmountError};
pub use client::{param, parse_answer, Auth, ElementsRpc, RawAnswer, RetryPolicy};
pub use error::{codes, RpcError};
pub use methods::{decode_hex, AddressType, AssetPayment, RawIssuanceRequest};
