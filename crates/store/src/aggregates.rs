//! Reads of the maintained aggregates (migration `0014_maintained_aggregates`): per (asset,
//! holder) balances and per-asset totals that the database keeps up to date with triggers on
//! `asset_outputs`, `asset_txs` and `assignments`, in the transaction of each write (a block
//! applied by the follower, its rollback on a reorg, a confirm call recording outputs, a
//! blacklisting, an assignment create). The current-state reports read them instead of summing
//! every output; reports at a past height still compute from the history
//! ([`Store::holdings_from_history`]), and the aggregates are checked equal to that computation
//! by the store's tests.

use crate::assets::VISIBLE;
use crate::reports::{AssetTotals, Holding, HoldingRow};
use crate::{with_pool, Backend, Result, Store};

/// `$1` = asset uuid → the treasury's confirmed balance of the asset (not its token): its
/// maintained balance, i.e. the units in unspent (so not lost) treasury outputs. Blacklisted
/// outputs still count.
pub(crate) const TREASURY_BALANCE: &str = "SELECT CAST(COALESCE((SELECT amount \
     FROM asset_holder_balances WHERE asset_uuid = $1 AND owner = 'treasury' AND gaid = ''), 0) \
     AS BIGINT)";

/// `$1` = asset uuid → the sum of its open assignments (not deleted, not distributed), the
/// figure assignment creates check against the treasury under the asset's lock.
pub(crate) const ASSIGNED_OPEN: &str = "SELECT CAST(COALESCE((SELECT assigned - \
     assigned_distributed FROM asset_aggregates WHERE asset_uuid = $1), 0) AS BIGINT)";

/// `$1` = asset uuid → the rows of [`Store::holdings`] at the tip (`owner`, `gaid`, `user_id`,
/// `user_name`, `amount`), from the maintained holder rows, which carry the registered user of
/// their GAID (migration `0019_holder_report_rows`), unordered.
const TIP_HOLDINGS: &str = "SELECT owner, NULLIF(gaid, '') AS gaid, \
     registered_user_id AS user_id, registered_user_name AS user_name, amount \
     FROM asset_holder_balances WHERE asset_uuid = $1 AND amount > 0";

/// `a` = the asset's row, `g` = its `asset_aggregates` row (left-joined) → the columns of
/// [`TotalsRow`].
const TOTALS_COLUMNS: &str = "g.issued, g.reissued, g.distributed, g.burned, g.blacklisted, \
     g.reissuance_tokens, g.active_gaids, g.active_users, \
     COALESCE((SELECT i.registered_users FROM issuer_aggregates i \
               WHERE i.issuer_id = a.issuer_id), 0) AS registered_users";

/// The maintained columns of `asset_aggregates` that [`Store::asset_totals`] reads (`None`
/// before anything touched the asset), then the issuer's registered users.
#[derive(sqlx::FromRow)]
struct TotalsRow {
    issued: Option<i64>,
    reissued: Option<i64>,
    distributed: Option<i64>,
    burned: Option<i64>,
    blacklisted: Option<i64>,
    reissuance_tokens: Option<i64>,
    active_gaids: Option<i64>,
    active_users: Option<i64>,
    registered_users: i64,
}

impl From<TotalsRow> for AssetTotals {
    fn from(row: TotalsRow) -> Self {
        let number = |value: Option<i64>| value.unwrap_or(0);
        AssetTotals {
            issued: number(row.issued),
            reissued: number(row.reissued),
            distributed: number(row.distributed),
            burned: number(row.burned),
            blacklisted: number(row.blacklisted),
            reissuance_tokens: number(row.reissuance_tokens),
            active_green_subaccounts: number(row.active_gaids),
            active_registered_users: number(row.active_users),
            registered_users: row.registered_users,
        }
    }
}

/// What the summary report shows of an asset: its ids, its totals and its assigned units
/// ([`Store::asset_summary`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetSummary {
    /// Asset id (hex).
    pub asset_id: String,
    /// Reissuance token id (hex), when reissuable.
    pub reissuance_token_id: Option<String>,
    /// The totals of [`Store::asset_totals`].
    pub totals: AssetTotals,
    /// Units of the assignments that are not deleted (distributed ones included), the first
    /// figure of [`Store::assignment_totals`].
    pub assigned: i64,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    asset_id: Option<String>,
    reissuance_token_id: Option<String>,
    assigned: Option<i64>,
    #[sqlx(flatten)]
    totals: TotalsRow,
}

