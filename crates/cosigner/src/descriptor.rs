//! Checking AMP2 wallet descriptors at registration (ELIP-153).
//!
//! The only accepted shape is the one LWK's `lwk_wollet::amp2::Amp2` builds:
//!
//! ```text
//! ct(<view key>, elwsh(multi(2, [fp/P/s1/s2/s3]<platform xpub>/<0;1>/*,
//!                               [ufp/1095585842'/<coin>'/<account>']<user xpub>/<0;1>/*)))
//! ```
//!
//! * `fp` is this platform's master fingerprint; `P` is the path of the key the wallet was given
//!   (`87'/<coin>'/0'` for `/info/xpub`, empty for `/info/xpub-master`); `s1/s2/s3` is the
//!   ELIP-153 server path: three unhardened indices from the first 12 bytes of
//!   `sha256(user xpub public key)`, each masked to 31 bits. The platform xpub must be exactly the
//!   one this platform derives at that path.
//! * The view key must be private (hex or `slip77(...)`): the platform unblinds every transfer it
//!   co-signs and refuses what it cannot read.
//! * The coin type is 1776 on Liquid and 1 on testnet/regtest; keys are `xpub` on Liquid and
//!   `tpub` elsewhere.

use std::str::FromStr;

use amphora_core::gaid::Gaid;
use elements::bitcoin::bip32::{ChildNumber, DerivationPath, Xpub};
use elements::bitcoin::hashes::{sha256, Hash};
use elements::bitcoin::NetworkKind;
use elements_miniscript::confidential::Key;
use elements_miniscript::descriptor::{
    DescriptorMultiXKey, DescriptorSecretKey, Wildcard, WshInner,
};
use elements_miniscript::miniscript::decode::Terminal;
use elements_miniscript::{ConfidentialDescriptor, Descriptor, DescriptorPublicKey};
use lwk_wollet::WolletDescriptor;
use serde::{Deserialize, Serialize};

use crate::error::DescriptorError;
use crate::key::{coin_type, hardened, lwk_network, PlatformKey};

/// The ELIP-153 purpose `1095585842` (`b"AMP2"`).
pub const ELIP153_PURPOSE: u32 = 0x414d_5032;

/// A descriptor accepted for registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredWallet {
    /// The canonical descriptor string (with checksum), as LWK prints it.
    pub descriptor: String,
    /// The wallet id returned to AMP2 clients: LWK's `WolletDescriptor::dwid()` (ELIP-152) on
    /// the platform's network.
    pub wid: String,
    /// The GAID assigned to the wallet (derived from the canonical descriptor).
    pub gaid: Gaid,
}

/// The parsed, checked parts of a registered AMP2 descriptor that co-signing needs.
#[derive(Debug, Clone)]
pub(crate) struct Amp2Wallet {
    pub(crate) descriptor: WolletDescriptor,
    /// The platform's key origin path up to (excluding) the `<0;1>/*` steps.
    pub(crate) platform_origin_path: DerivationPath,
}

impl PlatformKey {
    /// Checks that `descriptor` is an ELIP-153 AMP2 descriptor co-signed by this platform and
    /// returns its canonical form, wallet id and GAID. Deterministic: the same descriptor (in any
    /// accepted spelling) always yields the same result.
    pub fn check_descriptor(&self, descriptor: &str) -> Result<RegisteredWallet, DescriptorError> {
        let wallet = self.parse_wallet(descriptor)?;
        let canonical = wallet.descriptor.to_string();
        let wid = wallet
            .descriptor
            .dwid(lwk_network(self.network()))
            .map_err(|e| DescriptorError::Unparseable(e.to_string()))?;
        Ok(RegisteredWallet {
            gaid: Gaid::from_descriptor(&canonical),
            descriptor: canonical,
            wid,
        })
    }

