//! HD keys, address types and descriptors of a wallet, shaped like an Elements Core legacy
//! (bdb) HD wallet: external keys at `m/0'/0'/i'`, change keys at `m/0'/1'/i'`, every key
//! usable as `pkh`, `sh(wpkh)` and `wpkh`, and SLIP-77 blinding keys derived per script.

use elements::bitcoin::bip32::{ChildNumber, Xpriv};
use elements::bitcoin::hashes::{hash160, Hash};
use elements::bitcoin::{NetworkKind, PublicKey};
use elements::secp256k1_zkp::{All, Secp256k1, SecretKey};
use elements::{Address, AddressParams, Script};
use elements_miniscript::confidential::slip77::MasterBlindingKey;
use elements_miniscript::descriptor::checksum::desc_checksum;

/// The script template of an address handed out by the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptKind {
    /// `pkh(K)`: legacy P2PKH.
    Legacy,
    /// `sh(wpkh(K))`: P2SH-wrapped segwit v0.
    P2shSegwit,
    /// `wpkh(K)`: native segwit v0.
    Bech32,
}

impl ScriptKind {
    /// All templates a key is watched under (Core's legacy wallet treats all as mine).
    pub const ALL: [ScriptKind; 3] = [
        ScriptKind::Legacy,
        ScriptKind::P2shSegwit,
        ScriptKind::Bech32,
    ];
}

/// `getnewaddress` address types: the script template plus whether the address is blinded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressType {
    /// Script template.
    pub kind: ScriptKind,
    /// Whether the address carries the wallet's blinding key (confidential).
    pub blinded: bool,
}

impl AddressType {
    /// The default (`-addresstype=bech32` with `-blindedaddresses=1`): a blech32 `el1…` address.
    pub const DEFAULT: AddressType = AddressType {
        kind: ScriptKind::Bech32,
        blinded: true,
    };

    /// Parses Elements' address type names; `None` for an unknown type.
    pub fn parse(name: &str) -> Option<AddressType> {
        let (kind, blinded) = match name {
            "legacy" => (ScriptKind::Legacy, true),
            "p2sh-segwit" => (ScriptKind::P2shSegwit, true),
            "bech32" => (ScriptKind::Bech32, false),
            "blech32" => (ScriptKind::Bech32, true),
            _ => return None,
        };
        Some(AddressType { kind, blinded })
    }
}

/// Where a key comes from: which seed, which chain (external/change) and which index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyOrigin {
    /// Index into the wallet's list of HD seeds (a new seed is made on `encryptwallet`).
    pub seed: u32,
    /// `true` for change keys (`m/0'/1'/i'`).
    pub internal: bool,
    /// Child index `i`.
    pub index: u32,
}

impl KeyOrigin {
    /// The BIP32 path as Core prints it in `hdkeypath` (`m/0'/0'/5'`).
    pub fn hdkeypath(&self) -> String {
        format!("m/0'/{}'/{}'", u32::from(self.internal), self.index)
    }

    fn path(&self) -> [ChildNumber; 3] {
        let h = |i| ChildNumber::from_hardened_idx(i).expect("index below 2^31");
        [h(0), h(u32::from(self.internal)), h(self.index)]
    }
}

/// Facts about one HD seed that can be kept unencrypted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeedInfo {
    /// `hdseedid`: hash160 of the seed's public key, hex.
    pub seed_id: String,
    /// `hdmasterfingerprint`, hex.
    pub fingerprint: String,
}

/// A 32-byte HD seed (Core's legacy "seed key").
#[derive(Clone)]
pub struct Seed(pub [u8; 32]);

impl std::fmt::Debug for Seed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

impl Seed {
    /// A fresh random seed that is a valid secp256k1 secret key.
    pub fn random() -> Seed {
        loop {
            let bytes: [u8; 32] = rand::random();
            if SecretKey::from_slice(&bytes).is_ok() {
                return Seed(bytes);
            }
        }
    }

    fn master(&self) -> Xpriv {
        Xpriv::new_master(NetworkKind::Test, &self.0).expect("32-byte seed is always valid")
    }