impl Store {
    /// Who holds the asset: at `height` computed from the history
    /// ([`Store::holdings_from_history`]), or, when `None`, every recorded output, read from the
    /// maintained per-holder balances. One row per holder (the treasury, or a GAID), positive
    /// amounts only, largest first.
    pub async fn holdings(&self, asset_uuid: &str, height: Option<i64>) -> Result<Vec<Holding>> {
        if height.is_some() {
            return self.holdings_from_history(asset_uuid, height).await;
        }
        // the treasury's GAID is '' in the holder rows, `NULL` in the report, which SQLite sorts
        // first (as '', so the report index's order serves) and PostgreSQL last
        let order = match self.backend {
            Backend::Sqlite(_) => "amount DESC, gaid",
            Backend::Postgres(_) => "amount DESC, NULLIF(gaid, '')",
        };
        let sql = format!("{TIP_HOLDINGS} ORDER BY {order}");
        let rows: Vec<HoldingRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        Ok(rows.into_iter().map(Holding::from).collect())
    }

    /// The asset's amounts and holder counts (see [`AssetTotals`]), from the maintained
    /// aggregates (one row of the asset, one of its issuer); equal to
    /// [`Store::asset_totals_from_history`].
    pub async fn asset_totals(&self, asset_uuid: &str) -> Result<AssetTotals> {
        let sql = format!(
            "SELECT {TOTALS_COLUMNS} FROM assets a \
             LEFT JOIN asset_aggregates g ON g.asset_uuid = a.uuid WHERE a.uuid = $1"
        );
        let row: Option<TotalsRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(AssetTotals::from).unwrap_or_default())
    }

    /// The summary of an asset the issuer sees (not deleted, issued), `None` for any other:
    /// [`Store::asset_totals`] and [`Store::assignment_totals`] with the asset's ids, read in one
    /// query (the report is polled, and each round trip costs more than the reading).
    pub async fn asset_summary(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
    ) -> Result<Option<AssetSummary>> {
        let sql = format!(
            "SELECT a.asset_id, a.reissuance_token_id, g.assigned, {TOTALS_COLUMNS} \
             FROM assets a LEFT JOIN asset_aggregates g ON g.asset_uuid = a.uuid \
             WHERE a.uuid = $1 AND a.issuer_id = $2 AND {VISIBLE}"
        );
        let row: Option<SummaryRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(issuer_id)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|row| AssetSummary {
            // a visible asset's issuance transaction is stored (status broadcasting or later)
            asset_id: row.asset_id.unwrap_or_default(),
            reissuance_token_id: row.reissuance_token_id,
            assigned: row.assigned.unwrap_or(0),
            totals: row.totals.into(),
        }))
    }

    /// An asset's assignment totals, base units: (assigned, distributed). `assigned` sums every
    /// assignment that is not deleted (distributed ones included); `distributed` those paid by
    /// a confirmed distribution transaction. Read from the maintained aggregates.
    pub async fn assignment_totals(&self, asset_uuid: &str) -> Result<(i64, i64)> {
        let sql = "SELECT assigned, assigned_distributed FROM asset_aggregates \
             WHERE asset_uuid = $1";
        let row: Option<(i64, i64)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(asset_uuid)
            .fetch_optional(pool)
            .await?);
        Ok(row.unwrap_or_default())
    }

    /// [`Store::assignment_totals`] summed over the assignments themselves: the computation
    /// the maintained figures are checked against.
    pub async fn assignment_totals_from_history(&self, asset_uuid: &str) -> Result<(i64, i64)> {
        Ok(with_pool!(self, |pool| sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT), \
             CAST(COALESCE(SUM(CASE WHEN is_distributed = TRUE THEN amount ELSE 0 END), 0) \
             AS BIGINT) FROM assignments WHERE asset_uuid = $1 AND deleted_at IS NULL"
        )
        .bind(asset_uuid)
        .fetch_one(pool)
        .await?))
    }

    /// Unspent units of the asset held by a GAID (0 when none), from the maintained balances.
    pub async fn gaid_asset_balance(&self, asset_uuid: &str, gaid: &str) -> Result<i64> {
        let sql = "SELECT CAST(COALESCE((SELECT amount FROM asset_holder_balances \
                   WHERE asset_uuid = $1 AND owner = 'wallet' AND gaid = $2), 0) AS BIGINT)";
        Ok(with_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(asset_uuid)
            .bind(gaid)
            .fetch_one(pool)
            .await?))
    }
}
