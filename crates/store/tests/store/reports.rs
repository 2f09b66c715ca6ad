//! Report queries over an index built the way the follower builds it (`apply_block`):
//! holdings now and at past heights, totals, outputs and transactions with their registered
//! users, GAID balances, blacklisting and blinders.

use amphora_store::{
    AssetSummary, BlockUpdate, Conflict, IndexedTx, NewAsset, NewAssetOutput, OutputOwner,
    OutputSpend, Store, StoreError, TxKind,
};
use amphora_testenv::store::{self as fixtures, indexed_block, txid};

use crate::contract::{on_postgres, on_sqlite};

contract!(
    holdings_follow_the_chain_and_past_heights,
    totals_count_issuance_distribution_burn_and_tokens,
    the_summary_is_the_totals_of_a_visible_asset,
    outputs_and_txs_carry_registered_users_and_times,
    blacklisting_is_all_or_nothing,
    blinders_are_stored_for_known_outputs_only,
    gaid_balances_are_scoped_to_the_issuer,
);

pub(crate) const ASSET: &str = "report-asset";
const GAID_A: &str = "GAreportA";
const GAID_B: &str = "GAreportB";
const GAID_C: &str = "GAreportC";

fn wallet(gaid: &str) -> OutputOwner {
    OutputOwner::Wallet {
        wid: fixtures::wid_of(gaid),
        gaid: gaid.to_string(),
    }
}

fn out(tx: u8, vout: i64, amount: i64, owner: OutputOwner, height: i64) -> NewAssetOutput {
    fixtures::asset_output(ASSET, &txid(tx), vout, amount, owner, height)
}

fn token(tx: u8, vout: i64, height: i64) -> NewAssetOutput {
    NewAssetOutput {
        is_token: true,
        ..out(tx, vout, 1, OutputOwner::Treasury, height)
    }
}

fn spend(tx: u8, vout: i64, by: u8, vin: i64, lost: bool) -> OutputSpend {
    OutputSpend {
        txid: txid(tx),
        vout,
        spent_txid: txid(by),
        spent_vin: vin,
        lost,
    }
}

fn block(
    height: i64,
    txs: &[(u8, TxKind)],
    outputs: Vec<NewAssetOutput>,
    spends: Vec<OutputSpend>,
) -> BlockUpdate {
    BlockUpdate {
        block: indexed_block(height),
        txs: txs
            .iter()
            .enumerate()
            .map(|(i, (n, kind))| IndexedTx {
                asset_uuid: ASSET.into(),
                txid: txid(*n),
                position: i as i64 + 1,
                kind: *kind,
            })
            .collect(),
        outputs,
        spends,
    }
}

/// The fixture: ids of the issuer and its registered users Alice (GAID A) and Bob (GAID B);
/// GAID C is a registered wallet of nobody's registered user.
pub(crate) struct Fixture {
    pub(crate) issuer: i64,
    pub(crate) alice: i64,
    pub(crate) bob: i64,
}

pub(crate) async fn fixture(store: &Store) -> Fixture {
    let issuer = fixtures::issuer(store, "report-issuer").await;
    let asset = NewAsset {
        name: "Reported".into(),
        ticker: "REP".into(),
        ..fixtures::new_asset(issuer, ASSET)
    };
    fixtures::issued_asset(store, &asset, &fixtures::issuance_tx(0xaa, &txid(1))).await;
    for gaid in [GAID_A, GAID_B, GAID_C] {
        fixtures::registered_wallet(store, gaid).await;
    }
    let alice = fixtures::registered_user(store, issuer, "Alice", Some(GAID_A)).await;
    let bob = fixtures::registered_user(store, issuer, "Bob", Some(GAID_B)).await;
    Fixture { issuer, alice, bob }
}

/// Issuance (1), distribution to Alice and Bob (2), reissuance (3), burn (4) and Alice's
/// transfer to C (5), in blocks 1–4.
pub(crate) async fn history(store: &Store) {
    let blocks = [
        block(
            1,
            &[(1, TxKind::Issuance)],
            vec![out(1, 0, 1_000, OutputOwner::Treasury, 1), token(1, 1, 1)],
            vec![],
        ),
        block(
            2,
            &[(2, TxKind::Distribution)],
            vec![
                out(2, 0, 300, wallet(GAID_A), 2),
                out(2, 1, 200, wallet(GAID_B), 2),
                out(2, 2, 500, OutputOwner::Treasury, 2),
            ],
            vec![spend(1, 0, 2, 0, false)],
        ),
        block(
            3,
            &[(3, TxKind::Reissuance)],
            vec![out(3, 0, 400, OutputOwner::Treasury, 3), token(3, 1, 3)],
            vec![spend(1, 1, 3, 0, false)],
        ),
        block(
            4,
            &[(4, TxKind::Burn), (5, TxKind::Transfer)],
            vec![
                out(4, 0, 100, OutputOwner::Burn, 4),
                out(4, 1, 300, OutputOwner::Treasury, 4),
                out(5, 0, 300, wallet(GAID_C), 4),
            ],
            vec![spend(3, 0, 4, 0, false), spend(2, 0, 5, 0, false)],
        ),
    ];
    for update in &blocks {
        store.apply_block(update).await.unwrap();
    }
}

