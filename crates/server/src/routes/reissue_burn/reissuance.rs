//! Reissuance (reference §2.11, §3.2): the reissue file naming the treasury's
//! reissuance-token outputs, the confirm call that records a reissuance once
//! [`verify::reissuance`] has checked it on the platform's node, and the list.

use amphora_core::Network;
use amphora_rpc::Amount;
use amphora_store::{Asset, CompletedBy, Reissuance, ReissuanceCompletion};
use axum::extract::State;
use axum::Json;
use elements::AssetId;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{
    block_hash, check_amount, iso, issued_asset, outpoint_dtos, outpoints, treasury_outputs,
    OutpointDto, CLIENT_SCRIPT_VERSION,
};
use crate::access::Rule;
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path, RawBody};
use crate::forwarded::Origin;
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;
use crate::verify::MIN_CONFIRMATIONS;
use crate::verify::{self, reissuance::ReissuanceClaim, reissuance::VerifiedReissuance};

/// The reissuance routes (issuers only).
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(reissue_request))
        .add(Rule::IssuerOnly, routes!(reissue_confirm))
        .add(Rule::IssuerOnly, routes!(reissuances))
}

/// `POST …/reissue-request` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReissueRequestBody {
    /// Base units to create.
    #[schema(schema_with = crate::schema::amount)]
    pub amount_to_reissue: i64,
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
        return Err(Refusal::NotReissuable.into());
    }
    let confirmations = issuance_confirmations(&state, &asset).await?;
    if confirmations < i64::from(MIN_CONFIRMATIONS) {
        return Err(Refusal::ReissueTooEarly { confirmations }.into());
    }
    let tokens = treasury_outputs(&state, &uuid, true).await?;
    if tokens.is_empty() {
        return Err(Refusal::NoTokenOutputs.into());
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
        .ok_or(Refusal::NotReissuable)?;
    let txid = verify::parse_txid("reissuance_output", &body.reissuance_output.txid)?;
    let vin = body.reissuance_output.vin;
    let verified = verify::reissuance::verify(
        &state,
        &ReissuanceClaim {
            asset_uuid: &uuid,
            asset_id,
            token_id,
            txid,
            vin,
            details: &body.details,
            listissuances: &body.listissuances,
        },
    )
    .await?;
    let VerifiedReissuance {
        chain,
        amount,
        outputs,
        destination,
    } = verified;

    let store = state.store();
    let request = match store
        .reissuance_of_tx(&uuid, &txid.to_string(), vin.into())
        .await?
    {
        Some(done) => done,
        None => store
            .pending_reissuance(&uuid, Some(amount))
            .await?
            .ok_or(Refusal::NoReissueRequest { amount })?,
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
    amphora_core::crash::point(amphora_core::crash::REISSUE_CONFIRM_AFTER_RECORD);
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
    visible_asset(&state, &auth, &uuid).await?;
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
