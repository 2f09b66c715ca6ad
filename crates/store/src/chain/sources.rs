//! What the chain follower reads to recognise a block's transactions: the managed assets with
//! their issuance outpoints and treasury addresses, the registered wallets, and the tracked
//! outputs a block's inputs spend.

use std::collections::BTreeMap;

use crate::chain::{AssetOutput, IndexedTx, OutputRow, TxKind, OUTPUT_COLUMNS};
use crate::{with_pool, RegisteredWallet, Result, Store};

/// Largest number of bind parameters put in one `IN (…)` list.
pub(crate) const IN_CHUNK: usize = 500;

/// A managed asset as the follower tracks it: issued (a signed transaction exists), not
/// deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedAsset {
    /// Asset UUID.
    pub uuid: String,
    /// Asset id (hex).
    pub asset_id: String,
    /// Reissuance token id (hex), when reissuable.
    pub token_id: Option<String>,
    /// The issuance transaction.
    pub issuance_txid: String,
    /// Output of the issuance paying the asset.
    pub asset_vout: i64,
    /// Output of the issuance paying the reissuance token.
    pub reissuance_vout: Option<i64>,
    /// Issued amount (base units).
    pub amount: i64,
    /// Reissuance tokens issued (base units).
    pub reissuance_amount: i64,
    /// Addresses whose outputs are the treasury's: the issuance destination, the reissuance
    /// token address and the asset's treasury addresses.
    pub treasury_addresses: Vec<String>,
    /// The treasury wallet's SLIP-77 master blinding key (hex), once the confirm client posted
    /// it: the follower opens the treasury's confidential outputs with it.
    pub treasury_view_key: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TrackedRow {
    uuid: String,
    asset_id: String,
    reissuance_token_id: Option<String>,
    txid: String,
    asset_vout: Option<i64>,
    reissuance_vout: Option<i64>,
    amount: i64,
    reissuance_amount: i64,
    destination_address: String,
    reissuance_address: String,
    view_key: Option<String>,
}

impl Store {
    /// Every managed asset the follower tracks: issued (status broadcasting or broadcast, so
    /// an issuance interrupted after signing is still recognised) and not deleted.
    pub async fn tracked_assets(&self) -> Result<Vec<TrackedAsset>> {
        let sql = "SELECT a.uuid, a.asset_id, a.reissuance_token_id, a.txid, a.asset_vout, \
                   a.reissuance_vout, a.amount, a.reissuance_amount, a.destination_address, \
                   a.reissuance_address, k.view_key FROM assets a \
                   LEFT JOIN asset_treasury_view_keys k ON k.asset_uuid = a.uuid \
                   WHERE a.deleted_at IS NULL AND a.status IN ('broadcasting', 'broadcast') \
                   AND a.asset_id IS NOT NULL AND a.txid IS NOT NULL \
                   ORDER BY a.created_at, a.uuid";
        let links = "SELECT t.asset_uuid, t.address FROM asset_treasury_addresses t \
                     JOIN assets a ON a.uuid = t.asset_uuid WHERE a.deleted_at IS NULL \
                     ORDER BY t.asset_uuid, t.address";
        let (rows, links): (Vec<TrackedRow>, Vec<(String, String)>) = with_pool!(self, |pool| (
            sqlx::query_as(sql).fetch_all(pool).await?,
            sqlx::query_as(links).fetch_all(pool).await?
        ));
        let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (uuid, address) in links {
            extra.entry(uuid).or_default().push(address);
        }
        Ok(rows
            .into_iter()
            .map(|row| {
                let mut treasury_addresses = vec![row.destination_address];
                if !row.reissuance_address.is_empty() {
                    treasury_addresses.push(row.reissuance_address);
                }
                treasury_addresses.extend(extra.remove(&row.uuid).unwrap_or_default());
                treasury_addresses.sort();
                treasury_addresses.dedup();
                TrackedAsset {
                    uuid: row.uuid,
                    asset_id: row.asset_id,
                    token_id: row.reissuance_token_id,
                    issuance_txid: row.txid,
                    asset_vout: row.asset_vout.unwrap_or_default(),
                    reissuance_vout: row.reissuance_vout,
                    amount: row.amount,
                    reissuance_amount: row.reissuance_amount,
                    treasury_addresses,
                    treasury_view_key: row.view_key,
                }
            })
            .collect())
    }

    /// Every wallet registered with the co-signer, oldest first (the follower's wallet index).
    pub async fn all_registered_wallets(&self) -> Result<Vec<RegisteredWallet>> {
        let sql = "SELECT wid, descriptor, gaid, created_at FROM registered_wallets \
                   ORDER BY created_at, wid";
        Ok(with_pool!(self, |pool| sqlx::query_as(sql)
            .fetch_all(pool)
            .await?))
    }

    /// The indexed, still unspent outputs created by any of `txids` (the outputs a block's
    /// inputs may spend). Runs one query per few hundred txids.
    pub async fn unspent_outputs_of(&self, txids: &[String]) -> Result<Vec<AssetOutput>> {
        let mut found = Vec::new();
        for chunk in txids.chunks(IN_CHUNK) {
            let placeholders = (1..=chunk.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {OUTPUT_COLUMNS} FROM asset_outputs WHERE spent_txid IS NULL \
                 AND txid IN ({placeholders})"
            );
            let rows: Vec<OutputRow> = with_pool!(self, |pool| {
                let mut query = sqlx::query_as(&sql);
                for txid in chunk {
                    query = query.bind(txid);
                }
                query.fetch_all(pool).await?
            });
            for row in rows {
                found.push(row.into_output()?);
            }
        }
        Ok(found)
    }

    /// The indexed transactions of an asset with the height of their block, oldest first
    /// (`(height, position)` order).
    pub async fn indexed_asset_txs(&self, asset_uuid: &str) -> Result<Vec<(i64, IndexedTx)>> {
        let sql = "SELECT height, txid, position, kind FROM asset_txs WHERE asset_uuid = $1 \
                   ORDER BY height, position";
        let rows: Vec<(i64, String, i64, String)> = with_pool!(self, |pool| sqlx::query_as(sql)
            .bind(asset_uuid)
            .fetch_all(pool)
            .await?);
        rows.into_iter()
            .map(|(height, txid, position, kind)| {
                Ok((
                    height,
                    IndexedTx {
                        asset_uuid: asset_uuid.to_string(),
                        txid,
                        position,
                        kind: TxKind::parse(&kind)?,
                    },
                ))
            })
            .collect()
    }
}
