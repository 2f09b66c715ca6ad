//! The issuer authorization callback: the signed request the platform POSTs to
//! `<issuer_authorization_endpoint>/issuerauthorizer` before co-signing a transfer of an asset
//! that has an endpoint, and the reading of its answer.
//!
//! # Request body (version 1)
//!
//! ```json
//! {
//!   "message": {
//!     "version": 1,
//!     "request": {
//!       "asset_id": "<hex>",
//!       "txid": "<unsigned transaction id>",
//!       "inputs":  [{"txid": "<hex>", "vout": 0, "gaid": "GA…", "registered_user": 12, "amount": 1000}],
//!       "outputs": [{"vout": 0, "gaid": "GA…", "registered_user": 13, "amount": 300,
//!                    "is_treasury": false, "is_change": false, "category_check": true}]
//!     }
//!   },
//!   "signature": "<hex DER ECDSA signature>",
//!   "pubkey": "<hex compressed public key>"
//! }
//! ```
//!
//! Amounts are in base units. `gaid` and `registered_user` are `null` when unknown (treasury
//! outputs, wallets without a registered user). `category_check` is the platform's own verdict
//! on the output's recipient (categories for transfer-restricted assets).
//!
//! **Signature**: ECDSA over secp256k1 of `SHA256(M)`, where `M` is the exact byte string of the
//! `message` value as it appears in the body (compact JSON, no whitespace). The signing key is
//! the platform key derived at [`AUTHORIZER_KEY_PATH`]; its public key is
//! [`PlatformKey::authorizer_public_key`] (published by the server). The endpoint answers
//! `{"result": true}` to approve; any other answer, status, or no answer in time rejects.

use amphora_core::gaid::Gaid;
use amphora_core::policy::{
    Decision, IssuerAuthorization, Recipient, RegisteredUserId, TransferRequest,
};
use elements::bitcoin::bip32::DerivationPath;
use elements::bitcoin::secp256k1::{ecdsa::Signature, Message, PublicKey};
use elements::Txid;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::CosignerError;
use crate::key::{hardened, PlatformKey};

/// Path of the authorizer signing key: `m/1095585842'/1096111176'` (`"AMP2"'/"AUTH"'`).
pub const AUTHORIZER_KEY_PATH: [u32; 2] = [0x414d_5032, 0x4155_5448];

#[derive(Serialize)]
struct Message1<'a> {
    version: u32,
    request: RequestBody<'a>,
}

#[derive(Serialize)]
struct RequestBody<'a> {
    asset_id: &'a str,
    txid: String,
    inputs: Vec<InputBody>,
    outputs: Vec<OutputBody>,
}

#[derive(Serialize)]
struct InputBody {
    txid: String,
    vout: u32,
    gaid: String,
    registered_user: Option<RegisteredUserId>,
    amount: u64,
}

#[derive(Serialize)]
struct OutputBody {
    vout: u32,
    gaid: Option<String>,
    registered_user: Option<RegisteredUserId>,
    amount: u64,
    is_treasury: bool,
    is_change: bool,
    category_check: bool,
}

impl PlatformKey {
    fn authorizer_path() -> DerivationPath {
        DerivationPath::from(AUTHORIZER_KEY_PATH.map(hardened).to_vec())
    }

    /// The public key that verifies issuer authorization requests.
    pub fn authorizer_public_key(&self) -> PublicKey {
        let xprv = self
            .derive_xprv(&Self::authorizer_path())
            .expect("hardened derivation from a master key cannot fail");
        xprv.private_key.public_key(self.secp())
    }

