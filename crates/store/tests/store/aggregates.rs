//! The maintained aggregates (per-holder balances, per-asset totals, assignment sums) against
//! the computation from history: after every step of random walks of blocks, reorgs, confirm
//! calls recording outputs ahead of the follower, blacklisting and assignment edits, on both
//! engines; and the migration's backfill of a database that already had outputs.

use amphora_store::{
    BlockUpdate, HoldingsJson, IndexedBlock, IndexedTx, IssuanceTx, NewAsset, NewAssetOutput,
    OutputOwner, OutputSpend, Store, TxKind, UNKNOWN_BLINDER,
};
use amphora_testenv::store as fixtures;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::contract::{on_postgres, on_sqlite};

mod holder_users;
mod upgrade;

contract!(aggregates_equal_history_over_random_walks);

/// Asserts that every maintained figure of `asset` equals its computation from history.
pub(crate) async fn assert_aggregates_match(store: &Store, asset: &str) {
    let maintained = store.holdings(asset, None).await.unwrap();
    let history = store.holdings_from_history(asset, None).await.unwrap();
    assert_eq!(maintained, history, "holdings of {asset}");
    let maintained = store.asset_totals(asset).await.unwrap();
    let history = store.asset_totals_from_history(asset).await.unwrap();
    assert_eq!(maintained, history, "totals of {asset}");
    let maintained = store.assignment_totals(asset).await.unwrap();
    let history = store.assignment_totals_from_history(asset).await.unwrap();
    assert_eq!(maintained, history, "assignment totals of {asset}");
    let holdings = store.holdings_from_history(asset, None).await.unwrap();
    let treasury = holdings
        .iter()
        .find(|h| h.is_treasury)
        .map_or(0, |h| h.amount);
    let balance = store.treasury_confirmed_balance(asset).await.unwrap();
    assert_eq!(balance, treasury, "treasury balance of {asset}");
    for gaid in GAIDS {
        let held = holdings
            .iter()
            .find(|h| h.gaid.as_deref() == Some(gaid))
            .map_or(0, |h| h.amount);
        let balance = store.gaid_asset_balance(asset, gaid).await.unwrap();
        assert_eq!(balance, held, "balance of {gaid} in {asset}");
    }
}

/// Two assets of one issuer, one of another.
const ASSETS: [&str; 3] = ["agg-a1", "agg-a2", "agg-b1"];
/// The username of the issuer of each of [`ASSETS`].
const ASSET_ISSUERS: [&str; 3] = ["agg-a", "agg-a", "agg-b"];
/// GA1 and GA2: registered users of the first issuer; GA3 of the second; GA4 of nobody (or of
/// a user created and deleted by the walk).
const GAIDS: [&str; 4] = ["GAagg1", "GAagg2", "GAagg3", "GAagg4"];

const KINDS: [TxKind; 6] = [
    TxKind::Issuance,
    TxKind::Reissuance,
    TxKind::Distribution,
    TxKind::Transfer,
    TxKind::Burn,
    TxKind::Unknown,
];

/// One output of a generated transaction: owner (0 treasury, 1–4 a GAID, 5 burn), token flag
/// and amount.
type OutSpec = (usize, bool, i64);

/// A generated transaction: the asset it is a transaction of, its kind, its outputs, and the
/// outputs it spends (indexes into the unspent outputs, and whether the spend is lost).
#[derive(Debug, Clone)]
struct TxSpec {
    asset: usize,
    kind: usize,
    outputs: Vec<OutSpec>,
    spends: Vec<(usize, bool)>,
}

