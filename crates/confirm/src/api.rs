//! [`AmpApi`]: the platform endpoints the confirm client calls (AMP API §3), over reqwest.
//!
//! URLs are built like the official script builds them: `base_url` is a format string with one
//! `{}` (e.g. `https://amp.example.org/api/{}`) replaced by the endpoint path. After
//! [`AmpApi::obtain_token`] every request carries `Authorization: token <token>`.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Default timeout of one platform request.
pub const API_TIMEOUT: Duration = Duration::from_secs(60);

/// Errors talking to the platform.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `base_url` is not a format string with one `{}`.
    #[error(
        "invalid base_url {0:?}: it must be the API root ending in /{{}}, \
         e.g. https://amp.example.org/api/{{}}"
    )]
    BaseUrl(String),
    /// The HTTP client could not be built.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// The platform could not be reached.
    #[error("cannot reach the platform at {url}: {source}")]
    Transport {
        /// The URL.
        url: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The platform answered with an unexpected status.
    #[error("{endpoint} answered HTTP {status}: {body}")]
    Status {
        /// The endpoint path.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The body (truncated).
        body: String,
    },
    /// The answer is not the JSON the endpoint returns.
    #[error("cannot parse the answer of {endpoint}: {reason}")]
    Parse {
        /// The endpoint path.
        endpoint: String,
        /// What is wrong.
        reason: String,
    },
    /// The login answer carries no token.
    #[error("user/obtain_token answered without a token")]
    NoToken,
}

impl ApiError {
    /// The HTTP status, when the platform answered with an unexpected one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// `GET assets/{u}/balance`: only `lost_outputs` matters to the client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct AssetBalance {
    /// Outputs the platform tracked that were spent by a transaction it could not attribute.
    pub lost_outputs: Vec<Value>,
}

/// `GET assets/{u}/burn-requests/{id}`, as far as the client reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BurnRequestState {
    /// `"requested"` or `"confirmed"`.
    pub status: String,
    /// The burn that completed it, once one did.
    #[serde(default)]
    pub txid: Option<String>,
    /// When the request was made (RFC 3339).
    pub created: String,
}

/// One entry of `GET assets/{u}/burns`, as far as the client reads it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RecordedBurn {
    /// The burn transaction.
    pub txid: String,
}

/// `GET assets/{u}/treasury-view-key`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
struct TreasuryViewKeyState {
    registered: bool,
}

/// The fields of one `GET assets/{u}/assignments` entry the client checks.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssignmentStatus {
    /// Distribution the assignment is part of, once one was created.
    pub distribution_uuid: Option<String>,
    /// Whether its distribution transaction was confirmed.
    pub is_distributed: bool,
}

/// One output of a `GET assets/{u}/txs` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssetTxOutput {
    /// Output index.
    pub vout: u32,
    /// Asset blinder the platform knows (`"00"*32` when it does not).
    pub asset_blinder: String,
}

/// One `GET assets/{u}/txs` entry (the first one is the issuance).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssetTx {
    /// Transaction id.
    pub txid: String,
    /// Its outputs of the asset.
    pub outputs: Vec<AssetTxOutput>,
}

/// `POST assets/{u}/update-blinders` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlinderUpdate {
    /// Issuance transaction.
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// Asset blinding factor (hex).
    pub asset_blinder: String,
    /// Amount blinding factor (hex).
    pub amount_blinder: String,
}

#[derive(Serialize)]
struct Login<'a> {
    username: &'a str,
    password: &'a str,
}

#[derive(Deserialize)]
struct Token {
    token: Option<String>,
}

/// A client of the platform's confirm-related endpoints.
#[derive(Debug, Clone)]
pub struct AmpApi {
    http: reqwest::Client,
    base_url: String,
    token: Option<String>,
}

