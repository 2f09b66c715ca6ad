//! The paged reports against the whole report they page: on both engines, every order,
//! direction, window and height range of an asset's transactions and activity answers exactly
//! the rows the full lists (sorted and cut in memory, as the API did before) give, with more
//! rows than a page.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use amphora_store::{
    ActivityOrder, Heights, OutputOwner, ReportOutput, ReportTx, Store, TxKind, TxOrder, Window,
};

use crate::contract::{on_postgres, on_sqlite};
use crate::reports::{fixture, history, lose_bobs_output, ASSET};

contract!(
    transaction_pages_match_the_full_list,
    activity_pages_match_the_full_list,
);

/// Windows around both ends of a list of `len` rows.
fn windows(len: i64) -> Vec<(i64, i64)> {
    let mut windows = Vec::new();
    for start in [-(len + 2), -len, -2, -1, 0, 1, 2, len, len + 1] {
        for count in [0, 1, 2, len + 5] {
            windows.push((start, count));
        }
    }
    windows
}

/// `rows` sorted by `compare` (stable over their chain order), reversed when descending, and
/// cut to the window: the paging the API did in memory.
fn cut<T: Clone>(rows: &[T], compare: impl Fn(&T, &T) -> Ordering, window: Window) -> Vec<T> {
    let mut rows = rows.to_vec();
    rows.sort_by(compare);
    if window.descending {
        rows.reverse();
    }
    let len = rows.len() as i64;
    let first = if window.start >= 0 {
        (window.start - 1).max(0)
    } else {
        (len + window.start).max(0)
    };
    rows.into_iter()
        .skip(first as usize)
        .take(window.count as usize)
        .collect()
}

const HEIGHTS: [Heights; 4] = [
    Heights {
        start: None,
        stop: None,
    },
    Heights {
        start: Some(2),
        stop: None,
    },
    Heights {
        start: None,
        stop: Some(3),
    },
    Heights {
        start: Some(3),
        stop: Some(4),
    },
];

fn in_heights(heights: Heights, height: i64) -> bool {
    heights.start.is_none_or(|h| height >= h) && heights.stop.is_none_or(|h| height <= h)
}

/// How the old in-memory paging ordered two rows for one sort key.
type Compare<T> = fn(&T, &T) -> Ordering;

/// Every case the paged report is checked in: each height range, order, window around both
/// ends and direction, with the rows the old in-memory paging of `all` answered.
fn cases<T: Clone, O: Copy>(
    all: &[T],
    height: fn(&T) -> i64,
    orders: &[(O, Compare<T>)],
) -> Vec<(O, Heights, Window, Vec<T>)> {
    let mut cases = Vec::new();
    for heights in HEIGHTS {
        let rows: Vec<T> = all
            .iter()
            .filter(|r| in_heights(heights, height(r)))
            .cloned()
            .collect();
        for &(order, compare) in orders {
            for (start, count) in windows(rows.len() as i64) {
                for descending in [false, true] {
                    let window = Window {
                        start,
                        count,
                        descending,
                    };
                    cases.push((order, heights, window, cut(&rows, compare, window)));
                }
            }
        }
    }
    cases
}

async fn transaction_pages_match_the_full_list(store: Store) {
    fixture(&store).await;
    history(&store).await;
    lose_bobs_output(&store).await;
    let all: Vec<ReportTx> = store.report_txs(ASSET).await.unwrap();
    let outputs: Vec<ReportOutput> = store.report_outputs(ASSET).await.unwrap();
    assert_eq!(all.len(), 6);
    let orders: [(TxOrder, Compare<ReportTx>); 3] = [
        (TxOrder::Chain, |_, _| Ordering::Equal),
        (TxOrder::Txid, |a, b| a.txid.cmp(&b.txid)),
        (TxOrder::Kind, |a, b| a.kind.as_str().cmp(b.kind.as_str())),
    ];
    for (order, heights, window, expected) in cases(&all, |t| t.height, &orders) {
        let page = store
            .report_tx_page(ASSET, order, heights, window)
            .await
            .unwrap();
        assert_eq!(page.txs, expected, "{order:?} {heights:?} {window:?}");
        let txids: BTreeSet<&str> = expected.iter().map(|t| t.txid.as_str()).collect();
        let touched: Vec<ReportOutput> = outputs
            .iter()
            .filter(|o| {
                txids.contains(o.output.output.txid.as_str())
                    || o.output
                        .spent
                        .as_ref()
                        .is_some_and(|(by, _, _)| txids.contains(by.as_str()))
            })
            .cloned()
            .collect();
        assert_eq!(page.outputs, touched, "{order:?} {window:?}");
    }
    let one = store.report_tx(ASSET, &all[1].txid).await.unwrap().unwrap();
    assert_eq!(one.txs, vec![all[1].clone()]);
    assert!(store
        .report_tx(ASSET, &"ff".repeat(32))
        .await
        .unwrap()
        .is_none());
}

