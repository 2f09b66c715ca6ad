//! The paged reports of an asset (its transactions, its activity, its co-signing decisions),
//! filtered by height, ordered and windowed by the database: a page costs the rows it returns, not the asset's history.
//!
//! Every order ends with the chain order, so rows that tie on the sort column keep their chain
//! order; a descending page reverses the whole order (ties included). Text columns compare
//! bytewise on both engines.

use crate::chain::TxKind;
use crate::reports::{ReportOutputRow, GAID_JOIN, REPORT_OUTPUT_COLUMNS};
use crate::{with_pool, Engine, ReportOutput, ReportTx, Result, Store};

/// Which rows of an ordered report to return (AMP's `start`, `count` and `sortorder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First row, 1-based (`0` also means the first row); negative counts from the end
    /// (`-1` is the last row).
    pub start: i64,
    /// At most this many rows.
    pub count: i64,
    /// Reverse the order (ties included).
    pub descending: bool,
}

impl Window {
    /// The number of rows to skip when the report has `total` rows (only read when `start`
    /// is negative).
    pub(crate) fn offset(&self, total: i64) -> i64 {
        if self.start >= 0 {
            (self.start - 1).max(0)
        } else {
            (total + self.start).max(0)
        }
    }
}

/// The rows a page of `$window` skips, read in the transaction `$tx`: `$count` (a bound
/// `query_as` of the report's `COUNT(*)`) runs only when the window counts from the end.
macro_rules! page_offset {
    ($tx:expr, $window:expr, $count:expr) => {{
        let window: $crate::Window = $window;
        let total = if window.start < 0 {
            let (total,): (i64,) = $count.fetch_one(&mut *$tx).await?;
            total
        } else {
            0
        };
        window.offset(total)
    }};
}
pub(crate) use page_offset;

/// The block heights a report's rows lie between, both inclusive (`None`: unbounded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Heights {
    /// Lowest height.
    pub start: Option<i64>,
    /// Highest height.
    pub stop: Option<i64>,
}

/// The sort column of an asset's transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOrder {
    /// Chain order (height, position in the block): also the order by date and by height.
    Chain,
    /// Transaction id.
    Txid,
    /// Kind name ([`TxKind::as_str`]).
    Kind,
}

/// The sort column of an asset's activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityOrder {
    /// Chain order of the rows (by date).
    Chain,
    /// The row's type.
    Kind,
    /// The row's description.
    Description,
    /// The output's transaction id.
    Txid,
    /// The output's index.
    Vout,
    /// The row's block height.
    Height,
    /// The output's units.
    Amount,
    /// The receiving registered user (rows without one first).
    RegisteredUser,
}

/// The sort column of an asset's co-signing decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionOrder {
    /// Decision order (by date).
    Id,
    /// Units of the asset the transaction pays.
    Amount,
    /// Refused ones first.
    Approved,
}

/// A page of an asset's transactions with the indexed outputs they created or spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxPage {
    /// The transactions, in the page's order.
    pub txs: Vec<ReportTx>,
    /// The outputs (of the asset and its token) the transactions created or spent, in chain
    /// order (height, txid, vout).
    pub outputs: Vec<ReportOutput>,
}

/// One line of an asset's activity: an asset (not token) output an indexed transaction created,
/// or a lost output at the transaction that spent it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Activity {
    /// `issuance`, `reissuance`, `distribution`, `transaction`, `burn`, `unknown`, or `lost`.
    pub kind: String,
    /// Timestamp of the row's block (unix seconds), when the block is indexed.
    pub block_time: Option<i64>,
    /// What happened, in words.
    pub description: String,
    /// The output's transaction.
    pub txid: String,
    /// The output's index.
    pub vout: i64,
    /// Height of the transaction (for `lost`: of the spending one).
    pub blockheight: i64,
    /// Asset blinder (hex).
    pub asset_blinder: String,
    /// Amount blinder (hex).
    pub amount_blinder: String,
    /// Registered user behind the output's GAID.
    pub registered_user: Option<i64>,
    /// GAID of the receiving wallet.
    pub gaid: Option<String>,
    /// Units.
    pub amount: i64,
}

/// The asset's transactions in the height range (`$1` asset, `$2`/`$3` heights).
/// One transaction row of a page: txid, height, position in the block, kind, block time.
type TxRow = (String, i64, i64, String, Option<i64>);

const TXS: &str = "FROM asset_txs t LEFT JOIN chain_blocks b ON b.height = t.height \
     WHERE t.asset_uuid = $1 AND ($2 IS NULL OR t.height >= $2) AND ($3 IS NULL OR t.height <= $3)";

