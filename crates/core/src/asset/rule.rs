//! The issuance rules no field's schema states: the public key's point and the reissuance
//! fields against `is_reissuable` and `destination_address`.

use super::{pubkey_is_on_curve, IssuanceInput};

/// A rule across fields (or of the public key's point) that an issuance request of valid
/// fields breaks; its `Display` is the message AMP answers (`{"Error": …}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssuanceRule {
    /// The public key has the form of a compressed key but is not a point of the curve.
    #[error("The public key is not a valid secp256k1 point.")]
    PubkeyNotOnCurve,
    /// A reissuable asset with a `reissuance_amount` of 0.
    #[error("A reissuable asset needs a reissuance_amount of at least 1.")]
    ReissuanceAmountMissing,
    /// A reissuable asset without a `reissuance_address`.
    #[error("A reissuable asset needs a reissuance_address.")]
    ReissuanceAddressMissing,
    /// The `reissuance_address` is the `destination_address`.
    #[error("The reissuance_address must differ from the destination_address.")]
    ReissuanceAddressIsDestination,
    /// A `reissuance_amount` for an asset that is not reissuable.
    #[error("reissuance_amount is only allowed when is_reissuable is true.")]
    ReissuanceAmountNotAllowed,
    /// A `reissuance_address` for an asset that is not reissuable.
    #[error("reissuance_address is only allowed when is_reissuable is true.")]
    ReissuanceAddressNotAllowed,
}

impl IssuanceRule {
    /// The first rule that `input` (every field of a valid form) breaks, in the order above.
    pub fn broken_by(input: &IssuanceInput) -> Option<IssuanceRule> {
        if !pubkey_is_on_curve(&input.pubkey) {
            return Some(IssuanceRule::PubkeyNotOnCurve);
        }
        if input.is_reissuable {
            if input.reissuance_amount == 0 {
                return Some(IssuanceRule::ReissuanceAmountMissing);
            }
            if input.reissuance_address.is_empty() {
                return Some(IssuanceRule::ReissuanceAddressMissing);
            }
            if input.reissuance_address == input.destination_address {
                return Some(IssuanceRule::ReissuanceAddressIsDestination);
            }
        } else {
            if input.reissuance_amount != 0 {
                return Some(IssuanceRule::ReissuanceAmountNotAllowed);
            }
            if !input.reissuance_address.is_empty() {
                return Some(IssuanceRule::ReissuanceAddressNotAllowed);
            }
        }
        None
    }
}
