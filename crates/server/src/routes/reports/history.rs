//! An asset's history: activities (one row per asset output a transaction created, plus one
//! per lost output) and transactions with their inputs and outputs, both paged with AMP's
//! parameters (query string first, then a JSON body on GET, as amp-rs sends them). Co-signing
//! decisions are not chain activity: they have their own route
//! ([`super::cosign_decisions`]).

use amphora_core::Network;
use amphora_store::{
    Activity, ActivityOrder, Asset, OutputOwner, ReportOutput, ReportTx, TxKind, TxOrder,
    UNKNOWN_BLINDER,
};
use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{output_asset_id, output_gaid};
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path, RawBody};
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;

mod paging;
pub(super) use paging::{body_params, params, query_params, Paging};

pub(super) fn datetime(block_time: Option<i64>) -> Option<String> {
    block_time
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// One line of the asset's activity (reference §7 `Activity`): every field is always there
/// with the type AMP clients (amp-rust's `Activity`) read.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityDto {
    /// issuance, reissuance, distribution, transaction, burn, unknown, or lost (an output
    /// spent by a transaction the platform could not attribute).
    #[serde(rename = "type")]
    pub kind: String,
    /// Block time (ISO 8601) of the block (for `lost`: of the spending block).
    pub datetime: String,
    /// What happened, in words.
    pub description: String,
    /// Transaction id of the output.
    pub txid: String,
    /// Output index.
    pub vout: i64,
    /// Height of the block (for `lost`: of the spending block).
    pub blockheight: i64,
    /// Asset blinder (hex; zeros when unknown).
    pub asset_blinder: String,
    /// Amount blinder (hex; zeros when unknown).
    pub amount_blinder: String,
    /// Registered user receiving the output (legacy key with a space).
    #[serde(rename = "registered user")]
    pub registered_user_legacy: Option<i64>,
    /// Registered user receiving the output.
    pub registered_user: Option<i64>,
    /// GAID of the receiving wallet.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Units.
    pub amount: i64,
}

impl From<Activity> for ActivityDto {
    fn from(row: Activity) -> Self {
        ActivityDto {
            kind: row.kind,
            datetime: datetime(row.block_time).unwrap_or_default(),
            description: row.description,
            txid: row.txid,
            vout: row.vout,
            blockheight: row.blockheight,
            asset_blinder: row.asset_blinder,
            amount_blinder: row.amount_blinder,
            registered_user_legacy: row.registered_user,
            registered_user: row.registered_user,
            gaid: row.gaid,
            amount: row.amount,
        }
    }
}

/// The sortable columns of each paged report, by path (for the OpenAPI document).
pub(crate) const SORTABLE: &[(&str, &[&str])] = &[
    ("/api/assets/{asset_uuid}/activities", ACTIVITY_COLUMNS),
    ("/api/assets/{asset_uuid}/txs", TX_COLUMNS),
    (
        "/api/assets/{asset_uuid}/cosign-decisions",
        super::cosign_decisions::COLUMNS,
    ),
];

/// Sortable columns of activities, in index order.
const ACTIVITY_COLUMNS: &[&str] = &[
    "datetime",
    "type",
    "description",
    "txid",
    "vout",
    "blockheight",
    "amount",
    "registered_user",
];

/// The store's order of the activity column at `index` of [`ACTIVITY_COLUMNS`].
fn activity_order(index: Option<usize>) -> ActivityOrder {
    match index {
        None | Some(0) => ActivityOrder::Chain,
        Some(1) => ActivityOrder::Kind,
        Some(2) => ActivityOrder::Description,
        Some(3) => ActivityOrder::Txid,
        Some(4) => ActivityOrder::Vout,
        Some(5) => ActivityOrder::Height,
        Some(6) => ActivityOrder::Amount,
        Some(_) => ActivityOrder::RegisteredUser,
    }
}

