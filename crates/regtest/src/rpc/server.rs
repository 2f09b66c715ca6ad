//! The JSON-RPC HTTP server: Bitcoin Core 23's envelope (`{"result","error","id"}`), HTTP
//! 500 on errors, 404 for unknown methods, 400 for invalid requests, 401 on bad
//! credentials, batches, `/` and `/wallet/<name>` endpoints, basic auth with
//! `rpcuser`/`rpcpassword` or the `.cookie` file.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::sync::watch;

use super::error::codes;
use super::node_methods::{self, AfterCall};
use super::params::{arg_names, named_to_positional};
use super::wait_methods;
use super::RpcError;
use crate::node::{NodeEvents, NodeState};

/// Largest accepted request body (Bitcoin Core's `MAX_SIZE`, 32 MiB), so that batches of
/// large confidential transactions are not cut off by a small framework default.
const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;

/// Accepted `user:password` pairs for HTTP basic auth.
#[derive(Clone)]
pub struct Credentials {
    /// User name (`__cookie__` for cookie auth).
    pub user: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct ServerState {
    /// The node (chain + wallets) behind one lock.
    pub node: Arc<Mutex<NodeState>>,
    /// The one accepted credential pair.
    pub credentials: Credentials,
    /// Set to `true` by the `stop` RPC.
    pub stop: watch::Sender<bool>,
    /// Tip and mempool changes, published after every call (`waitfornewblock`, the miner).
    pub events: NodeEvents,
}

/// The router with the `/` and `/wallet/<name>` endpoints.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", post(root))
        .route("/wallet/{name}", post(wallet))
        .route("/wallet/", post(root))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(state)
}

async fn root(State(state): State<ServerState>, headers: HeaderMap, body: Bytes) -> Response {
    handle(state, None, headers, body).await
}

async fn wallet(
    State(state): State<ServerState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Some(name), headers, body).await
}

fn authorized(headers: &HeaderMap, creds: &Credentials) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{}:{}", creds.user, creds.password);
    constant_time_eq(&decoded, expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reply(status: StatusCode, body: &Value) -> Response {
    let mut text = body.to_string();
    text.push('\n');
    (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn envelope(result: Result<Value, RpcError>, id: Value) -> Value {
    match result {
        Ok(v) => json!({"result": v, "error": null, "id": id}),
        Err(e) => json!({"result": null, "error": e.to_json(), "id": id}),
    }
}

fn status_for(error: &RpcError) -> StatusCode {
    match error.code {
        codes::INVALID_REQUEST => StatusCode::BAD_REQUEST,
        codes::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn handle(
    state: ServerState,
    wallet: Option<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&headers, &state.credentials) {
        tracing::warn!("ThreadRPCServer incorrect password attempt");
        // Like Core, slow down brute-force attempts.
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"jsonrpc\"")],
        )
            .into_response();
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => {
            let err = RpcError::new(codes::PARSE_ERROR, "Parse error");
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                &envelope(Err(err), Value::Null),
            );
        }
    };
    let method = request.get("method").and_then(Value::as_str);
    if let Some(wait) = method.and_then(wait_methods::WaitMethod::from_name) {
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let mut tip = state.events.subscribe_tip();
        let mut stop = state.stop.subscribe();
        let result = wait.call(request.get("params"), &mut tip, &mut stop).await;
        let status = match &result {
            Ok(_) => StatusCode::OK,
            Err(e) => status_for(e),
        };
        return reply(status, &envelope(result, id));
    }
    let node = state.node.clone();
    let events = state.events.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let mut guard = node.lock().unwrap_or_else(|p| p.into_inner());
        let outcome = execute_request(&mut guard, wallet.as_deref(), request);
        events.publish_and_persist(&mut guard);
        outcome
    })
    .await;
    match outcome {
        Ok((status, body, stop)) => {
            if stop {
                let _ = state.stop.send(true);
            }
            reply(status, &body)
        }
        Err(_) => {
            let err = RpcError::new(
                codes::MISC_ERROR,
                "internal error while handling the request",
            );
            reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                &envelope(Err(err), Value::Null),
            )
        }
    }
}

/// Runs one request (an object or a batch) under the node lock: `(status, body, stop)`.
fn execute_request(
    guard: &mut NodeState,
    wallet: Option<&str>,
    request: Value,
) -> (StatusCode, Value, bool) {
    match request {
        Value::Array(batch) => {
            let mut stop = false;
            let replies: Vec<Value> = batch
                .into_iter()
                .map(|req| {
                    let (result, id, after) = execute(guard, wallet, req);
                    stop |= after == AfterCall::Stop;
                    envelope(result, id)
                })
                .collect();
            (StatusCode::OK, Value::Array(replies), stop)
        }
        Value::Object(_) => {
            let (result, id, after) = execute(guard, wallet, request);
            let status = match &result {
                Ok(_) => StatusCode::OK,
                Err(e) => status_for(e),
            };
            (status, envelope(result, id), after == AfterCall::Stop)
        }
        _ => {
            let err = RpcError::new(codes::PARSE_ERROR, "Top-level object parse error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                envelope(Err(err), Value::Null),
                false,
            )
        }
    }
}

/// Runs one request object: `(result, id, after)`.
pub fn execute(
    state: &mut NodeState,
    wallet: Option<&str>,
    request: Value,
) -> (Result<Value, RpcError>, Value, AfterCall) {
    let Value::Object(mut obj) = request else {
        let err = RpcError::new(codes::INVALID_REQUEST, "Invalid Request object");
        return (Err(err), Value::Null, AfterCall::Continue);
    };
    let id = obj.remove("id").unwrap_or(Value::Null);
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        None => {
            let err = RpcError::new(codes::INVALID_REQUEST, "Missing method");
            return (Err(err), id, AfterCall::Continue);
        }
        Some(_) => {
            let err = RpcError::new(codes::INVALID_REQUEST, "Method must be a string");
            return (Err(err), id, AfterCall::Continue);
        }
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(Value::Object(named)) => {
            match arg_names(&method) {
                Some(names) => match named_to_positional(names, &named) {
                    Ok(p) => p,
                    Err(e) => return (Err(e), id, AfterCall::Continue),
                },
                None => {
                    let err = RpcError::new(
                    codes::INVALID_PARAMETER,
                    format!("Named parameters are not supported for {method}; pass them by position"),
                );
                    return (Err(err), id, AfterCall::Continue);
                }
            }
        }
        Some(_) => {
            let err = RpcError::new(codes::INVALID_REQUEST, "Params must be an array or object");
            return (Err(err), id, AfterCall::Continue);
        }
    };
    tracing::debug!(method = %method, wallet = ?wallet, "rpc call");
    if let Some(outcome) = node_methods::call(state, &method, &params) {
        return match outcome {
            Ok((v, after)) => (Ok(v), id, after),
            Err(e) => (Err(e), id, AfterCall::Continue),
        };
    }
    let NodeState { chain, wallets, .. } = state;
    match crate::wallet::dispatch(wallets, chain, wallet, &method, &params) {
        Some(result) => (result, id, AfterCall::Continue),
        None => (
            Err(RpcError::new(codes::METHOD_NOT_FOUND, "Method not found")),
            id,
            AfterCall::Continue,
        ),
    }
}
