//! The audit log of writes: every successful POST/PUT/DELETE by an authenticated caller is
//! recorded (who, role, method, path, route, object ids, status, when) by the access
//! middleware, and issuers read their log at `GET /api/audit`.
//!
//! The entry is written right after the handler's own transaction commits (one place for every
//! route, so no write can forget it); if recording fails the write stands, the failure is
//! logged and the client gets a 500, so it knows the call was not fully accounted for.

use amphora_core::validation::IntRule;
use amphora_store::{AuditEntry, NewAuditEntry};
use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::routes;

use crate::access::normalize_template;
use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::AuthIssuer;
use crate::router::Routes;
use crate::state::AppState;

/// The audit log's route.
pub fn routes() -> Routes {
    Routes::new().add(Rule::IssuerOnly, routes!(list))
}

/// Largest response body read to find a created object's `id`.
const ID_SCAN_LIMIT: usize = 256 * 1024;

/// Reads that clients may send as POST (with the question in the body); never writes.
const POSTED_READS: &[&str] = &["/api/registered_users/validate-gaid"];

/// The GET routes that change state (AMP defines them as GETs), in
/// [`normalize_template`] form: they are audited like any write.
const STATE_CHANGING_GETS: &[&str] = &[
    "/api/user/refresh-token",
    "/api/user/refresh_token",
    "/api/assets/{}/distributions/create",
    "/api/assets/{}/register",
    "/api/assets/{}/register-authorized",
];

/// Whether a call to `template` with `method` writes: every POST/PUT/DELETE/PATCH but the
/// [`POSTED_READS`], and the state-changing GETs of [`STATE_CHANGING_GETS`] (also as HEAD,
/// which runs the GET handler).
pub fn is_write(method: &Method, template: &str) -> bool {
    let template = normalize_template(template);
    match *method {
        Method::POST | Method::PUT | Method::DELETE | Method::PATCH => {
            !POSTED_READS.contains(&template.as_str())
        }
        Method::GET | Method::HEAD => STATE_CHANGING_GETS.contains(&template.as_str()),
        _ => false,
    }
}

/// Records a successful login (`POST /api/user/obtain_token`, which runs without a token and so
/// outside the access middleware's recording). `manager` is `(id, username)` for a manager.
pub async fn record_login(
    state: &AppState,
    issuer: &amphora_store::Issuer,
    manager: Option<(i64, &str)>,
) -> Result<(), ApiError> {
    let (role, actor_id, username) = match manager {
        Some((id, username)) => ("manager", id, username),
        None => ("issuer", issuer.id, issuer.username.as_str()),
    };
    const ROUTE: &str = "/api/user/obtain_token";
    let entry = NewAuditEntry {
        issuer_id: issuer.id,
        actor_role: role.to_string(),
        actor_id,
        actor_username: username.to_string(),
        method: Method::POST.to_string(),
        path: ROUTE.to_string(),
        route: ROUTE.to_string(),
        object_ids: "{}".to_string(),
        status: i32::from(StatusCode::OK.as_u16()),
    };
    state.store().insert_audit(&entry).await?;
    Ok(())
}

/// The path parameters of `path` under `template`, as a JSON object.
fn path_ids(template: &str, path: &str) -> Map<String, Value> {
    template
        .split('/')
        .zip(path.split('/'))
        .filter_map(|(slot, value)| {
            let name = slot.strip_prefix('{')?.strip_suffix('}')?;
            Some((name.to_string(), Value::String(value.to_string())))
        })
        .collect()
}

