//! The events feed (issue #17): `GET /api/events` pages through the issuer's events in id order
//! from any id (`after`), and `GET /api/events/stream` sends the same events as Server-Sent
//! Events, resuming after the `Last-Event-ID` a reconnecting client sends.
//!
//! Every change is recorded with its event in the change's transaction (see
//! `amphora_store::Store::events_after`: ids increase in commit order), so reading after the
//! last id seen never skips one. The stream reads the table after its cursor, then waits for
//! the next commit of this process that wrote events or, at the latest, [`STREAM_POLL`] (rows
//! other replicas wrote), and reads again.
//!
//! Access: issuers see all their events; investment managers only the events about the assets
//! granted to them (events about no asset are not theirs). A stream checks its token (and a
//! manager's lock and grants) again before every read, so it ends once the token is revoked
//! or expires.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use amphora_core::event::{
    AssetConfirmed, AssetIssued, AssetLock, AssignmentChange, ChainReorg, DistributionCancelled,
    DistributionCreated, EventType, HolderChange, OutputLost, OwnershipChanged, PaymentConfirmed,
    SupplyChangeConfirmed, TransferDecision,
};
use amphora_core::validation::IntRule;
use amphora_core::FieldError;
use amphora_store::{Event, Store};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, KeepAliveStream, Sse};
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::AuthIssuer;
use crate::refusal::Denial;
use crate::router::Routes;
use crate::state::AppState;

/// The events routes: issuers, and managers for their granted assets.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManager, routes!(list))
        .add(Rule::IssuerOrManager, routes!(stream))
}

/// The longest a stream waits before it reads the table again (other replicas' events).
pub const STREAM_POLL: Duration = Duration::from_secs(1);

/// Events one read of the stream takes.
const STREAM_BATCH: i64 = 100;

/// `after`: the id after which events are read (0: from the first).
pub const AFTER: IntRule = IntRule {
    field: "after",
    min: 0,
    max: 1_000_000_000_000_000_000,
};

/// `limit`: events per page (default 100).
pub const LIMIT: IntRule = IntRule {
    field: "limit",
    min: 1,
    max: 1000,
};

/// The schemas this module adds to the OpenAPI document: the `data` object of each type.
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    AssetIssued,
    AssetConfirmed,
    AssetLock,
    AssignmentChange,
    DistributionCreated,
    DistributionCancelled,
    PaymentConfirmed,
    SupplyChangeConfirmed,
    TransferDecision,
    OwnershipChanged,
    HolderChange,
    OutputLost,
    ChainReorg,
)))]
pub struct Doc;

/// The schema of an event's `data` (named `EventData`): any of the payload structs, the one of
/// the event's `type` (see `amphora_core::event`).
pub struct EventDataSchema;

/// The payload schema of each type, in the order of `EventType::ALL` (types sharing a
/// payload share a schema).
const PAYLOADS: [(&str, &str); 12] = [
    ("AssetIssued", "asset.issued"),
    ("AssetConfirmed", "asset.confirmed"),
    ("AssetLock", "asset.locked, asset.unlocked"),
    ("AssignmentChange", "assignment.created, assignment.deleted"),
    ("DistributionCreated", "distribution.created"),
    (
        "PaymentConfirmed",
        "distribution.confirmed, payout.confirmed",
    ),
    ("DistributionCancelled", "distribution.cancelled"),
    (
        "SupplyChangeConfirmed",
        "reissuance.confirmed, burn.confirmed",
    ),
    ("TransferDecision", "transfer.approved, transfer.refused"),
    ("OwnershipChanged", "ownership.changed"),
    ("OutputLost", "output.lost"),
    ("ChainReorg", "chain.reorg"),
];

impl utoipa::PartialSchema for EventDataSchema {
    fn schema() -> RefOr<Schema> {
        let mut any = AnyOfBuilder::new();
        let mut described = Vec::new();
        for (name, types) in PAYLOADS {
            any = any.item(Ref::from_schema_name(name));
            described.push(format!("{types}: `{name}`"));
        }
        any.description(Some(format!(
            "The data object of the event's type: {}.",
            described.join("; ")
        )))
        .into()
    }
}

impl ToSchema for EventDataSchema {
    fn name() -> std::borrow::Cow<'static, str> {
        "EventData".into()
    }
}

/// The filter of `GET /api/events` and `GET /api/events/stream` (documentation; the handlers
/// read the raw query to answer every bad value with a field error).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct FeedQuery {
    /// Only events with an id above this one (default 0; on the stream a `Last-Event-ID`
    /// header wins).
    #[param(schema_with = crate::schema::events_after)]
    after: Option<i64>,
    /// Only events of these types (repeat the parameter, or separate types by commas).
    #[param(schema_with = crate::schema::event_types, style = Form, explode)]
    types: Option<Vec<String>>,
    /// Only events about this asset.
    #[param(schema_with = crate::schema::events_asset_uuid)]
    asset_uuid: Option<String>,
}

