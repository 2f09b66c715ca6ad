//! Keeping the co-signer's [`WalletIndex`] in step with the store: wallets registered since the
//! last request (also through another replica) and addresses handed out past the look-ahead.

use std::sync::{Arc, RwLock};

use amphora_cosigner::WalletIndex;
use lwk_wollet::Chain;

use crate::error::ApiError;
use crate::state::AppState;

/// The wallet index, refreshed from the store: every registered wallet is in it and every
/// handed-out receive address is derived.
pub(crate) async fn refreshed_index(
    state: &AppState,
) -> Result<Arc<RwLock<WalletIndex>>, ApiError> {
    let index = state.cosign().wallets.clone();
    let store = state.store();
    let known = index.read().map_err(poisoned)?.len();
    let count = store.registered_wallet_count().await?;
    let wallets = if usize::try_from(count).unwrap_or(usize::MAX) > known {
        store.cosigner_wallets().await?
    } else {
        Vec::new()
    };
    let counters = store.wallet_address_counters().await?;
    if wallets.is_empty() && counters.is_empty() {
        return Ok(index);
    }
    let key_state = state.clone();
    let target = index.clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        let mut index = target.write().map_err(poisoned)?;
        for wallet in &wallets {
            if index.get(&wallet.wid).is_some() {
                continue;
            }
            // A stored wallet passed the same check at registration; one that no longer does
            // (another platform key, a corrupted row) is left out, so its coins are refused.
            if let Err(e) = index.insert(key_state.key(), &wallet.descriptor) {
                tracing::error!(wid = %wallet.wid, error = %e, "registered wallet not indexed");
            }
        }
        for (wid, next) in &counters {
            if *next > 0 {
                index.mark_used(wid, Chain::External, next - 1);
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("wallet index task failed: {e}")))??;
    Ok(index)
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> ApiError {
    ApiError::Internal("the co-signer's wallet index lock is poisoned".to_string())
}
