//! Blocks read ahead of the one being indexed, many per request: the heights are read in runs
//! of up to [`BLOCKS_PER_READ`], each run in two JSON-RPC batches (its `getblockhash`es, then
//! its `getblock`s, [`ElementsRpc::get_blocks_at`]), and up to [`READS_AHEAD`] runs are in
//! flight while the follower indexes the blocks of the one before. Catching up costs the
//! node two round trips per run instead of two per block; a caught-up follower reads the one
//! new block the same way.

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use amphora_rpc::{ElementsRpc, RpcError};
use tokio::task::JoinHandle;

use crate::error::FollowerError;

/// Most blocks read in one run (one `getblockhash` batch and one `getblock` batch).
pub(crate) const BLOCKS_PER_READ: i64 = 50;
/// Runs requested ahead of the blocks being indexed.
pub(crate) const READS_AHEAD: usize = 2;

type Read = JoinHandle<Result<Vec<elements::Block>, RpcError>>;

/// The blocks of a range of heights, fetched in order with up to [`READS_AHEAD`] runs in
/// flight. Dropping it cancels the requests still running (a stop, a reorg, an error).
pub(crate) struct Prefetch {
    rpc: ElementsRpc,
    next: i64,
    end: i64,
    in_flight: VecDeque<(RangeInclusive<i64>, Read)>,
    /// Blocks of the last run read, not yet handed out, with their heights.
    ready: VecDeque<(i64, elements::Block)>,
}

impl Prefetch {
    /// Starts fetching the first blocks of `heights`.
    pub(crate) fn new(rpc: &ElementsRpc, heights: RangeInclusive<i64>) -> Prefetch {
        let mut prefetch = Prefetch {
            rpc: rpc.clone(),
            next: *heights.start(),
            end: *heights.end(),
            in_flight: VecDeque::with_capacity(READS_AHEAD),
            ready: VecDeque::new(),
        };
        prefetch.fill();
        prefetch
    }

    fn fill(&mut self) {
        while self.in_flight.len() < READS_AHEAD && self.next <= self.end {
            let last = self.end.min(self.next + BLOCKS_PER_READ - 1);
            let run = self.next..=last;
            let rpc = self.rpc.clone();
            let heights = (self.next as u64)..=(last as u64);
            let read = tokio::spawn(async move { rpc.get_blocks_at(heights).await });
            self.in_flight.push_back((run, read));
            self.next = last + 1;
        }
    }

    /// The next block of the range with its height (`None` once the range is read).
    pub(crate) async fn next_block(
        &mut self,
    ) -> Option<Result<(i64, elements::Block), FollowerError>> {
        if let Some(ready) = self.ready.pop_front() {
            return Some(Ok(ready));
        }
        let (run, read) = self.in_flight.pop_front()?;
        self.fill();
        let blocks = match read.await {
            Ok(blocks) => blocks.map_err(FollowerError::from),
            // only `Drop` cancels a read, so this is a panic in the task
            Err(join) => Err(FollowerError::Chain(format!(
                "reading blocks {}..={} failed: {join}",
                run.start(),
                run.end()
            ))),
        };
        match blocks {
            Ok(blocks) if blocks.len() as i64 != run.end() - run.start() + 1 => {
                Some(Err(FollowerError::Chain(format!(
                    "the node answered {} blocks for heights {}..={}",
                    blocks.len(),
                    run.start(),
                    run.end()
                ))))
            }
            Ok(blocks) => {
                self.ready.extend(run.zip(blocks));
                self.ready.pop_front().map(Ok)
            }
            Err(e) => Some(Err(e)),
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        for (_, read) in &self.in_flight {
            read.abort();
        }
    }
}
