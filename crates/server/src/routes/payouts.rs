//! Payouts (record-date corporate actions: dividends, coupons, fund distributions): a total
//! amount of a payout asset shared among the registered users holding the security at a record
//! height, with the confirm file `amphora confirm payout` pays, the confirm call that checks
//! the paying transaction on chain, cancel, list and details (also as CSV). Creation is in
//! [`create`].
//!
//! Built from the distribution pieces: ownerships at a height ([`Store::holdings`]), the
//! shares ([`pro_rata_shares`]: largest remainder, ties by registered user id), the address
//! handout and the confirm file's maps ([`receiving_addresses`], [`add_payment_maps`]), the
//! batch split ([`batches`]) and the on-chain check ([`verify_payment`]).
//!
//! [`Store::holdings`]: amphora_store::Store::holdings
//! [`pro_rata_shares`]: amphora_core::payout::pro_rata_shares
//! [`receiving_addresses`]: crate::routes::distributions::receiving_addresses
//! [`add_payment_maps`]: crate::routes::distributions::add_payment_maps
//! [`batches`]: amphora_core::assignment::batches
//! [`verify_payment`]: crate::verify::payment::verify_payment

mod create;

use std::collections::BTreeMap;
use std::str::FromStr;

use amphora_store::{DistributionStatus, PaymentKind, Payout, PayoutLine, UserPayoutLine};
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use elements::AssetId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::routes::csv_answer::{csv_response, format_param, wants_csv};
use crate::routes::distributions::ConfirmRequest;
use crate::state::AppState;
use crate::verify::payment::{self, ExpectedPayment, PaymentCheck};
use crate::verify::refusal::Recipient;

/// The payout routes: managers read those of granted assets; `create` is matched before
/// `{payout_id}`.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManagerForAsset, routes!(list))
        .add(Rule::IssuerOnly, routes!(create::create))
        .add(Rule::IssuerOrManagerForAsset, routes!(details))
        .add(Rule::IssuerOnly, routes!(confirm))
        .add(Rule::IssuerOnly, routes!(cancel))
}

/// The schemas this module adds to the OpenAPI document (its paths come from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    PayoutCreate,
    PayoutDto,
    PayoutLineDto,
    PayoutTxDto,
    UserPayoutDto
)))]
pub struct Doc;

/// `POST …/payouts/create` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutCreate {
    /// The asset paid (64 hex): L-BTC's asset id, an asset issued on the platform, or any
    /// other.
    #[schema(schema_with = crate::schema::asset_id)]
    pub payout_asset: String,
    /// Base units of the payout asset shared among the holders.
    #[schema(schema_with = crate::schema::amount)]
    pub total_amount: i64,
    /// Holdings at this block height count (default: the chain index's tip).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub record_height: Option<i64>,
    /// Free text (e.g. "2026 dividend").
    #[serde(default)]
    pub description: String,
}

/// One holder's line of a payout.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutLineDto {
    /// The registered user.
    pub registered_user: i64,
    /// The GAID paid (`null` for a share of 0, which is not paid).
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Units of the security held at the record height.
    pub holding: i64,
    /// The share, base units of the payout asset.
    pub amount: i64,
    /// The receiving address (`null` for a share of 0).
    pub receiving_address: Option<String>,
    /// The paying transaction, once recorded.
    pub txid: Option<String>,
    /// The output paying it, once recorded.
    pub vout: Option<i64>,
}

/// A registered user's line of a payout, in the user's summary.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPayoutDto {
    /// The payout.
    pub payout_uuid: String,
    /// `UNCONFIRMED` or `CONFIRMED`.
    pub payout_status: String,
    /// The asset paid (hex id).
    pub payout_asset: String,
    /// The payout's record height.
    pub record_height: i64,
    /// The user's line.
    #[serde(flatten)]
    pub line: PayoutLineDto,
}

impl From<UserPayoutLine> for UserPayoutDto {
    fn from(entry: UserPayoutLine) -> Self {
        UserPayoutDto {
            payout_uuid: entry.line.payout_uuid.clone(),
            payout_status: entry.status.as_str().to_string(),
            payout_asset: entry.payout_asset_id,
            record_height: entry.record_height,
            line: line_dto(entry.line),
        }
    }
}

/// A transaction of a payout.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutTxDto {
    /// Transaction id.
    pub txid: String,
    /// Height of its block.
    pub included_blockheight: i64,
    /// Its block's time, ISO-8601.
    pub confirmed_datetime: String,
}

