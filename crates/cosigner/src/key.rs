//! The platform's BIP32 master key: creation, encrypted storage and the public parts the AMP2
//! co-signer serves.

use std::fmt;
use std::path::Path;

use amphora_core::Network;
use elements::bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpriv, Xpub};
use elements::bitcoin::secp256k1::{All, Secp256k1};
use elements::bitcoin::NetworkKind;
use lwk_signer::bip39::Mnemonic;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::CosignerError;
use crate::key_file::{self, SECRET_LEN};

/// BIP87 purpose: the account key the co-signer publishes at `/info/xpub`.
const BIP87_PURPOSE: u32 = 87;

/// The public part of a platform key as served by `GET /amp2/info/xpub` and
/// `GET /amp2/info/xpub-master`: `{"keyorigin_xpub": "[fingerprint/path]xpub"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XpubInfo {
    /// The extended public key with its key origin, e.g. `[1a2b3c4d/87h/1h/0h]tpub…`.
    pub keyorigin_xpub: String,
}

/// The platform's co-signing key.
///
/// Created with [`PlatformKey::load_or_create`]. The secret never leaves this type except as
/// signatures; `Debug` shows only the fingerprint and network.
pub struct PlatformKey {
    xprv: Xpriv,
    network: Network,
    secp: Secp256k1<All>,
}

impl fmt::Debug for PlatformKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformKey")
            .field("fingerprint", &self.fingerprint().to_string())
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl Drop for PlatformKey {
    fn drop(&mut self) {
        // Best-effort erasure of the secret (copies made by derivations are short-lived).
        self.xprv.private_key.non_secure_erase();
        self.xprv.chain_code = [0u8; 32].into();
    }
}

impl PlatformKey {
    /// Loads the platform key from the encrypted file at `path`, or, if there is no file yet,
    /// generates a new master key and stores it there (mode 0600, written atomically).
    ///
    /// Errors: an empty passphrase, a wrong passphrase, a key file for another network, a file
    /// readable by other users, or I/O failures — each with a message naming the file.
    pub fn load_or_create(
        path: &Path,
        passphrase: &str,
        network: Network,
    ) -> Result<PlatformKey, CosignerError> {
        if passphrase.is_empty() {
            return Err(CosignerError::EmptyPassphrase);
        }
        match std::fs::symlink_metadata(path) {
            Ok(_) => Self::load(path, passphrase, network),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut entropy = [0u8; SECRET_LEN];
                rand::rngs::OsRng.fill_bytes(&mut entropy);
                let key = Self::from_entropy(&entropy, network)?;
                let fingerprint = key.fingerprint().to_string();
                let written =
                    key_file::write_new(path, passphrase, network, &fingerprint, &entropy);
                entropy.fill(0);
                match written {
                    Ok(()) => Ok(key),
                    // Another process created the key first: use that one.
                    Err(CosignerError::KeyFileExists { .. }) => {
                        Self::load(path, passphrase, network)
                    }
                    Err(e) => Err(e),
                }
            }
            Err(source) => Err(CosignerError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn load(path: &Path, passphrase: &str, network: Network) -> Result<PlatformKey, CosignerError> {
        let mut decrypted = key_file::read(path, passphrase, network)?;
        let key = Self::from_entropy(&decrypted.secret, network);
        decrypted.secret.fill(0);
        let key = key?;
        if key.fingerprint().to_string() != decrypted.fingerprint {
            return Err(CosignerError::InvalidKeyFile {
                path: path.to_path_buf(),
                reason: "the decrypted key does not match the recorded fingerprint".to_string(),
            });
        }
        Ok(key)
    }

    /// Restores a platform key from a BIP39 mnemonic (empty BIP39 passphrase), without touching
    /// any file: the key `lwk_signer::SwSigner` derives from the same mnemonic. Used for disaster
    /// recovery tooling and for tests against published vectors.
    pub fn from_mnemonic(mnemonic: &str, network: Network) -> Result<PlatformKey, CosignerError> {
        let mnemonic = Mnemonic::parse(mnemonic)
            .map_err(|e| CosignerError::Crypto(format!("invalid mnemonic: {e}")))?;
        Self::from_entropy(&mnemonic.to_entropy(), network)
    }

    /// The key whose master is the BIP32 master of the BIP39 mnemonic with this entropy (empty
    /// BIP39 passphrase), i.e. the same key `lwk_signer::SwSigner` derives from that mnemonic.
    pub(crate) fn from_entropy(entropy: &[u8], network: Network) -> Result<Self, CosignerError> {
        let mnemonic = Mnemonic::from_entropy(entropy)
            .map_err(|e| CosignerError::Crypto(format!("invalid key entropy: {e}")))?;
        let seed = mnemonic.to_seed("");
        let kind = if network.is_mainnet() {
            NetworkKind::Main
        } else {
            NetworkKind::Test
        };
        let xprv = Xpriv::new_master(kind, &seed)
            .map_err(|e| CosignerError::Crypto(format!("cannot derive the master key: {e}")))?;
        Ok(PlatformKey {
            xprv,
            network,
            secp: Secp256k1::new(),
        })
    }

    /// A 32-byte symmetric key for `purpose`, derived from the master secret with HKDF-SHA256
    /// (the master private key and chain code as input, `purpose` as the info): every replica
    /// holding the platform key derives the same key, and keys for different purposes are
    /// independent. For secrets the platform stores encrypted (e.g. webhook signing secrets).
    pub fn derive_symmetric_key(&self, purpose: &str) -> [u8; 32] {
        let mut input = [0u8; 64];
        input[..32].copy_from_slice(&self.xprv.private_key.secret_bytes());
        input[32..].copy_from_slice(self.xprv.chain_code.as_bytes());
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"amphora platform key"), &input);
        input.fill(0);
        let mut key = [0u8; 32];
        if hkdf.expand(purpose.as_bytes(), &mut key).is_err() {
            unreachable!("32 bytes is a valid HKDF-SHA256 output length");
        }
        key
    }

