//! The AMP2 co-signer endpoints LWK's `lwk_wollet::amp2::Amp2` client calls (under `/amp2`):
//! the platform's public key, wallet registration and co-signing, plus the public key issuers
//! use to verify the platform's authorization requests. Errors are `{"error": "…"}` (co-signing
//! refusals add `"reasons": [codes]`).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Rule;
use crate::error::ApiError;
use crate::extract::RawBody;
use crate::refusal::Amp2Refusal;
use crate::router::Routes;
use crate::state::AppState;

/// The AMP2 routes, all anonymous (LWK's client sends no token); registration and signing
/// are rate limited per client address before anything else runs (see [`crate::rate_limit`]).
pub fn routes() -> Routes {
    Routes::new()
        .add(Rule::Anonymous, routes!(xpub))
        .add(Rule::Anonymous, routes!(xpub_master))
        .add(Rule::Anonymous, routes!(authorizer))
        .merge(
            Routes::new()
                .add(Rule::Anonymous, routes!(register))
                .add(Rule::Anonymous, routes!(sign))
                .wrapped(|handlers, state| {
                    handlers.route_layer(axum::middleware::from_fn_with_state(
                        state.clone(),
                        crate::rate_limit::per_address,
                    ))
                }),
        )
}

/// A public key with its origin, `[fingerprint/path]xpub`.
#[derive(Debug, Serialize, ToSchema)]
pub struct XpubResponse {
    /// Key-origin extended public key.
    pub keyorigin_xpub: String,
}

/// `POST /amp2/wallets/register` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterWallet {
    /// `ct(<view key>,elwsh(multi(2,<platform key>/<0;1>/*,<user key>/<0;1>/*)))` with ELIP-153
    /// derivation paths.
    pub descriptor: String,
}

/// `POST /amp2/wallets/register` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterWalletResponse {
    /// Wallet id (ELIP-152 `dwid` of the descriptor).
    pub wid: String,
    /// The GAID assigned to the wallet; issuers use it to add the wallet's owner as a
    /// registered user.
    pub gaid: String,
}

/// The platform's co-signing account key (BIP87 `m/87h/<coin>h/0h`).
#[utoipa::path(get, path = "/amp2/info/xpub", tag = "amp2",
    responses((status = 200, description = "Account key", body = XpubResponse)))]
pub async fn xpub(State(state): State<AppState>) -> Json<XpubResponse> {
    Json(XpubResponse {
        keyorigin_xpub: state.key().xpub_info().keyorigin_xpub,
    })
}

/// The platform's master public key.
#[utoipa::path(get, path = "/amp2/info/xpub-master", tag = "amp2",
    responses((status = 200, description = "Master key", body = XpubResponse)))]
pub async fn xpub_master(State(state): State<AppState>) -> Json<XpubResponse> {
    Json(XpubResponse {
        keyorigin_xpub: state.key().master_xpub_info().keyorigin_xpub,
    })
}

/// Registers an AMP2 wallet co-signed by this platform. Registering the same descriptor again
/// returns the same wallet id. No token; rate limited per client address and per wallet (429
/// with `Retry-After`).
#[utoipa::path(post, path = "/amp2/wallets/register", tag = "amp2",
    request_body = RegisterWallet,
    responses(
        (status = 200, description = "Registered", body = RegisterWalletResponse),
        (status = 400, description = "Not an AMP2 2-of-2 descriptor of this platform (`{\"error\": …}`), or a body that is not `{\"descriptor\": string}` (`reasons: [\"request_invalid\"]`)"),
        (status = 429, description = "Rate limited (`{\"error\": …}`, `Retry-After`)"),
    ))]
