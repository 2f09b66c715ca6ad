//! Request extractors with the API's error shapes: JSON bodies with field-level errors (never
//! axum's plain-text 415/422), JSON-or-form bodies, path parameters (unparsable → 404) and the
//! token-authenticated issuer.

use std::collections::BTreeMap;

use amphora_core::FieldError;
use amphora_store::{Issuer, Manager};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::credentials::token_hash;
use crate::error::ApiError;
use crate::state::AppState;

/// A JSON object request body. Content type is not checked (clients differ); an empty body
/// reads as `{}` so that missing fields are reported one by one; any other JSON value than an
/// object is refused.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        parse_json_object(&bytes).map(Json)
    }
}

/// A JSON body that is not an object: a bare string (`gaids/add`, `memo/set`) or array.
#[derive(Debug)]
pub struct BareJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for BareJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(BareJson)
    }
}

/// A body that may be JSON or `application/x-www-form-urlencoded` (`obtain_token`).
#[derive(Debug)]
pub struct JsonOrForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonOrForm<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let bytes = read_body(req, state).await?;
        if !is_form {
            return parse_json_object(&bytes).map(JsonOrForm);
        }
        let fields: BTreeMap<String, String> = form_urlencoded(&bytes)?;
        let value = Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        );
        from_value(value).map(JsonOrForm)
    }
}

/// The raw request body, with the API's error for an oversized or unreadable body.
#[derive(Debug)]
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_body(req, state).await.map(RawBody)
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state)
        .await
        .map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::field(FieldError::NON_FIELD, "Could not read the request body.")
            }
        })
}

fn form_urlencoded(bytes: &[u8]) -> Result<BTreeMap<String, String>, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::field(FieldError::NON_FIELD, "Form data is not valid UTF-8."))?;
    let mut fields = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        fields.insert(percent_decode(key)?, percent_decode(value)?);
    }
    Ok(fields)
}

fn percent_decode(text: &str) -> Result<String, ApiError> {
    let malformed = || ApiError::field(FieldError::NON_FIELD, "Malformed form data.");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or_else(malformed)?;
                let hex = std::str::from_utf8(hex).map_err(|_| malformed())?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| malformed())?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| malformed())
}

/// Parses a JSON body into `T`, reporting errors per field. An empty body reads as `{}`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    from_value(parse_value(bytes)?)
}

/// Like [`parse_json`], but the body must be a JSON object (serde would otherwise accept a
/// positional array for a struct).
pub fn parse_json_object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value = parse_value(bytes)?;
    if !value.is_object() {
        return Err(ApiError::field(
            FieldError::NON_FIELD,
            format!(
                "Invalid data. Expected a dictionary, but got {}.",
                kind(&value)
            ),
        ));
    }
    from_value(value)
}

fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::field(FieldError::NON_FIELD, format!("JSON parse error - {e}")))
}

/// Deserializes `value` into `T`, turning serde's message into a DRF-style field error. A number
/// with a zero fraction (`5.0`) reads as the integer it is, as JSON Schema and DRF's
/// `IntegerField` count it.
pub fn from_value<T: DeserializeOwned>(mut value: Value) -> Result<T, ApiError> {
    integral_floats_as_integers(&mut value);
    let root_kind = kind(&value);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let message = err.inner().to_string();
        ApiError::Fields(vec![field_error(&path, &message, root_kind)])
    })
}

