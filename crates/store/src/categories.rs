//! Categories and their registered users.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::expect_found;
use crate::{with_pool, Category, Conflict, Result, Store, StoreError};

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: i64,
    issuer_id: i64,
    name: String,
    description: String,
    created_at: DateTime<Utc>,
}

const CATEGORY_COLUMNS: &str = "id, issuer_id, name, description, created_at";

fn assemble(rows: Vec<CategoryRow>, members: Vec<(i64, i64)>) -> Vec<Category> {
    let mut users_of: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (category, user) in members {
        users_of.entry(category).or_default().push(user);
    }
    rows.into_iter()
        .map(|row| Category {
            registered_users: users_of.remove(&row.id).unwrap_or_default(),
            id: row.id,
            issuer_id: row.issuer_id,
            name: row.name,
            description: row.description,
            created_at: row.created_at,
        })
        .collect()
}

/// Loads one category (with members) through `$conn`, a connection or a transaction.
macro_rules! load_category {
    ($conn:expr, $issuer_id:expr, $id:expr) => {{
        async {
            let conn = $conn;
            let sql = format!(
                "SELECT {CATEGORY_COLUMNS} FROM categories WHERE id = $1 AND issuer_id = $2"
            );
            let row: Option<CategoryRow> = sqlx::query_as(&sql)
                .bind($id)
                .bind($issuer_id)
                .fetch_optional(&mut *conn)
                .await?;
            let Some(row) = row else {
                return Ok::<_, StoreError>(None);
            };
            let members: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT category_id, registered_user_id FROM category_registered_users \
                 WHERE category_id = $1 ORDER BY registered_user_id",
            )
            .bind($id)
            .fetch_all(&mut *conn)
            .await?;
            Ok(assemble(vec![row], members).pop())
        }
        .await
    }};
}

