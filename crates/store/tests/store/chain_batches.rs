//! Blocks applied many per transaction (a follower catching up, `Store::apply_blocks_leased`)
//! end in the same state as the same blocks applied one per transaction: the index, the
//! maintained aggregates and every event, in order. Random walks of long runs of blocks that
//! touch nothing, blocks that issue, move, burn and lose units, confirm calls recording outputs
//! at a height whose block then touches nothing, and reorgs inside and after a batch, on two
//! stores of the same engine side by side.

use std::time::Duration;

use amphora_store::{
    AssetOutput, BlockUpdate, Engine, IndexedBlock, IndexedTx, NewAssetOutput, OutputOwner,
    OutputSpend, Store, TxKind, UNKNOWN_BLINDER,
};
use amphora_testenv::pg::PgSchema;
use amphora_testenv::store as fixtures;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};

use crate::contract::{on_postgres, on_sqlite};

contract!(batched_blocks_end_as_one_block_per_transaction);

const ASSETS: [&str; 2] = ["batch-a1", "batch-a2"];
const GAIDS: [&str; 2] = ["GAbatch1", "GAbatch2"];
const TTL: Duration = Duration::from_secs(600);

/// One step of a walk.
#[derive(Debug, Clone)]
enum Step {
    /// This many blocks that touch nothing.
    Quiet(usize),
    /// A block with one transaction of an asset: its kind (index into [`KINDS`]), outputs
    /// (owner 0 treasury, 1–2 a GAID, 3 burn; amount) and spends (pick, lost).
    Touching(usize, usize, Vec<(usize, i64)>, Vec<(usize, bool)>),
    /// A confirm call records an output of an asset for the block `ahead` above the tip,
    /// which itself touches nothing.
    RecordAhead(usize, u8, usize, i64),
    /// A block with the asset's issuance transaction (its `asset.confirmed` comes with the
    /// next block), unless it is indexed already.
    Issue(usize),
    /// The last `depth` blocks are undone.
    Reorg(i64),
    /// The blocks read so far are applied (the batch ends here).
    Flush,
}

const KINDS: [TxKind; 4] = [
    TxKind::Issuance,
    TxKind::Transfer,
    TxKind::Burn,
    TxKind::Unknown,
];

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (1usize..40).prop_map(Step::Quiet),
        4 => (
            0..ASSETS.len(),
            0..KINDS.len(),
            prop::collection::vec((0usize..4, 1i64..500), 0..3),
            prop::collection::vec((any::<usize>(), prop::bool::weighted(0.3)), 0..3),
        )
            .prop_map(|(a, k, o, s)| Step::Touching(a, k, o, s)),
        1 => (0..ASSETS.len(), 1u8..4, 0usize..3, 1i64..100)
            .prop_map(|(a, ahead, owner, amount)| Step::RecordAhead(a, ahead, owner, amount)),
        1 => (0..ASSETS.len()).prop_map(Step::Issue),
        2 => (1i64..30).prop_map(Step::Reorg),
        2 => Just(Step::Flush),
    ]
}

/// Both stores, and what the walk knows of the chain.
struct Walk {
    /// Applied one block per transaction.
    single: Store,
    /// Applied in batches: the blocks read since the last flush wait in `pending`.
    batched: Store,
    pending: Vec<BlockUpdate>,
    /// Hashes of the blocks read, by height (index = height).
    hashes: Vec<String>,
    /// Recorded outputs: (txid, vout, height, spent at).
    outputs: Vec<(String, i64, i64, Option<i64>)>,
    /// The height of each asset's indexed issuance.
    issued: [Option<i64>; 2],
    serial: u64,
}

impl Walk {
    fn fresh(&mut self) -> String {
        self.serial += 1;
        format!("{:064x}", self.serial)
    }

    fn next_block(&mut self) -> BlockUpdate {
        let height = self.hashes.len() as i64;
        let prev = self
            .hashes
            .last()
            .cloned()
            .unwrap_or_else(|| "00".repeat(32));
        let hash = self.fresh();
        self.hashes.push(hash.clone());
        BlockUpdate {
            block: IndexedBlock {
                height,
                block_hash: hash,
                prev_hash: prev,
                block_time: 1_700_000_000 + height,
            },
            txs: vec![],
            outputs: vec![],
            spends: vec![],
        }
    }

    async fn read(&mut self, update: BlockUpdate) {
        self.single
            .apply_block_leased("f", TTL, &update)
            .await
            .unwrap();
        self.pending.push(update);
    }

    async fn flush(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.batched
            .apply_blocks_leased("f", TTL, &pending)
            .await
            .unwrap();
    }