/// One activity row as the API built it in memory: `(chain key, kind, description, txid,
/// vout, height, amount, registered user)`.
type Row = (
    (i64, i64, i64, usize, bool),
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
);

fn holder(output: &ReportOutput) -> String {
    match (&output.output.output.owner, output.registered_user) {
        (OutputOwner::Treasury, _) => "the treasury".to_string(),
        (OutputOwner::Burn, _) => "a burn output".to_string(),
        (OutputOwner::Wallet { gaid, .. }, Some(user)) => {
            format!("registered user {user} ({gaid})")
        }
        (OutputOwner::Wallet { gaid, .. }, None) => format!("wallet {gaid}"),
    }
}

/// The activity rows in chain order, built from the full lists.
fn activity_rows(txs: &[ReportTx], outputs: &[ReportOutput]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (index, output) in outputs.iter().enumerate() {
        let o = &output.output.output;
        if o.is_token {
            continue;
        }
        if let Some(tx) = txs.iter().find(|t| t.txid == o.txid) {
            let kind = match tx.kind {
                TxKind::Transfer => "transaction",
                other => other.as_str(),
            };
            rows.push((
                (tx.height, tx.position, o.vout, index, false),
                kind.to_string(),
                format!("{kind}: {} units to {}", o.amount, holder(output)),
                o.txid.clone(),
                o.vout,
                tx.height,
                o.amount,
                output.registered_user,
            ));
        }
        if let (true, Some((spender, _, _))) = (output.output.is_lost, &output.output.spent) {
            if let Some(tx) = txs.iter().find(|t| &t.txid == spender) {
                rows.push((
                    (tx.height, tx.position, o.vout, index, true),
                    "lost".to_string(),
                    format!(
                        "lost: {} units of {} spent by transaction {spender}, which the \
                         platform could not attribute",
                        o.amount,
                        holder(output)
                    ),
                    o.txid.clone(),
                    o.vout,
                    tx.height,
                    o.amount,
                    output.registered_user,
                ));
            }
        }
    }
    rows.sort_by_key(|a| a.0);
    rows
}

async fn activity_pages_match_the_full_list(store: Store) {
    fixture(&store).await;
    history(&store).await;
    lose_bobs_output(&store).await;
    let txs = store.report_txs(ASSET).await.unwrap();
    let outputs = store.report_outputs(ASSET).await.unwrap();
    let all = activity_rows(&txs, &outputs);
    assert_eq!(all.len(), 9, "{all:#?}");
    assert!(all.iter().any(|r| r.1 == "lost"));
    let orders: [(ActivityOrder, Compare<Row>); 8] = [
        (ActivityOrder::Chain, |_, _| Ordering::Equal),
        (ActivityOrder::Kind, |a, b| a.1.cmp(&b.1)),
        (ActivityOrder::Description, |a, b| a.2.cmp(&b.2)),
        (ActivityOrder::Txid, |a, b| a.3.cmp(&b.3)),
        (ActivityOrder::Vout, |a, b| a.4.cmp(&b.4)),
        (ActivityOrder::Height, |a, b| a.5.cmp(&b.5)),
        (ActivityOrder::Amount, |a, b| a.6.cmp(&b.6)),
        (ActivityOrder::RegisteredUser, |a, b| a.7.cmp(&b.7)),
    ];
    for (order, heights, window, expected) in cases(&all, |r| r.5, &orders) {
        let page = store
            .activity_page(ASSET, order, heights, window)
            .await
            .unwrap();
        let got: Vec<_> = page
            .iter()
            .map(|a| {
                (
                    a.kind.clone(),
                    a.description.clone(),
                    a.txid.clone(),
                    a.vout,
                    a.blockheight,
                    a.amount,
                    a.registered_user,
                )
            })
            .collect();
        let expected: Vec<_> = expected
            .into_iter()
            .map(|r| (r.1, r.2, r.3, r.4, r.5, r.6, r.7))
            .collect();
        assert_eq!(got, expected, "{order:?} {heights:?} {window:?}");
    }
    let first = store
        .activity_page(
            ASSET,
            ActivityOrder::Chain,
            Heights::default(),
            Window {
                start: 1,
                count: 1,
                descending: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(first[0].block_time, Some(1_700_000_060));
    assert_eq!(first[0].gaid, None);
}
