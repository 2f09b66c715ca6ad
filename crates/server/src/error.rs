//! The API's error type and its one mapping to status codes and bodies (reference §1.4–1.5):
//!
//! | variant | status | body |
//! |---|---|---|
//! | `Unauthenticated` | 401 + `WWW-Authenticate: Token` | `{"detail": msg}` |
//! | `PermissionDenied` | 403 | `{"detail": msg}` |
//! | `NotFound` | 404 | `{"detail": "Not found."}` |
//! | `MethodNotAllowed` | 405 | `{"detail": "Method \"X\" not allowed."}` |
//! | `PayloadTooLarge` | 413 | `{"detail": msg}` |
//! | `TooManyRequests` | 429 + `Retry-After: <seconds>` | `{"detail": msg}` |
//! | `LoginsBusy` | 503 + `Retry-After: <seconds>` | `{"detail": msg}` |
//! | `Amp2Throttled` | 429 + `Retry-After: <seconds>` | `{"error": msg}` |
//! | `Fields` | 400 | `{"field": ["msg", …], …}` (DRF field errors) |
//! | `Business` | 400 | `{"Error": msg}` |
//! | `Amp2` | 400 | `{"error": msg}` (the AMP2 co-signer's shape) |
//! | `Amp2Refused` | 400 (PSET not understood) / 403 (refused by the rules) | `{"error": msg, "reasons": [codes]}` |
//! | `Unavailable` | 503 | `{"detail": msg}` (the Elements node or its wallet cannot serve) |
//! | `Internal` | 500 | `{"detail": "A server error occurred."}`; the cause is logged |

use amphora_core::FieldError;
use amphora_store::{Conflict, PaymentKind, StoreError};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

