//! Why the policy refuses a transfer: the stable reason codes and their messages.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a transfer is refused. Stable snake_case codes, returned to clients in
/// `{"error": "...", "reasons": [codes]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The issuer locked the asset: no transfers at all.
    AssetLocked,
    /// The asset is not register-authorized yet.
    AssetNotAuthorized,
    /// An input spends an output the issuer blacklisted.
    InputBlacklisted,
    /// An output pays a script that is neither a registered wallet, change nor a treasury address.
    RecipientUnknown,
    /// A transfer-restricted asset is sent to a registered wallet whose GAID is not linked to a
    /// registered user of the issuer.
    RecipientNotRegisteredUser,
    /// A transfer-restricted asset is sent to a registered user who is not in every category the
    /// asset requires.
    RecipientMissingCategory,
    /// The asset is destroyed (an unspendable `OP_RETURN` output).
    BurnNotAllowed,
    /// The asset is paid as a transaction fee.
    AssetPaidAsFee,
    /// The issuer's authorization endpoint answered something other than `{"result": true}`.
    IssuerAuthorizationRejected,
    /// The issuer's authorization endpoint could not be reached in time or answered garbage.
    IssuerAuthorizationUnavailable,
}

impl ReasonCode {
    /// The stable code, e.g. `asset_locked`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::AssetLocked => "asset_locked",
            ReasonCode::AssetNotAuthorized => "asset_not_authorized",
            ReasonCode::InputBlacklisted => "input_blacklisted",
            ReasonCode::RecipientUnknown => "recipient_unknown",
            ReasonCode::RecipientNotRegisteredUser => "recipient_not_registered_user",
            ReasonCode::RecipientMissingCategory => "recipient_missing_category",
            ReasonCode::BurnNotAllowed => "burn_not_allowed",
            ReasonCode::AssetPaidAsFee => "asset_paid_as_fee",
            ReasonCode::IssuerAuthorizationRejected => "issuer_authorization_rejected",
            ReasonCode::IssuerAuthorizationUnavailable => "issuer_authorization_unavailable",
        }
    }

    /// A sentence for humans.
    pub fn message(self) -> &'static str {
        match self {
            ReasonCode::AssetLocked => "the asset is locked by its issuer",
            ReasonCode::AssetNotAuthorized => "the asset is not authorized for transfers yet",
            ReasonCode::InputBlacklisted => "an input spends a blacklisted output",
            ReasonCode::RecipientUnknown => {
                "an output pays an address that is not registered with the platform"
            }
            ReasonCode::RecipientNotRegisteredUser => {
                "a recipient wallet does not belong to a registered user of the issuer"
            }
            ReasonCode::RecipientMissingCategory => {
                "a recipient is not in every category the asset requires"
            }
            ReasonCode::BurnNotAllowed => "burning the asset is not allowed",
            ReasonCode::AssetPaidAsFee => "the asset cannot be paid as a fee",
            ReasonCode::IssuerAuthorizationRejected => "the issuer did not authorize the transfer",
            ReasonCode::IssuerAuthorizationUnavailable => {
                "the issuer authorization endpoint did not answer"
            }
        }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
