//! The console's only way to read or change anything: an in-process request to the same API
//! router a client reaches over HTTP (`tower::ServiceExt::oneshot`), with the signed-in user's
//! token and the browser request's client address and forwarding headers. The access table,
//! every validation, the failed-login limit and the audit log apply unchanged.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tower::ServiceExt;

/// Largest API answer the console reads.
const ANSWER_LIMIT: usize = 64 * 1024 * 1024;

/// An API answer: its status and JSON body (`Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: StatusCode,
    /// Parsed body.
    pub body: Value,
}

impl Answer {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The answer's messages by field (`""` for the whole form; a nested field by its last
    /// name): the DRF field shape `{"field": ["msg"]}`, `{"Error": msg}`, `{"detail": msg}`, `{"non_field_errors": [..]}`.
    pub fn errors(&self) -> BTreeMap<String, String> {
        let mut errors = BTreeMap::new();
        if self.ok() {
            return errors;
        }
        match &self.body {
            Value::Object(map) => {
                for (key, value) in map {
                    let field = match key.as_str() {
                        "Error" | "error" | "detail" | "non_field_errors" => "",
                        // a nested field (`assignments[0].amount`) is shown beside its input
                        other => other.rsplit(['.', ']']).next().unwrap_or(other),
                    };
                    let text = match value {
                        Value::String(s) => s.clone(),
                        Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_owned).unwrap_or(i.to_string()))
                            .collect::<Vec<_>>()
                            .join(" "),
                        other => other.to_string(),
                    };
                    errors
                        .entry(field.to_string())
                        .and_modify(|t: &mut String| {
                            t.push(' ');
                            t.push_str(&text)
                        })
                        .or_insert(text);
                }
            }
            _ => {
                errors.insert(
                    String::new(),
                    format!("The request failed ({}).", self.status),
                );
            }
        }
        errors
    }

    /// The whole-form message of a failed answer (all messages joined).
    pub fn message(&self) -> String {
        self.errors()
            .into_iter()
            .map(|(field, text)| match field.as_str() {
                "" => text,
                _ => format!("{field}: {text}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The API router with what a browser request carries over to its API requests.
#[derive(Clone)]
pub struct Api {
    router: Router,
    peer: Option<ConnectInfo<SocketAddr>>,
    forwarded: HeaderMap,
    token: Option<String>,
}

impl Api {
    /// A client of `router` on behalf of the browser request with `headers` and `peer`.
    pub fn new(router: Router, headers: &HeaderMap, peer: Option<ConnectInfo<SocketAddr>>) -> Api {
        let mut forwarded = headers.clone();
        for name in [AUTHORIZATION, COOKIE, CONTENT_TYPE, CONTENT_LENGTH] {
            forwarded.remove(name);
        }
        Api {
            router,
            peer,
            forwarded,
            token: None,
        }
    }

    /// The same client, authenticated with `token`.
    pub fn with_token(mut self, token: &str) -> Api {
        self.token = Some(token.to_string());
        self
    }

    /// `GET /api{path}`.
    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    /// `method /api{path}` with a JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = Request::builder().method(method).uri(format!("/api{path}"));
        if let Some(headers) = request.headers_mut() {
            headers.extend(self.forwarded.clone());
            if let Some(token) = &self.token {
                if let Ok(value) = format!("token {token}").parse() {
                    headers.insert(AUTHORIZATION, value);
                }
            }
        }
        if body.is_some() {
            request = request.header(CONTENT_TYPE, "application/json");
        }
        let body = body.map(|b| Body::from(b.to_string())).unwrap_or_default();
        let mut request = match request.body(body) {
            Ok(request) => request,
            Err(_) => return failed(StatusCode::BAD_REQUEST, "The path is not valid."),
        };
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(peer);
        }
        let response = match self.router.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), ANSWER_LIMIT)
            .await
            .unwrap_or_default();
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

fn failed(status: StatusCode, message: &str) -> Answer {
    Answer {
        status,
        body: serde_json::json!({ "Error": message }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body,
        }
    }

    #[test]
    fn errors_are_read_by_field_from_every_api_shape() {
        let fields = answer(400, json!({"amount": ["Wrong type: expected an integer."]}));
        assert_eq!(
            fields.errors().get("amount").map(String::as_str),
            Some("Wrong type: expected an integer.")
        );
        assert_eq!(fields.message(), "amount: Wrong type: expected an integer.");
        let nested = answer(400, json!({"assignments[0].amount": ["Required."]}));
        assert_eq!(nested.message(), "amount: Required.");
        let business = answer(400, json!({"Error": "Asset is locked"}));
        assert_eq!(
            business.errors().get("").map(String::as_str),
            Some("Asset is locked")
        );
        let login = answer(400, json!({"non_field_errors": ["Unable to log in."]}));
        assert_eq!(login.message(), "Unable to log in.");
        assert!(answer(200, json!({"Error": "x"})).errors().is_empty());
        assert_eq!(
            answer(502, Value::Null).message(),
            "The request failed (502 Bad Gateway)."
        );
    }
}
