//! Walking the node's chain into the [`ChainIndex`]: blocks from the sync cursor to the node's
//! tip (`getblockcount`, `getblockhash`, `getblock <hash> 0` decoded with rust-elements), reorgs
//! undone by comparing the kept block hashes with the node's, then the wallet's mempool
//! transactions (`getrawmempool`, `getrawtransaction`).

use amphora_rpc::{ElementsRpc, RpcError};
use elements::Transaction;
use serde::Serialize;

use crate::chain_index::{ChainIndex, IndexError};
use crate::error::{Result, WalletError};
use crate::files::ChainParams;

/// The index is saved every this many walked blocks, so a long first sync is not lost.
const SAVE_EVERY: u32 = 500;
/// Attempts to catch up with a node whose chain keeps changing under the walk.
const MAX_ATTEMPTS: usize = 5;

/// What one walk did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WalkReport {
    /// Blocks walked.
    pub blocks: u32,
    /// Blocks undone because the node's chain changed (0 without reorg).
    pub reorged: u32,
    /// Whether a reorg deeper than the kept window forced a walk from the wallet's birth.
    pub rescanned: bool,
    /// Wallet transactions found in the walked blocks.
    pub confirmed_txs: usize,
    /// Wallet transactions in the node's mempool.
    pub mempool_txs: usize,
    /// The node's height after the walk.
    pub height: u32,
}

/// Reads the chain parameters of the node.
pub async fn node_chain(node: &ElementsRpc) -> Result<ChainParams> {
    let info = node.get_blockchain_info().await?;
    let genesis_hash = node.get_block_hash(0).await?;
    let policy_asset = match info.chain.as_str() {
        "liquidv1" => elements::AssetId::LIQUID_BTC,
        "liquidtestnet" => *lwk_common::Network::TestnetLiquid.policy_asset(),
        _ => {
            let labels = node.dump_asset_labels().await?;
            *labels.get("bitcoin").ok_or_else(|| WalletError::WrongChain {
                chain: info.chain.clone(),
                reason: "the node does not report its policy asset (dumpassetlabels has no \"bitcoin\")"
                    .to_string(),
            })?
        }
    };
    Ok(ChainParams {
        name: info.chain,
        policy_asset,
        genesis_hash,
    })
}

/// Walks `index` up to the node's tip, saving it with `save` along the way.
pub async fn walk(
    node: &ElementsRpc,
    index: &mut ChainIndex,
    mut save: impl FnMut(&ChainIndex) -> Result<()>,
) -> Result<WalkReport> {
    let mut report = WalkReport::default();
    let mut attempts = 0;
    'outer: loop {
        attempts += 1;
        if attempts > MAX_ATTEMPTS {
            return Err(WalletError::InvalidInput(
                "the node's chain kept changing during the sync; try again".to_string(),
            ));
        }
        let node_height = height_u32(node.get_block_count().await?)?;
        report.reorged += undo_reorg(node, index, node_height, &mut report).await?;
        let mut since_save = 0;
        while index.next_height() <= node_height {
            let height = index.next_height();
            let hash = node.get_block_hash(u64::from(height)).await?;
            let block = node.get_block(&hash).await?;
            if block.block_hash() != hash {
                return Err(WalletError::Node(RpcError::InvalidRequest {
                    method: "getblock".into(),
                    reason: format!("the node returned another block than {hash}"),
                }));
            }
            match index.connect_block(height, &block) {
                Ok(found) => report.confirmed_txs += found,
                // The chain changed between two calls: check for a reorg again.
                Err(IndexError::NotConnecting { .. }) => continue 'outer,
                Err(e) => return Err(e.into()),
            }
            report.blocks += 1;
            since_save += 1;
            if since_save >= SAVE_EVERY {
                save(index)?;
                since_save = 0;
            }
        }
        report.height = node_height;
        break;
    }
    report.mempool_txs = scan_mempool(node, index).await?;
    save(index)?;
    Ok(report)
}

fn height_u32(h: u64) -> Result<u32> {
    u32::try_from(h).map_err(|_| {
        WalletError::Node(RpcError::InvalidRequest {
            method: "getblockcount".into(),
            reason: format!("height {h} out of range"),
        })
    })
}

/// Compares the walked blocks with the node's chain and undoes the walk down to the fork.
/// Returns the number of blocks undone.
async fn undo_reorg(
    node: &ElementsRpc,
    index: &mut ChainIndex,
    node_height: u32,
    report: &mut WalkReport,
) -> Result<u32> {
    let Some(tip) = index.tip().map(|t| t.height) else {
        return Ok(0);
    };
    // Highest walked height that still matches the node's chain.
    let mut h = tip.min(node_height);
    loop {
        let ours = index.recent_hash(h);
        match ours {
            Some(ours) if ours == node.get_block_hash(u64::from(h)).await? => break,
            Some(_) if h > index.start_height() => h -= 1,
            _ => {
                // The fork is below the kept window (or the start): walk everything again.
                let undone = index.next_height() - index.start_height();
                *index = index.reset()?;
                report.rescanned = true;
                tracing::warn!(
                    "reorg deeper than the kept window: walking again from height {}",
                    index.start_height()
                );
                return Ok(undone);
            }
        }
    }
    let undone = tip - h;
    if undone > 0 {
        tracing::info!("reorg: undoing {undone} block(s) above height {h}");
        let ok = index.disconnect_from(h + 1);
        debug_assert!(ok, "the block below the fork is in the window");
    }
    Ok(undone)
}

/// Replaces the index's unconfirmed transactions by the wallet's transactions in the mempool.
async fn scan_mempool(node: &ElementsRpc, index: &mut ChainIndex) -> Result<usize> {
    let txids = node.get_raw_mempool().await?;
    let mut txs: Vec<Transaction> = Vec::with_capacity(txids.len());
    for txid in txids {
        if let Some(t) = index.transaction(&txid) {
            txs.push(t.tx.clone());
            continue;
        }
        match node.get_raw_transaction(&txid).await {
            Ok(tx) => txs.push(tx),
            // Mined or evicted since getrawmempool: the next sync sees it where it went.
            Err(e) if e.is_invalid_address_or_key() => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(index.replace_mempool(&txs)?)
}
