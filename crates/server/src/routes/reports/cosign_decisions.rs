//! An asset's co-signing decisions (`POST /amp2/wallets/sign` answers about it), paged like the
//! activities. They are not chain activity (nothing moved until the follower sees a
//! transaction confirm), so they are served here rather than as rows of `activities`.

use std::collections::BTreeMap;

use amphora_store::{CosignDecision, DecisionOrder};
use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use chrono::SecondsFormat;
use serde::Serialize;
use utoipa::ToSchema;

use super::history::{params, Paging};
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path, RawBody};
use crate::routes::asset_access::visible_asset;
use crate::state::AppState;

/// One co-signing decision about an asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct CosignDecisionDto {
    /// Id of the decision (increasing).
    pub id: i64,
    /// `cosign_approved` or `cosign_refused`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it was decided (ISO 8601).
    pub datetime: String,
    /// Whether the platform co-signed.
    pub approved: bool,
    /// What was decided, in words.
    pub description: String,
    /// Id of the transaction to sign, when the PSET could be read.
    pub txid: Option<String>,
    /// The registered user (of the caller) holding the sending wallet, if any.
    pub registered_user: Option<i64>,
    /// GAID of the sending wallet, when known.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// GAIDs of the registered wallets the transaction pays (change excluded).
    pub recipient_gaids: Vec<String>,
    /// Units of the asset the transaction pays to others than the sender.
    pub amount: i64,
    /// Reason codes of a refusal (empty when approved).
    pub reasons: Vec<String>,
}

/// Sortable columns of decisions, in index order.
pub(super) const COLUMNS: &[&str] = &["datetime", "amount", "approved"];

/// The store's order of the column at `index` of [`COLUMNS`].
fn order(index: Option<usize>) -> DecisionOrder {
    match index {
        None | Some(0) => DecisionOrder::Id,
        Some(1) => DecisionOrder::Amount,
        Some(_) => DecisionOrder::Approved,
    }
}

/// The row of a decision about asset `uuid`; `sender_user` is the caller's registered user
/// holding the sender's GAID, when there is one.
fn row(uuid: &str, decision: CosignDecision, sender_user: Option<i64>) -> CosignDecisionDto {
    let d = decision.decision;
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
    CosignDecisionDto {
        id: decision.id,
        kind: kind.to_string(),
        datetime: decision
            .decided_at
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        approved: d.approved,
        description,
        txid: d.txid,
        registered_user: sender_user,
        gaid: d.sender_gaid,
        recipient_gaids: d.recipient_gaids,
        amount,
        reasons: d.reasons,
    }
}

/// The co-signing decisions about the asset, oldest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/cosign-decisions", tag = "assets",
    security(("token" = [])),
    params(
        ("asset_uuid" = String, Path, description = "Asset UUID"),
        ("start" = Option<i64>, Query, description = "First row, 1-based (0 also means the \
            first row); negative counts from the end. Default 1"),
        ("count" = Option<i64>, Query, minimum = 0, description = "Rows to return (default 100000)"),
        ("sortcolumn" = Option<String>, Query, description = "datetime, amount or approved, \
            or its 0-based index"),
        ("sortorder" = Option<String>, Query, description = "asc (default) or desc"),
    ),
    responses(
        (status = 200, description = "Decisions; parameters may also come as a JSON body",
            body = [CosignDecisionDto]),
        (status = 400, description = "Bad paging parameter (height filters do not apply)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn cosign_decisions(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
    uri: Uri,
    RawBody(body): RawBody,
) -> Result<Json<Vec<CosignDecisionDto>>, ApiError> {
    visible_asset(&state, &auth, &uuid).await?;
    let paging = Paging::parse(&params(&uri, &body)?, COLUMNS)?;
    if paging.height_start.is_some() || paging.height_stop.is_some() {
        return Err(ApiError::field(
            "height_start",
            "Co-signing decisions have no block height; height filters do not apply.",
        ));
    }
    let store = state.store();
    let mut senders: BTreeMap<String, Option<i64>> = BTreeMap::new();
    let mut rows = Vec::new();
    for decision in store
        .cosign_decision_page(auth.issuer.id, &uuid, order(paging.column), paging.window())
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
        rows.push(row(&uuid, decision, sender_user));
    }
    Ok(Json(rows))
}