    /// Parses and checks a descriptor; used at registration and again when co-signing.
    pub(crate) fn parse_wallet(&self, descriptor: &str) -> Result<Amp2Wallet, DescriptorError> {
        let text = descriptor.trim();
        let ct = match ConfidentialDescriptor::<DescriptorPublicKey>::from_str(text) {
            Ok(ct) => ct,
            Err(err) => {
                return Err(
                    if Descriptor::<DescriptorPublicKey>::from_str(text).is_ok() {
                        DescriptorError::NotConfidential
                    } else {
                        DescriptorError::Unparseable(err.to_string())
                    },
                )
            }
        };
        match &ct.key {
            Key::Slip77(_) | Key::View(DescriptorSecretKey::Single(_)) => {}
            Key::Bare(_) | Key::View(_) => return Err(DescriptorError::BlindingKeyNotPrivate),
        }
        let wsh = match &ct.descriptor {
            Descriptor::Wsh(wsh) => wsh,
            other => {
                return Err(DescriptorError::NotElwsh(
                    format!("{:?}", other.desc_type()).to_lowercase(),
                ))
            }
        };
        let WshInner::Ms(ms) = wsh.as_inner() else {
            return Err(DescriptorError::NotMulti);
        };
        let Terminal::Multi(threshold, keys) = &ms.node else {
            return Err(DescriptorError::NotMulti);
        };
        if *threshold != 2 || keys.len() != 2 {
            return Err(DescriptorError::NotTwoOfTwo {
                threshold: *threshold,
                keys: keys.len(),
            });
        }
        let platform = multipath_xkey(&keys[0], "platform")?;
        let user = multipath_xkey(&keys[1], "user")?;

        let our_fp = self.fingerprint();
        let platform_fp = platform.origin.as_ref().map(|(fp, _)| *fp);
        if platform_fp != Some(our_fp) {
            if user.origin.as_ref().map(|(fp, _)| *fp) == Some(our_fp) {
                return Err(DescriptorError::ServerKeyNotFirst);
            }
            return Err(DescriptorError::ForeignPlatformKey {
                expected: our_fp.to_string(),
            });
        }

        let network = self.network();
        let kind = if network.is_mainnet() {
            NetworkKind::Main
        } else {
            NetworkKind::Test
        };
        for (role, xkey) in [("platform", &platform.xkey), ("user", &user.xkey)] {
            if xkey.network != kind {
                return Err(DescriptorError::WrongNetwork(format!(
                    "the {role} key is {}, this platform runs on {network}",
                    if xkey.network == NetworkKind::Main {
                        "a mainnet xpub"
                    } else {
                        "a testnet tpub"
                    }
                )));
            }
        }
        self.check_user_origin(user)?;

        let suffix = elip153_server_path(&user.xkey);
        let (_, platform_path) = platform.origin.as_ref().expect("checked above");
        let accepted =
            [self.account_path(), DerivationPath::master()].map(|prefix| prefix.extend(&suffix));
        if !accepted.contains(platform_path) {
            return Err(DescriptorError::WrongServerPath {
                expected: format!("[{our_fp}/{}]", accepted[0]),
            });
        }
        let derived = self
            .derive_xpub(platform_path)
            .map_err(|e| DescriptorError::Unparseable(e.to_string()))?;
        if derived != platform.xkey {
            return Err(DescriptorError::ForeignPlatformKey {
                expected: our_fp.to_string(),
            });
        }

        let descriptor = WolletDescriptor::try_from(ct.clone())
            .map_err(|e| DescriptorError::Unparseable(e.to_string()))?;
        Ok(Amp2Wallet {
            descriptor,
            platform_origin_path: platform_path.clone(),
        })
    }

    fn check_user_origin(&self, user: &DescriptorMultiXKey<Xpub>) -> Result<(), DescriptorError> {
        let coin = coin_type(self.network());
        let got = match &user.origin {
            Some((fp, path)) => format!("[{fp}/{path}]"),
            None => "no key origin".to_string(),
        };
        let wrong = || DescriptorError::WrongUserPath {
            coin,
            got: got.clone(),
        };
        let Some((_, path)) = &user.origin else {
            return Err(wrong());
        };
        let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
        let [purpose, coin_step, account] = steps.as_slice() else {
            return Err(wrong());
        };
        if *purpose != hardened(ELIP153_PURPOSE) || !account.is_hardened() {
            return Err(wrong());
        }
        if *coin_step != hardened(coin) {
            let other = if coin == 1 { 1776 } else { 1 };
            if *coin_step == hardened(other) {
                return Err(DescriptorError::WrongNetwork(format!(
                    "the user key uses ELIP-153 coin type {other}, this platform runs on {} (coin type {coin})",
                    self.network()
                )));
            }
            return Err(wrong());
        }
        Ok(())
    }
}

/// Checks a key is `[origin]xpub/<0;1>/*` and returns it.
fn multipath_xkey<'a>(
    key: &'a DescriptorPublicKey,
    role: &'static str,
) -> Result<&'a DescriptorMultiXKey<Xpub>, DescriptorError> {
    match key {
        DescriptorPublicKey::MultiXPub(x) => {
            let expected = [
                DerivationPath::from(vec![ChildNumber::from(0)]),
                DerivationPath::from(vec![ChildNumber::from(1)]),
            ];
            if x.derivation_paths.paths().as_slice() != expected
                || x.wildcard != Wildcard::Unhardened
            {
                return Err(DescriptorError::MissingMultipath { role });
            }
            Ok(x)
        }
        DescriptorPublicKey::XPub(_) => Err(DescriptorError::MissingMultipath { role }),
        DescriptorPublicKey::Single(_) => Err(DescriptorError::NotExtendedKey { role }),
    }
}

/// The ELIP-153 server path for a user key: three unhardened indices from the first 12 bytes of
/// `sha256(user xpub public key)`, each read big-endian and masked to 31 bits.
pub fn elip153_server_path(user_xpub: &Xpub) -> DerivationPath {
    let hash = sha256::Hash::hash(&user_xpub.public_key.serialize()).to_byte_array();
    let steps: Vec<ChildNumber> = hash[..12]
        .chunks(4)
        .map(|c| {
            let index = u32::from_be_bytes([c[0], c[1], c[2], c[3]]) & 0x7FFF_FFFF;
            ChildNumber::from_normal_idx(index).expect("masked below 2^31")
        })
        .collect();
    DerivationPath::from(steps)
}
