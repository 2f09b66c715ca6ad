//! An asset's history: activities (one row per asset output a transaction created, plus one
//! per lost output and one per co-signing decision about the asset) and transactions with
//! their inputs and outputs, both paged with AMP's parameters (query string first, then a JSON
//! body on GET, as amp-rs sends them).

use std::cmp::Ordering;
use std::collections::BTreeMap;

use amphora_core::{FieldError, Network};
use amphora_store::{
    Asset, CosignDecision, OutputOwner, ReportOutput, ReportTx, TxKind, UNKNOWN_BLINDER,
};
use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{load_asset, output_asset_id, output_gaid};
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path, RawBody};
use crate::state::AppState;

/// Rows returned when `count` is not given.
const DEFAULT_COUNT: usize = 100_000;

/// The paging parameters of `activities` and `txs`, as text.
pub(super) type Params = BTreeMap<String, String>;

/// The query string's parameters (malformed encoding is a 400).
pub(super) fn query_params(uri: &Uri) -> Result<Params, ApiError> {
    let query = axum::extract::Query::<Params>::try_from_uri(uri)
        .map_err(|_| ApiError::field(FieldError::NON_FIELD, "Malformed query string."))?;
    Ok(query.0)
}

/// The parameters of a JSON object body (numbers and strings; `null` means absent).
pub(super) fn body_params(body: &[u8]) -> Result<Params, ApiError> {
    let value: Value = crate::extract::parse_json_object(body)?;
    let mut params = Params::new();
    if let Value::Object(map) = value {
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(text) => text,
                Value::Number(number) => number.to_string(),
                Value::Bool(flag) => flag.to_string(),
                other => {
                    return Err(ApiError::field(
                        &key,
                        format!("Expected a number or a string, got {other}."),
                    ))
                }
            };
            params.insert(key, text);
        }
    }
    Ok(params)
}

/// Query parameters, each falling back to the same key of a JSON body.
fn params(uri: &Uri, body: &[u8]) -> Result<Params, ApiError> {
    let mut params = query_params(uri)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        for (key, value) in body_params(body)? {
            params.entry(key).or_insert(value);
        }
    }
    Ok(params)
}

/// Validated paging: which rows (by height), their order, and the window.
#[derive(Debug)]
struct Paging {
    start: i64,
    count: usize,
    column: Option<usize>,
    descending: bool,
    height_start: Option<i64>,
    height_stop: Option<i64>,
}

fn integer(params: &Params, key: &str) -> Result<Option<i64>, FieldError> {
    match params.get(key).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| FieldError::new(key, "A valid integer is required.")),
    }
}

impl Paging {
    /// Reads the parameters; `columns` are the sortable column names (also by 0-based index).
    fn parse(params: &Params, columns: &[&str]) -> Result<Paging, ApiError> {
        let mut errors = Vec::new();
        let mut take = |result: Result<Option<i64>, FieldError>| {
            result.unwrap_or_else(|e| {
                errors.push(e);
                None
            })
        };
        let start = take(integer(params, "start")).unwrap_or(1);
        let count = take(integer(params, "count"));
        let height_start = take(integer(params, "height_start"));
        let height_stop = take(integer(params, "height_stop"));
        if start == 0 {
            errors.push(FieldError::new(
                "start",
                "Rows are numbered from 1; use a negative start to count from the end.",
            ));
        }
        let count = match count {
            Some(n) if n < 0 => {
                errors.push(FieldError::new("count", "Ensure this value is at least 0."));
                0
            }
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
            None => DEFAULT_COUNT,
        };
        for (key, value) in [("height_start", height_start), ("height_stop", height_stop)] {
            if value.is_some_and(|h| h < 0) {
                errors.push(FieldError::new(key, "Ensure this value is at least 0."));
            }
        }
        let column = match params.get("sortcolumn").map(|v| v.trim()) {
            None | Some("") => None,
            Some(name) => {
                let found = match name.parse::<usize>() {
                    Ok(index) if index < columns.len() => Some(index),
                    Ok(_) => None,
                    Err(_) => columns.iter().position(|c| *c == name),
                };
                if found.is_none() {
                    errors.push(FieldError::new(
                        "sortcolumn",
                        format!("Unknown column; use one of {columns:?} or its index."),
                    ));
                }
                found
            }
        };
        let descending = match params
            .get("sortorder")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            None => false,
            Some(order) if order.is_empty() || order == "asc" => false,
            Some(order) if order == "desc" => true,
            Some(_) => {
                errors.push(FieldError::new("sortorder", "Use \"asc\" or \"desc\"."));
                false
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::Fields(errors));
        }
        Ok(Paging {
            start,
            count,
            column,
            descending,
            height_start,
            height_stop,
        })
    }

    fn in_range(&self, height: i64) -> bool {
        self.height_start.is_none_or(|h| height >= h)
            && self.height_stop.is_none_or(|h| height <= h)
    }

    /// Rows without a block height (co-signing decisions) pass only when no height filter is
    /// given.
    fn in_range_opt(&self, height: Option<i64>) -> bool {
        match height {
            Some(height) => self.in_range(height),
            None => self.height_start.is_none() && self.height_stop.is_none(),
        }
    }

    /// Sorts `rows` (stable, so chain order breaks ties) and cuts the window.
    fn apply<T>(&self, mut rows: Vec<T>, compare: impl Fn(usize, &T, &T) -> Ordering) -> Vec<T> {
        if let Some(column) = self.column {
            rows.sort_by(|a, b| compare(column, a, b));
        }
        if self.descending {
            rows.reverse();
        }
        let len = rows.len() as i64;
        let first = if self.start > 0 {
            self.start - 1
        } else {
            (len + self.start).max(0)
        };
        rows.into_iter()
            .skip(usize::try_from(first).unwrap_or(usize::MAX))
            .take(self.count)
            .collect()
    }
}

