//! Distributions (reference §2.10, §3.1): the confirm file for every ready assignment, the
//! confirm call that checks the paying transaction on chain, cancel, list and details.
//!
//! A distribution is paid in batches of at most
//! [`MAX_OUTPUTS_PER_TX`](amphora_core::assignment::MAX_OUTPUTS_PER_TX) recipients. The
//! confirm file's `map_address_amount` holds every recipient (what the official script sends in
//! one `sendmany`); with more than one batch it also lists `transactions`, one
//! `{map_address_amount, map_address_asset}` per batch, for a client that pays each in its own
//! transaction. The confirm call accepts a transaction paying one or several whole batches, and
//! is repeated for each transaction; the distribution is `CONFIRMED` once every batch is paid.

use std::collections::BTreeMap;
use std::str::FromStr;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::forwarded::Origin;
use crate::router::Routes;
use amphora_core::assignment::{
    batches, check_recipients_have_gaid, coin_amount, MAX_OUTPUTS_PER_TX,
};
use amphora_store::{
    Assignment, Distribution, DistributionItem, DistributionStatus, NewDistribution, PaymentKind,
};
use axum::extract::State;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;
use crate::verify::payment;

/// The distribution routes (issuers only); `create` is matched before `{distribution_id}`.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(list))
        .add(Rule::IssuerOnly, routes!(create))
        .add(Rule::IssuerOnly, routes!(details))
        .add(Rule::IssuerOnly, routes!(confirm))
        .add(Rule::IssuerOnly, routes!(cancel))
}

/// The schemas this module adds to the OpenAPI document (its paths come from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    DistributionDto,
    DistributionTxDto,
    DistributionPayment,
    ConfirmRequest
)))]
pub struct Doc;

/// One paid assignment of a distribution transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistributionPayment {
    /// The registered user.
    pub registered_user: i64,
    /// Base units.
    pub amount: i64,
    /// The output paying it.
    pub vout: i64,
}

/// A transaction of a distribution.
#[derive(Debug, Serialize, ToSchema)]
pub struct DistributionTxDto {
    /// Transaction id.
    pub txid: String,
    /// `CONFIRMED` (only confirmed transactions are recorded).
    pub transaction_status: String,
    /// Height of its block.
    pub included_blockheight: i64,
    /// Its block's time, ISO-8601.
    pub confirmed_datetime: String,
    /// What it paid.
    pub assignments: Vec<DistributionPayment>,
}

/// A distribution as the API shows it (reference §7 `Distribution`).
#[derive(Debug, Serialize, ToSchema)]
pub struct DistributionDto {
    /// Id, increasing with time.
    pub id: i64,
    /// UUID.
    pub distribution_uuid: String,
    /// `UNCONFIRMED` or `CONFIRMED`.
    pub distribution_status: String,
    /// Number of transactions that pay it.
    pub transactions_expected: i64,
    /// The transactions recorded so far.
    pub transactions: Vec<DistributionTxDto>,
}

/// `POST …/distributions/{d}/confirm` body (what the confirm client sends).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmRequest {
    /// `{"txid": …, "details": […gettransaction details…]}`.
    #[schema(value_type = Object)]
    pub tx_data: TxData,
    /// `listunspent` entries of the asset created by the transaction (the treasury's change).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub change_data: Vec<Value>,
}

/// `tx_data` of a confirm call.
#[derive(Debug, Deserialize)]
pub struct TxData {
    /// The paying transaction.
    pub txid: String,
    /// `gettransaction(txid).details` (informative; the chain is what is checked).
    #[serde(default)]
    pub details: Value,
}

