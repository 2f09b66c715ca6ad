//! The store's error type.

use crate::{Conflict, Forbidden};

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names an engine Amphora does not support.
    #[error("unsupported database URL scheme '{0}': expected sqlite:<path> or postgres://…")]
    UnsupportedUrl(String),
    /// The row to change does not exist (or belongs to another issuer).
    #[error("not found")]
    NotFound,
    /// A rule refused the change (nothing was changed); the variant names the rule. The
    /// server's error table writes its text.
    #[error("refused: {0:?}")]
    Conflict(Conflict),
    /// The caller's grants do not cover the rows the change would affect; the variant says
    /// why (the server's error table writes its text).
    #[error("forbidden: {0:?}")]
    Forbidden(Forbidden),
    /// The database failed or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// `Ok` when a statement changed at least one row, [`StoreError::NotFound`] when it changed none
/// (the row does not exist or belongs to another issuer).
pub(crate) fn expect_found(rows_affected: u64) -> Result<(), StoreError> {
    if rows_affected == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] with `conflict`, and
    /// keeps every other error as it is.
    pub(crate) fn conflict_on_unique(err: sqlx::Error, conflict: Conflict) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(conflict),
            _ => StoreError::Database(err),
        }
    }
}