fn datetime(block_time: Option<i64>) -> Option<String> {
    block_time
        .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn activity_type(kind: TxKind) -> &'static str {
    match kind {
        TxKind::Issuance => "issuance",
        TxKind::Reissuance => "reissuance",
        TxKind::Distribution => "distribution",
        TxKind::Transfer => "transaction",
        TxKind::Burn => "burn",
        TxKind::Unknown => "unknown",
    }
}

/// One line of the asset's activity (reference §7 `Activity`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityDto {
    /// issuance, reissuance, distribution, transaction, burn, unknown, lost (an output
    /// spent by a transaction the platform could not attribute), cosign_approved or
    /// cosign_refused (a `POST /amp2/wallets/sign` decision about the asset).
    #[serde(rename = "type")]
    pub kind: String,
    /// Block time (ISO 8601), when the block is indexed; for co-signing decisions, when the
    /// decision was made.
    pub datetime: Option<String>,
    /// What happened, in words.
    pub description: String,
    /// Transaction id of the output (of a decision: of the transaction to sign, when the PSET
    /// could be read).
    pub txid: Option<String>,
    /// Output index (null for co-signing decisions).
    pub vout: Option<i64>,
    /// Height of the block (for `lost`: of the spending block; null for co-signing decisions,
    /// which `height_start` and `height_stop` therefore exclude).
    pub blockheight: Option<i64>,
    /// Asset blinder (hex; zeros when unknown).
    pub asset_blinder: String,
    /// Amount blinder (hex; zeros when unknown).
    pub amount_blinder: String,
    /// Registered user receiving the output, or sending in a co-signing decision (legacy key
    /// with a space).
    #[serde(rename = "registered user")]
    pub registered_user_legacy: Option<i64>,
    /// Registered user receiving the output, or sending in a co-signing decision.
    pub registered_user: Option<i64>,
    /// GAID of the receiving wallet, or of the sending wallet in a co-signing decision.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Units (of a decision: units of the asset the transaction pays to others than the
    /// sender).
    pub amount: i64,
    /// Reason codes of a refused co-signing decision (empty otherwise).
    pub reasons: Vec<String>,
    /// Position in the merged, datetime-ordered list (the `datetime` sort key).
    #[serde(skip)]
    order: usize,
}

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

fn compare_activity(column: usize, a: &ActivityDto, b: &ActivityDto) -> Ordering {
    match column {
        0 => a.order.cmp(&b.order),
        5 => a.blockheight.cmp(&b.blockheight),
        1 => a.kind.cmp(&b.kind),
        2 => a.description.cmp(&b.description),
        3 => a.txid.cmp(&b.txid),
        4 => a.vout.cmp(&b.vout),
        6 => a.amount.cmp(&b.amount),
        _ => a.registered_user.cmp(&b.registered_user),
    }
}

fn holder(output: &ReportOutput) -> String {
    match (&output.output.output.owner, output.registered_user) {
        (OutputOwner::Treasury, _) => "the treasury".to_string(),
        (OutputOwner::Burn, _) => "a burn output".to_string(),
        (OutputOwner::Wallet { gaid, .. }, Some(user)) => {
            format!("registered user {user} ({gaid})")
        }
        (OutputOwner::Wallet { gaid, .. }, None) => format!("wallet {gaid}"),
    }
}