    /// The network this key is for.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The BIP32 fingerprint of the master key (the key origin fingerprint in descriptors).
    pub fn fingerprint(&self) -> Fingerprint {
        self.xprv.fingerprint(&self.secp)
    }

    /// The master extended public key.
    pub fn master_xpub(&self) -> Xpub {
        Xpub::from_priv(&self.secp, &self.xprv)
    }

    /// The ELIP-153 / BIP44 coin type of the network: 1776 on Liquid, 1 elsewhere.
    pub fn coin_type(&self) -> u32 {
        coin_type(self.network)
    }

    /// The path of the published account key: `m/87'/<coin>'/0'`.
    pub fn account_path(&self) -> DerivationPath {
        DerivationPath::from(vec![
            hardened(BIP87_PURPOSE),
            hardened(self.coin_type()),
            hardened(0),
        ])
    }

    /// The account key served at `GET /amp2/info/xpub`: `[fp/87h/<coin>h/0h]xpub`, the same
    /// shape LWK's `amp2_mock` and Blockstream's AMP2 server return. Pass it to
    /// `lwk_wollet::amp2::Amp2::new` to build descriptors this platform accepts.
    pub fn xpub_info(&self) -> XpubInfo {
        let xpub = self
            .derive_xpub(&self.account_path())
            .expect("hardened derivation from a master key cannot fail");
        XpubInfo {
            keyorigin_xpub: format!(
                "[{}/{}h/{}h/0h]{}",
                self.fingerprint(),
                BIP87_PURPOSE,
                self.coin_type(),
                xpub
            ),
        }
    }

    /// The master key served at `GET /amp2/info/xpub-master`: `[fp]xpub`. Descriptors built
    /// from it with `Amp2::new` are accepted too.
    pub fn master_xpub_info(&self) -> XpubInfo {
        XpubInfo {
            keyorigin_xpub: format!("[{}]{}", self.fingerprint(), self.master_xpub()),
        }
    }

    /// Derives the extended public key at `path` (hardened steps allowed).
    pub fn derive_xpub(&self, path: &DerivationPath) -> Result<Xpub, CosignerError> {
        Ok(Xpub::from_priv(&self.secp, &self.derive_xprv(path)?))
    }