    /// The unencrypted facts of this seed (`hdseedid`, `hdmasterfingerprint`).
    pub fn info(&self, secp: &Secp256k1<All>) -> SeedInfo {
        let sk = SecretKey::from_slice(&self.0).expect("seed is a valid secret key");
        let pk = PublicKey::new(sk.public_key(secp));
        let id = hash160::Hash::hash(&pk.to_bytes());
        SeedInfo {
            seed_id: id.to_string(),
            fingerprint: self.master().fingerprint(secp).to_string(),
        }
    }

    /// The private key at `origin` (the seed index of `origin` is not checked here).
    pub fn derive(&self, secp: &Secp256k1<All>, origin: &KeyOrigin) -> SecretKey {
        self.master()
            .derive_priv(secp, &origin.path())
            .expect("hardened derivation of a valid key")
            .private_key
    }

    /// The extended key of a chain (`m/0'/0'` external, `m/0'/1'` change), to derive many
    /// keys of it with [`child_key`].
    pub fn chain_key(&self, secp: &Secp256k1<All>, internal: bool) -> Xpriv {
        let h = |i| ChildNumber::from_hardened_idx(i).expect("index below 2^31");
        self.master()
            .derive_priv(secp, &[h(0), h(u32::from(internal))])
            .expect("hardened derivation of a valid key")
    }
}

/// The key `chain_key/index'` (same as [`Seed::derive`] of the full path).
pub fn child_key(secp: &Secp256k1<All>, chain_key: &Xpriv, index: u32) -> SecretKey {
    let child = ChildNumber::from_hardened_idx(index).expect("index below 2^31");
    chain_key
        .derive_priv(secp, &[child])
        .expect("hardened derivation of a valid key")
        .private_key
}

/// The script a key pays to under a template.
pub fn script_for(pk: &PublicKey, kind: ScriptKind, params: &'static AddressParams) -> Script {
    address_for(pk, kind, None, params).script_pubkey()
}

/// The address of a key under a template, blinded with `blinder` if given.
pub fn address_for(
    pk: &PublicKey,
    kind: ScriptKind,
    blinder: Option<elements::secp256k1_zkp::PublicKey>,
    params: &'static AddressParams,
) -> Address {
    match kind {
        ScriptKind::Legacy => Address::p2pkh(pk, blinder, params),
        ScriptKind::P2shSegwit => Address::p2shwpkh(pk, blinder, params),
        ScriptKind::Bech32 => Address::p2wpkh(pk, blinder, params),
    }
}

/// The `desc` of a key under a template, with key origin and checksum, like Core's
/// `InferDescriptor` (`wpkh([952625b6/0'/0'/0']03e3…)#v2zfuex0`).
pub fn descriptor(
    pk: &PublicKey,
    kind: ScriptKind,
    fingerprint: &str,
    origin: &KeyOrigin,
) -> String {
    let key = format!(
        "[{}/0'/{}'/{}']{}",
        fingerprint,
        u32::from(origin.internal),
        origin.index,
        pk
    );
    let body = match kind {
        ScriptKind::Legacy => format!("pkh({key})"),
        ScriptKind::P2shSegwit => format!("sh(wpkh({key}))"),
        ScriptKind::Bech32 => format!("wpkh({key})"),
    };
    with_checksum(&body)
}

/// Appends the descriptor checksum (`#xxxxxxxx`).
pub fn with_checksum(body: &str) -> String {
    match desc_checksum(body) {
        Ok(sum) => format!("{body}#{sum}"),
        Err(_) => body.to_owned(),
    }
}

/// The wallet's SLIP-77 master blinding key: per-script blinding keys are
/// `HMAC-SHA256(master, scriptPubKey)`, as Elements Core derives them.
#[derive(Clone, Copy)]
pub struct BlindingKeys(pub MasterBlindingKey);

impl std::fmt::Debug for BlindingKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindingKeys(..)")
    }
}

impl BlindingKeys {
    /// The master key as `dumpmasterblindingkey` prints it (64 hex digits).
    pub fn master_hex(&self) -> String {
        hex::encode(self.0.as_bytes())
    }

    /// The blinding private key of `script`.
    pub fn secret(&self, script: &Script) -> SecretKey {
        self.0.blinding_private_key(script)
    }