    async fn run(&mut self, step: &Step) {
        match step {
            Step::Quiet(n) => {
                for _ in 0..*n {
                    let update = self.next_block();
                    self.read(update).await;
                }
            }
            Step::Touching(asset, kind, outs, spends) => {
                let mut update = self.next_block();
                let height = update.block.height;
                let txid = self.fresh();
                update.txs.push(IndexedTx {
                    asset_uuid: ASSETS[*asset].into(),
                    txid: txid.clone(),
                    position: 1,
                    kind: KINDS[*kind],
                });
                for (vin, (pick, lost)) in spends.iter().enumerate() {
                    let unspent: Vec<usize> = (0..self.outputs.len())
                        .filter(|i| self.outputs[*i].3.is_none() && self.outputs[*i].2 < height)
                        .collect();
                    if unspent.is_empty() {
                        break;
                    }
                    let spent = &mut self.outputs[unspent[pick % unspent.len()]];
                    spent.3 = Some(height);
                    update.spends.push(OutputSpend {
                        txid: spent.0.clone(),
                        vout: spent.1,
                        spent_txid: txid.clone(),
                        spent_vin: vin as i64,
                        lost: *lost,
                    });
                }
                for (vout, (owner, amount)) in outs.iter().enumerate() {
                    let output = new_output(&txid, vout as i64, *asset, *owner, *amount, height);
                    self.outputs.push((txid.clone(), vout as i64, height, None));
                    update.outputs.push(output);
                }
                self.read(update).await;
            }
            Step::Issue(asset) => {
                if self.issued[*asset].is_some() {
                    return;
                }
                let mut update = self.next_block();
                let height = update.block.height;
                let txid = fixtures::txid(*asset as u8 + 1);
                update.txs.push(IndexedTx {
                    asset_uuid: ASSETS[*asset].into(),
                    txid: txid.clone(),
                    position: 1,
                    kind: TxKind::Issuance,
                });
                update
                    .outputs
                    .push(new_output(&txid, 0, *asset, 0, 1_000, height));
                self.outputs.push((txid, 0, height, None));
                self.issued[*asset] = Some(height);
                self.read(update).await;
            }
            Step::RecordAhead(asset, ahead, owner, amount) => {
                // a confirm call writes at once, also in the middle of a batch
                self.flush().await;
                let height = self.hashes.len() as i64 - 1 + i64::from(*ahead);
                let txid = self.fresh();
                let output = new_output(&txid, 0, *asset, *owner, *amount, height);
                for store in [&self.single, &self.batched] {
                    store
                        .record_asset_outputs(std::slice::from_ref(&output))
                        .await
                        .unwrap();
                }
                self.outputs.push((txid, 0, height, None));
            }
            Step::Reorg(depth) => {
                // the follower applies what it read, then finds the fork
                self.flush().await;
                let height = (self.hashes.len() as i64 - 1 - depth).max(-1);
                for store in [&self.single, &self.batched] {
                    store.rollback_to_leased("f", TTL, height).await.unwrap();
                }
                self.hashes.truncate((height + 1) as usize);
                self.outputs.retain(|o| o.2 <= height);
                for issued in &mut self.issued {
                    *issued = issued.filter(|at| *at <= height);
                }
                for output in &mut self.outputs {
                    if output.3.is_some_and(|at| at > height) {
                        output.3 = None;
                    }
                }
            }
            Step::Flush => self.flush().await,
        }
    }
}

fn new_output(
    txid: &str,
    vout: i64,
    asset: usize,
    owner: usize,
    amount: i64,
    height: i64,
) -> NewAssetOutput {
    NewAssetOutput {
        txid: txid.into(),
        vout,
        asset_uuid: ASSETS[asset].into(),
        is_token: false,
        amount,
        script_pubkey: "0014".into(),
        owner: match owner {
            0 => OutputOwner::Treasury,
            3 => OutputOwner::Burn,
            n => OutputOwner::Wallet {
                wid: fixtures::wid_of(GAIDS[n - 1]),
                gaid: GAIDS[n - 1].into(),
            },
        },
        asset_blinder: UNKNOWN_BLINDER.into(),
        amount_blinder: UNKNOWN_BLINDER.into(),
        height,
    }
}

/// Everything the blocks wrote that a reader can see.
#[derive(Debug, PartialEq)]
struct Snapshot {
    tip: Option<IndexedBlock>,
    blocks: Vec<Option<IndexedBlock>>,
    outputs: Vec<Vec<AssetOutput>>,
    txs: Vec<Vec<(i64, IndexedTx)>>,
    totals: Vec<String>,
    holdings: Vec<String>,
    /// (type, asset, height, data) of every event, in id order.
    events: Vec<(String, Option<String>, Option<i64>, serde_json::Value)>,
}

