//! Reissuance and burn (reference §2.11, §3.2, §3.3): the confirm files the issuer hands to
//! `amphora confirm` (or `blockstream-amp-confirm.py`), and the confirm calls that check the
//! resulting transaction on the platform's node before anything is recorded.
//!
//! Rules:
//! * `reissue-request` needs a reissuable asset whose issuance has 2 confirmations in the chain
//!   index and whose treasury holds reissuance-token outputs; the file names those outputs.
//! * `reissue-confirm` needs a transaction with 2 confirmations whose input `vin` reissues this
//!   asset, creating exactly the amount of an outstanding request (for a blinded amount, the
//!   posted `listissuances` entry must open the commitment), and `details` entries that open
//!   the commitments of outputs holding exactly that amount of new units. The new outputs and
//!   the token change become treasury outputs.
//! * `burn-request` names the oldest treasury outputs covering the amount; `burn-confirm` needs
//!   a transaction with 2 confirmations whose explicit `OP_RETURN` outputs destroy exactly the
//!   amount of an outstanding request; the posted `change_data` entries must open their
//!   outputs' commitments and become treasury outputs.
//! * A confirm repeated with the same transaction answers as the first one did; anything that
//!   does not match is a 400 and records nothing.

mod onchain;

use amphora_core::Network;
use amphora_rpc::Amount;
use amphora_store::{
    Asset, AssetOutput, BurnCompletion, CompletedBy, Completion, NewAssetOutput, OutputOwner,
    Reissuance, ReissuanceCompletion, UtxoRef,
};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use elements::AssetId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path, RawBody};
use crate::forwarded::Origin;
use crate::router::Routes;
use crate::state::AppState;

pub use onchain::MIN_CONFIRMATIONS;
use onchain::{confirmed_tx, node_output, parse_txid, script_hex, verify_output, ChainTx};

/// The client script version the confirm files require (reference §3).
pub const CLIENT_SCRIPT_VERSION: i64 = 2;
/// Largest amount one request may create or destroy, in base units (21 million coins).
pub const MAX_AMOUNT: i64 = amphora_core::asset::MAX_AMOUNT as i64;

/// The reissuance and burn routes (issuers only).
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(reissue_request))
        .add(Rule::IssuerOnly, routes!(reissue_confirm))
        .add(Rule::IssuerOnly, routes!(reissuances))
        .add(Rule::IssuerOnly, routes!(burn_request))
        .add(Rule::IssuerOnly, routes!(burn_confirm))
        .add(Rule::IssuerOnly, routes!(burns))
}

/// `POST …/reissue-request` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReissueRequestBody {
    /// Base units to create.
    #[schema(schema_with = crate::schema::amount)]
    pub amount_to_reissue: i64,
}

/// An output named in a confirm file.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutpointDto {
    /// Transaction id.
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
    /// Output index.
    #[schema(schema_with = crate::schema::vout)]
    pub vout: i64,
}

/// The reissue file (reference §3.2), saved and passed to `amphora confirm reissue -f`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReissueFile {
    /// Always `"reissue"`.
    pub command: &'static str,
    /// Always 2.
    pub min_supported_client_script_version: i64,
    /// The API root, a format string ending in `/{}`.
    pub base_url: String,
    /// The asset's uuid.
    pub asset_uuid: String,
    /// The asset id.
    pub asset_id: String,
    /// Amount to reissue in decimal units (base units / 1e8).
    #[schema(value_type = f64)]
    pub amount: Value,
    /// The treasury's reissuance-token outputs.
    pub reissuance_utxos: Vec<OutpointDto>,
}

/// `{txid, vin}` of a reissuance.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReissuanceOutputBody {
    /// The reissuing transaction.
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
    /// The input carrying the reissuance.
    #[schema(schema_with = crate::schema::vout)]
    pub vin: u32,
}

/// `POST …/reissue-confirm` body (what the confirm client posts).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReissueConfirmBody {
    /// `gettransaction(txid).details` of the treasury node.
    #[schema(value_type = Vec<Object>)]
    pub details: Vec<Value>,
    /// What `reissueasset` returned.
    pub reissuance_output: ReissuanceOutputBody,
    /// The treasury node's `listissuances` entries of the transaction.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub listissuances: Vec<Value>,
}

