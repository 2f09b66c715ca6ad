//! The Amphora platform as the wallet sees it: the AMP2 endpoints (`/amp2/info/xpub`,
//! `/amp2/wallets/register`, `/amp2/wallets/sign`) and the asset registry (tickers).

use std::fmt;
use std::time::Duration;

use amphora_core::policy::ReasonCode;
use elements::pset::PartiallySignedTransaction;
use elements::AssetId;
use serde::{Deserialize, Serialize};

use crate::error::{Result, WalletError};

/// How long one platform request may take (co-signing may call the issuer's endpoint).
const TIMEOUT: Duration = Duration::from_secs(60);

/// Why the platform refused to co-sign: `{"error": "...", "reasons": ["code", ...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// HTTP status of the answer.
    pub status: u16,
    /// The platform's message.
    pub error: String,
    /// Policy reason codes (`asset_locked`, `recipient_unknown`, ...); empty when the request
    /// itself was rejected.
    #[serde(default)]
    pub reasons: Vec<String>,
}

impl Refusal {
    /// A human explanation of a reason code (the code itself if unknown to this version).
    pub fn explain(code: &str) -> String {
        match serde_json::from_value::<ReasonCode>(serde_json::Value::String(code.to_string())) {
            Ok(reason) => reason.message().to_string(),
            Err(_) => code.to_string(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the platform refused to co-sign the transfer (HTTP {}): {}",
            self.status, self.error
        )?;
        for code in &self.reasons {
            let text = Refusal::explain(code);
            if text == *code {
                write!(f, "\n  - {code}")?;
            } else {
                write!(f, "\n  - {text} ({code})")?;
            }
        }
        Ok(())
    }
}

/// The platform's answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisterAnswer {
    /// The wallet id (ELIP-152 `dwid` of the descriptor).
    pub wid: String,
    /// The GAID assigned, when the platform returns it.
    #[serde(default)]
    pub gaid: Option<String>,
}

/// What the registry knows about an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetInfo {
    /// The asset id.
    pub asset_id: AssetId,
    /// The ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// The name.
    #[serde(default)]
    pub name: Option<String>,
    /// Decimal places of the display unit.
    #[serde(default)]
    pub precision: u8,
}

#[derive(Deserialize)]
struct XpubAnswer {
    keyorigin_xpub: String,
}

#[derive(Serialize, Deserialize)]
struct PsetBody {
    pset: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    reasons: Vec<String>,
}

/// An HTTP client for one platform.
#[derive(Debug, Clone)]
pub struct PlatformClient {
    base: String,
    registry: String,
    http: reqwest::Client,
}

/// Checks a base URL and removes its trailing slashes.
pub fn normalize_url(url: &str, what: &str) -> Result<String> {
    let trimmed = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(trimmed)
        .map_err(|e| WalletError::InvalidInput(format!("invalid {what} URL '{url}': {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(WalletError::InvalidInput(format!(
            "invalid {what} URL '{url}': the scheme must be http or https"
        )));
    }
    Ok(trimmed.to_string())
}

