//! One view of the chain for every endpoint. The rules and reports read the chain index that
//! the follower writes, while clients (and `register-authorized`, and the confirm checks) see
//! the node: a client that saw 2 confirmations on its node must not be told "0
//! confirmation(s)" by the next call. A handler whose rule or answer depends on the chain
//! takes [`ChainSynced`], which first waits, at most [`CHAIN_SYNC_WAIT`], until the index has
//! the node's tip, then lets the handler answer with what the index has.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// Longest wait of a request for the chain index to reach the node's tip; past it the request
/// is answered from the index as it is (the follower's lag shows in `/healthz`).
pub const CHAIN_SYNC_WAIT: Duration = Duration::from_secs(5);
/// Longest wait for the node's height; an unreachable node leaves the index's view.
const NODE_HEIGHT_WAIT: Duration = Duration::from_secs(3);

/// Proof that the chain index had caught up with the node's tip (or the bounded wait ended)
/// when the handler started.
#[derive(Debug, Clone, Copy)]
pub struct ChainSynced;

impl FromRequestParts<AppState> for ChainSynced {
    type Rejection = ApiError;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        catch_up_with_node(state).await?;
        Ok(ChainSynced)
    }
}

/// Waits until the chain index holds the node's tip, at most [`CHAIN_SYNC_WAIT`]. Returns at
/// once without a node, when the node does not answer in time, or when nothing indexes the
/// chain.
pub async fn catch_up_with_node(state: &AppState) -> Result<(), ApiError> {
    let Some(node) = state.node() else {
        return Ok(());
    };
    let height = match tokio::time::timeout(NODE_HEIGHT_WAIT, node.get_block_count()).await {
        Ok(Ok(height)) => i64::try_from(height).unwrap_or(i64::MAX),
        Ok(Err(error)) => {
            tracing::debug!(%error, "getblockcount: answering from the chain index as it is");
            return Ok(());
        }
        Err(_) => return Ok(()),
    };
    state.wait_for_index_within(height, CHAIN_SYNC_WAIT).await?;
    Ok(())
}
