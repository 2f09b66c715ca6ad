//! Registered users (investors), their GAIDs and summary. Legacy `/investors…` paths are
//! served by the same handlers.

use std::collections::BTreeMap;

use amphora_core::registered_user::RegisteredUserName;
use amphora_store::RegisteredUser;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::{self, AuthIssuer, Path};
use crate::refusal::Refusal;
use crate::router::Routes;
use crate::routes::assignments::AssignmentDto;
use crate::routes::distributions::{self, DistributionDto};
use crate::routes::gaids::registered_gaid;
use crate::routes::no_content;
use crate::routes::payouts::UserPayoutDto;
use crate::state::AppState;

/// The registered-user routes, also under the legacy `/investors` prefix.
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOrManager, routes!(list))
        .add(Rule::IssuerOrManager, routes!(add))
        .add(Rule::IssuerOrManager, routes!(details))
        .add(Rule::IssuerOrManager, routes!(edit))
        .add(Rule::IssuerOrManager, routes!(delete))
        .add(Rule::IssuerOrManager, routes!(summary))
        .add(Rule::IssuerOrManager, routes!(gaids))
        .add(Rule::IssuerOrManager, routes!(add_gaid))
        .add(Rule::IssuerOrManager, routes!(set_default_gaid))
        .with_aliases(|path| path.replacen("/api/registered_users", "/api/investors", 1))
}

/// A registered user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredUserDto {
    /// Id.
    pub id: i64,
    /// Default GAID.
    #[serde(rename = "GAID")]
    pub gaid: Option<String>,
    /// Company (true) or natural person.
    pub is_company: bool,
    /// Name.
    pub name: String,
    /// Ids of the user's categories.
    pub categories: Vec<i64>,
    /// Id of the account that created the user: the manager's id when a manager added it,
    /// else the issuer's.
    pub creator: i64,
}

impl From<RegisteredUser> for RegisteredUserDto {
    fn from(user: RegisteredUser) -> Self {
        RegisteredUserDto {
            id: user.id,
            gaid: user.default_gaid,
            is_company: user.is_company,
            name: user.name,
            categories: user.categories,
            creator: user.creator_manager_id.unwrap_or(user.issuer_id),
        }
    }
}

/// `POST /registered_users/add` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisteredUserAdd {
    /// Name.
    #[schema(schema_with = crate::schema::registered_user_name)]
    pub name: String,
    /// A GAID of a wallet registered on this platform; becomes the default GAID.
    #[serde(rename = "GAID", default)]
    #[schema(schema_with = crate::schema::optional_gaid)]
    pub gaid: Option<String>,
    /// Company (true) or natural person (false, the default). Cannot be changed later.
    #[serde(default)]
    pub is_company: bool,
}

/// `PUT /registered_users/{id}/edit` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisteredUserEdit {
    /// New name.
    #[schema(schema_with = crate::schema::registered_user_name)]
    pub name: String,
    /// Immutable: accepted only if equal to the current value (otherwise `400 {"Error": …}`).
    #[serde(default)]
    pub is_company: Option<bool>,
}

/// One asset's figures for a registered user (`/registered_users/{id}/summary`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredUserAssetSummary {
    /// Asset UUID.
    pub asset_uuid: String,
    /// Asset id (hex).
    pub asset_id: String,
    /// The user's assignments of the asset (not deleted).
    pub assignments: Vec<AssignmentDto>,
    /// Sum of the user's assignments, base units.
    pub assignments_sum: i64,
    /// The distributions (not cancelled) that include the user's assignments, each listing
    /// only the user's payments.
    pub distributions: Vec<DistributionDto>,
    /// Sum of the user's distributed amounts, base units.
    pub distributions_sum: i64,
    /// The user's lines in the payouts (not cancelled) to the asset's holders.
    pub payouts: Vec<UserPayoutDto>,
    /// The user's balance, base units.
    pub balance: i64,
}

/// A GAID given as a bare JSON string (`"GA…"`), or, leniently, as `{"GAID": "GA…"}` (the
/// form older clients sent).
#[derive(Debug, ToSchema)]
#[schema(value_type = String)]
pub struct GaidBody(pub String);

impl<'de> Deserialize<'de> for GaidBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{Error, Unexpected};
        let value = serde_json::Value::deserialize(deserializer)?;
        let unexpected = match &value {
            serde_json::Value::String(gaid) => return Ok(GaidBody(gaid.clone())),
            serde_json::Value::Object(map) => match map.get("GAID") {
                Some(serde_json::Value::String(gaid)) => return Ok(GaidBody(gaid.clone())),
                _ => Unexpected::Map,
            },
            serde_json::Value::Array(_) => Unexpected::Seq,
            serde_json::Value::Null => Unexpected::Unit,
            serde_json::Value::Bool(b) => Unexpected::Bool(*b),
            serde_json::Value::Number(_) => Unexpected::Other("number"),
        };
        Err(D::Error::invalid_type(
            unexpected,
            &"the GAID as a JSON string",
        ))
    }
}

impl GaidBody {
    fn into_string(self) -> String {
        self.0
    }
}