/// The asset's activity, oldest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/activities", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("start" = Option<i64>, Query, description = "First row, 1-based (0 also means the \
            first row); negative counts from the end (-1 = last row). Default 1"),
        ("count" = Option<i64>, Query, minimum = 0, description = "Rows to return (default 100000)"),
        ("sortcolumn" = Option<String>, Query, description = "datetime, type, description, \
            txid, vout, blockheight, amount or registered_user, or its 0-based index"),
        ("sortorder" = Option<String>, Query, description = "asc (default) or desc"),
        ("height_start" = Option<i64>, Query, minimum = 0, description = "Lowest block height"),
        ("height_stop" = Option<i64>, Query, minimum = 0, description = "Highest block height"),
    ),
    responses(
        (status = 200, description = "Chain activity rows; parameters may also come as a JSON \
            body. Co-signing decisions are at `/api/assets/{asset_uuid}/cosign-decisions`",
            body = [ActivityDto]),
        (status = 400, description = "Bad paging parameter"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn activities(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    uri: Uri,
    RawBody(body): RawBody,
) -> Result<Json<Vec<ActivityDto>>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    let paging = Paging::parse(&params(&uri, &body)?, ACTIVITY_COLUMNS)?;
    let rows = state
        .store()
        .activity_page(
            &uuid,
            activity_order(paging.column),
            paging.heights(),
            paging.window(),
        )
        .await?;
    Ok(Json(rows.into_iter().map(ActivityDto::from).collect()))
}

/// An input of an asset transaction: a spent indexed output.
#[derive(Debug, Serialize, ToSchema)]
pub struct TxInputDto {
    /// Asset id of the spent output (the token id for token outputs).
    pub asset_id: String,
    /// Input index.
    pub vin: i64,
    /// Spent transaction.
    pub prev_txid: String,
    /// Spent output index.
    pub prev_vout: i64,
    /// Units.
    pub amount: i64,
    /// Asset blinder (hex; zeros when unknown).
    pub asset_blinder: String,
    /// Amount blinder (hex; zeros when unknown).
    pub amount_blinder: String,
    /// Registered user that held it.
    pub registered_user: Option<i64>,
    /// GAID of the wallet that held it.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Held by the treasury.
    pub is_treasury: bool,
    /// Spent by this transaction without the platform being able to attribute it.
    pub is_lost: bool,
}

/// An indexed output of an asset transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct TxOutputDto {
    /// Asset id (the token id for token outputs).
    pub asset_id: String,
    /// Output index.
    pub vout: i64,
    /// Units.
    pub amount: i64,
    /// Asset blinder (hex; zeros when unknown).
    pub asset_blinder: String,
    /// Amount blinder (hex; zeros when unknown).
    pub amount_blinder: String,
    /// Registered user receiving it.
    pub registered_user: Option<i64>,
    /// GAID of the receiving wallet.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Paid to the treasury.
    pub is_treasury: bool,
    /// Spent since.
    pub is_spent: bool,
    /// A burn (provably unspendable) output.
    pub is_burnt: bool,
    /// Blacklisted by the issuer.
    pub is_blacklisted: bool,
}

/// A transaction of the asset (reference §7 `AssetTransaction`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssetTransactionDto {
    /// Transaction id.
    pub txid: String,
    /// Block time (ISO 8601), when the block is indexed.
    pub datetime: Option<String>,
    /// Height of its block.
    pub blockheight: i64,
    /// issuance, reissuance, distribution, transfer, burn or unknown.
    #[serde(rename = "type")]
    pub kind: String,
    /// The asset's issuance.
    pub is_issuance: bool,
    /// A reissuance.
    pub is_reissuance: bool,
    /// A distribution.
    pub is_distribution: bool,
    /// A burn.
    pub is_burn: bool,
    /// Explorer link opening the outputs whose blinders are known (a path on the explorer of
    /// the network; relative on regtest, which has no public explorer).
    pub unblinded_url: String,
    /// Indexed outputs it spent.
    pub inputs: Vec<TxInputDto>,
    /// Indexed outputs it created.
    pub outputs: Vec<TxOutputDto>,
}

/// Sortable columns of transactions, in index order.
const TX_COLUMNS: &[&str] = &["datetime", "txid", "blockheight", "type"];

/// The store's order of the transaction column at `index` of [`TX_COLUMNS`].
fn tx_order(index: Option<usize>) -> TxOrder {
    match index {
        None | Some(0) | Some(2) => TxOrder::Chain,
        Some(1) => TxOrder::Txid,
        Some(_) => TxOrder::Kind,
    }
}

/// The esplora link of a transaction with the blinders of the given outputs
/// (`#blinded=value,asset,value_blinder,asset_blinder,…`).
fn unblinded_url(network: Network, txid: &str, outputs: &[TxOutputDto]) -> String {
    let base = match network {
        Network::LiquidV1 => "https://blockstream.info/liquid/tx/",
        Network::LiquidTestnet => "https://blockstream.info/liquidtestnet/tx/",
        Network::LiquidRegtest => "/tx/",
    };
    let blinded: Vec<String> = outputs
        .iter()
        .filter(|o| o.asset_blinder != UNKNOWN_BLINDER || o.amount_blinder != UNKNOWN_BLINDER)
        .map(|o| {
            format!(
                "{},{},{},{}",
                o.amount, o.asset_id, o.amount_blinder, o.asset_blinder
            )
        })
        .collect();
    if blinded.is_empty() {
        format!("{base}{txid}")
    } else {
        format!("{base}{txid}#blinded={}", blinded.join(","))
    }
}

