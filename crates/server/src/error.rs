//! The API's error type and its one mapping to status codes and bodies (reference §1.4–1.5):
//!
//! | variant | status | body |
//! |---|---|---|
//! | `Unauthenticated` | 401 + `WWW-Authenticate: Token` | `{"detail": msg}` |
//! | `PermissionDenied` | 403 | `{"detail": msg}`, the message written by [`denial_text`] |
//! | `NotFound` | 404 | `{"detail": "Not found."}` |
//! | `MethodNotAllowed` | 405 | `{"detail": "Method \"X\" not allowed."}` |
//! | `PayloadTooLarge` | 413 | `{"detail": msg}` |
//! | `TooManyRequests` | 429 + `Retry-After: <seconds>` | `{"detail": msg}` |
//! | `LoginsBusy` | 503 + `Retry-After: <seconds>` | `{"detail": msg}` |
//! | `Amp2Throttled` | 429 + `Retry-After: <seconds>` | `{"error": msg}` |
//! | `Fields` | 400 | `{"field": ["msg", …], …}` (DRF field errors) |
//! | `Refused` | 400 | `{"Error": msg}`, the message written by [`refusal_text`] |
//! | `Amp2` | 400 | `{"error": msg}` (the AMP2 co-signer's shape), written by [`amp2_text`] |
//! | `Amp2Refused` | 400 (PSET not understood) / 403 (refused by the rules) | `{"error": msg, "reasons": [codes]}` |
//! | `Unavailable` | 503 | `{"detail": msg}` (what cannot serve), written by [`outage_text`] |
//! | `Internal` | 500 | `{"detail": "A server error occurred."}`; the cause is logged |
//!
//! No 5xx body carries an internal error's text: an outage names what failed, and its cause
//! is logged where the outage is made.

use amphora_core::FieldError;
use amphora_store::{Conflict, StoreError};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::refusal::{Amp2Refusal, ChainRefusal, Denial, Outage, Refusal};

mod text;
pub(crate) use text::{amp2_text, denial_text, outage_text, refusal_text};

/// Every error an API handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown or expired token.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    PermissionDenied(Denial),
    /// The object does not exist for this caller (also: belongs to another issuer).
    #[error("Not found.")]
    NotFound,
    /// The route exists but not for this method.
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(Method),
    /// The request body exceeds the size limit.
    #[error("Request body is too large.")]
    PayloadTooLarge,
    /// Too many failed logins for this username or client address; retry after the given
    /// number of seconds.
    #[error("Too many failed login attempts. Try again in {0} seconds.")]
    TooManyRequests(u64),
    /// As many password verifications as allowed are already running; retry after the given
    /// number of seconds (the request is answered at once, not queued).
    #[error("Too many logins are being verified. Try again in {0} seconds.")]
    LoginsBusy(u64),
    /// An anonymous AMP2 endpoint's rate limit (per client address or per wallet) is
    /// exhausted; retry after the given number of seconds.
    #[error("Too many requests. Try again in {0} seconds.")]
    Amp2Throttled(u64),
    /// Schema or field validation failed.
    #[error("invalid input: {0:?}")]
    Fields(Vec<FieldError>),
    /// A rule of the platform refused the request (the store's, a chain check's, core's or
    /// the server's own); its text is written by the error table. Boxed: a refusal carries its
    /// data, and every `Result` of a handler carries an `ApiError`.
    #[error("{0}")]
    Refused(Box<Refusal>),
    /// An AMP2 wallet registration was refused.
    #[error("{0}")]
    Amp2(Amp2Refusal),
    /// The co-signer refused to sign: the PSET could not be fully understood (400) or the
    /// transfer rules / the issuer refused it (`refused_by_policy`, 403). `reasons` are stable
    /// snake_case codes.
    #[error("{error}")]
    Amp2Refused {
        /// Message for humans.
        error: String,
        /// Stable reason codes.
        reasons: Vec<String>,
        /// Whether the rules refused an understood transfer (403) rather than the PSET being
        /// unreadable (400).
        refused_by_policy: bool,
    },
    /// A dependency (the Elements node, the platform wallet, the asset registry) cannot serve
    /// the request now.
    #[error("{0}")]
    Unavailable(Outage),
    /// Something failed on our side; details go to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// One field error.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Fields(vec![FieldError::new(field, message)])
    }

    /// The status code of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::PermissionDenied(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(_) | ApiError::Amp2Throttled(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::LoginsBusy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Fields(_) | ApiError::Refused(_) | ApiError::Amp2(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Amp2Refused {
                refused_by_policy, ..
            } => {
                if *refused_by_policy {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::BAD_REQUEST
                }
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        match self {
            ApiError::Fields(errors) => {
                let mut map = Map::new();
                for error in errors {
                    let entry = map
                        .entry(error.field.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(messages) = entry {
                        messages.push(Value::String(error.message.clone()));
                    }
                }
                Value::Object(map)
            }
            ApiError::Refused(refusal) => json!({ "Error": refusal_text(refusal) }),
            ApiError::PermissionDenied(denial) => json!({ "detail": denial_text(denial) }),
            ApiError::Amp2(refusal) => json!({ "error": amp2_text(refusal) }),
            ApiError::Unavailable(outage) => json!({ "detail": outage_text(outage) }),
            ApiError::Amp2Throttled(_) => json!({ "error": self.to_string() }),
            ApiError::Amp2Refused { error, reasons, .. } => {
                json!({ "error": error, "reasons": reasons })
            }
            ApiError::Internal(_) => json!({ "detail": "A server error occurred." }),
            other => json!({ "detail": other.to_string() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "request failed");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthenticated(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        }
        if let ApiError::TooManyRequests(seconds)
        | ApiError::LoginsBusy(seconds)
        | ApiError::Amp2Throttled(seconds) = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        ApiError::Fields(vec![error])
    }
}

impl From<amphora_core::asset::IssuanceError> for ApiError {
    fn from(error: amphora_core::asset::IssuanceError) -> Self {
        match error {
            amphora_core::asset::IssuanceError::Fields(errors) => ApiError::Fields(errors),
            amphora_core::asset::IssuanceError::Rule(rule) => Refusal::Issuance(rule).into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(conflict) => conflict.into(),
            StoreError::Forbidden(why) => Denial::Store(why).into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<Conflict> for ApiError {
    fn from(conflict: Conflict) -> Self {
        Refusal::Conflict(conflict).into()
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        ApiError::Refused(Box::new(refusal))
    }
}

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        ApiError::PermissionDenied(denial)
    }
}

impl From<Outage> for ApiError {
    fn from(outage: Outage) -> Self {
        ApiError::Unavailable(outage)
    }
}

impl From<Amp2Refusal> for ApiError {
    fn from(refusal: Amp2Refusal) -> Self {
        ApiError::Amp2(refusal)
    }
}

impl From<ChainRefusal> for ApiError {
    fn from(refusal: ChainRefusal) -> Self {
        Refusal::Chain(refusal).into()
    }
}

#[cfg(test)]
mod tests;