/// The page size of `GET /api/events` (documentation).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    /// Events per page (default 100).
    #[param(schema_with = crate::schema::events_limit)]
    limit: Option<i64>,
}

/// The headers of `GET /api/events/stream` (documentation).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct StreamHeaders {
    /// Resume after this event id (wins over `after`): what a reconnecting client sends.
    #[param(rename = "Last-Event-ID", minimum = 0)]
    last_event_id: Option<i64>,
}

/// One event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDto {
    /// Id, increasing in commit order: resume after the last one seen.
    pub id: i64,
    /// The event type.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::event_type)]
    pub event_type: String,
    /// The issuer whose data changed.
    pub issuer_id: i64,
    /// The asset it is about, if any.
    pub asset_uuid: Option<String>,
    /// Height of the block, for an event reporting a confirmed transaction or a block.
    pub block_height: Option<i64>,
    /// When it was recorded (ISO 8601, UTC).
    pub created: String,
    /// The type's data object.
    #[schema(value_type = EventDataSchema)]
    pub data: Value,
}

impl From<Event> for EventDto {
    fn from(event: Event) -> Self {
        EventDto {
            id: event.id,
            event_type: event.event_type.as_str().to_string(),
            issuer_id: event.issuer_id,
            asset_uuid: event.asset_uuid,
            block_height: event.block_height,
            created: event.created_at.to_rfc3339(),
            data: event.data,
        }
    }
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    /// The events, oldest first.
    pub results: Vec<EventDto>,
    /// The id to pass as `after` for the next page (the last event's, or `after` when the page
    /// is empty).
    pub last_id: i64,
}

/// What a feed reads: after which id, which types, which assets (`None`: all the issuer's).
#[derive(Debug, Clone)]
struct Filter {
    after: i64,
    types: Vec<EventType>,
    assets: Option<Vec<String>>,
}

/// The parameters of a query string, in order (repeated keys kept).
fn params(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The one value of parameter `key`, if given (twice is an error).
fn single<'a>(params: &'a [(String, String)], key: &str) -> Result<Option<&'a str>, FieldError> {
    let mut values = params.iter().filter(|(k, _)| k == key).map(|(_, v)| v);
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(value), None) => Ok(Some(value.as_str())),
        (Some(_), Some(_)) => Err(FieldError::new(key, "Give this parameter once.")),
    }
}

/// An integer parameter of `rule`, absent or exactly an integer.
fn integer(params: &[(String, String)], rule: &IntRule) -> Result<Option<i64>, FieldError> {
    match single(params, rule.field)? {
        None => Ok(None),
        Some(text) => {
            let value = text
                .parse::<i64>()
                .map_err(|_| FieldError::new(rule.field, "A valid integer is required."))?;
            rule.check(value).map(Some)
        }
    }
}

