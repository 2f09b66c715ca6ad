//! Mining like the embedded node's `--block-interval 0`, for a node that does not mine by
//! itself (a real `elementsd`): a block as soon as the mempool holds a transaction, and blocks
//! until the newest transactions have the wanted confirmations.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use amphora_rpc::ElementsRpc;
use serde_json::{json, Value};

/// How often the miner looks at the node.
const POLL: Duration = Duration::from_millis(25);
/// Bound of one of the miner's calls (a node that went away must not keep the thread).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// A background miner; told to stop when dropped.
///
/// The drop does not wait for the miner's thread: the embedded node may be served by the very
/// runtime that is dropping the guard, so waiting for an in-flight call would deadlock. A call
/// already sent may still complete; no new one starts.
pub struct AutoMiner {
    stop: Arc<AtomicBool>,
    _thread: JoinHandle<()>,
}

impl AutoMiner {
    pub(crate) fn start(rpc: ElementsRpc, address: String, confirmations: u32) -> AutoMiner {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            let rpc = match rpc.with_timeout(CALL_TIMEOUT) {
                Ok(rpc) => rpc,
                Err(_) => return,
            };
            runtime.block_on(async move {
                while !flag.load(Ordering::Relaxed) {
                    match wants_block(&rpc, confirmations).await {
                        Ok(true) if !flag.load(Ordering::Relaxed) => {
                            let _ = rpc
                                .call::<Value>("generatetoaddress", &[json!(1), json!(address)])
                                .await;
                        }
                        Ok(_) | Err(_) => tokio::time::sleep(POLL).await,
                    }
                }
            });
        });
        AutoMiner {
            stop,
            _thread: thread,
        }
    }
}

/// The embedded node's `MiningPolicy::WhileUnconfirmed` rule, asked over RPC: a transaction
/// waits in the mempool, or one of the last `confirmations - 1` blocks (genesis excluded)
/// holds a transaction besides its coinbase.
async fn wants_block(rpc: &ElementsRpc, confirmations: u32) -> Result<bool, amphora_rpc::RpcError> {
    let mempool: Vec<Value> = rpc.call("getrawmempool", &[]).await?;
    if !mempool.is_empty() {
        return Ok(true);
    }
    let tip: u64 = rpc.call("getblockcount", &[]).await?;
    for depth in 0..u64::from(confirmations.saturating_sub(1)) {
        let Some(height) = tip.checked_sub(depth).filter(|h| *h > 0) else {
            break;
        };
        let hash: Value = rpc.call("getblockhash", &[json!(height)]).await?;
        let block: Value = rpc.call("getblock", &[hash, json!(1)]).await?;
        if block["tx"].as_array().map(Vec::len).unwrap_or(0) > 1 {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Drop for AutoMiner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
