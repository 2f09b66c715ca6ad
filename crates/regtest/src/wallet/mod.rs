//! Elements-Core-like wallets: multiwallet management and the wallet RPC methods.
//!
//! The node holds one [`WalletManager`] and forwards every RPC call it does not handle
//! itself to [`dispatch`]. Wallets get no callbacks from the chain: each wallet call first
//! syncs the addressed wallet from the chain's read API (blocks from its last synced height,
//! reorgs detected by block hash, then the mempool).
//!
//! Besides the wallet methods, [`dispatch`] answers three wallet-less methods when the
//! server leaves them to it: `createrawtransaction`, `rawissueasset` and `dumpassetlabels`.

mod builder;
mod conflicts;
mod crypto;
mod keys;
mod ledger;
mod params;
mod raw_build;
mod rpc_addresses;
mod rpc_admin;
mod rpc_query;
mod rpc_raw;
mod rpc_spend;
mod rpc_transactions;
mod send;
mod state;
mod store;
#[cfg(test)]
mod test_tx;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

pub use state::Wallet;

/// Errors opening the wallets of a data directory.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// A wallet file could not be read.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A wallet file holds invalid keys.
    #[error("wallet {name} is corrupt: {reason}")]
    Corrupt {
        /// Wallet name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The wallets directory could not be listed.
    #[error("cannot read wallets directory {path}: {source}")]
    Io {
        /// Directory.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// All wallets of the node: the loaded ones (in load order) and, for an in-memory node,
/// the unloaded ones kept for a later `loadwallet`.
#[derive(Debug, Default)]
pub struct WalletManager {
    /// `<datadir>/<chain>/wallets`, `None` for an in-memory node.
    dir: Option<PathBuf>,
    loaded: Vec<Wallet>,
    unloaded_in_memory: Vec<(String, store::WalletData)>,
}

impl WalletManager {
    /// Opens the wallets directory `<datadir>/<chain name>/wallets` and loads the wallets
    /// marked load-on-startup; in memory (nothing loaded) when `datadir` is `None`.
    pub fn open(datadir: Option<&Path>, chain: &Chain) -> Result<WalletManager, WalletError> {
        let Some(datadir) = datadir else {
            return Ok(WalletManager::default());
        };
        let dir = datadir.join(chain.params().name().as_str()).join("wallets");
        let mut manager = WalletManager {
            dir: Some(dir.clone()),
            ..WalletManager::default()
        };
        if !dir.exists() {
            return Ok(manager);
        }
        let entries = std::fs::read_dir(&dir).map_err(|source| WalletError::Io {
            path: dir.clone(),
            source,
        })?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().join(store::WALLET_FILE).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let path = dir.join(&name).join(store::WALLET_FILE);
            let data = store::read(&path)?;
            if !data.load_on_startup {
                continue;
            }
            let wallet =
                Wallet::from_data(&name, Some(path), chain.params().address_params(), data)
                    .map_err(|reason| WalletError::Corrupt {
                        name: name.clone(),
                        reason,
                    })?;
            manager.loaded.push(wallet);
        }
        Ok(manager)
    }

    /// Names of the loaded wallets, in load order (`listwallets`).
    pub fn names(&self) -> Vec<String> {
        self.loaded.iter().map(|w| w.name.clone()).collect()
    }

    /// Catches every loaded wallet up with `chain` (at start, as Core's wallets rescan from
    /// their last block before resubmitting their transactions).
    pub fn sync_all(&mut self, chain: &Chain) -> Result<(), RpcError> {
        for wallet in &mut self.loaded {
            wallet.sync(chain)?;
        }
        Ok(())
    }

    /// The loaded wallets' transactions that are in no block and not conflicted, oldest first (a transaction
    /// that spends another's output comes after it), each once.
    pub fn unconfirmed_transactions(&self) -> Vec<elements::Transaction> {
        let mut found: Vec<(u64, elements::Transaction)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for wallet in &self.loaded {
            for (txid, wtx) in &wallet.data.txs {
                if wtx.block.is_none() && wtx.conflicted.is_none() && seen.insert(*txid) {
                    found.push((wtx.time, wtx.tx.clone()));
                }
            }
        }
        found.sort_by_key(|(time, _)| *time);
        found.into_iter().map(|(_, tx)| tx).collect()
    }

    /// Puts the loaded wallets' unconfirmed, unconflicted transactions that are not in the
    /// mempool back into it, as Elements Core's wallets resubmit theirs at start and at
    /// `loadwallet` (after a crash lost the mempool, or a reorg left them out). Conflicted
    /// ones (see `conflicts`) are not offered; one the mempool refuses for another reason
    /// stays unconfirmed.
    pub fn resubmit_unconfirmed(&self, chain: &mut Chain) {
        let mut pending: Vec<_> = self
            .unconfirmed_transactions()
            .into_iter()
            .filter(|tx| chain.tx(&tx.txid()).is_none())
            .collect();
        // a child may come before its parent: retry until a pass accepts nothing more
        loop {
            let before = pending.len();
            pending.retain(|tx| match chain.submit_transaction(tx.clone()) {
                Ok(txid) => {
                    tracing::info!(%txid, "resubmitted an unconfirmed wallet transaction");
                    false
                }
                Err(_) => true,
            });
            if pending.len() == before {
                break;
            }
        }
        for tx in &pending {
            tracing::info!(txid = %tx.txid(), "the mempool refused an unconfirmed wallet transaction");
        }
    }

    /// A loaded wallet by name.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Wallet> {
        self.loaded.iter_mut().find(|w| w.name == name)
    }

    /// The wallet a request addresses (Core's `GetWalletForJSONRPCRequest`).
    fn resolve(&mut self, wallet_name: Option<&str>) -> Result<&mut Wallet, RpcError> {
        match wallet_name {
            Some(name) => self.get_mut(name).ok_or_else(|| {
                RpcError::new(
                    codes::WALLET_NOT_FOUND,
                    "Requested wallet does not exist or is not loaded",
                )
            }),
            None => match self.loaded.len() {
                1 => Ok(&mut self.loaded[0]),
                0 => Err(RpcError::new(
                    codes::WALLET_NOT_FOUND,
                    "No wallet is loaded. Load a wallet using loadwallet or create a new one with createwallet. (Note: A default wallet is no longer automatically created)",
                )),
                _ => Err(RpcError::new(
                    codes::WALLET_NOT_SPECIFIED,
                    "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path).",
                )),
            },
        }
    }
}

