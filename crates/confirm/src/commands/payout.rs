//! `payout -f FILE [--use-existing TXID | --resume]`: pays a payout's holders in the payout
//! asset exactly as `distribute` pays a distribution (one `sendmany` per transaction of the
//! file, the already-paid refusal or `--resume`, 2 confirmations, then the confirm call per
//! transaction).

use std::path::Path;

use elements::Txid;

use super::distribute::{confirm_existing, earlier_payments, pay_and_confirm, ConfirmTo, Payment};
use super::Context;
use crate::error::ConfirmError;
use crate::request::{self, PayoutRequest, Request};

/// Runs the sub-command; `resume` finishes an interrupted run of a split payout.
pub async fn run(
    ctx: &Context,
    path: &Path,
    use_existing: Option<Txid>,
    resume: bool,
) -> Result<Txid, ConfirmError> {
    let request: Request<PayoutRequest> = request::load(path, "payout")?;
    request.validate(path)?;
    let common = &request.common;
    let api = ctx.login(&common.base_url).await?;
    let payout_uuid = &request.body.payout_uuid;
    let asset = request.body.payout_asset;
    let target = ConfirmTo::Payout {
        asset_uuid: &common.asset_uuid,
        uuid: payout_uuid,
    };
    let txids = match use_existing {
        None => {
            let batches = request.batches();
            let earlier = earlier_payments(ctx, &batches, resume).await?;
            let status = api
                .payout_status(&common.asset_uuid, payout_uuid)
                .await
                .map_err(|source| ConfirmError::Api {
                    what: "the platform does not show the payout; the payout transaction will \
                           not be sent",
                    source,
                })?;
            // An earlier run's payments may have been confirmed already: the payout is then
            // still unconfirmed unless every transaction was.
            let all_paid = earlier.iter().all(Option::is_some);
            if status != "UNCONFIRMED" && !(all_paid && status == "CONFIRMED") {
                return Err(ConfirmError::PayoutNotPayable {
                    payout_uuid: payout_uuid.clone(),
                    status,
                });
            }
            let plan = Payment {
                batches: &batches,
                earlier: &earlier,
                asset,
                what: "Payout",
            };
            pay_and_confirm(ctx, &api, target, &plan).await?
        }
        Some(txid) => confirm_existing(ctx, &api, target, asset, txid).await?,
    };
    ctx.console.info("Payout confirmed successfully");
    Ok(*txids.last().expect("at least one transaction"))
}
