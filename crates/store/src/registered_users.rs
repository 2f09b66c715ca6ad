//! Registered users (investors) and their GAIDs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::expect_found;
use crate::{with_pool, Conflict, RegisteredUser, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    issuer_id: i64,
    name: String,
    is_company: bool,
    default_gaid: Option<String>,
    creator_manager_id: Option<i64>,
    created_at: DateTime<Utc>,
}

const USER_COLUMNS: &str =
    "id, issuer_id, name, is_company, default_gaid, creator_manager_id, created_at";

/// Joins user rows with their GAID and category links.
fn assemble(
    rows: Vec<UserRow>,
    gaids: Vec<(i64, String)>,
    categories: Vec<(i64, i64)>,
) -> Vec<RegisteredUser> {
    let mut gaids_of: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (user, gaid) in gaids {
        gaids_of.entry(user).or_default().push(gaid);
    }
    let mut categories_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (user, category) in categories {
        categories_of.entry(user).or_default().push(category);
    }
    rows.into_iter()
        .map(|row| RegisteredUser {
            gaids: gaids_of.remove(&row.id).unwrap_or_default(),
            categories: categories_of.remove(&row.id).unwrap_or_default(),
            id: row.id,
            issuer_id: row.issuer_id,
            name: row.name,
            is_company: row.is_company,
            default_gaid: row.default_gaid,
            creator_manager_id: row.creator_manager_id,
            created_at: row.created_at,
        })
        .collect()
}

/// Text of the database's own refusal (SQLite trigger of migration 0010).
const HISTORY_KEPT: &str = "registered user has assignment history";

fn has_history(id: i64, assignments: i64) -> StoreError {
    StoreError::Conflict(Conflict::UserHasHistory { id, assignments })
}

fn gaid_taken(gaid: &str) -> Conflict {
    Conflict::GaidTaken {
        gaid: gaid.to_string(),
    }
}

/// Loads one user (with links) through `$conn`, which may be a connection or a transaction.
macro_rules! load_user {
    ($conn:expr, $issuer_id:expr, $id:expr) => {{
        async {
            let conn = $conn;
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM registered_users WHERE id = $1 AND issuer_id = $2"
            );
            let row: Option<UserRow> = sqlx::query_as(&sql)
                .bind($id)
                .bind($issuer_id)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else {
                return Ok::<_, StoreError>(None);
            };
            let gaids: Vec<(i64, String)> = sqlx::query_as(
                "SELECT registered_user_id, gaid FROM registered_user_gaids \
                 WHERE registered_user_id = $1 ORDER BY created_at, gaid",
            )
            .bind($id)
            .fetch_all(&mut *conn)
            .await?;
            let categories: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT registered_user_id, category_id FROM category_registered_users \
                 WHERE registered_user_id = $1 ORDER BY category_id",
            )
            .bind($id)
            .fetch_all(&mut *conn)
            .await?;
            Ok(assemble(vec![row], gaids, categories).pop())
        }
        .await
    }};
}

/// Inserts a user ↔ GAID link through `$conn`, mapping a GAID already held by another user of
/// the issuer, or unknown to the platform, to [`StoreError::Conflict`].
macro_rules! link_gaid {
    ($conn:expr, $issuer_id:expr, $id:expr, $gaid:expr, $now:expr) => {{
        let gaid: &str = $gaid;
        sqlx::query(
            "INSERT INTO registered_user_gaids (registered_user_id, issuer_id, gaid, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind($id)
        .bind($issuer_id)
        .bind(gaid)
        .bind($now)
        .execute($conn)
        .await
        .map(|_| ())
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::Conflict(Conflict::GaidNotRegistered {
                    gaid: gaid.to_string(),
                })
            }
            _ => StoreError::conflict_on_unique(e, gaid_taken(gaid)),
        })
    }};
}

/// Refuses a GAID change of registered user `$id` through `$conn` for a caller granted only
/// `$grants` (a manager's assets; `None`: the issuer, unrestricted) when the user has an
/// undistributed assignment of another asset: its default GAID decides where that assignment
/// is paid ([`StoreError::Forbidden`]). Runs inside the change's transaction.
macro_rules! check_gaid_scope {
    ($conn:expr, $id:expr, $grants:expr) => {{
        let grants: Option<&[String]> = $grants;
        if let Some(grants) = grants {
            let assets: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT asset_uuid FROM assignments WHERE registered_user_id = $1 \
                 AND is_distributed = FALSE AND deleted_at IS NULL",
            )
            .bind($id)
            .fetch_all($conn)
            .await?;
            if assets.iter().any(|asset| !grants.contains(asset)) {
                return Err(StoreError::Forbidden(
                    crate::Forbidden::UngrantedAssignments,
                ));
            }
        }
    }};
}

