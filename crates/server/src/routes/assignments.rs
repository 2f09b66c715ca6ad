//! Assignments (reference §2.9): amounts of an asset allocated to registered users, picked up
//! by the next distribution once ready, unlocked and vested.

use std::collections::BTreeMap;

use amphora_core::assignment::{
    has_vested, validate_assignment, vesting_datetime, AssignmentInput,
};
use amphora_store::{Assignment, AssignmentCreation, NewAssignment};
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::chain_view::ChainSynced;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::routes::no_content;
use crate::state::AppState;

/// The assignment routes: issuers, and managers for granted assets.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManagerForAsset, routes!(list))
        .add(Rule::IssuerOrManagerForAsset, routes!(create))
        .add(Rule::IssuerOrManagerForAsset, routes!(details))
        .add(Rule::IssuerOrManagerForAsset, routes!(lock))
        .add(Rule::IssuerOrManagerForAsset, routes!(unlock))
        .add(Rule::IssuerOrManagerForAsset, routes!(remove))
}

/// The schemas this module adds to the OpenAPI document (its paths come from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(AssignmentDto, AssignmentCreate, AssignmentCreateRequest)))]
pub struct Doc;

/// An assignment as the API shows it (reference §7 `Assignment`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentDto {
    /// Id.
    pub id: i64,
    /// The registered user it is for.
    pub registered_user: i64,
    /// Legacy duplicate of `registered_user`.
    pub investor: i64,
    /// Base units.
    pub amount: i64,
    /// The confidential address a distribution pays it to.
    pub receiving_address: Option<String>,
    /// The distribution that includes it.
    pub distribution_uuid: Option<String>,
    /// Picked up by the next distribution (when unlocked and vested).
    pub ready_for_distribution: bool,
    /// Vesting time, ISO-8601.
    pub vesting_datetime: Option<String>,
    /// Vesting time, unix seconds.
    pub vesting_timestamp: Option<i64>,
    /// The vesting time has passed (true without one).
    pub has_vested: bool,
    /// Paid by a confirmed distribution transaction.
    pub is_distributed: bool,
    /// Locked: excluded from distributions.
    pub is_locked: bool,
    /// Id of the account that created it (the manager's, else the issuer's).
    pub creator: i64,
    /// The GAID it is (or will be) paid to.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
}

impl AssignmentDto {
    /// The API view; `default_gaid` is the user's default GAID, shown until a distribution
    /// fixes the GAID.
    pub fn new(assignment: Assignment, default_gaid: Option<String>) -> Self {
        let now = Utc::now();
        AssignmentDto {
            id: assignment.id,
            registered_user: assignment.registered_user_id,
            investor: assignment.registered_user_id,
            amount: assignment.amount,
            receiving_address: assignment.receiving_address,
            distribution_uuid: assignment.distribution_uuid,
            ready_for_distribution: assignment.ready_for_distribution,
            vesting_datetime: assignment
                .vesting_timestamp
                .and_then(vesting_datetime)
                .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            vesting_timestamp: assignment.vesting_timestamp,
            has_vested: has_vested(assignment.vesting_timestamp, now),
            is_distributed: assignment.is_distributed,
            is_locked: assignment.is_locked,
            creator: assignment
                .creator_manager_id
                .unwrap_or(assignment.issuer_id),
            gaid: assignment.gaid.or(default_gaid),
        }
    }
}

/// One requested assignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentCreate {
    /// Registered user id.
    #[schema(minimum = 1)]
    pub registered_user: i64,
    /// Base units.
    #[schema(schema_with = crate::schema::amount)]
    pub amount: i64,
    /// Include in the next distribution; default false.
    #[serde(default)]
    pub ready_for_distribution: bool,
    /// Unix seconds before which it is not distributed.
    #[serde(default)]
    #[schema(schema_with = crate::schema::vesting_timestamp)]
    pub vesting_timestamp: Option<i64>,
}

