//! The RPCs that wait for the chain (`waitfornewblock`, `waitforblockheight`): answered from the
//! node's tip notifications without holding the node lock, so other calls go on meanwhile.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use super::error::codes;
use super::params::named_to_positional;
use super::RpcError;
use crate::node::ChainTip;

/// `waitforblockheight`'s help text, which Core answers (code -1) when `height` is missing.
const WAITFORBLOCKHEIGHT_HELP: &str = "waitforblockheight height ( timeout )\n\nWaits for (at least) block height and returns the height and hash\nof the current tip.\n\nReturns the current block on timeout or exit.\n\nArguments:\n1. height     (numeric, required) Block height to wait for.\n2. timeout    (numeric, optional, default=0) Time in milliseconds to wait for a response. 0 indicates no timeout.\n\nResult:\n{                    (json object)\n  \"hash\" : \"hex\",    (string) The blockhash\n  \"height\" : n       (numeric) Block height\n}\n\nExamples:\n> elements-cli waitforblockheight 100 1000\n> curl --user myusername --data-binary '{\"jsonrpc\": \"1.0\", \"id\": \"curltest\", \"method\": \"waitforblockheight\", \"params\": [100, 1000]}' -H 'content-type: text/plain;' http://127.0.0.1:7041/\n";

/// A waiting RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitMethod {
    /// `waitfornewblock ( timeout )`: until the tip changes.
    NewBlock,
    /// `waitforblockheight height ( timeout )`: until the tip is at least `height` high
    /// (at once when it already is).
    BlockHeight,
}

impl WaitMethod {
    /// The waiting method called `name`, if it is one.
    pub fn from_name(name: &str) -> Option<WaitMethod> {
        match name {
            "waitfornewblock" => Some(WaitMethod::NewBlock),
            "waitforblockheight" => Some(WaitMethod::BlockHeight),
            _ => None,
        }
    }

    fn arg_names(self) -> &'static [&'static str] {
        match self {
            WaitMethod::NewBlock => &["timeout"],
            WaitMethod::BlockHeight => &["height", "timeout"],
        }
    }

    /// Waits as the method says (timeout in ms; 0 or none: no limit; negative: no wait) or
    /// until the node stops, and answers the tip then, like Elements Core 23.
    pub async fn call(
        self,
        params: Option<&Value>,
        tip: &mut watch::Receiver<ChainTip>,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<Value, RpcError> {
        let positional = match params {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(Value::Object(named)) => named_to_positional(self.arg_names(), named)?,
            Some(_) => {
                return Err(RpcError::new(
                    codes::INVALID_REQUEST,
                    "Params must be an array or object",
                ))
            }
        };
        let start = *tip.borrow_and_update();
        let (height, timeout) = match self {
            WaitMethod::NewBlock => (None, positional.first()),
            WaitMethod::BlockHeight => {
                let height = match positional.first() {
                    None | Some(Value::Null) => {
                        return Err(RpcError::new(codes::MISC_ERROR, WAITFORBLOCKHEIGHT_HELP))
                    }
                    Some(value) => get_int(value)?,
                };
                (Some(height), positional.get(1))
            }
        };
        let timeout_ms = match timeout {
            None | Some(Value::Null) => 0,
            Some(value) => get_int(value)?,
        };
        let reached = |t: &ChainTip| match height {
            None => *t != start,
            Some(h) => i64::from(t.height) >= h,
        };
        // a negative timeout does not wait (Core's `wait_for` with a negative duration)
        if timeout_ms >= 0 {
            let changed = async {
                tokio::select! {
                    _ = tip.wait_for(reached) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            };
            match timeout_ms {
                0 => changed.await,
                ms => {
                    let limit = Duration::from_millis(ms.unsigned_abs());
                    let _ = tokio::time::timeout(limit, changed).await;
                }
            }
        }
        let now = *tip.borrow();
        Ok(json!({"hash": now.hash.to_string(), "height": now.height}))
    }
}

/// Core reads these parameters with `get_int()`: anything but an integer is a -1 with this
/// message.
fn get_int(value: &Value) -> Result<i64, RpcError> {
    value.as_i64().ok_or_else(|| {
        RpcError::new(
            codes::MISC_ERROR,
            "JSON value is not an integer as expected",
        )
    })
}