fn transaction(
    network: Network,
    asset: &Asset,
    tx: &ReportTx,
    outputs: &[ReportOutput],
) -> AssetTransactionDto {
    let mut inputs: Vec<TxInputDto> = outputs
        .iter()
        .filter_map(|output| {
            let (spender, vin, _) = output.output.spent.as_ref()?;
            (spender == &tx.txid).then(|| {
                let o = &output.output.output;
                TxInputDto {
                    asset_id: output_asset_id(asset, output),
                    vin: *vin,
                    prev_txid: o.txid.clone(),
                    prev_vout: o.vout,
                    amount: o.amount,
                    asset_blinder: o.asset_blinder.clone(),
                    amount_blinder: o.amount_blinder.clone(),
                    registered_user: output.registered_user,
                    gaid: output_gaid(output),
                    is_treasury: o.owner == OutputOwner::Treasury,
                    is_lost: output.output.is_lost,
                }
            })
        })
        .collect();
    inputs.sort_by_key(|input| input.vin);
    let created: Vec<TxOutputDto> = outputs
        .iter()
        .filter(|output| output.output.output.txid == tx.txid)
        .map(|output| {
            let o = &output.output.output;
            TxOutputDto {
                asset_id: output_asset_id(asset, output),
                vout: o.vout,
                amount: o.amount,
                asset_blinder: o.asset_blinder.clone(),
                amount_blinder: o.amount_blinder.clone(),
                registered_user: output.registered_user,
                gaid: output_gaid(output),
                is_treasury: o.owner == OutputOwner::Treasury,
                is_spent: output.output.spent.is_some(),
                is_burnt: o.owner == OutputOwner::Burn,
                is_blacklisted: output.output.is_blacklisted,
            }
        })
        .collect();
    AssetTransactionDto {
        unblinded_url: unblinded_url(network, &tx.txid, &created),
        txid: tx.txid.clone(),
        datetime: datetime(tx.block_time),
        blockheight: tx.height,
        kind: tx.kind.as_str().to_string(),
        is_issuance: tx.kind == TxKind::Issuance,
        is_reissuance: tx.kind == TxKind::Reissuance,
        is_distribution: tx.kind == TxKind::Distribution,
        is_burn: tx.kind == TxKind::Burn,
        inputs,
        outputs: created,
    }
}

/// The asset's confirmed transactions, oldest first (the confirm script takes `[0]` as the
/// issuance).
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/txs", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("start" = Option<i64>, Query, description = "First row, 1-based (0 also means the \
            first row); negative counts from the end. Default 1"),
        ("count" = Option<i64>, Query, minimum = 0, description = "Rows to return (default 100000)"),
        ("sortcolumn" = Option<String>, Query, description = "datetime, txid, blockheight or \
            type, or its 0-based index"),
        ("sortorder" = Option<String>, Query, description = "asc (default) or desc"),
        ("height_start" = Option<i64>, Query, minimum = 0, description = "Lowest block height"),
        ("height_stop" = Option<i64>, Query, minimum = 0, description = "Highest block height"),
    ),
    responses(
        (status = 200, description = "Transactions; parameters may also come as a JSON body",
            body = [AssetTransactionDto]),
        (status = 400, description = "Bad paging parameter"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn txs(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    uri: Uri,
    RawBody(body): RawBody,
) -> Result<Json<Vec<AssetTransactionDto>>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let paging = Paging::parse(&params(&uri, &body)?, TX_COLUMNS)?;
    let page = state
        .store()
        .report_tx_page(
            &uuid,
            tx_order(paging.column),
            paging.heights(),
            paging.window(),
        )
        .await?;
    Ok(Json(
        page.txs
            .iter()
            .map(|tx| transaction(state.network(), &asset, tx, &page.outputs))
            .collect(),
    ))
}

/// One confirmed transaction of the asset.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/txs/{txid}", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("txid" = String, Path, description = "Transaction id"),
    ),
    responses(
        (status = 200, description = "The transaction", body = AssetTransactionDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset, or no indexed transaction of it"),
    ))]
pub async fn tx(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path((uuid, txid)): Path<(String, String)>,
) -> Result<Json<AssetTransactionDto>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let txid = txid.to_ascii_lowercase();
    let page = state
        .store()
        .report_tx(&uuid, &txid)
        .await?
        .ok_or(ApiError::NotFound)?;
    let tx = page.txs.first().ok_or(ApiError::NotFound)?;
    Ok(Json(transaction(
        state.network(),
        &asset,
        tx,
        &page.outputs,
    )))
}