/// Largest magnitude below which every integer is exactly an `f64` (serde_json parses floats
/// exactly with its `float_roundtrip` feature, which the workspace enables).
const EXACT_F64_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// Rewrites every float with a zero fraction (and exactly representable) as an integer.
fn integral_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(number) if number.is_f64() => {
            if let Some(float) = number.as_f64() {
                if float.fract() == 0.0 && float.abs() <= EXACT_F64_INTEGERS {
                    *number = serde_json::Number::from(float as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Maps one serde error (at `path`, `.` for the root) to the field and DRF-like message.
fn field_error(path: &str, message: &str, root_kind: &str) -> FieldError {
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return FieldError::new(field, "This field is required.");
    }
    let expected = message.rsplit("expected ").next().unwrap_or_default();
    if path == "." {
        let text = if expected.contains("struct") || expected.contains("map") {
            format!("Invalid data. Expected a dictionary, but got {root_kind}.")
        } else if expected.contains("string") {
            format!("Invalid data. Expected a JSON string, but got {root_kind}.")
        } else {
            format!("Invalid data: {message}.")
        };
        return FieldError::new(FieldError::NON_FIELD, text);
    }
    let text = if message.starts_with("invalid type: null") {
        "This field may not be null.".to_string()
    } else if expected.contains("bool") {
        "Must be a valid boolean.".to_string()
    } else if expected.contains("string") {
        "Not a valid string.".to_string()
    } else if expected.starts_with("i64")
        || expected.starts_with("u64")
        || expected.contains("integer")
    {
        "A valid integer is required.".to_string()
    } else if message.starts_with("invalid type") {
        let article = message.split("expected ").nth(1).unwrap_or("another type");
        format!("Wrong type: expected {article}.")
    } else {
        message.to_string()
    };
    FieldError::new(path, text)
}

/// Path parameters; a parameter that does not parse (e.g. a non-numeric id) is a 404, as an
/// unmatched URL pattern is in DRF.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|_| ApiError::NotFound)
    }
}

/// The caller authenticated by `Authorization: token <40-hex>` (scheme case-insensitive): an
/// issuer, or one of its managers. Every route's access rule is checked by
/// [`crate::access::authorize`] before the handler runs; handlers scope their data by
/// `issuer`, which for a manager is the issuer it works for.
#[derive(Debug, Clone)]
pub struct AuthIssuer {
    /// The issuer account (the manager's issuer when `manager` is set).
    pub issuer: Issuer,
    /// The manager making the call, if it is not the issuer itself.
    pub manager: Option<Manager>,
    /// SHA-256 of the token used (to revoke it on refresh).
    pub token_hash: String,
}

impl AuthIssuer {
    /// `issuer` or `manager`.
    pub fn role(&self) -> &'static str {
        if self.manager.is_some() {
            "manager"
        } else {
            "issuer"
        }
    }

    /// Id of the calling account (issuer or manager).
    pub fn account_id(&self) -> i64 {
        self.manager.as_ref().map_or(self.issuer.id, |m| m.id)
    }

    /// Username of the calling account.
    pub fn username(&self) -> &str {
        self.manager
            .as_ref()
            .map_or(self.issuer.username.as_str(), |m| m.username.as_str())
    }
}

impl FromRequestParts<AppState> for AuthIssuer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Set by the access middleware, which authenticated the caller already.
        if let Some(caller) = parts.extensions.get::<AuthIssuer>() {
            return Ok(caller.clone());
        }
        authenticate(parts, state).await
    }
}

/// Authenticates the request's token: unknown → 401 "Invalid token.", expired → 401 "Token
/// has expired.", a locked manager's → 401 "User inactive or deleted.".
pub async fn authenticate(parts: &Parts, state: &AppState) -> Result<AuthIssuer, ApiError> {
    const INVALID: &str = "Invalid token.";
    let token = token_from_header(parts)?;
    let hash = token_hash(token);
    // One query for the token and its issuer (tokens are deleted with their issuer).
    let (stored, issuer) = state
        .store()
        .token_and_issuer(&hash)
        .await?
        .ok_or(ApiError::Unauthenticated(INVALID))?;
    if stored.expires_at <= Utc::now() {
        return Err(ApiError::Unauthenticated("Token has expired."));
    }
    let manager = match stored.manager_id {
        None => None,
        Some(id) => {
            let manager = state
                .store()
                .manager(issuer.id, id)
                .await?
                .ok_or(ApiError::Unauthenticated(INVALID))?;
            if manager.is_locked {
                return Err(ApiError::Unauthenticated("User inactive or deleted."));
            }
            Some(manager)
        }
    };
    Ok(AuthIssuer {
        issuer,
        manager,
        token_hash: hash,
    })
}