/// Reads the filter of a feed query for `auth`: unknown parameters are ignored; bad values
/// are field errors; a manager naming an asset not granted to it is refused.
fn filter(
    auth: &AuthIssuer,
    params: &[(String, String)],
) -> Result<(Filter, Option<i64>), ApiError> {
    let mut errors = Vec::new();
    let after = integer(params, &AFTER).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let limit = integer(params, &LIMIT).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let mut types = Vec::new();
    for (_, value) in params.iter().filter(|(k, _)| k == "types") {
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.parse::<EventType>() {
                Ok(t) if !types.contains(&t) => types.push(t),
                Ok(_) => {}
                Err(_) => errors.push(FieldError::new(
                    "types",
                    format!("\"{name}\" is not an event type."),
                )),
            }
        }
    }
    let asset = match single(params, "asset_uuid") {
        Ok(Some(text)) => match uuid::Uuid::parse_str(text) {
            Ok(_) => Some(text.to_string()),
            Err(_) => {
                errors.push(FieldError::new("asset_uuid", "Must be a valid UUID."));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    let assets = match (&auth.manager, asset) {
        (None, asset) => asset.map(|a| vec![a]),
        (Some(manager), None) => Some(manager.assets.clone()),
        (Some(manager), Some(asset)) if manager.assets.contains(&asset) => Some(vec![asset]),
        (Some(_), Some(_)) => return Err(Denial::NoPermission.into()),
    };
    Ok((
        Filter {
            after: after.unwrap_or(0),
            types,
            assets,
        },
        limit,
    ))
}

async fn read(
    store: &Store,
    issuer_id: i64,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<Event>, ApiError> {
    Ok(store
        .events_after_in(
            issuer_id,
            filter.after,
            &filter.types,
            filter.assets.as_deref(),
            limit,
        )
        .await?)
}

/// The issuer's events after `after`, oldest first (a manager's: those of its granted
/// assets). Page on with `after` = the answer's `last_id`.
#[utoipa::path(get, path = "/api/events", tag = "events",
    security(("token" = [])),
    params(FeedQuery, PageQuery),
    responses(
        (status = 200, description = "A page of events", body = EventsPage),
        (status = 400, description = "A bad `after`, `types`, `asset_uuid` or `limit`"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "A manager named an asset not granted to it"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
    RawQuery(query): RawQuery,
) -> Result<Json<EventsPage>, ApiError> {
    let (filter, limit) = filter(&auth, &params(query.as_deref()))?;
    let events = read(state.store(), auth.issuer.id, &filter, limit.unwrap_or(100)).await?;
    let last_id = events.last().map_or(filter.after, |e| e.id);
    Ok(Json(EventsPage {
        results: events.into_iter().map(EventDto::from).collect(),
        last_id,
    }))
}

/// The grants of the caller whose token hash is `token_hash`, read again: `None` when the
/// token is gone or expired or the manager is locked; `Some(None)` for an issuer,
/// `Some(Some(assets))` for a manager.
async fn still_allowed(
    store: &Store,
    token_hash: &str,
) -> Result<Option<Option<Vec<String>>>, ApiError> {
    let Some(token) = store.token(token_hash).await? else {
        return Ok(None);
    };
    if token.expires_at <= Utc::now() {
        return Ok(None);
    }
    match token.manager_id {
        None => Ok(Some(None)),
        Some(id) => Ok(store
            .manager(token.issuer_id, id)
            .await?
            .filter(|m| !m.is_locked)
            .map(|m| Some(m.assets))),
    }
}

/// The SSE frame of an event: `id`, `event` (its type) and `data` (the event's JSON).
fn frame(event: EventDto) -> SseEvent {
    let id = event.id.to_string();
    let name = event.event_type.clone();
    let data = serde_json::to_string(&event).unwrap_or_default();
    SseEvent::default().id(id).event(name).data(data)
}

/// Sends the feed of `filter` to `sender` until the client goes away, the caller's token
/// stops being valid, or the database fails (the client reconnects with `Last-Event-ID`).
async fn pump(
    store: Store,
    issuer_id: i64,
    token_hash: String,
    mut filter: Filter,
    asked_assets: Option<Vec<String>>,
    sender: mpsc::Sender<Result<SseEvent, std::convert::Infallible>>,
) {
    let mut signal = store.event_signal();
    loop {
        signal.borrow_and_update();
        match still_allowed(&store, &token_hash).await {
            Ok(Some(Some(granted))) => {
                // A manager's grants as they are now, narrowed to the asset it asked for.
                filter.assets = Some(match &asked_assets {
                    Some(asked) => asked
                        .iter()
                        .filter(|a| granted.contains(a))
                        .cloned()
                        .collect(),
                    None => granted,
                });
            }
            Ok(Some(None)) => {}
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "events stream: checking the token failed");
                return;
            }
        }
        let events = match read(&store, issuer_id, &filter, STREAM_BATCH).await {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "events stream: reading events failed");
                return;
            }
        };
        let full = events.len() as i64 == STREAM_BATCH;
        for event in events {
            filter.after = event.id;
            if sender.send(Ok(frame(event.into()))).await.is_err() {
                return;
            }
        }
        if full {
            continue;
        }
        tokio::select! {
            _ = signal.changed() => {}
            _ = tokio::time::sleep(STREAM_POLL) => {}
            _ = sender.closed() => return,
        }
    }
}

/// The receiving end of a stream's channel, as the body of an [`Sse`] answer.
pub struct Frames(mpsc::Receiver<Result<SseEvent, std::convert::Infallible>>);

impl futures_core::Stream for Frames {
    type Item = Result<SseEvent, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The issuer's events as Server-Sent Events (a manager's: those of its granted assets): each
/// event is sent with `id` (the event id), `event` (its type) and `data` (the event as
/// `GET /api/events` shows it), oldest first, then new ones as they are recorded. A client
/// that reconnects with `Last-Event-ID` gets every event after that id, none twice. Comments
/// keep the connection alive; the stream ends when the token is revoked or expires.
#[utoipa::path(get, path = "/api/events/stream", tag = "events",
    security(("token" = [])),
    params(FeedQuery, StreamHeaders),
    responses(
        (status = 200, description = "The event stream", content_type = "text/event-stream",
            body = String),
        (status = 400, description = "A bad `after`, `types`, `asset_uuid` or `Last-Event-ID`"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "A manager named an asset not granted to it"),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    auth: AuthIssuer,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Sse<KeepAliveStream<Frames>>, ApiError> {
    let params = params(query.as_deref());
    let (mut filter, _) = filter(&auth, &params)?;
    if let Some(value) = headers.get("last-event-id") {
        let id = value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .filter(|id| *id >= 0)
            .ok_or_else(|| {
                ApiError::field("Last-Event-ID", "A valid non-negative integer is required.")
            })?;
        filter.after = id;
    }
    let asked_assets = single(&params, "asset_uuid")
        .ok()
        .flatten()
        .map(|a| vec![a.to_string()]);
    let (sender, receiver) = mpsc::channel(STREAM_BATCH as usize);
    tokio::spawn(pump(
        state.store().clone(),
        auth.issuer.id,
        auth.token_hash.clone(),
        filter,
        asked_assets,
        sender,
    ));
    Ok(Sse::new(Frames(receiver)).keep_alive(KeepAlive::default()))
}