/// A confirmed reissuance (reference §7 `Reissuance`), plus its `vin`; `reissue-confirm`
/// answers the same object.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReissuanceDto {
    /// The reissuing transaction.
    pub txid: String,
    /// The input carrying the reissuance.
    pub vin: Option<i64>,
    /// The output holding the new units, when known.
    pub vout: Option<i64>,
    /// Its address, when known.
    pub destination_address: Option<String>,
    /// Base units created.
    pub reissuance_amount: i64,
    /// Hash of the confirming block.
    pub confirmed_in_block: String,
    /// When the reissuance was confirmed.
    pub created: String,
}

impl ReissuanceDto {
    async fn new(state: &AppState, reissuance: Reissuance) -> Result<Self, ApiError> {
        let completion = reissuance
            .completion
            .ok_or_else(|| ApiError::Internal("unconfirmed reissuance shown".into()))?;
        Ok(ReissuanceDto {
            confirmed_in_block: block_hash(state, &completion).await?,
            txid: completion.txid,
            vin: reissuance.vin,
            vout: reissuance.vout,
            destination_address: reissuance.destination_address,
            reissuance_amount: reissuance.amount,
            created: iso(completion.confirmed_at),
        })
    }
}

impl ReissuanceDto {
    /// Fills the output and address of a reissuance from the chain index: the output of the
    /// reissuing transaction holding the reissued units (of the asset, not the token; the one
    /// of exactly the reissued amount first), and the address of its script.
    fn fill_from_index(&mut self, outputs: &[amphora_store::ReportOutput], network: Network) {
        let created: Vec<&amphora_store::NewAssetOutput> = outputs
            .iter()
            .map(|o| &o.output.output)
            .filter(|o| o.txid == self.txid && !o.is_token)
            .collect();
        let Some(output) = created
            .iter()
            .find(|o| o.amount == self.reissuance_amount)
            .or_else(|| created.first())
        else {
            return;
        };
        self.vout.get_or_insert(output.vout);
        if self.destination_address.is_none() {
            self.destination_address = hex::decode(&output.script_pubkey)
                .ok()
                .map(elements::Script::from)
                .and_then(|script| {
                    elements::Address::from_script(&script, None, network.address_params())
                })
                .map(|address| address.to_string());
        }
    }
}

/// The confirming block's hash; for a row the follower completed before writing the block,
/// the chain index's block at its height.
async fn block_hash(state: &AppState, completion: &Completion) -> Result<String, ApiError> {
    if !completion.block_hash.is_empty() {
        return Ok(completion.block_hash.clone());
    }
    Ok(state
        .store()
        .indexed_block(completion.height)
        .await?
        .map(|b| b.block_hash)
        .unwrap_or_default())
}

/// `POST …/burn-request` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BurnRequestBody {
    /// Base units to destroy.
    #[schema(schema_with = crate::schema::amount)]
    pub amount: i64,
}

/// The burn file (reference §3.3), saved and passed to `amphora confirm burn -f`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurnFile {
    /// Always `"burn"`.
    pub command: &'static str,
    /// Always 2.
    pub min_supported_client_script_version: i64,
    /// The API root, a format string ending in `/{}`.
    pub base_url: String,
    /// The asset's uuid.
    pub asset_uuid: String,
    /// The asset id.
    pub asset_id: String,
    /// Amount to burn in decimal units (base units / 1e8).
    #[schema(value_type = f64)]
    pub amount: Value,
    /// The treasury outputs the burn is expected to spend.
    pub utxos: Vec<OutpointDto>,
}

/// `tx_data` of a burn confirm.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BurnTxDataBody {
    /// The burn transaction.
    #[schema(schema_with = crate::schema::txid)]
    pub txid: String,
}

/// `POST …/burn-confirm` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BurnConfirmBody {
    /// The transaction.
    pub tx_data: BurnTxDataBody,
    /// The treasury node's `listunspent` entries of the asset created by the transaction.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub change_data: Vec<Value>,
}

/// A confirmed burn.
#[derive(Debug, Serialize, ToSchema)]
pub struct BurnDto {
    /// The burn transaction.
    pub txid: String,
    /// Base units destroyed.
    pub amount: i64,
    /// Hash of the confirming block.
    pub confirmed_in_block: String,
    /// When the burn was confirmed.
    pub created: String,
}

