//! JSON-RPC batches: one method called with many parameter lists in one HTTP request, which
//! Elements Core (like the embedded node) answers with one array of envelopes, HTTP 200 even
//! when some calls fail. A chain follower reading a run of blocks asks for their hashes, then
//! the blocks, in two round trips instead of two per block.

use std::sync::atomic::Ordering;

use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::{is_retryable, param, truncate, ElementsRpc, NodeErrorBody, Request};
use crate::error::RpcError;

/// One envelope of a batch answer.
#[derive(Deserialize)]
struct BatchEnvelope {
    #[serde(default)]
    id: Option<u64>,
    #[serde(default)]
    result: Option<Box<RawValue>>,
    #[serde(default)]
    error: Option<NodeErrorBody>,
}

impl ElementsRpc {
    /// Calls `method` once per entry of `calls` (each a parameter list) in one HTTP request,
    /// and parses each result as `T`: the answers in the order of `calls`, each its own
    /// result or node error ([`RpcError::Node`] with the batch's HTTP status). The outer
    /// error is for the request as a whole (transport, 401, an answer that is not a batch);
    /// it is retried per the client's policy like [`ElementsRpc::call`]. An empty `calls`
    /// sends nothing.
    pub async fn call_batch<T: DeserializeOwned>(
        &self,
        method: &str,
        calls: &[Vec<Value>],
    ) -> Result<Vec<Result<T, RpcError>>, RpcError> {
        if calls.is_empty() {
            return Ok(Vec::new());
        }
        let invalid = |reason: String| RpcError::InvalidRequest {
            method: method.to_owned(),
            reason,
        };
        let params: Vec<Vec<Box<RawValue>>> = calls
            .iter()
            .map(|call| call.iter().map(param).collect::<Result<Vec<_>, _>>())
            .collect::<Result<_, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        let mut attempt = 1;
        let mut backoff = self.retry.initial_backoff;
        loop {
            let first_id = self
                .next_id
                .fetch_add(params.len() as u64, Ordering::Relaxed);
            let requests: Vec<Request<'_>> = params
                .iter()
                .zip(first_id..)
                .map(|(params, id)| Request {
                    jsonrpc: "1.0",
                    id,
                    method,
                    params,
                })
                .collect();
            let body = serde_json::to_vec(&requests).map_err(|e| invalid(e.to_string()))?;
            let outcome = match self.post_body(body).await {
                Ok((status, body)) => parse_batch(method, status, &body, first_id, params.len()),
                Err(e) => Err(e),
            };
            match outcome {
                Err(e) if attempt < self.retry.max_attempts && is_retryable(method, &e) => {
                    tracing::warn!(method, attempt, error = %e, "Elements RPC batch failed, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Maps a batch answer to the `count` results of the calls numbered from `first_id`.
fn parse_batch<T: DeserializeOwned>(
    method: &str,
    status: StatusCode,
    body: &[u8],
    first_id: u64,
    count: usize,
) -> Result<Vec<Result<T, RpcError>>, RpcError> {
    if status == StatusCode::UNAUTHORIZED {
        return Err(RpcError::Unauthorized);
    }
    let http_error = || RpcError::Http {
        status: status.as_u16(),
        body: truncate(body),
    };
    if status != StatusCode::OK {
        return Err(http_error());
    }
    let envelopes: Vec<BatchEnvelope> = serde_json::from_slice(body).map_err(|source| {
        if serde_json::from_slice::<Value>(body).is_ok() {
            // JSON, but not an array of envelopes
            http_error()
        } else {
            RpcError::Parse {
                method: method.to_owned(),
                source,
            }
        }
    })?;
    let mut answers: Vec<Option<Result<T, RpcError>>> = (0..count).map(|_| None).collect();
    for envelope in envelopes {
        let Some(slot) = envelope
            .id
            .and_then(|id| id.checked_sub(first_id))
            .and_then(|index| answers.get_mut(usize::try_from(index).ok()?))
        else {
            continue;
        };
        *slot = Some(match envelope.error {
            Some(error) => Err(RpcError::Node {
                method: method.to_owned(),
                code: error.code,
                message: error.message,
                http_status: status.as_u16(),
            }),
            None => {
                let text = envelope.result.as_deref().map_or("null", RawValue::get);
                serde_json::from_str(text).map_err(|source| RpcError::Parse {
                    method: method.to_owned(),
                    source,
                })
            }
        });
    }
    // every call must be answered
    answers
        .into_iter()
        .map(|answer| answer.ok_or_else(http_error))
        .collect()
}
