//! Asset reports computed from the chain index (reference §2.7–2.8): summary, balance,
//! ownerships (at the tip or a past height), UTXOs and their blacklist, lost outputs, and, in
//! the submodules, activities and transactions ([`history`]) and blinder updates
//! ([`blinders`]).

mod blinders;
mod cap_table;
mod cosign_decisions;
mod history;

use amphora_core::FieldError;
use amphora_store::{Asset, Holding, OutputOwner, ReportOutput};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{parse_json, AuthIssuer, Path, RawBody};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::routes::csv_answer::{csv_response, format_param, wants_csv};
use crate::state::AppState;

pub use blinders::{BlindersUpdate, BlindersUpdated};
pub use cosign_decisions::CosignDecisionDto;
pub use history::{ActivityDto, AssetTransactionDto, TxInputDto, TxOutputDto};

/// The report routes: managers read the summary, balance and activities of granted assets.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManagerForAsset, routes!(summary))
        .add(Rule::IssuerOrManagerForAsset, routes!(balance))
        .add(Rule::IssuerOnly, routes!(ownerships))
        .add(Rule::IssuerOnly, routes!(ownerships_at))
        .add(Rule::IssuerOrManagerForAsset, routes!(history::activities))
        .add(
            Rule::IssuerOnly,
            routes!(cosign_decisions::cosign_decisions),
        )
        .add(Rule::IssuerOnly, routes!(history::txs))
        .add(Rule::IssuerOnly, routes!(history::tx))
        .add(Rule::IssuerOnly, routes!(utxos))
        .add(Rule::IssuerOnly, routes!(blacklist))
        .add(Rule::IssuerOnly, routes!(whitelist))
        .add(Rule::IssuerOnly, routes!(lost_outputs))
        .add(Rule::IssuerOnly, routes!(blinders::update_blinders))
}

/// `GET /assets/{u}/summary` (reference §7 `AssetSummary`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetSummaryDto {
    /// Asset id (hex).
    pub asset_id: String,
    /// Reissuance token id (hex), when reissuable.
    pub reissuance_token_id: Option<String>,
    /// Units created by the confirmed issuance.
    pub issued: i64,
    /// Units created by confirmed reissuances.
    pub reissued: i64,
    /// Units assigned to registered users (distributed ones included).
    pub assigned: i64,
    /// Units paid to registered wallets by confirmed distributions.
    pub distributed: i64,
    /// Units destroyed by confirmed burns.
    pub burned: i64,
    /// Unspent units in blacklisted outputs.
    pub blacklisted: i64,
    /// Registered users of the issuer.
    pub registered_users: i64,
    /// Registered users holding a positive amount.
    pub active_registered_users: i64,
    /// Registered wallets (GAIDs) holding a positive amount.
    pub active_green_subaccounts: i64,
    /// Unspent reissuance tokens.
    pub reissuance_tokens: i64,
}

/// Who holds how much (reference §7 `Ownership`).
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnershipDto {
    /// `"ISSUER"` for the treasury, the registered user's name for a wallet of one of the
    /// issuer's registered users, `null` for any other wallet.
    pub owner: Option<String>,
    /// Units held.
    pub amount: i64,
    /// The holding wallet's GAID (`null` for the treasury).
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Id of the registered user (`null` when `owner` is not one).
    pub registered_user: Option<i64>,
}

impl From<Holding> for OwnershipDto {
    fn from(holding: Holding) -> Self {
        let (owner, registered_user) = match (holding.is_treasury, holding.registered_user) {
            (true, _) => (Some(amphora_store::TREASURY_OWNER.to_string()), None),
            (false, Some((id, name))) => (Some(name), Some(id)),
            (false, None) => (None, None),
        };
        OwnershipDto {
            owner,
            amount: holding.amount,
            gaid: holding.gaid,
            registered_user,
        }
    }
}

/// An output reference (reference §7 `Outpoint`); also the body items of
/// `utxos/blacklist` and `utxos/whitelist`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutpointDto {
    /// Transaction id (64 hex).
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
    /// Output index.
    #[schema(schema_with = crate::schema::vout)]
    pub vout: i64,
}

