//! Multiwallet management and encryption RPCs: `createwallet`, `loadwallet`,
//! `unloadwallet`, `listwalletdir`, `encryptwallet`, `walletpassphrase`.

use std::path::PathBuf;

use serde_json::{json, Value};

use super::params::{arg, opt_bool, opt_str, req_str, type_error};
use super::state::Wallet;
use super::store;
use super::WalletManager;
use crate::chain::Chain;
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// Longest `walletpassphrase` timeout Core accepts (seconds).
const MAX_UNLOCK_SECONDS: u64 = 100_000_000;

impl WalletManager {
    fn wallet_dir(&self, name: &str) -> PathBuf {
        match &self.dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from("wallets").join(name),
        }
    }

    fn wallet_file(&self, name: &str) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join(name).join(store::WALLET_FILE))
    }

    fn exists(&self, name: &str) -> bool {
        self.loaded.iter().any(|w| w.name == name)
            || self.unloaded_in_memory.iter().any(|(n, _)| n == name)
            || self.wallet_file(name).is_some_and(|p| p.exists())
    }
}

fn check_name(name: &str) -> Result<(), RpcError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control());
    if bad {
        return Err(RpcError::new(
            codes::WALLET_ERROR,
            format!("Wallet name \"{name}\" is not supported by this node (use a plain file name)"),
        ));
    }
    Ok(())
}

/// `createwallet wallet_name disable_private_keys blank passphrase avoid_reuse descriptors load_on_startup`
pub fn createwallet(
    wallets: &mut WalletManager,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let name = req_str(params, 0, "wallet_name")?.to_owned();
    check_name(&name)?;
    if opt_bool(params, 1)?.unwrap_or(false) {
        return Err(RpcError::new(
            codes::WALLET_ERROR,
            "Wallets without private keys are not supported by this node",
        ));
    }
    if opt_bool(params, 2)?.unwrap_or(false) {
        return Err(RpcError::new(
            codes::WALLET_ERROR,
            "Blank wallets are not supported by this node",
        ));
    }
    let passphrase = opt_str(params, 3)?;
    let descriptors = opt_bool(params, 5)?.unwrap_or(false);
    // Deviation from Core (documented): `load_on_startup` unset means "yes", so a restarted
    // node comes back with the wallets it had.
    let load_on_startup = opt_bool(params, 6)?.unwrap_or(true);
    if wallets.exists(&name) {
        return Err(RpcError::new(
            codes::WALLET_ERROR,
            format!(
                "Wallet file verification failed. Failed to create database path '{}'. Database already exists.",
                wallets.wallet_dir(&name).display()
            ),
        ));
    }
    let (tip, _) = chain.tip();
    let synced = (0..=tip).filter_map(|h| chain.block_hash(h)).collect();
    let mut wallet = Wallet::create(
        &name,
        wallets.wallet_file(&name),
        chain.params().address_params(),
        synced,
        load_on_startup,
    );
    wallet.data.descriptors = descriptors;
    let mut warning = String::new();
    match passphrase {
        Some("") => {
            warning = "Empty string given as passphrase, wallet will not be encrypted.".to_owned()
        }
        Some(p) => wallet.encrypt(p)?,
        None => {}
    }
    wallet.save()?;
    wallets.loaded.push(wallet);
    Ok(json!({ "name": name, "warning": warning }))
}

/// `loadwallet filename load_on_startup`
pub fn loadwallet(
    wallets: &mut WalletManager,
    chain: &Chain,
    params: &[Value],
) -> Result<Value, RpcError> {
    let name = req_str(params, 0, "filename")?.to_owned();
    let load_on_startup = opt_bool(params, 1)?;
    if wallets.loaded.iter().any(|w| w.name == name) {
        let file = wallets.wallet_dir(&name).join(store::WALLET_FILE);
        return Err(RpcError::new(
            codes::WALLET_ALREADY_LOADED,
            format!(
                "Wallet file verification failed. Refusing to load database. Data file '{}' is already loaded.",
                file.display()
            ),
        ));
    }
    let not_found = || {
        RpcError::new(
            codes::WALLET_NOT_FOUND,
            format!(
                "Wallet file verification failed. Failed to load database path '{}'. Path does not exist.",
                wallets.wallet_dir(&name).display()
            ),
        )
    };
    let data = if let Some(pos) = wallets
        .unloaded_in_memory
        .iter()
        .position(|(n, _)| *n == name)
    {
        wallets.unloaded_in_memory.remove(pos).1
    } else {
        let path = wallets
            .wallet_file(&name)
            .filter(|p| p.exists())
            .ok_or_else(not_found)?;
        store::read(&path).map_err(|e| {
            RpcError::new(
                codes::WALLET_NOT_FOUND,
                format!("Wallet file verification failed. {e}"),
            )
        })?
    };
    let mut wallet = Wallet::from_data(
        &name,
        wallets.wallet_file(&name),
        chain.params().address_params(),
        data,
    )
    .map_err(|e| RpcError::new(codes::WALLET_ERROR, format!("Wallet corrupted: {e}")))?;
    if let Some(flag) = load_on_startup {
        wallet.data.load_on_startup = flag;
    }
    wallet.sync(chain)?;
    wallet.save()?;
    wallets.loaded.push(wallet);
    Ok(json!({ "name": name, "warning": "" }))
}