/// The assets a manager caller was granted; `None` for the issuer (everything).
fn manager_grants(auth: &AuthIssuer) -> Option<&[String]> {
    auth.manager.as_ref().map(|m| m.assets.as_slice())
}

async fn find(state: &AppState, auth: &AuthIssuer, id: i64) -> Result<RegisteredUser, ApiError> {
    state
        .store()
        .registered_user(auth.issuer.id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The caller's registered users (also `/investors`).
#[utoipa::path(get, path = "/api/registered_users", tag = "registered_users",
    security(("token" = [])),
    responses(
        (status = 200, description = "Registered users", body = [RegisteredUserDto]),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
) -> Result<Json<Vec<RegisteredUserDto>>, ApiError> {
    let users = state.store().registered_users(auth.issuer.id).await?;
    Ok(Json(users.into_iter().map(Into::into).collect()))
}

/// Adds a registered user (also `/investors/add`).
#[utoipa::path(post, path = "/api/registered_users/add", tag = "registered_users",
    security(("token" = [])),
    request_body = RegisteredUserAdd,
    responses(
        (status = 201, description = "Created", body = RegisteredUserDto),
        (status = 400, description = "Invalid name or GAID, or GAID held by another user"),
        (status = 401, description = "Missing, invalid or expired token"),
    ))]