impl Store {
    /// Every registered user of the issuer, by id.
    pub async fn registered_users(&self, issuer_id: i64) -> Result<Vec<RegisteredUser>> {
        let users =
            format!("SELECT {USER_COLUMNS} FROM registered_users WHERE issuer_id = $1 ORDER BY id");
        let gaids = "SELECT registered_user_id, gaid FROM registered_user_gaids \
                     WHERE issuer_id = $1 ORDER BY created_at, gaid";
        let categories = "SELECT l.registered_user_id, l.category_id \
                          FROM category_registered_users l \
                          JOIN categories c ON c.id = l.category_id \
                          WHERE c.issuer_id = $1 ORDER BY l.category_id";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let rows: Vec<UserRow> = sqlx::query_as(&users)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            let gaids = sqlx::query_as(gaids)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            let categories = sqlx::query_as(categories)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(assemble(rows, gaids, categories))
        })
    }

    /// The issuer's registered user with this id.
    pub async fn registered_user(&self, issuer_id: i64, id: i64) -> Result<Option<RegisteredUser>> {
        with_pool!(self, |pool| {
            let mut conn = pool.acquire().await?;
            load_user!(&mut *conn, issuer_id, id)
        })
    }

    /// The issuer's registered user that holds this GAID.
    pub async fn registered_user_by_gaid(
        &self,
        issuer_id: i64,
        gaid: &str,
    ) -> Result<Option<RegisteredUser>> {
        let sql = "SELECT registered_user_id FROM registered_user_gaids \
                   WHERE issuer_id = $1 AND gaid = $2";
        let id: Option<i64> = with_pool!(self, |pool| sqlx::query_scalar(sql)
            .bind(issuer_id)
            .bind(gaid)
            .fetch_optional(pool)
            .await?);
        match id {
            Some(id) => self.registered_user(issuer_id, id).await,
            None => Ok(None),
        }
    }

    /// Adds a registered user; with a GAID, the GAID becomes its first and default GAID.
    /// The GAID must be a registered wallet's and free among the issuer's users
    /// ([`StoreError::Conflict`] otherwise). `creator_manager_id` records the manager that
    /// adds the user (`None`: the issuer).
    pub async fn create_registered_user(
        &self,
        issuer_id: i64,
        name: &str,
        is_company: bool,
        gaid: Option<&str>,
        creator_manager_id: Option<i64>,
    ) -> Result<RegisteredUser> {
        let now = Utc::now();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO registered_users \
                 (issuer_id, name, is_company, default_gaid, creator_manager_id, created_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5) RETURNING id",
            )
            .bind(issuer_id)
            .bind(name)
            .bind(is_company)
            .bind(creator_manager_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(gaid) = gaid {
                link_gaid!(&mut *tx, issuer_id, id, gaid, now)?;
                sqlx::query("UPDATE registered_users SET default_gaid = $1 WHERE id = $2")
                    .bind(gaid)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            let user = load_user!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok(user)
        })
    }

    /// Renames a registered user.
    pub async fn rename_registered_user(
        &self,
        issuer_id: i64,
        id: i64,
        name: &str,
    ) -> Result<RegisteredUser> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let updated = sqlx::query(
                "UPDATE registered_users SET name = $1 WHERE id = $2 AND issuer_id = $3",
            )
            .bind(name)
            .bind(id)
            .bind(issuer_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            expect_found(updated)?;
            let user = load_user!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok(user)
        })
    }

    /// Deletes a registered user with its GAID and category links. A user with any
    /// assignment (pending, distributed or deleted) is kept: assignments and distributions are
    /// the issuer's record of who was allotted and paid what, so deleting the user is refused
    /// with [`StoreError::Conflict`] (the database refuses it too: migration 0010).
    pub async fn delete_registered_user(&self, issuer_id: i64, id: i64) -> Result<()> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let assignments: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM assignments a JOIN registered_users u \
                 ON u.id = a.registered_user_id WHERE u.id = $1 AND u.issuer_id = $2",
            )
            .bind(id)
            .bind(issuer_id)
            .fetch_one(&mut *tx)
            .await?;
            if assignments > 0 {
                return Err(has_history(id, assignments));
            }
            let deleted =
                sqlx::query("DELETE FROM registered_users WHERE id = $1 AND issuer_id = $2")
                    .bind(id)
                    .bind(issuer_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        // an assignment inserted meanwhile: the database keeps the history too
                        sqlx::Error::Database(db)
                            if db.is_foreign_key_violation()
                                || db.message().contains(HISTORY_KEPT) =>
                        {
                            has_history(id, 1)
                        }
                        _ => StoreError::from(e),
                    })?
                    .rows_affected();
            expect_found(deleted)?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Links a GAID to a registered user; the first GAID becomes the default. Adding a GAID the
    /// user already has changes nothing. `grants`: the assets of a manager making the change
    /// (`None` for the issuer); see [`StoreError::Forbidden`].
    pub async fn add_registered_user_gaid(
        &self,
        issuer_id: i64,
        id: i64,
        gaid: &str,
        grants: Option<&[String]>,
    ) -> Result<RegisteredUser> {
        let now = Utc::now();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let user = load_user!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            check_gaid_scope!(&mut *tx, id, grants);
            if user.gaids.iter().any(|g| g == gaid) {
                return Ok(user);
            }
            link_gaid!(&mut *tx, issuer_id, id, gaid, now)?;
            sqlx::query(
                "UPDATE registered_users SET default_gaid = $1 WHERE id = $2 AND default_gaid IS NULL",
            )
            .bind(gaid)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let user = load_user!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok(user)
        })
    }

    /// Makes one of the user's GAIDs its default ([`StoreError::Conflict`] if the user does not
    /// hold that GAID). `grants`: the assets of a manager making the change (`None` for the
    /// issuer); see [`StoreError::Forbidden`].
    pub async fn set_default_gaid(
        &self,
        issuer_id: i64,
        id: i64,
        gaid: &str,
        grants: Option<&[String]>,
    ) -> Result<RegisteredUser> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let user = load_user!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            check_gaid_scope!(&mut *tx, id, grants);
            if !user.gaids.iter().any(|g| g == gaid) {
                return Err(StoreError::Conflict(Conflict::GaidNotOfUser {
                    gaid: gaid.to_string(),
                }));
            }
            sqlx::query("UPDATE registered_users SET default_gaid = $1 WHERE id = $2")
                .bind(gaid)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let user = load_user!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok(user)
        })
    }
}
