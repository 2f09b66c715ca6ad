//! Issued assets: the issuance record and its recovery states, and the asset's editable
//! settings (authorization endpoint, lock, memo). Its required categories and treasury
//! addresses are in `asset_links`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::expect_found;
use crate::{with_pool, Conflict, Result, Store, StoreError};

/// Where an issuance stands. Stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuanceStatus {
    /// Recorded; the node has not produced a signed transaction yet.
    Pending,
    /// The signed transaction is stored and is being broadcast.
    Broadcasting,
    /// The node accepted the transaction.
    Broadcast,
    /// The issuance failed before a transaction was signed (or the transaction was refused).
    Failed,
}

impl IssuanceStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuanceStatus::Pending => "pending",
            IssuanceStatus::Broadcasting => "broadcasting",
            IssuanceStatus::Broadcast => "broadcast",
            IssuanceStatus::Failed => "failed",
        }
    }

    fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "pending" => IssuanceStatus::Pending,
            "broadcasting" => IssuanceStatus::Broadcasting,
            "broadcast" => IssuanceStatus::Broadcast,
            "failed" => IssuanceStatus::Failed,
            other => {
                return Err(StoreError::Database(sqlx::Error::Decode(
                    format!("unknown issuance status {other:?}").into(),
                )))
            }
        })
    }
}

/// What the issuer asked for, validated; recorded before the node is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAsset {
    /// Asset UUID (the API's `asset_uuid`).
    pub uuid: String,
    /// Owner.
    pub issuer_id: i64,
    /// Name.
    pub name: String,
    /// Issued amount in base units.
    pub amount: i64,
    /// Address receiving the asset.
    pub destination_address: String,
    /// Registry domain.
    pub domain: String,
    /// Ticker.
    pub ticker: String,
    /// Registry issuer public key (hex).
    pub pubkey: String,
    /// Registry precision.
    pub precision: i64,
    /// Whether the issued amounts are blinded.
    pub is_confidential: bool,
    /// Whether a reissuance token is created.
    pub is_reissuable: bool,
    /// Reissuance tokens created, in base units.
    pub reissuance_amount: i64,
    /// Address receiving the reissuance token (`""` when none).
    pub reissuance_address: String,
    /// Transfer-restricted (true) or issuer-tracked.
    pub transfer_restricted: bool,
    /// Issuer authorization callback.
    pub issuer_authorization_endpoint: Option<String>,
    /// Canonical registry contract JSON.
    pub contract_json: String,
    /// Contract hash, in its display (byte-reversed) form.
    pub contract_hash: String,
}

/// The signed issuance transaction and where the issuance sits in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuanceTx {
    /// Issued asset id (hex).
    pub asset_id: String,
    /// Reissuance token id (hex), when reissuable.
    pub reissuance_token_id: Option<String>,
    /// Signed transaction (hex).
    pub tx_hex: String,
    /// Its txid.
    pub txid: String,
    /// Input carrying the issuance.
    pub vin: i64,
    /// Output paying the asset.
    pub asset_vout: i64,
    /// Output paying the reissuance token.
    pub reissuance_vout: Option<i64>,
}

