//! The one error type of the client: transport, HTTP, node (code + message) and parse failures.

use std::path::PathBuf;

/// Elements Core RPC error codes (src/rpc/protocol.h), shared by the client and the embedded node.
pub mod codes {
    /// RPC_MISC_ERROR
    pub const MISC_ERROR: i64 = -1;
    /// RPC_TYPE_ERROR
    pub const TYPE_ERROR: i64 = -3;
    /// RPC_WALLET_ERROR
    pub const WALLET_ERROR: i64 = -4;
    /// RPC_INVALID_ADDRESS_OR_KEY
    pub const INVALID_ADDRESS_OR_KEY: i64 = -5;
    /// RPC_WALLET_INSUFFICIENT_FUNDS
    pub const WALLET_INSUFFICIENT_FUNDS: i64 = -6;
    /// RPC_INVALID_PARAMETER
    pub const INVALID_PARAMETER: i64 = -8;
    /// RPC_WALLET_KEYPOOL_RAN_OUT
    pub const WALLET_KEYPOOL_RAN_OUT: i64 = -12;
    /// RPC_WALLET_UNLOCK_NEEDED
    pub const WALLET_UNLOCK_NEEDED: i64 = -13;
    /// RPC_WALLET_PASSPHRASE_INCORRECT
    pub const WALLET_PASSPHRASE_INCORRECT: i64 = -14;
    /// RPC_WALLET_WRONG_ENC_STATE
    pub const WALLET_WRONG_ENC_STATE: i64 = -15;
    /// RPC_WALLET_NOT_FOUND
    pub const WALLET_NOT_FOUND: i64 = -18;
    /// RPC_WALLET_NOT_SPECIFIED
    pub const WALLET_NOT_SPECIFIED: i64 = -19;
    /// RPC_DESERIALIZATION_ERROR
    pub const DESERIALIZATION_ERROR: i64 = -22;
    /// RPC_VERIFY_ERROR
    pub const VERIFY_ERROR: i64 = -25;
    /// RPC_VERIFY_REJECTED
    pub const VERIFY_REJECTED: i64 = -26;
    /// RPC_VERIFY_ALREADY_IN_CHAIN
    pub const VERIFY_ALREADY_IN_CHAIN: i64 = -27;
    /// RPC_IN_WARMUP
    pub const IN_WARMUP: i64 = -28;
    /// RPC_WALLET_ALREADY_LOADED
    pub const WALLET_ALREADY_LOADED: i64 = -35;
    /// RPC_INVALID_REQUEST
    pub const INVALID_REQUEST: i64 = -32600;
    /// RPC_METHOD_NOT_FOUND
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// RPC_INTERNAL_ERROR
    pub const INTERNAL_ERROR: i64 = -32603;
    /// RPC_PARSE_ERROR
    pub const PARSE_ERROR: i64 = -32700;
}

