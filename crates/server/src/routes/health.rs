//! `GET /healthz`: whether this replica can serve — its database answers and its Elements node
//! (when one is configured) answers. 200 when healthy, 503 otherwise, with the details as JSON
//! either way, for load balancers and orchestrators. No token needed; no secrets shown.

use std::future::Future;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Longest wait for each dependency.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Routes at the root.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// OpenAPI paths of this module.
#[derive(utoipa::OpenApi)]
#[openapi(paths(healthz), components(schemas(Health, Check)))]
pub struct Doc;

/// The replica's health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when every configured dependency answers, `unavailable` otherwise.
    pub status: &'static str,
    /// The database.
    pub database: Check,
    /// The Elements node.
    pub node: Check,
}

/// One dependency's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// `ok`, `down` or `not_configured` (which does not make the replica unhealthy).
    pub status: &'static str,
    /// Why it is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The node's block count (node only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<u64>,
}

impl Check {
    fn ok(blocks: Option<u64>) -> Check {
        Check {
            status: "ok",
            error: None,
            blocks,
        }
    }

    fn down(error: impl Into<String>) -> Check {
        Check {
            status: "down",
            error: Some(error.into()),
            blocks: None,
        }
    }

    fn is_down(&self) -> bool {
        self.status == "down"
    }
}

/// Runs `check` with [`CHECK_TIMEOUT`].
async fn bounded<T, E>(check: impl Future<Output = Result<T, E>>) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err("unreachable".to_string()),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}

/// Health of this replica: database and Elements node.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses(
        (status = 200, description = "Healthy", body = Health),
        (status = 503, description = "A dependency is down (details in the body)", body = Health),
    ))]
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = match bounded(state.store().ping()).await {
        Ok(()) => Check::ok(None),
        Err(error) => {
            tracing::warn!(%error, "health: the database does not answer");
            Check::down(error)
        }
    };
    let node = match state.node() {
        None => Check {
            status: "not_configured",
            error: None,
            blocks: None,
        },
        Some(node) => match bounded(node.get_block_count()).await {
            Ok(blocks) => Check::ok(Some(blocks)),
            Err(error) => {
                tracing::warn!(%error, "health: the Elements node does not answer");
                Check::down(error)
            }
        },
    };
    let healthy = !database.is_down() && !node.is_down();
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if healthy { "ok" } else { "unavailable" },
        database,
        node,
    };
    (status, Json(health))
}
