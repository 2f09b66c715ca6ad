//! The Liquid Asset Registry: `GET /api/assets/{u}/register` (domain proof, contract
//! submission), `GET /api/assets/{u}/register-authorized` (after 2 confirmations) and the
//! platform's own registry, `GET /registry/{asset_id}`, which answers like Blockstream's.
//!
//! Registration checks that the stored contract is the one the issuance committed to (its
//! hash is the issuance input's entropy and, with the spent outpoint, gives the asset id),
//! reads `https://{domain}/.well-known/liquid-asset-proof-{asset_id}` (base overridable, see
//! [`crate::config::RegistryConfig`]), then submits `{asset_id, contract}` to the configured
//! registry or records the entry in the platform's own. A retried registration first asks the
//! external registry whether it already holds the asset with the same contract, so a crash
//! between submitting and recording never turns into a refusal.

use std::time::Duration;

use amphora_store::{Asset, Conflict, NewRegistration, OWN_REGISTRY};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Json;
use elements::hashes::sha256;
use elements::{AssetId, ContractHash, Transaction, Txid};
use serde_json::{json, Value};
use utoipa_axum::routes;

use crate::access::Rule;
use crate::config::RegistryTarget;
use crate::error::ApiError;
use crate::extract::{AuthIssuer, Path};
use crate::refusal::{FetchFailure, Outage, ProofUnread, Refusal};
use crate::router::Routes;
use crate::routes::asset_access::visible_asset;
use crate::routes::assets::AssetDto;
use crate::state::AppState;
use crate::verify::MIN_CONFIRMATIONS;

/// Longest wait for a domain proof or the external registry.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest domain proof read (the expected text is about 150 bytes).
const MAX_PROOF_BYTES: usize = 4096;

/// The registration routes under `/api` (issuers only).
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::IssuerOnly, routes!(register))
        .add(Rule::IssuerOnly, routes!(register_authorized))
}

/// Routes at the root: the platform's own registry.
pub fn public_routes() -> Routes {
    Routes::new().add(Rule::Anonymous, routes!(entry))
}

/// The text the domain proof must hold (trailing whitespace aside).
pub fn proof_text(domain: &str, asset_id: &str) -> String {
    format!("Authorize linking the domain name {domain} to the Liquid asset {asset_id}")
}

/// Registers the asset with the Liquid Asset Registry after checking its domain proof.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/register", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The asset, `is_registered: true`", body = AssetDto),
        (status = 400, description = "`{\"Error\": …}`: domain proof missing or wrong, the \
            registry refused the contract, or `The asset is already registered.`"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
        (status = 503, description = "The external registry is unreachable"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<AssetDto>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    if asset.is_registered {
        return Err(Conflict::AlreadyRegistered.into());
    }
    let entry = registry_entry(&asset)?;
    let asset_id = entry["asset_id"].as_str().unwrap_or_default().to_string();
    check_domain_proof(&state, &asset.issuance.domain, &asset_id).await?;
    let registry = match &state.registry().target {
        RegistryTarget::Own => OWN_REGISTRY.to_string(),
        RegistryTarget::Remote(url) => {
            submit(&registry_client()?, url, &asset_id, &entry["contract"]).await?;
            url.clone()
        }
    };
    let registration = NewRegistration {
        asset_uuid: uuid,
        asset_id,
        registry,
        entry_json: entry.to_string(),
    };
    let asset = state
        .store()
        .record_registration(auth.issuer.id, &registration)
        .await?;
    Ok(Json(asset.into()))
}

/// Authorizes the asset once its issuance has at least 2 confirmations.
#[utoipa::path(get, path = "/api/assets/{asset_uuid}/register-authorized", tag = "assets",
    security(("token" = [])),
    params(("asset_uuid" = String, Path, description = "Asset UUID")),
    responses(
        (status = 200, description = "The asset, `is_authorized: true`", body = AssetDto),
        (status = 400, description = "`{\"Error\": …}`: the issuance has fewer than 2 \
            confirmations"),
        (status = 401, description = "Missing, invalid or expired token"),
        (status = 404, description = "No such asset"),
        (status = 503, description = "No Elements node, or it cannot be reached"),
    ))]