/// Everything that can go wrong talking to an Elements node.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The node could not be reached or the connection broke (after any retries).
    #[error("cannot reach the Elements node at {url}: {source}")]
    Transport {
        /// The endpoint (without credentials).
        url: String,
        /// The underlying HTTP client error.
        #[source]
        source: reqwest::Error,
    },
    /// The node refused the credentials (HTTP 401).
    #[error("the Elements node rejected the RPC credentials (HTTP 401)")]
    Unauthorized,
    /// The node answered with an HTTP status and a body that is not a JSON-RPC error envelope.
    #[error("the Elements node answered HTTP {status}: {body}")]
    Http {
        /// HTTP status code.
        status: u16,
        /// Body text (truncated to 512 bytes).
        body: String,
    },
    /// The node executed the call and reported an error.
    #[error("Elements node error {code} for {method}: {message}")]
    Node {
        /// The RPC method that failed.
        method: String,
        /// Elements' numeric error code (see [`codes`]).
        code: i64,
        /// Elements' message, verbatim.
        message: String,
        /// HTTP status of the answer (500 for most errors, 404 for an unknown method).
        http_status: u16,
    },
    /// The answer was not the JSON the method is documented to return.
    #[error("cannot parse the answer to {method}: {source}")]
    Parse {
        /// The RPC method whose answer did not parse.
        method: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The cookie file could not be read or is malformed.
    #[error("cannot use the RPC cookie file {}: {reason}", path.display())]
    Cookie {
        /// Path of the cookie file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The RPC URL is not a usable http(s) URL.
    #[error("invalid Elements RPC URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (credentials removed).
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot set up the HTTP client: {reason}")]
    ClientSetup {
        /// What went wrong.
        reason: String,
    },
    /// The caller asked for something the client refuses to send (e.g. a duplicated address).
    #[error("invalid request for {method}: {reason}")]
    InvalidRequest {
        /// The RPC method.
        method: String,
        /// What is wrong.
        reason: String,
    },
}

/// Elements Core's message for a wallet that cannot fund a transaction.
const INSUFFICIENT_FUNDS_MESSAGE: &str = "Insufficient funds";

impl RpcError {
    /// The node's error code, when the node answered with an error.
    pub fn code(&self) -> Option<i64> {
        match self {
            RpcError::Node { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The node's error message, when the node answered with an error.
    pub fn node_message(&self) -> Option<&str> {
        match self {
            RpcError::Node { message, .. } => Some(message),
            _ => None,
        }
    }

    fn has_code(&self, expected: i64) -> bool {
        self.code() == Some(expected)
    }

    /// -13: the wallet is encrypted and locked (`walletpassphrase` needed).
    pub fn is_wallet_locked(&self) -> bool {
        self.has_code(codes::WALLET_UNLOCK_NEEDED)
    }
    /// -28: the node is still starting (loading blocks, verifying, ...).
    pub fn is_warming_up(&self) -> bool {
        self.has_code(codes::IN_WARMUP)
    }
    /// -14: wrong wallet passphrase.
    pub fn is_passphrase_incorrect(&self) -> bool {
        self.has_code(codes::WALLET_PASSPHRASE_INCORRECT)
    }
    /// -15: the wallet is not encrypted (or already encrypted) for this call.
    pub fn is_wrong_encryption_state(&self) -> bool {
        self.has_code(codes::WALLET_WRONG_ENC_STATE)
    }
    /// -18: the wallet does not exist or is not loaded.
    pub fn is_wallet_not_found(&self) -> bool {
        self.has_code(codes::WALLET_NOT_FOUND)
    }
    /// -19: several wallets are loaded and the call was not routed to `/wallet/<name>`.
    pub fn is_wallet_not_specified(&self) -> bool {
        self.has_code(codes::WALLET_NOT_SPECIFIED)
    }
    /// -35: the wallet is already loaded.
    pub fn is_wallet_already_loaded(&self) -> bool {
        self.has_code(codes::WALLET_ALREADY_LOADED)
    }
    /// The wallet has not enough funds (of the asset asked for): -6 from the send calls, or
    /// -4 "Insufficient funds" from `fundrawtransaction`, which Elements Core reports as a
    /// generic wallet error.
    pub fn is_insufficient_funds(&self) -> bool {
        self.has_code(codes::WALLET_INSUFFICIENT_FUNDS)
            || (self.has_code(codes::WALLET_ERROR)
                && self.node_message() == Some(INSUFFICIENT_FUNDS_MESSAGE))
    }
    /// -5: invalid address, key or unknown (non-wallet) transaction id.
    pub fn is_invalid_address_or_key(&self) -> bool {
        self.has_code(codes::INVALID_ADDRESS_OR_KEY)
    }
    /// -4: generic wallet error (e.g. reissuance token not in the wallet).
    pub fn is_wallet_error(&self) -> bool {
        self.has_code(codes::WALLET_ERROR)
    }
    /// -26: the transaction was rejected by mempool policy or consensus.
    pub fn is_verify_rejected(&self) -> bool {
        self.has_code(codes::VERIFY_REJECTED)
    }
    /// -27: the transaction is already in the block chain.
    pub fn is_already_in_chain(&self) -> bool {
        self.has_code(codes::VERIFY_ALREADY_IN_CHAIN)
    }
    /// -32601: the node does not know the method.
    pub fn is_method_not_found(&self) -> bool {
        self.has_code(codes::METHOD_NOT_FOUND)
    }
    /// The node could not be reached at all.
    pub fn is_transport(&self) -> bool {
        matches!(self, RpcError::Transport { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node_error(method: &str, code: i64, message: &str) -> RpcError {
        RpcError::Node {
            method: method.into(),
            code,
            message: message.into(),
            http_status: 500,
        }
    }

    #[test]
    fn insufficient_funds_is_recognised_from_the_send_calls_and_from_fundrawtransaction() {
        // What Elements Core 23.3.3 answers.
        assert!(node_error("sendtoaddress", -6, "Insufficient funds").is_insufficient_funds());
        assert!(node_error("fundrawtransaction", -4, "Insufficient funds").is_insufficient_funds());
        assert!(!node_error(
            "reissueasset",
            -4,
            "No available reissuance tokens in wallet."
        )
        .is_insufficient_funds());
    }
}
