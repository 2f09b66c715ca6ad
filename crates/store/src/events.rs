//! The events outbox (migration 0017): every change to an issuer's data writes its event in
//! the change's own transaction ([`insert_event!`]), so there is no change without its event
//! and no event without its change. Events are never updated or deleted.
//!
//! Ids increase in commit order on both engines (SQLite has one writer at a time; on
//! PostgreSQL [`insert_event!`] takes a transaction-scoped advisory lock first), so a reader
//! that resumes after the last id it saw ([`Store::events_after`]) never misses a row. Writers
//! insert their events as the last statements of their transactions, so the lock is held only
//! for the commit.
//!
//! Every commit that wrote events bumps an in-process signal ([`Store::event_signal`]) that
//! readers in the same process wait on; readers poll too, for other replicas' rows.

use amphora_core::event::{EventData, EventType};
use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::{with_pool, Result, Store, StoreError};

/// Key of the PostgreSQL advisory lock that orders event inserts (`pg_advisory_xact_lock`).
pub const EVENTS_LOCK: i64 = 0x616d_705f_6576; // "amp_ev"

/// Most events one read returns.
pub const MAX_EVENTS_PER_READ: i64 = 1000;

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// The issuer whose data changed.
    pub issuer_id: i64,
    /// The asset it is about, if any.
    pub asset_uuid: Option<String>,
    /// The block height, for an event reporting a confirmed transaction or a block.
    pub block_height: Option<i64>,
    /// The type's data (it decides the type).
    pub data: EventData,
}

impl NewEvent {
    /// An event of `issuer_id` about `asset_uuid`.
    pub fn new(issuer_id: i64, asset_uuid: Option<&str>, data: EventData) -> Self {
        NewEvent {
            issuer_id,
            asset_uuid: asset_uuid.map(str::to_owned),
            block_height: None,
            data,
        }
    }

    /// The same event, reported at block `height`.
    pub fn at_height(mut self, height: i64) -> Self {
        self.block_height = Some(height);
        self
    }
}

/// A recorded event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Id, increasing in commit order.
    pub id: i64,
    /// The issuer.
    pub issuer_id: i64,
    /// Its type.
    pub event_type: EventType,
    /// The asset it is about, if any.
    pub asset_uuid: Option<String>,
    /// The block height, for events reporting a confirmed transaction or a block.
    pub block_height: Option<i64>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// The type's data object (see [`amphora_core::event`]).
    pub data: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    issuer_id: i64,
    #[sqlx(rename = "type")]
    event_type: String,
    asset_uuid: Option<String>,
    block_height: Option<i64>,
    created_at: DateTime<Utc>,
    data: String,
}

impl EventRow {
    fn into_event(self) -> Result<Event> {
        let decode = |message: String| StoreError::Database(sqlx::Error::Decode(message.into()));
        let event_type = self
            .event_type
            .parse::<EventType>()
            .map_err(|e| decode(e.to_string()))?;
        let data = serde_json::from_str(&self.data)
            .map_err(|e| decode(format!("event {} data: {e}", self.id)))?;
        Ok(Event {
            id: self.id,
            issuer_id: self.issuer_id,
            event_type,
            asset_uuid: self.asset_uuid,
            block_height: self.block_height,
            created_at: self.created_at,
            data,
        })
    }
}

const EVENT_COLUMNS: &str = "id, issuer_id, type, asset_uuid, block_height, created_at, data";

/// The statement [`insert_event!`] runs.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (issuer_id, type, asset_uuid, \
     block_height, created_at, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";