/// Bob's output is spent by a transaction nobody can attribute (block 5).
pub(crate) async fn lose_bobs_output(store: &Store) {
    store
        .apply_block(&block(
            5,
            &[(6, TxKind::Unknown)],
            vec![],
            vec![spend(2, 1, 6, 0, true)],
        ))
        .await
        .unwrap();
}

/// `(owner label, gaid, amount)` of each holding.
async fn holders(store: &Store, height: Option<i64>) -> Vec<(String, Option<String>, i64)> {
    let mut rows: Vec<_> = store
        .holdings(ASSET, height)
        .await
        .unwrap()
        .into_iter()
        .map(|h| {
            let label = match (h.is_treasury, h.registered_user) {
                (true, _) => "ISSUER".to_string(),
                (false, Some((_, name))) => name,
                (false, None) => "-".to_string(),
            };
            (label, h.gaid, h.amount)
        })
        .collect();
    rows.sort();
    rows
}

fn some(gaid: &str) -> Option<String> {
    Some(gaid.to_string())
}

async fn holdings_follow_the_chain_and_past_heights(store: Store) {
    fixture(&store).await;
    assert!(store.holdings(ASSET, None).await.unwrap().is_empty());
    history(&store).await;
    lose_bobs_output(&store).await;

    assert_eq!(
        holders(&store, None).await,
        vec![
            ("-".into(), some(GAID_C), 300),
            ("ISSUER".into(), None, 800),
        ]
    );
    assert_eq!(holders(&store, Some(5)).await, holders(&store, None).await);
    assert_eq!(
        holders(&store, Some(4)).await,
        vec![
            ("-".into(), some(GAID_C), 300),
            ("Bob".into(), some(GAID_B), 200),
            ("ISSUER".into(), None, 800),
        ]
    );
    assert_eq!(
        holders(&store, Some(2)).await,
        vec![
            ("Alice".into(), some(GAID_A), 300),
            ("Bob".into(), some(GAID_B), 200),
            ("ISSUER".into(), None, 500),
        ]
    );
    assert_eq!(
        holders(&store, Some(1)).await,
        vec![("ISSUER".into(), None, 1_000)]
    );
    assert!(holders(&store, Some(0)).await.is_empty());

    // A reorg above 4 gives Bob his output back.
    store.rollback_to(4).await.unwrap();
    assert_eq!(holders(&store, None).await, holders(&store, Some(4)).await);
}

async fn totals_count_issuance_distribution_burn_and_tokens(store: Store) {
    fixture(&store).await;
    let empty = store.asset_totals(ASSET).await.unwrap();
    assert_eq!(empty.issued, 0);
    assert_eq!(empty.registered_users, 2);

    history(&store).await;
    let totals = store.asset_totals(ASSET).await.unwrap();
    assert_eq!(totals.issued, 1_000);
    assert_eq!(totals.reissued, 400);
    assert_eq!(
        totals.distributed, 500,
        "the treasury change is not distributed"
    );
    assert_eq!(totals.burned, 100);
    assert_eq!(totals.blacklisted, 0);
    assert_eq!(totals.reissuance_tokens, 1);
    assert_eq!(totals.registered_users, 2);
    assert_eq!(
        totals.active_registered_users, 1,
        "Bob (Alice sent hers to C)"
    );
    assert_eq!(totals.active_green_subaccounts, 2, "B and C");

    lose_bobs_output(&store).await;
    store
        .set_outputs_blacklisted(ASSET, &[(txid(4), 1)], true)
        .await
        .unwrap();
    let totals = store.asset_totals(ASSET).await.unwrap();
    assert_eq!(totals.active_registered_users, 0);
    assert_eq!(totals.active_green_subaccounts, 1);
    assert_eq!(totals.blacklisted, 300);
}

async fn the_summary_is_the_totals_of_a_visible_asset(store: Store) {
    let ids = fixture(&store).await;
    history(&store).await;
    lose_bobs_output(&store).await;
    let summary = store.asset_summary(ids.issuer, ASSET).await.unwrap();
    assert_eq!(
        summary,
        Some(AssetSummary {
            asset_id: txid(0xaa),
            reissuance_token_id: Some("bb".repeat(32)),
            totals: store.asset_totals(ASSET).await.unwrap(),
            assigned: store.assignment_totals(ASSET).await.unwrap().0,
        })
    );
    assert_eq!(summary.unwrap().totals.issued, 1_000);

    let other = fixtures::issuer(&store, "another-issuer").await;
    assert_eq!(store.asset_summary(other, ASSET).await.unwrap(), None);
    assert_eq!(
        store
            .asset_summary(ids.issuer, "no-such-asset")
            .await
            .unwrap(),
        None
    );
    store.delete_asset(ids.issuer, ASSET).await.unwrap();
    assert_eq!(store.asset_summary(ids.issuer, ASSET).await.unwrap(), None);
}