/// One step of a walk.
#[derive(Debug, Clone)]
enum Step {
    /// A block with these transactions.
    Block(Vec<TxSpec>),
    /// A reorg: the last `depth` blocks are undone.
    Reorg(i64),
    /// A confirm call records the outputs of a transaction before the follower indexes it; the
    /// next block confirms it.
    Confirm(TxSpec),
    /// The issuer blacklists (or whitelists) an output.
    Blacklist(usize, bool),
    /// An assignment of the asset to the first issuer's user (0 or 1) is created.
    Assign(usize, usize, i64),
    /// The assignment (index into the created ones) is deleted.
    Unassign(usize),
    /// The fourth GAID (nobody's) becomes a new registered user's of the first issuer, or that
    /// user is deleted (its GAID link with it).
    ToggleUser,
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        0..ASSETS.len(),
        0..KINDS.len(),
        prop::collection::vec((0usize..6, prop::bool::weighted(0.15), 1i64..500), 0..4),
        prop::collection::vec((any::<usize>(), prop::bool::weighted(0.2)), 0..3),
    )
        .prop_map(|(asset, kind, outputs, spends)| TxSpec {
            asset,
            kind,
            outputs,
            spends,
        })
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec(tx_spec(), 0..4).prop_map(Step::Block),
        1 => (1i64..4).prop_map(Step::Reorg),
        1 => tx_spec().prop_map(Step::Confirm),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(i, b)| Step::Blacklist(i, b)),
        1 => (0..2usize, 0..2usize, 1i64..50).prop_map(|(a, u, n)| Step::Assign(a, u, n)),
        1 => any::<usize>().prop_map(Step::Unassign),
        1 => Just(Step::ToggleUser),
    ]
}

/// What the walk knows of the chain, to build valid blocks and pick outputs to spend.
#[derive(Default)]
struct Walk {
    /// Hashes of the indexed blocks, by height (index 0 = height 1).
    hashes: Vec<String>,
    /// Every recorded output: (txid, vout, asset, height, spent at).
    outputs: Vec<(String, i64, usize, i64, Option<i64>)>,
    /// A transaction a confirm call recorded, for the next block.
    pending: Option<(String, TxSpec)>,
    /// Counter for fresh transaction ids and block hashes.
    serial: u64,
    /// Created assignments: (asset, id).
    assignments: Vec<(usize, i64)>,
    /// The registered user holding the fourth GAID, while there is one.
    fourth: Option<i64>,
}

impl Walk {
    fn fresh(&mut self) -> String {
        self.serial += 1;
        format!("{:064x}", self.serial)
    }

    fn tip(&self) -> i64 {
        self.hashes.len() as i64
    }

    fn unspent(&self) -> Vec<usize> {
        (0..self.outputs.len())
            .filter(|i| self.outputs[*i].4.is_none() && self.outputs[*i].3 <= self.tip())
            .collect()
    }
}

fn owner(code: usize) -> OutputOwner {
    match code {
        0 => OutputOwner::Treasury,
        5 => OutputOwner::Burn,
        n => OutputOwner::Wallet {
            wid: fixtures::wid_of(GAIDS[n - 1]),
            gaid: GAIDS[n - 1].to_string(),
        },
    }
}

fn new_outputs(txid: &str, spec: &TxSpec, height: i64) -> Vec<NewAssetOutput> {
    spec.outputs
        .iter()
        .enumerate()
        .map(|(vout, (code, is_token, amount))| NewAssetOutput {
            txid: txid.to_string(),
            vout: vout as i64,
            asset_uuid: ASSETS[spec.asset].to_string(),
            is_token: *is_token,
            amount: *amount,
            script_pubkey: "0014".into(),
            owner: owner(*code),
            asset_blinder: UNKNOWN_BLINDER.into(),
            amount_blinder: UNKNOWN_BLINDER.into(),
            height,
        })
        .collect()
}

/// Issuers, assets, wallets and registered users of the walks; returns the first issuer's id
/// and its two users.
async fn setup(store: &Store) -> (i64, [i64; 2]) {
    let a = fixtures::issuer(store, ASSET_ISSUERS[0]).await;
    let b = fixtures::issuer(store, ASSET_ISSUERS[2]).await;
    for (uuid, issuer) in ASSETS.iter().zip([a, a, b]) {
        let asset = NewAsset {
            name: "Aggregated".into(),
            ticker: "AGG".into(),
            is_confidential: false,
            transfer_restricted: false,
            ..fixtures::new_asset(issuer, uuid)
        };
        let issuance = IssuanceTx {
            asset_id: format!("{:064x}", uuid.len() + issuer as usize),
            ..fixtures::without_token(fixtures::issuance_tx(
                0,
                &format!(
                    "{:064x}",
                    0xdead_0000u64 + issuer as u64 * 7 + uuid.len() as u64
                ),
            ))
        };
        fixtures::issued_asset(store, &asset, &issuance).await;
    }
    for gaid in GAIDS {
        fixtures::registered_wallet(store, gaid).await;
    }
    let u1 = fixtures::registered_user(store, a, "One", Some(GAIDS[0])).await;
    let u2 = fixtures::registered_user(store, a, "Two", Some(GAIDS[1])).await;
    fixtures::registered_user(store, b, "Three", Some(GAIDS[2])).await;
    (a, [u1, u2])
}