fn iso(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn check_amount(field: &str, amount: i64) -> Result<(), ApiError> {
    if amount < 1 {
        return Err(ApiError::field(
            field,
            "Ensure this value is greater than or equal to 1.",
        ));
    }
    if amount > MAX_AMOUNT {
        return Err(ApiError::field(
            field,
            format!("Ensure this value is less than or equal to {MAX_AMOUNT}."),
        ));
    }
    Ok(())
}

/// The asset of the caller's issuer with its on-chain ids, or 404 / 400.
async fn issued_asset(
    state: &AppState,
    auth: &AuthIssuer,
    uuid: &str,
) -> Result<(Asset, AssetId), ApiError> {
    let asset = state
        .store()
        .asset(auth.issuer.id, uuid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let asset_id = asset
        .tx
        .as_ref()
        .and_then(|tx| tx.asset_id.parse::<AssetId>().ok())
        .ok_or_else(|| ApiError::Business("The asset has no issuance transaction.".into()))?;
    Ok((asset, asset_id))
}

/// The treasury's live outputs of the asset (`tokens`: of its reissuance token), oldest first:
/// the chain index's treasury rule with at least one confirmation.
async fn treasury_outputs(
    state: &AppState,
    uuid: &str,
    tokens: bool,
) -> Result<Vec<AssetOutput>, ApiError> {
    Ok(state.store().treasury_outputs(uuid, tokens, 1).await?)
}

/// Confirmations of the asset's issuance in the chain index (0 when not indexed).
async fn issuance_confirmations(state: &AppState, asset: &Asset) -> Result<i64, ApiError> {
    let Some(txid) = asset.tx.as_ref().map(|tx| tx.txid.as_str()) else {
        return Ok(0);
    };
    Ok(state
        .store()
        .asset_tx_confirmations(&asset.issuance.uuid, txid)
        .await?
        .unwrap_or(0))
}

fn outpoints(outputs: &[AssetOutput]) -> Vec<UtxoRef> {
    outputs
        .iter()
        .map(|o| UtxoRef {
            txid: o.output.txid.clone(),
            vout: o.output.vout,
        })
        .collect()
}

fn outpoint_dtos(utxos: &[UtxoRef]) -> Vec<OutpointDto> {
    utxos
        .iter()
        .map(|u| OutpointDto {
            txid: u.txid.clone(),
            vout: u.vout,
        })
        .collect()
}

/// Creates the file to reissue `amount_to_reissue` base units of the asset.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/reissue-request", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = ReissueRequestBody,
    responses(
        (status = 200, description = "The reissue file", body = ReissueFile),
        (status = 400, description = "Invalid amount, asset not reissuable, issuance not \
            confirmed, or no reissuance-token outputs in the treasury"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn reissue_request(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    origin: Origin,
    RawBody(body): RawBody,
) -> Result<Json<ReissueFile>, ApiError> {
    let (asset, asset_id) = issued_asset(&state, &auth, &uuid).await?;
    let body: ReissueRequestBody = extract::parse_json_object(&body)?;
    check_amount("amount_to_reissue", body.amount_to_reissue)?;
    let has_token = asset
        .tx
        .as_ref()
        .is_some_and(|tx| tx.reissuance_token_id.is_some());
    if !asset.issuance.is_reissuable || !has_token {
        return Err(ApiError::Business("The asset is not reissuable.".into()));
    }
    let confirmations = issuance_confirmations(&state, &asset).await?;
    if confirmations < MIN_CONFIRMATIONS as i64 {
        return Err(ApiError::Business(format!(
            "The issuance has {confirmations} confirmations; {MIN_CONFIRMATIONS} are needed \
             before a reissuance."
        )));
    }
    let tokens = treasury_outputs(&state, &uuid, true).await?;
    if tokens.is_empty() {
        return Err(ApiError::Business(
            "The treasury holds no reissuance-token outputs of this asset.".into(),
        ));
    }
    let utxos = outpoints(&tokens);
    state
        .store()
        .create_reissue_request(&uuid, body.amount_to_reissue, &utxos)
        .await?;
    Ok(Json(ReissueFile {
        command: "reissue",
        min_supported_client_script_version: CLIENT_SCRIPT_VERSION,
        base_url: origin.api_base_url(),
        asset_uuid: uuid,
        asset_id: asset_id.to_string(),
        amount: Amount::from_units(body.amount_to_reissue).to_json(),
        reissuance_utxos: outpoint_dtos(&utxos),
    }))
}

/// The amount the reissuance input creates, checked against the posted `listissuances` entry
/// when it is blinded.
fn reissued_amount(
    chain: &ChainTx,
    vin: u32,
    asset_id: AssetId,
    listissuances: &[Value],
) -> Result<i64, ApiError> {
    let txid = chain.txid;
    let input = chain
        .tx
        .input
        .get(vin as usize)
        .filter(|i| i.has_issuance() && !i.asset_issuance.asset_blinding_nonce.is_null())
        .ok_or_else(|| ApiError::Business(format!("Input {vin} of {txid} is not a reissuance.")))?;
    if input.issuance_ids().0 != asset_id {
        return Err(ApiError::Business(format!(
            "Input {vin} of {txid} reissues another asset."
        )));
    }
    let amount_field = &input.asset_issuance.amount;
    if let Some(explicit) = amount_field.explicit() {
        return i64::try_from(explicit)
            .map_err(|_| ApiError::Business(format!("Reissuance {txid}:{vin} is out of range.")));
    }
    let txid_text = txid.to_string();
    let entry = listissuances
        .iter()
        .find(|e| {
            e.get("txid").and_then(Value::as_str) == Some(txid_text.as_str())
                && e.get("vin").and_then(Value::as_u64) == Some(u64::from(vin))
        })
        .ok_or_else(|| {
            ApiError::field(
                "listissuances",
                format!("No entry for the blinded reissuance {txid}:{vin}."),
            )
        })?;
    let amount = entry
        .get("assetamount")
        .and_then(onchain::decimal_units)
        .filter(|a| *a > 0)
        .ok_or_else(|| {
            ApiError::field("listissuances", "The entry has no valid \"assetamount\".")
        })?;
    let blinds = entry
        .get("assetblinds")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !onchain::issuance_amount_opens(amount_field, asset_id, amount, blinds) {
        return Err(ApiError::Business(format!(
            "The listissuances entry does not open the reissuance amount of {txid}:{vin}."
        )));
    }
    Ok(amount)
}

/// Checks a reissuance on the platform's node and records it with its new treasury outputs.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/reissue-confirm", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = ReissueConfirmBody,
    responses(
        (status = 200, description = "The confirmed reissuance", body = ReissuanceDto),
        (status = 400, description = "The transaction does not match an outstanding request, \
            has fewer than 2 confirmations, or the posted entries do not open its outputs"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
        (status = 503, description = "No node configured, or the node failed"),
    ))]
pub async fn reissue_confirm(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    RawBody(body): RawBody,
) -> Result<Json<ReissuanceDto>, ApiError> {
    let (asset, asset_id) = issued_asset(&state, &auth, &uuid).await?;
    let body: ReissueConfirmBody = extract::parse_json_object(&body)?;
    let token_id = asset
        .tx
        .as_ref()
        .and_then(|tx| tx.reissuance_token_id.as_deref())
        .and_then(|t| t.parse::<AssetId>().ok())
        .ok_or_else(|| ApiError::Business("The asset is not reissuable.".into()))?;
    let txid = parse_txid("reissuance_output", &body.reissuance_output.txid)?;
    let vin = body.reissuance_output.vin;
    let chain = confirmed_tx(&state, &txid).await?;
    let amount = reissued_amount(&chain, vin, asset_id, &body.listissuances)?;

    let mut outputs: Vec<NewAssetOutput> = Vec::new();
    let mut destination: Option<(i64, Option<String>)> = None;
    let mut new_units = 0i64;
    for entry in &body.details {
        let Some(output) = node_output("details", entry)? else {
            continue;
        };
        if (output.asset != asset_id && output.asset != token_id)
            || outputs.iter().any(|o| o.vout == i64::from(output.vout))
        {
            continue;
        }
        verify_output(&chain, "details", &output)?;
        let is_token = output.asset == token_id;
        if !is_token {
            new_units += output.amount;
            destination.get_or_insert((i64::from(output.vout), output.address.clone()));
        }
        outputs.push(NewAssetOutput {
            txid: txid.to_string(),
            vout: i64::from(output.vout),
            asset_uuid: uuid.clone(),
            is_token,
            amount: output.amount,
            script_pubkey: script_hex(&chain.tx.output[output.vout as usize]),
            owner: OutputOwner::Treasury,
            asset_blinder: output.asset_blinder,
            amount_blinder: output.amount_blinder,
            height: chain.height,
        });
    }
    if new_units != amount {
        return Err(ApiError::Business(format!(
            "The posted details show {new_units} new units of the asset in {txid}; the \
             reissuance created {amount}."
        )));
    }

    let store = state.store();
    let request = match store
        .reissuance_of_tx(&uuid, &txid.to_string(), vin.into())
        .await?
    {
        Some(done) => done,
        None => store
            .pending_reissuance(&uuid, Some(amount))
            .await?
            .ok_or_else(|| {
                ApiError::Business(format!(
                    "No outstanding reissue request of {amount} units for this asset."
                ))
            })?,
    };
    let (vout, address) = destination.unzip();
    let completion = ReissuanceCompletion {
        txid: txid.to_string(),
        vin: vin.into(),
        vout,
        destination_address: address.flatten(),
        block_hash: chain.block_hash.clone(),
        height: chain.height,
        completed_by: CompletedBy::Confirm,
    };
    amphora_core::crash::point(amphora_core::crash::REISSUE_CONFIRM_BEFORE_RECORD);
    let done = store
        .complete_reissuance(request.id, &completion, &outputs)
        .await?;
    Ok(Json(ReissuanceDto::new(&state, done).await?))
}

/// The asset's confirmed reissuances, oldest first.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/reissuances", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Reissuances", body = [ReissuanceDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn reissuances(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<Vec<ReissuanceDto>>, ApiError> {
    state
        .store()
        .asset(auth.issuer.id, &uuid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut out = Vec::new();
    let mut index: Option<Vec<amphora_store::ReportOutput>> = None;
    for row in state.store().reissuances(&uuid, true).await? {
        let mut dto = ReissuanceDto::new(&state, row).await?;
        if dto.vout.is_none() || dto.destination_address.is_none() {
            // Completed by the follower without a confirm call: the chain index has the output.
            if index.is_none() {
                index = Some(state.store().report_outputs(&uuid).await?);
            }
            dto.fill_from_index(index.as_deref().unwrap_or_default(), state.network());
        }
        out.push(dto);
    }
    Ok(Json(out))
}

/// Creates the file to burn `amount` base units of the asset from the treasury.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/burn-request", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = BurnRequestBody,
    responses(
        (status = 200, description = "The burn file", body = BurnFile),
        (status = 400, description = "Invalid amount, or the treasury holds less"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn burn_request(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    origin: Origin,
    RawBody(body): RawBody,
) -> Result<Json<BurnFile>, ApiError> {
    let (_, asset_id) = issued_asset(&state, &auth, &uuid).await?;
    let body: BurnRequestBody = extract::parse_json_object(&body)?;
    check_amount("amount", body.amount)?;
    let mut chosen = Vec::new();
    let mut total = 0i64;
    for output in treasury_outputs(&state, &uuid, false).await? {
        if total >= body.amount {
            break;
        }
        total += output.output.amount;
        chosen.push(output);
    }
    if total < body.amount {
        return Err(ApiError::Business(format!(
            "The treasury holds {total} units of the asset, less than the {} to burn.",
            body.amount
        )));
    }
    let utxos = outpoints(&chosen);
    state
        .store()
        .create_burn_request(&uuid, body.amount, &utxos)
        .await?;
    Ok(Json(BurnFile {
        command: "burn",
        min_supported_client_script_version: CLIENT_SCRIPT_VERSION,
        base_url: origin.api_base_url(),
        asset_uuid: uuid,
        asset_id: asset_id.to_string(),
        amount: Amount::from_units(body.amount).to_json(),
        utxos: outpoint_dtos(&utxos),
    }))
}

/// Checks a burn on the platform's node and records it with the treasury's change.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/burn-confirm", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = BurnConfirmBody,
    responses(
        (status = 200, description = "Confirmed (empty body)"),
        (status = 400, description = "The transaction does not burn the amount of an \
            outstanding request, has fewer than 2 confirmations, or the change entries do not \
            open its outputs"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
        (status = 503, description = "No node configured, or the node failed"),
    ))]
pub async fn burn_confirm(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    RawBody(body): RawBody,
) -> Result<Response, ApiError> {
    let (_, asset_id) = issued_asset(&state, &auth, &uuid).await?;
    let body: BurnConfirmBody = extract::parse_json_object(&body)?;
    let txid = parse_txid("tx_data", &body.tx_data.txid)?;
    let chain = confirmed_tx(&state, &txid).await?;

    let mut outputs: Vec<NewAssetOutput> = Vec::new();
    let mut burnt = 0i64;
    for (vout, txout) in chain.tx.output.iter().enumerate() {
        if !txout.script_pubkey.is_op_return() || txout.asset.explicit() != Some(asset_id) {
            continue;
        }
        let amount = txout
            .value
            .explicit()
            .and_then(|v| i64::try_from(v).ok())
            .ok_or_else(|| {
                ApiError::Business(format!("Burn output {txid}:{vout} has no explicit amount."))
            })?;
        burnt += amount;
        outputs.push(NewAssetOutput {
            txid: txid.to_string(),
            vout: vout as i64,
            asset_uuid: uuid.clone(),
            is_token: false,
            amount,
            script_pubkey: script_hex(txout),
            owner: OutputOwner::Burn,
            asset_blinder: amphora_store::UNKNOWN_BLINDER.into(),
            amount_blinder: amphora_store::UNKNOWN_BLINDER.into(),
            height: chain.height,
        });
    }
    if burnt == 0 {
        return Err(ApiError::Business(format!(
            "Transaction {txid} burns none of the asset."
        )));
    }
    for entry in &body.change_data {
        let Some(output) = node_output("change_data", entry)? else {
            continue;
        };
        let entry_txid = entry.get("txid").and_then(Value::as_str);
        if output.asset != asset_id || entry_txid != Some(txid.to_string().as_str()) {
            return Err(ApiError::field(
                "change_data",
                format!("Entry {entry} is not an output of the asset created by {txid}."),
            ));
        }
        if outputs.iter().any(|o| o.vout == i64::from(output.vout)) {
            continue;
        }
        verify_output(&chain, "change_data", &output)?;
        outputs.push(NewAssetOutput {
            txid: txid.to_string(),
            vout: i64::from(output.vout),
            asset_uuid: uuid.clone(),
            is_token: false,
            amount: output.amount,
            script_pubkey: script_hex(&chain.tx.output[output.vout as usize]),
            owner: OutputOwner::Treasury,
            asset_blinder: output.asset_blinder,
            amount_blinder: output.amount_blinder,
            height: chain.height,
        });
    }

    let store = state.store();
    let request = match store.burn_of_tx(&uuid, &txid.to_string()).await? {
        Some(done) => done,
        None => store
            .pending_burn(&uuid, Some(burnt))
            .await?
            .ok_or_else(|| {
                ApiError::Business(format!(
                    "No outstanding burn request of {burnt} units for this asset."
                ))
            })?,
    };
    let completion = BurnCompletion {
        txid: txid.to_string(),
        block_hash: chain.block_hash.clone(),
        height: chain.height,
        completed_by: CompletedBy::Confirm,
    };
    amphora_core::crash::point(amphora_core::crash::BURN_CONFIRM_BEFORE_RECORD);
    store
        .complete_burn(request.id, &completion, &outputs)
        .await?;
    Ok(StatusCode::OK.into_response())
}

/// The asset's confirmed burns, oldest first (an Amphora addition; AMP shows burns only in
/// activities and the summary).
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/burns", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "Burns", body = [BurnDto]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn burns(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<Vec<BurnDto>>, ApiError> {
    state
        .store()
        .asset(auth.issuer.id, &uuid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let rows = state.store().burns(&uuid, true).await?;
    let mut out = Vec::with_capacity(rows.len());
    for burn in rows {
        let completion = burn
            .completion
            .ok_or_else(|| ApiError::Internal("unconfirmed burn shown".into()))?;
        out.push(BurnDto {
            confirmed_in_block: block_hash(&state, &completion).await?,
            txid: completion.txid,
            amount: burn.amount,
            created: iso(completion.confirmed_at),
        });
    }
    Ok(Json(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded() {
        assert!(check_amount("amount", 1).is_ok());
        assert!(check_amount("amount", MAX_AMOUNT).is_ok());
        for bad in [0, -5, MAX_AMOUNT + 1] {
            let err = check_amount("amount", bad).unwrap_err();
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
            assert!(err.body()["amount"].is_array());
        }
    }
}