pub async fn register_authorized(
    State(state): State<AppState>,
    auth: AuthIssuer,
    Path(uuid): Path<String>,
) -> Result<Json<AssetDto>, ApiError> {
    let asset = visible_asset(&state, &auth, &uuid).await?;
    let txid: Txid = issuance_tx(&asset)?
        .txid
        .parse()
        .map_err(|e| ApiError::Internal(format!("stored issuance txid: {e}")))?;
    let confirmations = crate::verify::confirmations(&state, &txid).await?;
    if confirmations < u64::from(MIN_CONFIRMATIONS) {
        return Err(Refusal::AuthorizeTooEarly {
            txid,
            confirmations,
        }
        .into());
    }
    let asset = state
        .store()
        .set_asset_authorized(auth.issuer.id, &uuid)
        .await?;
    Ok(Json(asset.into()))
}

/// The platform's own registry entry of an asset (the shape of Blockstream's registry:
/// `asset_id`, `contract`, `issuance_txin`, `issuance_prevout`, `name`, `ticker`, `precision`,
/// `entity`, `version`, `issuer_pubkey`).
#[utoipa::path(get, path = "/registry/{asset_id}", tag = "registry",
    params(("asset_id" = String, Path, pattern = "^[0-9a-f]{64}$",
        description = "Asset id (64 lower-case hex)")),
    responses(
        (status = 200, description = "The registry entry", body = Object),
        (status = 400, description = "Not a 64-hex asset id"),
        (status = 404, description = "The platform did not register this asset"),
    ))]
