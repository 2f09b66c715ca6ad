//! The transfer policy engine: decides whether the platform may co-sign a transfer of a managed
//! asset. A pure function of a [`TransferRequest`]: no I/O, no clock, no randomness.
//!
//! The co-signer builds one request per managed asset a PSET moves (from the unblinded PSET and
//! the store) and co-signs only if every request is approved. Rules, in order:
//!
//! 1. a locked asset cannot move at all ([`ReasonCode::AssetLocked`]);
//! 2. an asset that is not register-authorized cannot move ([`ReasonCode::AssetNotAuthorized`]);
//! 3. no input may spend a blacklisted output ([`ReasonCode::InputBlacklisted`]);
//! 4. every output of the asset must go to an allowed recipient:
//!    * change back to the sending wallet and treasury addresses are always allowed;
//!    * a *transfer-restricted* asset may go to the GAID of a registered user who is in every
//!      category the asset requires ([`ReasonCode::RecipientNotRegisteredUser`],
//!      [`ReasonCode::RecipientMissingCategory`]);
//!    * an *issuer-tracked* asset may go to any wallet registered with the platform;
//!    * scripts the platform does not know, burns and fees paid in the asset are refused
//!      ([`ReasonCode::RecipientUnknown`], [`ReasonCode::BurnNotAllowed`],
//!      [`ReasonCode::AssetPaidAsFee`]).
//!
//! If this stage approves and the asset has an issuer authorization endpoint, the decision says
//! so ([`Decision::issuer_authorization_required`]); the caller then asks the endpoint (I/O,
//! outside this crate) and folds the answer in with [`Decision::with_issuer_authorization`].

use std::collections::BTreeSet;

use elements::OutPoint;
use serde::{Deserialize, Serialize};

use crate::gaid::Gaid;

mod reason;
pub use reason::ReasonCode;

/// Id of a registered user (as in the AMP API).
pub type RegisteredUserId = i64;
/// Id of a category (as in the AMP API).
pub type CategoryId = i64;

/// The issuer's rules for one asset, as stored by the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRules {
    /// The asset id (hex, as displayed).
    pub asset_id: String,
    /// `is_locked`: the issuer froze all transfers.
    pub is_locked: bool,
    /// `is_authorized`: the asset was register-authorized.
    pub is_authorized: bool,
    /// `transfer_restricted`: true = only registered users in the required categories may
    /// receive it; false = issuer-tracked (any registered wallet).
    pub transfer_restricted: bool,
    /// The categories attached to the asset (a recipient must be in all of them).
    pub required_categories: BTreeSet<CategoryId>,
    /// Outputs the issuer blacklisted.
    pub blacklisted_outpoints: BTreeSet<OutPoint>,
    /// Whether the asset has an `issuer_authorization_endpoint`.
    pub has_issuer_authorization_endpoint: bool,
}

/// A registered user linked to a GAID, with the categories they are in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientUser {
    /// The registered user's id.
    pub id: RegisteredUserId,
    /// The categories the user is in.
    pub categories: BTreeSet<CategoryId>,
}

/// An input of the transfer that carries the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferInput {
    /// The output it spends.
    pub outpoint: OutPoint,
    /// Amount of the asset, in base units.
    pub amount: u64,
    /// The GAID of the registered wallet that owns it.
    pub gaid: Gaid,
}

/// Who an output pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Recipient {
    /// Back to the sending wallet.
    Change,
    /// A wallet registered with the platform (not the sender).
    RegisteredWallet {
        /// The wallet's GAID.
        gaid: Gaid,
        /// The registered user linked to this GAID, if any.
        user: Option<RecipientUser>,
    },
    /// One of the asset's treasury addresses.
    Treasury,
    /// An unspendable (`OP_RETURN`) output.
    Burn,
    /// The transaction fee.
    Fee,
    /// A script the platform does not know.
    Unknown,
}

/// An output of the transfer that carries the asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferOutput {
    /// Output index in the transaction.
    pub vout: u32,
    /// Amount of the asset, in base units.
    pub amount: u64,
    /// Who it pays.
    pub recipient: Recipient,
}

/// Everything the policy needs to judge the movement of one asset in one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferRequest {
    /// The asset's rules.
    pub asset: AssetRules,
    /// Inputs carrying the asset.
    pub inputs: Vec<TransferInput>,
    /// Outputs carrying the asset.
    pub outputs: Vec<TransferOutput>,
}

