//! The generic JSON-RPC 1.0 call over HTTP: URL and wallet routing, auth, retries, error mapping.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{codes, RpcError};

mod batch;

/// How the client authenticates to the node.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No `Authorization` header (only for nodes behind another authenticating layer).
    None,
    /// `rpcuser` / `rpcpassword`.
    UserPass {
        /// RPC user name.
        user: String,
        /// RPC password.
        password: String,
    },
    /// The node's `.cookie` file (`__cookie__:<hex>`), re-read on every request because the
    /// node writes a fresh one at each start.
    CookieFile(PathBuf),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::UserPass { user, .. } => {
                write!(f, "UserPass {{ user: {user:?}, password: *** }}")
            }
            Auth::CookieFile(path) => write!(f, "CookieFile({})", path.display()),
        }
    }
}

/// Bounded retries with exponential backoff.
///
/// Retried: a connection that could not be established (nothing was sent), -28 "warming up",
/// and, for read-only methods (`get*` except `getnewaddress`, `list*`, `scantxoutset`, ...),
/// a connection lost mid-request. A connection lost after a `sendtoaddress` or any other call
/// with effects was sent is never retried: the node may have executed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first one (1 = no retry).
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub initial_backoff: Duration,
    /// Upper bound of the doubling wait.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// A single attempt.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
        }
    }
}

impl Default for RetryPolicy {
    /// 8 attempts, 250 ms doubling up to 5 s (about 20 s in total).
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(5),
        }
    }
}

/// One HTTP answer, unparsed: what the conformance harness compares.
#[derive(Debug, Clone, PartialEq)]
pub struct RawAnswer {
    /// HTTP status code.
    pub http_status: u16,
    /// The JSON body (`Value::Null` when the body is empty or not JSON).
    pub body: Value,
}

/// Default timeout of one HTTP request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// An async Elements Core JSON-RPC client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct ElementsRpc {
    http: reqwest::Client,
    auth: Arc<Auth>,
    retry: RetryPolicy,
    next_id: Arc<AtomicU64>,
    /// The node root (no credentials, no wallet path).
    root: Url,
    /// Where requests go: `root` or `root/wallet/<name>`.
    url: Url,
}

#[derive(Serialize)]
struct Request<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: &'a [Box<RawValue>],
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<NodeErrorBody>,
}

#[derive(Deserialize)]
struct NodeErrorBody {
    code: i64,
    message: String,
}

/// Converts any serializable value to one raw JSON parameter (amounts keep their exact text).
pub fn param<T: Serialize + ?Sized>(value: &T) -> Result<Box<RawValue>, serde_json::Error> {
    serde_json::value::to_raw_value(value)
}

impl ElementsRpc {
    /// A client for `url` (`http://host:port`, optionally `http://user:pass@host:port`).
    ///
    /// Credentials in the URL are used when `auth` is [`Auth::None`]; giving both is an error.
    pub fn new(url: &str, auth: Auth) -> Result<Self, RpcError> {
        let mut parsed = Url::parse(url).map_err(|e| RpcError::InvalidUrl {
            url: redact(url),
            reason: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(RpcError::InvalidUrl {
                url: redact(url),
                reason: "the scheme must be http or https".into(),
            });
        }
        let url_auth = if parsed.username().is_empty() {
            None
        } else {
            let user = percent_decode(parsed.username());
            let password = percent_decode(parsed.password().unwrap_or(""));
            Some(Auth::UserPass { user, password })
        };
        let auth = match (auth, url_auth) {
            (Auth::None, Some(from_url)) => from_url,
            (auth, None) => auth,
            (_, Some(_)) => {
                return Err(RpcError::InvalidUrl {
                    url: redact(url),
                    reason: "credentials given both in the URL and separately".into(),
                })
            }
        };
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        parsed.set_query(None);
        parsed.set_fragment(None);
        Ok(ElementsRpc {
            http: build_http(DEFAULT_TIMEOUT)?,
            auth: Arc::new(auth),
            retry: RetryPolicy::default(),
            next_id: Arc::new(AtomicU64::new(1)),
            root: parsed.clone(),
            url: parsed,
        })
    }

    /// The same client with another retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The same client with another per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, RpcError> {
        self.http = build_http(timeout)?;
        Ok(self)
    }

