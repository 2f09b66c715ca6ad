//! An in-memory index of the registered AMP2 wallets, to recognise the scripts a PSET spends
//! and pays.
//!
//! Each wallet's receive and change scripts are derived up to a look-ahead past the highest index
//! known to be used, like a wallet's gap limit. Scripts beyond the look-ahead are still recognised
//! when the PSET carries BIP32 derivation hints for the platform key (LWK adds them to inputs and
//! change outputs): the hint names the wallet and index, and the script is re-derived and compared,
//! so hints are never trusted blindly.

use std::collections::{BTreeMap, HashMap};

use elements::bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource};
use elements::bitcoin::PublicKey;
use elements::Script;
use lwk_wollet::Chain;

use crate::chain_scripts::ChainScripts;
use crate::descriptor::{Amp2Wallet, RegisteredWallet};
use crate::error::DescriptorError;
use crate::key::PlatformKey;

/// Default number of scripts derived past the highest used index of each chain.
pub const DEFAULT_LOOKAHEAD: u32 = 50;

/// Where a script sits in a registered wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScriptSlot {
    pub(crate) wallet: usize,
    pub(crate) chain: Chain,
    pub(crate) index: u32,
}

#[derive(Debug)]
pub(crate) struct IndexedWallet {
    pub(crate) wallet: Amp2Wallet,
    pub(crate) registered: RegisteredWallet,
    /// Each chain (external, internal) with its step derived once, when the descriptor allows.
    chains: [Option<ChainScripts>; 2],
    /// Number of scripts derived so far, per chain (external, internal).
    derived: [u32; 2],
}

impl IndexedWallet {
    /// The script at `index` of `chain` (`None` for a hardened or out-of-range index).
    fn script(&self, chain: Chain, index: u32) -> Option<Script> {
        match &self.chains[chain_slot(chain)] {
            Some(fast) => fast.script(index),
            None => self.wallet.descriptor.script_pubkey(chain, index).ok(),
        }
    }
}

/// The registered wallets, indexed by wallet id, platform key path and script.
#[derive(Debug)]
pub struct WalletIndex {
    fingerprint: Fingerprint,
    wallets: Vec<IndexedWallet>,
    by_wid: HashMap<String, usize>,
    by_origin: HashMap<DerivationPath, usize>,
    by_script: HashMap<Script, ScriptSlot>,
    lookahead: u32,
}

fn chain_slot(chain: Chain) -> usize {
    match chain {
        Chain::External => 0,
        Chain::Internal => 1,
    }
}

impl WalletIndex {
    /// An empty index for wallets co-signed by `key`, deriving `lookahead` scripts past the
    /// highest used index of each chain.
    pub fn new(key: &PlatformKey, lookahead: u32) -> WalletIndex {
        WalletIndex {
            fingerprint: key.fingerprint(),
            wallets: Vec::new(),
            by_wid: HashMap::new(),
            by_origin: HashMap::new(),
            by_script: HashMap::new(),
            lookahead,
        }
    }

    /// Adds a registered wallet (re-checking its descriptor) and derives its first scripts.
    /// Adding the same wallet again is a no-op that returns the same registration.
    pub fn insert(
        &mut self,
        key: &PlatformKey,
        descriptor: &str,
    ) -> Result<RegisteredWallet, DescriptorError> {
        let registered = key.check_descriptor(descriptor)?;
        if let Some(&pos) = self.by_wid.get(&registered.wid) {
            return Ok(self.wallets[pos].registered.clone());
        }
        let wallet = key.parse_wallet(descriptor)?;
        let pos = self.wallets.len();
        self.by_wid.insert(registered.wid.clone(), pos);
        self.by_origin
            .insert(wallet.platform_origin_path.clone(), pos);
        let chains = [Chain::External, Chain::Internal]
            .map(|chain| ChainScripts::new(&wallet.descriptor, chain));
        self.wallets.push(IndexedWallet {
            wallet,
            registered: registered.clone(),
            chains,
            derived: [0, 0],
        });
        for chain in [Chain::External, Chain::Internal] {
            self.derive_up_to(pos, chain, self.lookahead.saturating_sub(1));
        }
        Ok(registered)
    }

    /// Records that `index` of `chain` of wallet `wid` is used, deriving scripts up to
    /// `index + lookahead`. Returns false if the wallet is unknown.
    pub fn mark_used(&mut self, wid: &str, chain: Chain, index: u32) -> bool {
        let Some(&pos) = self.by_wid.get(wid) else {
            return false;
        };
        self.derive_up_to(pos, chain, index.saturating_add(self.lookahead));
        true
    }

    /// The registered wallet with this wallet id.
    pub fn get(&self, wid: &str) -> Option<&RegisteredWallet> {
        self.by_wid
            .get(wid)
            .map(|&pos| &self.wallets[pos].registered)
    }

    /// Number of wallets.
    pub fn len(&self) -> usize {
        self.wallets.len()
    }

    /// Whether there are no wallets.
    pub fn is_empty(&self) -> bool {
        self.wallets.is_empty()
    }

    pub(crate) fn wallet(&self, pos: usize) -> &IndexedWallet {
        &self.wallets[pos]
    }

    fn derive_up_to(&mut self, pos: usize, chain: Chain, last: u32) {
        let slot = chain_slot(chain);
        while self.wallets[pos].derived[slot] <= last {
            let index = self.wallets[pos].derived[slot];
            match self.wallets[pos].script(chain, index) {
                Some(script) => {
                    self.by_script.insert(
                        script,
                        ScriptSlot {
                            wallet: pos,
                            chain,
                            index,
                        },
                    );
                }
                // Only hardened or out-of-range indexes fail; nothing further to derive.
                None => break,
            }
            self.wallets[pos].derived[slot] = index + 1;
        }
    }

    /// Finds the wallet slot of `script`: from the derived scripts, else from BIP32 hints for the
    /// platform key, re-deriving the script to confirm the hint.
    pub(crate) fn resolve(
        &self,
        script: &Script,
        hints: &BTreeMap<PublicKey, KeySource>,
    ) -> Option<ScriptSlot> {
        if let Some(slot) = self.by_script.get(script) {
            return Some(*slot);
        }
        for (fingerprint, path) in hints.values() {
            if *fingerprint != self.fingerprint || path.len() < 2 {
                continue;
            }
            let steps: Vec<ChildNumber> = path.into_iter().copied().collect();
            let (prefix, tail) = steps.split_at(steps.len() - 2);
            let Some(&pos) = self.by_origin.get(&DerivationPath::from(prefix.to_vec())) else {
                continue;
            };
            let chain = match tail[0] {
                ChildNumber::Normal { index: 0 } => Chain::External,
                ChildNumber::Normal { index: 1 } => Chain::Internal,
                _ => continue,
            };
            let ChildNumber::Normal { index } = tail[1] else {
                continue;
            };
            if self.wallets[pos].script(chain, index).as_ref() == Some(script) {
                return Some(ScriptSlot {
                    wallet: pos,
                    chain,
                    index,
                });
            }
        }
        None
    }
}