/// The verdict on one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputVerdict {
    /// Output index in the transaction.
    pub vout: u32,
    /// Whether the output's recipient is allowed to receive the asset.
    pub allowed: bool,
    /// Why not, if not allowed.
    pub reason: Option<ReasonCode>,
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the platform may co-sign (so far: see `issuer_authorization_required`).
    pub approved: bool,
    /// Why not: sorted, without duplicates; empty when approved.
    pub reasons: Vec<ReasonCode>,
    /// One verdict per output of the request, in request order.
    pub outputs: Vec<OutputVerdict>,
    /// The pure stage approved, but the issuer's endpoint must approve too before co-signing.
    pub issuer_authorization_required: bool,
}

/// What the issuer's authorization endpoint answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerAuthorization {
    /// `{"result": true}`.
    Approved,
    /// Any other well-formed answer.
    Rejected,
    /// Timeout, connection error, non-JSON body, ...
    Unavailable,
}

impl Decision {
    /// Folds in the issuer endpoint's answer. Only meaningful when
    /// `issuer_authorization_required`; otherwise the decision is returned unchanged.
    pub fn with_issuer_authorization(mut self, answer: IssuerAuthorization) -> Decision {
        if !self.issuer_authorization_required {
            return self;
        }
        self.issuer_authorization_required = false;
        match answer {
            IssuerAuthorization::Approved => {}
            IssuerAuthorization::Rejected => {
                self.approved = false;
                self.reasons.push(ReasonCode::IssuerAuthorizationRejected);
            }
            IssuerAuthorization::Unavailable => {
                self.approved = false;
                self.reasons
                    .push(ReasonCode::IssuerAuthorizationUnavailable);
            }
        }
        self
    }

    /// Whether the platform may co-sign now: approved and nothing left to ask.
    pub fn may_cosign(&self) -> bool {
        self.approved && !self.issuer_authorization_required
    }
}

/// Judges one asset's movement. Pure: same request, same decision.
pub fn evaluate(request: &TransferRequest) -> Decision {
    let asset = &request.asset;
    let mut reasons = BTreeSet::new();
    if asset.is_locked {
        reasons.insert(ReasonCode::AssetLocked);
    }
    if !asset.is_authorized {
        reasons.insert(ReasonCode::AssetNotAuthorized);
    }
    if request
        .inputs
        .iter()
        .any(|i| asset.blacklisted_outpoints.contains(&i.outpoint))
    {
        reasons.insert(ReasonCode::InputBlacklisted);
    }
    let outputs: Vec<OutputVerdict> = request
        .outputs
        .iter()
        .map(|o| {
            let reason = recipient_refusal(asset, &o.recipient);
            if let Some(r) = reason {
                reasons.insert(r);
            }
            OutputVerdict {
                vout: o.vout,
                allowed: reason.is_none(),
                reason,
            }
        })
        .collect();
    let approved = reasons.is_empty();
    Decision {
        approved,
        reasons: reasons.into_iter().collect(),
        outputs,
        issuer_authorization_required: approved && asset.has_issuer_authorization_endpoint,
    }
}

/// Judges several assets moved by one transaction: approved only if every request is; reasons
/// are merged. The issuer authorization is required if any approved asset has an endpoint (the
/// caller asks each such asset's endpoint).
pub fn evaluate_all(requests: &[TransferRequest]) -> Decision {
    let mut reasons = BTreeSet::new();
    let mut outputs = Vec::new();
    let mut issuer_authorization_required = false;
    for request in requests {
        let d = evaluate(request);
        reasons.extend(d.reasons);
        outputs.extend(d.outputs);
        issuer_authorization_required |= d.issuer_authorization_required;
    }
    let approved = reasons.is_empty();
    Decision {
        approved,
        reasons: reasons.into_iter().collect(),
        outputs,
        issuer_authorization_required: approved && issuer_authorization_required,
    }
}

