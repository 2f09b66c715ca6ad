//! `distribute -f FILE [--use-existing TXID | --resume]`: pays a distribution's assignments
//! with one `sendmany` (one per transaction of a split distribution, see
//! [`DistributeRequest::transactions`]), waits for 2 confirmations and confirms each
//! transaction to the platform. `--resume` finishes a split distribution an interrupted run
//! paid in part. The paying and confirming ([`earlier_payments`], [`pay_and_confirm`]) are
//! shared with `payout`.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// Runs the sub-command. `resume` finishes an interrupted run of a split distribution (see
/// [`earlier_payments`]).
pub async fn run(
    ctx: &Context,
    path: &Path,
    use_existing: Option<Txid>,
    resume: bool,
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
            let earlier = earlier_payments(ctx, &batches, resume).await?;
            check_assignments(&api, &common.asset_uuid, distribution_uuid, &earlier).await?;
            let plan = Payment {
                batches: &batches,
                earlier: &earlier,
                asset: common.asset_id,
                what: "Distribute",
            };
            pay_and_confirm(ctx, &api, target, &plan).await?
        }
        Some(txid) => confirm_existing(ctx, &api, target, common.asset_id, txid).await?,
    };
    ctx.console.info("Distribution confirmed successfully");
    Ok(*txids.last().expect("at least one transaction"))
}

/// What the wallet already paid of `batches` ([`Context::earlier_payments`]). Without
/// `resume`, any earlier payment is refused: a single transaction is then confirmed with
/// `--use-existing TXID`, a split payment finished with `--resume`.
pub(crate) async fn earlier_payments(
    ctx: &Context,
    batches: &[Vec<(String, Amount)>],
    resume: bool,
) -> Result<Vec<Option<Txid>>, ConfirmError> {
    let earlier = ctx.earlier_payments(batches).await?;
    let paid: Vec<(usize, Txid)> = earlier
        .iter()
        .enumerate()
        .filter_map(|(n, txid)| txid.map(|t| (n, t)))
        .collect();
    match paid.last() {
        Some(&(n, txid)) if !resume && batches.len() == 1 => Err(ConfirmError::AlreadyPaid {
            txid: txid.to_string(),
            address: batches[n]
                .first()
                .map(|(a, _)| a.clone())
                .unwrap_or_default(),
        }),
        Some(&(_, txid)) if !resume => Err(ConfirmError::SplitAlreadyPaid {
            paid: paid.len(),
            of: batches.len(),
            txid: txid.to_string(),
        }),
        _ => Ok(earlier),
    }
}

/// A payment of a distribution or payout file: its batches (one transaction each), what an
/// earlier run already paid of them, the asset and the word the progress lines use.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Payment<'a> {
    /// The recipients of each transaction.
    pub batches: &'a [Vec<(String, Amount)>],
    /// The wallet's transaction of each batch an earlier run paid.
    pub earlier: &'a [Option<Txid>],
    /// The asset paid.
    pub asset: AssetId,
    /// "Distribute", "Payout".
    pub what: &'a str,
}

impl Payment<'_> {
    /// The argument that finishes this payment's run once `txid` was sent: `--resume` for a
    /// split payment (it confirms what was sent and sends the rest), `--use-existing TXID`
    /// otherwise.
    fn retry(&self, txid: &Txid) -> String {
        if self.batches.len() > 1 {
            crate::error::RESUME.to_owned()
        } else {
            crate::error::use_existing(txid)
        }
    }
}

/// Confirms the wallet transaction `txid` named by `--use-existing` (it is not sent again).
pub(crate) async fn confirm_existing(
    ctx: &Context,
    api: &AmpApi,
    target: ConfirmTo<'_>,
    asset: AssetId,
    txid: Txid,
) -> Result<Vec<Txid>, ConfirmError> {
    ctx.ensure_wallet_tx(&txid).await?;
    confirm_one(
        ctx,
        api,
        target,
        asset,
        &txid,
        &crate::error::use_existing(txid),
    )
    .await?;
    Ok(vec![txid])
}

