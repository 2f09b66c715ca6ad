//! The node side: pre-flight checks, the outputs check, and the wait for 2 confirmations.

use std::time::{Duration, Instant};

use amphora_rpc::types::{BlockchainInfo, NetworkInfo};
use amphora_rpc::ElementsRpc;
use elements::Txid;
use serde_json::{json, Value};

use crate::error::ConfirmError;
use crate::request::Outpoint;

/// `getnetworkinfo.subversion` must contain this.
pub const NODE_NAME: &str = "Elements Core";
/// Elements 0.17.0.1.
pub const MIN_SUPPORTED_ELEMENTS_VERSION: u64 = 170_001;
/// `getblockchaininfo.verificationprogress` below this means "still syncing".
pub const MIN_VERIFICATION_PROGRESS: f64 = 0.999;
/// Confirmations a transaction needs before it is confirmed to the platform (the platform's
/// own rule, [`amphora_core::chain::MIN_CONFIRMATIONS`]).
pub const REQUIRED_CONFIRMATIONS: i64 = amphora_core::chain::MIN_CONFIRMATIONS as i64;

/// Checks that the node is Elements Core and recent enough.
pub fn check_version(info: &NetworkInfo) -> Result<(), ConfirmError> {
    if !info.subversion.contains(NODE_NAME) {
        return Err(ConfirmError::NotElements {
            subversion: info.subversion.clone(),
        });
    }
    if info.version < MIN_SUPPORTED_ELEMENTS_VERSION {
        return Err(ConfirmError::NodeTooOld {
            version: info.version,
            min: MIN_SUPPORTED_ELEMENTS_VERSION,
        });
    }
    Ok(())
}

/// Checks that the node is synchronized.
pub fn check_synced(info: &BlockchainInfo) -> Result<(), ConfirmError> {
    if info.verificationprogress < MIN_VERIFICATION_PROGRESS {
        return Err(ConfirmError::NotSynced {
            progress: info.verificationprogress,
        });
    }
    Ok(())
}

/// The pre-flight checks, in the official script's order: Elements Core and its version, fully
/// synchronized, wallet unlocked (probed with `signmessage("invalidaddress", "message")`,
/// which answers -13 on a locked wallet before looking at the address).
pub async fn preflight(rpc: &ElementsRpc) -> Result<NetworkInfo, ConfirmError> {
    let network = rpc
        .get_network_info()
        .await
        .map_err(|e| ConfirmError::node("getnetworkinfo", e))?;
    check_version(&network)?;
    let chain = rpc
        .get_blockchain_info()
        .await
        .map_err(|e| ConfirmError::node("getblockchaininfo", e))?;
    check_synced(&chain)?;
    let probe: Result<Value, _> = rpc
        .call("signmessage", &[json!("invalidaddress"), json!("message")])
        .await;
    match probe {
        Err(e)
            if e.is_wallet_locked() || e.is_wallet_not_specified() || e.is_wallet_not_found() =>
        {
            Err(ConfirmError::node("signmessage", e))
        }
        // Any other answer (-5 invalid address on an unlocked wallet) means "not locked".
        Err(e) if e.code().is_some() => Ok(network),
        Err(e) => Err(ConfirmError::node("signmessage", e)),
        Ok(_) => Ok(network),
    }
}

/// Checks that the wallet's `listunspent` holds the `expected` outputs: all of them, or at
/// least one when `expect_all` is false (a split reissuance token).
pub async fn check_utxos(
    rpc: &ElementsRpc,
    expected: &[Outpoint],
    expect_all: bool,
) -> Result<(), ConfirmError> {
    let unspent = rpc
        .list_unspent(None)
        .await
        .map_err(|e| ConfirmError::node("listunspent", e))?;
    let local: Vec<Outpoint> = unspent
        .iter()
        .map(|u| Outpoint {
            txid: u.txid,
            vout: u.vout,
        })
        .collect();
    let missing: Vec<&Outpoint> = expected.iter().filter(|o| !local.contains(o)).collect();
    let found = expected.len() - missing.len();
    if found == 0 || (expect_all && !missing.is_empty()) {
        let missing = if expected.is_empty() {
            "the platform listed none".to_owned()
        } else {
            let names: Vec<String> = missing.iter().map(|o| o.to_string()).collect();
            format!("missing: {}", names.join(", "))
        };
        return Err(ConfirmError::MissingUtxo {
            expected: expected.len(),
            found,
            missing,
        });
    }
    Ok(())
}