    pub(crate) fn derive_xprv(&self, path: &DerivationPath) -> Result<Xpriv, CosignerError> {
        self.xprv
            .derive_priv(&self.secp, path)
            .map_err(|e| CosignerError::Crypto(format!("key derivation failed: {e}")))
    }

    pub(crate) fn secp(&self) -> &Secp256k1<All> {
        &self.secp
    }
}

/// The ELIP-153 / BIP44 coin type of a network: 1776 on Liquid, 1 on testnet and regtest.
pub fn coin_type(network: Network) -> u32 {
    if network.is_mainnet() {
        1776
    } else {
        1
    }
}

pub(crate) fn hardened(index: u32) -> ChildNumber {
    ChildNumber::from_hardened_idx(index).expect("index below 2^31")
}

/// The LWK network matching an Amphora network (regtest uses Elements' default parameters).
pub fn lwk_network(network: Network) -> lwk_common::Network {
    match network {
        Network::LiquidV1 => lwk_common::Network::Liquid,
        Network::LiquidTestnet => lwk_common::Network::TestnetLiquid,
        Network::LiquidRegtest => lwk_common::Network::default_regtest(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lwk_common::Signer;

    const MNEMONIC: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    fn key_from_mnemonic(mnemonic: &str, network: Network) -> PlatformKey {
        PlatformKey::from_mnemonic(mnemonic, network).unwrap()
    }

    #[test]
    fn key_matches_lwk_software_signer_for_same_mnemonic() {
        let key = key_from_mnemonic(MNEMONIC, Network::LiquidTestnet);
        let signer =
            lwk_signer::SwSigner::new_with_network(MNEMONIC, lwk_common::Network::TestnetLiquid)
                .unwrap();
        assert_eq!(key.fingerprint(), signer.fingerprint());
        assert_eq!(key.fingerprint().to_string(), "73c5da0a");
        assert_eq!(
            key.xpub_info().keyorigin_xpub,
            Signer::keyorigin_xpub(&signer, lwk_common::Bip::Bip87, false).unwrap()
        );
        assert_eq!(
            key.master_xpub_info().keyorigin_xpub,
            format!("[73c5da0a]{}", signer.xpub())
        );
    }

    #[test]
    fn mainnet_key_uses_xpub_and_coin_1776() {
        let key = key_from_mnemonic(MNEMONIC, Network::LiquidV1);
        let info = key.xpub_info().keyorigin_xpub;
        assert!(info.starts_with("[73c5da0a/87h/1776h/0h]xpub"), "{info}");
        let json = serde_json::to_string(&key.master_xpub_info()).unwrap();
        assert!(
            json.starts_with("{\"keyorigin_xpub\":\"[73c5da0a]xpub"),
            "{json}"
        );
    }

    #[test]
    fn debug_does_not_reveal_the_secret() {
        let key = key_from_mnemonic(MNEMONIC, Network::LiquidRegtest);
        let debug = format!("{key:?}");
        assert!(debug.contains("73c5da0a"));
        assert!(!debug.contains("prv"));
        assert!(!debug.contains(&key.xprv.private_key.display_secret().to_string()));
    }

    #[test]
    fn lwk_amp2_client_accepts_both_published_keys() {
        let key = key_from_mnemonic(MNEMONIC, Network::LiquidRegtest);
        for info in [key.xpub_info(), key.master_xpub_info()] {
            lwk_wollet::amp2::Amp2::new(info.keyorigin_xpub, "http://127.0.0.1:1/amp2".into())
                .unwrap();
        }
    }

    #[test]
    fn symmetric_keys_are_per_purpose_and_per_platform_key() {
        let key = key_from_mnemonic(MNEMONIC, Network::LiquidRegtest);
        let again = key_from_mnemonic(MNEMONIC, Network::LiquidRegtest);
        let a = key.derive_symmetric_key("webhook secrets v1");
        assert_eq!(a, again.derive_symmetric_key("webhook secrets v1"));
        assert_ne!(a, key.derive_symmetric_key("other purpose"));
        let other = key_from_mnemonic(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            Network::LiquidRegtest,
        );
        assert_ne!(a, other.derive_symmetric_key("webhook secrets v1"));
        assert_ne!(a, [0u8; 32]);
    }
}
