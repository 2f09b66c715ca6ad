//! Rows the store returns.

use chrono::{DateTime, Utc};

/// An issuer account.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Issuer {
    /// Account id (also the `creator` of the issuer's objects).
    pub id: i64,
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// A stored API token (only its hash) and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthToken {
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    /// The issuer the token authenticates, or the issuer of the manager it authenticates.
    pub issuer_id: i64,
    /// The manager the token authenticates; `None` for an issuer's token.
    pub manager_id: Option<i64>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// An AMP2 wallet registered with the platform's co-signer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RegisteredWallet {
    /// Wallet id returned to the wallet (`dwid` of the descriptor).
    pub wid: String,
    /// Canonical descriptor.
    pub descriptor: String,
    /// GAID assigned to the wallet.
    pub gaid: String,
    /// When it was first registered.
    pub created_at: DateTime<Utc>,
}

/// A registered user (investor) of one issuer, with its GAIDs and categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredUser {
    /// Id (unique on the platform).
    pub id: i64,
    /// Owning issuer.
    pub issuer_id: i64,
    /// Name, 1–255 characters.
    pub name: String,
    /// Company or natural person (immutable).
    pub is_company: bool,
    /// Default GAID, one of `gaids`.
    pub default_gaid: Option<String>,
    /// Every GAID of the user, in the order they were added.
    pub gaids: Vec<String>,
    /// Ids of the categories the user is in, ascending.
    pub categories: Vec<i64>,
    /// The manager that added the user; `None` when the issuer did.
    pub creator_manager_id: Option<i64>,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
}

/// A category of one issuer, with its registered users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Id (unique on the platform).
    pub id: i64,
    /// Owning issuer.
    pub issuer_id: i64,
    /// Name, 1–255 characters.
    pub name: String,
    /// Description, at most 1023 characters (may be empty).
    pub description: String,
    /// Ids of the registered users in the category, ascending.
    pub registered_users: Vec<i64>,
    /// When the category was created.
    pub created_at: DateTime<Utc>,
}

/// An investment manager: a delegated account of one issuer, limited to registered-user and
/// assignment work on the assets the issuer grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manager {
    /// Id (unique on the platform, separate from issuer ids).
    pub id: i64,
    /// The issuer the manager works for.
    pub issuer_id: i64,
    /// Login name (unique across issuers and managers).
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// A locked manager can neither obtain nor use a token.
    pub is_locked: bool,
    /// UUIDs of the assets the manager may see, ascending.
    pub assets: Vec<String>,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// One recorded write (`GET /api/audit`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    /// Id, increasing with time.
    pub id: i64,
    /// The issuer whose data was written (the actor's issuer for a manager).
    pub issuer_id: i64,
    /// `issuer` or `manager`.
    pub actor_role: String,
    /// Id of the issuer or manager account that made the call.
    pub actor_id: i64,
    /// Its username at the time.
    pub actor_username: String,
    /// HTTP method.
    pub method: String,
    /// The request path.
    pub path: String,
    /// The route template (`/api/registered_users/{id}/edit`).
    pub route: String,
    /// JSON object of the ids the write touched (path parameters and a created object's `id`).
    pub object_ids: String,
    /// The response status.
    pub status: i32,
    /// When the write was answered.
    pub created_at: DateTime<Utc>,
}

/// A new audit entry, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// See [`AuditEntry::issuer_id`].
    pub issuer_id: i64,
    /// See [`AuditEntry::actor_role`].
    pub actor_role: String,
    /// See [`AuditEntry::actor_id`].
    pub actor_id: i64,
    /// See [`AuditEntry::actor_username`].
    pub actor_username: String,
    /// See [`AuditEntry::method`].
    pub method: String,
    /// See [`AuditEntry::path`].
    pub path: String,
    /// See [`AuditEntry::route`].
    pub route: String,
    /// See [`AuditEntry::object_ids`].
    pub object_ids: String,
    /// See [`AuditEntry::status`].
    pub status: i32,
}
