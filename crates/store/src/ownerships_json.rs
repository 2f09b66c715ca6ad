//! The ownerships report as JSON text built by the database (`GET /api/assets/{u}/ownerships`).
//!
//! At 10,000 holders and more, handing every holding row to Rust (sqlx decodes SQLite rows one
//! by one from its worker thread) and serialising them again costs several times the query
//! itself, and so does building one JSON object per holder in SQL. The holder rows
//! (`asset_holder_balances`, migration `0019_holder_report_rows`) carry their object of the
//! report as text, kept by the database in the transaction of every write: at the tip the
//! database concatenates those objects in the report's order, read from one index; at a past
//! height it sums the history per holder and puts each sum between the holder row's texts
//! around the amount. Either way one text value comes back, with the version of the holder rows
//! (migration `0020_holder_report_versions`) read in the same statement.

use sqlx::Row;

use crate::assets::VISIBLE;
use crate::reports::HELD_AT;
use crate::{with_pool, Backend, Result, Store};

/// The name the reports give the issuer's treasury as a holder (reference §7 `Ownership`);
/// migration `0019_holder_report_rows` writes it into the holder rows' texts.
pub const TREASURY_OWNER: &str = "ISSUER";

/// `$1` = asset uuid → the objects of the ownerships report at the tip, comma-separated
/// (`NULL` for none).
const TIP_SQLITE: &str = "SELECT group_concat(report_entry, ',' ORDER BY amount DESC, gaid) \
     FROM asset_holder_balances WHERE asset_uuid = $1 AND amount > 0";

/// [`TIP_SQLITE`] on PostgreSQL, which sorts the treasury's `NULL` GAID of the report last
/// among equal amounts.
const TIP_POSTGRES: &str = "SELECT string_agg(report_entry, ',' \
     ORDER BY amount DESC, NULLIF(gaid, '')) FROM asset_holder_balances \
     WHERE asset_uuid = $1 AND amount > 0";

/// `$1` = asset uuid, `$2` = height → the objects of the ownerships report at that height,
/// comma-separated (`NULL` for none): the sums of [`Store::holdings_from_history`], each
/// between its holder row's texts.
///
/// `CROSS JOIN` keeps the sums the outer loop on SQLite (PostgreSQL plans it as an inner join):
/// each sum then finds its holder row by primary key. Left to choose, SQLite's planner scanned
/// the sums once per holder row (measured: 8.3 s instead of milliseconds at 10,000 holders).
fn history_sql(aggregate: &str) -> String {
    format!(
        "SELECT {aggregate}(r.report_head || h.amount || r.report_tail, ',' \
             ORDER BY h.amount DESC, NULLIF(h.gaid, '')) \
         FROM (SELECT o.owner, COALESCE(o.gaid, '') AS gaid, CAST(SUM(o.amount) AS BIGINT) \
               AS amount FROM asset_outputs o WHERE {HELD_AT} \
               GROUP BY o.owner, o.gaid HAVING SUM(o.amount) > 0) h \
         CROSS JOIN asset_holder_balances r \
         WHERE r.asset_uuid = $1 AND r.owner = h.owner AND r.gaid = h.gaid"
    )
}

/// `$1` = asset uuid → the version of its holder rows (migration
/// `0020_holder_report_versions`; 0 before it has any).
const HOLDERS_VERSION: &str =
    "COALESCE((SELECT holders_version FROM asset_aggregates WHERE asset_uuid = $1), 0)";

/// `columns` (of `$1` = asset uuid), with `issuer` = the placeholder of the issuer's id → one
/// row of `columns` when the asset is one the issuer sees, no row otherwise: the check of the
/// asset and the reading in one round trip.
fn of_visible_asset(columns: &str, issuer: &str) -> String {
    format!("SELECT {columns} FROM assets WHERE uuid = $1 AND issuer_id = {issuer} AND {VISIBLE}")
}

/// The ownerships report of [`Store::holdings_json`] and the version of the holder rows it was
/// built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingsJson {
    /// [`Store::holdings_version`] when the report was read (in the same statement).
    pub version: i64,
    /// The JSON array.
    pub json: String,
}

impl Store {
    /// The version of the asset's holder rows (migration `0020_holder_report_versions`), for an
    /// asset the issuer sees (`None` for any other): while it is unchanged, so is every
    /// ownerships report of the asset, at the tip and at every past height.
    pub async fn holders_version(&self, issuer_id: i64, asset_uuid: &str) -> Result<Option<i64>> {
        let sql = of_visible_asset(HOLDERS_VERSION, "$2");
        Ok(with_pool!(self, |pool| sqlx::query_scalar(&sql)
            .bind(asset_uuid)
            .bind(issuer_id)
            .fetch_optional(pool)
            .await?))
    }

    /// The holdings of [`Store::holdings`] (the same rows, in the same order) as the JSON array
    /// of the ownerships report: one object per holder with `owner` ([`TREASURY_OWNER`] for the
    /// treasury, else the registered user's name or `null`), `amount`, `GAID` (`null` for the
    /// treasury) and `registered_user` (the user's id or `null`), in that key order; with the
    /// version of the holder rows read in the same statement. `None` when the asset is not one
    /// the issuer sees (deleted, not issued, another issuer's).
    pub async fn holdings_json(
        &self,
        issuer_id: i64,
        asset_uuid: &str,
        height: Option<i64>,
    ) -> Result<Option<HoldingsJson>> {
        let (tip, aggregate) = match self.backend {
            Backend::Sqlite(_) => (TIP_SQLITE, "group_concat"),
            Backend::Postgres(_) => (TIP_POSTGRES, "string_agg"),
        };
        let sql = match height {
            None => of_visible_asset(&format!("{HOLDERS_VERSION}, ({tip})"), "$2"),
            Some(_) => of_visible_asset(
                &format!("{HOLDERS_VERSION}, ({})", history_sql(aggregate)),
                "$3",
            ),
        };
        // the objects are copied once, from the database's value into the array (at 100,000
        // holders they are megabytes, and every request in flight holds its copies)
        let wrap = |objects: Option<&str>| {
            let objects = objects.unwrap_or_default();
            let mut json = String::with_capacity(objects.len() + 2);
            json.push('[');
            json.push_str(objects);
            json.push(']');
            json
        };
        let report = with_pool!(self, |pool| {
            let query = sqlx::query(&sql).bind(asset_uuid);
            let query = match height {
                None => query.bind(issuer_id),
                Some(height) => query.bind(height).bind(issuer_id),
            };
            match query.fetch_optional(pool).await? {
                Some(row) => Some(HoldingsJson {
                    version: row.try_get(0)?,
                    json: wrap(row.try_get(1)?),
                }),
                None => None,
            }
        });
        Ok(report)
    }
}