/// The snapshot of `store` with its indexed blocks at `heights`.
async fn snapshot(store: &Store, issuer: i64, heights: std::ops::RangeInclusive<i64>) -> Snapshot {
    let mut blocks = Vec::new();
    for height in heights {
        blocks.push(store.indexed_block(height).await.unwrap());
    }
    let (mut outputs, mut txs, mut totals, mut holdings) = (vec![], vec![], vec![], vec![]);
    for asset in ASSETS {
        outputs.push(store.asset_outputs(asset).await.unwrap());
        txs.push(store.indexed_asset_txs(asset).await.unwrap());
        totals.push(format!("{:?}", store.asset_totals(asset).await.unwrap()));
        holdings.push(format!("{:?}", store.holdings(asset, None).await.unwrap()));
        crate::aggregates::assert_aggregates_match(store, asset).await;
    }
    let events = store
        .events_after(issuer, 0, &[], None, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            let kind = format!("{:?}", e.event_type);
            (kind, e.asset_uuid, e.block_height, e.data)
        })
        .collect();
    Snapshot {
        tip: store.chain_tip().await.unwrap(),
        blocks,
        outputs,
        txs,
        totals,
        holdings,
        events,
    }
}

/// The issuer, its two assets, the wallets and users of the walks; returns the issuer.
async fn setup(store: &Store) -> i64 {
    let issuer = fixtures::issuer(store, "batch-issuer").await;
    for (n, uuid) in ASSETS.iter().enumerate() {
        let asset = amphora_store::NewAsset {
            is_confidential: false,
            ..fixtures::new_asset(issuer, uuid)
        };
        let tx = fixtures::without_token(fixtures::issuance_tx(
            0x10 + n as u8,
            &fixtures::txid(n as u8 + 1),
        ));
        fixtures::issued_asset(store, &asset, &tx).await;
    }
    for gaid in GAIDS {
        fixtures::registered_wallet(store, gaid).await;
        fixtures::registered_user(store, issuer, gaid, Some(gaid)).await;
    }
    assert!(store.acquire_follower_lease("f", TTL).await.unwrap());
    issuer
}

/// A second migrated store of `store`'s engine; the guard keeps it alive.
async fn twin(store: &Store) -> (Store, Option<PgSchema>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    match store.engine() {
        Engine::Sqlite => {
            let url = format!("sqlite:{}", dir.path().join("twin.db").display());
            let twin = Store::connect(&url).await.unwrap();
            twin.migrate().await.unwrap();
            (twin, None, dir)
        }
        Engine::Postgres => {
            let schema = PgSchema::create("store_twin").await;
            let twin = Store::connect_postgres(schema.options()).await.unwrap();
            twin.migrate().await.unwrap();
            (twin, Some(schema), dir)
        }
    }
}

/// Random walks (a fixed seed, so a failure reproduces), compared after every batch.
async fn batched_blocks_end_as_one_block_per_transaction(store: Store) {
    let (batched, _schema, _dir) = twin(&store).await;
    let issuer = setup(&store).await;
    assert_eq!(setup(&batched).await, issuer);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[15; 32]),
    );
    let strategy = prop::collection::vec(step(), 20..60);
    let mut walk = Walk {
        single: store.clone(),
        batched: batched.clone(),
        pending: vec![],
        hashes: vec![],
        outputs: vec![],
        issued: [None; 2],
        serial: 0,
    };
    let (mut reorgs, mut eventful) = (0, 0);
    for _ in 0..4 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        for step in &steps {
            walk.run(step).await;
            reorgs += usize::from(matches!(step, Step::Reorg(_)));
            if matches!(step, Step::Flush | Step::Reorg(_)) {
                // the blocks around the tip (all of them at the end of each walk)
                let top = walk.hashes.len() as i64 + 5;
                let single = snapshot(&walk.single, issuer, top - 80..=top).await;
                let batched = snapshot(&walk.batched, issuer, top - 80..=top).await;
                assert_eq!(batched, single, "after {step:?}");
                eventful = single.events.len();
            }
        }
        walk.flush().await;
        let top = walk.hashes.len() as i64 + 5;
        let single = snapshot(&walk.single, issuer, 0..=top).await;
        assert_eq!(snapshot(&walk.batched, issuer, 0..=top).await, single);
    }
    assert!(
        reorgs > 4 && eventful > 20,
        "{reorgs} reorgs, {eventful} events"
    );
    batched.close().await;
}