    /// A client whose calls go to the wallet `name` (`/wallet/<name>`, percent-encoded).
    pub fn wallet(&self, name: &str) -> ElementsRpc {
        let mut url = self.root.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push("wallet").push(name);
        }
        ElementsRpc {
            url,
            ..self.clone()
        }
    }

    /// Where calls go (without credentials).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Calls `method` with JSON `params` and parses the result as `T`, retrying per the policy.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[Value],
    ) -> Result<T, RpcError> {
        let raw = params
            .iter()
            .map(param)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| RpcError::InvalidRequest {
                method: method.to_owned(),
                reason: source.to_string(),
            })?;
        self.call_raw(method, &raw).await
    }

    /// Like [`call`](Self::call) with parameters already serialized (see [`param`]); used for
    /// amounts, whose exact decimal text must reach the node.
    pub async fn call_raw<T: DeserializeOwned>(
        &self,
        method: &str,
        params: &[Box<RawValue>],
    ) -> Result<T, RpcError> {
        let mut attempt = 1;
        let mut backoff = self.retry.initial_backoff;
        loop {
            let outcome = match self.post(method, params).await {
                Ok((status, body)) => parse_answer(method, status.as_u16(), &body),
                Err(e) => Err(e),
            };
            match outcome {
                Err(e) if attempt < self.retry.max_attempts && is_retryable(method, &e) => {
                    tracing::warn!(method, attempt, error = %e, "Elements RPC call failed, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt, no retry and no interpretation: the HTTP status and JSON body as received.
    pub async fn send_once(&self, method: &str, params: &[Value]) -> Result<RawAnswer, RpcError> {
        let raw = params
            .iter()
            .map(param)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| RpcError::InvalidRequest {
                method: method.to_owned(),
                reason: source.to_string(),
            })?;
        let (status, body) = self.post(method, &raw).await?;
        Ok(RawAnswer {
            http_status: status.as_u16(),
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        })
    }

    async fn post(
        &self,
        method: &str,
        params: &[Box<RawValue>],
    ) -> Result<(StatusCode, Vec<u8>), RpcError> {
        let request = Request {
            jsonrpc: "1.0",
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            method,
            params,
        };
        let body = serde_json::to_vec(&request).map_err(|source| RpcError::InvalidRequest {
            method: method.to_owned(),
            reason: source.to_string(),
        })?;
        self.post_body(body).await
    }

    /// POSTs one JSON body (a request object or a batch array) with the client's auth.
    async fn post_body(&self, body: Vec<u8>) -> Result<(StatusCode, Vec<u8>), RpcError> {
        let mut builder = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        match self.auth.as_ref() {
            Auth::None => {}
            Auth::UserPass { user, password } => builder = builder.basic_auth(user, Some(password)),
            Auth::CookieFile(path) => {
                let (user, password) = read_cookie(path).await?;
                builder = builder.basic_auth(user, Some(password));
            }
        }
        let transport = |source| RpcError::Transport {
            url: self.url.to_string(),
            source,
        };
        let response = builder.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((status, bytes.to_vec()))
    }
}

/// How long an idle connection stays in the pool: below Elements Core's `-rpcservertimeout`
/// (30 s by default), so the client never reuses a connection the node is closing.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

fn build_http(timeout: Duration) -> Result<reqwest::Client, RpcError> {
    reqwest::Client::builder()
        .timeout(timeout)
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .build()
        .map_err(|source| RpcError::ClientSetup {
            reason: source.to_string(),
        })
}

/// Whether a failed attempt may be repeated: the node did not execute the call (refused
/// connection, -28 warming up), or the call only reads, so repeating it after a connection lost
/// mid-request cannot do anything twice.
fn is_retryable(method: &str, error: &RpcError) -> bool {
    match error {
        RpcError::Transport { source, .. } => source.is_connect() || is_read_only(method),
        RpcError::Node { code, .. } => *code == codes::IN_WARMUP,
        _ => false,
    }
}

/// Methods without side effects (`getnewaddress` is excluded: it consumes a key).
fn is_read_only(method: &str) -> bool {
    (method.starts_with("get") && method != "getnewaddress" && method != "getrawchangeaddress")
        || method.starts_with("list")
        || matches!(
            method,
            "decoderawtransaction"
                | "dumpassetlabels"
                | "dumpmasterblindingkey"
                | "scantxoutset"
                | "testmempoolaccept"
        )
}

/// Maps one HTTP answer (status and body bytes) to the typed result of `method` or the error:
/// 401 -> [`RpcError::Unauthorized`], an error envelope (HTTP 500, or 404 for an unknown method)
/// -> [`RpcError::Node`], any other non-200 -> [`RpcError::Http`], a result that does not parse
/// as `T` -> [`RpcError::Parse`]. Amounts are parsed from the body's exact number text.
pub fn parse_answer<T: DeserializeOwned>(
    method: &str,
    http_status: u16,
    body: &[u8],
) -> Result<T, RpcError> {
    let status = StatusCode::from_u16(http_status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::UNAUTHORIZED {
        return Err(RpcError::Unauthorized);
    }
    let http_error = || RpcError::Http {
        status: status.as_u16(),
        body: truncate(body),
    };
    let envelope: Envelope<'_> = match serde_json::from_slice(body) {
        Ok(envelope) => envelope,
        Err(source) if status == StatusCode::OK => {
            return Err(RpcError::Parse {
                method: method.to_owned(),
                source,
            })
        }
        Err(_) => return Err(http_error()),
    };
    if let Some(error) = envelope.error {
        return Err(RpcError::Node {
            method: method.to_owned(),
            code: error.code,
            message: error.message,
            http_status: status.as_u16(),
        });
    }
    if status != StatusCode::OK {
        return Err(http_error());
    }
    let text = envelope.result.map_or("null", RawValue::get);
    serde_json::from_str(text).map_err(|source| RpcError::Parse {
        method: method.to_owned(),
        source,
    })
}

async fn read_cookie(path: &PathBuf) -> Result<(String, String), RpcError> {
    let cookie_error = |reason: String| RpcError::Cookie {
        path: path.clone(),
        reason,
    };
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| cookie_error(e.to_string()))?;
    let line = text.trim_end_matches(['\r', '\n']);
    let (user, password) = line
        .split_once(':')
        .ok_or_else(|| cookie_error("expected `user:password`".into()))?;
    Ok((user.to_owned(), password.to_owned()))
}

fn truncate(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(512) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.into_owned(),
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn percent_decode(text: &str) -> String {
    fn hex_value(byte: u8) -> Option<u8> {
        (byte as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wallet_routing_builds_percent_encoded_paths() {
        let rpc = ElementsRpc::new("http://127.0.0.1:18884", Auth::None).unwrap();
        assert_eq!(rpc.url().as_str(), "http://127.0.0.1:18884/");
        assert_eq!(
            rpc.wallet("treasury").url().as_str(),
            "http://127.0.0.1:18884/wallet/treasury"
        );
        assert_eq!(
            rpc.wallet("my wallet/x").url().as_str(),
            "http://127.0.0.1:18884/wallet/my%20wallet%2Fx"
        );
        // Routing a wallet client to another wallet replaces the path, it does not nest.
        assert_eq!(
            rpc.wallet("a").wallet("b").url().as_str(),
            "http://127.0.0.1:18884/wallet/b"
        );
        assert_eq!(
            rpc.wallet("").url().as_str(),
            "http://127.0.0.1:18884/wallet/"
        );
    }

    #[test]
    fn credentials_move_from_the_url_to_auth() {
        let rpc = ElementsRpc::new("http://us%40er:p%3Ass@localhost:7041", Auth::None).unwrap();
        assert_eq!(rpc.url().as_str(), "http://localhost:7041/");
        assert_eq!(
            *rpc.auth,
            Auth::UserPass {
                user: "us@er".into(),
                password: "p:ss".into()
            }
        );
        let both = ElementsRpc::new(
            "http://u:p@localhost:7041",
            Auth::CookieFile("/tmp/.cookie".into()),
        );
        assert!(
            matches!(both, Err(RpcError::InvalidUrl { ref url, .. }) if url == "http://***@localhost:7041")
        );
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            ElementsRpc::new("localhost:7041", Auth::None),
            Err(RpcError::InvalidUrl { .. })
        ));
        assert!(matches!(
            ElementsRpc::new("ftp://localhost", Auth::None),
            Err(RpcError::InvalidUrl { .. })
        ));
        assert!(matches!(
            ElementsRpc::new("not a url", Auth::None),
            Err(RpcError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn auth_debug_hides_the_password() {
        let auth = Auth::UserPass {
            user: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{auth:?}").contains("secret"));
    }

    #[test]
    fn parse_answer_maps_statuses_and_envelopes() {
        let ok: u64 = parse_answer(
            "getblockcount",
            StatusCode::OK.as_u16(),
            br#"{"result":7,"error":null,"id":1}"#,
        )
        .unwrap();
        assert_eq!(ok, 7);
        let unit: () = parse_answer(
            "walletlock",
            StatusCode::OK.as_u16(),
            br#"{"result":null,"error":null,"id":1}"#,
        )
        .unwrap();
        assert_eq!(unit, ());
        let node = parse_answer::<Value>(
            "nosuchmethod",
            StatusCode::NOT_FOUND.as_u16(),
            br#"{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}"#,
        )
        .unwrap_err();
        assert!(node.is_method_not_found());
        assert!(matches!(
            node,
            RpcError::Node {
                http_status: 404,
                ..
            }
        ));
        let http = parse_answer::<Value>("x", StatusCode::SERVICE_UNAVAILABLE.as_u16(), b"busy")
            .unwrap_err();
        assert!(matches!(http, RpcError::Http { status: 503, ref body } if body == "busy"));
        let parse = parse_answer::<u64>(
            "getblockcount",
            StatusCode::OK.as_u16(),
            br#"{"result":"seven","error":null}"#,
        )
        .unwrap_err();
        assert!(matches!(parse, RpcError::Parse { .. }));
        let auth = parse_answer::<Value>("x", StatusCode::UNAUTHORIZED.as_u16(), b"").unwrap_err();
        assert!(matches!(auth, RpcError::Unauthorized));
    }
}