pub async fn add(
    State(state): State<AppState>,
    auth: AuthIssuer,
    extract::Json(body): extract::Json<RegisteredUserAdd>,
) -> Result<(StatusCode, Json<RegisteredUserDto>), ApiError> {
    let name = RegisteredUserName::parse(&body.name)?;
    let gaid = match body.gaid.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            registered_gaid(&state, text)
                .await?
                .map_err(|e| ApiError::field("GAID", e.to_string()))?,
        ),
    };
    let user = state
        .store()
        .create_registered_user(
            auth.issuer.id,
            name.as_str(),
            body.is_company,
            gaid.as_ref().map(|g| g.as_str()),
            auth.manager.as_ref().map(|m| m.id),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// One registered user (also `/investors/{id}`).
#[utoipa::path(get, path = "/api/registered_users/{id}", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    responses(
        (status = 200, description = "The registered user", body = RegisteredUserDto),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn details(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<RegisteredUserDto>, ApiError> {
    Ok(Json(find(&state, &auth, id).await?.into()))
}

/// Renames a registered user; `is_company` cannot change.
#[utoipa::path(put, path = "/api/registered_users/{id}/edit", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    request_body = RegisteredUserEdit,
    responses(
        (status = 200, description = "The updated registered user", body = RegisteredUserDto),
        (status = 400, description = "Invalid name (field errors), or an attempt to change is_company (`{\"Error\": …}`)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn edit(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    extract::Json(body): extract::Json<RegisteredUserEdit>,
) -> Result<Json<RegisteredUserDto>, ApiError> {
    let current = find(&state, &auth, id).await?;
    let name = RegisteredUserName::parse(&body.name)?;
    if body.is_company.is_some_and(|c| c != current.is_company) {
        return Err(Refusal::IsCompanyFixed.into());
    }
    let user = state
        .store()
        .rename_registered_user(auth.issuer.id, id, name.as_str())
        .await?;
    Ok(Json(user.into()))
}

/// Deletes a registered user, unless it has assignments: a user with any assignment (pending,
/// distributed, or deleted) is kept with its assignment and distribution history (400).
#[utoipa::path(delete, path = "/api/registered_users/{id}/delete", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The user has assignments (`{\"Error\": …}`)"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn delete(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    state
        .store()
        .delete_registered_user(auth.issuer.id, id)
        .await?;
    Ok(no_content())
}

/// Per-asset figures for a registered user: one entry per asset of the issuer in which the
/// user has assignments or a balance (for a manager: of the assets it was granted only).
/// `assignments` lists the user's assignments (not deleted) and `assignments_sum` sums them;
/// `distributions` lists the distributions paying them (with the user's payments) and
/// `distributions_sum` sums the distributed ones; `payouts` lists the user's lines in the
/// payouts to the asset's holders (an asset paid out to the user has an entry even when the user
/// no longer holds it); `balance` is the unspent, not lost outputs
/// of the asset held by the user's GAIDs in the chain index.
#[utoipa::path(get, path = "/api/registered_users/{id}/summary", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    responses(
        (status = 200, description = "Per-asset summary", body = [RegisteredUserAssetSummary]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn summary(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<RegisteredUserAssetSummary>>, ApiError> {
    let user = find(&state, &auth, id).await?;
    let summary = state
        .store()
        .registered_user_summary(auth.issuer.id, id)
        .await?;
    let grants = manager_grants(&auth);
    let mut payouts: BTreeMap<String, Vec<UserPayoutDto>> = BTreeMap::new();
    for entry in state
        .store()
        .registered_user_payout_lines(auth.issuer.id, id)
        .await?
    {
        payouts
            .entry(entry.asset_uuid.clone())
            .or_default()
            .push(entry.into());
    }
    let mut entries = Vec::with_capacity(summary.len());
    for s in summary
        .into_iter()
        .filter(|s| grants.is_none_or(|assets| assets.contains(&s.asset_uuid)))
    {
        let (assignments, distributions) =
            user_asset_records(&state, &auth, &user, &s.asset_uuid).await?;
        entries.push(RegisteredUserAssetSummary {
            payouts: payouts.remove(&s.asset_uuid).unwrap_or_default(),
            asset_uuid: s.asset_uuid,
            asset_id: s.asset_id.unwrap_or_default(),
            assignments,
            assignments_sum: s.assignments_sum,
            distributions,
            distributions_sum: s.distributions_sum,
            balance: s.balance,
        });
    }
    // Securities whose payouts paid the user though it holds and is assigned none of them now.
    for (asset_uuid, payouts) in payouts
        .into_iter()
        .filter(|(uuid, _)| grants.is_none_or(|assets| assets.contains(uuid)))
    {
        let Some(asset) = state.store().asset(auth.issuer.id, &asset_uuid).await? else {
            continue;
        };
        entries.push(RegisteredUserAssetSummary {
            asset_id: asset.tx.map(|tx| tx.asset_id).unwrap_or_default(),
            asset_uuid,
            assignments: Vec::new(),
            assignments_sum: 0,
            distributions: Vec::new(),
            distributions_sum: 0,
            payouts,
            balance: 0,
        });
    }
    Ok(Json(entries))
}

/// The user's assignments of one asset, and the distributions including them (each with the
/// user's payments only).
async fn user_asset_records(
    state: &AppState,
    auth: &AuthIssuer,
    user: &RegisteredUser,
    asset_uuid: &str,
) -> Result<(Vec<AssignmentDto>, Vec<DistributionDto>), ApiError> {
    let assignments: Vec<_> = state
        .store()
        .assignments(auth.issuer.id, asset_uuid, None)
        .await?
        .into_iter()
        .filter(|a| a.registered_user_id == user.id)
        .collect();
    let uuids: std::collections::BTreeSet<String> = assignments
        .iter()
        .filter_map(|a| a.distribution_uuid.clone())
        .collect();
    let mut distributions = Vec::with_capacity(uuids.len());
    for uuid in uuids {
        match distributions::find(state, auth, asset_uuid, &uuid).await {
            Ok((distribution, paid)) => {
                let own: Vec<_> = paid
                    .into_iter()
                    .filter(|a| a.registered_user_id == user.id)
                    .collect();
                distributions.push(distributions::dto(distribution, &own));
            }
            Err(ApiError::NotFound) => {} // cancelled
            Err(e) => return Err(e),
        }
    }
    distributions.sort_by_key(|d| d.id);
    let assignments = assignments
        .into_iter()
        .map(|a| AssignmentDto::new(a, user.default_gaid.clone()))
        .collect();
    Ok((assignments, distributions))
}

/// The registered user's GAIDs, in the order they were added.
#[utoipa::path(get, path = "/api/registered_users/{id}/gaids", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    responses(
        (status = 200, description = "GAIDs", body = [String]),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn gaids(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
) -> Result<Json<Vec<String>>, ApiError> {
    Ok(Json(find(&state, &auth, id).await?.gaids))
}

/// Adds a GAID to a registered user (bare JSON string body). The first GAID becomes the
/// default.
#[utoipa::path(post, path = "/api/registered_users/{id}/gaids/add", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    request_body(content = String, content_type = "application/json",
        description = "The GAID as a bare JSON string"),
    responses(
        (status = 200, description = "Added (`{}`)", body = Object),
        (status = 400, description = "Invalid or unregistered GAID, or held by another user"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "A manager, and the user has undistributed assignments \
            of an asset the manager is not granted"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn add_gaid(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    extract::BareJson(body): extract::BareJson<GaidBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    find(&state, &auth, id).await?;
    let gaid = registered_gaid(&state, &body.into_string())
        .await?
        .map_err(ApiError::from)?;
    state
        .store()
        .add_registered_user_gaid(auth.issuer.id, id, gaid.as_str(), manager_grants(&auth))
        .await?;
    Ok(Json(serde_json::json!({})))
}

/// Makes one of the registered user's GAIDs the default (bare JSON string body).
#[utoipa::path(post, path = "/api/registered_users/{id}/gaids/set-default", tag = "registered_users",
    security(("token" = [])),
    params(("id" = i64, Path, description = "Registered user id")),
    request_body(content = String, content_type = "application/json",
        description = "The GAID as a bare JSON string"),
    responses(
        (status = 200, description = "Done (`{}`)", body = Object),
        (status = 400, description = "Invalid GAID, or not one of the user's GAIDs"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "A manager, and the user has undistributed assignments \
            of an asset the manager is not granted"),
        (status = 404, description = "No such registered user"),
    ))]
pub async fn set_default_gaid(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(id): Path<i64>,
    extract::BareJson(body): extract::BareJson<GaidBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    find(&state, &auth, id).await?;
    let gaid = amphora_core::gaid::Gaid::parse(&body.into_string()).map_err(Refusal::Gaid)?;
    state
        .store()
        .set_default_gaid(auth.issuer.id, id, gaid.as_str(), manager_grants(&auth))
        .await?;
    Ok(Json(serde_json::json!({})))
}