/// `POST /assets/{u}/assignments/create` body: exactly one assignment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignmentCreateRequest {
    /// Exactly one element (since AMP 0.1.7).
    #[schema(min_items = 1, max_items = 1)]
    pub assignments: Vec<AssignmentCreate>,
}

/// Default GAIDs of the issuer's registered users.
async fn default_gaids(
    state: &AppState,
    auth: &AuthIssuer,
) -> Result<BTreeMap<i64, Option<String>>, ApiError> {
    Ok(state
        .store()
        .registered_users(auth.issuer.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.default_gaid))
        .collect())
}

async fn dto(
    state: &AppState,
    auth: &AuthIssuer,
    assignment: Assignment,
) -> Result<AssignmentDto, ApiError> {
    let gaid = state
        .store()
        .registered_user(auth.issuer.id, assignment.registered_user_id)
        .await?
        .and_then(|u| u.default_gaid);
    Ok(AssignmentDto::new(assignment, gaid))
}

/// Reads `distributed=true|false` from the query string.
fn distributed_filter(query: Option<&str>) -> Result<Option<bool>, ApiError> {
    let Some(query) = query else { return Ok(None) };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key == "distributed" {
            return match value.to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(ApiError::field("distributed", "Must be true or false.")),
            };
        }
    }
    Ok(None)
}

/// The asset's assignments (not deleted); `?distributed=true|false` filters.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/assignments", tag = "assignments",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("distributed" = Option<bool>, Query, description = "Only (un)distributed ones")),
    responses(
        (status = 200, description = "Assignments", body = [AssignmentDto]),
        (status = 400, description = "Bad `distributed` value"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(asset_uuid): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<AssignmentDto>>, ApiError> {
    let distributed = distributed_filter(query.as_deref())?;
    visible_asset(&state, &auth, &asset_uuid).await?;
    let gaids = default_gaids(&state, &auth).await?;
    let assignments = state
        .store()
        .assignments(auth.issuer.id, &asset_uuid, distributed)
        .await?;
    Ok(Json(
        assignments
            .into_iter()
            .map(|a| {
                let gaid = gaids.get(&a.registered_user_id).cloned().flatten();
                AssignmentDto::new(a, gaid)
            })
            .collect(),
    ))
}

/// Creates one assignment. Refused (400 `{"Error": …}`) unless the registered user is one of
/// the issuer's, the issuance has 2
/// confirmations, the user has (transfer-restricted asset) every required category, the user
/// has no other ready, undistributed assignment (when this one is ready), and the assigned,
/// undistributed total stays within the treasury's confirmed balance. The user need not have a
/// GAID yet; `distributions/create` refuses while a ready assignment's user has none.
#[utoipa::path(post, path = "/api/assets/{asset_uuid}/assignments/create", tag = "assignments",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    request_body = AssignmentCreateRequest,
    responses(
        (status = 200, description = "The created assignment, in a list", body = [AssignmentDto]),
        (status = 400, description = "Invalid fields or a business rule refused it"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
    ))]
pub async fn create(
    State(state): State<AppState>,
    _synced: ChainSynced,
    auth: AuthIssuer,
    Path(asset_uuid): Path<String>,
    extract::RawBody(bytes): extract::RawBody,
) -> Result<Json<Vec<AssignmentDto>>, ApiError> {
    let input = match requested_assignment(&bytes) {
        Ok(input) => input,
        Err(invalid) => {
            // An unknown asset is a 404 before any complaint about the body.
            visible_asset(&state, &auth, &asset_uuid).await?;
            return Err(invalid);
        }
    };
    let registered_user = input.registered_user;
    // One transaction: the asset (404 unless visible), the user, every rule, the insert.
    let created = state
        .store()
        .create_visible_assignment(&NewAssignment {
            issuer_id: auth.issuer.id,
            asset_uuid,
            input,
            creator_manager_id: auth.manager.as_ref().map(|m| m.id),
        })
        .await?;
    match created {
        AssignmentCreation::Created {
            assignment,
            default_gaid,
        } => Ok(Json(vec![AssignmentDto::new(*assignment, default_gaid)])),
        AssignmentCreation::UnknownUser => Err(Refusal::NoSuchRegisteredUser {
            id: registered_user,
        }
        .into()),
    }
}

/// The body of `assignments/create`, parsed and validated: exactly one assignment.
fn requested_assignment(bytes: &[u8]) -> Result<AssignmentInput, ApiError> {
    let body: AssignmentCreateRequest = extract::parse_json_object(bytes)?;
    let [one] = <[AssignmentCreate; 1]>::try_from(body.assignments).map_err(|list| {
        ApiError::field(
            "assignments",
            format!(
                "Exactly one assignment per request is accepted; got {}.",
                list.len()
            ),
        )
    })?;
    Ok(validate_assignment(
        one.registered_user,
        one.amount,
        one.ready_for_distribution,
        one.vesting_timestamp,
    )?)
}

/// One assignment.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/assignments/{assignment_id}",
    tag = "assignments", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("assignment_id" = i64, Path, description = "Assignment id")),
    responses(
        (status = 200, description = "The assignment", body = AssignmentDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or assignment"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, id)): Path<(String, i64)>,
) -> Result<Json<AssignmentDto>, ApiError> {
    let assignment = state
        .store()
        .assignment(auth.issuer.id, &asset_uuid, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(dto(&state, &auth, assignment).await?))
}

async fn set_locked(
    state: AppState,
    auth: AuthIssuer,
    asset_uuid: String,
    id: i64,
    locked: bool,
) -> Result<Json<AssignmentDto>, ApiError> {
    let assignment = state
        .store()
        .set_assignment_locked(auth.issuer.id, &asset_uuid, id, locked)
        .await?;
    Ok(Json(dto(&state, &auth, assignment).await?))
}

/// Locks an assignment: distributions skip it until it is unlocked. Not allowed once it is
/// part of a distribution.
#[utoipa::path(put, path = "/api/assets/{asset_uuid}/assignments/{assignment_id}/lock",
    tag = "assignments", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("assignment_id" = i64, Path, description = "Assignment id")),
    responses(
        (status = 200, description = "The locked assignment", body = AssignmentDto),
        (status = 400, description = "Part of a distribution"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or assignment"),
    ))]
