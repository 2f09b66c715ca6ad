//! `update-blinders -a ASSET_UUID [-b BASE_URL]`: sends the platform the blinders of the
//! issuance outputs it does not know (`asset_blinder` all zero), read from the issuer's wallet.

use super::Context;
use crate::api::BlinderUpdate;
use crate::error::ConfirmError;

/// The platform's placeholder for an unknown blinder.
const UNKNOWN_BLINDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Runs the sub-command; returns the updates sent.
pub async fn run(
    ctx: &Context,
    base_url: &str,
    asset_uuid: &str,
) -> Result<Vec<BlinderUpdate>, ConfirmError> {
    let api = ctx.login(base_url).await?;
    let txs = api
        .asset_txs(asset_uuid)
        .await
        .map_err(|source| ConfirmError::Api {
            what: "the platform's \"transaction list\" failed; blinders will not be updated",
            source,
        })?;
    let issuance = txs.first().ok_or_else(|| ConfirmError::NoIssuance {
        asset_uuid: asset_uuid.to_owned(),
    })?;
    let vouts: Vec<u32> = issuance
        .outputs
        .iter()
        .filter(|o| o.asset_blinder == UNKNOWN_BLINDER)
        .map(|o| o.vout)
        .collect();
    let txid = issuance.txid.parse().map_err(|_| ConfirmError::Api {
        what: "the platform's \"transaction list\" is not usable",
        source: crate::api::ApiError::Parse {
            endpoint: format!("assets/{asset_uuid}/txs"),
            reason: format!("{:?} is not a transaction id", issuance.txid),
        },
    })?;
    let tx = ctx
        .rpc
        .get_transaction(&txid)
        .await
        .map_err(|e| ConfirmError::node("gettransaction", e))?;
    let mut updates: Vec<BlinderUpdate> = Vec::new();
    for detail in &tx.details {
        if !vouts.contains(&detail.vout) || updates.iter().any(|u| u.vout == detail.vout) {
            continue;
        }
        if let (Some(asset_blinder), Some(amount_blinder)) =
            (&detail.assetblinder, &detail.amountblinder)
        {
            updates.push(BlinderUpdate {
                txid: issuance.txid.clone(),
                vout: detail.vout,
                asset_blinder: asset_blinder.clone(),
                amount_blinder: amount_blinder.clone(),
            });
        }
    }
    if updates.is_empty() {
        return Err(ConfirmError::NothingToUpdate {
            txid: issuance.txid.clone(),
        });
    }
    for (sent, update) in updates.iter().enumerate() {
        ctx.console.debug(format!(
            "sending the blinders of {}:{}",
            update.txid, update.vout
        ));
        api.update_blinders(asset_uuid, update)
            .await
            .map_err(|source| ConfirmError::UpdateBlinders {
                sent,
                total: updates.len(),
                source,
            })?;
    }
    ctx.console.info("update-blinders confirmed successfully");
    Ok(updates)
}
