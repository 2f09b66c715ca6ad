//! amphora-store: the platform's persistence behind one interface, [`Store`], with a SQLite
//! backend (the embedded default) and a PostgreSQL backend (to scale out).
//!
//! Both backends run the same SQL where it is portable (`$n` placeholders, `RETURNING`,
//! `ON CONFLICT`); each has its own migrations in `migrations/{sqlite,postgres}`. Every
//! issuer-owned query filters by `issuer_id`, so one issuer can never see another's rows.
//! Every change that touches more than one row runs in one transaction.

mod aggregates;
mod asset_changes;
mod asset_links;
mod assets;
mod assignment_create;
mod assignments;
mod audit;
mod burns;
mod categories;
mod chain;
mod conflict;
mod cosign;
mod distributions;
mod error;
mod events;
mod issuance_lease;
mod issuers;
mod managers;
mod model;
mod output_insert;
mod ownerships_json;
mod payments;
mod payouts;
mod pool;
mod registered_users;
mod registry;
mod reissuances;
mod report_pages;
mod reports;
mod supply_events;
mod supply_requests;
mod tokens;
mod treasury_keys;
mod wallet_addresses;
mod wallets;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

pub use aggregates::AssetSummary;
pub use assets::{Asset, CosignAsset, IssuanceStatus, IssuanceTx, NewAsset};
pub use assignment_create::AssignmentCreation;
pub use assignments::{Assignment, NewAssignment, UserAssetSummary};
pub use burns::{Burn, BurnCompletion};
pub use chain::{
    AssetOutput, BlockUpdate, FollowerLease, IndexedBlock, IndexedTx, NewAssetOutput, OutputOwner,
    OutputSpend, TrackedAsset, TxKind, UNKNOWN_BLINDER,
};
pub use conflict::{Conflict, Forbidden, PaymentKind};
pub use cosign::{CosignDecision, CosignDecisionAsset, NewCosignDecision};
pub use distributions::{
    BatchRecorded, Distribution, DistributionItem, DistributionStatus, DistributionTx,
    EligibleAssignment, NewDistribution, OutstandingBatch, PaidBatch,
};
pub use error::StoreError;
pub use events::{Event, NewEvent, EVENTS_LOCK, MAX_EVENTS_PER_READ};
pub use model::{
    AuditEntry, AuthToken, Category, Issuer, Manager, NewAuditEntry, RegisteredUser,
    RegisteredWallet,
};
pub use ownerships_json::{HoldingsJson, TREASURY_OWNER};
pub use payouts::{
    NewPayout, NewPayoutLine, OutstandingPayoutBatch, Payout, PayoutLine, UserPayoutLine,
};
pub use pool::{PoolSettings, SqliteDurability};
pub use registry::{NewRegistration, OWN_REGISTRY};
pub use reissuances::{
    CompletedBy, Completion, Reissuance, ReissuanceCompletion, ReissueBurnTotals, UtxoRef,
};
pub use report_pages::{Activity, ActivityOrder, DecisionOrder, Heights, TxOrder, TxPage, Window};
pub use reports::{AssetTotals, GaidBalance, Holding, ReportOutput, ReportTx};
pub use wallet_addresses::WalletAddress;
pub use webhooks::{
    Attempt, Delivery, NewWebhook, Outcome, Webhook, WebhookChange, MAX_DELIVERIES_PER_READ,
};

/// Result type of every store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The platform's database: SQLite or PostgreSQL, chosen by the URL scheme.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Bumped after every commit of this process that wrote events.
    events: std::sync::Arc<events::EventSignal>,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a [`Store`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// SQLite (embedded, one file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Runs `$body` with `$pool` bound to the backend's pool. The body is written once and compiled
/// for both engines, which keeps the portable SQL in one place.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Store {
    fn with_backend(backend: Backend) -> Store {
        Store {
            backend,
            events: std::sync::Arc::new(events::EventSignal::new()),
        }
    }

    /// Connects to `url`: `sqlite:<path>` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Store> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?;
            Ok(Store::connect_sqlite(options).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)?;
            Ok(Store::connect_postgres(options).await?)
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_string();
            Err(StoreError::UnsupportedUrl(scheme))
        }
    }

    /// Opens a SQLite database in WAL mode with foreign keys enforced and the default
    /// [`SqliteDurability`].
    pub async fn connect_sqlite(options: SqliteConnectOptions) -> Result<Store> {
        let options = pool::sqlite_options(options, SqliteDurability::default());
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        Ok(Store::with_backend(Backend::Sqlite(pool)))
    }

    /// Connects to PostgreSQL.
    pub async fn connect_postgres(options: PgConnectOptions) -> Result<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Store::with_backend(Backend::Postgres(pool)))
    }

    /// The statement that opens a transaction that will write. On SQLite it is `BEGIN
    /// IMMEDIATE`: the write lock is taken up front, so a transaction that reads before it writes
    /// waits for a concurrent writer (the busy timeout) instead of failing at once with "database
    /// is locked" when it tries to upgrade its read snapshot. On PostgreSQL a plain `BEGIN`
    /// (row locks and constraints do the rest).
    pub(crate) fn begin_write(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "BEGIN IMMEDIATE",
            Backend::Postgres(_) => "BEGIN",
        }
    }

    /// The engine this store runs on.
    pub fn engine(&self) -> Engine {
        match self.backend {
            Backend::Sqlite(_) => Engine::Sqlite,
            Backend::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies the pending migrations of this engine. Idempotent.
    pub async fn migrate(&self) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Backend::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Closes every connection (waits for the ones in use to be returned).
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}
