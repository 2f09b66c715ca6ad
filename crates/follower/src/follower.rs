//! The follower loop: lease, reorg check, index the next blocks (many per database transaction
//! while catching up), report status, wait for the node's next block.

use std::sync::Arc;
use std::time::{Duration, Instant};

use amphora_rpc::ElementsRpc;
use amphora_store::{BlockUpdate, Store, StoreError};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::block::{index_block, reads_store};
use crate::context::Context;
use crate::error::FollowerError;
use crate::flows::{recognizers, FlowRecognizer};
use crate::prefetch::Prefetch;
use crate::wallets::DEFAULT_LOOKAHEAD;

/// How the follower runs.
#[derive(Debug, Clone)]
pub struct FollowerConfig {
    /// Longest pause between polls of the node once caught up (and the pause after an
    /// error). A leader caught up with the node waits with `waitforblockheight` for the next
    /// block, so it indexes a new block as soon as the node has it, and polls again at the
    /// latest after this long (to renew the lease and notice a reorg at the same height).
    pub poll_interval: Duration,
    /// How long the follower lease lasts unless renewed; renewed on every poll and block.
    pub lease_ttl: Duration,
    /// This replica's lease holder id (unique per process).
    pub holder: String,
    /// First height indexed on an empty index.
    pub start_height: u64,
    /// Most blocks indexed per poll before the lease and the context are refreshed.
    pub batch: u64,
    /// Wallet scripts derived past the highest used index.
    pub lookahead: u32,
    /// Most blocks applied in one database transaction while catching up (a block that
    /// touches a managed asset is applied, with the blocks before it, before the next block
    /// whose indexing reads the store; once caught up each poll applies what it read, usually
    /// one block).
    pub blocks_per_transaction: usize,
}

impl Default for FollowerConfig {
    fn default() -> Self {
        FollowerConfig {
            poll_interval: Duration::from_millis(500),
            lease_ttl: Duration::from_secs(10),
            holder: format!("follower-{}-{}", std::process::id(), uuid::Uuid::new_v4()),
            start_height: 0,
            batch: 1_000,
            lookahead: DEFAULT_LOOKAHEAD,
            blocks_per_transaction: BLOCKS_PER_TRANSACTION,
        }
    }
}

/// What the follower is doing, for `/healthz` and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowerStatus {
    /// Whether this replica holds the lease (only the holder indexes).
    pub is_leader: bool,
    /// Height of the last indexed block.
    pub tip_height: Option<i64>,
    /// Hash of the last indexed block.
    pub tip_hash: Option<String>,
    /// The node's height at the last poll.
    pub node_height: Option<i64>,
    /// Blocks the index is behind the node.
    pub lag: Option<i64>,
    /// Blocks this replica indexed since it started.
    pub blocks_indexed: u64,
    /// Reorgs this replica rolled back.
    pub reorgs: u64,
    /// The last error, cleared by the next successful poll.
    pub last_error: Option<String>,
}

/// The chain follower of one replica.
#[derive(Debug)]
pub struct Follower {
    store: Store,
    rpc: ElementsRpc,
    config: FollowerConfig,
    recognizers: Arc<Vec<Box<dyn FlowRecognizer>>>,
    ctx: Context,
    status: watch::Sender<FollowerStatus>,
    /// The node's height when this replica, as leader, last caught up with it: the wait for
    /// the next block starts there.
    caught_up_at: Option<u64>,
}

/// A running follower: its status, and the way to stop it.
#[derive(Debug)]
pub struct FollowerHandle {
    status: watch::Receiver<FollowerStatus>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl FollowerHandle {
    /// The latest status.
    pub fn status(&self) -> FollowerStatus {
        self.status.borrow().clone()
    }

    /// A receiver of status changes (for `AppState`).
    pub fn subscribe(&self) -> watch::Receiver<FollowerStatus> {
        self.status.clone()
    }

    /// Waits until `done` holds for the status, at most `timeout`. Returns the status that
    /// satisfied it, or `None` on timeout.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&FollowerStatus) -> bool,
    ) -> Option<FollowerStatus> {
        let mut rx = self.status.clone();
        let reached = match tokio::time::timeout(timeout, rx.wait_for(|s| done(s))).await {
            Ok(Ok(status)) => Some(status.clone()),
            _ => None,
        };
        reached
    }

    /// Stops the follower after the block it is writing (never half a block) and releases
    /// the lease so another replica can take over at once.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!("chain follower task failed: {e}");
        }
    }
}

impl Follower {
    /// A follower indexing `rpc`'s chain into `store` with the platform's flow recognizers.
    pub fn new(store: Store, rpc: ElementsRpc, config: FollowerConfig) -> Follower {
        Follower::with_recognizers(store, rpc, config, recognizers())
    }

    /// A follower with an explicit list of flow recognizers.
    pub fn with_recognizers(
        store: Store,
        rpc: ElementsRpc,
        config: FollowerConfig,
        recognizers: Vec<Box<dyn FlowRecognizer>>,
    ) -> Follower {
        let (status, _) = watch::channel(FollowerStatus::default());
        Follower {
            store,
            rpc,
            ctx: Context::new(config.lookahead),
            config,
            recognizers: Arc::new(recognizers),
            status,
            caught_up_at: None,
        }
    }