/// The activity rows of an asset in chain order: each asset (not token) output created by an
/// indexed transaction, then each lost output at the height it was lost.
fn activity_rows(txs: &[ReportTx], outputs: &[ReportOutput]) -> Vec<ActivityDto> {
    let by_txid: BTreeMap<&str, &ReportTx> = txs.iter().map(|t| (t.txid.as_str(), t)).collect();
    let mut rows: Vec<((i64, i64, i64), ActivityDto)> = Vec::new();
    for output in outputs.iter().filter(|o| !o.output.output.is_token) {
        let o = &output.output.output;
        let row = |kind: &str, description: String, tx: &ReportTx| ActivityDto {
            kind: kind.to_string(),
            datetime: datetime(tx.block_time),
            description,
            txid: Some(o.txid.clone()),
            vout: Some(o.vout),
            blockheight: Some(tx.height),
            asset_blinder: o.asset_blinder.clone(),
            amount_blinder: o.amount_blinder.clone(),
            registered_user_legacy: output.registered_user,
            registered_user: output.registered_user,
            gaid: output_gaid(output),
            amount: o.amount,
            reasons: Vec::new(),
            order: 0,
        };
        if let Some(&tx) = by_txid.get(o.txid.as_str()) {
            let kind = activity_type(tx.kind);
            let description = format!("{kind}: {} units to {}", o.amount, holder(output));
            rows.push(((tx.height, tx.position, o.vout), row(kind, description, tx)));
        }
        if let (true, Some((spender, _, _))) = (output.output.is_lost, &output.output.spent) {
            if let Some(&tx) = by_txid.get(spender.as_str()) {
                let description = format!(
                    "lost: {} units of {} spent by transaction {spender}, which the platform \
                     could not attribute",
                    o.amount,
                    holder(output)
                );
                rows.push((
                    (tx.height, tx.position, o.vout),
                    row("lost", description, tx),
                ));
            }
        }
    }
    rows.sort_by_key(|(order, _)| *order);
    rows.into_iter().map(|(_, row)| row).collect()
}