/// The API view of a distribution with its assignments.
pub(crate) fn dto(distribution: Distribution, assignments: &[Assignment]) -> DistributionDto {
    let mut by_txid: BTreeMap<String, DistributionTxDto> = BTreeMap::new();
    let mut order = Vec::new();
    for tx in &distribution.transactions {
        if by_txid.contains_key(&tx.txid) {
            continue;
        }
        order.push(tx.txid.clone());
        by_txid.insert(
            tx.txid.clone(),
            DistributionTxDto {
                txid: tx.txid.clone(),
                transaction_status: DistributionStatus::Confirmed.as_str().to_string(),
                included_blockheight: tx.included_blockheight,
                confirmed_datetime: tx
                    .confirmed_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                assignments: Vec::new(),
            },
        );
    }
    for assignment in assignments {
        if let (Some(txid), Some(vout)) = (&assignment.txid, assignment.vout) {
            if let Some(tx) = by_txid.get_mut(txid) {
                tx.assignments.push(DistributionPayment {
                    registered_user: assignment.registered_user_id,
                    amount: assignment.amount,
                    vout,
                });
            }
        }
    }
    DistributionDto {
        id: distribution.id,
        distribution_uuid: distribution.uuid,
        distribution_status: distribution.status.as_str().to_string(),
        transactions_expected: distribution.batches,
        transactions: order
            .into_iter()
            .filter_map(|txid| by_txid.remove(&txid))
            .collect(),
    }
}

/// The distribution (not cancelled) with its assignments; 404 otherwise.
pub(crate) async fn find(
    state: &AppState,
    auth: &AuthIssuer,
    asset_uuid: &str,
    uuid: &str,
) -> Result<(Distribution, Vec<Assignment>), ApiError> {
    let distribution = state
        .store()
        .distribution(auth.issuer.id, asset_uuid, uuid)
        .await?
        .filter(|d| d.status != DistributionStatus::Cancelled)
        .ok_or(ApiError::NotFound)?;
    let assignments = state.store().distribution_assignments(uuid).await?;
    Ok((distribution, assignments))
}

/// The asset's distributions, unconfirmed ones included, oldest first.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/distributions", tag = "distributions",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Distributions", body = [DistributionDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(asset_uuid): Path<String>,
) -> Result<Json<Vec<DistributionDto>>, ApiError> {
    visible_asset(&state, &auth, &asset_uuid).await?;
    let distributions = state
        .store()
        .distributions(auth.issuer.id, &asset_uuid)
        .await?;
    let mut out = Vec::with_capacity(distributions.len());
    for distribution in distributions {
        let assignments = state
            .store()
            .distribution_assignments(&distribution.uuid)
            .await?;
        out.push(dto(distribution, &assignments));
    }
    Ok(Json(out))
}

