//! `payout -f FILE [--use-existing TXID]`: pays a payout's holders in the payout asset exactly
//! as `distribute` pays a distribution (one `sendmany` per transaction of the file, the
//! already-paid refusal, 2 confirmations, then the confirm call per transaction).

use std::path::Path;

use elements::Txid;

use super::distribute::{confirm_paid, pay, refuse_if_already_paid, ConfirmTo};
use super::Context;
use crate::error::ConfirmError;
use crate::request::{self, PayoutRequest, Request};

/// Runs the sub-command.
pub async fn run(
    ctx: &Context,
    path: &Path,
    use_existing: Option<Txid>,
) -> Result<Txid, ConfirmError> {
    let request: Request<PayoutRequest> = request::load(path, "payout")?;
    request.validate(path)?;
    let common = &request.common;
    let api = ctx.login(&common.base_url).await?;
    let payout_uuid = &request.body.payout_uuid;
    let asset = request.body.payout_asset;
    let txids = match use_existing {
        None => {
            let batches = request.batches();
            refuse_if_already_paid(ctx, &batches).await?;
            let status = api
                .payout_status(&common.asset_uuid, payout_uuid)
                .await
                .map_err(|source| ConfirmError::Api {
                    what: "the platform does not show the payout; the payout transaction will \
                           not be sent",
                    source,
                })?;
            if status != "UNCONFIRMED" {
                return Err(ConfirmError::PayoutNotPayable {
                    payout_uuid: payout_uuid.clone(),
                    status,
                });
            }
            pay(ctx, &batches, asset, "Payout").await?
        }
        Some(txid) => {
            ctx.ensure_wallet_tx(&txid).await?;
            vec![txid]
        }
    };
    let target = ConfirmTo::Payout {
        asset_uuid: &common.asset_uuid,
        uuid: payout_uuid,
    };
    confirm_paid(ctx, &api, target, asset, &txids).await?;
    ctx.console.info("Payout confirmed successfully");
    Ok(*txids.last().expect("at least one transaction"))
}