/// `GET /assets/{u}/balance`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceDto {
    /// Holdings from every confirmed output recorded.
    pub confirmed_balance: Vec<OwnershipDto>,
    /// Asset outputs spent by transactions the platform could not attribute.
    pub lost_outputs: Vec<OutpointDto>,
    /// Reissuance-token outputs spent by transactions the platform could not attribute.
    pub reissuance_lost_outputs: Vec<OutpointDto>,
}

/// `GET /assets/{u}/lost-outputs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LostOutputsDto {
    /// Asset outputs spent by transactions the platform could not attribute.
    pub lost_outputs: Vec<OutpointDto>,
    /// Reissuance-token outputs spent by transactions the platform could not attribute.
    pub reissuance_lost_outputs: Vec<OutpointDto>,
}

/// An unspent output (reference §7 `Utxo`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UtxoDto {
    /// Transaction id.
    pub txid: String,
    /// Output index.
    pub vout: i64,
    /// Asset id of the output (the reissuance token id for token outputs).
    pub asset: String,
    /// Units.
    pub amount: i64,
    /// Id of the registered user holding it, if any.
    pub registered_user: Option<i64>,
    /// GAID of the holding wallet (`null` for the treasury).
    pub gaid: Option<String>,
    /// Held by the issuer's treasury.
    pub is_treasury: bool,
    /// Blacklisted: the co-signer refuses to spend it.
    pub blacklisted: bool,
}

/// Asset id and reissuance token id of an issued asset.
pub(crate) fn asset_ids(asset: &Asset) -> (String, Option<String>) {
    match &asset.tx {
        Some(tx) => (tx.asset_id.clone(), tx.reissuance_token_id.clone()),
        None => (String::new(), None),
    }
}

/// The asset id an output carries: the token id for token outputs.
pub(crate) fn output_asset_id(asset: &Asset, output: &ReportOutput) -> String {
    let (asset_id, token_id) = asset_ids(asset);
    if output.output.output.is_token {
        token_id.unwrap_or_default()
    } else {
        asset_id
    }
}

/// The GAID of an output's owner.
pub(crate) fn output_gaid(output: &ReportOutput) -> Option<String> {
    match &output.output.output.owner {
        OutputOwner::Wallet { gaid, .. } => Some(gaid.clone()),
        _ => None,
    }
}