/// A payout as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutDto {
    /// Id, increasing with time.
    pub id: i64,
    /// UUID.
    pub payout_uuid: String,
    /// `UNCONFIRMED`, `CONFIRMED` or `CANCELLED`.
    pub payout_status: String,
    /// The security whose holders are paid.
    pub asset_uuid: String,
    /// The asset paid (hex id).
    pub payout_asset: String,
    /// Base units of the payout asset shared.
    pub total_amount: i64,
    /// The height whose holdings count.
    pub record_height: i64,
    /// Free text.
    pub description: String,
    /// Units of the security the treasury held at the record height (not paid).
    pub treasury_holding: i64,
    /// Units held by wallets of no registered user at the record height (not paid).
    pub unregistered_holding: i64,
    /// Number of transactions that pay it.
    pub transactions_expected: i64,
    /// The transactions recorded so far.
    pub transactions: Vec<PayoutTxDto>,
    /// One line per eligible holder, by registered user id.
    pub lines: Vec<PayoutLineDto>,
}

/// The API view of a payout line.
pub(crate) fn line_dto(line: PayoutLine) -> PayoutLineDto {
    PayoutLineDto {
        registered_user: line.registered_user_id,
        gaid: line.gaid,
        holding: line.holding,
        amount: line.amount,
        receiving_address: line.receiving_address,
        txid: line.txid,
        vout: line.vout,
    }
}

/// The API view of a payout with its lines.
pub(crate) fn dto(payout: Payout, lines: Vec<PayoutLine>) -> PayoutDto {
    let mut seen = Vec::new();
    let mut transactions = Vec::new();
    for tx in payout.transactions {
        if !seen.contains(&tx.txid) {
            seen.push(tx.txid.clone());
            transactions.push(PayoutTxDto {
                txid: tx.txid,
                included_blockheight: tx.included_blockheight,
                confirmed_datetime: tx
                    .confirmed_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            });
        }
    }
    PayoutDto {
        id: payout.id,
        payout_uuid: payout.uuid,
        payout_status: payout.status.as_str().to_string(),
        asset_uuid: payout.asset_uuid,
        payout_asset: payout.payout_asset_id,
        total_amount: payout.total_amount,
        record_height: payout.record_height,
        description: payout.description,
        treasury_holding: payout.treasury_holding,
        unregistered_holding: payout.unregistered_holding,
        transactions_expected: payout.batches,
        transactions,
        lines: lines.into_iter().map(line_dto).collect(),
    }
}

/// The payout (not cancelled) with its lines; 404 otherwise.
async fn find(
    state: &AppState,
    auth: &AuthIssuer,
    asset_uuid: &str,
    uuid: &str,
) -> Result<(Payout, Vec<PayoutLine>), ApiError> {
    let payout = state
        .store()
        .payout(auth.issuer.id, asset_uuid, uuid)
        .await?
        .filter(|p| p.status != DistributionStatus::Cancelled)
        .ok_or(ApiError::NotFound)?;
    let lines = state.store().payout_lines(uuid).await?;
    Ok((payout, lines))
}

/// The asset's payouts, unconfirmed ones included, oldest first.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/payouts", tag = "payouts",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Payouts", body = [PayoutDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(asset_uuid): Path<String>,
) -> Result<Json<Vec<PayoutDto>>, ApiError> {
    visible_asset(&state, &auth, &asset_uuid).await?;
    let payouts = state.store().payouts(auth.issuer.id, &asset_uuid).await?;
    let mut out = Vec::with_capacity(payouts.len());
    for payout in payouts {
        let lines = state.store().payout_lines(&payout.uuid).await?;
        out.push(dto(payout, lines));
    }
    Ok(Json(out))
}

