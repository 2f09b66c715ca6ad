//! Blocks read ahead of the one being indexed: while the follower indexes block `h`, the
//! `getblockhash` + `getblock` round trips of the next few heights are already in flight, so
//! catching up costs the node's answers once per window instead of twice per block.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use amphora_rpc::{ElementsRpc, RpcError};
use tokio::task::JoinHandle;

use crate::error::FollowerError;

/// Blocks requested ahead of the one being indexed.
pub(crate) const PREFETCH_BLOCKS: usize = 8;

type Fetch = JoinHandle<Result<elements::Block, RpcError>>;

/// The blocks of a range of heights, fetched in order with up to [`PREFETCH_BLOCKS`] requests
/// in flight. Dropping it cancels the requests still running (a stop, a reorg, an error).
pub(crate) struct Prefetch {
    rpc: ElementsRpc,
    next: i64,
    end: i64,
    in_flight: VecDeque<(i64, Fetch)>,
}

impl Prefetch {
    /// Starts fetching the first blocks of `heights`.
    pub(crate) fn new(rpc: &ElementsRpc, heights: RangeInclusive<i64>) -> Prefetch {
        let mut prefetch = Prefetch {
            rpc: rpc.clone(),
            next: *heights.start(),
            end: *heights.end(),
            in_flight: VecDeque::with_capacity(PREFETCH_BLOCKS),
        };
        prefetch.fill();
        prefetch
    }

    fn fill(&mut self) {
        while self.in_flight.len() < PREFETCH_BLOCKS && self.next <= self.end {
            let rpc = self.rpc.clone();
            let height = self.next;
            let fetch = tokio::spawn(async move {
                let hash = rpc.get_block_hash(height as u64).await?;
                rpc.get_block(&hash).await
            });
            self.in_flight.push_back((height, fetch));
            self.next += 1;
        }
    }

    /// The next block of the range with its height (`None` once the range is read).
    pub(crate) async fn next_block(
        &mut self,
    ) -> Option<Result<(i64, elements::Block), FollowerError>> {
        let (height, fetch) = self.in_flight.pop_front()?;
        self.fill();
        let block = match fetch.await {
            Ok(block) => block.map_err(FollowerError::from),
            // only `Drop` cancels a fetch, so this is a panic in the task
            Err(join) => Err(FollowerError::Chain(format!(
                "reading block {height} failed: {join}"
            ))),
        };
        Some(block.map(|block| (height, block)))
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        for (_, fetch) in &self.in_flight {
            fetch.abort();
        }
    }
}
