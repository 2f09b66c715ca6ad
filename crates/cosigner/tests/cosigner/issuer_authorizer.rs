//! The signed request sent to an issuer's authorization endpoint and the reading of its answer.

use std::str::FromStr;

use amphora_core::gaid::Gaid;
use amphora_core::policy::{
    self, AssetRules, IssuerAuthorization, Recipient, RecipientUser, TransferInput, TransferOutput,
    TransferRequest,
};
use amphora_core::Network;
use amphora_cosigner::{
    issuer_authorizer_url, read_issuer_authorization_response, verify_issuer_authorization_body,
    PlatformKey,
};
use elements::{OutPoint, Txid};

const MNEMONIC: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";

fn request() -> TransferRequest {
    let alice = Gaid::from_descriptor("alice");
    let bob = Gaid::from_descriptor("bob");
    TransferRequest {
        asset: AssetRules {
            asset_id: "aa".repeat(32),
            is_locked: false,
            is_authorized: true,
            transfer_restricted: true,
            required_categories: [1].into(),
            blacklisted_outpoints: Default::default(),
            has_issuer_authorization_endpoint: true,
        },
        inputs: vec![TransferInput {
            outpoint: OutPoint::from_str(&format!("{}:3", "11".repeat(32))).unwrap(),
            amount: 1000,
            gaid: alice,
        }],
        outputs: vec![
            TransferOutput {
                vout: 0,
                amount: 300,
                recipient: Recipient::RegisteredWallet {
                    gaid: bob,
                    user: Some(RecipientUser {
                        id: 13,
                        categories: [1].into(),
                    }),
                },
            },
            TransferOutput {
                vout: 1,
                amount: 600,
                recipient: Recipient::Change,
            },
            TransferOutput {
                vout: 2,
                amount: 100,
                recipient: Recipient::Treasury,
            },
        ],
    }
}

fn body(key: &PlatformKey) -> String {
    let req = request();
    let decision = policy::evaluate(&req);
    assert!(decision.approved && decision.issuer_authorization_required);
    let txid = Txid::from_str(&"22".repeat(32)).unwrap();
    let alice = Gaid::from_descriptor("alice");
    key.issuer_authorization_body(txid, &req, &decision, |g| (g == &alice).then_some(12))
        .unwrap()
}

#[test]
fn body_follows_the_documented_schema_and_verifies_with_the_published_key() {
    let key = PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap();
    let body = body(&key);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let request = &json["message"]["request"];
    assert_eq!(json["message"]["version"], 1);
    assert_eq!(request["asset_id"], "aa".repeat(32));
    assert_eq!(request["txid"], "22".repeat(32));
    assert_eq!(request["inputs"][0]["vout"], 3);
    assert_eq!(request["inputs"][0]["registered_user"], 12);
    assert_eq!(request["inputs"][0]["amount"], 1000);
    let bob = &request["outputs"][0];
    assert_eq!(bob["gaid"], Gaid::from_descriptor("bob").as_str());
    assert_eq!(bob["registered_user"], 13);
    assert_eq!(bob["amount"], 300);
    assert_eq!(bob["category_check"], true);
    assert_eq!(bob["is_treasury"], false);
    let change = &request["outputs"][1];
    assert_eq!(change["is_change"], true);
    assert_eq!(change["gaid"], Gaid::from_descriptor("alice").as_str());
    let treasury = &request["outputs"][2];
    assert_eq!(treasury["is_treasury"], true);
    assert!(treasury["gaid"].is_null());

    let pubkey = key.authorizer_public_key();
    assert_eq!(json["pubkey"], pubkey.to_string());
    assert!(verify_issuer_authorization_body(&body, &pubkey));
}

#[test]
fn tampered_body_or_other_key_does_not_verify() {
    let key = PlatformKey::from_mnemonic(MNEMONIC, Network::LiquidRegtest).unwrap();
    let body = body(&key);
    let tampered = body.replacen("\"amount\":300", "\"amount\":301", 1);
    assert_ne!(tampered, body);
    assert!(!verify_issuer_authorization_body(
        &tampered,
        &key.authorizer_public_key()
    ));
    let other = PlatformKey::from_mnemonic(
        "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
        Network::LiquidRegtest,
    )
    .unwrap();
    assert_ne!(other.authorizer_public_key(), key.authorizer_public_key());
    assert!(!verify_issuer_authorization_body(
        &body,
        &other.authorizer_public_key()
    ));
    assert!(!verify_issuer_authorization_body(
        "garbage",
        &key.authorizer_public_key()
    ));
}

#[test]
fn endpoint_url_has_exactly_one_slash() {
    for endpoint in [
        "https://example.com",
        "https://example.com/",
        "https://example.com//",
    ] {
        assert_eq!(
            issuer_authorizer_url(endpoint),
            "https://example.com/issuerauthorizer"
        );
    }
    assert_eq!(
        issuer_authorizer_url("https://example.com/amp/"),
        "https://example.com/amp/issuerauthorizer"
    );
}

#[test]
fn only_result_true_approves() {
    use IssuerAuthorization::*;
    let cases: [(u16, &str, IssuerAuthorization); 8] = [
        (200, r#"{"result": true}"#, Approved),
        (200, r#"{"result": true, "error": ""}"#, Approved),
        (200, r#"{"result": false, "error": "no"}"#, Rejected),
        (200, r#"{"result": "true"}"#, Rejected),
        (200, r#"{}"#, Rejected),
        (200, "not json", Unavailable),
        (500, r#"{"result": true}"#, Unavailable),
        (404, "", Unavailable),
    ];
    for (status, body, expected) in cases {
        assert_eq!(
            read_issuer_authorization_response(status, body.as_bytes()),
            expected,
            "{status} {body}"
        );
    }
}
