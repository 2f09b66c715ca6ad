//! Creating an assignment: every rule of `amphora_core::assignment::check_assignment` checked
//! under the asset's lock, and the insert with its `assignment.created` event, in one
//! transaction of few round trips.
//!
//! The transaction first takes the asset's lock: `BEGIN IMMEDIATE` (the database write lock)
//! on SQLite, `SELECT … FOR UPDATE` of the asset row on PostgreSQL. Concurrent creates for one
//! asset therefore run one after the other, and the assigned, undistributed total can never
//! exceed the treasury's confirmed balance. Then one query reads the whole context: the asset
//! (visible to the issuer), the registered user and its default GAID, the issuance's
//! confirmations, the asset's and the user's categories, whether the user already has a ready
//! assignment, and the assigned total and the treasury balance, both maintained per asset by
//! the database's aggregates (migration 0014) rather than re-summed, so a create costs the same
//! however many assignments the asset has. On PostgreSQL the context is read by a statement of
//! its own after the lock is held, so its snapshot sees every create that committed before.

use amphora_core::assignment::{check_assignment, AssignmentContext, AssignmentRuleError};
use amphora_core::event::EventData;
use chrono::Utc;

use crate::aggregates::{ASSIGNED_OPEN, TREASURY_BALANCE};
use crate::assets::VISIBLE;
use crate::assignments::{assignment_change, begin_asset_lock, ASSIGNMENT_COLUMNS, OPEN};
use crate::events::{insert_event, NewEvent};
use crate::{with_pool, Assignment, Conflict, Engine, NewAssignment, Result, Store, StoreError};

/// What [`Store::create_visible_assignment`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignmentCreation {
    /// The assignment was created.
    Created {
        /// The new assignment.
        assignment: Box<Assignment>,
        /// Its registered user's default GAID (what the API shows until a distribution fixes
        /// the assignment's GAID).
        default_gaid: Option<String>,
    },
    /// The registered user is not one of the issuer's; nothing was written.
    UnknownUser,
}

/// The context row: transfer restriction, issuance confirmations, the user's id and default
/// GAID (both `None` for an unknown user), the asset's and the user's category ids (comma
/// separated, `None` for none), the count of the user's ready open assignments, the assigned
/// open total and the treasury balance.
type ContextRow = (
    bool,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    i64,
);

/// The query of the context row: `$1` asset uuid, `$2` issuer id, `$3` registered user id. No
/// row when the asset is not the issuer's (or is deleted; or, with `visible_only`, not issued
/// yet as [`Store::asset`] requires).
fn context_sql(engine: Engine, visible_only: bool) -> String {
    let list = match engine {
        Engine::Sqlite => "group_concat(category_id, ',')",
        Engine::Postgres => "string_agg(CAST(category_id AS TEXT), ',')",
    };
    let condition = if visible_only {
        VISIBLE
    } else {
        "deleted_at IS NULL"
    };
    format!(
        "SELECT a.transfer_restricted, \
         (SELECT c.height - t.height + 1 FROM asset_txs t, chain_cursor c \
          WHERE c.id = 1 AND t.asset_uuid = a.uuid AND t.txid = COALESCE(a.txid, '')), \
         u.id, u.default_gaid, \
         (SELECT {list} FROM asset_categories WHERE asset_uuid = a.uuid), \
         (SELECT {list} FROM category_registered_users WHERE registered_user_id = $3), \
         (SELECT COUNT(*) FROM assignments WHERE asset_uuid = a.uuid \
          AND registered_user_id = $3 AND ready_for_distribution = TRUE AND {OPEN}), \
         ({ASSIGNED_OPEN}), ({TREASURY_BALANCE}) \
         FROM (SELECT uuid, transfer_restricted, txid FROM assets \
               WHERE uuid = $1 AND issuer_id = $2 AND {condition}) a \
         LEFT JOIN registered_users u ON u.id = $3 AND u.issuer_id = $2"
    )
}