/// An asset row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// The issuance as requested.
    pub issuance: NewAsset,
    /// Issuance state.
    pub status: IssuanceStatus,
    /// Why the issuance failed (status `Failed`).
    pub failure: Option<String>,
    /// The signed transaction, once there is one.
    pub tx: Option<IssuanceTx>,
    /// Asset blinding factor of the asset output (hex), when known.
    pub issuance_assetblinder: Option<String>,
    /// Asset blinding factor of the token output (hex), when known.
    pub issuance_tokenblinder: Option<String>,
    /// Registered with the Liquid Asset Registry.
    pub is_registered: bool,
    /// Authorized for transfers through the platform.
    pub is_authorized: bool,
    /// Locked: the co-signer refuses its transfers.
    pub is_locked: bool,
    /// Issuer's memo.
    pub memo: String,
    /// Ids of the categories the asset requires.
    pub requirements: Vec<i64>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A managed asset as the co-signer sees it ([`Store::cosign_asset_by_id`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignAsset {
    /// The asset, with its rules as they are (or were when it was deleted).
    pub asset: Asset,
    /// True when the id looked up is the asset's reissuance token.
    pub is_token: bool,
    /// True when the issuer deleted the asset (its rules still hold).
    pub is_deleted: bool,
    /// Its treasury addresses (`treasury-addresses/add`).
    pub treasury_addresses: Vec<String>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AssetRow {
    uuid: String,
    issuer_id: i64,
    name: String,
    amount: i64,
    destination_address: String,
    domain: String,
    ticker: String,
    pubkey: String,
    asset_precision: i64,
    is_confidential: bool,
    is_reissuable: bool,
    reissuance_amount: i64,
    reissuance_address: String,
    transfer_restricted: bool,
    issuer_authorization_endpoint: Option<String>,
    contract_json: String,
    contract_hash: String,
    status: String,
    failure: Option<String>,
    asset_id: Option<String>,
    reissuance_token_id: Option<String>,
    tx_hex: Option<String>,
    txid: Option<String>,
    vin: Option<i64>,
    asset_vout: Option<i64>,
    reissuance_vout: Option<i64>,
    issuance_assetblinder: Option<String>,
    issuance_tokenblinder: Option<String>,
    is_registered: bool,
    is_authorized: bool,
    is_locked: bool,
    memo: String,
    created_at: DateTime<Utc>,
}

pub(crate) const ASSET_COLUMNS: &str =
    "uuid, issuer_id, name, amount, destination_address, domain, ticker, \
     pubkey, asset_precision, is_confidential, is_reissuable, reissuance_amount, \
     reissuance_address, transfer_restricted, issuer_authorization_endpoint, contract_json, \
     contract_hash, status, failure, asset_id, reissuance_token_id, tx_hex, txid, vin, \
     asset_vout, reissuance_vout, issuance_assetblinder, issuance_tokenblinder, is_registered, \
     is_authorized, is_locked, memo, created_at";

/// The statuses of an issued asset: its signed transaction is stored (broadcasting) or sent.
macro_rules! issued_statuses {
    () => {
        "status IN ('broadcasting', 'broadcast')"
    };
}

/// An issued asset's row ([`issued_statuses`]).
pub(crate) const ISSUED: &str = issued_statuses!();

/// Rows an issuer sees: not deleted, and issued (a transaction exists).
pub(crate) const VISIBLE: &str = concat!("deleted_at IS NULL AND ", issued_statuses!());

impl AssetRow {
    pub(crate) fn into_asset(self, requirements: Vec<i64>) -> Result<Asset> {
        let tx = match (self.asset_id, self.tx_hex, self.txid) {
            (Some(asset_id), Some(tx_hex), Some(txid)) => Some(IssuanceTx {
                asset_id,
                reissuance_token_id: self.reissuance_token_id,
                tx_hex,
                txid,
                vin: self.vin.unwrap_or_default(),
                asset_vout: self.asset_vout.unwrap_or_default(),
                reissuance_vout: self.reissuance_vout,
            }),
            _ => None,
        };
        Ok(Asset {
            issuance: NewAsset {
                uuid: self.uuid,
                issuer_id: self.issuer_id,
                name: self.name,
                amount: self.amount,
                destination_address: self.destination_address,
                domain: self.domain,
                ticker: self.ticker,
                pubkey: self.pubkey,
                precision: self.asset_precision,
                is_confidential: self.is_confidential,
                is_reissuable: self.is_reissuable,
                reissuance_amount: self.reissuance_amount,
                reissuance_address: self.reissuance_address,
                transfer_restricted: self.transfer_restricted,
                issuer_authorization_endpoint: self.issuer_authorization_endpoint,
                contract_json: self.contract_json,
                contract_hash: self.contract_hash,
            },
            status: IssuanceStatus::parse(&self.status)?,
            failure: self.failure,
            tx,
            issuance_assetblinder: self.issuance_assetblinder,
            issuance_tokenblinder: self.issuance_tokenblinder,
            is_registered: self.is_registered,
            is_authorized: self.is_authorized,
            is_locked: self.is_locked,
            memo: self.memo,
            requirements,
            created_at: self.created_at,
        })
    }
}

fn assemble(rows: Vec<AssetRow>, links: Vec<(String, i64)>) -> Result<Vec<Asset>> {
    let mut requirements: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (asset, category) in links {
        requirements.entry(asset).or_default().push(category);
    }
    rows.into_iter()
        .map(|row| {
            let required = requirements.remove(&row.uuid).unwrap_or_default();
            row.into_asset(required)
        })
        .collect()
}

impl Store {
    /// Records an issuance before the node is asked for anything (status pending), owned by
    /// nobody: issuance recovery may take it over at once (see
    /// [`Store::create_owned_issuance`] for an issuance a replica is about to run).
    pub async fn create_asset(&self, asset: &NewAsset) -> Result<Asset> {
        self.insert_asset(asset, None, 0).await
    }

    /// Inserts the asset row (status pending) with its issuance owner and lease expiry.
    pub(crate) async fn insert_asset(
        &self,
        asset: &NewAsset,
        owner: Option<&str>,
        lease_expires_ms: i64,
    ) -> Result<Asset> {
        let sql = "INSERT INTO assets (uuid, issuer_id, name, amount, destination_address, \
                   domain, ticker, pubkey, asset_precision, is_confidential, is_reissuable, \
                   reissuance_amount, reissuance_address, transfer_restricted, \
                   issuer_authorization_endpoint, contract_json, contract_hash, status, \
                   created_at, issuance_owner, issuance_lease_expires_ms) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
                   $16, $17, 'pending', $18, $19, $20)";
        with_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(&asset.uuid)
                .bind(asset.issuer_id)
                .bind(&asset.name)
                .bind(asset.amount)
                .bind(&asset.destination_address)
                .bind(&asset.domain)
                .bind(&asset.ticker)
                .bind(&asset.pubkey)
                .bind(asset.precision)
                .bind(asset.is_confidential)
                .bind(asset.is_reissuable)
                .bind(asset.reissuance_amount)
                .bind(&asset.reissuance_address)
                .bind(asset.transfer_restricted)
                .bind(&asset.issuer_authorization_endpoint)
                .bind(&asset.contract_json)
                .bind(&asset.contract_hash)
                .bind(Utc::now())
                .bind(owner)
                .bind(lease_expires_ms)
                .execute(pool)
                .await
                .map_err(|e| StoreError::conflict_on_unique(e, Conflict::AssetExists))?;
        });
        self.asset_row(&asset.uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Stores the signed issuance transaction (status broadcasting), before it is broadcast.
    pub async fn set_asset_issuance_tx(&self, uuid: &str, tx: &IssuanceTx) -> Result<()> {
        let sql = "UPDATE assets SET status = 'broadcasting', asset_id = $2, \
                   reissuance_token_id = $3, tx_hex = $4, txid = $5, vin = $6, asset_vout = $7, \
                   reissuance_vout = $8 WHERE uuid = $1 AND status = 'pending'";
        let done = with_pool!(self, |pool| sqlx::query(sql)
            .bind(uuid)
            .bind(&tx.asset_id)
            .bind(&tx.reissuance_token_id)
            .bind(&tx.tx_hex)
            .bind(&tx.txid)
            .bind(tx.vin)
            .bind(tx.asset_vout)
            .bind(tx.reissuance_vout)
            .execute(pool)
            .await?
            .rows_affected());
        expect_found(done)?;
        Ok(())
    }

    /// Marks an issuance that did not reach the network as failed, with the reason.
    pub async fn set_asset_failed(&self, uuid: &str, reason: &str) -> Result<()> {
        let sql = "UPDATE assets SET status = 'failed', failure = $2 \
                   WHERE uuid = $1 AND status IN ('pending', 'broadcasting')";
        with_pool!(self, |pool| sqlx::query(sql)
            .bind(uuid)
            .bind(reason)
            .execute(pool)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Issuances interrupted before they were known to be broadcast (every issuer).
    pub async fn unfinished_issuances(&self) -> Result<Vec<Asset>> {
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE status IN ('pending', 'broadcasting') \
             ORDER BY created_at"
        );
        let rows: Vec<AssetRow> =
            with_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await?);
        assemble(rows, Vec::new())
    }

    /// The asset whose asset id or reissuance token id is `asset_id`, as the co-signer holds
    /// its transfers to rules: **deleted assets included** — deleting an asset hides it from
    /// the issuer's API but never loosens what its holders may do with it, so its transfers stay
    /// under the rules (lock, authorization, restriction, categories, treasury addresses,
    /// authorization endpoint) it had when it was deleted. A live asset wins over a deleted one
    /// with the same id.
    pub async fn cosign_asset_by_id(&self, asset_id: &str) -> Result<Option<CosignAsset>> {
        let row = format!(
            "SELECT {ASSET_COLUMNS} FROM assets \
             WHERE asset_id = $1 OR reissuance_token_id = $1 \
             ORDER BY CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END, created_at LIMIT 1"
        );
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let row: Option<AssetRow> = sqlx::query_as(&row)
                .bind(asset_id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                tx.commit().await?;
                return Ok(None);
            };
            let uuid = row.uuid.clone();
            let links: Vec<(String, i64)> = sqlx::query_as(
                "SELECT asset_uuid, category_id FROM asset_categories \
                 WHERE asset_uuid = $1 ORDER BY category_id",
            )
            .bind(&uuid)
            .fetch_all(&mut *tx)
            .await?;
            let deleted: bool =
                sqlx::query_scalar("SELECT deleted_at IS NOT NULL FROM assets WHERE uuid = $1")
                    .bind(&uuid)
                    .fetch_one(&mut *tx)
                    .await?;
            let treasury: Vec<(String,)> = sqlx::query_as(
                "SELECT address FROM asset_treasury_addresses WHERE asset_uuid = $1 \
                 ORDER BY address",
            )
            .bind(&uuid)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            let asset = assemble(vec![row], links)?
                .pop()
                .ok_or(StoreError::NotFound)?;
            let is_token = asset.tx.as_ref().map(|t| t.asset_id.as_str()) != Some(asset_id);
            Ok(Some(CosignAsset {
                asset,
                is_token,
                is_deleted: deleted,
                treasury_addresses: treasury.into_iter().map(|(a,)| a).collect(),
            }))
        })
    }

    /// Any row by uuid, whatever its state or issuer.
    pub(crate) async fn asset_row(&self, uuid: &str) -> Result<Option<Asset>> {
        let sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE uuid = $1");
        let row: Option<AssetRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(uuid)
            .fetch_optional(pool)
            .await?);
        row.map(|row| row.into_asset(Vec::new())).transpose()
    }

    /// The issuer's issued, not deleted assets, oldest first.
    pub async fn assets(&self, issuer_id: i64) -> Result<Vec<Asset>> {
        let rows = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE issuer_id = $1 AND {VISIBLE} \
             ORDER BY created_at, uuid"
        );
        let links = "SELECT l.asset_uuid, l.category_id FROM asset_categories l \
                     JOIN assets a ON a.uuid = l.asset_uuid \
                     WHERE a.issuer_id = $1 ORDER BY l.category_id";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let rows: Vec<AssetRow> = sqlx::query_as(&rows)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            let links: Vec<(String, i64)> = sqlx::query_as(links)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            assemble(rows, links)
        })
    }

    /// The issuer's issued, not deleted asset with this uuid.
    pub async fn asset(&self, issuer_id: i64, uuid: &str) -> Result<Option<Asset>> {
        let row = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE uuid = $1 AND issuer_id = $2 AND {VISIBLE}"
        );
        let links = "SELECT asset_uuid, category_id FROM asset_categories \
                     WHERE asset_uuid = $1 ORDER BY category_id";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let row: Option<AssetRow> = sqlx::query_as(&row)
                .bind(uuid)
                .bind(issuer_id)
                .fetch_optional(&mut *tx)
                .await?;
            let links: Vec<(String, i64)> =
                sqlx::query_as(links).bind(uuid).fetch_all(&mut *tx).await?;
            tx.commit().await?;
            Ok(assemble(row.into_iter().collect(), links)?.pop())
        })
    }

    /// Runs `sql` (which must take `$1` = uuid, `$2` = issuer id, then `value`) on a visible
    /// asset and returns the updated asset.
    async fn update_asset<T>(
        &self,
        issuer_id: i64,
        uuid: &str,
        sql: &str,
        value: T,
    ) -> Result<Asset>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite>
            + for<'q> sqlx::Encode<'q, sqlx::Postgres>
            + sqlx::Type<sqlx::Sqlite>
            + sqlx::Type<sqlx::Postgres>
            + Send
            + Clone,
    {
        let sql = format!("{sql} WHERE uuid = $1 AND issuer_id = $2 AND {VISIBLE}");
        let done = with_pool!(self, |pool| sqlx::query(&sql)
            .bind(uuid)
            .bind(issuer_id)
            .bind(value.clone())
            .execute(pool)
            .await?
            .rows_affected());
        expect_found(done)?;
        self.asset(issuer_id, uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Sets the issuer authorization endpoint (`None` clears it).
    pub async fn set_asset_authorization_endpoint(
        &self,
        issuer_id: i64,
        uuid: &str,
        endpoint: Option<&str>,
    ) -> Result<Asset> {
        let sql = "UPDATE assets SET issuer_authorization_endpoint = $3";
        self.update_asset(issuer_id, uuid, sql, endpoint.map(str::to_string))
            .await
    }

    /// Replaces the issuer's memo.
    pub async fn set_asset_memo(&self, issuer_id: i64, uuid: &str, memo: &str) -> Result<Asset> {
        self.update_asset(
            issuer_id,
            uuid,
            "UPDATE assets SET memo = $3",
            memo.to_string(),
        )
        .await
    }

    /// Deletes the asset's platform records (soft: the row stays, hidden). The on-chain asset is
    /// untouched.
    pub async fn delete_asset(&self, issuer_id: i64, uuid: &str) -> Result<()> {
        let sql = format!(
            "UPDATE assets SET deleted_at = $3 WHERE uuid = $1 AND issuer_id = $2 AND {VISIBLE}"
        );
        let done = with_pool!(self, |pool| sqlx::query(&sql)
            .bind(uuid)
            .bind(issuer_id)
            .bind(Utc::now())
            .execute(pool)
            .await?
            .rows_affected());
        expect_found(done)?;
        Ok(())
    }
}
