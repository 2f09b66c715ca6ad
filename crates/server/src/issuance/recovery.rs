//! Finishing interrupted issuances, without touching another live replica's.
//!
//! Every issuance is owned by the replica that runs it, under a lease ([`IssuanceLeases::ttl`],
//! by default [`ISSUANCE_LEASE_TTL`]) renewed every third of it while the replica works
//! ([`LeaseKeeper`]). Recovery ([`recover_pending_issuances`], at start-up and then every
//! [`IssuanceLeases::recovery_interval`] through [`spawn_issuance_recovery`]) takes over only unfinished issuances whose lease expired
//! or that have no owner (`Store::claim_orphaned_issuances`), so an issuance in flight on a
//! live replica is never failed or re-sent by another, and one left by a replica that died is
//! finished once its lease runs out.

use std::time::Duration;

use super::{broadcast::broadcast, IssuanceError};
use crate::state::AppState;

/// How long an issuance stays its replica's without a renewal.
pub const ISSUANCE_LEASE_TTL: Duration = Duration::from_secs(30);

/// How often each replica looks for orphaned issuances.
pub const ISSUANCE_RECOVERY_INTERVAL: Duration = Duration::from_secs(15);

/// How long issuances stay their replica's and how often recovery looks for orphaned ones
/// (`issuance_lease_ttl_ms` and `issuance_recovery_interval_ms` in the configuration; tests
/// shorten them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssuanceLeases {
    /// How long an issuance stays its replica's without a renewal.
    pub ttl: Duration,
    /// How often each replica looks for orphaned issuances.
    pub recovery_interval: Duration,
}

impl Default for IssuanceLeases {
    fn default() -> Self {
        IssuanceLeases {
            ttl: ISSUANCE_LEASE_TTL,
            recovery_interval: ISSUANCE_RECOVERY_INTERVAL,
        }
    }
}

/// Renews this replica's lease on one issuance until dropped (or released).
pub(super) struct LeaseKeeper {
    state: AppState,
    uuid: String,
    task: tokio::task::JoinHandle<()>,
}

impl LeaseKeeper {
    /// Starts renewing the lease on `uuid` every third of the state's issuance lease.
    pub(super) fn start(state: &AppState, uuid: &str) -> LeaseKeeper {
        let (renewer, id) = (state.clone(), uuid.to_string());
        let ttl = state.issuance_leases().ttl;
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(ttl / 3).await;
                match renewer
                    .store()
                    .renew_issuance_lease(&id, renewer.replica_id(), ttl)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => break, // finished, or no longer ours
                    Err(error) => tracing::warn!(uuid = %id, %error, "cannot renew issuance lease"),
                }
            }
        });
        LeaseKeeper {
            state: state.clone(),
            uuid: uuid.to_string(),
            task,
        }
    }

    /// Stops renewing and lets the lease expire now, so recovery may take the issuance over.
    pub(super) async fn release(self) {
        self.task.abort();
        if let Err(error) = self
            .state
            .store()
            .release_issuance_lease(&self.uuid, self.state.replica_id())
            .await
        {
            tracing::warn!(uuid = %self.uuid, %error, "cannot release issuance lease");
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Finishes the issuances no live replica owns: a stored signed transaction is (re-)broadcast
/// (already in the chain or the mempool counts as success); an issuance without one is marked
/// failed (nothing was sent). Returns how many issuances were resolved; those the node could not
/// answer for now stay to be re-sent later (their lease is released at once). Without a node
/// nothing is done.
pub async fn recover_pending_issuances(state: &AppState) -> Result<usize, IssuanceError> {
    let Some(node) = state.node() else {
        return Ok(0);
    };
    let mut resolved = 0;
    let _exclusive = state.lock_platform_wallet().await;
    let claimed = state
        .store()
        .claim_orphaned_issuances(state.replica_id(), state.issuance_leases().ttl)
        .await?;
    for asset in claimed {
        let uuid = asset.issuance.uuid.clone();
        let lease = LeaseKeeper::start(state, &uuid);
        match &asset.tx {
            Some(tx) => match broadcast(state, node, &uuid, tx).await {
                Ok(()) => {
                    tracing::info!(%uuid, txid = %tx.txid, "interrupted issuance broadcast");
                    resolved += 1;
                }
                Err(IssuanceError::Rejected(reason)) => {
                    tracing::warn!(%uuid, %reason, "interrupted issuance refused by the node");
                    resolved += 1;
                }
                Err(IssuanceError::BroadcastPending(txid)) => {
                    tracing::warn!(%uuid, %txid, "node cannot take it now; issuance stays to be re-sent");
                    lease.release().await;
                }
                Err(error) => {
                    lease.release().await;
                    return Err(error);
                }
            },
            None => {
                state
                    .store()
                    .set_asset_failed(&uuid, "interrupted before the transaction was signed")
                    .await?;
                tracing::warn!(%uuid, "interrupted issuance marked failed");
                resolved += 1;
            }
        }
    }
    Ok(resolved)
}

/// Runs [`recover_pending_issuances`] now and then every
/// [`IssuanceLeases::recovery_interval`] of the state until the returned task is aborted.
pub fn spawn_issuance_recovery(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match recover_pending_issuances(&state).await {
                Ok(0) => {}
                Ok(resolved) => tracing::info!(resolved, "finished interrupted issuances"),
                Err(error) => tracing::warn!(%error, "could not finish interrupted issuances yet"),
            }
            tokio::time::sleep(state.issuance_leases().recovery_interval).await;
        }
    })
}