/// Records a [`NewEvent`] inside the transaction `$tx` of `$store` and evaluates to its id
/// (`i64`). On PostgreSQL it first takes the events' advisory lock for the rest of the
/// transaction (see the module documentation), so call it last in a transaction.
///
/// `$tx` is the transaction itself (`tx`, a `sqlx::Transaction`); errors return from the
/// enclosing function with `?`.
macro_rules! insert_event {
    ($store:expr, $tx:expr, $event:expr) => {{
        let event: &$crate::events::NewEvent = $event;
        if $store.engine() == $crate::Engine::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind($crate::events::EVENTS_LOCK)
                .execute(&mut *$tx)
                .await?;
        }
        let id: i64 = sqlx::query_scalar($crate::events::INSERT_EVENT)
            .bind(event.issuer_id)
            .bind(event.data.event_type().as_str())
            .bind(event.asset_uuid.as_deref())
            .bind(event.block_height)
            .bind(chrono::Utc::now())
            .bind(event.data.to_json().to_string())
            .fetch_one(&mut *$tx)
            .await?;
        id
    }};
}
pub(crate) use insert_event;

/// The in-process signal bumped after every commit that wrote events.
#[derive(Debug)]
pub(crate) struct EventSignal(watch::Sender<u64>);

impl EventSignal {
    pub(crate) fn new() -> Self {
        EventSignal(watch::channel(0).0)
    }
}

impl Store {
    /// Records one event in its own transaction and returns it.
    pub async fn append_event(&self, event: &NewEvent) -> Result<Event> {
        let id = with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id = insert_event!(self, tx, event);
            tx.commit().await?;
            id
        });
        self.events_written();
        self.event(id).await?.ok_or(StoreError::NotFound)
    }

    /// Wakes the readers waiting on [`Store::event_signal`]; called after every commit that
    /// wrote events.
    pub fn events_written(&self) {
        self.events.0.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that changes after every commit of this process that wrote events (other
    /// replicas' commits are not seen: poll for them).
    pub fn event_signal(&self) -> watch::Receiver<u64> {
        self.events.0.subscribe()
    }

    /// One event, any issuer's.
    pub async fn event(&self, id: i64) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1");
        let row: Option<EventRow> = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await?);
        row.map(EventRow::into_event).transpose()
    }

    /// The issuer's events with an id above `after_id`, oldest first, at most `limit` (capped
    /// at [`MAX_EVENTS_PER_READ`]): only the `types` given (all when empty) and only those
    /// about `asset_uuid` when it is given.
    pub async fn events_after(
        &self,
        issuer_id: i64,
        after_id: i64,
        types: &[EventType],
        asset_uuid: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let assets: Vec<String> = asset_uuid.map(str::to_owned).into_iter().collect();
        self.events_after_in(
            issuer_id,
            after_id,
            types,
            asset_uuid.map(|_| &assets[..]),
            limit,
        )
        .await
    }

    /// [`Store::events_after`] restricted to the events about one of `assets` when it is
    /// `Some` (a manager's granted assets; events about no asset are left out then).
    pub async fn events_after_in(
        &self,
        issuer_id: i64,
        after_id: i64,
        types: &[EventType],
        assets: Option<&[String]>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let limit = limit.clamp(0, MAX_EVENTS_PER_READ);
        if limit == 0 || assets.is_some_and(<[String]>::is_empty) {
            return Ok(Vec::new());
        }
        let mut sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE issuer_id = $1 AND id > $2");
        let mut next = 3;
        let mut placeholders = |count: usize| {
            let list: Vec<String> = (next..next + count).map(|n| format!("${n}")).collect();
            next += count;
            list.join(", ")
        };
        if !types.is_empty() {
            sql.push_str(&format!(" AND type IN ({})", placeholders(types.len())));
        }
        if let Some(assets) = assets {
            sql.push_str(&format!(
                " AND asset_uuid IN ({})",
                placeholders(assets.len())
            ));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {limit}"));
        let rows: Vec<EventRow> = with_pool!(self, |pool| {
            let mut query = sqlx::query_as::<_, EventRow>(&sql)
                .bind(issuer_id)
                .bind(after_id);
            for t in types {
                query = query.bind(t.as_str());
            }
            for asset in assets.unwrap_or_default() {
                query = query.bind(asset);
            }
            query.fetch_all(pool).await?
        });
        rows.into_iter().map(EventRow::into_event).collect()
    }
}
