//! The ownerships report as JSON text built by the database (`GET /api/assets/{u}/ownerships`).
//!
//! At 10,000 holders and more, handing every holding row to Rust (sqlx decodes SQLite rows one
//! by one from its worker thread) and serialising them again costs several times the query
//! itself. Here the database aggregates the rows of [`Store::holdings`] into one JSON array
//! (`json_group_array` / `json_agg`, both with the report's order) and returns one text value.

use crate::aggregates::TIP_HOLDINGS;
use crate::reports::history_holdings_sql;
use crate::{with_pool, Backend, Result, Store};

/// The name the reports give the issuer's treasury as a holder (reference §7 `Ownership`).
pub const TREASURY_OWNER: &str = "ISSUER";

impl Store {
    /// The holdings of [`Store::holdings`] (the same rows, in the same order) as the JSON array
    /// of the ownerships report: one object per holder with `owner` ([`TREASURY_OWNER`] for the
    /// treasury, else the registered user's name or `null`), `amount`, `GAID` (`null` for the
    /// treasury) and `registered_user` (the user's id or `null`), in that key order.
    pub async fn holdings_json(&self, asset_uuid: &str, height: Option<i64>) -> Result<String> {
        let rows = match height {
            None => TIP_HOLDINGS.to_string(),
            Some(_) => history_holdings_sql(),
        };
        let (array, object) = match self.backend {
            Backend::Sqlite(_) => ("json_group_array", "json_object"),
            Backend::Postgres(_) => ("json_agg", "json_build_object"),
        };
        let sql = format!(
            "SELECT CAST(COALESCE({array}({object}(\
                 'owner', CASE WHEN h.owner = 'treasury' THEN '{TREASURY_OWNER}' ELSE h.user_name END, \
                 'amount', h.amount, \
                 'GAID', h.gaid, \
                 'registered_user', CASE WHEN h.owner = 'treasury' THEN NULL ELSE h.user_id END) \
               ORDER BY h.amount DESC, h.gaid), '[]') AS TEXT) \
             FROM ({rows}) h"
        );
        let json: String = with_pool!(self, |pool| {
            let query = sqlx::query_scalar(&sql).bind(asset_uuid);
            match height {
                Some(height) => query.bind(height).fetch_one(pool).await?,
                None => query.fetch_one(pool).await?,
            }
        });
        Ok(json)
    }
}
