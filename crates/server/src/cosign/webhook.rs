//! The issuer authorization webhook: POST the signed request to
//! `<issuer_authorization_endpoint>/issuerauthorizer` and read the answer. Only an HTTP 2xx
//! `{"result": true}` in time approves; anything else refuses the transfer. Redirects are never
//! followed, and unless `allow_private_outbound` the endpoint may not be (or resolve to) a
//! loopback, private or link-local address (see [`crate::outbound`]): such an endpoint is not
//! called and the transfer is refused as `issuer_authorization_unavailable`.

use amphora_core::policy::IssuerAuthorization;
use amphora_cosigner::{issuer_authorizer_url, read_issuer_authorization_response};

use super::CosignState;

/// Largest answer read from an endpoint; a longer one counts as garbage.
const MAX_ANSWER: usize = 64 * 1024;

/// Asks `endpoint` about one transfer with the signed `body` (see
/// `amphora_cosigner::authorizer`). Never fails: errors, timeouts and garbage are
/// [`IssuerAuthorization::Unavailable`], a well-formed refusal is
/// [`IssuerAuthorization::Rejected`].
pub(crate) async fn ask_issuer(
    cosign: &CosignState,
    endpoint: &str,
    body: String,
) -> IssuerAuthorization {
    let url = issuer_authorizer_url(endpoint);
    if let Err(e) = cosign.settings.outbound.check_url(&url) {
        tracing::warn!(%url, error = %e, "issuer authorization endpoint refused, not called");
        return IssuerAuthorization::Unavailable;
    }
    let request = cosign
        .http
        .post(&url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body);
    let answer = tokio::time::timeout(cosign.settings.authorizer_timeout, async {
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > MAX_ANSWER {
                return Ok::<_, reqwest::Error>((status, None));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, Some(bytes)))
    })
    .await;
    match answer {
        Ok(Ok((status, Some(bytes)))) => {
            let verdict = read_issuer_authorization_response(status, &bytes);
            tracing::info!(%url, status, ?verdict, "issuer authorization endpoint answered");
            verdict
        }
        Ok(Ok((status, None))) => {
            tracing::warn!(%url, status, "issuer authorization answer too large");
            IssuerAuthorization::Unavailable
        }
        Ok(Err(e)) => {
            tracing::warn!(%url, error = %e, "issuer authorization endpoint failed");
            IssuerAuthorization::Unavailable
        }
        Err(_) => {
            tracing::warn!(%url, "issuer authorization endpoint timed out");
            IssuerAuthorization::Unavailable
        }
    }
}