/// Every error an API handler can return.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing, malformed, unknown or expired token.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed.
    #[error("{0}")]
    PermissionDenied(String),
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
    /// A business rule refused the request.
    #[error("{0}")]
    Business(String),
    /// An AMP2 co-signer request was refused.
    #[error("{0}")]
    Amp2(String),
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
    /// A dependency (the Elements node, the platform wallet) cannot serve the request now.
    #[error("{0}")]
    Unavailable(String),
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
            ApiError::Fields(_) | ApiError::Business(_) | ApiError::Amp2(_) => {
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
            ApiError::Business(message) => json!({ "Error": message }),
            ApiError::Amp2(message) => json!({ "error": message }),
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
            amphora_core::asset::IssuanceError::Rule(message) => ApiError::Business(message),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(conflict) => conflict.into(),
            StoreError::Forbidden(message) => ApiError::PermissionDenied(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<Conflict> for ApiError {
    fn from(conflict: Conflict) -> Self {
        ApiError::Business(conflict_text(&conflict))
    }
}

/// The wire text of a store refusal: the one place these messages are written.
pub(crate) fn conflict_text(conflict: &Conflict) -> String {
    let noun = |kind: &PaymentKind| match kind {
        PaymentKind::Distribution => "distribution",
        PaymentKind::Payout => "payout",
    };
    match conflict {
        Conflict::ManagerNameTaken { username } => {
            format!("a manager named '{username}' already exists")
        }
        Conflict::IssuerNameTaken { username } => {
            format!("an issuer named '{username}' already exists")
        }
        Conflict::AccountNameTaken { username } => {
            format!("an account named '{username}' already exists")
        }
        Conflict::AssetExists => "This asset already exists.".to_string(),
        Conflict::AlreadyRegistered => "The asset is already registered.".to_string(),
        Conflict::Assignment(rule) => rule.to_string(),
        Conflict::AssignmentDistributed { id } => format!(
            "Assignment {id} is part of a distribution; cancel the distribution first (a \
             distributed assignment cannot change)."
        ),
        Conflict::AssignmentChanged { id } => {
            format!("Assignment {id} changed while the distribution was created; try again.")
        }
        Conflict::InsufficientFunds {
            kind: PaymentKind::Distribution,
            pays,
            balance,
        } => format!(
            "insufficient confirmed funds: the distribution pays {pays} but the treasury's \
             confirmed balance is {balance}."
        ),
        Conflict::InsufficientFunds {
            kind: PaymentKind::Payout,
            pays,
            balance,
        } => format!(
            "insufficient confirmed funds: the payout pays {pays} but the treasury's confirmed \
             balance of the payout asset is {balance}."
        ),
        Conflict::PaymentConfirmed(kind) => {
            format!("The {} is confirmed and cannot be cancelled.", noun(kind))
        }
        Conflict::PaymentAlreadyCancelled(kind) => {
            format!("The {} is already cancelled.", noun(kind))
        }
        Conflict::PaymentPartlyPaid { kind, paid } => format!(
            "{paid} transaction(s) of the {} are already confirmed on chain; it cannot be \
             cancelled.",
            noun(kind)
        ),
        Conflict::PaymentCancelled(kind) => format!("The {} was cancelled.", noun(kind)),
        Conflict::BatchPaidBy { kind, txid } => format!(
            "This part of the {} was already paid by transaction {txid}.",
            noun(kind)
        ),
        Conflict::LineNotInPayment { kind, line } => {
            let line_noun = match kind {
                PaymentKind::Distribution => "Assignment",
                PaymentKind::Payout => "Payout line",
            };
            format!("{line_noun} {line} is not part of the {}.", noun(kind))
        }
        Conflict::UserHasHistory { id, assignments } => format!(
            "Registered user {id} has {assignments} assignment(s); its assignment and \
             distribution history is kept, so it cannot be deleted."
        ),
        Conflict::GaidNotRegistered { gaid } => {
            format!("GAID {gaid} is not a wallet registered on this platform")
        }
        Conflict::GaidTaken { gaid } => {
            format!("GAID {gaid} already belongs to another registered user")
        }
        Conflict::GaidNotOfUser { gaid } => {
            format!("GAID {gaid} is not one of this registered user's GAIDs; add it first")
        }
        Conflict::UnknownCategories { ids } => {
            format!("No such categories: {ids:?}; nothing was changed.")
        }
        Conflict::NotAnOutputOfAsset { txid, vout } => {
            format!("{txid}:{vout} is not an output of this asset")
        }
        Conflict::ReissuanceRecorded => "the reissuance is already recorded".to_string(),
        Conflict::BurnRecorded => "the burn is already recorded".to_string(),
        Conflict::ReissueRequestCompleted { id } => {
            format!("reissue request {id} is already completed by another transaction")
        }
        Conflict::BurnRequestCompleted { id } => {
            format!("burn request {id} is already completed by another transaction")
        }
        Conflict::WalletTaken => {
            "another wallet is registered with this descriptor or GAID".to_string()
        }
        Conflict::WalletIdTaken { wid } => {
            format!("wallet id {wid} is already registered with another descriptor")
        }
        Conflict::ReceiveIndexesExhausted { wid } => {
            format!("wallet {wid} has no unhardened receive index left")
        }
        Conflict::ReceiveIndexNotReserved { wid } => {
            format!("no index was reserved for wallet {wid}")
        }
        Conflict::NegativeReceiveCounter { wid } => {
            format!("wallet {wid} has a negative counter")
        }
        Conflict::IndexHasOtherAddress { wid, index } => {
            format!("index {index} of wallet {wid} already has another address")
        }
        Conflict::AddressHandedOut { address } => {
            format!("address {address} was already handed out for another wallet index")
        }
        Conflict::LeaseLost { holder } => {
            format!("the follower lease of {holder} expired or was taken over")
        }
        Conflict::BlockDoesNotExtend {
            block_hash,
            height,
            tip_hash,
            tip_height,
        } => format!(
            "block {block_hash} at height {height} does not extend the indexed tip {tip_hash} \
             at height {tip_height}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_follow_the_reference_shapes() {
        let fields = ApiError::Fields(vec![
            FieldError::new("name", "This field is required."),
            FieldError::new("name", "second"),
            FieldError::new("GAID", "bad"),
        ]);
        assert_eq!(
            fields.body(),
            json!({"name": ["This field is required.", "second"], "GAID": ["bad"]})
        );
        assert_eq!(ApiError::Business("x".into()).body(), json!({"Error": "x"}));
        assert_eq!(ApiError::Amp2("y".into()).body(), json!({"error": "y"}));
        assert_eq!(ApiError::NotFound.body(), json!({"detail": "Not found."}));
        assert_eq!(
            ApiError::MethodNotAllowed(Method::GET).body(),
            json!({"detail": "Method \"GET\" not allowed."})
        );
        let unavailable = ApiError::Unavailable("no Elements node configured".into());
        assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            unavailable.body(),
            json!({"detail": "no Elements node configured"})
        );
        let throttled = ApiError::Amp2Throttled(3);
        assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            throttled.body(),
            json!({"error": "Too many requests. Try again in 3 seconds."})
        );
        let response = ApiError::LoginsBusy(1).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let internal = ApiError::Internal("secret db detail".into());
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.body().to_string().contains("secret"));
    }
}