/// The client's IP address: the TCP peer when the server runs with connect info (as
/// [`crate::serve`] does), or the forwarded client behind a trusted proxy (see
/// [`crate::forwarded`]); `None` without connect info.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            crate::forwarded::origin_of(parts, state).client,
        ))
    }
}

/// Reads the token from the `Authorization` header with DRF's messages for each failure.
fn token_from_header(parts: &Parts) -> Result<&str, ApiError> {
    const NOT_PROVIDED: &str = "Authentication credentials were not provided.";
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated(NOT_PROVIDED))?;
    let header = header.to_str().map_err(|_| {
        ApiError::Unauthenticated(
            "Invalid token header. Token string should not contain invalid characters.",
        )
    })?;
    let mut words = header.split_whitespace();
    match words.next() {
        Some(scheme) if scheme.eq_ignore_ascii_case("token") => {}
        _ => return Err(ApiError::Unauthenticated(NOT_PROVIDED)),
    }
    let token = words.next().ok_or(ApiError::Unauthenticated(
        "Invalid token header. No credentials provided.",
    ))?;
    if words.next().is_some() {
        return Err(ApiError::Unauthenticated(
            "Invalid token header. Token string should not contain spaces.",
        ));
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        is_company: bool,
        count: Option<i64>,
    }

    fn fields(err: ApiError) -> Value {
        err.body()
    }

    #[test]
    fn json_errors_name_the_field() {
        let err = parse_json_object::<Body>(br#"{"is_company": true}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"name": ["This field is required."]})
        );
        let err = parse_json_object::<Body>(br#"{"name": 5}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"name": ["Not a valid string."]})
        );
        let err = parse_json_object::<Body>(br#"{"name": "a", "is_company": "yes"}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"is_company": ["Must be a valid boolean."]})
        );
        let err = parse_json_object::<Body>(br#"{"name": null}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"name": ["This field may not be null."]})
        );
        let err = parse_json_object::<Body>(br#"{"name": "a", "count": "x"}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"count": ["A valid integer is required."]})
        );
        let err = parse_json_object::<Body>(br#"[1]"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
        );
        let err = parse_json_object::<Body>(b"{not json").unwrap_err();
        let body = fields(err);
        assert!(body["non_field_errors"][0]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"));
        // integral floats are integers; others are not
        let ok = parse_json_object::<Body>(br#"{"name": "a", "count": 5.0}"#).unwrap();
        assert_eq!(ok.count, Some(5));
        let ok =
            parse_json_object::<Body>(br#"{"name": "a", "count": 2099999999999999.0}"#).unwrap();
        assert_eq!(ok.count, Some(2_099_999_999_999_999));
        let err = parse_json_object::<Body>(br#"{"name": "a", "count": 5.5}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"count": ["A valid integer is required."]})
        );
        // unknown fields are ignored; empty body reads as {}
        let ok = parse_json_object::<Body>(br#"{"name": "a", "extra": 1}"#).unwrap();
        assert_eq!(ok.name, "a");
        let err = parse_json_object::<Body>(b"").unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"name": ["This field is required."]})
        );
    }

    #[test]
    fn bare_string_bodies() {
        assert_eq!(parse_json::<String>(br#""GA1""#).unwrap(), "GA1");
        let err = parse_json::<String>(br#"{"a": 1}"#).unwrap_err();
        assert_eq!(
            fields(err),
            serde_json::json!({"non_field_errors": ["Invalid data. Expected a JSON string, but got dict."]})
        );
    }

    #[test]
    fn form_bodies_decode() {
        let fields = form_urlencoded(b"username=al%20ice&password=p%2Bw+d").unwrap();
        assert_eq!(fields["username"], "al ice");
        assert_eq!(fields["password"], "p+w d");
        assert!(form_urlencoded(b"a=%zz").is_err());
    }
}