pub async fn entry(
    State(state): State<AppState>,
    Path(asset_id): Path<String>,
) -> Result<Response, ApiError> {
    let valid = asset_id.len() == 64
        && asset_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid {
        return Err(ApiError::field(
            "asset_id",
            "Enter an asset id: 64 lower-case hex characters.",
        ));
    }
    let entry = state
        .store()
        .own_registry_entry(&asset_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(([(CONTENT_TYPE, "application/json")], entry).into_response())
}

fn issuance_tx(asset: &Asset) -> Result<&amphora_store::IssuanceTx, ApiError> {
    asset
        .tx
        .as_ref()
        .ok_or_else(|| ApiError::Internal(format!("asset {} has no issuance", asset.issuance.uuid)))
}

/// The registry record of an issued asset, after checking that the stored contract is the one
/// the issuance committed to (contract hash = issuance entropy; asset id = f(prevout, hash)).
pub fn registry_entry(asset: &Asset) -> Result<Value, ApiError> {
    let inconsistent = |what: String| {
        ApiError::Internal(format!(
            "asset {}: {what}; refusing to register",
            asset.issuance.uuid
        ))
    };
    let issued = issuance_tx(asset)?;
    let contract_json = &asset.issuance.contract_json;
    let contract: Value = serde_json::from_str(contract_json)
        .map_err(|e| inconsistent(format!("stored contract is not JSON: {e}")))?;
    let digest = sha256::Hash::hash(contract_json.as_bytes());
    let contract_hash = ContractHash::from_byte_array(digest.to_byte_array());
    if contract_hash.to_string() != asset.issuance.contract_hash {
        return Err(inconsistent(format!(
            "stored contract hashes to {contract_hash}, not {}",
            asset.issuance.contract_hash
        )));
    }
    let bytes = hex::decode(&issued.tx_hex)
        .map_err(|e| inconsistent(format!("stored issuance transaction: {e}")))?;
    let tx: Transaction = elements::encode::deserialize(&bytes)
        .map_err(|e| inconsistent(format!("stored issuance transaction: {e}")))?;
    let input = usize::try_from(issued.vin)
        .ok()
        .and_then(|vin| tx.input.get(vin))
        .ok_or_else(|| inconsistent(format!("no issuance input {}", issued.vin)))?;
    if input.asset_issuance.asset_entropy.to_byte_array() != contract_hash.to_byte_array() {
        return Err(inconsistent(
            "the issuance input does not commit to the contract".to_string(),
        ));
    }
    let asset_id = AssetId::new_issuance(input.previous_output, contract_hash);
    if asset_id.to_string() != issued.asset_id {
        return Err(inconsistent(format!(
            "the issuance gives asset {asset_id}, not {}",
            issued.asset_id
        )));
    }
    let mut entry = json!({
        "asset_id": asset_id.to_string(),
        "contract": contract,
        "issuance_txin": { "txid": tx.txid().to_string(), "vin": issued.vin },
        "issuance_prevout": {
            "txid": input.previous_output.txid.to_string(),
            "vout": input.previous_output.vout,
        },
    });
    for key in [
        "name",
        "ticker",
        "precision",
        "entity",
        "version",
        "issuer_pubkey",
    ] {
        entry[key] = contract.get(key).cloned().unwrap_or(Value::Null);
    }
    Ok(entry)
}

/// The client of the configured external registry (a target the operator chose, not an
/// issuer: not restricted by the outbound policy).
fn registry_client() -> Result<reqwest::Client, ApiError> {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
        .map_err(|e| ApiError::Internal(format!("HTTP client: {e}")))
}

/// Reads the domain proof and compares it with the expected text (400 when missing or wrong).
///
/// The domain is the issuer's, so the fetch goes through the outbound policy: unless
/// `allow_private_outbound`, no loopback, private or link-local target (checked at connect
/// time by the resolver, IP literals before the request); redirects only to `https://` targets
/// that pass the same checks, at most 3. The answer's status and body are never shown to the
/// caller, only whether the expected file was there.
async fn check_domain_proof(
    state: &AppState,
    domain: &str,
    asset_id: &str,
) -> Result<(), ApiError> {
    let url = state.registry().proof_url(domain, asset_id);
    let expected = proof_text(domain, asset_id);
    let missing = |why: ProofUnread| {
        ApiError::from(Refusal::DomainProofUnread {
            url: url.clone(),
            why,
            expected: expected.clone(),
        })
    };
    let outbound = state.outbound();
    if let Err(e) = outbound.check_url(&url) {
        return Err(missing(ProofUnread::Fetch(FetchFailure::Address(e))));
    }
    let http = outbound.client(HTTP_TIMEOUT, outbound.https_redirects(3));
    let response = http.get(&url).send().await.map_err(|e| {
        tracing::info!(%url, error = %e, "domain proof fetch failed");
        missing(ProofUnread::Fetch(describe(&e)))
    })?;
    if !response.status().is_success() {
        tracing::info!(%url, status = %response.status(), "domain proof not served");
        return Err(missing(ProofUnread::NotServed));
    }
    let body = read_limited(response, MAX_PROOF_BYTES)
        .await
        .map_err(|e| missing(ProofUnread::Fetch(describe(&e))))?;
    let text = String::from_utf8_lossy(&body);
    if text.trim_end() != expected {
        return Err(Refusal::DomainProofWrong { url, expected }.into());
    }
    Ok(())
}

/// Submits `{asset_id, contract}` to the external registry, unless it already holds the asset
/// with this contract (a retried registration).
async fn submit(
    http: &reqwest::Client,
    registry: &str,
    asset_id: &str,
    contract: &Value,
) -> Result<(), ApiError> {
    let unreachable = |e: reqwest::Error| {
        tracing::warn!(%registry, error = %e, "the asset registry cannot be reached");
        ApiError::from(Outage::RegistryUnreachable {
            registry: registry.to_string(),
            why: describe(&e),
        })
    };
    let known = http
        .get(format!("{registry}/{asset_id}"))
        .send()
        .await
        .map_err(unreachable)?;
    if known.status().is_success() {
        if let Ok(existing) = known.json::<Value>().await {
            if existing.get("contract") == Some(contract) {
                return Ok(());
            }
        }
    }
    let body = json!({ "asset_id": asset_id, "contract": contract });
    let response = http
        .post(format!("{registry}/"))
        .json(&body)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let detail = read_limited(response, 512).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&detail).trim().to_string();
    if status.is_server_error() {
        tracing::warn!(%registry, %status, %detail, "the asset registry failed");
        return Err(Outage::RegistryFailed {
            registry: registry.to_string(),
            status: status.as_u16(),
        }
        .into());
    }
    Err(Refusal::RegistryRefused {
        registry: registry.to_string(),
        status: status.as_u16(),
        detail,
    }
    .into())
}

/// The body, cut at `limit` bytes.
async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    Ok(body)
}

/// A fixed description of a failed fetch: what kind of failure, never the remote's words.
fn describe(error: &reqwest::Error) -> FetchFailure {
    use std::error::Error as _;
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<crate::outbound::OutboundError>() {
            return FetchFailure::Address(refused.clone());
        }
        source = cause.source();
    }
    if error.is_timeout() {
        FetchFailure::TimedOut
    } else if error.is_redirect() {
        FetchFailure::Redirected
    } else if error.is_connect() {
        FetchFailure::Unreachable
    } else {
        FetchFailure::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proof_text_is_the_registry_rule() {
        assert_eq!(
            proof_text("example.com", "ab12"),
            "Authorize linking the domain name example.com to the Liquid asset ab12"
        );
    }
}
