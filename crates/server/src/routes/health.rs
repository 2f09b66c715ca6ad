//! `GET /healthz`: whether this replica can serve — its database answers, its Elements node
//! (when one is configured) answers, and the chain index (written by whichever replica holds the
//! follower lease) is at most [`MAX_INDEX_LAG`] blocks behind the node. 200 when healthy, 503
//! otherwise, with the details as JSON either way, for load balancers and orchestrators. No
//! token needed; no secrets shown.

use std::future::Future;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::rate_limit::Amp2Counters;
use crate::router::Routes;
use crate::state::AppState;

/// Longest wait for each dependency.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Most blocks the chain index may trail the node before the replica reports unhealthy.
pub const MAX_INDEX_LAG: i64 = 6;

/// The health probe, at the root (anonymous).
pub fn routes() -> Routes {
    Routes::new().add(Rule::Anonymous, routes!(healthz))
}

/// The schemas this module adds to the OpenAPI document (its paths come from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(Health, Check, IndexCheck, Amp2Counters)))]
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
    /// The chain index and this replica's follower.
    pub follower: IndexCheck,
    /// Counters of the anonymous AMP2 endpoints in this process.
    pub amp2: Amp2Counters,
}

/// The chain index: how far it trails the node, and whether this replica's follower writes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndexCheck {
    /// `ok`, `behind` (more than the allowed lag, or nothing indexed yet), `unknown` (the node
    /// or the database does not answer) or `not_configured` (no follower in this process).
    pub status: &'static str,
    /// Whether this replica holds the follower lease (only the holder indexes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_leader: Option<bool>,
    /// Height of the last indexed block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indexed_height: Option<i64>,
    /// Blocks the index trails the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lag: Option<i64>,
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
    let follower = match state.follower_status() {
        None => IndexCheck {
            status: "not_configured",
            is_leader: None,
            indexed_height: None,
            lag: None,
        },
        Some(status) => {
            let indexed = bounded(state.store().chain_tip()).await;
            let indexed_height = indexed
                .as_ref()
                .ok()
                .and_then(|tip| tip.as_ref().map(|b| b.height));
            let lag = match (&indexed, node.blocks) {
                (Ok(_), Some(blocks)) => {
                    let blocks = i64::try_from(blocks).unwrap_or(i64::MAX);
                    Some(blocks - indexed_height.unwrap_or(-1))
                }
                _ => None,
            };
            if let Some(error) = &status.last_error {
                tracing::warn!(%error, "health: the chain follower reports an error");
            }
            IndexCheck {
                status: match lag {
                    None => "unknown",
                    Some(lag) if lag <= MAX_INDEX_LAG => "ok",
                    Some(_) => "behind",
                },
                is_leader: Some(status.is_leader),
                indexed_height,
                lag,
            }
        }
    };
    let healthy = !database.is_down() && !node.is_down() && follower.status != "behind";
    let status = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if healthy { "ok" } else { "unavailable" },
        database,
        node,
        follower,
        amp2: state.amp2_limiter().counters(),
    };
    (status, Json(health))
}