/// Balances and counters of the asset.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/summary", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Amounts from the chain index: issued, reissued and \
            burned by confirmed transactions; distributed = units paid to registered wallets \
            by confirmed distributions; assigned = units of the asset's assignments \
            (distributed ones included); registered_users counts the issuer's registered \
            users",
            body = AssetSummaryDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn summary(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<AssetSummaryDto>, ApiError> {
    let summary = state
        .store()
        .asset_summary(auth.issuer.id, &uuid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let totals = summary.totals;
    Ok(Json(AssetSummaryDto {
        asset_id: summary.asset_id,
        reissuance_token_id: summary.reissuance_token_id,
        issued: totals.issued,
        reissued: totals.reissued,
        assigned: summary.assigned,
        distributed: totals.distributed,
        burned: totals.burned,
        blacklisted: totals.blacklisted,
        registered_users: totals.registered_users,
        active_registered_users: totals.active_registered_users,
        active_green_subaccounts: totals.active_green_subaccounts,
        reissuance_tokens: totals.reissuance_tokens,
    }))
}

/// Lost asset and token outputs of the asset.
async fn lost(state: &AppState, uuid: &str) -> Result<LostOutputsDto, ApiError> {
    let outputs = state.store().report_outputs(uuid).await?;
    let mut lost = LostOutputsDto {
        lost_outputs: Vec::new(),
        reissuance_lost_outputs: Vec::new(),
    };
    for output in outputs.into_iter().filter(|o| o.output.is_lost) {
        let output = output.output.output;
        let outpoint = OutpointDto {
            txid: output.txid,
            vout: output.vout,
        };
        if output.is_token {
            lost.reissuance_lost_outputs.push(outpoint);
        } else {
            lost.lost_outputs.push(outpoint);
        }
    }
    Ok(lost)
}

/// Confirmed holdings and lost outputs of the asset (an object, as the confirm script reads).
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/balance", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Holdings and lost outputs", body = BalanceDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn balance(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<BalanceDto>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    let holdings = state.store().holdings(&uuid, None).await?;
    let lost = lost(&state, &uuid).await?;
    amphora_core::crash::point(amphora_core::crash::BALANCE_BEFORE_ANSWER);
    Ok(Json(BalanceDto {
        confirmed_balance: holdings.into_iter().map(Into::into).collect(),
        lost_outputs: lost.lost_outputs,
        reissuance_lost_outputs: lost.reissuance_lost_outputs,
    }))
}

/// Holdings at `height` (the index must have reached it), or of every recorded output; as JSON
/// or, when `csv`, as the cap table ([`cap_table::rows`]).
async fn ownerships_for(
    state: &AppState,
    auth: &AuthIssuer,
    uuid: &str,
    height: Option<i64>,
    csv: bool,
) -> Result<Response, ApiError> {
    if height.is_none() && !csv {
        // the report most polled: no other check than the one reading its version
        return ownerships_json(state, auth, uuid, None).await;
    }
    visible_asset(state, auth, uuid).await?;
    if let Some(height) = height {
        if height < 0 {
            return Err(ApiError::field(
                "height",
                "Ensure this value is at least 0.",
            ));
        }
        let tip = state.store().chain_tip().await?;
        if tip.as_ref().is_none_or(|tip| tip.height < height) {
            return Err(Refusal::HeightNotIndexed { height }.into());
        }
    }
    if !csv {
        return ownerships_json(state, auth, uuid, height).await;
    }
    let holdings = state.store().holdings(uuid, height).await?;
    let name = match height {
        Some(height) => format!("cap-table-{uuid}-{height}.csv"),
        None => format!("cap-table-{uuid}.csv"),
    };
    csv_response(&name, &cap_table::HEADER, cap_table::rows(holdings))
}

/// The ownerships report as JSON ([`amphora_store::Store::holdings_json`], through the
/// process's [`crate::ownerships_cache`]); 404 for an asset the caller does not see.
async fn ownerships_json(
    state: &AppState,
    auth: &AuthIssuer,
    uuid: &str,
    height: Option<i64>,
) -> Result<Response, ApiError> {
    let json = state
        .ownerships()
        .holdings_json(state.store(), auth.issuer.id, uuid, height)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}

/// Who holds the asset, now or at `?height=H` (query first, then a JSON body `{"height": H}`);
/// `?format=csv` (or `Accept: text/csv`) gives the cap table as CSV:
/// `registered_user_id,name,GAID,amount,percent`, one row per holder, the treasury (`ISSUER`)
/// and wallets of no registered user as their own rows.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/ownerships", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("height" = Option<i64>, Query, minimum = 0, description = "Block height (default: every \
            confirmed output recorded)"),
        ("format" = inline(Option<crate::schema::ReportFormat>), Query, description = "`csv` for the cap table as CSV"),
    ),
    responses(
        (status = 200, description = "Holdings (JSON), or the cap table (text/csv)", content(([OwnershipDto] = "application/json"), (String = "text/csv"))),
        (status = 400, description = "Bad height or format, or a height the index has not reached"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn ownerships(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let mut params = history::query_params(&uri)?;
    let csv = wants_csv(params.get("format").map(String::as_str), &headers)?;
    if !params.contains_key("height") && !body.is_empty() {
        for (key, value) in history::body_params(&body)? {
            params.entry(key).or_insert(value);
        }
    }
    // exactly an integer, as the schema's type says (an empty `height=` is refused too)
    let height = match params.get("height").map(String::as_str) {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::field("height", "A valid integer is required."))?,
        ),
    };
    ownerships_for(&state, &auth, &uuid, height, csv).await
}

/// Who held the asset at block `height` (the path form amp-rs uses); `?format=csv` (or
/// `Accept: text/csv`) gives the cap table as CSV, as for the current ownerships.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/ownerships/{height}", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("height" = i64, Path, minimum = 0, description = "Block height"),
        ("format" = inline(Option<crate::schema::ReportFormat>), Query, description = "`csv` for the cap table as CSV"),
    ),
    responses(
        (status = 200, description = "Holdings at that height (JSON), or the cap table (text/csv)", content(([OwnershipDto] = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A height the index has not reached, or a bad format"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset (or a height that is not a number)"),
    ))]
pub async fn ownerships_at(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path((uuid, height)): Path<(String, i64)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csv = wants_csv(format_param(&uri)?.as_deref(), &headers)?;
    ownerships_for(&state, &auth, &uuid, Some(height), csv).await
}