/// The activity row of a co-signing decision about asset `uuid`; `sender_user` is the
/// registered user holding the sender's GAID, when there is one.
fn decision_row(uuid: &str, decision: &CosignDecision, sender_user: Option<i64>) -> ActivityDto {
    let d = &decision.decision;
    let amount: i64 = d
        .assets
        .iter()
        .filter(|a| a.asset_uuid == uuid)
        .map(|a| a.amount)
        .sum();
    let sender = match (&d.sender_gaid, sender_user) {
        (Some(gaid), Some(user)) => format!("registered user {user} ({gaid})"),
        (Some(gaid), None) => format!("wallet {gaid}"),
        (None, _) => "an unknown sender".to_string(),
    };
    let recipients = if d.recipient_gaids.is_empty() {
        "no registered wallet".to_string()
    } else {
        d.recipient_gaids.join(", ")
    };
    let (kind, description) = if d.approved {
        (
            "cosign_approved",
            format!("co-signing approved: {amount} units from {sender} to {recipients}"),
        )
    } else {
        (
            "cosign_refused",
            format!(
                "co-signing refused: {amount} units from {sender} to {recipients}; reasons: {}",
                d.reasons.join(", ")
            ),
        )
    };
    ActivityDto {
        kind: kind.to_string(),
        datetime: Some(
            decision
                .decided_at
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        description,
        txid: d.txid.clone(),
        vout: None,
        blockheight: None,
        asset_blinder: UNKNOWN_BLINDER.to_string(),
        amount_blinder: UNKNOWN_BLINDER.to_string(),
        registered_user_legacy: sender_user,
        registered_user: sender_user,
        gaid: d.sender_gaid.clone(),
        amount,
        reasons: d.reasons.clone(),
        order: 0,
    }
}

/// Merges the chain rows (kept in chain order) with the decisions (oldest first) by datetime:
/// a decision goes before the first chain row whose block is later than it (chain rows of
/// unknown block time stay where they are), and numbers the result.
fn merge_by_datetime(
    chain: Vec<ActivityDto>,
    decisions: Vec<(DateTime<Utc>, ActivityDto)>,
) -> Vec<ActivityDto> {
    let mut merged = Vec::with_capacity(chain.len() + decisions.len());
    let mut decisions = decisions.into_iter().peekable();
    for row in chain {
        let block_time = row
            .datetime
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        if let Some(block_time) = block_time {
            while let Some((_, decision)) =
                decisions.next_if(|(decided_at, _)| *decided_at < block_time)
            {
                merged.push(decision);
            }
        }
        merged.push(row);
    }
    merged.extend(decisions.map(|(_, row)| row));
    for (order, row) in merged.iter_mut().enumerate() {
        row.order = order;
    }
    merged
}

/// The asset's activity, oldest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/activities", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("start" = Option<i64>, Query, description = "First row, 1-based; negative counts \
            from the end (-1 = last row). Default 1"),
        ("count" = Option<i64>, Query, description = "Rows to return (default 100000)"),
        ("sortcolumn" = Option<String>, Query, description = "datetime, type, description, \
            txid, vout, blockheight, amount or registered_user, or its 0-based index"),
        ("sortorder" = Option<String>, Query, description = "asc (default) or desc"),
        ("height_start" = Option<i64>, Query, description = "Lowest block height (excludes \
            co-signing decisions)"),
        ("height_stop" = Option<i64>, Query, description = "Highest block height (excludes \
            co-signing decisions)"),
    ),
    responses(
        (status = 200, description = "Activity rows (chain activity and co-signing decisions, \
            by datetime); parameters may also come as a JSON body",
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
    load_asset(&state, &auth, &uuid).await?;
    let paging = Paging::parse(&params(&uri, &body)?, ACTIVITY_COLUMNS)?;
    let store = state.store();
    let txs = store.report_txs(&uuid).await?;
    let outputs = store.report_outputs(&uuid).await?;
    let mut senders: BTreeMap<String, Option<i64>> = BTreeMap::new();
    let mut decisions = Vec::new();
    for decision in store
        .cosign_decisions_for_asset(auth.issuer.id, &uuid)
        .await?
    {
        let sender_user = match &decision.decision.sender_gaid {
            Some(gaid) => match senders.get(gaid) {
                Some(user) => *user,
                None => {
                    let user = store
                        .registered_user_by_gaid(auth.issuer.id, gaid)
                        .await?
                        .map(|u| u.id);
                    senders.insert(gaid.clone(), user);
                    user
                }
            },
            None => None,
        };
        let row = decision_row(&uuid, &decision, sender_user);
        decisions.push((decision.decided_at, row));
    }
    let rows: Vec<ActivityDto> = merge_by_datetime(activity_rows(&txs, &outputs), decisions)
        .into_iter()
        .filter(|row| paging.in_range_opt(row.blockheight))
        .collect();
    Ok(Json(paging.apply(rows, compare_activity)))
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

fn compare_tx(column: usize, a: &AssetTransactionDto, b: &AssetTransactionDto) -> Ordering {
    match column {
        0 | 2 => a.blockheight.cmp(&b.blockheight),
        1 => a.txid.cmp(&b.txid),
        _ => a.kind.cmp(&b.kind),
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
        ("start" = Option<i64>, Query, description = "First row, 1-based; negative counts \
            from the end. Default 1"),
        ("count" = Option<i64>, Query, description = "Rows to return (default 100000)"),
        ("sortcolumn" = Option<String>, Query, description = "datetime, txid, blockheight or \
            type, or its 0-based index"),
        ("sortorder" = Option<String>, Query, description = "asc (default) or desc"),
        ("height_start" = Option<i64>, Query, description = "Lowest block height"),
        ("height_stop" = Option<i64>, Query, description = "Highest block height"),
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
    let asset = load_asset(&state, &auth, &uuid).await?;
    let paging = Paging::parse(&params(&uri, &body)?, TX_COLUMNS)?;
    let txs = state.store().report_txs(&uuid).await?;
    let outputs = state.store().report_outputs(&uuid).await?;
    let rows: Vec<AssetTransactionDto> = txs
        .iter()
        .filter(|tx| paging.in_range(tx.height))
        .map(|tx| transaction(state.network(), &asset, tx, &outputs))
        .collect();
    Ok(Json(paging.apply(rows, compare_tx)))
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
    let asset = load_asset(&state, &auth, &uuid).await?;
    let txid = txid.to_ascii_lowercase();
    let txs = state.store().report_txs(&uuid).await?;
    let tx = txs
        .iter()
        .find(|tx| tx.txid == txid)
        .ok_or(ApiError::NotFound)?;
    let outputs = state.store().report_outputs(&uuid).await?;
    Ok(Json(transaction(state.network(), &asset, tx, &outputs)))
}