impl AmpApi {
    /// A client for `base_url` (a format string with one `{}`, as in the request files).
    pub fn new(base_url: &str) -> Result<Self, ApiError> {
        if base_url.matches("{}").count() != 1 {
            return Err(ApiError::BaseUrl(base_url.to_owned()));
        }
        let probe = base_url.replace("{}", "x");
        match reqwest::Url::parse(&probe) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => {}
            _ => return Err(ApiError::BaseUrl(base_url.to_owned())),
        }
        let mut builder = reqwest::Client::builder().timeout(API_TIMEOUT);
        if is_onion(&probe) {
            // As the official script: .onion platforms go through the local Tor SOCKS proxy.
            let proxy = reqwest::Proxy::all("socks5h://localhost:9050")
                .map_err(|e| ApiError::Setup(e.to_string()))?;
            builder = builder.proxy(proxy);
        }
        let http = builder
            .build()
            .map_err(|e| ApiError::Setup(e.to_string()))?;
        Ok(AmpApi {
            http,
            base_url: base_url.to_owned(),
            token: None,
        })
    }

    /// The URL of `path` (e.g. `assets/<uuid>/balance`).
    pub fn url(&self, path: &str) -> String {
        self.base_url.replacen("{}", path, 1)
    }

    /// `POST user/obtain_token {username, password}`; later requests use the token.
    pub async fn obtain_token(&mut self, username: &str, password: &str) -> Result<(), ApiError> {
        let token: Token = self
            .send_json(
                reqwest::Method::POST,
                "user/obtain_token",
                Some(&Login { username, password }),
            )
            .await?;
        match token.token {
            Some(token) if !token.is_empty() => {
                self.token = Some(token);
                Ok(())
            }
            _ => Err(ApiError::NoToken),
        }
    }

    /// `GET assets/{u}/balance`.
    pub async fn balance(&self, asset_uuid: &str) -> Result<AssetBalance, ApiError> {
        let path = format!("assets/{asset_uuid}/balance");
        self.send_json(reqwest::Method::GET, &path, None::<&()>)
            .await
    }

    /// `GET assets/{u}/assignments`.
    pub async fn assignments(&self, asset_uuid: &str) -> Result<Vec<AssignmentStatus>, ApiError> {
        let path = format!("assets/{asset_uuid}/assignments");
        self.send_json(reqwest::Method::GET, &path, None::<&()>)
            .await
    }

    /// `GET assets/{u}/txs`.
    pub async fn asset_txs(&self, asset_uuid: &str) -> Result<Vec<AssetTx>, ApiError> {
        let path = format!("assets/{asset_uuid}/txs");
        self.send_json(reqwest::Method::GET, &path, None::<&()>)
            .await
    }

    /// `POST assets/{u}/distributions/{d}/confirm` (must answer 200).
    pub async fn confirm_distribution(
        &self,
        asset_uuid: &str,
        distribution_uuid: &str,
        body: &impl Serialize,
    ) -> Result<(), ApiError> {
        let path = format!("assets/{asset_uuid}/distributions/{distribution_uuid}/confirm");
        self.post_ok(&path, body).await
    }

    /// `GET assets/{u}/payouts/{p}`: the payout's status (`UNCONFIRMED`, `CONFIRMED`).
    pub async fn payout_status(
        &self,
        asset_uuid: &str,
        payout_uuid: &str,
    ) -> Result<String, ApiError> {
        #[derive(serde::Deserialize)]
        struct Status {
            payout_status: String,
        }
        let path = format!("assets/{asset_uuid}/payouts/{payout_uuid}");
        let status: Status = self
            .send_json(reqwest::Method::GET, &path, None::<&()>)
            .await?;
        Ok(status.payout_status)
    }

    /// `POST assets/{u}/payouts/{p}/confirm` (must answer 200).
    pub async fn confirm_payout(
        &self,
        asset_uuid: &str,
        payout_uuid: &str,
        body: &impl Serialize,
    ) -> Result<(), ApiError> {
        let path = format!("assets/{asset_uuid}/payouts/{payout_uuid}/confirm");
        self.post_ok(&path, body).await
    }

    /// `POST assets/{u}/reissue-confirm` (must answer 200).
    pub async fn confirm_reissue(
        &self,
        asset_uuid: &str,
        body: &impl Serialize,
    ) -> Result<(), ApiError> {
        self.post_ok(&format!("assets/{asset_uuid}/reissue-confirm"), body)
            .await
    }

    /// `POST assets/{u}/burn-confirm` (must answer 200).
    pub async fn confirm_burn(
        &self,
        asset_uuid: &str,
        body: &impl Serialize,
    ) -> Result<(), ApiError> {
        self.post_ok(&format!("assets/{asset_uuid}/burn-confirm"), body)
            .await
    }

    /// `GET assets/{u}/burn-requests/{id}` (an Amphora route): the burn request's state.
    pub async fn burn_request_state(
        &self,
        asset_uuid: &str,
        burn_request_id: i64,
    ) -> Result<BurnRequestState, ApiError> {
        let path = format!("assets/{asset_uuid}/burn-requests/{burn_request_id}");
        self.send_json(reqwest::Method::GET, &path, None::<&()>)
            .await
    }

    /// `GET assets/{u}/burns` (an Amphora route): the burns the platform recorded.
    pub async fn recorded_burns(&self, asset_uuid: &str) -> Result<Vec<RecordedBurn>, ApiError> {
        let path = format!("assets/{asset_uuid}/burns");
        self.send_json(reqwest::Method::GET, &path, None::<&()>)
            .await
    }

    /// `GET assets/{u}/treasury-view-key`: whether the platform holds the treasury's view key
    /// (an Amphora route; Blockstream AMP answers 404).
    pub async fn treasury_view_key_registered(&self, asset_uuid: &str) -> Result<bool, ApiError> {
        let path = format!("assets/{asset_uuid}/treasury-view-key");
        let state: TreasuryViewKeyState = self
            .send_json(reqwest::Method::GET, &path, None::<&()>)
            .await?;
        Ok(state.registered)
    }

    /// `PUT assets/{u}/treasury-view-key` with the treasury wallet's master blinding key.
    pub async fn put_treasury_view_key(
        &self,
        asset_uuid: &str,
        view_key: &str,
    ) -> Result<(), ApiError> {
        let path = format!("assets/{asset_uuid}/treasury-view-key");
        self.send(
            reqwest::Method::PUT,
            &path,
            Some(&serde_json::json!({ "view_key": view_key })),
        )
        .await
        .map(|_| ())
    }

    /// `POST assets/{u}/update-blinders` (must answer 200).
    pub async fn update_blinders(
        &self,
        asset_uuid: &str,
        update: &BlinderUpdate,
    ) -> Result<(), ApiError> {
        self.post_ok(&format!("assets/{asset_uuid}/update-blinders"), update)
            .await
    }

    async fn post_ok(&self, path: &str, body: &impl Serialize) -> Result<(), ApiError> {
        self.send(reqwest::Method::POST, path, Some(body))
            .await
            .map(|_| ())
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ApiError> {
        let text = self.send(method, path, body).await?;
        serde_json::from_str(&text).map_err(|e| ApiError::Parse {
            endpoint: path.to_owned(),
            reason: e.to_string(),
        })
    }

    /// One request; the body text of a 200 answer.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<String, ApiError> {
        let url = self.url(path);
        let mut request = self.http.request(method, &url);
        if let Some(token) = &self.token {
            request = request.header(reqwest::header::AUTHORIZATION, format!("token {token}"));
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |source| ApiError::Transport {
            url: url.clone(),
            source,
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let text = response.text().await.map_err(transport)?;
        if status != reqwest::StatusCode::OK {
            return Err(ApiError::Status {
                endpoint: path.to_owned(),
                status: status.as_u16(),
                body: truncate(&text, 512),
            });
        }
        Ok(text)
    }
}

fn is_onion(url: &str) -> bool {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| h.ends_with(".onion")))
        .unwrap_or(false)
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_must_be_a_format_string() {
        let api = AmpApi::new("https://amp.example.org/api/{}").unwrap();
        assert_eq!(
            api.url("assets/u/balance"),
            "https://amp.example.org/api/assets/u/balance"
        );
        for bad in [
            "https://amp.example.org/api",
            "https://amp.example.org/api/{}/{}",
            "ftp://amp.example.org/{}",
            "not a url {}",
        ] {
            assert!(
                matches!(AmpApi::new(bad), Err(ApiError::BaseUrl(_))),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn onion_hosts_are_recognised() {
        assert!(is_onion("http://abcdef.onion/api/x"));
        assert!(!is_onion("https://amp.example.org/api/x"));
    }

    #[test]
    fn long_bodies_are_truncated_on_a_char_boundary() {
        let text = "é".repeat(400);
        let cut = truncate(&text, 511);
        assert!(cut.ends_with('…'));
        assert!(cut.len() <= 511 + '…'.len_utf8());
    }
}
