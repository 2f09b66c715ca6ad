//! The changes of an asset that emit events: its issuance reaching the network
//! (`asset.issued`) and its lock (`asset.locked` / `asset.unlocked`), each event written in the
//! change's transaction.

use amphora_core::event::{AssetConfirmed, AssetIssued, AssetLock, EventData};

use crate::assets::{AssetRow, ASSET_COLUMNS, ISSUED, VISIBLE};
use crate::error::expect_found;
use crate::events::{insert_event, NewEvent};
use crate::{with_pool, Asset, IssuanceStatus, Result, Store, StoreError};

fn issued(asset: &Asset) -> Option<EventData> {
    let tx = asset.tx.as_ref()?;
    Some(EventData::AssetIssued(AssetIssued {
        asset_id: tx.asset_id.clone(),
        reissuance_token_id: tx.reissuance_token_id.clone(),
        txid: tx.txid.clone(),
        name: asset.issuance.name.clone(),
        ticker: asset.issuance.ticker.clone(),
        amount: asset.issuance.amount,
        reissuance_amount: asset.issuance.reissuance_amount,
        is_confidential: asset.issuance.is_confidential,
        transfer_restricted: asset.issuance.transfer_restricted,
    }))
}

impl Store {
    /// Marks the issuance broadcast, with the output blinders when the node told them. The
    /// first time (status broadcasting → broadcast) it emits `asset.issued` in the same
    /// transaction, followed by `asset.confirmed` when the chain index already gives the
    /// issuance 2 confirmations; a repeated call only updates the blinders.
    pub async fn set_asset_broadcast(
        &self,
        uuid: &str,
        asset_blinder: Option<&str>,
        token_blinder: Option<&str>,
    ) -> Result<()> {
        let (begin, for_update) = self.lock_clause();
        let select = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE uuid = $1{for_update}");
        let sql = format!(
            "UPDATE assets SET status = 'broadcast', \
             issuance_assetblinder = COALESCE($2, issuance_assetblinder), \
             issuance_tokenblinder = COALESCE($3, issuance_tokenblinder) \
             WHERE uuid = $1 AND {ISSUED}"
        );
        let emitted = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin).await?;
            let row: Option<AssetRow> = sqlx::query_as(&select)
                .bind(uuid)
                .fetch_optional(&mut *tx)
                .await?;
            let asset = row.ok_or(StoreError::NotFound)?.into_asset(Vec::new())?;
            let done = sqlx::query(&sql)
                .bind(uuid)
                .bind(asset_blinder)
                .bind(token_blinder)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            expect_found(done)?;
            let event = (asset.status == IssuanceStatus::Broadcasting)
                .then(|| issued(&asset))
                .flatten();
            if let Some(data) = &event {
                let issuer_id = asset.issuance.issuer_id;
                // The follower may have indexed the issuance's blocks already: its
                // asset.confirmed (which the follower leaves to this call while the issuance is
                // not marked broadcast) then follows asset.issued here.
                let confirmed: Option<(i64, String, i64)> = sqlx::query_as(
                    "SELECT t.height, t.txid, c.height FROM assets a \
                     JOIN asset_txs t ON t.asset_uuid = a.uuid AND t.txid = a.txid \
                     JOIN chain_cursor c ON c.id = 1 \
                     WHERE a.uuid = $1 AND t.kind = 'issuance'",
                )
                .bind(uuid)
                .fetch_optional(&mut *tx)
                .await?;
                insert_event!(
                    self,
                    tx,
                    &NewEvent::new(issuer_id, Some(uuid), data.clone())
                );
                if let (Some((height, txid, tip)), Some(issuance)) = (confirmed, &asset.tx) {
                    if tip > height {
                        let data = EventData::AssetConfirmed(AssetConfirmed {
                            asset_id: issuance.asset_id.clone(),
                            txid,
                            issuance_height: height,
                        });
                        let event =
                            NewEvent::new(issuer_id, Some(uuid), data).at_height(height + 1);
                        insert_event!(self, tx, &event);
                    }
                }
            }
            tx.commit().await?;
            event.is_some()
        });
        if emitted {
            self.events_written();
        }
        Ok(())
    }

    /// Locks or unlocks the asset. A change of the lock emits `asset.locked` or
    /// `asset.unlocked` in the same transaction; setting the lock it already has changes
    /// nothing and emits nothing.
    pub async fn set_asset_locked(
        &self,
        issuer_id: i64,
        uuid: &str,
        locked: bool,
    ) -> Result<Asset> {
        let (begin, for_update) = self.lock_clause();
        let select = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE uuid = $1 AND issuer_id = $2 \
             AND {VISIBLE}{for_update}"
        );
        let emitted = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(begin).await?;
            let row: Option<AssetRow> = sqlx::query_as(&select)
                .bind(uuid)
                .bind(issuer_id)
                .fetch_optional(&mut *tx)
                .await?;
            let asset = row.ok_or(StoreError::NotFound)?.into_asset(Vec::new())?;
            let changed = asset.is_locked != locked;
            if changed {
                sqlx::query("UPDATE assets SET is_locked = $3 WHERE uuid = $1 AND issuer_id = $2")
                    .bind(uuid)
                    .bind(issuer_id)
                    .bind(locked)
                    .execute(&mut *tx)
                    .await?;
                let data = EventData::AssetLock(AssetLock {
                    asset_id: asset.tx.as_ref().map(|t| t.asset_id.clone()),
                    is_locked: locked,
                });
                insert_event!(self, tx, &NewEvent::new(issuer_id, Some(uuid), data));
            }
            tx.commit().await?;
            changed
        });
        if emitted {
            self.events_written();
        }
        self.asset(issuer_id, uuid)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