/// One payout with its lines; `?format=csv` (or `Accept: text/csv`) gives the lines as CSV:
/// `registered_user_id,name,GAID,holding,amount,txid,vout`, one row per line.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/payouts/{payout_id}", tag = "payouts",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("payout_id" = String, Path, description = "Payout UUID"),
        ("format" = inline(Option<crate::schema::ReportFormat>), Query, description = "`csv` for the lines as CSV")),
    responses(
        (status = 200, description = "The payout (JSON), or its lines (text/csv)", content((PayoutDto = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Unknown format"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or payout"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, uuid)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    visible_asset(&state, &auth, &asset_uuid).await?;
    let csv = wants_csv(format_param(&uri)?.as_deref(), &headers)?;
    let (payout, lines) = find(&state, &auth, &asset_uuid, &uuid).await?;
    if !csv {
        return Ok(Json(dto(payout, lines)).into_response());
    }
    let names: BTreeMap<i64, String> = state
        .store()
        .registered_users(auth.issuer.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let rows = lines.into_iter().map(|line| {
        vec![
            line.registered_user_id.to_string(),
            names
                .get(&line.registered_user_id)
                .cloned()
                .unwrap_or_default(),
            line.gaid.unwrap_or_default(),
            line.holding.to_string(),
            line.amount.to_string(),
            line.txid.unwrap_or_default(),
            line.vout.map(|v| v.to_string()).unwrap_or_default(),
        ]
    });
    csv_response(
        &format!("payout-{uuid}.csv"),
        &[
            "registered_user_id",
            "name",
            "GAID",
            "holding",
            "amount",
            "txid",
            "vout",
        ],
        rows,
    )
}

/// Confirms a transaction paying (part of) the payout: it must be on the platform's node with
/// at least 2 confirmations and pay each line of one or more whole batches exactly (address,
/// payout asset and amount, unblinded with the recipient wallet's view key); for a payout
/// asset the platform tracks, each `change_data` entry of it must open the output's
/// commitments. Repeating a confirmed call answers 200 and changes nothing; a wrong
/// transaction is a 400 and changes nothing.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/payouts/{payout_id}/confirm",
    tag = "payouts", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("payout_id" = String, Path, description = "Payout UUID")),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "The payout", body = PayoutDto),
        (status = 400, description = "The transaction does not pay the payout, is not confirmed enough, or change_data is wrong"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or payout"),
        (status = 503, description = "No Elements node configured or reachable"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, uuid)): Path<(String, String)>,
    extract::RawBody(bytes): extract::RawBody,
) -> Result<Json<PayoutDto>, ApiError> {
    visible_asset(&state, &auth, &asset_uuid).await?;
    let (payout, lines) = find(&state, &auth, &asset_uuid, &uuid).await?;
    let body: ConfirmRequest = extract::parse_json_object(&bytes)?;
    let txid = elements::Txid::from_str(body.tx_data.txid.trim())
        .map_err(|_| ApiError::field("tx_data", "txid must be 64 hex characters."))?;
    let already = payout
        .transactions
        .iter()
        .any(|t| t.txid == txid.to_string());
    if !already && payout.status == DistributionStatus::Confirmed {
        return Err(Refusal::PaymentConfirmed {
            kind: PaymentKind::Payout,
            txid,
        }
        .into());
    }
    let asset_id = AssetId::from_str(&payout.payout_asset_id)
        .map_err(|e| ApiError::Internal(format!("stored payout asset: {e}")))?;
    let check = PaymentCheck {
        kind: PaymentKind::Payout,
        uuid: &payout.uuid,
        asset_id,
        asset_uuid: payout.payout_asset_uuid.as_deref(),
        paid_batches: payout
            .transactions
            .iter()
            .map(|t| (t.batch, t.txid.clone()))
            .collect(),
        lines: lines
            .iter()
            .filter_map(|line| {
                Some(ExpectedPayment {
                    line: line.id,
                    recipient: Recipient::RegisteredUser(line.registered_user_id),
                    batch: line.batch?,
                    gaid: line.gaid.clone()?,
                    address: line.receiving_address.clone()?,
                    script: line.script_pubkey.clone()?,
                    amount: line.amount,
                })
            })
            .collect(),
    };
    let paid = payment::verify_payment(&state, &check, &txid, &body.change_data).await?;
    state.store().record_payout_batch(&paid).await?;
    let (payout, lines) = find(&state, &auth, &asset_uuid, &uuid).await?;
    Ok(Json(dto(payout, lines)))
}

/// Cancels a payout no transaction has paid yet.
#[utoipa::path(delete, path = "/api/assets/{asset_uuid}/payouts/{payout_id}/cancel",
    tag = "payouts", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("payout_id" = String, Path, description = "Payout UUID")),
    responses(
        (status = 200, description = "The cancelled payout", body = PayoutDto),
        (status = 400, description = "Already confirmed, cancelled or partly paid"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or payout"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, uuid)): Path<(String, String)>,
) -> Result<Json<PayoutDto>, ApiError> {
    visible_asset(&state, &auth, &asset_uuid).await?;
    let cancelled = state
        .store()
        .cancel_payout(auth.issuer.id, &asset_uuid, &uuid)
        .await?;
    let lines = state.store().payout_lines(&uuid).await?;
    Ok(Json(dto(cancelled, lines)))
}
