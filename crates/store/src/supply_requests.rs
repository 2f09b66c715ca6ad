//! The queries reissue and burn requests share, written once over the kind of request: record
//! one, list an asset's, find the oldest pending one, read one back.

use chrono::Utc;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::reissuances::{utxos_to_text, UtxoRef};
use crate::{with_pool, Result, Store};

/// A kind of supply request (reissuance, burn): its table and how its rows read.
pub(crate) trait SupplyRequest: Sized {
    /// The table holding the requests.
    const TABLE: &'static str;
    /// The column holding the outputs the request file named.
    const UTXOS_COLUMN: &'static str;
    /// The columns [`SupplyRequest::Row`] reads, in `SELECT` form.
    const COLUMNS: &'static str;
    /// One row of [`SupplyRequest::COLUMNS`].
    type Row: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin;
    /// The request a row holds.
    fn from_row(row: Self::Row) -> Result<Self>;
}

impl Store {
    /// Records a request of `amount` base units naming the outputs `utxos`.
    pub(crate) async fn create_supply_request<T: SupplyRequest>(
        &self,
        asset_uuid: &str,
        amount: i64,
        utxos: &[UtxoRef],
    ) -> Result<T> {
        let sql = format!(
            "INSERT INTO {} (asset_uuid, amount, {}, status, created_at) \
             VALUES ($1, $2, $3, 'requested', $4) RETURNING {}",
            T::TABLE,
            T::UTXOS_COLUMN,
            T::COLUMNS
        );
        let row: T::Row = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(amount)
            .bind(utxos_to_text(utxos))
            .bind(Utc::now())
            .fetch_one(pool)
            .await?);
        T::from_row(row)
    }

    /// The asset's requests, oldest first; with `confirmed_only`, only the completed ones.
    pub(crate) async fn supply_requests<T: SupplyRequest>(
        &self,
        asset_uuid: &str,
        confirmed_only: bool,
    ) -> Result<Vec<T>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE asset_uuid = $1 \
             AND ($2 = FALSE OR status = 'confirmed') ORDER BY id",
            T::COLUMNS,
            T::TABLE
        );
        let rows: Vec<T::Row> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(confirmed_only)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(T::from_row).collect()
    }

    /// The asset's oldest request still waiting for its transaction; with `amount`, the
    /// oldest one of exactly that amount.
    pub(crate) async fn pending_supply_request<T: SupplyRequest>(
        &self,
        asset_uuid: &str,
        amount: Option<i64>,
    ) -> Result<Option<T>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE asset_uuid = $1 AND status = 'requested' \
             AND ($2 IS NULL OR amount = $2) ORDER BY id LIMIT 1",
            T::COLUMNS,
            T::TABLE
        );
        let row: Option<T::Row> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .bind(amount)
            .fetch_optional(pool)
            .await?);
        row.map(T::from_row).transpose()
    }

    /// Request `id`, which exists.
    pub(crate) async fn supply_request<T: SupplyRequest>(&self, id: i64) -> Result<T> {
        let sql = format!("SELECT {} FROM {} WHERE id = $1", T::COLUMNS, T::TABLE);
        let row: T::Row = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_one(pool)
            .await?);
        T::from_row(row)
    }
}