/// `unloadwallet wallet_name load_on_startup`
pub fn unloadwallet(
    wallets: &mut WalletManager,
    uri_wallet: Option<&str>,
    params: &[Value],
) -> Result<Value, RpcError> {
    let param_name = opt_str(params, 0)?;
    let name = match (uri_wallet, param_name) {
        (Some(u), Some(p)) if u != p => {
            return Err(RpcError::new(
                codes::INVALID_PARAMETER,
                "RPC endpoint wallet and wallet_name parameter specify different wallets",
            ))
        }
        (Some(u), _) => u.to_owned(),
        (None, Some(p)) => p.to_owned(),
        (None, None) => wallets.resolve(None)?.name.clone(),
    };
    let load_on_startup = opt_bool(params, 1)?;
    let pos = wallets
        .loaded
        .iter()
        .position(|w| w.name == name)
        .ok_or_else(|| {
            RpcError::new(
                codes::WALLET_NOT_FOUND,
                "Requested wallet does not exist or is not loaded",
            )
        })?;
    let mut wallet = wallets.loaded.remove(pos);
    if let Some(flag) = load_on_startup {
        wallet.data.load_on_startup = flag;
    }
    wallet.save()?;
    if wallet.path.is_none() {
        wallets
            .unloaded_in_memory
            .push((wallet.name.clone(), wallet.data));
    }
    Ok(json!({ "warning": "" }))
}

/// `listwalletdir`
pub fn listwalletdir(wallets: &WalletManager) -> Result<Value, RpcError> {
    let mut names: Vec<String> = wallets.names();
    names.extend(wallets.unloaded_in_memory.iter().map(|(n, _)| n.clone()));
    if let Some(dir) = &wallets.dir {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.filter_map(Result::ok) {
                if e.path().join(store::WALLET_FILE).is_file() {
                    if let Ok(n) = e.file_name().into_string() {
                        names.push(n);
                    }
                }
            }
        }
    }
    names.sort();
    names.dedup();
    let list: Vec<Value> = names.into_iter().map(|n| json!({ "name": n })).collect();
    Ok(json!({ "wallets": list }))
}

/// `encryptwallet passphrase`
pub fn encryptwallet(wallet: &mut Wallet, params: &[Value]) -> Result<Value, RpcError> {
    if wallet.is_encrypted() {
        return Err(RpcError::new(
            codes::WALLET_WRONG_ENC_STATE,
            "Error: running with an encrypted wallet, but encryptwallet was called.",
        ));
    }
    let passphrase = req_str(params, 0, "passphrase")?;
    if passphrase.is_empty() {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "passphrase can not be empty",
        ));
    }
    wallet.encrypt(passphrase)?;
    Ok(Value::from(
        "wallet encrypted; The keypool has been flushed and a new HD seed was generated (if you are using HD). You need to make a new backup.",
    ))
}

/// `walletpassphrase passphrase timeout`
pub fn walletpassphrase(wallet: &mut Wallet, params: &[Value]) -> Result<Value, RpcError> {
    if !wallet.is_encrypted() {
        return Err(RpcError::new(
            codes::WALLET_WRONG_ENC_STATE,
            "Error: running with an unencrypted wallet, but walletpassphrase was called.",
        ));
    }
    let passphrase = req_str(params, 0, "passphrase")?;
    let timeout = match arg(params, 1) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| RpcError::new(codes::TYPE_ERROR, "JSON integer out of range"))?,
        Some(other) => return Err(type_error("number", other)),
        None => return Err(super::params::missing("timeout")),
    };
    if timeout < 0 {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "Timeout cannot be negative.",
        ));
    }
    if passphrase.is_empty() {
        return Err(RpcError::new(
            codes::INVALID_PARAMETER,
            "passphrase can not be empty",
        ));
    }
    wallet.unlock(passphrase, (timeout as u64).min(MAX_UNLOCK_SECONDS))?;
    Ok(Value::Null)
}
