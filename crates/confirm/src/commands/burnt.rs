//! Before `burn` destroys anything: was this request burnt already? `destroyamount` selects
//! its own outputs, so a burn sent by an earlier run (interrupted after its broadcast by a
//! crash of this client, of the platform or of the node) need not spend the outputs the file
//! lists. With an Amphora file (it names its `burn_request_id`) the platform is asked:
//!
//! 1. the request is completed (the follower or a confirm call recorded its burn): refuse,
//!    naming the recorded transaction;
//! 2. the wallet holds a burn of the request's asset and amount, sent since the request was
//!    made, that the platform has recorded for no request (the window before the follower sees
//!    it): refuse, naming it.
//!
//! The wallet and the platform's burn list are read before the request's state is read the
//! second time, so a burn the follower records meanwhile is caught by one check or the other.
//! A file without the id (Blockstream AMP's) gets only the spent-output check.

use elements::AssetId;

use super::Context;
use crate::api::{AmpApi, BurnRequestState};
use crate::error::ConfirmError;
use crate::request::{BurnRequest, Outpoint, Request};

/// How much earlier than the platform's creation time of the request the wallet's clock may
/// have stamped a burn of it (clocks of the issuer's node and of the platform may differ).
const CLOCK_SLACK_SECS: i64 = 2 * 60 * 60;

/// Refuses to burn when the request was burnt already (see the module documentation); the
/// error names the transaction for `--use-existing`.
pub(super) async fn refuse_if_burnt(
    ctx: &Context,
    api: &AmpApi,
    request: &Request<BurnRequest>,
) -> Result<(), ConfirmError> {
    let asset_id = request.common.asset_id;
    let uuid = &request.common.asset_uuid;
    refuse_if_spent_by_burn(ctx, &asset_id, &request.body.utxos).await?;
    let Some(id) = request.body.burn_request_id else {
        return Ok(());
    };
    let state = request_state(api, uuid, id).await?;
    let created =
        chrono::DateTime::parse_from_rfc3339(&state.created).map_err(|e| ConfirmError::Api {
            what: "the platform's burn request state has no valid \"created\"; nothing was burnt",
            source: crate::api::ApiError::Parse {
                endpoint: format!("assets/{uuid}/burn-requests/{id}"),
                reason: e.to_string(),
            },
        })?;
    let since = created.timestamp() - CLOCK_SLACK_SECS;
    let amount = request.body.amount;
    let burns = ctx
        .wallet_burns_since(&asset_id, amount.units(), since)
        .await?;
    if burns.is_empty() {
        return Ok(());
    }
    let recorded = api
        .recorded_burns(uuid)
        .await
        .map_err(|source| ConfirmError::Api {
            what: "cannot read the platform's recorded burns (burns); nothing was burnt",
            source,
        })?;
    request_state(api, uuid, id).await?;
    match burns
        .iter()
        .find(|txid| !recorded.iter().any(|r| r.txid == txid.to_string()))
    {
        Some(txid) => Err(ConfirmError::UnrecordedBurn {
            txid: txid.to_string(),
            amount,
        }),
        None => Ok(()),
    }
}

/// The request's state on the platform; an error when it is completed already.
async fn request_state(
    api: &AmpApi,
    uuid: &str,
    id: i64,
) -> Result<BurnRequestState, ConfirmError> {
    let state = api
        .burn_request_state(uuid, id)
        .await
        .map_err(|source| ConfirmError::Api {
            what: "cannot ask the platform whether this burn request was already completed \
                   (burn-requests); nothing was burnt",
            source,
        })?;
    match state.txid {
        Some(txid) => Err(ConfirmError::BurnRecorded { txid }),
        None => Ok(state),
    }
}

/// Refuses to burn when a wallet transaction destroying the asset (an `OP_RETURN` output of
/// it) already spends one of the request's outputs (an interrupted earlier run), naming it
/// for `--use-existing`.
async fn refuse_if_spent_by_burn(
    ctx: &Context,
    asset_id: &AssetId,
    utxos: &[Outpoint],
) -> Result<(), ConfirmError> {
    let Some(spend) = ctx.wallet_spend_of(utxos).await? else {
        return Ok(());
    };
    let burns = spend
        .tx
        .output
        .iter()
        .any(|out| out.script_pubkey.is_op_return() && out.asset.explicit() == Some(*asset_id));
    if !burns {
        return Ok(());
    }
    let txid = spend.tx.txid().to_string();
    Err(ConfirmError::AlreadySent {
        what: "a burn",
        retry: txid.clone(),
        txid,
        outpoint: spend.outpoint.to_string(),
    })
}
