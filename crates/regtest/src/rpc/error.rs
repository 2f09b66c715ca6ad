//! The JSON-RPC error every layer of the node returns: Elements' numeric code and message.

use serde_json::{json, Value};

/// An RPC error as Elements Core reports it (`{"code": -5, "message": "..."}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct RpcError {
    /// Elements/Bitcoin Core RPC error code (e.g. -5 invalid address or key).
    pub code: i64,
    /// Human readable message, byte-for-byte as Elements Core words it.
    pub message: String,
}

impl RpcError {
    /// Builds an error from a code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The JSON object placed in the `error` field of the response envelope.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message })
    }
}

/// Error codes used by Elements Core (src/rpc/protocol.h): the one table shared with the client.
pub use amphora_rpc::codes;