impl PlatformClient {
    /// A client for the platform at `url`; the registry is `registry` or `<url>/registry`.
    pub fn new(url: &str, registry: Option<&str>) -> Result<Self> {
        let base = normalize_url(url, "platform")?;
        let registry = match registry {
            Some(r) => normalize_url(r, "registry")?,
            None => format!("{base}/registry"),
        };
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| WalletError::Platform {
                url: base.clone(),
                reason: e.to_string(),
            })?;
        Ok(PlatformClient {
            base,
            registry,
            http,
        })
    }

    /// The platform's base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET /amp2/info/xpub`: the key-origin xpub wallets are co-signed with.
    pub async fn server_xpub(&self) -> Result<String> {
        let url = format!("{}/amp2/info/xpub", self.base);
        let response = self.send(self.http.get(&url), &url).await?;
        let answer: XpubAnswer = self.json(response, &url).await?;
        Ok(answer.keyorigin_xpub)
    }

    /// `POST /amp2/wallets/register {"descriptor"}`.
    pub async fn register(&self, descriptor: &str) -> Result<RegisterAnswer> {
        let url = format!("{}/amp2/wallets/register", self.base);
        let body = serde_json::json!({ "descriptor": descriptor });
        let response = self.send(self.http.post(&url).json(&body), &url).await?;
        self.json(response, &url).await
    }

    /// `POST /amp2/wallets/sign {"pset"}`: the PSET with the platform's signatures, or
    /// [`WalletError::Refused`] with the platform's reasons.
    pub async fn cosign(
        &self,
        pset: &PartiallySignedTransaction,
    ) -> Result<PartiallySignedTransaction> {
        let url = format!("{}/amp2/wallets/sign", self.base);
        let body = PsetBody {
            pset: pset.to_string(),
        };
        let response =
            self.http
                .post(&url)
                .json(&body)
                .send()
                .await
                .map_err(|e| WalletError::Platform {
                    url: url.clone(),
                    reason: describe(&e),
                })?;
        let status = response.status();
        if matches!(status.as_u16(), 404 | 405) {
            return Err(WalletError::Platform {
                url,
                reason: format!(
                    "HTTP {}: this platform does not co-sign transfers (no /amp2/wallets/sign)",
                    status.as_u16()
                ),
            });
        }
        if status.is_client_error() {
            let text = response.text().await.unwrap_or_default();
            return Err(WalletError::Refused(refusal_from_body(
                status.as_u16(),
                &text,
            )));
        }
        let answer: PsetBody = self.json(response, &url).await?;
        answer.pset.parse().map_err(|e| WalletError::Platform {
            url,
            reason: format!("the returned PSET does not decode: {e}"),
        })
    }

    /// The registry entry of `asset`, `None` if the registry does not know it.
    pub async fn asset_info(&self, asset: &AssetId) -> Result<Option<AssetInfo>> {
        let url = format!("{}/{asset}", self.registry);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| WalletError::Platform {
                url: url.clone(),
                reason: describe(&e),
            })?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let info: AssetInfo = self.json(response, &url).await?;
        if info.asset_id != *asset {
            return Err(WalletError::Platform {
                url,
                reason: format!("the registry answered for asset {}", info.asset_id),
            });
        }
        Ok(Some(info))
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: &str) -> Result<reqwest::Response> {
        let response = request.send().await.map_err(|e| WalletError::Platform {
            url: url.to_string(),
            reason: describe(&e),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let reason = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => format!("HTTP {}: {}", status.as_u16(), body.error),
            Err(_) => format!("HTTP {}: {}", status.as_u16(), snippet(&text)),
        };
        Err(WalletError::Platform {
            url: url.to_string(),
            reason,
        })
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        response: reqwest::Response,
        url: &str,
    ) -> Result<T> {
        let status = response.status();
        let text = response.text().await.map_err(|e| WalletError::Platform {
            url: url.to_string(),
            reason: describe(&e),
        })?;
        if !status.is_success() {
            return Err(WalletError::Platform {
                url: url.to_string(),
                reason: format!("HTTP {}: {}", status.as_u16(), snippet(&text)),
            });
        }
        serde_json::from_str(&text).map_err(|e| WalletError::Platform {
            url: url.to_string(),
            reason: format!("unexpected answer ({e}): {}", snippet(&text)),
        })
    }
}

/// Reads a 4xx answer of `/amp2/wallets/sign`.
pub fn refusal_from_body(status: u16, text: &str) -> Refusal {
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(body) => Refusal {
            status,
            error: body.error,
            reasons: body.reasons,
        },
        Err(_) => Refusal {
            status,
            error: if text.trim().is_empty() {
                "no explanation given".to_string()
            } else {
                snippet(text)
            },
            reasons: Vec::new(),
        },
    }
}

fn snippet(text: &str) -> String {
    let t: String = text.trim().chars().take(300).collect();
    if t.is_empty() {
        "(empty body)".to_string()
    } else {
        t
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "cannot connect (is the platform running?)".to_string()
    } else if e.is_timeout() {
        "no answer in time".to_string()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_lists_every_reason_in_words() {
        let r = refusal_from_body(
            403,
            r#"{"error":"transfer refused","reasons":["recipient_missing_category","asset_locked","brand_new_code"]}"#,
        );
        assert_eq!(r.reasons.len(), 3);
        let text = r.to_string();
        assert!(text.starts_with(
            "the platform refused to co-sign the transfer (HTTP 403): transfer refused"
        ));
        assert!(text.contains(
            "\n  - a recipient is not in every category the asset requires (recipient_missing_category)"
        ));
        assert!(text.contains("\n  - the asset is locked by its issuer (asset_locked)"));
        assert!(text.ends_with("\n  - brand_new_code"));
    }

    #[test]
    fn refusal_without_json_keeps_the_body() {
        let r = refusal_from_body(400, "bad pset");
        assert_eq!(r.error, "bad pset");
        assert!(r.reasons.is_empty());
        assert_eq!(refusal_from_body(400, "  ").error, "no explanation given");
    }

    #[test]
    fn refusal_json_shape() {
        let r = refusal_from_body(403, r#"{"error":"no","reasons":["asset_locked"]}"#);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({"status": 403, "error": "no", "reasons": ["asset_locked"]})
        );
    }

    #[test]
    fn urls_are_checked_and_trimmed() {
        let c = PlatformClient::new("http://127.0.0.1:8080/", None).unwrap();
        assert_eq!(c.url(), "http://127.0.0.1:8080");
        assert_eq!(c.registry, "http://127.0.0.1:8080/registry");
        assert!(PlatformClient::new("ftp://x", None).is_err());
        assert!(PlatformClient::new("not a url", None).is_err());
        let c = PlatformClient::new("http://p", Some("https://assets.example/")).unwrap();
        assert_eq!(c.registry, "https://assets.example");
    }

    #[test]
    fn register_answer_with_and_without_gaid() {
        let a: RegisterAnswer = serde_json::from_str(r#"{"wid":"ab-cd"}"#).unwrap();
        assert_eq!(a.gaid, None);
        let a: RegisterAnswer = serde_json::from_str(r#"{"wid":"ab-cd","gaid":"GAxyz"}"#).unwrap();
        assert_eq!(a.gaid.as_deref(), Some("GAxyz"));
    }
}
