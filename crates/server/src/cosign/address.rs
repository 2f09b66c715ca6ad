//! Fresh confidential receiving addresses of registered AMP2 wallets.

use amphora_core::gaid::Gaid;

use crate::error::ApiError;
use crate::state::AppState;

/// A fresh confidential receive address of the registered wallet with GAID `gaid`: the address
/// at the wallet's next unused receive index. The index counter lives in the database and moves
/// atomically, so two calls — also on two replicas — never return the same address. Every
/// address handed out is recorded (`wallet_addresses`).
///
/// Not scoped to an issuer: callers check that the GAID belongs to one of the caller's
/// registered users. Errors: a malformed GAID → 400 (`Business`); a GAID of no registered
/// wallet → 404.
pub async fn fresh_address(state: &AppState, gaid: &str) -> Result<String, ApiError> {
    let gaid = Gaid::parse(gaid).map_err(|e| ApiError::Business(e.to_string()))?;
    let wallet = state
        .store()
        .wallet_by_gaid(gaid.as_str())
        .await?
        .ok_or(ApiError::NotFound)?;
    let index = state.store().take_wallet_address_index(&wallet.wid).await?;
    let key_state = state.clone();
    let descriptor = wallet.descriptor.clone();
    let address =
        tokio::task::spawn_blocking(move || key_state.key().receive_address(&descriptor, index))
            .await
            .map_err(|e| ApiError::Internal(format!("address derivation task failed: {e}")))?
            .map_err(|e| {
                ApiError::Internal(format!(
                    "cannot derive address {index} of registered wallet {}: {e}",
                    wallet.wid
                ))
            })?
            .to_string();
    state
        .store()
        .record_wallet_address(&wallet.wid, index, &address)
        .await?;
    Ok(address)
}