/// Methods that act on one wallet (routed by `/wallet/<name>`).
const WALLET_METHODS: &[&str] = &[
    "getnewaddress",
    "getrawchangeaddress",
    "getaddressinfo",
    "dumpmasterblindingkey",
    "signmessage",
    "getbalance",
    "getbalances",
    "getwalletinfo",
    "listunspent",
    "gettransaction",
    "listtransactions",
    "listissuances",
    "rescanblockchain",
    "sendtoaddress",
    "sendmany",
    "issueasset",
    "reissueasset",
    "destroyamount",
    "fundrawtransaction",
    "blindrawtransaction",
    "signrawtransactionwithwallet",
    "encryptwallet",
    "walletpassphrase",
    "walletlock",
];

/// Handles a wallet RPC method; `None` when `method` is not a wallet method.
///
/// `wallet_name` is the `<name>` of a `/wallet/<name>` request URI, if any.
pub fn dispatch(
    wallets: &mut WalletManager,
    chain: &mut Chain,
    wallet_name: Option<&str>,
    method: &str,
    params: &[Value],
) -> Option<Result<Value, RpcError>> {
    let result = match method {
        "createwallet" => rpc_admin::createwallet(wallets, chain, params),
        "loadwallet" => rpc_admin::loadwallet(wallets, chain, params).inspect(|_| {
            wallets.resubmit_unconfirmed(chain);
        }),
        "unloadwallet" => rpc_admin::unloadwallet(wallets, wallet_name, params),
        "listwallets" => Ok(Value::from(wallets.names())),
        "listwalletdir" => rpc_admin::listwalletdir(wallets),
        "createrawtransaction" => raw_build::createrawtransaction(chain, params),
        "rawissueasset" => raw_build::rawissueasset(chain, params),
        "dumpassetlabels" => Ok(rpc_query::dumpassetlabels(chain)),
        m if WALLET_METHODS.contains(&m) => wallet_call(wallets, chain, wallet_name, m, params),
        _ => return None,
    };
    Some(result)
}

fn wallet_call(
    wallets: &mut WalletManager,
    chain: &mut Chain,
    wallet_name: Option<&str>,
    method: &str,
    params: &[Value],
) -> Result<Value, RpcError> {
    let wallet = wallets.resolve(wallet_name)?;
    wallet.sync(chain)?;
    match method {
        "getnewaddress" => rpc_addresses::getnewaddress(wallet, params),
        "getrawchangeaddress" => rpc_addresses::getrawchangeaddress(wallet),
        "getaddressinfo" => rpc_addresses::getaddressinfo(wallet, params),
        "signmessage" => rpc_addresses::signmessage(wallet, params),
        // Elements Core answers it for locked, watch-only and blank wallets alike
        "dumpmasterblindingkey" => Ok(Value::from(wallet.blinding().master_hex())),
        "getbalance" => rpc_query::getbalance(wallet, chain, params),
        "getbalances" => rpc_query::getbalances(wallet, chain),
        "getwalletinfo" => rpc_query::getwalletinfo(wallet, chain),
        "listunspent" => rpc_query::listunspent(wallet, chain, params),
        "gettransaction" => rpc_transactions::gettransaction(wallet, chain, params),
        "listtransactions" => rpc_transactions::listtransactions(wallet, chain, params),
        "listissuances" => rpc_query::listissuances(wallet, chain, params),
        "rescanblockchain" => rpc_query::rescanblockchain(wallet, chain, params),
        "sendtoaddress" => rpc_spend::sendtoaddress(wallet, chain, params),
        "sendmany" => rpc_spend::sendmany(wallet, chain, params),
        "issueasset" => rpc_spend::issueasset(wallet, chain, params),
        "reissueasset" => rpc_spend::reissueasset(wallet, chain, params),
        "destroyamount" => rpc_spend::destroyamount(wallet, chain, params),
        "fundrawtransaction" => rpc_raw::fundrawtransaction(wallet, chain, params),
        "blindrawtransaction" => rpc_raw::blindrawtransaction(wallet, chain, params),
        "signrawtransactionwithwallet" => {
            rpc_raw::signrawtransactionwithwallet(wallet, chain, params)
        }
        "encryptwallet" => rpc_admin::encryptwallet(wallet, params),
        "walletpassphrase" => rpc_admin::walletpassphrase(wallet, params),
        "walletlock" => wallet.lock().map(|()| Value::Null),
        other => Err(RpcError::new(
            codes::METHOD_NOT_FOUND,
            format!("Method not found: {other}"),
        )),
    }
}
