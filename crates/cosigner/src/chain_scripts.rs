//! The scripts of one chain (receive or change) of a registered wallet, derived fast.
//!
//! A wallet descriptor's keys read `[origin]xpub/<0;1>/*`: LWK's `script_pubkey(chain, index)`
//! derives each key two steps down (the chain, then the index) for every script. Deriving the
//! chain step once per wallet leaves one step per key and script; deriving the keys with one
//! kept secp256k1 context (miniscript's `to_public_key` makes and randomises a new one per key)
//! halves the rest. Together they cut the cost of indexing a wallet's look-ahead (registering,
//! and loading thousands of wallets at start) about threefold.

use elements::bitcoin::bip32::{ChildNumber, DerivationPath};
use elements::bitcoin::PublicKey;
use elements::secp256k1_zkp::{All, Secp256k1};
use elements::Script;
use elements_miniscript::descriptor::{
    DescriptorPublicKey, DescriptorXKey, SinglePubKey, Wildcard,
};
use elements_miniscript::{translate_hash_clone, Descriptor, TranslatePk, Translator};
use lwk_wollet::{Chain, WolletDescriptor};

/// Replaces each extended key by its child at the key's own derivation path (the chain step),
/// keeping the wildcard: the descriptor derives the same scripts with one step less.
struct ChainStepDone<'a> {
    secp: &'a Secp256k1<All>,
}

impl Translator<DescriptorPublicKey, DescriptorPublicKey, ()> for ChainStepDone<'_> {
    fn pk(&mut self, pk: &DescriptorPublicKey) -> Result<DescriptorPublicKey, ()> {
        match pk {
            DescriptorPublicKey::XPub(x) if !x.derivation_path.is_empty() => {
                let xkey = x
                    .xkey
                    .derive_pub(self.secp, &x.derivation_path)
                    .map_err(|_| ())?;
                Ok(DescriptorPublicKey::XPub(DescriptorXKey {
                    origin: x.origin.clone(),
                    xkey,
                    derivation_path: Default::default(),
                    wildcard: x.wildcard,
                }))
            }
            DescriptorPublicKey::MultiXPub(_) => Err(()),
            other => Ok(other.clone()),
        }
    }

    translate_hash_clone!(DescriptorPublicKey, DescriptorPublicKey, ());
}

/// Each key at one index of the wildcard, derived with a kept context.
struct AtIndex<'a> {
    secp: &'a Secp256k1<All>,
    index: u32,
}

impl Translator<DescriptorPublicKey, PublicKey, ()> for AtIndex<'_> {
    fn pk(&mut self, pk: &DescriptorPublicKey) -> Result<PublicKey, ()> {
        match pk {
            DescriptorPublicKey::Single(single) => match single.key {
                SinglePubKey::FullKey(key) => Ok(key),
                SinglePubKey::XOnly(_) => Err(()),
            },
            DescriptorPublicKey::XPub(x) => {
                let step: DerivationPath = match x.wildcard {
                    Wildcard::None => DerivationPath::master(),
                    Wildcard::Unhardened => {
                        vec![ChildNumber::from_normal_idx(self.index).map_err(|_| ())?].into()
                    }
                    Wildcard::Hardened => return Err(()),
                };
                let path = x.derivation_path.extend(step);
                let xpub = x.xkey.derive_pub(self.secp, &path).map_err(|_| ())?;
                Ok(PublicKey::new(xpub.public_key))
            }
            DescriptorPublicKey::MultiXPub(_) => Err(()),
        }
    }

    translate_hash_clone!(DescriptorPublicKey, PublicKey, ());
}

/// One chain of a wallet descriptor with the chain step of every key already derived.
#[derive(Debug, Clone)]
pub struct ChainScripts {
    descriptor: Descriptor<DescriptorPublicKey>,
    secp: Secp256k1<All>,
}

impl ChainScripts {
    /// The `chain` scripts of `wallet`; `None` for a descriptor without keys to derive from
    /// (a list of scripts) or with keys this does not know how to shorten.
    pub fn new(wallet: &WolletDescriptor, chain: Chain) -> Option<ChainScripts> {
        let ct = wallet.ct_descriptor().ok()?;
        let mut singles = ct.descriptor.clone().into_single_descriptors().ok()?;
        let single = match (singles.len(), chain) {
            (0, _) => return None,
            (1, _) | (_, Chain::External) => singles.swap_remove(0),
            (_, Chain::Internal) => singles.swap_remove(1),
        };
        let secp = Secp256k1::new();
        let descriptor = single
            .translate_pk(&mut ChainStepDone { secp: &secp })
            .ok()?;
        Some(ChainScripts { descriptor, secp })
    }

    /// The script at `index` (`None` for a hardened or out-of-range index).
    pub fn script(&self, index: u32) -> Option<Script> {
        let keys = self
            .descriptor
            .translate_pk(&mut AtIndex {
                secp: &self.secp,
                index,
            })
            .ok()?;
        Some(keys.script_pubkey())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::PlatformKey;
    use amphora_core::Network;
    use lwk_wollet::amp2::Amp2;
    use std::str::FromStr;

    #[test]
    fn the_scripts_are_lwks_for_both_chains() {
        let key = PlatformKey::from_mnemonic(
            "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
             abandon about",
            Network::LiquidRegtest,
        )
        .unwrap();
        let network = crate::key::lwk_network(Network::LiquidRegtest);
        let amp2 = Amp2::new(
            key.xpub_info().keyorigin_xpub,
            "http://127.0.0.1:1/amp2".into(),
        )
        .unwrap();
        let signer = lwk_signer::SwSigner::new_with_network(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            network,
        )
        .unwrap();
        for account in [0, 7] {
            let text = amp2
                .elip153_from_signer(&signer, account)
                .unwrap()
                .descriptor()
                .to_string();
            let wallet = WolletDescriptor::from_str(&text).unwrap();
            for chain in [Chain::External, Chain::Internal] {
                let fast = ChainScripts::new(&wallet, chain).unwrap();
                for index in [0, 1, 19, 250, (1 << 31) - 1] {
                    assert_eq!(
                        fast.script(index),
                        Some(wallet.script_pubkey(chain, index).unwrap()),
                        "account {account} {chain:?} {index}"
                    );
                }
                assert_eq!(fast.script(1 << 31), None, "hardened");
            }
            assert_ne!(
                ChainScripts::new(&wallet, Chain::External)
                    .unwrap()
                    .script(0),
                ChainScripts::new(&wallet, Chain::Internal)
                    .unwrap()
                    .script(0)
            );
        }
    }
}