/// Applies a block of `specs` (and the pending confirmed transaction, if any) on the tip.
async fn apply_block(store: &Store, walk: &mut Walk, specs: &[TxSpec]) {
    let height = walk.tip() + 1;
    let prev = walk
        .hashes
        .last()
        .cloned()
        .unwrap_or_else(|| "00".repeat(32));
    let hash = walk.fresh();
    let mut update = BlockUpdate {
        block: IndexedBlock {
            height,
            block_hash: hash.clone(),
            prev_hash: prev,
            block_time: 1_700_000_000 + height,
        },
        txs: vec![],
        outputs: vec![],
        spends: vec![],
    };
    let mut txs: Vec<(String, TxSpec)> = walk.pending.take().into_iter().collect();
    for spec in specs {
        txs.push((walk.fresh(), spec.clone()));
    }
    for (position, (txid, spec)) in txs.iter().enumerate() {
        update.txs.push(IndexedTx {
            asset_uuid: ASSETS[spec.asset].to_string(),
            txid: txid.clone(),
            position: position as i64 + 1,
            kind: KINDS[spec.kind],
        });
        for (vin, (pick, lost)) in spec.spends.iter().enumerate() {
            let unspent = walk.unspent();
            if unspent.is_empty() {
                break;
            }
            let index = unspent[pick % unspent.len()];
            let spent = &mut walk.outputs[index];
            spent.4 = Some(height);
            update.spends.push(OutputSpend {
                txid: spent.0.clone(),
                vout: spent.1,
                spent_txid: txid.clone(),
                spent_vin: vin as i64,
                lost: *lost,
            });
        }
        for output in new_outputs(txid, spec, height) {
            if !walk
                .outputs
                .iter()
                .any(|o| o.0 == *txid && o.1 == output.vout)
            {
                walk.outputs
                    .push((txid.clone(), output.vout, spec.asset, height, None));
            }
            update.outputs.push(output);
        }
    }
    store.apply_block(&update).await.unwrap();
    walk.hashes.push(hash);
}

async fn run_step(store: &Store, walk: &mut Walk, step: &Step, issuer: i64, users: [i64; 2]) {
    match step {
        Step::Block(specs) => apply_block(store, walk, specs).await,
        Step::Reorg(depth) => {
            let height = (walk.tip() - depth).max(0);
            store.rollback_to(height).await.unwrap();
            walk.hashes.truncate(height as usize);
            walk.outputs.retain(|o| o.3 <= height);
            for output in &mut walk.outputs {
                if output.4.is_some_and(|at| at > height) {
                    output.4 = None;
                }
            }
            walk.pending = None;
        }
        Step::Confirm(spec) => {
            if walk.pending.is_none() {
                let txid = walk.fresh();
                let height = walk.tip() + 1;
                let outputs = new_outputs(&txid, spec, height);
                store.record_asset_outputs(&outputs).await.unwrap();
                for output in &outputs {
                    walk.outputs
                        .push((txid.clone(), output.vout, spec.asset, height, None));
                }
                walk.pending = Some((txid, spec.clone()));
            }
        }
        Step::Blacklist(pick, flag) => {
            if !walk.outputs.is_empty() {
                let (txid, vout, asset, _, _) = walk.outputs[pick % walk.outputs.len()].clone();
                store
                    .set_outputs_blacklisted(ASSETS[asset], &[(txid, vout)], *flag)
                    .await
                    .unwrap();
            }
        }
        Step::Assign(asset, user, amount) => {
            let new = amphora_store::NewAssignment {
                issuer_id: issuer,
                asset_uuid: ASSETS[*asset].to_string(),
                input: amphora_core::assignment::AssignmentInput {
                    registered_user: users[*user],
                    amount: *amount,
                    ready_for_distribution: false,
                    vesting_timestamp: None,
                },
                creator_manager_id: None,
            };
            // Refused when the issuance is not confirmed twice or the treasury is short.
            if let Ok(created) = store.create_assignment(&new).await {
                walk.assignments.push((*asset, created.id));
            }
        }
        Step::ToggleUser => match walk.fourth.take() {
            Some(id) => store.delete_registered_user(issuer, id).await.unwrap(),
            None => {
                let user = store
                    .create_registered_user(issuer, "Four", false, Some(GAIDS[3]), None)
                    .await
                    .unwrap();
                walk.fourth = Some(user.id);
            }
        },
        Step::Unassign(pick) => {
            if !walk.assignments.is_empty() {
                let (asset, id) = walk.assignments.remove(pick % walk.assignments.len());
                store
                    .delete_assignment(issuer, ASSETS[asset], id)
                    .await
                    .unwrap();
            }
        }
    }
}