fn recipient_refusal(asset: &AssetRules, recipient: &Recipient) -> Option<ReasonCode> {
    match recipient {
        Recipient::Change | Recipient::Treasury => None,
        Recipient::Burn => Some(ReasonCode::BurnNotAllowed),
        Recipient::Fee => Some(ReasonCode::AssetPaidAsFee),
        Recipient::Unknown => Some(ReasonCode::RecipientUnknown),
        Recipient::RegisteredWallet { user, .. } if asset.transfer_restricted => match user {
            None => Some(ReasonCode::RecipientNotRegisteredUser),
            Some(u) if !asset.required_categories.is_subset(&u.categories) => {
                Some(ReasonCode::RecipientMissingCategory)
            }
            Some(_) => None,
        },
        Recipient::RegisteredWallet { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn outpoint(n: u32) -> OutPoint {
        OutPoint::from_str(&format!("{}:{n}", "11".repeat(32))).unwrap()
    }

    fn rules(transfer_restricted: bool) -> AssetRules {
        AssetRules {
            asset_id: "22".repeat(32),
            is_locked: false,
            is_authorized: true,
            transfer_restricted,
            required_categories: [1, 2].into(),
            blacklisted_outpoints: [outpoint(9)].into(),
            has_issuer_authorization_endpoint: false,
        }
    }

    fn user(categories: &[CategoryId]) -> Option<RecipientUser> {
        Some(RecipientUser {
            id: 7,
            categories: categories.iter().copied().collect(),
        })
    }

    fn wallet(name: &str, user: Option<RecipientUser>) -> Recipient {
        Recipient::RegisteredWallet {
            gaid: Gaid::from_descriptor(name),
            user,
        }
    }

    fn request(asset: AssetRules, recipients: Vec<Recipient>) -> TransferRequest {
        TransferRequest {
            asset,
            inputs: vec![TransferInput {
                outpoint: outpoint(0),
                amount: 100,
                gaid: Gaid::from_descriptor("sender"),
            }],
            outputs: recipients
                .into_iter()
                .enumerate()
                .map(|(i, recipient)| TransferOutput {
                    vout: i as u32,
                    amount: 10,
                    recipient,
                })
                .collect(),
        }
    }

    fn reasons(req: &TransferRequest) -> Vec<ReasonCode> {
        let d = evaluate(req);
        assert_eq!(d.approved, d.reasons.is_empty());
        d.reasons
    }

    #[test]
    fn restricted_asset_to_qualified_user_treasury_and_change_is_approved() {
        let req = request(
            rules(true),
            vec![
                wallet("bob", user(&[1, 2, 3])),
                Recipient::Treasury,
                Recipient::Change,
            ],
        );
        let d = evaluate(&req);
        assert!(d.approved && d.may_cosign(), "{d:?}");
        assert!(d.outputs.iter().all(|o| o.allowed && o.reason.is_none()));
        assert_eq!(d.outputs.len(), 3);
    }

    #[test]
    fn restricted_asset_without_required_categories_goes_to_any_registered_user() {
        let mut asset = rules(true);
        asset.required_categories.clear();
        assert!(reasons(&request(asset.clone(), vec![wallet("bob", user(&[]))])).is_empty());
        assert_eq!(
            reasons(&request(asset, vec![wallet("bob", None)])),
            [ReasonCode::RecipientNotRegisteredUser]
        );
    }

    #[test]
    fn restricted_asset_to_user_missing_a_category_is_rejected() {
        let req = request(
            rules(true),
            vec![Recipient::Change, wallet("bob", user(&[1]))],
        );
        let d = evaluate(&req);
        assert!(!d.approved);
        assert_eq!(d.reasons, [ReasonCode::RecipientMissingCategory]);
        assert_eq!(
            d.outputs[1],
            OutputVerdict {
                vout: 1,
                allowed: false,
                reason: Some(ReasonCode::RecipientMissingCategory)
            }
        );
        assert!(d.outputs[0].allowed);
    }

    #[test]
    fn restricted_asset_to_wallet_without_registered_user_is_rejected() {
        assert_eq!(
            reasons(&request(rules(true), vec![wallet("carol", None)])),
            [ReasonCode::RecipientNotRegisteredUser]
        );
    }

    #[test]
    fn issuer_tracked_asset_goes_to_any_registered_wallet() {
        let req = request(
            rules(false),
            vec![
                wallet("carol", None),
                wallet("bob", user(&[])),
                Recipient::Treasury,
                Recipient::Change,
            ],
        );
        assert!(reasons(&req).is_empty());
    }

    #[test]
    fn unknown_scripts_burns_and_fees_are_rejected_for_both_kinds() {
        for restricted in [true, false] {
            assert_eq!(
                reasons(&request(rules(restricted), vec![Recipient::Unknown])),
                [ReasonCode::RecipientUnknown]
            );
            assert_eq!(
                reasons(&request(rules(restricted), vec![Recipient::Burn])),
                [ReasonCode::BurnNotAllowed]
            );
            assert_eq!(
                reasons(&request(rules(restricted), vec![Recipient::Fee])),
                [ReasonCode::AssetPaidAsFee]
            );
        }
    }

    #[test]
    fn locked_asset_rejects_everything() {
        let mut asset = rules(false);
        asset.is_locked = true;
        assert_eq!(
            reasons(&request(asset.clone(), vec![Recipient::Treasury])),
            [ReasonCode::AssetLocked]
        );
        assert_eq!(reasons(&request(asset, vec![])), [ReasonCode::AssetLocked]);
    }

    #[test]
    fn unauthorized_asset_is_rejected() {
        let mut asset = rules(false);
        asset.is_authorized = false;
        assert_eq!(
            reasons(&request(asset, vec![Recipient::Change])),
            [ReasonCode::AssetNotAuthorized]
        );
    }

    #[test]
    fn blacklisted_input_is_rejected() {
        let mut req = request(rules(false), vec![Recipient::Change]);
        req.inputs.push(TransferInput {
            outpoint: outpoint(9),
            amount: 1,
            gaid: Gaid::from_descriptor("sender"),
        });
        assert_eq!(reasons(&req), [ReasonCode::InputBlacklisted]);
    }

    #[test]
    fn all_reasons_are_reported_sorted_and_once() {
        let mut asset = rules(true);
        asset.is_locked = true;
        asset.is_authorized = false;
        let mut req = request(
            asset,
            vec![
                Recipient::Unknown,
                wallet("x", None),
                wallet("y", user(&[2])),
                Recipient::Unknown,
            ],
        );
        req.inputs[0].outpoint = outpoint(9);
        assert_eq!(
            reasons(&req),
            [
                ReasonCode::AssetLocked,
                ReasonCode::AssetNotAuthorized,
                ReasonCode::InputBlacklisted,
                ReasonCode::RecipientUnknown,
                ReasonCode::RecipientNotRegisteredUser,
                ReasonCode::RecipientMissingCategory,
            ]
        );
    }

    #[test]
    fn issuer_endpoint_is_a_second_stage_only_after_approval() {
        let mut asset = rules(false);
        asset.has_issuer_authorization_endpoint = true;
        let d = evaluate(&request(asset.clone(), vec![Recipient::Change]));
        assert!(d.approved && d.issuer_authorization_required && !d.may_cosign());
        let ok = d
            .clone()
            .with_issuer_authorization(IssuerAuthorization::Approved);
        assert!(ok.may_cosign() && ok.reasons.is_empty());
        let no = d
            .clone()
            .with_issuer_authorization(IssuerAuthorization::Rejected);
        assert!(!no.may_cosign());
        assert_eq!(no.reasons, [ReasonCode::IssuerAuthorizationRejected]);
        let down = d.with_issuer_authorization(IssuerAuthorization::Unavailable);
        assert_eq!(down.reasons, [ReasonCode::IssuerAuthorizationUnavailable]);
        assert!(!down.approved);

        // A transfer the rules already refuse never reaches the issuer.
        let refused = evaluate(&request(asset, vec![Recipient::Unknown]));
        assert!(!refused.issuer_authorization_required);
        let unchanged = refused
            .clone()
            .with_issuer_authorization(IssuerAuthorization::Approved);
        assert_eq!(unchanged, refused);
    }

    #[test]
    fn several_assets_must_all_be_approved() {
        let good = request(rules(false), vec![Recipient::Change]);
        let mut locked = good.clone();
        locked.asset.is_locked = true;
        assert!(evaluate_all(&[good.clone(), good.clone()]).approved);
        let d = evaluate_all(&[good.clone(), locked]);
        assert!(!d.approved);
        assert_eq!(d.reasons, [ReasonCode::AssetLocked]);
        assert_eq!(d.outputs.len(), 2);
        assert!(evaluate_all(&[]).approved);
    }

    #[test]
    fn reason_codes_serialize_as_stable_snake_case() {
        let all = [
            ReasonCode::AssetLocked,
            ReasonCode::AssetNotAuthorized,
            ReasonCode::InputBlacklisted,
            ReasonCode::RecipientUnknown,
            ReasonCode::RecipientNotRegisteredUser,
            ReasonCode::RecipientMissingCategory,
            ReasonCode::BurnNotAllowed,
            ReasonCode::AssetPaidAsFee,
            ReasonCode::IssuerAuthorizationRejected,
            ReasonCode::IssuerAuthorizationUnavailable,
        ];
        for code in all {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(serde_json::from_str::<ReasonCode>(&json).unwrap(), code);
            assert!(!code.message().is_empty());
        }
        assert_eq!(
            serde_json::to_string(&ReasonCode::RecipientMissingCategory).unwrap(),
            "\"recipient_missing_category\""
        );
    }
}
