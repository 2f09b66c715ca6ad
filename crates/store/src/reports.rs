//! Report queries over the chain index: holdings (at the tip or a past height), asset totals,
//! the outputs and transactions of an asset with their registered users, GAID balances, and
//! the two issuer edits of indexed outputs (blacklisting and blinders).
//!
//! Balances follow the index contract: an output counts at height `H` when it confirmed at or
//! below `H` and was not spent at or below `H`; burn outputs never count; an output spent by an
//! unattributed transaction (lost) stops counting from the height of that spend.

use crate::chain::{AssetOutput, OutputRow, TxKind};
use crate::{with_pool, Conflict, Result, Store, StoreError};

/// What one holder holds of an asset (not its reissuance token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The issuer's treasury (true) or a registered wallet (false).
    pub is_treasury: bool,
    /// The wallet's GAID (`None` for the treasury).
    pub gaid: Option<String>,
    /// The issuer's registered user holding that GAID, as `(id, name)`.
    pub registered_user: Option<(i64, String)>,
    /// Amount held, in base units.
    pub amount: i64,
}

/// Amounts and counts of an asset, computed from the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetTotals {
    /// Units created by the issuance transaction.
    pub issued: i64,
    /// Units created by reissuance transactions (net of asset units they spent).
    pub reissued: i64,
    /// Units paid to registered wallets by distribution transactions.
    pub distributed: i64,
    /// Units sent to provably unspendable outputs.
    pub burned: i64,
    /// Unspent units in blacklisted outputs.
    pub blacklisted: i64,
    /// Unspent reissuance tokens (not burnt, not lost).
    pub reissuance_tokens: i64,
    /// Registered users of the asset's issuer.
    pub registered_users: i64,
    /// Registered users of the issuer holding a positive amount now.
    pub active_registered_users: i64,
    /// Registered wallets (GAIDs) holding a positive amount now.
    pub active_green_subaccounts: i64,
}

/// An indexed output with the issuer's registered user behind its GAID, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOutput {
    /// The output and its state.
    pub output: AssetOutput,
    /// Id of the asset issuer's registered user holding the output's GAID.
    pub registered_user: Option<i64>,
}

/// A transaction of the index touching an asset, with its block time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTx {
    /// Transaction id.
    pub txid: String,
    /// Height of its block.
    pub height: i64,
    /// Index in its block.
    pub position: i64,
    /// What it did to the asset.
    pub kind: TxKind,
    /// Its block's timestamp (unix seconds), when the block is indexed.
    pub block_time: Option<i64>,
}

/// A GAID's balance of one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GaidBalance {
    /// Asset UUID.
    pub asset_uuid: String,
    /// Asset id (hex).
    pub asset_id: String,
    /// Unspent units held by the GAID, in base units.
    pub balance: i64,
}

/// `height <= $2 AND not spent at or below $2`, not burnt, the asset itself (not the token).
pub(crate) const HELD_AT: &str = "o.asset_uuid = $1 AND o.is_token = FALSE AND o.owner <> 'burn' \
     AND o.height <= $2 AND (o.spent_height IS NULL OR o.spent_height > $2)";

/// Joins the asset (`a`) and the link (`g`) from the output's GAID to the asset issuer's
/// registered user.
pub(crate) const GAID_JOIN: &str = "JOIN assets a ON a.uuid = o.asset_uuid \
     LEFT JOIN registered_user_gaids g ON g.gaid = o.gaid AND g.issuer_id = a.issuer_id";

/// `$1` = asset uuid, `$2` = height → the rows of [`Store::holdings_from_history`] as `h`
/// (`owner`, `gaid`, `user_id`, `user_name`, `amount`), unordered.
pub(crate) fn history_holdings_sql() -> String {
    format!(
        "SELECT h.owner, h.gaid, u.id AS user_id, u.name AS user_name, h.amount \
         FROM (SELECT o.owner, o.gaid, CAST(SUM(o.amount) AS BIGINT) AS amount \
               FROM asset_outputs o WHERE {HELD_AT} \
               GROUP BY o.owner, o.gaid HAVING SUM(o.amount) > 0) h \
         JOIN assets a ON a.uuid = $1 \
         LEFT JOIN registered_user_gaids g ON g.gaid = h.gaid AND g.issuer_id = a.issuer_id \
         LEFT JOIN registered_users u ON u.id = g.registered_user_id"
    )
}