/// Who holds an output, in words (as the activity's description names it).
const HOLDER: &str = "CASE o.owner WHEN 'treasury' THEN 'the treasury' \
     WHEN 'burn' THEN 'a burn output' \
     ELSE CASE WHEN g.registered_user_id IS NULL THEN 'wallet ' || o.gaid \
     ELSE 'registered user ' || CAST(g.registered_user_id AS TEXT) || ' (' || o.gaid || ')' END END";

/// The activity type of a transaction kind.
const ACTIVITY_KIND: &str = "CASE t.kind WHEN 'transfer' THEN 'transaction' ELSE t.kind END";

impl Store {
    /// `expr` compared bytewise (PostgreSQL's default collation may not be).
    fn bytewise(&self, expr: &str) -> String {
        match self.engine() {
            Engine::Sqlite => expr.to_string(),
            Engine::Postgres => format!("{expr} COLLATE \"C\""),
        }
    }

    /// `ORDER BY` of `keys` (each then its direction), then `chain`.
    pub(crate) fn order_by(keys: &[String], chain: &[String], window: &Window) -> String {
        let dir = if window.descending { "DESC" } else { "ASC" };
        let keys: Vec<String> = keys
            .iter()
            .chain(chain)
            .map(|key| format!("{key} {dir}"))
            .collect();
        format!("ORDER BY {}", keys.join(", "))
    }

