//! The follower's error type.

use amphora_rpc::RpcError;
use amphora_store::StoreError;

/// What can stop the follower from indexing a block. Every error is transient from the loop's
/// point of view: it is reported in [`crate::FollowerStatus::last_error`] and the block is
/// tried again on the next poll.
#[derive(Debug, thiserror::Error)]
pub enum FollowerError {
    /// The node could not be reached or refused a call.
    #[error("Elements node: {0}")]
    Rpc(#[from] RpcError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A flow recognizer failed.
    #[error("flow recognizer {name}: {message}")]
    Flow {
        /// The recognizer's name.
        name: &'static str,
        /// What went wrong.
        message: String,
    },
    /// The node's chain does not fit the index (for example a block whose height is not the
    /// one asked for).
    #[error("inconsistent chain: {0}")]
    Chain(String),
}