    /// Starts the loop on the runtime.
    pub fn spawn(self) -> FollowerHandle {
        let (stop, stop_rx) = watch::channel(false);
        let status = self.status.subscribe();
        let task = tokio::spawn(self.run(stop_rx));
        FollowerHandle { status, stop, task }
    }

    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        tracing::info!(holder = %self.config.holder, "chain follower started");
        while !*stop.borrow() {
            let caught_up = match self.poll(&stop).await {
                Ok(caught_up) => {
                    self.status.send_modify(|s| s.last_error = None);
                    caught_up
                }
                Err(e) => {
                    tracing::warn!("chain follower: {e}");
                    self.status
                        .send_modify(|s| s.last_error = Some(e.to_string()));
                    true
                }
            };
            if caught_up {
                tokio::select! {
                    _ = self.wait_for_next_block() => {}
                    _ = stop.changed() => {}
                }
            }
        }
        if let Err(e) = self.store.release_follower_lease(&self.config.holder).await {
            tracing::warn!("releasing the follower lease: {e}");
        }
        self.status.send_modify(|s| s.is_leader = false);
        tracing::info!(holder = %self.config.holder, "chain follower stopped");
    }

    /// Until the node has a block above the height this leader caught up at (at most
    /// `poll_interval`); a replica that does not lead, or just failed, sleeps `poll_interval`.
    async fn wait_for_next_block(&mut self) {
        match self.caught_up_at.take() {
            Some(height) => {
                if let Err(e) = self
                    .rpc
                    .wait_for_block_height(height + 1, self.config.poll_interval)
                    .await
                {
                    tracing::debug!("waitforblockheight: {e}; polling instead");
                    tokio::time::sleep(self.config.poll_interval).await;
                }
            }
            None => tokio::time::sleep(self.config.poll_interval).await,
        }
    }

    /// One poll: returns true when caught up with the node (or not the leader).
    async fn poll(&mut self, stop: &watch::Receiver<bool>) -> Result<bool, FollowerError> {
        self.caught_up_at = None;
        let leader = self
            .store
            .acquire_follower_lease(&self.config.holder, self.config.lease_ttl)
            .await?;
        self.status.send_modify(|s| s.is_leader = leader);
        if !leader {
            return Ok(true);
        }
        let node_height = i64::try_from(self.rpc.get_block_count().await?)
            .map_err(|_| FollowerError::Chain("node height out of range".into()))?;
        // read the assets and wallets after the node's height: every block up to it was mined
        // after they were recorded
        self.ctx.refresh(&self.store).await?;
        let mut tip = self.store.chain_tip().await?;
        self.report(&tip, node_height);

        if let Some(fork) = self.find_fork(tip.as_ref(), node_height).await? {
            tracing::warn!(fork, "chain reorganisation: rolling back to height {fork}");
            self.store
                .rollback_to_leased(&self.config.holder, self.config.lease_ttl, fork)
                .await?;
            self.status.send_modify(|s| s.reorgs += 1);
            tip = self.store.chain_tip().await?;
            self.report(&tip, node_height);
        }

        let start = match &tip {
            Some(t) => t.height + 1,
            None => self.config.start_height as i64,
        };
        let end = node_height.min(start + self.config.batch as i64 - 1);
        let mut pending = Pending::new(self.config.blocks_per_transaction);
        let indexed = self
            .index_range(start..=end, node_height, stop, &mut tip, &mut pending)
            .await;
        // the blocks read before a stop, a reorg under us or an error are still good
        let flushed = self.flush(&mut pending, node_height).await;
        match (indexed, flushed) {
            (Err(e), _) | (Ok(_), Err(e)) => return Err(e),
            // lease lost or the index moved under us: start over from the store's view
            (Ok(Ranged::Conflict), _) | (_, Ok(false)) => return Ok(true),
            (Ok(Ranged::Stopped), _) => return Ok(true),
            // the node reorganised while we read: the next poll finds the fork
            (Ok(Ranged::Reorganised), _) => return Ok(false),
            (Ok(Ranged::Done), Ok(true)) => {}
        }
        let caught_up = end >= node_height;
        if caught_up {
            self.caught_up_at = u64::try_from(node_height).ok();
        }
        Ok(caught_up)
    }

    /// Reads (ahead, [`Prefetch`]) and indexes the blocks of `heights`, applying them in
    /// batches ([`Pending`]); the caller applies what is still pending.
    async fn index_range(
        &mut self,
        heights: std::ops::RangeInclusive<i64>,
        node_height: i64,
        stop: &watch::Receiver<bool>,
        tip: &mut Option<amphora_store::IndexedBlock>,
        pending: &mut Pending,
    ) -> Result<Ranged, FollowerError> {
        let mut blocks = Prefetch::new(&self.rpc, heights);
        while let Some(fetched) = blocks.next_block().await {
            if *stop.borrow() {
                return Ok(Ranged::Stopped);
            }
            let (height, block) = fetched?;
            if let Some(t) = tip.as_ref() {
                if block.header.prev_blockhash.to_string() != t.block_hash {
                    return Ok(Ranged::Reorganised);
                }
            }
            // indexing this block reads the store: it must see the pending blocks' rows
            if pending.touches
                && reads_store(&self.ctx, &block)
                && !self.flush(pending, node_height).await?
            {
                return Ok(Ranged::Conflict);
            }
            let update = index_block(
                &self.store,
                &mut self.ctx,
                &self.recognizers,
                &block,
                height,
            )
            .await?;
            *tip = Some(update.block.clone());
            if pending.push(update) && !self.flush(pending, node_height).await? {
                return Ok(Ranged::Conflict);
            }
        }
        Ok(Ranged::Done)
    }

    /// Applies the pending blocks in one transaction fenced by the lease. False when the lease
    /// was lost or the index moved under us (nothing applied: the next poll starts over from
    /// the store's view).
    async fn flush(
        &mut self,
        pending: &mut Pending,
        node_height: i64,
    ) -> Result<bool, FollowerError> {
        if pending.updates.is_empty() {
            return Ok(true);
        }
        let updates = std::mem::take(&mut pending.updates);
        pending.since = None;
        pending.touches = false;
        match self
            .store
            .apply_blocks_leased(&self.config.holder, self.config.lease_ttl, &updates)
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(conflict)) => {
                tracing::info!("chain follower: {conflict:?}");
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        }
        let count = updates.len() as u64;
        self.status.send_modify(|s| s.blocks_indexed += count);
        let tip = updates.into_iter().last().map(|u| u.block);
        self.report(&tip, node_height);
        Ok(true)
    }

    /// The height to roll back to when the indexed tip is not on the node's best chain: the
    /// highest indexed block the node still has. `None` when the tip is on the best chain.
    async fn find_fork(
        &self,
        tip: Option<&amphora_store::IndexedBlock>,
        node_height: i64,
    ) -> Result<Option<i64>, FollowerError> {
        let Some(tip) = tip else { return Ok(None) };
        let mut height = tip.height.min(node_height);
        if height == tip.height && self.node_hash(height).await? == tip.block_hash {
            return Ok(None);
        }
        while height >= 0 {
            let Some(indexed) = self.store.indexed_block(height).await? else {
                // below the first indexed block: nothing in common
                return Ok(Some(height));
            };
            if self.node_hash(height).await? == indexed.block_hash {
                return Ok(Some(height));
            }
            height -= 1;
        }
        Ok(Some(-1))
    }

    async fn node_hash(&self, height: i64) -> Result<String, FollowerError> {
        Ok(self.rpc.get_block_hash(height as u64).await?.to_string())
    }

    fn report(&self, tip: &Option<amphora_store::IndexedBlock>, node_height: i64) {
        self.status.send_modify(|s| {
            s.tip_height = tip.as_ref().map(|t| t.height);
            s.tip_hash = tip.as_ref().map(|t| t.block_hash.clone());
            s.node_height = Some(node_height);
            s.lag = Some(node_height - tip.as_ref().map_or(-1, |t| t.height));
        });
    }
}

