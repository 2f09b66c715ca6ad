//! What the follower knows before reading a block: the managed assets (by asset id, token id,
//! issuance transaction and treasury script) and the registered wallets. Refreshed from the
//! store on every poll, after the node's height was read, so every block up to that height is
//! read knowing every asset issued and wallet registered before it was mined.

use std::collections::HashMap;
use std::str::FromStr;

use amphora_core::treasury_key::TreasuryViewKey;
use amphora_store::{Store, StoreError, TrackedAsset};
use elements::secp256k1_zkp::{All, Secp256k1};
use elements::{Address, AssetId, Script, TxOut, TxOutSecrets, Txid};

use crate::wallets::WalletScripts;

/// A managed asset with its identifiers parsed.
#[derive(Debug, Clone)]
pub struct ManagedAsset {
    /// The store's row.
    pub tracked: TrackedAsset,
    /// Asset id.
    pub asset_id: AssetId,
    /// Reissuance token id.
    pub token_id: Option<AssetId>,
    /// The issuance transaction.
    pub issuance_txid: Option<Txid>,
    /// The treasury wallet's view key, once posted.
    pub treasury_view_key: Option<TreasuryViewKey>,
}

/// The managed assets and registered wallets, indexed for reading blocks.
#[derive(Debug)]
pub struct Context {
    assets: Vec<ManagedAsset>,
    /// asset or token id → (asset index, is_token)
    by_id: HashMap<AssetId, (usize, bool)>,
    by_issuance: HashMap<Txid, usize>,
    /// treasury script → asset indexes whose treasury it is
    treasury: HashMap<Script, Vec<usize>>,
    /// The registered wallets.
    pub wallets: WalletScripts,
    secp: Secp256k1<All>,
}

impl Context {
    /// Empty: no assets, no wallets.
    pub fn new(lookahead: u32) -> Context {
        Context {
            assets: Vec::new(),
            by_id: HashMap::new(),
            by_issuance: HashMap::new(),
            treasury: HashMap::new(),
            wallets: WalletScripts::new(lookahead),
            secp: Secp256k1::new(),
        }
    }

    /// Reloads the managed assets, adds newly registered wallets, and extends each wallet's
    /// scripts past the receive addresses the platform handed out (which may lie beyond the
    /// look-ahead of the indexes seen used on chain).
    pub async fn refresh(&mut self, store: &Store) -> Result<(), StoreError> {
        self.set_assets(store.tracked_assets().await?);
        self.wallets.refresh(&store.all_registered_wallets().await?);
        for (wid, next_index) in store.wallet_address_counters().await? {
            if let Some(last) = next_index.checked_sub(1) {
                self.wallets
                    .mark_used(&wid, lwk_wollet::Chain::External, last);
            }
        }
        Ok(())
    }

    /// Replaces the managed assets. Rows whose ids do not parse are skipped with a warning.
    pub fn set_assets(&mut self, tracked: Vec<TrackedAsset>) {
        self.assets.clear();
        self.by_id.clear();
        self.by_issuance.clear();
        self.treasury.clear();
        for row in tracked {
            let Ok(asset_id) = AssetId::from_str(&row.asset_id) else {
                tracing::warn!(asset = %row.uuid, "asset id {:?} does not parse", row.asset_id);
                continue;
            };
            let token_id = row
                .token_id
                .as_deref()
                .and_then(|t| AssetId::from_str(t).ok());
            let issuance_txid = Txid::from_str(&row.issuance_txid).ok();
            let pos = self.assets.len();
            self.by_id.insert(asset_id, (pos, false));
            if let Some(token) = token_id {
                self.by_id.insert(token, (pos, true));
            }
            if let Some(txid) = issuance_txid {
                self.by_issuance.insert(txid, pos);
            }
            for address in &row.treasury_addresses {
                match Address::from_str(address) {
                    Ok(address) => self
                        .treasury
                        .entry(address.script_pubkey())
                        .or_default()
                        .push(pos),
                    Err(e) => tracing::warn!(asset = %row.uuid, "treasury address {address}: {e}"),
                }
            }
            let treasury_view_key = row.treasury_view_key.as_deref().and_then(|key| {
                key.parse::<TreasuryViewKey>()
                    .map_err(|e| tracing::warn!(asset = %row.uuid, "treasury view key: {e}"))
                    .ok()
            });
            self.assets.push(ManagedAsset {
                tracked: row,
                asset_id,
                token_id,
                issuance_txid,
                treasury_view_key,
            });
        }
    }

    /// Number of managed assets.
    pub fn asset_count(&self) -> usize {
        self.assets.len()
    }

    /// The managed asset at `pos`.
    pub fn asset(&self, pos: usize) -> &ManagedAsset {
        &self.assets[pos]
    }

    /// The managed asset with this UUID.
    pub fn asset_by_uuid(&self, uuid: &str) -> Option<usize> {
        self.assets.iter().position(|a| a.tracked.uuid == uuid)
    }

    /// The managed asset whose asset (`false`) or token (`true`) `id` is.
    pub fn by_id(&self, id: &AssetId) -> Option<(usize, bool)> {
        self.by_id.get(id).copied()
    }

    /// The managed asset issued by `txid`.
    pub fn by_issuance(&self, txid: &Txid) -> Option<usize> {
        self.by_issuance.get(txid).copied()
    }

    /// Opens `txout` with the treasury view key of the asset at `pos` when it is a confidential
    /// output of that asset or its token blinded to the treasury: its secrets and whether it
    /// holds the token.
    pub fn treasury_unblind(&self, pos: usize, txout: &TxOut) -> Option<(TxOutSecrets, bool)> {
        let asset = &self.assets[pos];
        let secrets = asset.treasury_view_key?.unblind(&self.secp, txout)?;
        if secrets.asset == asset.asset_id {
            Some((secrets, false))
        } else if Some(secrets.asset) == asset.token_id {
            Some((secrets, true))
        } else {
            None
        }
    }

    /// Whether `script` is a treasury script of the asset at `pos`.
    pub fn is_treasury(&self, pos: usize, script: &Script) -> bool {
        self.treasury
            .get(script)
            .is_some_and(|assets| assets.contains(&pos))
    }
}
