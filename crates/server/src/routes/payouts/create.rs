//! `POST …/payouts/create`: the eligible holders at the record height, their shares, their
//! receiving addresses, the recorded payout and its confirm file.

use std::collections::BTreeMap;
use std::str::FromStr;

use amphora_core::assignment::{batches, check_recipients_have_gaid, MAX_OUTPUTS_PER_TX};
use amphora_core::payout::{pro_rata_shares, Holder, ShareError};
use amphora_store::{Conflict, NewPayout, NewPayoutLine, PaymentKind};
use axum::extract::State;
use axum::Json;
use elements::AssetId;
use serde_json::Value;

use super::{line_dto, PayoutCreate};
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::forwarded::Origin;
use crate::refusal::Refusal;
use crate::routes::asset_access::visible_asset;
use crate::routes::distributions;
use crate::state::AppState;

/// The rule of `total_amount`: an issuance's amount rule (1 to 21 million coins of 10^8 base
/// units, Elements' `MAX_MONEY`), which its schema states.
const TOTAL: amphora_core::validation::IntRule = amphora_core::asset::AMOUNT;

/// Holdings at the record height: each registered user's (summed over its GAIDs, by id), the
/// treasury's and the unregistered wallets'.
struct RecordHoldings {
    holders: Vec<Holder>,
    treasury: i64,
    unregistered: i64,
}

async fn record_holdings(
    state: &AppState,
    asset_uuid: &str,
    height: i64,
) -> Result<RecordHoldings, ApiError> {
    let mut by_user: BTreeMap<i64, u64> = BTreeMap::new();
    let (mut treasury, mut unregistered) = (0i64, 0i64);
    for holding in state.store().holdings(asset_uuid, Some(height)).await? {
        match (holding.is_treasury, holding.registered_user) {
            (true, _) => treasury += holding.amount,
            (false, Some((id, _))) => *by_user.entry(id).or_default() += holding.amount as u64,
            (false, None) => unregistered += holding.amount,
        }
    }
    Ok(RecordHoldings {
        holders: by_user
            .into_iter()
            .map(|(registered_user, holding)| Holder {
                registered_user,
                holding,
            })
            .collect(),
        treasury,
        unregistered,
    })
}

/// Checks the body's fields, reporting every bad one.
fn check_create(body: &PayoutCreate) -> Result<AssetId, ApiError> {
    let mut errors = Vec::new();
    let asset = AssetId::from_str(body.payout_asset.trim());
    if asset.is_err() {
        errors.push(amphora_core::FieldError::new(
            "payout_asset",
            "Must be an asset id: 64 hex characters.",
        ));
    }
    if TOTAL.check(body.total_amount).is_err() {
        errors.push(amphora_core::FieldError::new(
            "total_amount",
            format!(
                "Must be between {} and {} base units.",
                TOTAL.min, TOTAL.max
            ),
        ));
    }
    if body.record_height.is_some_and(|h| h < 0) {
        errors.push(amphora_core::FieldError::new(
            "record_height",
            "Ensure this value is at least 0.",
        ));
    }
    match asset {
        Ok(asset) if errors.is_empty() => Ok(asset),
        _ => Err(ApiError::Fields(errors)),
    }
}