    /// One page of the asset's indexed transactions in `heights`, ordered by `order`, with the
    /// outputs they created or spent.
    pub async fn report_tx_page(
        &self,
        asset_uuid: &str,
        order: TxOrder,
        heights: Heights,
        window: Window,
    ) -> Result<TxPage> {
        let txid = self.bytewise("t.txid");
        let chain = [
            "t.height".to_string(),
            "t.position".to_string(),
            txid.clone(),
        ];
        let keys = match order {
            TxOrder::Chain => vec![],
            TxOrder::Txid => vec![txid],
            TxOrder::Kind => vec![self.bytewise("t.kind")],
        };
        let order_by = Store::order_by(&keys, &chain, &window);
        let count = format!("SELECT COUNT(*) {TXS}");
        let page = format!(
            "SELECT t.txid, t.height, t.position, t.kind, b.block_time {TXS} {order_by} \
             LIMIT $4 OFFSET $5"
        );
        let outputs = format!(
            "WITH page AS (SELECT t.txid {TXS} {order_by} LIMIT $4 OFFSET $5) \
             SELECT {REPORT_OUTPUT_COLUMNS} FROM asset_outputs o {GAID_JOIN} \
             WHERE o.asset_uuid = $1 AND (o.txid IN (SELECT txid FROM page) \
             OR o.spent_txid IN (SELECT txid FROM page)) ORDER BY o.height, o.txid, o.vout"
        );
        let (txs, outputs): (Vec<TxRow>, Vec<ReportOutputRow>) = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let offset = page_offset!(
                tx,
                window,
                sqlx::query_as(&count)
                    .bind(asset_uuid)
                    .bind(heights.start)
                    .bind(heights.stop)
            );
            let txs = sqlx::query_as(&page)
                .bind(asset_uuid)
                .bind(heights.start)
                .bind(heights.stop)
                .bind(window.count)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
            let outputs = sqlx::query_as(&outputs)
                .bind(asset_uuid)
                .bind(heights.start)
                .bind(heights.stop)
                .bind(window.count)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            (txs, outputs)
        });
        Ok(TxPage {
            txs: txs
                .into_iter()
                .map(|(txid, height, position, kind, block_time)| {
                    Ok(ReportTx {
                        txid,
                        height,
                        position,
                        kind: TxKind::parse(&kind)?,
                        block_time,
                    })
                })
                .collect::<Result<_>>()?,
            outputs: outputs
                .into_iter()
                .map(ReportOutputRow::into_output)
                .collect::<Result<_>>()?,
        })
    }

    /// One page of the asset's activity in `heights`, ordered by `order`: a row per asset (not
    /// token) output an indexed transaction of the asset created, and a `lost` row per output
    /// spent by a transaction the platform could not attribute, at that transaction.
    pub async fn activity_page(
        &self,
        asset_uuid: &str,
        order: ActivityOrder,
        heights: Heights,
        window: Window,
    ) -> Result<Vec<Activity>> {
        let columns = |kind: &str, description: &str| {
            format!(
                "SELECT {kind} AS kind, b.block_time, {description} AS description, o.txid, \
                 o.vout, t.height AS blockheight, t.position, o.height AS out_height, \
                 o.asset_blinder, o.amount_blinder, g.registered_user_id AS registered_user, \
                 CASE WHEN o.owner = 'wallet' THEN o.gaid END AS gaid, o.amount"
            )
        };
        let created = columns(
            ACTIVITY_KIND,
            &format!(
                "{ACTIVITY_KIND} || ': ' || CAST(o.amount AS TEXT) || ' units to ' || {HOLDER}"
            ),
        );
        let lost = columns(
            "'lost'",
            &format!(
                "'lost: ' || CAST(o.amount AS TEXT) || ' units of ' || {HOLDER} || \
                 ' spent by transaction ' || o.spent_txid || \
                 ', which the platform could not attribute'"
            ),
        );
        let rows = format!(
            "WITH activity AS ({created}, 0 AS lost FROM asset_outputs o {GAID_JOIN} \
             JOIN asset_txs t ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid \
             LEFT JOIN chain_blocks b ON b.height = t.height \
             WHERE o.asset_uuid = $1 AND NOT o.is_token \
             UNION ALL {lost}, 1 AS lost FROM asset_outputs o {GAID_JOIN} \
             JOIN asset_txs t ON t.asset_uuid = o.asset_uuid AND t.txid = o.spent_txid \
             LEFT JOIN chain_blocks b ON b.height = t.height \
             WHERE o.asset_uuid = $1 AND NOT o.is_token AND o.is_lost \
             AND o.spent_vin IS NOT NULL AND o.spent_height IS NOT NULL) \
             SELECT kind, block_time, description, txid, vout, blockheight, asset_blinder, \
             amount_blinder, registered_user, gaid, amount FROM activity \
             WHERE ($2 IS NULL OR blockheight >= $2) AND ($3 IS NULL OR blockheight <= $3)"
        );
        // Chain order: the transaction's place, the output's index, then the outputs' own
        // order (height, txid), an output's own row before its `lost` row.
        let chain = [
            "blockheight".to_string(),
            "position".to_string(),
            "vout".to_string(),
            "out_height".to_string(),
            self.bytewise("txid"),
            "lost".to_string(),
        ];
        let keys = match order {
            ActivityOrder::Chain => vec![],
            ActivityOrder::Kind => vec![self.bytewise("kind")],
            ActivityOrder::Description => vec![self.bytewise("description")],
            ActivityOrder::Txid => vec![self.bytewise("txid")],
            ActivityOrder::Vout => vec!["vout".to_string()],
            ActivityOrder::Height => vec!["blockheight".to_string()],
            ActivityOrder::Amount => vec!["amount".to_string()],
            ActivityOrder::RegisteredUser => vec![
                "CASE WHEN registered_user IS NULL THEN 0 ELSE 1 END".to_string(),
                "registered_user".to_string(),
            ],
        };
        let order_by = Store::order_by(&keys, &chain, &window);
        let count = format!("SELECT COUNT(*) FROM ({rows}) counted");
        let page = format!("{rows} {order_by} LIMIT $4 OFFSET $5");
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let offset = page_offset!(
                tx,
                window,
                sqlx::query_as(&count)
                    .bind(asset_uuid)
                    .bind(heights.start)
                    .bind(heights.stop)
            );
            let rows = sqlx::query_as(&page)
                .bind(asset_uuid)
                .bind(heights.start)
                .bind(heights.stop)
                .bind(window.count)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            rows
        }))
    }

    /// The asset's indexed transaction `txid` with the outputs it created or spent.
    pub async fn report_tx(&self, asset_uuid: &str, txid: &str) -> Result<Option<TxPage>> {
        let tx = "SELECT t.txid, t.height, t.position, t.kind, b.block_time \
                  FROM asset_txs t LEFT JOIN chain_blocks b ON b.height = t.height \
                  WHERE t.asset_uuid = $1 AND t.txid = $2";
        let outputs = format!(
            "SELECT {REPORT_OUTPUT_COLUMNS} FROM asset_outputs o {GAID_JOIN} \
             WHERE o.asset_uuid = $1 AND (o.txid = $2 OR o.spent_txid = $2) \
             ORDER BY o.height, o.txid, o.vout"
        );
        let (found, outputs): (Option<TxRow>, Vec<ReportOutputRow>) = with_pool!(self, |pool| {
            let mut db = pool.begin().await?;
            let found = sqlx::query_as(tx)
                .bind(asset_uuid)
                .bind(txid)
                .fetch_optional(&mut *db)
                .await?;
            let outputs = sqlx::query_as(&outputs)
                .bind(asset_uuid)
                .bind(txid)
                .fetch_all(&mut *db)
                .await?;
            db.commit().await?;
            (found, outputs)
        });
        let Some((txid, height, position, kind, block_time)) = found else {
            return Ok(None);
        };
        Ok(Some(TxPage {
            txs: vec![ReportTx {
                txid,
                height,
                position,
                kind: TxKind::parse(&kind)?,
                block_time,
            }],
            outputs: outputs
                .into_iter()
                .map(ReportOutputRow::into_output)
                .collect::<Result<_>>()?,
        }))
    }
}