/// Records a successful write and passes its response on. For a `201 Created` the body is
/// read to add the new object's `id` as `created_id`.
pub async fn record(
    state: &AppState,
    caller: &AuthIssuer,
    method: &Method,
    path: &str,
    template: &str,
    response: Response,
) -> Result<Response, ApiError> {
    let mut ids = path_ids(template, path);
    if response.status() != StatusCode::CREATED {
        let entry = new_entry(caller, method, path, template, ids, response.status());
        state.store().insert_audit(&entry).await?;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = to_bytes(body, ID_SCAN_LIMIT)
        .await
        .map_err(|e| ApiError::Internal(format!("reading a response for the audit log: {e}")))?;
    if let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(&bytes) {
        if let Some(id) = object
            .get("id")
            .filter(|id| id.is_number() || id.is_string())
        {
            ids.insert("created_id".to_string(), id.clone());
        }
    }
    let entry = new_entry(caller, method, path, template, ids, parts.status);
    state.store().insert_audit(&entry).await?;
    Ok(Response::from_parts(parts, Body::from(bytes)))
}

fn new_entry(
    caller: &AuthIssuer,
    method: &Method,
    path: &str,
    template: &str,
    ids: Map<String, Value>,
    status: StatusCode,
) -> NewAuditEntry {
    NewAuditEntry {
        issuer_id: caller.issuer.id,
        actor_role: caller.role().to_string(),
        actor_id: caller.account_id(),
        actor_username: caller.username().to_string(),
        method: method.to_string(),
        path: path.to_string(),
        route: template.to_string(),
        object_ids: Value::Object(ids).to_string(),
        status: i32::from(status.as_u16()),
    }
}

/// Entries per page of the audit log (default 100).
pub const LIMIT: IntRule = IntRule {
    field: "limit",
    min: 1,
    max: 500,
};

/// Entries to skip in the audit log (default 0).
pub const OFFSET: IntRule = IntRule {
    field: "offset",
    min: 0,
    max: 1_000_000_000,
};

/// `GET /api/audit` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries per page (default 100).
    #[param(schema_with = crate::schema::audit_limit)]
    pub limit: Option<i64>,
    /// Entries to skip (default 0).
    #[param(schema_with = crate::schema::audit_offset)]
    pub offset: Option<i64>,
}

/// One recorded write.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryDto {
    /// Id, increasing with time.
    pub id: i64,
    /// `issuer` or `manager`.
    pub role: String,
    /// Id of the account that made the call.
    pub actor_id: i64,
    /// Its username.
    pub username: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Route template.
    pub route: String,
    /// Ids the write touched: path parameters, and `created_id` for a created object.
    #[schema(value_type = Object)]
    pub object_ids: Value,
    /// Response status.
    pub status: i32,
    /// When (ISO 8601, UTC).
    pub created: String,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(entry: AuditEntry) -> Self {
        AuditEntryDto {
            id: entry.id,
            role: entry.actor_role,
            actor_id: entry.actor_id,
            username: entry.actor_username,
            method: entry.method,
            path: entry.path,
            route: entry.route,
            object_ids: serde_json::from_str(&entry.object_ids).unwrap_or(Value::Null),
            status: entry.status,
            created: entry.created_at.to_rfc3339(),
        }
    }
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries in the whole log.
    pub count: i64,
    /// This page, newest first.
    pub results: Vec<AuditEntryDto>,
}

/// The issuer's audit log, newest first: every successful write by the issuer and its
/// managers.
#[utoipa::path(get, path = "/api/audit", tag = "audit",
    security(("token" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 400, description = "limit or offset out of range"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 403, description = "Managers cannot read the log"),
    ))]
pub async fn list(
    State(state): State<AppState>,
    auth: AuthIssuer,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<AuditPage>, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::field(
            amphora_core::FieldError::NON_FIELD,
            "limit and offset must be integers.",
        )
    })?;
    let limit = LIMIT.check(query.limit.unwrap_or(100))?;
    let offset = OFFSET.check(query.offset.unwrap_or(0))?;
    let (count, entries) = state
        .store()
        .audit_entries(auth.issuer.id, limit, offset)
        .await?;
    Ok(Json(AuditPage {
        count,
        results: entries.into_iter().map(Into::into).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changing_gets_are_writes() {
        for template in [
            "/api/assets/{asset_uuid}/distributions/create",
            "/api/assets/{asset_uuid}/register",
            "/api/assets/{uuid}/register-authorized",
            "/api/user/refresh-token",
        ] {
            assert!(is_write(&Method::GET, template), "{template}");
            assert!(is_write(&Method::HEAD, template), "{template}");
        }
        assert!(!is_write(&Method::GET, "/api/assets/{asset_uuid}"));
        assert!(!is_write(
            &Method::GET,
            "/api/assets/{asset_uuid}/distributions"
        ));
        assert!(is_write(&Method::DELETE, "/api/assets/{asset_uuid}/delete"));
    }

    #[test]
    fn path_parameters_become_object_ids() {
        let ids = path_ids(
            "/api/categories/{id}/registered_users/{user_id}/add",
            "/api/categories/3/registered_users/9/add",
        );
        assert_eq!(
            Value::Object(ids),
            serde_json::json!({"id": "3", "user_id": "9"})
        );
    }
}
