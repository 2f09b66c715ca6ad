//! The error table: each variant's status and body, and the wire text of a representative
//! set of refusals (the api tests check the rest where they are refused).

use std::str::FromStr;

use amphora_core::asset::IssuanceRule;
use amphora_core::assignment::AssignmentRuleError;
use amphora_core::gaid::GaidError;
use amphora_core::treasury_key::TreasuryKeyError;
use amphora_store::PaymentKind;
use elements::{AssetId, Txid};

use super::*;
use crate::outbound::OutboundError;
use crate::refusal::{FetchFailure, ProofUnread};
use crate::verify::refusal::Recipient;
use amphora_cosigner::DescriptorError;
use amphora_store::Forbidden;

const TXID: &str = "6e5b3a0f9b9c1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f809";
const ASSET: &str = "b2e15d0d7a0c94e4e2ce0fe6e8691b9e451377f6e46e8045a86f7c4b5d4f0f23";

fn txid() -> Txid {
    Txid::from_str(TXID).unwrap()
}

fn asset() -> AssetId {
    AssetId::from_str(ASSET).unwrap()
}

/// The status and body the refusal answers, through the response the client sees.
async fn answer(refusal: impl Into<ApiError>) -> (StatusCode, Value) {
    let response = refusal.into().into_response();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn bodies_follow_the_reference_shapes() {
    let fields = ApiError::Fields(vec![
        FieldError::new("name", "This field is required."),
        FieldError::new("name", "second"),
        FieldError::new("GAID", "bad"),
    ]);
    assert_eq!(
        fields.body(),
        json!({"name": ["This field is required.", "second"], "GAID": ["bad"]})
    );
    assert_eq!(
        ApiError::from(Refusal::NotReissuable).body(),
        json!({"Error": "The asset is not reissuable."})
    );
    assert_eq!(ApiError::NotFound.body(), json!({"detail": "Not found."}));
    assert_eq!(
        ApiError::MethodNotAllowed(Method::GET).body(),
        json!({"detail": "Method \"GET\" not allowed."})
    );
    let throttled = ApiError::Amp2Throttled(3);
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        throttled.body(),
        json!({"error": "Too many requests. Try again in 3 seconds."})
    );
    let response = ApiError::LoginsBusy(1).into_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    let internal = ApiError::Internal("secret db detail".into());
    assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!internal.body().to_string().contains("secret"));
}

