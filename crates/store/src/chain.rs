//! The chain index written by the chain follower: blocks, the transactions and outputs of
//! managed assets, their spends, and the follower's cursor.
//!
//! A block is applied in one database transaction ([`Store::apply_block`]; a follower catching
//! up applies many consecutive blocks in one, [`Store::apply_blocks_leased`]), so the index
//! always stops at a block boundary; a reorg is undone in one transaction
//! ([`Store::rollback_to`]). The maintained aggregates (migration 0014) change with the rows,
//! in the same transaction, through the database's triggers; so do the chain's events
//! (`asset.confirmed`, `ownership.changed`, `output.lost`, `chain.reorg`, see [`events`]).

mod balances;
pub(crate) mod events;
pub(crate) mod lease;
pub(crate) mod quiet;
pub(crate) mod sources;

use std::time::Duration;

use chrono::Utc;

use crate::events::{insert_event, NewEvent};
use crate::output_insert::{insert_output, OnIndexed};
use crate::{with_pool, Conflict, Result, Store, StoreError};

use events::{block_events, reorg_events};
use quiet::apply_quiet_run;

pub use lease::FollowerLease;
pub use sources::TrackedAsset;

/// Hex of 32 zero bytes: a blinder the platform does not know (an explicit output, or a
/// confidential one whose blinders nobody has told the platform yet).
pub const UNKNOWN_BLINDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Who holds an indexed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputOwner {
    /// The issuer's wallet.
    Treasury,
    /// A wallet registered at `/amp2/wallets/register`.
    Wallet {
        /// The wallet id.
        wid: String,
        /// The wallet's GAID.
        gaid: String,
    },
    /// A provably unspendable output: the units are destroyed.
    Burn,
}

impl OutputOwner {
    /// The stored name of the owner kind.
    pub fn kind(&self) -> &'static str {
        match self {
            OutputOwner::Treasury => "treasury",
            OutputOwner::Wallet { .. } => "wallet",
            OutputOwner::Burn => "burn",
        }
    }

    pub(crate) fn from_row(kind: &str, wid: Option<String>, gaid: Option<String>) -> Result<Self> {
        Ok(match (kind, wid, gaid) {
            ("treasury", _, _) => OutputOwner::Treasury,
            ("burn", _, _) => OutputOwner::Burn,
            ("wallet", Some(wid), Some(gaid)) => OutputOwner::Wallet { wid, gaid },
            (other, _, _) => {
                return Err(StoreError::Database(sqlx::Error::Decode(
                    format!("bad output owner {other:?}").into(),
                )))
            }
        })
    }
}

/// What a transaction did to a managed asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxKind {
    /// The asset's issuance.
    Issuance,
    /// A reissuance of the asset.
    Reissuance,
    /// A distribution from the treasury to registered users.
    Distribution,
    /// A co-signed transfer between wallets, or any other attributed move.
    Transfer,
    /// A burn of units.
    Burn,
    /// A transaction spending tracked outputs that the platform could not attribute.
    Unknown,
}

impl TxKind {
    /// The stored (and reported) name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Issuance => "issuance",
            TxKind::Reissuance => "reissuance",
            TxKind::Distribution => "distribution",
            TxKind::Transfer => "transfer",
            TxKind::Burn => "burn",
            TxKind::Unknown => "unknown",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Result<Self> {
        Ok(match value {
            "issuance" => TxKind::Issuance,
            "reissuance" => TxKind::Reissuance,
            "distribution" => TxKind::Distribution,
            "transfer" => TxKind::Transfer,
            "burn" => TxKind::Burn,
            "unknown" => TxKind::Unknown,
            other => {
                return Err(StoreError::Database(sqlx::Error::Decode(
                    format!("unknown transaction kind {other:?}").into(),
                )))
            }
        })
    }
}

/// A block the follower indexed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexedBlock {
    /// Height.
    pub height: i64,
    /// Block hash (hex, RPC byte order).
    pub block_hash: String,
    /// The previous block's hash.
    pub prev_hash: String,
    /// Block timestamp (unix seconds).
    pub block_time: i64,
}

/// A transaction of a block that touches a managed asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedTx {
    /// The asset it touches (one row per asset for a transaction touching several).
    pub asset_uuid: String,
    /// Transaction id.
    pub txid: String,
    /// Index of the transaction in its block.
    pub position: i64,
    /// What it did.
    pub kind: TxKind,
}

