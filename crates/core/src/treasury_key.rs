//! The treasury's view key: the SLIP-77 master blinding key of the issuer's treasury wallet
//! (what Elements Core's `dumpmasterblindingkey` prints). Elements Core derives the blinding
//! key of every script its wallet receives on as `HMAC-SHA256(master, scriptPubKey)`, so with
//! this key the chain follower can open the treasury's own confidential outputs (its change,
//! the units of a reissuance) the way it opens registered wallets' outputs with their view
//! keys. It cannot spend anything.
//!
//! A key is accepted for an asset only when it opens the asset's issuance destination: the
//! blinding public key of the asset's confidential destination address must be the one the
//! key derives for that address's script. A key of another wallet is refused.

use std::fmt;
use std::str::FromStr;

use elements::secp256k1_zkp::{All, Secp256k1, SecretKey};
use elements::{Address, Script, TxOut, TxOutSecrets};
use elements_miniscript::confidential::slip77::MasterBlindingKey;

/// Why a treasury view key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreasuryKeyError {
    /// Not 64 hex digits.
    #[error("The treasury view key must be 64 hexadecimal digits (the output of dumpmasterblindingkey).")]
    Malformed,
    /// The asset was issued to an unconfidential address: there is nothing to open.
    #[error("The asset's destination address is not confidential: a treasury view key has nothing to open.")]
    UnconfidentialDestination,
    /// The key derives another blinding key for the destination's script.
    #[error("The treasury view key does not open the asset's destination address: it belongs to another wallet.")]
    NotTheTreasury,
}

/// A treasury wallet's SLIP-77 master blinding key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TreasuryViewKey(MasterBlindingKey);

impl fmt::Debug for TreasuryViewKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TreasuryViewKey(..)")
    }
}

impl FromStr for TreasuryViewKey {
    type Err = TreasuryKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes: [u8; 32] = hex::decode(s.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(TreasuryKeyError::Malformed)?;
        Ok(TreasuryViewKey(MasterBlindingKey::from(bytes)))
    }
}

impl TreasuryViewKey {
    /// The key as stored and as `dumpmasterblindingkey` prints it (64 lower-case hex digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// The blinding private key of `script` in the treasury wallet.
    pub fn blinding_secret(&self, script: &Script) -> SecretKey {
        self.0.blinding_private_key(script)
    }

    /// Checks that this is the key of the wallet `destination` (an asset's issuance
    /// destination address) belongs to.
    pub fn check_opens(
        &self,
        secp: &Secp256k1<All>,
        destination: &Address,
    ) -> Result<(), TreasuryKeyError> {
        let expected = destination
            .blinding_pubkey
            .ok_or(TreasuryKeyError::UnconfidentialDestination)?;
        if self.0.blinding_key(secp, &destination.script_pubkey()) == expected {
            Ok(())
        } else {
            Err(TreasuryKeyError::NotTheTreasury)
        }
    }

    /// Opens a confidential output blinded to one of the treasury's scripts; `None` for an
    /// explicit output or one blinded to anyone else.
    pub fn unblind(&self, secp: &Secp256k1<All>, txout: &TxOut) -> Option<TxOutSecrets> {
        if txout.asset.is_explicit() && txout.value.is_explicit() {
            return None;
        }
        amphora_ct::unblind(secp, txout, self.blinding_secret(&txout.script_pubkey)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use elements::AddressParams;

    /// A pair Elements Core 23.3.3 printed: `dumpmasterblindingkey`, then `getnewaddress` and
    /// `getaddressinfo` (its `scriptPubKey` and `confidential_key`) of the same wallet.
    const MASTER: &str = "992f814110fc5313a70be8c6ef90c0f7c5e02a7c72f6ef33baa88706e5a01631";
    const ADDRESS: &str = "el1qq26t50l4jdqp4zfcqedyckyn23mr38usav6u9t6fzej0jdkemgtys8mwxkydfrnj7ekpa6cjeta5megp575a74x5550egzg5z";
    /// `dumpblindingkey` of that address.
    const ADDRESS_BLINDING_KEY: &str =
        "7cbcd3ed63865813c3168879c888a74e8479ad631b19189d4141093beaae5879";

    fn address() -> Address {
        let address: Address = ADDRESS.parse().unwrap();
        assert_eq!(address.params, &AddressParams::ELEMENTS);
        address
    }

    #[test]
    fn derives_the_blinding_keys_elements_core_derives() {
        let key: TreasuryViewKey = MASTER.parse().unwrap();
        let secret = key.blinding_secret(&address().script_pubkey());
        assert_eq!(hex::encode(secret.secret_bytes()), ADDRESS_BLINDING_KEY);
        assert_eq!(key.to_hex(), MASTER);
    }

    #[test]
    fn opens_its_own_wallets_address_only() {
        let secp = Secp256k1::new();
        let key: TreasuryViewKey = MASTER.parse().unwrap();
        assert_eq!(key.check_opens(&secp, &address()), Ok(()));
        let other: TreasuryViewKey = ADDRESS_BLINDING_KEY.parse().unwrap();
        assert_eq!(
            other.check_opens(&secp, &address()),
            Err(TreasuryKeyError::NotTheTreasury)
        );
        assert_eq!(
            key.check_opens(&secp, &address().to_unconfidential()),
            Err(TreasuryKeyError::UnconfidentialDestination)
        );
    }

    #[test]
    fn refuses_what_is_not_32_bytes_of_hex() {
        for bad in [
            "",
            "00",
            &MASTER[..62],
            &format!("{MASTER}00"),
            &MASTER.replace('9', "g"),
        ] {
            assert_eq!(
                bad.parse::<TreasuryViewKey>(),
                Err(TreasuryKeyError::Malformed),
                "{bad}"
            );
        }
    }
}