/// How [`Follower::index_range`] ended.
enum Ranged {
    /// Every block of the range was read.
    Done,
    /// The follower is stopping.
    Stopped,
    /// A block did not extend the one before it: the node reorganised while we read.
    Reorganised,
    /// The lease was lost or the index moved under us.
    Conflict,
}

/// Blocks indexed but not yet applied, applied together in one transaction when there are
/// [`FollowerConfig::blocks_per_transaction`] of them, [`PENDING_AT_MOST`] after the first of
/// them was read, at the end of the poll, or before the next block whose indexing reads the
/// store ([`reads_store`]: the outputs it may spend, the flows' records) if one of them
/// touches a managed asset, so that it sees their rows. Blocks of a coinbase alone (most of a
/// chain) read nothing, so a block that touches an asset waits for them.
struct Pending {
    updates: Vec<BlockUpdate>,
    since: Option<Instant>,
    most: usize,
    /// Whether one of the pending blocks touches a managed asset.
    touches: bool,
}

/// The default of [`FollowerConfig::blocks_per_transaction`].
const BLOCKS_PER_TRANSACTION: usize = 500;
/// Longest a read block waits to be applied with the next ones.
const PENDING_AT_MOST: Duration = Duration::from_millis(200);

impl Pending {
    fn new(most: usize) -> Pending {
        Pending {
            updates: Vec::new(),
            since: None,
            most: most.max(1),
            touches: false,
        }
    }

    /// Adds a block; true when the pending blocks should be applied now.
    fn push(&mut self, update: BlockUpdate) -> bool {
        self.touches |=
            !(update.txs.is_empty() && update.outputs.is_empty() && update.spends.is_empty());
        let since = *self.since.get_or_insert_with(Instant::now);
        self.updates.push(update);
        self.updates.len() >= self.most || since.elapsed() >= PENDING_AT_MOST
    }
}