#[tokio::test]
async fn each_refusal_answers_400_with_its_message() {
    let cases: Vec<(ApiError, String)> =
        vec![
        (
            Conflict::GaidTaken { gaid: "GA3x".into() }.into(),
            "GAID GA3x already belongs to another registered user".into(),
        ),
        (
            Refusal::Issuance(IssuanceRule::ReissuanceAddressIsDestination).into(),
            "The reissuance_address must differ from the destination_address.".into(),
        ),
        (
            Refusal::Assignment(AssignmentRuleError::RecipientsWithoutGaid {
                registered_users: vec![3, 7],
            })
            .into(),
            "The distribution cannot begin: registered user(s) [3, 7] have assignments ready for \
             distribution but no GAID (no registered wallet) to be paid to. Add a GAID to each \
             of them, or lock their assignments to distribute the rest."
                .into(),
        ),
        (
            Refusal::Gaid(GaidError::MissingPrefix).into(),
            "GAID must start with GA".into(),
        ),
        (
            Refusal::BalanceGaid(GaidError::ChecksumMismatch).into(),
            "Invalid GAID: GAID checksum mismatch (typo?)".into(),
        ),
        (
            Refusal::TreasuryKey(TreasuryKeyError::NotTheTreasury).into(),
            "The treasury view key does not open the asset's destination address: it belongs \
             to another wallet."
                .into(),
        ),
        (
            Refusal::EndpointTarget(OutboundError::NotHttp).into(),
            "The issuer_authorization_endpoint must be an http:// or https:// URL with a host \
             name."
                .into(),
        ),
        (
            Refusal::IssuanceRejected {
                reason: "bad-txns-in-belowout".into(),
            }
            .into(),
            "The Elements node refused the issuance transaction: bad-txns-in-belowout".into(),
        ),
        (
            Refusal::AuthorizeTooEarly {
                txid: txid(),
                confirmations: 1,
            }
            .into(),
            format!(
                "The issuance transaction {TXID} has 1 confirmation(s); the asset can be \
                 authorized once it has 2."
            ),
        ),
        (
            Refusal::DomainProofUnread {
                url: "https://example.com/.well-known/liquid-asset-proof-x".into(),
                why: ProofUnread::Fetch(FetchFailure::Address(OutboundError::NonPublic(
                    "127.0.0.1".into(),
                ))),
                expected: "proof".into(),
            }
            .into(),
            "The domain proof could not be read at \
             https://example.com/.well-known/liquid-asset-proof-x (the address must not point at \
             a loopback, private, link-local or other non-public address (127.0.0.1)). Publish a \
             file there containing: proof"
                .into(),
        ),
        (
            Refusal::DomainProofUnread {
                url: "https://example.com/p".into(),
                why: ProofUnread::NotServed,
                expected: "proof".into(),
            }
            .into(),
            "The domain proof could not be read at https://example.com/p (no such file was \
             served there). Publish a file there containing: proof"
                .into(),
        ),
        (
            Refusal::RegistryRefused {
                registry: "https://assets.example".into(),
                status: 422,
                detail: "bad contract".into(),
            }
            .into(),
            "The asset registry at https://assets.example refused the asset (HTTP 422): bad \
             contract"
                .into(),
        ),
        (
            Refusal::NothingToDistribute.into(),
            "No assignments to distribute: none is ready for distribution, unlocked, vested and \
             outside another distribution."
                .into(),
        ),
        (
            Refusal::PaymentConfirmed {
                kind: PaymentKind::Payout,
                txid: txid(),
            }
            .into(),
            format!(
                "The payout is already confirmed; transaction {TXID} is not one of its \
                 transactions."
            ),
        ),
        (
            Refusal::NoEligibleHolders {
                height: 120,
                treasury: 5,
                unregistered: 6,
            }
            .into(),
            "Nobody is eligible: no registered user holds the asset at height 120 (the treasury \
             held 5, wallets of no registered user 6)."
                .into(),
        ),
        (
            Refusal::NoSuchRegisteredUser { id: 42 }.into(),
            "Invalid registered_user \"42\": object does not exist.".into(),
        ),
        (
            Refusal::BurnAboveTreasury {
                total: 10,
                amount: 11,
            }
            .into(),
            "The treasury holds 10 units of the asset, less than the 11 to burn.".into(),
        ),
        (
            ChainRefusal::TooFewConfirmations {
                txid: txid(),
                confirmations: 0,
            }
            .into(),
            format!("Transaction {TXID} has 0 confirmations; at least 2 are needed."),
        ),
        (
            ChainRefusal::EntryNotOpened {
                txid: txid(),
                vout: 1,
                amount: 500,
                asset: asset(),
                field: "change_data",
            }
            .into(),
            format!(
                "Output {TXID}:1 does not hold 500 units of asset {ASSET} with the posted \
                 blinders (change_data)."
            ),
        ),
        (
            ChainRefusal::PaymentOutputCount {
                txid: txid(),
                kind: PaymentKind::Distribution,
                count: 2,
                address: "el1qq".into(),
                recipient: Recipient::Assignment(9),
            }
            .into(),
            format!(
                "Transaction {TXID} pays 2 outputs to el1qq (assignment 9); the distribution \
                 needs exactly one."
            ),
        ),
        (
            ChainRefusal::PaymentOutputCount {
                txid: txid(),
                kind: PaymentKind::Payout,
                count: 0,
                address: "el1qq".into(),
                recipient: Recipient::RegisteredUser(4),
            }
            .into(),
            format!(
                "Transaction {TXID} pays 0 outputs to el1qq (registered user 4); the payout \
                 needs exactly one."
            ),
        ),
        (
            ChainRefusal::PaymentDiffers {
                txid: txid(),
                kind: PaymentKind::Payout,
                vout: 0,
                paid: 7,
                paid_asset: asset(),
                address: "el1qq".into(),
                expected: 8,
                asset: asset(),
            }
            .into(),
            format!(
                "Output 0 of transaction {TXID} pays 7 of asset {ASSET} to el1qq; the payout \
                 expects 8 of asset {ASSET}."
            ),
        ),
        (
            ChainRefusal::TreasuryLeak {
                txid: txid(),
                taken: 100,
                accounted: 60,
            }
            .into(),
            format!(
                "Transaction {TXID} takes 100 of the asset from the treasury but pays only 60 to \
                 the recipients and the posted change_data; the rest goes elsewhere."
            ),
        ),
        (
            ChainRefusal::ReissuanceNotOpened { txid: txid(), vin: 0 }.into(),
            format!("The listissuances entry does not open the reissuance amount of {TXID}:0."),
        ),
        (
            ChainRefusal::BlindersDoNotOpen.into(),
            "The blinders do not open the output's asset and amount commitments.".into(),
        ),
    ];
    for (error, message) in cases {
        let shown = error.to_string();
        assert_eq!(
            answer(error).await,
            (StatusCode::BAD_REQUEST, json!({ "Error": message }))
        );
        assert_eq!(shown, message, "Display is the wire text");
    }
}