/// The ownerships JSON of `asset` at `height`, as its issuer sees it.
pub(crate) async fn issuer_json(store: &Store, asset: &str, height: Option<i64>) -> String {
    versioned_json(store, asset, height).await.json
}

async fn versioned_json(store: &Store, asset: &str, height: Option<i64>) -> HoldingsJson {
    let at = ASSETS
        .iter()
        .position(|a| *a == asset)
        .expect("one of ASSETS");
    let issuer = store.issuer_by_username(ASSET_ISSUERS[at]).await.unwrap();
    let issuer = issuer.expect("the asset's issuer").id;
    let json = store.holdings_json(issuer, asset, height).await.unwrap();
    let json = json.unwrap_or_else(|| panic!("{asset}: its issuer sees it"));
    let version = store.holders_version(issuer, asset).await.unwrap();
    assert_eq!(
        version,
        Some(json.version),
        "{asset}: the version read alone"
    );
    json
}

/// An asset's holder-rows version and the reports it stands for: at the tip, then at each
/// height from 0 to the tip.
struct VersionedReports {
    version: i64,
    tip: String,
    past: Vec<String>,
}

async fn versioned_reports(store: &Store, asset: &str, tip: i64) -> VersionedReports {
    let at_tip = versioned_json(store, asset, None).await;
    let mut past = Vec::new();
    for height in 0..=tip {
        past.push(versioned_json(store, asset, Some(height)).await.json);
    }
    VersionedReports {
        version: at_tip.version,
        tip: at_tip.json,
        past,
    }
}

/// Asserts that `now` is not older than `before`, and that while the version stayed the same
/// so did every report both cover (what lets the server answer from a kept report).
fn assert_version_covers(asset: &str, before: &VersionedReports, now: &VersionedReports) {
    assert!(
        now.version >= before.version,
        "{asset}: the version went back"
    );
    if now.version == before.version {
        assert_eq!(
            now.tip, before.tip,
            "{asset}: the tip report changed, not its version"
        );
        for (height, (then, now)) in before.past.iter().zip(&now.past).enumerate() {
            assert_eq!(
                now, then,
                "{asset} at {height}: the report changed, not its version"
            );
        }
    }
}

/// Random walks (a fixed seed, so a failure reproduces), each checked after every step and
/// started from an empty index (the previous walk rolled back entirely).
async fn aggregates_equal_history_over_random_walks(store: Store) {
    let (issuer, users) = setup(&store).await;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::from_seed(
            proptest::test_runner::RngAlgorithm::ChaCha,
            &[7; 32],
        ),
    );
    let strategy = prop::collection::vec(step(), 10..40);
    let mut serial = 0;
    let mut fourth = None;
    let mut reports: [Option<VersionedReports>; 3] = [None, None, None];
    for _ in 0..6 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let mut walk = Walk {
            serial,
            ..Walk::default()
        };
        walk.fourth = fourth;
        for step in &steps {
            run_step(&store, &mut walk, step, issuer, users).await;
            for (at, asset) in ASSETS.iter().enumerate() {
                assert_aggregates_match(&store, asset).await;
                let now = versioned_reports(&store, asset, walk.tip()).await;
                if let Some(before) = &reports[at] {
                    assert_version_covers(asset, before, &now);
                }
                reports[at] = Some(now);
            }
        }
        store.rollback_to(-1).await.unwrap();
        for asset in ASSETS {
            assert_aggregates_match(&store, asset).await;
            let totals = store.asset_totals(asset).await.unwrap();
            assert_eq!(
                (totals.issued, totals.burned),
                (0, 0),
                "{asset} after the reset"
            );
        }
        serial = walk.serial;
        fourth = walk.fourth;
    }
}