/// Category ids from a comma-separated list, ascending.
fn categories(list: Option<String>) -> Result<Vec<i64>> {
    let mut ids = list
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse::<i64>().map_err(|e| {
                StoreError::Database(sqlx::Error::Decode(
                    format!("category id {id:?}: {e}").into(),
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    ids.sort_unstable();
    Ok(ids)
}

impl Store {
    /// Creates an assignment after checking every rule under the asset's lock. A refused rule
    /// is a [`StoreError::Conflict`] with the rule's message; an unknown asset or user is
    /// [`StoreError::NotFound`].
    pub async fn create_assignment(&self, new: &NewAssignment) -> Result<Assignment> {
        match self.insert_assignment(new, false).await? {
            AssignmentCreation::Created { assignment, .. } => Ok(*assignment),
            AssignmentCreation::UnknownUser => Err(StoreError::NotFound),
        }
    }

    /// [`Store::create_assignment`] as the API asks for it: the asset must be visible to the
    /// issuer as [`Store::asset`] requires ([`StoreError::NotFound`] otherwise, before any
    /// other check), an unknown registered user is [`AssignmentCreation::UnknownUser`], and the
    /// created assignment comes with its user's default GAID.
    pub async fn create_visible_assignment(
        &self,
        new: &NewAssignment,
    ) -> Result<AssignmentCreation> {
        self.insert_assignment(new, true).await
    }

    async fn insert_assignment(
        &self,
        new: &NewAssignment,
        visible_only: bool,
    ) -> Result<AssignmentCreation> {
        let context_sql = context_sql(self.engine(), visible_only);
        let input = &new.input;
        with_pool!(self, |pool| {
            // The lock first: on PostgreSQL the context query's snapshot then sees every earlier
            // create.
            let mut tx = begin_asset_lock!(self, pool, &new.asset_uuid, new.issuer_id);
            let row: Option<ContextRow> = sqlx::query_as(&context_sql)
                .bind(&new.asset_uuid)
                .bind(new.issuer_id)
                .bind(input.registered_user)
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.ok_or(StoreError::NotFound)?;
            let (restricted, confirmations, user, default_gaid, required, user_categories) =
                (row.0, row.1, row.2, row.3, row.4, row.5);
            if user.is_none() {
                return Ok(AssignmentCreation::UnknownUser);
            }
            let context = AssignmentContext {
                issuance_confirmations: confirmations.unwrap_or(0),
                transfer_restricted: restricted,
                required_categories: categories(required)?,
                user_categories: categories(user_categories)?,
                user_has_ready: row.6 > 0,
                assigned_undistributed: row.7,
                treasury_balance: row.8,
            };
            check_assignment(input, &context)
                .map_err(|e| StoreError::Conflict(Conflict::Assignment(e)))?;
            let sql = format!(
                "INSERT INTO assignments (issuer_id, asset_uuid, registered_user_id, amount, \
                 ready_for_distribution, vesting_timestamp, creator_manager_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {ASSIGNMENT_COLUMNS}"
            );
            let created: Assignment = sqlx::query_as(&sql)
                .bind(new.issuer_id)
                .bind(&new.asset_uuid)
                .bind(input.registered_user)
                .bind(input.amount)
                .bind(input.ready_for_distribution)
                .bind(input.vesting_timestamp)
                .bind(new.creator_manager_id)
                .bind(Utc::now())
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_on_unique(
                        e,
                        Conflict::Assignment(AssignmentRuleError::AlreadyReady {
                            registered_user: input.registered_user,
                        }),
                    )
                })?;
            let event = NewEvent::new(
                new.issuer_id,
                Some(&new.asset_uuid),
                EventData::AssignmentCreated(assignment_change(&created)),
            );
            insert_event!(self, tx, &event);
            tx.commit().await?;
            self.events_written();
            Ok(AssignmentCreation::Created {
                assignment: Box::new(created),
                default_gaid,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_lists_parse_in_order() {
        assert_eq!(categories(None).unwrap(), Vec::<i64>::new());
        assert_eq!(categories(Some(String::new())).unwrap(), Vec::<i64>::new());
        assert_eq!(categories(Some("12,3,7".into())).unwrap(), vec![3, 7, 12]);
        assert!(categories(Some("1,x".into())).is_err());
    }
}
