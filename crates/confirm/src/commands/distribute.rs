//! `distribute -f FILE [--use-existing TXID]`: pays a distribution's assignments with one
//! `sendmany` (one per transaction of a split distribution, see
//! [`DistributeRequest::transactions`]), waits for 2 confirmations and confirms each
//! transaction to the platform.

use std::path::Path;

use amphora_rpc::AssetPayment;
use elements::Txid;

use super::Context;
use crate::api::AmpApi;
use crate::error::ConfirmError;
use crate::payload::{self, DistributionConfirm, DistributionTxData};
use crate::request::{self, Common, DistributeRequest, Request};

/// Runs the sub-command.
pub async fn run(
    ctx: &Context,
    path: &Path,
    use_existing: Option<Txid>,
) -> Result<Txid, ConfirmError> {
    let request: Request<DistributeRequest> = request::load(path, "distribute")?;
    request.validate(path)?;
    let common = &request.common;
    let api = ctx.login_and_check_balance(common).await?;
    let distribution_uuid = &request.body.distribution_uuid;

    let txids = match use_existing {
        None => {
            // The wallet's own earlier payment first: when the platform's follower completed
            // the distribution after an interrupted run, `--use-existing` still delivers the
            // change outputs' data the follower cannot read from the chain.
            let batches = request.batches();
            ctx.refuse_if_already_paid(batches.iter().flatten().map(|(address, _)| address))
                .await?;
            check_assignments(&api, &common.asset_uuid, distribution_uuid).await?;
            let mut txids = Vec::new();
            for batch in batches {
                let payments: Vec<AssetPayment> = batch
                    .iter()
                    .map(|(address, amount)| AssetPayment {
                        address: address.clone(),
                        amount: *amount,
                        asset: common.asset_id,
                    })
                    .collect();
                let txid = ctx
                    .rpc
                    .send_many(&payments)
                    .await
                    .map_err(|e| ConfirmError::node("sendmany", e))?;
                ctx.console.info(format!("Distribute transaction {txid}."));
                txids.push(txid);
            }
            txids
        }
        Some(txid) => {
            ctx.ensure_wallet_tx(&txid).await?;
            vec![txid]
        }
    };
    // A split distribution is confirmed transaction by transaction; a failure names the
    // transaction to retry with --use-existing.
    for txid in &txids {
        confirm_one(ctx, &api, common, distribution_uuid, txid).await?;
    }
    ctx.console.info("Distribution confirmed successfully");
    Ok(*txids.last().expect("at least one transaction"))
}

/// Waits for `txid`'s confirmations and posts it to the platform's distribution confirm.
async fn confirm_one(
    ctx: &Context,
    api: &AmpApi,
    common: &Common,
    distribution_uuid: &str,
    txid: &Txid,
) -> Result<(), ConfirmError> {
    let retry = txid.to_string();
    ctx.wait_confirmed(txid, &retry).await?;
    let details = ctx.transaction_details(txid).await?;
    let change_data = ctx.change_data(&common.asset_id, txid).await?;
    let payload = DistributionConfirm {
        tx_data: DistributionTxData {
            details,
            txid: *txid,
        },
        change_data,
    };
    ctx.console.debug(format!(
        "calling \"distribution-confirm\" with payload: {}",
        payload::to_text(&payload)
    ));
    amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_CONFIRM_CALL);
    api.confirm_distribution(&common.asset_uuid, distribution_uuid, &payload)
        .await
        .map_err(|source| ConfirmError::ConfirmRejected {
            endpoint: "distribution-confirm",
            txid: txid.to_string(),
            retry,
            source,
        })?;
    Ok(())
}

/// At least one assignment must belong to the distribution and none of them be distributed.
async fn check_assignments(
    api: &AmpApi,
    asset_uuid: &str,
    distribution_uuid: &str,
) -> Result<(), ConfirmError> {
    let assignments = api
        .assignments(asset_uuid)
        .await
        .map_err(|source| ConfirmError::Api {
            what: "the platform's \"assignments\" failed; the distribution transaction will not be sent",
            source,
        })?;
    let mine: Vec<_> = assignments
        .iter()
        .filter(|a| a.distribution_uuid.as_deref() == Some(distribution_uuid))
        .collect();
    if mine.is_empty() {
        return Err(ConfirmError::DistributionUnknown {
            asset_uuid: asset_uuid.to_owned(),
            distribution_uuid: distribution_uuid.to_owned(),
        });
    }
    if mine.iter().any(|a| a.is_distributed) {
        return Err(ConfirmError::AlreadyDistributed {
            distribution_uuid: distribution_uuid.to_owned(),
        });
    }
    Ok(())
}
