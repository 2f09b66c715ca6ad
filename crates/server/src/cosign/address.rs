//! Fresh confidential receiving addresses of registered AMP2 wallets.

use amphora_core::gaid::Gaid;
use rayon::prelude::*;

use crate::error::ApiError;
use crate::refusal::Refusal;
use crate::state::AppState;

/// A fresh confidential receive address of the registered wallet with GAID `gaid`: the address
/// at the wallet's next unused receive index. A one-element [`fresh_addresses`].
///
/// Not scoped to an issuer: callers check that the GAID belongs to one of the caller's
/// registered users. Errors: a malformed GAID → 400 (`Refused`); a GAID of no registered
/// wallet → 404.
pub async fn fresh_address(state: &AppState, gaid: &str) -> Result<String, ApiError> {
    let mut addresses = fresh_addresses(state, &[gaid]).await?;
    addresses
        .pop()
        .ok_or_else(|| ApiError::Internal("no address was derived".into()))
}

/// One fresh confidential receive address per GAID of `gaids`, in the same order (a GAID listed
/// k times gets k distinct addresses). The wallets are read in one query, the indexes are
/// reserved in one database transaction (the counters move atomically, so two calls — also on
/// two replicas — never return the same address), the addresses are derived in one blocking
/// task over the cores and recorded (`wallet_addresses`) in one transaction.
///
/// Errors, for the first offending GAID in order: a malformed GAID → 400 (`Refused`); a GAID
/// of no registered wallet → 404; either takes no index.
pub async fn fresh_addresses<G: AsRef<str>>(
    state: &AppState,
    gaids: &[G],
) -> Result<Vec<String>, ApiError> {
    let gaids = gaids
        .iter()
        .map(|g| Gaid::parse(g.as_ref()).map_err(|e| ApiError::from(Refusal::Gaid(e))))
        .collect::<Result<Vec<_>, _>>()?;
    let gaids: Vec<&str> = gaids.iter().map(|g| g.as_str()).collect();
    let wallets = state.store().wallets_by_gaids(&gaids).await?;
    let wallets = gaids
        .iter()
        .map(|g| wallets.get(*g).cloned().ok_or(ApiError::NotFound))
        .collect::<Result<Vec<_>, _>>()?;
    let wids: Vec<&str> = wallets.iter().map(|w| w.wid.as_str()).collect();
    let indexes = state.store().take_wallet_address_indexes(&wids).await?;
    let key_state = state.clone();
    let derived = tokio::task::spawn_blocking(move || {
        // Parsing and checking each descriptor and deriving its keys is EC work (10,000
        // addresses for a distribution to 10,000 holders): spread over the cores, kept in order.
        wallets
            .into_par_iter()
            .zip(indexes)
            .map(|(wallet, index)| {
                let address = key_state
                    .key()
                    .receive_address(&wallet.descriptor, index)
                    .map_err(|e| {
                        ApiError::Internal(format!(
                            "cannot derive address {index} of registered wallet {}: {e}",
                            wallet.wid
                        ))
                    })?;
                Ok((wallet.wid, index, address.to_string()))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await
    .map_err(|e| ApiError::Internal(format!("address derivation task failed: {e}")))??;
    state.store().record_wallet_addresses(&derived).await?;
    Ok(derived.into_iter().map(|(_, _, address)| address).collect())
}