/// Creates a distribution of every ready, unlocked, vested assignment not yet in one, each to
/// a fresh address of its user's default GAID, and returns the confirm file (§3.1). 400 when
/// nothing is eligible, or naming every registered user whose eligible assignment has no GAID
/// (lock those assignments to distribute the rest).
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/distributions/create", tag = "distributions",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The confirm file for `amphora confirm distribute`", body = Object),
        (status = 400, description = "Nothing to distribute, or recipients without a GAID (all named) or a required category"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(asset_uuid): Path<String>,
    origin: Origin,
) -> Result<Json<Value>, ApiError> {
    let asset = visible_asset(&state, &auth, &asset_uuid).await?;
    let asset_id = asset
        .tx
        .as_ref()
        .map(|tx| tx.asset_id.clone())
        .ok_or(Refusal::NoIssuanceTx)?;
    let eligible = state
        .store()
        .eligible_assignments(auth.issuer.id, &asset_uuid, Utc::now())
        .await?;
    if eligible.is_empty() {
        return Err(Refusal::NothingToDistribute.into());
    }
    let users: BTreeMap<i64, Vec<i64>> = state
        .store()
        .registered_users(auth.issuer.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.categories))
        .collect();
    let (batch_of, batch_count) = batches(eligible.len(), MAX_OUTPUTS_PER_TX);
    // Check every recipient first, then hand out all fresh addresses in one batch.
    let gaids: Vec<String> = check_recipients_have_gaid(eligible.iter().map(|entry| {
        (
            entry.assignment.registered_user_id,
            entry.default_gaid.as_deref(),
        )
    }))
    .map_err(Refusal::Assignment)?
    .into_iter()
    .map(String::from)
    .collect();
    for entry in &eligible {
        let user = entry.assignment.registered_user_id;
        if asset.issuance.transfer_restricted {
            let categories = users.get(&user).cloned().unwrap_or_default();
            if let Some(missing) = asset.requirements.iter().find(|c| !categories.contains(c)) {
                return Err(Refusal::LeftRequiredCategory {
                    user,
                    category: *missing,
                }
                .into());
            }
        }
    }
    let addresses = receiving_addresses(&state, &gaids).await?;
    let mut items = Vec::with_capacity(eligible.len());
    let mut amounts = Vec::with_capacity(eligible.len());
    for (((entry, batch), gaid), (address, script)) in
        eligible.into_iter().zip(batch_of).zip(gaids).zip(addresses)
    {
        amounts.push((address.clone(), entry.assignment.amount, batch));
        items.push(DistributionItem {
            assignment_id: entry.assignment.id,
            gaid,
            receiving_address: address,
            script_pubkey: script,
            batch: batch as i64,
        });
    }
    let uuid = uuid::Uuid::new_v4().to_string();
    state
        .store()
        .create_distribution(&NewDistribution {
            uuid: uuid.clone(),
            issuer_id: auth.issuer.id,
            asset_uuid: asset_uuid.clone(),
            batches: batch_count as i64,
            items,
        })
        .await?;
    let mut file = serde_json::json!({
        "command": "distribute",
        "min_supported_client_script_version": 2,
        "base_url": origin.api_base_url(),
        "asset_uuid": asset_uuid,
        "asset_id": asset_id,
        "distribution_uuid": uuid,
    });
    add_payment_maps(&mut file, &amounts, &asset_id, batch_count);
    Ok(Json(file))
}

/// Fresh confidential addresses of the GAIDs' wallets (one each, handed out in one batch), with
/// their scriptPubKeys (hex), in the order of `gaids`.
pub(crate) async fn receiving_addresses(
    state: &AppState,
    gaids: &[String],
) -> Result<Vec<(String, String)>, ApiError> {
    crate::cosign::fresh_addresses(state, gaids)
        .await?
        .into_iter()
        .map(|address| {
            let script = elements::Address::from_str(&address)
                .map_err(|e| ApiError::Internal(format!("fresh address {address}: {e}")))?
                .script_pubkey();
            Ok((address, hex::encode(script.as_bytes())))
        })
        .collect()
}

/// Adds a confirm file's payment maps: `map_address_amount` (decimal units) and
/// `map_address_asset` of every recipient `(address, base units, batch)`, and, with more than
/// one batch, `transactions`, the same maps per batch (what `amphora confirm` pays one
/// `sendmany` each).
pub(crate) fn add_payment_maps(
    file: &mut Value,
    recipients: &[(String, i64, usize)],
    asset_id: &str,
    batch_count: usize,
) {
    let maps = |filter: &dyn Fn(usize) -> bool| {
        let mut amount = Map::new();
        let mut assets = Map::new();
        for (address, units, batch) in recipients {
            if filter(*batch) {
                amount.insert(address.clone(), Value::from(coin_amount(*units)));
                assets.insert(address.clone(), Value::from(asset_id));
            }
        }
        (amount, assets)
    };
    let (all_amounts, all_assets) = maps(&|_| true);
    file["map_address_amount"] = Value::from(all_amounts);
    file["map_address_asset"] = Value::from(all_assets);
    if batch_count > 1 {
        let transactions: Vec<Value> = (0..batch_count)
            .map(|b| {
                let (amount, assets) = maps(&|batch| batch == b);
                serde_json::json!({"map_address_amount": amount, "map_address_asset": assets})
            })
            .collect();
        file["transactions"] = Value::from(transactions);
    }
}