/// An output of a managed asset or its reissuance token with a known amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssetOutput {
    /// Transaction id.
    pub txid: String,
    /// Output index.
    pub vout: i64,
    /// The managed asset.
    pub asset_uuid: String,
    /// True for the reissuance token, false for the asset itself.
    pub is_token: bool,
    /// Amount in base units.
    pub amount: i64,
    /// scriptPubKey, hex.
    pub script_pubkey: String,
    /// Who holds it.
    pub owner: OutputOwner,
    /// Asset blinder, hex ([`UNKNOWN_BLINDER`] when unknown).
    pub asset_blinder: String,
    /// Amount (value) blinder, hex ([`UNKNOWN_BLINDER`] when unknown).
    pub amount_blinder: String,
    /// Height of the block that confirmed it.
    pub height: i64,
}

/// A spend of an indexed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpend {
    /// The spent output's transaction id.
    pub txid: String,
    /// The spent output's index.
    pub vout: i64,
    /// The spending transaction.
    pub spent_txid: String,
    /// The spending input's index.
    pub spent_vin: i64,
    /// True when the spending transaction could not be attributed: the output is lost.
    pub lost: bool,
}

/// Everything one block changes in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockUpdate {
    /// The block.
    pub block: IndexedBlock,
    /// Its transactions that touch managed assets.
    pub txs: Vec<IndexedTx>,
    /// The outputs it created that the platform tracks.
    pub outputs: Vec<NewAssetOutput>,
    /// The tracked outputs it spent.
    pub spends: Vec<OutputSpend>,
}

/// An indexed output as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetOutput {
    /// The output as it was created.
    pub output: NewAssetOutput,
    /// The spending transaction, input and height, once spent.
    pub spent: Option<(String, i64, i64)>,
    /// Spent by a transaction the platform could not attribute.
    pub is_lost: bool,
    /// Blacklisted by the issuer.
    pub is_blacklisted: bool,
}

#[derive(sqlx::FromRow)]
pub(crate) struct OutputRow {
    txid: String,
    vout: i64,
    asset_uuid: String,
    is_token: bool,
    amount: i64,
    script_pubkey: String,
    owner: String,
    wid: Option<String>,
    gaid: Option<String>,
    asset_blinder: String,
    amount_blinder: String,
    height: i64,
    spent_txid: Option<String>,
    spent_vin: Option<i64>,
    spent_height: Option<i64>,
    is_lost: bool,
    is_blacklisted: bool,
}

impl OutputRow {
    pub(crate) fn into_output(self) -> Result<AssetOutput> {
        let spent = match (self.spent_txid, self.spent_vin, self.spent_height) {
            (Some(txid), Some(vin), Some(height)) => Some((txid, vin, height)),
            _ => None,
        };
        Ok(AssetOutput {
            output: NewAssetOutput {
                txid: self.txid,
                vout: self.vout,
                asset_uuid: self.asset_uuid,
                is_token: self.is_token,
                amount: self.amount,
                script_pubkey: self.script_pubkey,
                owner: OutputOwner::from_row(&self.owner, self.wid, self.gaid)?,
                asset_blinder: self.asset_blinder,
                amount_blinder: self.amount_blinder,
                height: self.height,
            },
            spent,
            is_lost: self.is_lost,
            is_blacklisted: self.is_blacklisted,
        })
    }
}

/// The columns of `asset_outputs`, in [`OutputRow`] order.
pub(crate) const OUTPUT_COLUMNS: &str = "txid, vout, asset_uuid, is_token, amount, script_pubkey, \
     owner, wid, gaid, asset_blinder, amount_blinder, height, spent_txid, spent_vin, \
     spent_height, is_lost, is_blacklisted";

/// Renews the follower lease of `$holder` inside a transaction, or returns a
/// [`StoreError::Conflict`] when it expired or another replica holds it. On PostgreSQL the
/// `UPDATE` locks the lease row until the transaction ends, so a take-over waits for it.
macro_rules! renew_in_tx {
    ($executor:expr, $holder:expr, $ttl:expr) => {{
        let now = lease::now_ms();
        let renewed = sqlx::query(
            "UPDATE chain_follower_lease SET expires_at_ms = $2 \
             WHERE id = 1 AND holder = $1 AND expires_at_ms > $3",
        )
        .bind($holder)
        .bind(now.saturating_add(lease::ttl_ms($ttl)))
        .bind(now)
        .execute($executor)
        .await?;
        if renewed.rows_affected() == 0 {
            return Err(StoreError::Conflict($crate::Conflict::LeaseLost {
                holder: $holder.to_string(),
            }));
        }
    }};
}