/// Creates a payout of `total_amount` base units of `payout_asset` to the registered users
/// holding the security at `record_height` (default: the index tip), pro rata: each share is
/// `total × holding / eligible total` rounded down, the remainder going one unit each to the
/// largest remainders (ties by registered user id); a share of 0 is not paid. Each paid holder
/// gets a fresh address of its default GAID's wallet. Answers the confirm file for
/// `amphora confirm payout` with the lines. 400 when the height is above the index tip,
/// nobody is eligible, a paid holder has no GAID, or the treasury's confirmed balance of a
/// payout asset the platform tracks is too low.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/payouts/create", tag = "payouts",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID of the security")),
    request_body = PayoutCreate,
    responses(
        (status = 200, description = "The confirm file for `amphora confirm payout`, with `lines`", body = Object),
        (status = 400, description = "Bad fields, a record height above the index tip, nobody eligible, a holder without a GAID, or too low a treasury balance"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(asset_uuid): Path<String>,
    origin: Origin,
    extract::RawBody(bytes): extract::RawBody,
) -> Result<Json<Value>, ApiError> {
    let asset = visible_asset(&state, &auth, &asset_uuid).await?;
    let body: PayoutCreate = extract::parse_json_object(&bytes)?;
    let payout_asset = check_create(&body)?;
    let asset_id = asset
        .tx
        .as_ref()
        .map(|tx| tx.asset_id.clone())
        .ok_or(Refusal::NoIssuanceTx)?;
    let tip = state
        .store()
        .chain_tip()
        .await?
        .ok_or(Refusal::ChainIndexEmpty)?;
    let height = body.record_height.unwrap_or(tip.height);
    if height > tip.height {
        return Err(Refusal::RecordHeightAboveTip {
            height,
            tip: tip.height,
        }
        .into());
    }
    let record = record_holdings(&state, &asset_uuid, height).await?;
    let shares =
        pro_rata_shares(body.total_amount as u64, &record.holders).map_err(|e| match e {
            ShareError::NoHolders => Refusal::NoEligibleHolders {
                height,
                treasury: record.treasury,
                unregistered: record.unregistered,
            }
            .into(),
            other => ApiError::Internal(other.to_string()),
        })?;
    // The platform's own asset of that id: its treasury balance is known.
    let payout_asset_text = payout_asset.to_string();
    let tracked = state
        .store()
        .assets(auth.issuer.id)
        .await?
        .into_iter()
        .find(|a| {
            a.tx.as_ref()
                .is_some_and(|tx| tx.asset_id == payout_asset_text)
        })
        .map(|a| a.issuance.uuid);
    if let Some(tracked) = &tracked {
        let balance = state.store().treasury_confirmed_balance(tracked).await?;
        if balance < body.total_amount {
            return Err(Conflict::InsufficientFunds {
                kind: PaymentKind::Payout,
                pays: body.total_amount,
                balance,
            }
            .into());
        }
    }
    let default_gaids: BTreeMap<i64, Option<String>> = state
        .store()
        .registered_users(auth.issuer.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.default_gaid))
        .collect();
    let paid: Vec<(Holder, u64)> = record
        .holders
        .iter()
        .copied()
        .zip(shares.iter().copied())
        .filter(|(_, share)| *share > 0)
        .collect();
    let gaids: Vec<String> = check_recipients_have_gaid(paid.iter().map(|(holder, _)| {
        let user = holder.registered_user;
        (user, default_gaids.get(&user).and_then(|g| g.as_deref()))
    }))
    .map_err(Refusal::Assignment)?
    .into_iter()
    .map(String::from)
    .collect();
    let (batch_of, batch_count) = batches(paid.len(), MAX_OUTPUTS_PER_TX);
    let addresses = distributions::receiving_addresses(&state, &gaids).await?;
    let mut payments: BTreeMap<i64, (String, String, String, i64)> = BTreeMap::new();
    let mut amounts = Vec::with_capacity(paid.len());
    for ((((holder, share), batch), gaid), (address, script)) in
        paid.iter().zip(batch_of).zip(gaids).zip(addresses)
    {
        amounts.push((address.clone(), *share as i64, batch));
        payments.insert(
            holder.registered_user,
            (gaid, address, script, batch as i64),
        );
    }
    let lines: Vec<NewPayoutLine> = record
        .holders
        .iter()
        .zip(&shares)
        .map(|(holder, share)| NewPayoutLine {
            registered_user_id: holder.registered_user,
            holding: holder.holding as i64,
            amount: *share as i64,
            payment: payments.remove(&holder.registered_user),
        })
        .collect();
    let uuid = uuid::Uuid::new_v4().to_string();
    let payout = state
        .store()
        .create_payout(&NewPayout {
            uuid: uuid.clone(),
            issuer_id: auth.issuer.id,
            asset_uuid: asset_uuid.clone(),
            payout_asset_id: payout_asset_text.clone(),
            payout_asset_uuid: tracked,
            total_amount: body.total_amount,
            record_height: height,
            description: body.description.clone(),
            treasury_holding: record.treasury,
            unregistered_holding: record.unregistered,
            batches: batch_count as i64,
            lines,
        })
        .await?;
    let lines = state.store().payout_lines(&uuid).await?;
    let mut file = serde_json::json!({
        "command": "payout",
        "min_supported_client_script_version": 2,
        "base_url": origin.api_base_url(),
        "asset_uuid": asset_uuid,
        "asset_id": asset_id,
        "payout_uuid": uuid,
        "payout_asset": payout_asset_text,
        "total_amount": payout.total_amount,
        "record_height": payout.record_height,
        "treasury_holding": payout.treasury_holding,
        "unregistered_holding": payout.unregistered_holding,
    });
    distributions::add_payment_maps(&mut file, &amounts, &payout_asset_text, batch_count);
    file["lines"] = serde_json::to_value(lines.into_iter().map(line_dto).collect::<Vec<_>>())
        .map_err(|e| ApiError::Internal(format!("payout lines: {e}")))?;
    Ok(Json(file))
}