async fn outputs_and_txs_carry_registered_users_and_times(store: Store) {
    let ids = fixture(&store).await;
    history(&store).await;
    lose_bobs_output(&store).await;

    let outputs = store.report_outputs(ASSET).await.unwrap();
    assert_eq!(outputs.len(), 10);
    let find = |tx: u8, vout: i64| {
        outputs
            .iter()
            .find(|o| o.output.output.txid == txid(tx) && o.output.output.vout == vout)
            .unwrap()
    };
    assert_eq!(find(2, 0).registered_user, Some(ids.alice));
    assert_eq!(find(2, 1).registered_user, Some(ids.bob));
    assert!(find(2, 1).output.is_lost);
    assert_eq!(find(2, 1).output.spent, Some((txid(6), 0, 5)));
    assert_eq!(find(5, 0).registered_user, None);
    assert_eq!(find(1, 0).registered_user, None);
    assert!(find(3, 1).output.output.is_token);

    let txs = store.report_txs(ASSET).await.unwrap();
    let order: Vec<(String, i64, TxKind)> = txs
        .iter()
        .map(|t| (t.txid.clone(), t.height, t.kind))
        .collect();
    assert_eq!(
        order,
        vec![
            (txid(1), 1, TxKind::Issuance),
            (txid(2), 2, TxKind::Distribution),
            (txid(3), 3, TxKind::Reissuance),
            (txid(4), 4, TxKind::Burn),
            (txid(5), 4, TxKind::Transfer),
            (txid(6), 5, TxKind::Unknown),
        ]
    );
    assert_eq!(txs[0].block_time, Some(1_700_000_060));
    assert!(store.report_txs("no-such-asset").await.unwrap().is_empty());
}

async fn blacklisting_is_all_or_nothing(store: Store) {
    fixture(&store).await;
    history(&store).await;
    let err = store
        .set_outputs_blacklisted(ASSET, &[(txid(2), 2), (txid(9), 0)], true)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(Conflict::NotAnOutputOfAsset { txid: t, .. }) if *t == txid(9)),
        "{err:?}"
    );
    let untouched = store.report_outputs(ASSET).await.unwrap();
    assert!(untouched.iter().all(|o| !o.output.is_blacklisted));

    let listed = store
        .set_outputs_blacklisted(ASSET, &[(txid(5), 0), (txid(2), 2)], true)
        .await
        .unwrap();
    let got: Vec<(String, i64, bool)> = listed
        .iter()
        .map(|o| {
            (
                o.output.output.txid.clone(),
                o.output.output.vout,
                o.output.is_blacklisted,
            )
        })
        .collect();
    assert_eq!(got, vec![(txid(5), 0, true), (txid(2), 2, true)]);
    let back = store
        .set_outputs_blacklisted(ASSET, &[(txid(5), 0)], false)
        .await
        .unwrap();
    assert!(!back[0].output.is_blacklisted);
    let still = store.asset_output(&txid(2), 2).await.unwrap().unwrap();
    assert!(still.is_blacklisted);
}

async fn blinders_are_stored_for_known_outputs_only(store: Store) {
    fixture(&store).await;
    history(&store).await;
    let abf = "11".repeat(32);
    let vbf = "22".repeat(32);
    store
        .set_output_blinders(ASSET, &txid(1), 0, &abf, &vbf)
        .await
        .unwrap();
    let stored = store.asset_output(&txid(1), 0).await.unwrap().unwrap();
    assert_eq!(stored.output.asset_blinder, abf);
    assert_eq!(stored.output.amount_blinder, vbf);
    let err = store
        .set_output_blinders(ASSET, &txid(1), 7, &abf, &vbf)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    let err = store
        .set_output_blinders("other-asset", &txid(1), 0, &abf, &vbf)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

async fn gaid_balances_are_scoped_to_the_issuer(store: Store) {
    let ids = fixture(&store).await;
    history(&store).await;
    let balances = |gaid: &'static str, issuer: i64| {
        let store = store.clone();
        async move {
            store
                .gaid_balances(issuer, gaid)
                .await
                .unwrap()
                .into_iter()
                .map(|b| (b.asset_uuid, b.asset_id, b.balance))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        balances(GAID_C, ids.issuer).await,
        vec![(ASSET.to_string(), "aa".repeat(32), 300)]
    );
    assert_eq!(
        balances(GAID_A, ids.issuer).await,
        vec![(ASSET.to_string(), "aa".repeat(32), 0)],
        "Alice received the asset and sent it on"
    );
    let other = store.create_issuer("someone-else", "h").await.unwrap().id;
    assert!(balances(GAID_C, other).await.is_empty());
    assert!(balances("GAnobody", ids.issuer).await.is_empty());
    assert_eq!(store.gaid_asset_balance(ASSET, GAID_B).await.unwrap(), 200);
    assert_eq!(store.gaid_asset_balance(ASSET, GAID_A).await.unwrap(), 0);
}