/// Pays the batches an earlier run did not pay and confirms every paying transaction to the
/// platform, in file order; gives the transactions. Sending and confirming overlap: a
/// transaction is confirmed (once it has its confirmations) while the next ones are sent, and
/// once a confirmation fails nothing more is sent.
pub(crate) async fn pay_and_confirm(
    ctx: &Context,
    api: &AmpApi,
    target: ConfirmTo<'_>,
    plan: &Payment<'_>,
) -> Result<Vec<Txid>, ConfirmError> {
    let (paid, mut to_confirm) = tokio::sync::mpsc::unbounded_channel::<Txid>();
    let stop = AtomicBool::new(false);
    let sending = async {
        let sent = pay(ctx, plan, &stop, paid).await;
        if sent.is_err() {
            stop.store(true, Ordering::SeqCst);
        }
        sent
    };
    let confirming = async {
        let mut confirmed = Vec::new();
        while let Some(txid) = to_confirm.recv().await {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let done = confirm_one(ctx, api, target, plan.asset, &txid, &plan.retry(&txid)).await;
            if let Err(e) = done {
                stop.store(true, Ordering::SeqCst);
                return Err(e);
            }
            confirmed.push(txid);
        }
        Ok(confirmed)
    };
    let (sent, confirmed) = tokio::join!(sending, confirming);
    // A failed send stops the confirmations after it; a failed confirmation the sends: either
    // error names the way forward.
    sent?;
    confirmed
}

/// Pays each batch an earlier run did not pay with one `sendmany`, each once the previous
/// transaction is in a block ([`Context::wait_mined`]): every send spends the previous one's
/// change. Hands each paying transaction, in order, to `paid`; stops before the next send
/// once `stop` is set.
async fn pay(
    ctx: &Context,
    plan: &Payment<'_>,
    stop: &AtomicBool,
    paid: tokio::sync::mpsc::UnboundedSender<Txid>,
) -> Result<(), ConfirmError> {
    let mut previous: Option<Txid> = None;
    for (batch, earlier) in plan.batches.iter().zip(plan.earlier) {
        if let Some(txid) = earlier {
            ctx.console.info(format!(
                "{} transaction {txid} of an earlier run: not sent again.",
                plan.what
            ));
            if previous != Some(*txid) {
                let _ = paid.send(*txid);
            }
            previous = Some(*txid);
            continue;
        }
        if let Some(previous) = previous {
            ctx.wait_mined(&previous, &plan.retry(&previous)).await?;
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let payments: Vec<AssetPayment> = batch
            .iter()
            .map(|(address, amount)| AssetPayment {
                address: address.clone(),
                amount: *amount,
                asset: plan.asset,
            })
            .collect();
        amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_SEND);
        let txid = ctx
            .rpc
            .send_many(&payments)
            .await
            .map_err(|e| ConfirmError::node("sendmany", e))?;
        ctx.console
            .info(format!("{} transaction {txid}.", plan.what));
        let _ = paid.send(txid);
        previous = Some(txid);
    }
    Ok(())
}

/// Waits for `txid`'s confirmations and posts it, with the wallet's change of `asset`, to the
/// platform. `retry` is the argument that finishes the run if this fails.
async fn confirm_one(
    ctx: &Context,
    api: &AmpApi,
    target: ConfirmTo<'_>,
    asset: AssetId,
    txid: &Txid,
    retry: &str,
) -> Result<(), ConfirmError> {
    ctx.wait_confirmed(txid, retry).await?;
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
        retry: retry.to_owned(),
        source,
    })
}

/// At least one assignment must belong to the distribution, and none of them be distributed
/// when nothing was sent yet. When an earlier run sent some transactions (`earlier`), theirs
/// may be distributed already: not all of them may be while one is still to be sent.
async fn check_assignments(
    api: &AmpApi,
    asset_uuid: &str,
    distribution_uuid: &str,
    earlier: &[Option<Txid>],
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
    let distributed = mine.iter().filter(|a| a.is_distributed).count();
    let refused = if earlier.iter().all(Option::is_none) {
        distributed > 0
    } else {
        earlier.iter().any(Option::is_none) && distributed == mine.len()
    };
    if refused {
        return Err(ConfirmError::AlreadyDistributed {
            distribution_uuid: distribution_uuid.to_owned(),
        });
    }
    Ok(())
}
