//! `distribute -f FILE [--use-existing TXID]`: pays a distribution's assignments with one
//! `sendmany` (one per transaction of a split distribution, see
//! [`DistributeRequest::transactions`]), waits for 2 confirmations and confirms each
//! transaction to the platform. The sending and confirming ([`pay`], [`confirm_paid`]) are
//! shared with `payout`.

use std::path::Path;

use amphora_rpc::{Amount, AssetPayment};
use elements::{AssetId, Txid};

use super::Context;
use crate::api::AmpApi;
use crate::error::ConfirmError;
use crate::payload::{self, DistributionConfirm, DistributionTxData};
use crate::request::{self, DistributeRequest, Request};

/// Where a paying transaction is confirmed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ConfirmTo<'a> {
    /// `assets/{u}/distributions/{d}/confirm`.
    Distribution {
        /// The asset.
        asset_uuid: &'a str,
        /// The distribution.
        uuid: &'a str,
    },
    /// `assets/{u}/payouts/{p}/confirm`.
    Payout {
        /// The security.
        asset_uuid: &'a str,
        /// The payout.
        uuid: &'a str,
    },
}

impl ConfirmTo<'_> {
    fn endpoint(&self) -> &'static str {
        match self {
            ConfirmTo::Distribution { .. } => "distribution-confirm",
            ConfirmTo::Payout { .. } => "payout-confirm",
        }
    }
}

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
    let target = ConfirmTo::Distribution {
        asset_uuid: &common.asset_uuid,
        uuid: distribution_uuid,
    };
    let txids = match use_existing {
        None => {
            // The wallet's own earlier payment first: when the platform's follower completed
            // the distribution after an interrupted run, `--use-existing` still delivers the
            // change outputs' data the follower may not read from the chain.
            let batches = request.batches();
            refuse_if_already_paid(ctx, &batches).await?;
            check_assignments(&api, &common.asset_uuid, distribution_uuid).await?;
            pay(ctx, &batches, common.asset_id, "Distribute").await?
        }
        Some(txid) => {
            ctx.ensure_wallet_tx(&txid).await?;
            vec![txid]
        }
    };
    confirm_paid(ctx, &api, target, common.asset_id, &txids).await?;
    ctx.console.info("Distribution confirmed successfully");
    Ok(*txids.last().expect("at least one transaction"))
}

/// Refuses when the wallet already paid one of the addresses, then pays each batch of `asset`
/// with one `sendmany`; gives the transactions in order.
/// Refuses to pay `batches` when the wallet already paid one of their addresses (an
/// interrupted run): called before the platform's own checks, whose refusal ("already carried
/// out") would hide the `--use-existing` way forward.
pub(crate) async fn refuse_if_already_paid(
    ctx: &Context,
    batches: &[Vec<(String, Amount)>],
) -> Result<(), ConfirmError> {
    ctx.refuse_if_already_paid(batches.iter().flatten().map(|(address, _)| address))
        .await
}

/// Pays each batch with one `sendmany` (the caller refused an earlier payment first), each
/// once the previous one is in a block ([`Context::wait_mined`]): every send spends the
/// previous one's change.
pub(crate) async fn pay(
    ctx: &Context,
    batches: &[Vec<(String, Amount)>],
    asset: AssetId,
    what: &str,
) -> Result<Vec<Txid>, ConfirmError> {
    let mut txids: Vec<Txid> = Vec::new();
    for batch in batches {
        if let Some(previous) = txids.last() {
            ctx.wait_mined(previous, &previous.to_string()).await?;
        }
        let payments: Vec<AssetPayment> = batch
            .iter()
            .map(|(address, amount)| AssetPayment {
                address: address.clone(),
                amount: *amount,
                asset,
            })
            .collect();
        amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_SEND);
        let txid = ctx
            .rpc
            .send_many(&payments)
            .await
            .map_err(|e| ConfirmError::node("sendmany", e))?;
        ctx.console.info(format!("{what} transaction {txid}."));
        txids.push(txid);
    }
    Ok(txids)
}

/// Confirms each transaction in turn (a split payment is confirmed transaction by
/// transaction; a failure names the transaction to retry with --use-existing).
pub(crate) async fn confirm_paid(
    ctx: &Context,
    api: &AmpApi,
    target: ConfirmTo<'_>,
    asset: AssetId,
    txids: &[Txid],
) -> Result<(), ConfirmError> {
    for txid in txids {
        confirm_one(ctx, api, target, asset, txid).await?;
    }
    Ok(())
}

/// Waits for `txid`'s confirmations and posts it, with the wallet's change of `asset`, to the
/// platform.
async fn confirm_one(
    ctx: &Context,
    api: &AmpApi,
    target: ConfirmTo<'_>,
    asset: AssetId,
    txid: &Txid,
) -> Result<(), ConfirmError> {
    let retry = txid.to_string();
    ctx.wait_confirmed(txid, &retry).await?;
    let details = ctx.transaction_details(txid).await?;
    let change_data = ctx.change_data(&asset, txid).await?;
    let payload = DistributionConfirm {
        tx_data: DistributionTxData {
            details,
            txid: *txid,
        },
        change_data,
    };
    let endpoint = target.endpoint();
    ctx.console.debug(format!(
        "calling \"{endpoint}\" with payload: {}",
        payload::to_text(&payload)
    ));
    amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_CONFIRM_CALL);
    let answer = match target {
        ConfirmTo::Distribution { asset_uuid, uuid } => {
            api.confirm_distribution(asset_uuid, uuid, &payload).await
        }
        ConfirmTo::Payout { asset_uuid, uuid } => {
            api.confirm_payout(asset_uuid, uuid, &payload).await
        }
    };
    answer.map_err(|source| ConfirmError::ConfirmRejected {
        endpoint,
        txid: txid.to_string(),
        retry,
        source,
    })
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