/// Every denial (403), outage (503) and AMP2 registration refusal (400), through the response
/// the client sees: its status, its body's shape and its text (which is also its `Display`).
#[tokio::test]
async fn each_denial_outage_and_amp2_refusal_answers_its_status_and_body() {
    let forbidden = StatusCode::FORBIDDEN;
    let unavailable = StatusCode::SERVICE_UNAVAILABLE;
    let detail = |message: &str| json!({ "detail": message });
    let cases: Vec<(ApiError, StatusCode, Value)> = vec![
        (
            Denial::NoPermission.into(),
            forbidden,
            detail("You do not have permission to perform this action."),
        ),
        (
            Denial::RouteClosed.into(),
            forbidden,
            detail("This route is not open to any caller."),
        ),
        (
            Denial::NotAManager.into(),
            forbidden,
            detail("Only a manager has a manager record."),
        ),
        (
            StoreError::Forbidden(Forbidden::UngrantedAssignments).into(),
            forbidden,
            detail(
                "This registered user has undistributed assignments of an asset you are not \
                 granted; only the issuer (or a manager granted every such asset) may change \
                 its GAIDs.",
            ),
        ),
        (
            Outage::NoNode.into(),
            unavailable,
            detail("No Elements node is configured."),
        ),
        (
            Outage::NodeFailed.into(),
            unavailable,
            detail("The platform's Elements node cannot answer now; try again later."),
        ),
        (
            Outage::CosignNeedsNode.into(),
            unavailable,
            detail("Co-signing needs the Elements node to check the transaction's inputs."),
        ),
        (
            Outage::CosignInputsUnchecked.into(),
            unavailable,
            detail("The Elements node cannot check the transaction's inputs now; try again later."),
        ),
        (
            Outage::IndexBehind { height: 7 }.into(),
            unavailable,
            detail(
                "The platform has not yet indexed block 7, which the Elements node already \
                 has; nothing was recorded, try again shortly.",
            ),
        ),
        (
            Outage::NoPlatformFunds.into(),
            unavailable,
            detail(
                "The platform wallet has no L-BTC to pay the issuance fee; fund the node's \
                 'platform' wallet and retry.",
            ),
        ),
        (
            Outage::NoPlatformWallet.into(),
            unavailable,
            detail("The node has no 'platform' wallet loaded; create or load it and retry."),
        ),
        (
            Outage::IssuanceFailed.into(),
            unavailable,
            detail("The Elements node could not issue the asset now; try again later."),
        ),
        (
            Outage::BroadcastPending { txid: txid() }.into(),
            unavailable,
            detail(&format!(
                "The issuance transaction {TXID} is recorded but the node could not be reached \
                 to broadcast it; it will be re-sent when the platform restarts."
            )),
        ),
        (
            Outage::RegistryUnreachable {
                registry: "https://assets.example".into(),
                why: FetchFailure::TimedOut,
            }
            .into(),
            unavailable,
            detail(
                "The asset registry at https://assets.example cannot be reached (timed out); \
                 try again later.",
            ),
        ),
        (
            Outage::RegistryFailed {
                registry: "https://assets.example".into(),
                status: 502,
            }
            .into(),
            unavailable,
            detail(
                "The asset registry at https://assets.example failed (HTTP 502); try again later.",
            ),
        ),
        (
            Amp2Refusal::Descriptor(DescriptorError::Unparseable("bad checksum".into())).into(),
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid descriptor: bad checksum"}),
        ),
        (
            Amp2Refusal::Conflict(Conflict::WalletIdTaken { wid: "w1".into() }).into(),
            StatusCode::BAD_REQUEST,
            json!({"error": "wallet id w1 is already registered with another descriptor"}),
        ),
    ];
    for (error, status, body) in cases {
        let shown = error.to_string();
        let text = body.as_object().unwrap().values().next().unwrap().clone();
        assert_eq!(answer(error).await, (status, body));
        assert_eq!(json!(shown), text, "Display is the wire text");
    }
}

/// The issuance's errors answer the table's outages; the node's own error stays in the log.
#[tokio::test]
async fn an_issuance_node_failure_answers_no_internals() {
    use crate::issuance::IssuanceError;
    let failure = IssuanceError::Node(amphora_rpc::RpcError::Node {
        method: "fundrawtransaction".into(),
        code: -1,
        message: "secret node detail".into(),
        http_status: 500,
    });
    assert!(failure.to_string().contains("secret node detail"), "logged");
    let (status, body) = answer(failure).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({"detail": "The Elements node could not issue the asset now; try again later."})
    );
    assert_eq!(
        answer(IssuanceError::NoNode).await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"detail": "No Elements node is configured."})
        )
    );
}
