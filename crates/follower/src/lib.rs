//! amphora-follower: the chain follower. One background task per platform indexes every block
//! of the platform's Elements node, in order, into the chain index of the store
//! (`crates/store/src/chain.rs`, described in `crates/store/migrations/*/0004_chain_index.sql`):
//! the transactions of managed assets, their outputs with owners (treasury, registered wallet,
//! burn) and amounts, the spends of tracked outputs, and which spends lost track of units.
//!
//! - [`Follower::spawn`] starts the loop and returns a [`FollowerHandle`] to read its
//!   [`FollowerStatus`] and stop it.
//! - [`block::index_block`] turns one block into a [`amphora_store::BlockUpdate`]; the rules
//!   are documented there.
//! - [`flows`] lets other areas (distributions, reissuances, burns) recognise their own
//!   transactions.
//! - Reorgs are undone down to the common ancestor; exactly one replica follows per database
//!   (a lease, see [`amphora_store::Store::acquire_follower_lease`]).

pub mod block;
pub mod context;
pub mod error;
pub mod flows;
mod follower;
mod prefetch;
pub mod wallets;

pub use error::FollowerError;
pub use follower::{Follower, FollowerConfig, FollowerHandle, FollowerStatus};