/// One distribution with its transactions.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/distributions/{distribution_id}",
    tag = "distributions", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("distribution_id" = String, Path, description = "Distribution UUID")),
    responses(
        (status = 200, description = "The distribution", body = DistributionDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or distribution"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, uuid)): Path<(String, String)>,
) -> Result<Json<DistributionDto>, ApiError> {
    let (distribution, assignments) = find(&state, &auth, &asset_uuid, &uuid).await?;
    Ok(Json(dto(distribution, &assignments)))
}

/// Confirms a transaction paying (part of) the distribution: it must be on the platform's
/// node with at least 2 confirmations and pay each recipient of one or more whole batches
/// exactly (address, asset and amount, unblinded with the recipient wallet's view key); each
/// `change_data` entry of the asset must open the output's commitments. Then its outputs,
/// the paid assignments and the status are recorded in one transaction. Repeating a confirmed
/// call answers 200 and changes nothing; a wrong transaction is a 400 and changes nothing.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/distributions/{distribution_id}/confirm",
    tag = "distributions", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("distribution_id" = String, Path, description = "Distribution UUID")),
    request_body = ConfirmRequest,
    responses(
        (status = 200, description = "The distribution", body = DistributionDto),
        (status = 400, description = "The transaction does not pay the distribution, is not confirmed enough, or change_data is wrong"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or distribution"),
        (status = 503, description = "No Elements node configured or reachable"),
    ))]
pub async fn confirm(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, uuid)): Path<(String, String)>,
    extract::RawBody(bytes): extract::RawBody,
) -> Result<Json<DistributionDto>, ApiError> {
    let asset = visible_asset(&state, &auth, &asset_uuid).await?;
    let (distribution, mut assignments) = find(&state, &auth, &asset_uuid, &uuid).await?;
    let body: ConfirmRequest = extract::parse_json_object(&bytes)?;
    let txid = elements::Txid::from_str(body.tx_data.txid.trim())
        .map_err(|_| ApiError::field("tx_data", "txid must be 64 hex characters."))?;
    let already = distribution
        .transactions
        .iter()
        .any(|t| t.txid == txid.to_string());
    if !already && distribution.status == DistributionStatus::Confirmed {
        return Err(Refusal::PaymentConfirmed {
            kind: PaymentKind::Distribution,
            txid,
        }
        .into());
    }
    let paid = payment::verify(
        &state,
        &asset,
        &distribution,
        &assignments,
        &txid,
        &body.change_data,
    )
    .await?;
    amphora_core::crash::point(amphora_core::crash::DISTRIBUTION_CONFIRM_BEFORE_RECORD);
    state.store().record_distribution_batch(&paid).await?;
    amphora_core::crash::point(amphora_core::crash::DISTRIBUTION_CONFIRM_AFTER_RECORD);
    // The answer: the distribution as recorded now, with the assignments loaded above and the
    // payments just recorded (what the record wrote to them): a distribution of 10,000
    // assignments is not read a second time for each of its transactions.
    let distribution = state
        .store()
        .distribution(auth.issuer.id, &asset_uuid, &uuid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let vouts: BTreeMap<i64, i64> = paid.payments.iter().copied().collect();
    for assignment in &mut assignments {
        if let Some(vout) = vouts.get(&assignment.id) {
            assignment.txid = Some(paid.txid.clone());
            assignment.vout = Some(*vout);
            assignment.is_distributed = true;
        }
    }
    Ok(Json(dto(distribution, &assignments)))
}

/// Cancels a distribution no transaction has paid yet; its assignments become ready again.
#[utoipa::path(delete, path = "/api/assets/{asset_uuid}/distributions/{distribution_id}/cancel",
    tag = "distributions", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("distribution_id" = String, Path, description = "Distribution UUID")),
    responses(
        (status = 200, description = "The cancelled distribution", body = DistributionDto),
        (status = 400, description = "Already confirmed or partly paid"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or distribution"),
    ))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, uuid)): Path<(String, String)>,
) -> Result<Json<DistributionDto>, ApiError> {
    visible_asset(&state, &auth, &asset_uuid).await?;
    let cancelled = state
        .store()
        .cancel_distribution(auth.issuer.id, &asset_uuid, &uuid)
        .await?;
    Ok(Json(dto(cancelled, &[])))
}