fn utxo_dto(asset: &Asset, output: ReportOutput) -> UtxoDto {
    let asset_id = output_asset_id(asset, &output);
    let gaid = output_gaid(&output);
    let stored = output.output;
    UtxoDto {
        txid: stored.output.txid,
        vout: stored.output.vout,
        asset: asset_id,
        amount: stored.output.amount,
        registered_user: output.registered_user,
        gaid,
        is_treasury: stored.output.owner == OutputOwner::Treasury,
        blacklisted: stored.is_blacklisted,
    }
}

/// Unspent outputs of the asset and of its reissuance token (burnt ones excluded).
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/utxos", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Unspent outputs", body = [UtxoDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn utxos(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<Vec<UtxoDto>>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let outputs = state.store().report_outputs(&uuid).await?;
    Ok(Json(
        outputs
            .into_iter()
            .filter(|o| o.output.spent.is_none() && o.output.output.owner != OutputOwner::Burn)
            .map(|o| utxo_dto(&asset, o))
            .collect(),
    ))
}

/// Parses a bare array of outpoints (after the asset was found, so that another issuer's
/// asset answers 404 whatever the body).
fn outpoints(body: &[u8]) -> Result<Vec<(String, i64)>, ApiError> {
    let items: Vec<OutpointDto> = parse_json(body)?;
    if items.is_empty() {
        return Err(ApiError::field(
            FieldError::NON_FIELD,
            "Give at least one {\"txid\", \"vout\"}.",
        ));
    }
    let mut errors = Vec::new();
    for item in &items {
        let hex64 = item.txid.len() == 64 && item.txid.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex64 {
            errors.push(FieldError::new(
                "txid",
                format!("'{}' is not a txid.", item.txid),
            ));
        }
        if item.vout < 0 {
            errors.push(FieldError::new("vout", "Ensure this value is at least 0."));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    Ok(items
        .into_iter()
        .map(|item| (item.txid.to_ascii_lowercase(), item.vout))
        .collect())
}

async fn set_blacklisted(
    state: &AppState,
    auth: &AuthIssuer,
    uuid: &str,
    body: &[u8],
    blacklisted: bool,
) -> Result<Json<Vec<UtxoDto>>, ApiError> {
    let asset = visible_asset(state, auth, uuid).await?;
    let outpoints = outpoints(body)?;
    let outputs = state
        .store()
        .set_outputs_blacklisted(uuid, &outpoints, blacklisted)
        .await?;
    Ok(Json(
        outputs.into_iter().map(|o| utxo_dto(&asset, o)).collect(),
    ))
}

/// Blacklists outputs of the asset (bare array of `{txid, vout}`; all or none).
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/utxos/blacklist", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = crate::schema::OutpointList,
    responses(
        (status = 200, description = "The outputs, now blacklisted", body = [UtxoDto]),
        (status = 400, description = "Malformed list, or an outpoint that is not an output of \
            this asset (nothing changes)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn blacklist(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Vec<UtxoDto>>, ApiError> {
    set_blacklisted(&state, &auth, &uuid, &body, true).await
}

/// Removes outputs of the asset from the blacklist (bare array of `{txid, vout}`).
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/utxos/whitelist", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = crate::schema::OutpointList,
    responses(
        (status = 200, description = "The outputs, no longer blacklisted", body = [UtxoDto]),
        (status = 400, description = "Malformed list, or an outpoint that is not an output of \
            this asset (nothing changes)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn whitelist(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<Vec<UtxoDto>>, ApiError> {
    set_blacklisted(&state, &auth, &uuid, &body, false).await
}

/// Outputs of the asset and of its token spent by transactions the platform could not
/// attribute.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/lost-outputs", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Lost outputs", body = LostOutputsDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn lost_outputs(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<LostOutputsDto>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    Ok(Json(lost(&state, &uuid).await?))
}

/// The `sortcolumn` and `sortorder` patterns of the paged report at `path`, if it is one.
pub(crate) fn sort_patterns(path: &str) -> Option<(String, String)> {
    history::SORTABLE
        .iter()
        .find(|(report, _)| *report == path)
        .map(|(_, columns)| {
            (
                history::Paging::column_pattern(columns),
                history::Paging::order_pattern(),
            )
        })
}