    /// The blinding public key of `script` (the `confidential_key` of its address).
    pub fn public(
        &self,
        secp: &Secp256k1<All>,
        script: &Script,
    ) -> elements::secp256k1_zkp::PublicKey {
        self.0.blinding_key(secp, script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_types_parse_like_elements() {
        assert_eq!(AddressType::parse("bech32").map(|t| t.blinded), Some(false));
        assert_eq!(AddressType::parse("blech32").map(|t| t.blinded), Some(true));
        assert_eq!(
            AddressType::parse("p2sh-segwit").map(|t| t.kind),
            Some(ScriptKind::P2shSegwit)
        );
        assert_eq!(
            AddressType::parse("legacy").map(|t| t.kind),
            Some(ScriptKind::Legacy)
        );
        assert!(AddressType::parse("bech32m").is_none());
    }

    #[test]
    fn descriptor_checksum_matches_elements_core() {
        // From the real elementsd 23.3.3 transcript (getaddressinfo of treasury's first address).
        let pk: PublicKey = "03e3c2f7ab727d6a91492315f31d661c39e27c6ff720c0e046fd93bc5da2983ab9"
            .parse()
            .unwrap();
        let origin = KeyOrigin {
            seed: 0,
            internal: false,
            index: 0,
        };
        assert_eq!(
            descriptor(&pk, ScriptKind::Bech32, "952625b6", &origin),
            "wpkh([952625b6/0'/0'/0']03e3c2f7ab727d6a91492315f31d661c39e27c6ff720c0e046fd93bc5da2983ab9)#v2zfuex0"
        );
        let pk: PublicKey = "0348525d36a149f1b6ab0b77358953bd1633a52c4e18b4c18e3ff0b831c66041c4"
            .parse()
            .unwrap();
        let origin = KeyOrigin { index: 3, ..origin };
        assert_eq!(
            descriptor(&pk, ScriptKind::P2shSegwit, "952625b6", &origin),
            "sh(wpkh([952625b6/0'/0'/3']0348525d36a149f1b6ab0b77358953bd1633a52c4e18b4c18e3ff0b831c66041c4))#vzqn5nmq"
        );
    }

    #[test]
    fn scripts_and_addresses_of_every_type() {
        let secp = Secp256k1::new();
        let seed = Seed([7u8; 32]);
        let origin = KeyOrigin {
            seed: 0,
            internal: false,
            index: 0,
        };
        let pk = PublicKey::new(seed.derive(&secp, &origin).public_key(&secp));
        let params = &AddressParams::ELEMENTS;
        let blinding = BlindingKeys(MasterBlindingKey::from_seed(&seed.0));
        let wpkh = script_for(&pk, ScriptKind::Bech32, params);
        assert!(wpkh.is_v0_p2wpkh());
        assert!(script_for(&pk, ScriptKind::P2shSegwit, params).is_p2sh());
        assert!(script_for(&pk, ScriptKind::Legacy, params).is_p2pkh());
        let conf = address_for(
            &pk,
            ScriptKind::Bech32,
            Some(blinding.public(&secp, &wpkh)),
            params,
        );
        assert!(conf.to_string().starts_with("el1q"));
        assert!(address_for(&pk, ScriptKind::Bech32, None, params)
            .to_string()
            .starts_with("ert1q"));
        let legacy = address_for(
            &pk,
            ScriptKind::Legacy,
            Some(blinding.public(&secp, &wpkh)),
            params,
        );
        assert!(legacy.to_string().starts_with("CTE"));
        let p2sh = address_for(
            &pk,
            ScriptKind::P2shSegwit,
            Some(blinding.public(&secp, &wpkh)),
            params,
        );
        assert!(p2sh.to_string().starts_with("Az"));
        assert_eq!(origin.hdkeypath(), "m/0'/0'/0'");
        // Derivation is deterministic and distinct per path.
        let change = KeyOrigin {
            internal: true,
            ..origin
        };
        assert_ne!(seed.derive(&secp, &origin), seed.derive(&secp, &change));
        let via_chain = child_key(&secp, &seed.chain_key(&secp, true), 0);
        assert_eq!(via_chain, seed.derive(&secp, &change));
        assert_eq!(seed.info(&secp), seed.info(&secp));
    }
}