pub async fn register(
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<Json<RegisterWalletResponse>, ApiError> {
    let request: RegisterWallet = serde_json::from_slice(&body).map_err(|e| {
        state.amp2_limiter().undecodable();
        ApiError::Amp2Refused {
            error: format!("the body must be a JSON object {{\"descriptor\": \"ct(…)\"}}: {e}"),
            reasons: vec!["request_invalid".to_string()],
            refused_by_policy: false,
        }
    })?;
    let checker = state.clone();
    let wallet =
        tokio::task::spawn_blocking(move || checker.key().check_descriptor(&request.descriptor))
            .await
            .map_err(|e| ApiError::Internal(format!("descriptor check task failed: {e}")))?
            .map_err(Amp2Refusal::Descriptor)?;
    state.amp2_limiter().check_wallet(&wallet.wid)?;
    let stored = state
        .store()
        .register_wallet(&wallet.wid, &wallet.descriptor, wallet.gaid.as_str())
        .await
        .map_err(|e| match e {
            amphora_store::StoreError::Conflict(conflict) => {
                ApiError::from(Amp2Refusal::Conflict(conflict))
            }
            other => ApiError::from(other),
        })?;
    tracing::info!(wid = %stored.wid, gaid = %stored.gaid, "AMP2 wallet registered");
    Ok(Json(RegisterWalletResponse {
        wid: stored.wid,
        gaid: stored.gaid,
    }))
}

/// `POST /amp2/wallets/sign` body and response.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignRequest {
    /// A base64 PSET spending outputs of one registered wallet.
    pub pset: String,
}

/// Co-signs a PSET of a registered wallet: the platform adds its half of the 2-of-2 signatures
/// only when it fully understands the transfer and the issuers' rules (and their authorization
/// endpoints) allow it. Every decodable request is recorded; one that does not decode is only
/// counted (`/healthz`). No token; rate limited per client address and per sending wallet
/// (429 with `Retry-After`).
#[utoipa::path(post, path = "/amp2/wallets/sign", tag = "amp2",
    request_body = SignRequest,
    responses(
        (status = 200, description = "The PSET with the platform's signatures", body = SignRequest),
        (status = 400, description = "Not a PSET the platform fully understands, or an input that is not the chain's unspent output (`{\"error\", \"reasons\"}`; e.g. `input_utxo_mismatch`, `input_unknown`, `input_spent`)"),
        (status = 403, description = "Refused by the transfer rules or the issuer (`{\"error\", \"reasons\"}`)"),
        (status = 429, description = "Rate limited (`{\"error\": …}`, `Retry-After`)"),
        (status = 503, description = "The Elements node cannot check the inputs now (`{\"detail\"}`); nothing is signed"),
    ))]
pub async fn sign(
    State(state): State<AppState>,
    RawBody(body): RawBody,
) -> Result<Json<SignRequest>, ApiError> {
    let request: SignRequest = serde_json::from_slice(&body).map_err(|e| {
        state.amp2_limiter().undecodable();
        ApiError::Amp2Refused {
            error: format!("the body must be a JSON object {{\"pset\": \"<base64>\"}}: {e}"),
            reasons: vec!["request_invalid".to_string()],
            refused_by_policy: false,
        }
    })?;
    let pset = crate::cosign::cosign(&state, &request.pset).await?;
    Ok(Json(SignRequest { pset }))
}

/// `GET /amp2/info/authorizer` response.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizerInfo {
    /// Hex compressed secp256k1 public key that signs the requests to issuer authorization
    /// endpoints.
    pub pubkey: String,
    /// The signature scheme: `ecdsa-secp256k1-sha256-der` over the exact bytes of the body's
    /// `message` value.
    pub scheme: String,
    /// Where the platform POSTs: `<issuer_authorization_endpoint>/issuerauthorizer`.
    pub path: String,
}

/// The key and scheme of the platform's signed requests to issuer authorization endpoints
/// (see README, "Transfer rules and co-signing").
#[utoipa::path(get, path = "/amp2/info/authorizer", tag = "amp2",
    responses((status = 200, description = "Authorizer key", body = AuthorizerInfo)))]
pub async fn authorizer(State(state): State<AppState>) -> Json<AuthorizerInfo> {
    Json(AuthorizerInfo {
        pubkey: state.key().authorizer_public_key().to_string(),
        scheme: AUTHORIZER_SCHEME.to_string(),
        path: "/issuerauthorizer".to_string(),
    })
}

/// The signature scheme of issuer authorization requests.
pub const AUTHORIZER_SCHEME: &str = "ecdsa-secp256k1-sha256-der";