pub async fn lock(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, id)): Path<(String, i64)>,
) -> Result<Json<AssignmentDto>, ApiError> {
    set_locked(state, auth, asset_uuid, id, true).await
}

/// Unlocks an assignment. Not allowed once it is part of a distribution.
#[utoipa::path(put, path = "/api/assets/{asset_uuid}/assignments/{assignment_id}/unlock",
    tag = "assignments", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("assignment_id" = i64, Path, description = "Assignment id")),
    responses(
        (status = 200, description = "The unlocked assignment", body = AssignmentDto),
        (status = 400, description = "Part of a distribution"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or assignment"),
    ))]
pub async fn unlock(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, id)): Path<(String, i64)>,
) -> Result<Json<AssignmentDto>, ApiError> {
    set_locked(state, auth, asset_uuid, id, false).await
}

/// Deletes an assignment (soft). Not allowed once it is part of a distribution.
#[utoipa::path(delete, path = "/api/assets/{asset_uuid}/assignments/{assignment_id}/delete",
    tag = "assignments", security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID"),
        ("assignment_id" = i64, Path, description = "Assignment id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Part of a distribution"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset or assignment"),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path((asset_uuid, id)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    state
        .store()
        .delete_assignment(auth.issuer.id, &asset_uuid, id)
        .await?;
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distributed_filter_reads_the_query() {
        assert_eq!(distributed_filter(None).unwrap(), None);
        assert_eq!(
            distributed_filter(Some("distributed=true")).unwrap(),
            Some(true)
        );
        assert_eq!(
            distributed_filter(Some("x=1&distributed=False")).unwrap(),
            Some(false)
        );
        assert!(distributed_filter(Some("distributed=maybe")).is_err());
    }
}