/// How to wait for confirmations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// Time between two polls of the node.
    pub poll_interval: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for WaitPolicy {
    /// Poll every 5 s, give up after 15 min.
    fn default() -> Self {
        WaitPolicy {
            poll_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// What the wait has seen so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitProgress {
    /// Confirmations of the transaction.
    pub confirmations: i64,
    /// Blocks the node accepted since the wait began.
    pub blocks_seen: u64,
    /// Height of the node's best block.
    pub tip: u64,
    /// Time waited.
    pub elapsed: Duration,
}

/// Reads `gettransaction(txid).confirmations`, again at each new block or `poll_interval`
/// at the latest, until it is at least `required` (the
/// platform's [`REQUIRED_CONFIRMATIONS`] before a confirm call, 1 before the next transaction
/// of a split payment spends its change), calling `on_progress` whenever confirmations or the
/// tip change. `retry` is the argument the timeout error tells the user to pass
/// ([`crate::error::use_existing`] or [`crate::error::RESUME`]).
pub async fn wait_for_confirmations(
    rpc: &ElementsRpc,
    txid: &Txid,
    required: i64,
    policy: WaitPolicy,
    retry: &str,
    mut on_progress: impl FnMut(&WaitProgress),
) -> Result<WaitProgress, ConfirmError> {
    let started = Instant::now();
    let start_tip = block_count(rpc).await?;
    let mut last: Option<WaitProgress> = None;
    loop {
        // The tip first: a block that comes after it is waited for below, one that comes
        // before the transaction is read is in its confirmations.
        let tip = block_count(rpc).await?;
        let tx = rpc
            .get_transaction(txid)
            .await
            .map_err(|e| ConfirmError::node("gettransaction", e))?;
        let progress = WaitProgress {
            confirmations: tx.confirmations,
            blocks_seen: tip.saturating_sub(start_tip),
            tip,
            elapsed: started.elapsed(),
        };
        if last.is_none_or(|l| l.confirmations != progress.confirmations || l.tip != tip) {
            on_progress(&progress);
        }
        last = Some(progress);
        if tx.confirmations >= required {
            return Ok(progress);
        }
        if tx.confirmations < 0 {
            return Err(ConfirmError::Conflicted {
                txid: txid.to_string(),
                confirmations: tx.confirmations,
            });
        }
        if tx.confirmations == 0 && !in_mempool_or_mined(rpc, txid).await? {
            return Err(ConfirmError::NotInMempool {
                txid: txid.to_string(),
            });
        }
        let elapsed = started.elapsed();
        if elapsed >= policy.timeout {
            return Err(ConfirmError::NotConfirmed {
                txid: txid.to_string(),
                confirmations: tx.confirmations,
                required,
                waited: elapsed,
                retry: retry.to_owned(),
            });
        }
        wait_for_next_block(rpc, tip, policy.poll_interval.min(policy.timeout - elapsed)).await?;
    }
}

/// Waits up to `timeout` for a block above `tip` (`waitforblockheight`): a confirmation is
/// seen as soon as its block arrives, not at the next poll. A node without the call is polled
/// after `timeout`.
async fn wait_for_next_block(
    rpc: &ElementsRpc,
    tip: u64,
    timeout: Duration,
) -> Result<(), ConfirmError> {
    // below the RPC client's own request timeout
    let timeout = timeout.min(Duration::from_secs(60));
    match rpc.wait_for_block_height(tip + 1, timeout).await {
        Ok(_) => Ok(()),
        Err(e) if e.is_method_not_found() => {
            tokio::time::sleep(timeout).await;
            Ok(())
        }
        Err(e) => Err(ConfirmError::node("waitforblockheight", e)),
    }
}

/// Whether an unconfirmed wallet transaction is still in the node's mempool, or was mined
/// meanwhile (checked again after a mempool miss, so a block in between is no false alarm).
async fn in_mempool_or_mined(rpc: &ElementsRpc, txid: &Txid) -> Result<bool, ConfirmError> {
    match rpc.get_mempool_entry(txid).await {
        Ok(_) => return Ok(true),
        Err(e) if e.is_invalid_address_or_key() => {}
        Err(e) => return Err(ConfirmError::node("getmempoolentry", e)),
    }
    let again = rpc
        .get_transaction(txid)
        .await
        .map_err(|e| ConfirmError::node("gettransaction", e))?;
    Ok(again.confirmations != 0)
}

async fn block_count(rpc: &ElementsRpc) -> Result<u64, ConfirmError> {
    rpc.get_block_count()
        .await
        .map_err(|e| ConfirmError::node("getblockcount", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(version: u64, subversion: &str) -> NetworkInfo {
        serde_json::from_value(json!({
            "version": version, "subversion": subversion, "protocolversion": 70016,
            "networkactive": true, "connections": 0, "relayfee": 0.00001,
            "incrementalfee": 0.00001, "warnings": "",
            "localservices": "0000000000000409", "localrelay": true, "timeoffset": 0,
            "connections_in": 0, "connections_out": 0, "networks": [], "localaddresses": []
        }))
        .unwrap()
    }

    #[test]
    fn only_recent_elements_core_passes() {
        check_version(&network(230303, "/Elements Core:23.3.3/")).unwrap();
        check_version(&network(170001, "/Elements Core:0.17.0.1/")).unwrap();
        let err = check_version(&network(250000, "/Satoshi:25.0.0/")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unexpected node (/Satoshi:25.0.0/): make sure --node-url points to an Elements \
             Core node"
        );
        let err = check_version(&network(170000, "/Elements Core:0.17.0/")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "node version (170000) not supported (min: 170001): upgrade Elements Core"
        );
    }
}