impl Store {
    /// Every category of the issuer, by id.
    pub async fn categories(&self, issuer_id: i64) -> Result<Vec<Category>> {
        let rows =
            format!("SELECT {CATEGORY_COLUMNS} FROM categories WHERE issuer_id = $1 ORDER BY id");
        let members = "SELECT l.category_id, l.registered_user_id \
                       FROM category_registered_users l \
                       JOIN categories c ON c.id = l.category_id \
                       WHERE c.issuer_id = $1 ORDER BY l.registered_user_id";
        with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let rows: Vec<CategoryRow> = sqlx::query_as(&rows)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            let members = sqlx::query_as(members)
                .bind(issuer_id)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(assemble(rows, members))
        })
    }

    /// The issuer's category with this id.
    pub async fn category(&self, issuer_id: i64, id: i64) -> Result<Option<Category>> {
        with_pool!(self, |pool| {
            let mut conn = pool.acquire().await?;
            load_category!(&mut *conn, issuer_id, id)
        })
    }

    /// Creates a category.
    pub async fn create_category(
        &self,
        issuer_id: i64,
        name: &str,
        description: &str,
    ) -> Result<Category> {
        let sql = format!(
            "INSERT INTO categories (issuer_id, name, description, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING {CATEGORY_COLUMNS}"
        );
        let row: CategoryRow = with_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(issuer_id)
            .bind(name)
            .bind(description)
            .bind(Utc::now())
            .fetch_one(pool)
            .await?);
        Ok(assemble(vec![row], Vec::new()).remove(0))
    }

    /// Changes a category's name and/or description (`None` keeps the current value).
    pub async fn update_category(
        &self,
        issuer_id: i64,
        id: i64,
        name: Option<&str>,
        description: Option<&str>,
    ) -> Result<Category> {
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let updated = sqlx::query(
                "UPDATE categories SET name = COALESCE($1, name), \
                 description = COALESCE($2, description) WHERE id = $3 AND issuer_id = $4",
            )
            .bind(name)
            .bind(description)
            .bind(id)
            .bind(issuer_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            expect_found(updated)?;
            let category = load_category!(&mut *tx, issuer_id, id)?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok(category)
        })
    }

    /// Deletes a category (its memberships go with it).
    pub async fn delete_category(&self, issuer_id: i64, id: i64) -> Result<()> {
        let deleted = with_pool!(self, |pool| sqlx::query(
            "DELETE FROM categories WHERE id = $1 AND issuer_id = $2"
        )
        .bind(id)
        .bind(issuer_id)
        .execute(pool)
        .await?
        .rows_affected());
        expect_found(deleted)?;
        Ok(())
    }

    /// Puts a registered user in a category (idempotent). Both must belong to the issuer.
    pub async fn add_category_registered_user(
        &self,
        issuer_id: i64,
        category_id: i64,
        registered_user_id: i64,
    ) -> Result<Category> {
        self.change_membership(issuer_id, category_id, registered_user_id, true)
            .await
    }

    /// Takes a registered user out of a category (idempotent). Both must belong to the issuer.
    pub async fn remove_category_registered_user(
        &self,
        issuer_id: i64,
        category_id: i64,
        registered_user_id: i64,
    ) -> Result<Category> {
        self.change_membership(issuer_id, category_id, registered_user_id, false)
            .await
    }

    /// Puts a registered user in (`member`) or takes it out of each of `category_ids`, in one
    /// transaction (idempotent per category). [`StoreError::NotFound`] when the user is not
    /// the issuer's; [`StoreError::Conflict`] naming the ids that are not categories of the
    /// issuer, and then nothing changes.
    pub async fn change_registered_user_categories(
        &self,
        issuer_id: i64,
        registered_user_id: i64,
        category_ids: &[i64],
        member: bool,
    ) -> Result<()> {
        let sql = if member {
            "INSERT INTO category_registered_users (category_id, registered_user_id) \
             VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM category_registered_users \
             WHERE category_id = $1 AND registered_user_id = $2"
        };
        let mut ids = category_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let user_is_issuers: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM registered_users WHERE id = $1 AND issuer_id = $2",
            )
            .bind(registered_user_id)
            .bind(issuer_id)
            .fetch_optional(&mut *tx)
            .await?;
            if user_is_issuers.is_none() {
                return Err(StoreError::NotFound);
            }
            let mut unknown = Vec::new();
            for id in &ids {
                let found: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM categories WHERE id = $1 AND issuer_id = $2",
                )
                .bind(id)
                .bind(issuer_id)
                .fetch_optional(&mut *tx)
                .await?;
                if found.is_none() {
                    unknown.push(*id);
                }
            }
            if !unknown.is_empty() {
                return Err(StoreError::Conflict(Conflict::UnknownCategories {
                    ids: unknown,
                }));
            }
            for id in &ids {
                sqlx::query(sql)
                    .bind(id)
                    .bind(registered_user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    async fn change_membership(
        &self,
        issuer_id: i64,
        category_id: i64,
        registered_user_id: i64,
        member: bool,
    ) -> Result<Category> {
        let sql = if member {
            "INSERT INTO category_registered_users (category_id, registered_user_id) \
             VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM category_registered_users \
             WHERE category_id = $1 AND registered_user_id = $2"
        };
        with_pool!(self, |pool| {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let user_is_issuers: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM registered_users WHERE id = $1 AND issuer_id = $2",
            )
            .bind(registered_user_id)
            .bind(issuer_id)
            .fetch_optional(&mut *tx)
            .await?;
            if user_is_issuers.is_none()
                || load_category!(&mut *tx, issuer_id, category_id)?.is_none()
            {
                return Err(StoreError::NotFound);
            }
            sqlx::query(sql)
                .bind(category_id)
                .bind(registered_user_id)
                .execute(&mut *tx)
                .await?;
            let category =
                load_category!(&mut *tx, issuer_id, category_id)?.ok_or(StoreError::NotFound)?;
            tx.commit().await?;
            Ok(category)
        })
    }
}