impl Store {
    /// The follower's tip: the last block applied, if any.
    pub async fn chain_tip(&self) -> Result<Option<IndexedBlock>> {
        let sql = "SELECT b.height, b.block_hash, b.prev_hash, b.block_time \
                   FROM chain_cursor c JOIN chain_blocks b ON b.height = c.height \
                   WHERE c.id = 1";
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_optional(pool)
            .await?))
    }

    /// The indexed block at `height`, if the index reaches it.
    pub async fn indexed_block(&self, height: i64) -> Result<Option<IndexedBlock>> {
        let sql = "SELECT height, block_hash, prev_hash, block_time FROM chain_blocks \
                   WHERE height = $1";
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(height)
            .fetch_optional(pool)
            .await?))
    }

    /// Applies one block in one transaction: its transactions, new outputs, spends, and the
    /// cursor. The block must extend the current tip (or be the first block indexed); anything
    /// else is a [`StoreError::Conflict`] and changes nothing. Outputs already recorded (for
    /// example by a confirm call that came before the follower) are kept as they are.
    pub async fn apply_block(&self, update: &BlockUpdate) -> Result<()> {
        self.apply(update, None).await
    }

    /// [`Store::apply_block`] fenced by the follower lease: in the same transaction the lease
    /// of `holder` is checked to be unexpired and renewed for `ttl`. A holder that lost the
    /// lease gets a [`StoreError::Conflict`] and changes nothing, so a replica that stalled past
    /// its lease can never write over the new holder's work.
    pub async fn apply_block_leased(
        &self,
        holder: &str,
        ttl: Duration,
        update: &BlockUpdate,
    ) -> Result<()> {
        self.apply(update, Some((holder, ttl))).await
    }

    /// Applies consecutive blocks in one transaction (a follower catching up): the same rows
    /// as [`Store::apply_block_leased`] for each, the lease renewed and the cursor moved once.
    /// The first block must extend the indexed tip (or be the first block indexed) and each
    /// next one the block before it; otherwise a [`StoreError::Conflict`] and nothing changes.
    /// An empty slice changes nothing.
    pub async fn apply_blocks_leased(
        &self,
        holder: &str,
        ttl: Duration,
        updates: &[BlockUpdate],
    ) -> Result<()> {
        self.apply_many(updates, Some((holder, ttl))).await
    }

    async fn apply(&self, update: &BlockUpdate, lease: Option<(&str, Duration)>) -> Result<()> {
        self.apply_many(std::slice::from_ref(update), lease).await
    }

    async fn apply_many(
        &self,
        updates: &[BlockUpdate],
        lease: Option<(&str, Duration)>,
    ) -> Result<()> {
        let Some(last) = updates.last() else {
            return Ok(());
        };
        let mut emitted: Vec<NewEvent> = Vec::new();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            if let Some((holder, ttl)) = lease {
                renew_in_tx!(&mut *tx, holder, ttl);
            }
            let mut tip: Option<(i64, String)> =
                sqlx::query_as("SELECT height, block_hash FROM chain_cursor WHERE id = 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            // consecutive quiet blocks, applied together before the next other block
            let mut quiet_run: Vec<&IndexedBlock> = Vec::new();
            for update in updates {
                let block = &update.block;
                if let Some((height, hash)) = &tip {
                    if *height + 1 != block.height || *hash != block.prev_hash {
                        return Err(StoreError::Conflict(Conflict::BlockDoesNotExtend {
                            block_hash: block.block_hash.clone(),
                            height: block.height,
                            tip_hash: hash.clone(),
                            tip_height: *height,
                        }));
                    }
                }
                tip = Some((block.height, block.block_hash.clone()));
                if quiet::is_quiet(update) {
                    quiet_run.push(block);
                    continue;
                }
                apply_quiet_run!(tx, &quiet_run, emitted);
                quiet_run.clear();
                sqlx::query(
                    "INSERT INTO chain_blocks (height, block_hash, prev_hash, block_time) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(block.height)
                .bind(&block.block_hash)
                .bind(&block.prev_hash)
                .bind(block.block_time)
                .execute(&mut *tx)
                .await?;
                for indexed in &update.txs {
                    sqlx::query(
                        "INSERT INTO asset_txs (asset_uuid, txid, height, position, kind) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (asset_uuid, txid) DO UPDATE SET height = excluded.height, \
                         position = excluded.position, kind = excluded.kind",
                    )
                    .bind(&indexed.asset_uuid)
                    .bind(&indexed.txid)
                    .bind(block.height)
                    .bind(indexed.position)
                    .bind(indexed.kind.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                for output in &update.outputs {
                    insert_output!(&mut *tx, output, OnIndexed::Keep);
                }
                for spend in &update.spends {
                    sqlx::query(
                        "UPDATE asset_outputs SET spent_txid = $3, spent_vin = $4, \
                         spent_height = $5, is_lost = $6 WHERE txid = $1 AND vout = $2",
                    )
                    .bind(&spend.txid)
                    .bind(spend.vout)
                    .bind(&spend.spent_txid)
                    .bind(spend.spent_vin)
                    .bind(block.height)
                    .bind(spend.lost)
                    .execute(&mut *tx)
                    .await?;
                }
                block_events!(tx, block, emitted);
            }
            apply_quiet_run!(tx, &quiet_run, emitted);
            sqlx::query(
                "INSERT INTO chain_cursor (id, height, block_hash, updated_at) \
                 VALUES (1, $1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET height = excluded.height, \
                 block_hash = excluded.block_hash, updated_at = excluded.updated_at",
            )
            .bind(last.block.height)
            .bind(&last.block.block_hash)
            .bind(Utc::now())
            .execute(&mut *tx)
            .await?;
            for event in &emitted {
                insert_event!(self, tx, event);
            }
            amphora_core::crash::point(amphora_core::crash::FOLLOWER_BLOCK_TRANSACTION);
            tx.commit().await?;
        });
        if !emitted.is_empty() {
            self.events_written();
        }
        Ok(())
    }

    /// Undoes every block above `height` in one transaction (a reorg): their transactions,
    /// outputs and spends, and moves the cursor back to `height`. With `height` below the
    /// first indexed block the index becomes empty.
    pub async fn rollback_to(&self, height: i64) -> Result<()> {
        self.rollback(height, None).await
    }

    /// [`Store::rollback_to`] fenced by the follower lease, like
    /// [`Store::apply_block_leased`].
    pub async fn rollback_to_leased(&self, holder: &str, ttl: Duration, height: i64) -> Result<()> {
        self.rollback(height, Some((holder, ttl))).await
    }

    async fn rollback(&self, height: i64, lease: Option<(&str, Duration)>) -> Result<()> {
        let mut emitted: Vec<NewEvent> = Vec::new();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            if let Some((holder, ttl)) = lease {
                renew_in_tx!(&mut *tx, holder, ttl);
            }
            reorg_events!(tx, height, emitted);
            sqlx::query("DELETE FROM asset_outputs WHERE height > $1")
                .bind(height)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE asset_outputs SET spent_txid = NULL, spent_vin = NULL, \
                 spent_height = NULL, is_lost = FALSE WHERE spent_height > $1",
            )
            .bind(height)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM asset_txs WHERE height > $1")
                .bind(height)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM chain_blocks WHERE height > $1")
                .bind(height)
                .execute(&mut *tx)
                .await?;
            let below: Option<(i64, String)> = sqlx::query_as(
                "SELECT height, block_hash FROM chain_blocks ORDER BY height DESC LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            match below {
                Some((height, hash)) => {
                    sqlx::query(
                        "UPDATE chain_cursor SET height = $1, block_hash = $2, updated_at = $3 \
                         WHERE id = 1",
                    )
                    .bind(height)
                    .bind(hash)
                    .bind(Utc::now())
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM chain_cursor WHERE id = 1")
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for event in &emitted {
                insert_event!(self, tx, event);
            }
            tx.commit().await?;
        });
        if !emitted.is_empty() {
            self.events_written();
        }
        Ok(())
    }

    /// Records outputs verified outside the follower (a confirm call's posted change, for
    /// example). Outputs already indexed are kept as they are. One transaction.
    pub async fn record_asset_outputs(&self, outputs: &[NewAssetOutput]) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for output in outputs {
                insert_output!(&mut *tx, output, OnIndexed::Keep);
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every indexed output of an asset (and its token), oldest first.
    pub async fn asset_outputs(&self, asset_uuid: &str) -> Result<Vec<AssetOutput>> {
        let sql = format!(
            "SELECT {OUTPUT_COLUMNS} FROM asset_outputs WHERE asset_uuid = $1 \
             ORDER BY height, txid, vout"
        );
        let rows: Vec<OutputRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(OutputRow::into_output).collect()
    }

    /// One indexed output.
    pub async fn asset_output(&self, txid: &str, vout: i64) -> Result<Option<AssetOutput>> {
        let sql =
            format!("SELECT {OUTPUT_COLUMNS} FROM asset_outputs WHERE txid = $1 AND vout = $2");
        let row: Option<OutputRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(txid)
            .bind(vout)
            .fetch_optional(pool)
            .await?);
        row.map(OutputRow::into_output).transpose()
    }
}
