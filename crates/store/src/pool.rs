//! Connection-pool settings for production deployments (pool size, statement timeout) and a
//! liveness probe.
//!
//! [`Store::connect`] keeps its defaults; `amphora serve` connects with
//! [`Store::connect_with`] and the operator's [`PoolSettings`], so several replicas can share
//! one PostgreSQL server without exceeding its `max_connections`, and a runaway statement is
//! cancelled by the server instead of holding a connection forever.

use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::{with_pool, Backend, Result, Store, StoreError};

/// How a [`Store`] pools its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections this process opens (per replica; PostgreSQL's `max_connections` must
    /// cover the sum over all replicas).
    pub max_connections: u32,
    /// PostgreSQL `statement_timeout` of every connection (`None`: the server's default). Not
    /// applicable to SQLite, which waits at most its busy timeout for a lock.
    pub statement_timeout: Option<Duration>,
    /// How long a request waits for a free connection before it fails.
    pub acquire_timeout: Duration,
    /// When a SQLite commit reaches the disk (not applicable to PostgreSQL).
    pub sqlite_durability: SqliteDurability,
}

/// When a SQLite commit reaches the disk: SQLite's `PRAGMA synchronous` in WAL mode (the only
/// journal mode Amphora opens SQLite in).
///
/// Either way a crash of the process (kill -9, a panic, the OOM killer) loses no committed
/// transaction and never corrupts the database: a commit is in the write-ahead log, which the
/// operating system holds, before the commit returns. The two differ only when the machine
/// itself stops (power loss, kernel crash).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteDurability {
    /// The write-ahead log is synced to disk at each checkpoint, not at each commit (the
    /// default): a power loss can roll back the commits since the last checkpoint, never
    /// corrupt the database. Commits cost no `fsync`, which lets one writer commit thousands
    /// of transactions per second instead of a few hundred.
    #[default]
    Normal,
    /// The write-ahead log is synced to disk at every commit: a commit survives a power loss
    /// too, at the price of one `fsync` per transaction.
    Full,
}

impl SqliteDurability {
    fn pragma(self) -> SqliteSynchronous {
        match self {
            SqliteDurability::Normal => SqliteSynchronous::Normal,
            SqliteDurability::Full => SqliteSynchronous::Full,
        }
    }
}

/// The options every SQLite connection of a [`Store`] is opened with: created if missing, WAL
/// journal, foreign keys enforced, a 10 s busy timeout and the given durability.
pub(crate) fn sqlite_options(
    options: SqliteConnectOptions,
    durability: SqliteDurability,
) -> SqliteConnectOptions {
    options
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(durability.pragma())
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 16,
            statement_timeout: None,
            acquire_timeout: Duration::from_secs(10),
            sqlite_durability: SqliteDurability::default(),
        }
    }
}

impl Store {
    /// Connects to `url` (`sqlite:<path>`, created if missing, or `postgres://…`) with these
    /// pool settings (a pool size of 0 is taken as 1).
    pub async fn connect_with(url: &str, settings: &PoolSettings) -> Result<Store> {
        let max_connections = settings.max_connections.max(1);
        let backend = if url.starts_with("sqlite:") {
            let options = sqlite_options(
                SqliteConnectOptions::from_str(url)?,
                settings.sqlite_durability,
            );
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(options)
                .await?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            return Store::connect_postgres_with(options, settings).await;
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_string();
            return Err(StoreError::UnsupportedUrl(scheme));
        };
        Ok(Store::with_backend(backend))
    }

    /// Connects to PostgreSQL with these options (e.g. a `search_path`) and pool settings.
    pub async fn connect_postgres_with(
        options: PgConnectOptions,
        settings: &PoolSettings,
    ) -> Result<Store> {
        let mut options = options;
        if let Some(timeout) = settings.statement_timeout {
            let millis = timeout.as_millis().max(1).to_string();
            options = options.options([("statement_timeout", millis.as_str())]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Store::with_backend(Backend::Postgres(pool)))
    }

    /// Runs a trivial query: `Ok` when the database answers.
    pub async fn ping(&self) -> Result<()> {
        with_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Most connections of this store's pool.
    pub fn max_connections(&self) -> u32 {
        with_pool!(self, |pool| pool.options().get_max_connections())
    }
}