/// Units of one kind of transaction, owner kind and token flag: `(kind, owner, is_token,
/// created (1) or spent (0), amount)`.
type Flow = (String, String, bool, i32, i64);

/// The rows [`Store::asset_totals`] reads: flows, `(burned, blacklisted, tokens)`,
/// `(active GAIDs, active registered users)` and the issuer's registered users.
type TotalsRows = (Vec<Flow>, (i64, i64, i64), (i64, i64), i64);

#[derive(sqlx::FromRow)]
pub(crate) struct HoldingRow {
    pub(crate) owner: String,
    pub(crate) gaid: Option<String>,
    pub(crate) user_id: Option<i64>,
    pub(crate) user_name: Option<String>,
    pub(crate) amount: i64,
}

impl From<HoldingRow> for Holding {
    fn from(row: HoldingRow) -> Holding {
        Holding {
            is_treasury: row.owner == "treasury",
            gaid: row.gaid,
            registered_user: row.user_id.zip(row.user_name),
            amount: row.amount,
        }
    }
}

/// An output row of the reports: the output and its GAID's registered user.
#[derive(sqlx::FromRow)]
pub(crate) struct ReportOutputRow {
    #[sqlx(flatten)]
    output: OutputRow,
    user_id: Option<i64>,
}

impl ReportOutputRow {
    pub(crate) fn into_output(self) -> Result<ReportOutput> {
        Ok(ReportOutput {
            output: self.output.into_output()?,
            registered_user: self.user_id,
        })
    }
}

/// The columns of a [`ReportOutputRow`] (over `asset_outputs o` and [`GAID_JOIN`]).
pub(crate) const REPORT_OUTPUT_COLUMNS: &str =
    "o.txid, o.vout, o.asset_uuid, o.is_token, o.amount, \
     o.script_pubkey, o.owner, o.wid, o.gaid, o.asset_blinder, o.amount_blinder, o.height, \
     o.spent_txid, o.spent_vin, o.spent_height, o.is_lost, o.is_blacklisted, \
     g.registered_user_id AS user_id";

impl Store {
    /// Who holds the asset at `height` (every recorded output when `None`), computed from the
    /// outputs' history: one row per holder (the treasury, or a GAID), positive amounts only,
    /// largest first. [`Store::holdings`] answers the same from the maintained balances at the
    /// tip; this is the computation they are checked against, and the one for past heights.
    ///
    /// Sums per holder first (read from the `asset_outputs_reports` index, in its order), then
    /// joins only the resulting rows to the registered users: a GAID has at most one
    /// registered user per issuer, so this groups exactly as grouping by the user would.
    pub async fn holdings_from_history(
        &self,
        asset_uuid: &str,
        height: Option<i64>,
    ) -> Result<Vec<Holding>> {
        let sql = format!("{} ORDER BY h.amount DESC, h.gaid", history_holdings_sql());
        let rows: Vec<HoldingRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(height.unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(Holding::from).collect())
    }

