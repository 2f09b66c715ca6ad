//! Asset registry state: which assets the platform registered (and with which registry), the
//! entries of the platform's own registry, and the issuer's authorization flag.

use chrono::Utc;

use crate::assets::VISIBLE;
use crate::{with_pool, Asset, Conflict, Result, Store, StoreError};

/// Registry name of the platform's own registry.
pub const OWN_REGISTRY: &str = "own";

/// A registration to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRegistration {
    /// The platform's asset.
    pub asset_uuid: String,
    /// Its asset id (hex).
    pub asset_id: String,
    /// [`OWN_REGISTRY`] or the URL of the external registry the contract went to.
    pub registry: String,
    /// The registry record (JSON text), served by the own registry.
    pub entry_json: String,
}

impl Store {
    /// Records the registration of the issuer's asset and sets its `is_registered`, in one
    /// transaction. [`Conflict::AlreadyRegistered`] when the asset is
    /// registered already (also when two requests race), [`StoreError::NotFound`] when the
    /// issuer has no such issued asset.
    pub async fn record_registration(
        &self,
        issuer_id: i64,
        registration: &NewRegistration,
    ) -> Result<Asset> {
        let mark = format!(
            "UPDATE assets SET is_registered = TRUE \
             WHERE uuid = $1 AND issuer_id = $2 AND is_registered = FALSE AND {VISIBLE}"
        );
        let exists =
            format!("SELECT COUNT(*) FROM assets WHERE uuid = $1 AND issuer_id = $2 AND {VISIBLE}");
        let insert = "INSERT INTO asset_registrations \
                      (asset_uuid, asset_id, registry, entry_json, registered_at) \
                      VALUES ($1, $2, $3, $4, $5)";
        let uuid = registration.asset_uuid.as_str();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let marked = sqlx::query(&mark)
                .bind(uuid)
                .bind(issuer_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if marked == 0 {
                let (count,): (i64,) = sqlx::query_as(&exists)
                    .bind(uuid)
                    .bind(issuer_id)
                    .fetch_one(&mut *tx)
                    .await?;
                return Err(if count == 0 {
                    StoreError::NotFound
                } else {
                    StoreError::Conflict(Conflict::AlreadyRegistered)
                });
            }
            sqlx::query(insert)
                .bind(uuid)
                .bind(&registration.asset_id)
                .bind(&registration.registry)
                .bind(&registration.entry_json)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, Conflict::AlreadyRegistered))?;
            tx.commit().await?;
        });
        self.asset(issuer_id, uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The platform's own registry entry (JSON text) of `asset_id`, if it registered it there.
    /// Registrations stay public when the issuer deletes the asset's platform records.
    pub async fn own_registry_entry(&self, asset_id: &str) -> Result<Option<String>> {
        let sql =
            "SELECT entry_json FROM asset_registrations WHERE asset_id = $1 AND registry = $2";
        let row: Option<(String,)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(asset_id)
            .bind(OWN_REGISTRY)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(entry,)| entry))
    }

    /// Where the issuer's asset was registered: the registry ([`OWN_REGISTRY`] or a URL), if
    /// it was.
    pub async fn asset_registry(&self, issuer_id: i64, uuid: &str) -> Result<Option<String>> {
        let sql = "SELECT r.registry FROM asset_registrations r \
                   JOIN assets a ON a.uuid = r.asset_uuid \
                   WHERE r.asset_uuid = $1 AND a.issuer_id = $2";
        let row: Option<(String,)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(uuid)
            .bind(issuer_id)
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(registry,)| registry))
    }

    /// Sets the issuer's asset `is_authorized` (idempotent) and returns the asset.
    pub async fn set_asset_authorized(&self, issuer_id: i64, uuid: &str) -> Result<Asset> {
        let sql = format!(
            "UPDATE assets SET is_authorized = TRUE WHERE uuid = $1 AND issuer_id = $2 AND {VISIBLE}"
        );
        let done = with_pool!(self, |pool| sqlx::query(&sql)
            .bind(uuid)
            .bind(issuer_id)
            .execute(pool)
            .await?
            .rows_affected());
        crate::error::expect_found(done)?;
        self.asset(issuer_id, uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