    /// The body to POST to the issuer's endpoint for `request` (one asset of transaction
    /// `txid`), with the verdicts of `decision`. `user_of` gives the registered user linked to a
    /// GAID. See the module documentation for the schema and signature.
    pub fn issuer_authorization_body(
        &self,
        txid: Txid,
        request: &TransferRequest,
        decision: &Decision,
        user_of: impl Fn(&Gaid) -> Option<RegisteredUserId>,
    ) -> Result<String, CosignerError> {
        let outputs = request
            .outputs
            .iter()
            .map(|o| {
                let allowed = decision
                    .outputs
                    .iter()
                    .find(|v| v.vout == o.vout)
                    .is_some_and(|v| v.allowed);
                let (gaid, registered_user) = match &o.recipient {
                    Recipient::RegisteredWallet { gaid, user } => (
                        Some(gaid.to_string()),
                        user.as_ref().map(|u| u.id).or_else(|| user_of(gaid)),
                    ),
                    Recipient::Change => {
                        let sender = request.inputs.first().map(|i| &i.gaid);
                        (sender.map(|g| g.to_string()), sender.and_then(&user_of))
                    }
                    _ => (None, None),
                };
                OutputBody {
                    vout: o.vout,
                    gaid,
                    registered_user,
                    amount: o.amount,
                    is_treasury: o.recipient == Recipient::Treasury,
                    is_change: o.recipient == Recipient::Change,
                    category_check: allowed,
                }
            })
            .collect();
        let inputs = request
            .inputs
            .iter()
            .map(|i| InputBody {
                txid: i.outpoint.txid.to_string(),
                vout: i.outpoint.vout,
                gaid: i.gaid.to_string(),
                registered_user: user_of(&i.gaid),
                amount: i.amount,
            })
            .collect();
        let message = Message1 {
            version: 1,
            request: RequestBody {
                asset_id: &request.asset.asset_id,
                txid: txid.to_string(),
                inputs,
                outputs,
            },
        };
        let message = serde_json::to_string(&message)
            .map_err(|e| CosignerError::Crypto(format!("cannot serialise the request: {e}")))?;
        let digest: [u8; 32] = Sha256::digest(message.as_bytes()).into();
        let xprv = self.derive_xprv(&Self::authorizer_path())?;
        let signature = self
            .secp()
            .sign_ecdsa(&Message::from_digest(digest), &xprv.private_key);
        Ok(format!(
            "{{\"message\":{message},\"signature\":\"{}\",\"pubkey\":\"{}\"}}",
            hex::encode(signature.serialize_der()),
            xprv.private_key.public_key(self.secp())
        ))
    }
}

/// Checks the signature of an issuer authorization body against `pubkey`, as an issuer's
/// endpoint would: the signed bytes are the `message` value exactly as it appears in the body.
pub fn verify_issuer_authorization_body(body: &str, pubkey: &PublicKey) -> bool {
    let Some(rest) = body.strip_prefix("{\"message\":") else {
        return false;
    };
    let Some(end) = rest.rfind(",\"signature\":\"") else {
        return false;
    };
    let message = &rest[..end];
    let Ok(parsed) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    let Some(sig_hex) = parsed.get("signature").and_then(|s| s.as_str()) else {
        return false;
    };
    let Ok(sig_bytes) = hex::decode(sig_hex) else {
        return false;
    };
    let Ok(signature) = Signature::from_der(&sig_bytes) else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(message.as_bytes()).into();
    elements::bitcoin::secp256k1::Secp256k1::verification_only()
        .verify_ecdsa(&Message::from_digest(digest), &signature, pubkey)
        .is_ok()
}

/// The URL to POST to: `<endpoint>/issuerauthorizer`, with exactly one `/` in between.
pub fn issuer_authorizer_url(endpoint: &str) -> String {
    format!("{}/issuerauthorizer", endpoint.trim_end_matches('/'))
}

/// Reads the endpoint's answer: HTTP 2xx with a JSON object whose `result` is `true` approves;
/// any other well-formed JSON answer rejects; a non-2xx status or a body that is not JSON counts
/// as unavailable (which also refuses the transfer).
pub fn read_issuer_authorization_response(status: u16, body: &[u8]) -> IssuerAuthorization {
    if !(200..300).contains(&status) {
        return IssuerAuthorization::Unavailable;
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) if v.get("result") == Some(&serde_json::Value::Bool(true)) => {
            IssuerAuthorization::Approved
        }
        Ok(_) => IssuerAuthorization::Rejected,
        Err(_) => IssuerAuthorization::Unavailable,
    }
}