    /// The asset's amounts and holder counts (see [`AssetTotals`]), computed from every
    /// indexed output and transaction. [`Store::asset_totals`] reads the same figures from the
    /// maintained aggregates; this is the computation they are checked against.
    pub async fn asset_totals_from_history(&self, asset_uuid: &str) -> Result<AssetTotals> {
        // What each kind of transaction created and spent, per owner kind and token flag.
        let flows = "SELECT t.kind, o.owner, o.is_token, 1 AS created, \
             CAST(SUM(o.amount) AS BIGINT) AS amount \
             FROM asset_outputs o JOIN asset_txs t \
             ON t.asset_uuid = o.asset_uuid AND t.txid = o.txid \
             WHERE o.asset_uuid = $1 GROUP BY t.kind, o.owner, o.is_token \
             UNION ALL \
             SELECT t.kind, o.owner, o.is_token, 0 AS created, \
             CAST(SUM(o.amount) AS BIGINT) AS amount \
             FROM asset_outputs o JOIN asset_txs t \
             ON t.asset_uuid = o.asset_uuid AND t.txid = o.spent_txid \
             WHERE o.asset_uuid = $1 GROUP BY t.kind, o.owner, o.is_token";
        let state = "SELECT \
             CAST(COALESCE(SUM(CASE WHEN owner = 'burn' AND is_token = FALSE \
                  THEN amount ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN owner <> 'burn' AND is_token = FALSE \
                  AND spent_txid IS NULL AND is_blacklisted = TRUE \
                  THEN amount ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN owner <> 'burn' AND is_token = TRUE \
                  AND spent_txid IS NULL THEN amount ELSE 0 END), 0) AS BIGINT) \
             FROM asset_outputs WHERE asset_uuid = $1";
        let active = format!(
            "SELECT COUNT(DISTINCT o.gaid), COUNT(DISTINCT g.registered_user_id) \
             FROM asset_outputs o {GAID_JOIN} \
             WHERE {HELD_AT} AND o.owner = 'wallet' AND o.amount > 0"
        );
        let users = "SELECT COUNT(*) FROM registered_users \
             WHERE issuer_id = (SELECT issuer_id FROM assets WHERE uuid = $1)";
        let (flows, state, active, users): TotalsRows = with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let flows = sqlx::query_as(flows)
                .bind(asset_uuid)
                .fetch_all(&mut *tx)
                .await?;
            let state = sqlx::query_as(state)
                .bind(asset_uuid)
                .fetch_one(&mut *tx)
                .await?;
            let active = sqlx::query_as(&active)
                .bind(asset_uuid)
                .bind(i64::MAX)
                .fetch_one(&mut *tx)
                .await?;
            let users = sqlx::query_scalar(users)
                .bind(asset_uuid)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            (flows, state, active, users)
        });
        let mut totals = AssetTotals {
            burned: state.0,
            blacklisted: state.1,
            reissuance_tokens: state.2,
            registered_users: users,
            active_green_subaccounts: active.0,
            active_registered_users: active.1,
            ..AssetTotals::default()
        };
        for (kind, owner, is_token, created, amount) in flows {
            if is_token {
                continue;
            }
            let signed = if created == 1 { amount } else { -amount };
            match TxKind::parse(&kind)? {
                TxKind::Issuance => totals.issued += signed,
                TxKind::Reissuance => totals.reissued += signed,
                TxKind::Distribution if created == 1 && owner == "wallet" => {
                    totals.distributed += amount
                }
                _ => {}
            }
        }
        Ok(totals)
    }

    /// Every indexed output of the asset and of its token, with the registered user behind its
    /// GAID, in chain order (height, txid, vout).
    pub async fn report_outputs(&self, asset_uuid: &str) -> Result<Vec<ReportOutput>> {
        let sql = format!(
            "SELECT {REPORT_OUTPUT_COLUMNS} FROM asset_outputs o {GAID_JOIN} \
             WHERE o.asset_uuid = $1 ORDER BY o.height, o.txid, o.vout"
        );
        let rows: Vec<ReportOutputRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(ReportOutputRow::into_output).collect()
    }

    /// Every indexed transaction touching the asset, oldest first (height, then position).
    pub async fn report_txs(&self, asset_uuid: &str) -> Result<Vec<ReportTx>> {
        let sql = "SELECT t.txid, t.height, t.position, t.kind, b.block_time \
                   FROM asset_txs t LEFT JOIN chain_blocks b ON b.height = t.height \
                   WHERE t.asset_uuid = $1 ORDER BY t.height, t.position, t.txid";
        let rows: Vec<(String, i64, i64, String, Option<i64>)> =
            with_pool!(self, |pool| sqlx::query_as(sql)
                .bind(asset_uuid)
                .fetch_all(pool)
                .await?);
        rows.into_iter()
            .map(|(txid, height, position, kind, block_time)| {
                Ok(ReportTx {
                    txid,
                    height,
                    position,
                    kind: TxKind::parse(&kind)?,
                    block_time,
                })
            })
            .collect()
    }

    /// Blacklists (`true`) or whitelists (`false`) outputs of the asset, all or none: an
    /// outpoint that is not an indexed output of this asset is a [`StoreError::Conflict`]
    /// naming it, and nothing changes. Returns the outputs as stored afterwards, in the order
    /// given.
    pub async fn set_outputs_blacklisted(
        &self,
        asset_uuid: &str,
        outpoints: &[(String, i64)],
        blacklisted: bool,
    ) -> Result<Vec<ReportOutput>> {
        let select = format!(
            "SELECT {REPORT_OUTPUT_COLUMNS} FROM asset_outputs o {GAID_JOIN} \
             WHERE o.asset_uuid = $1 AND o.txid = $2 AND o.vout = $3"
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let mut outputs = Vec::with_capacity(outpoints.len());
            for (txid, vout) in outpoints {
                let changed = sqlx::query(
                    "UPDATE asset_outputs SET is_blacklisted = $4 \
                     WHERE asset_uuid = $1 AND txid = $2 AND vout = $3",
                )
                .bind(asset_uuid)
                .bind(txid)
                .bind(*vout)
                .bind(blacklisted)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Err(StoreError::Conflict(Conflict::NotAnOutputOfAsset {
                        txid: txid.clone(),
                        vout: *vout,
                    }));
                }
                let row: ReportOutputRow = sqlx::query_as(&select)
                    .bind(asset_uuid)
                    .bind(txid)
                    .bind(*vout)
                    .fetch_one(&mut *tx)
                    .await?;
                outputs.push(row.into_output()?);
            }
            tx.commit().await?;
            Ok(outputs)
        })
    }

    /// Stores the blinders of an indexed output of the asset (the caller has checked them
    /// against the output's commitments). [`StoreError::NotFound`] when the asset has no such
    /// output.
    pub async fn set_output_blinders(
        &self,
        asset_uuid: &str,
        txid: &str,
        vout: i64,
        asset_blinder: &str,
        amount_blinder: &str,
    ) -> Result<()> {
        let changed = with_pool!(self, |pool| sqlx::query(
            "UPDATE asset_outputs SET asset_blinder = $4, amount_blinder = $5 \
             WHERE asset_uuid = $1 AND txid = $2 AND vout = $3",
        )
        .bind(asset_uuid)
        .bind(txid)
        .bind(vout)
        .bind(asset_blinder)
        .bind(amount_blinder)
        .execute(pool)
        .await?
        .rows_affected());
        crate::error::expect_found(changed)
    }

    /// What a GAID holds of each of the issuer's assets it ever received (zero once spent),
    /// ordered by asset UUID.
    pub async fn gaid_balances(&self, issuer_id: i64, gaid: &str) -> Result<Vec<GaidBalance>> {
        let sql = "SELECT a.uuid, a.asset_id, CAST(COALESCE(SUM(CASE WHEN o.spent_txid IS NULL \
                   THEN o.amount ELSE 0 END), 0) AS BIGINT) \
                   FROM asset_outputs o JOIN assets a ON a.uuid = o.asset_uuid \
                   WHERE a.issuer_id = $1 AND o.gaid = $2 AND o.owner = 'wallet' \
                   AND o.is_token = FALSE AND a.deleted_at IS NULL AND a.asset_id IS NOT NULL \
                   GROUP BY a.uuid, a.asset_id ORDER BY a.uuid";
        let rows: Vec<(String, String, i64)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(issuer_id)
            .bind(gaid)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|(asset_uuid, asset_id, balance)| GaidBalance {
                asset_uuid,
                asset_id,
                balance,
            })
            .collect())
    }
}
