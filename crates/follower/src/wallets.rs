//! The registered AMP2 wallets as the follower sees them: the scripts each wallet can receive
//! on (derived up to a look-ahead past the highest index seen used, like a wallet's gap
//! limit), and each wallet's view key to unblind what it receives.
//!
//! Descriptors are read from the store, where they were checked at registration
//! (`amphora_cosigner::PlatformKey::check_descriptor`) and stored in canonical form, so the
//! follower parses them without the platform key.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use amphora_cosigner::chain_scripts::ChainScripts;
use amphora_store::RegisteredWallet;
use elements::secp256k1_zkp::{All, Secp256k1};
use elements::{Script, TxOut, TxOutSecrets};
use lwk_wollet::{Chain, WolletDescriptor};
use rayon::prelude::*;

/// Scripts derived past the highest used index of each chain of each wallet.
pub const DEFAULT_LOOKAHEAD: u32 = 100;

/// The owner of a recognised script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletOwner {
    /// Wallet id.
    pub wid: String,
    /// The wallet's GAID.
    pub gaid: String,
}

#[derive(Debug)]
struct Wallet {
    owner: WalletOwner,
    descriptor: WolletDescriptor,
    /// Each chain (external, internal) with its step derived once, when the descriptor allows.
    chains: [Option<ChainScripts>; 2],
    /// Scripts derived so far per chain (external, internal).
    derived: [u32; 2],
}

impl Wallet {
    fn new(registered: &RegisteredWallet) -> Result<Wallet, lwk_wollet::Error> {
        let descriptor = WolletDescriptor::from_str(&registered.descriptor)?;
        Ok(Wallet {
            owner: WalletOwner {
                wid: registered.wid.clone(),
                gaid: registered.gaid.clone(),
            },
            chains: [
                ChainScripts::new(&descriptor, Chain::External),
                ChainScripts::new(&descriptor, Chain::Internal),
            ],
            descriptor,
            derived: [0, 0],
        })
    }

    /// The script at `index` of `chain`.
    fn script(&self, chain: Chain, index: u32) -> Option<Script> {
        match &self.chains[slot_of(chain)] {
            Some(fast) => fast.script(index),
            None => self.descriptor.script_pubkey(chain, index).ok(),
        }
    }

    /// Scripts `from..=last` of `chain` (fewer when an index cannot be derived).
    fn scripts(&self, chain: Chain, from: u32, last: u32) -> Vec<(u32, Script)> {
        (from..=last)
            .map_while(|index| self.script(chain, index).map(|s| (index, s)))
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    wallet: usize,
    chain: Chain,
    index: u32,
}

/// The registered wallets indexed by script.
#[derive(Debug)]
pub struct WalletScripts {
    wallets: Vec<Wallet>,
    known: HashSet<String>,
    by_script: HashMap<Script, Slot>,
    lookahead: u32,
    secp: Secp256k1<All>,
}

fn slot_of(chain: Chain) -> usize {
    match chain {
        Chain::External => 0,
        Chain::Internal => 1,
    }
}

impl WalletScripts {
    /// No wallets yet; `lookahead` scripts are derived past the highest used index.
    pub fn new(lookahead: u32) -> WalletScripts {
        WalletScripts {
            wallets: Vec::new(),
            known: HashSet::new(),
            by_script: HashMap::new(),
            lookahead: lookahead.max(1),
            secp: Secp256k1::new(),
        }
    }

    /// Number of wallets indexed.
    pub fn len(&self) -> usize {
        self.wallets.len()
    }

    /// Whether no wallet is indexed.
    pub fn is_empty(&self) -> bool {
        self.wallets.is_empty()
    }

    /// Adds the wallets not indexed yet, deriving their first scripts over the cores (loading
    /// thousands of wallets at start). A descriptor that does not parse (it cannot happen for
    /// a descriptor the co-signer registered) is skipped with a warning rather than stopping
    /// the follower.
    pub fn refresh(&mut self, registered: &[RegisteredWallet]) {
        let new: Vec<&RegisteredWallet> = registered
            .iter()
            .filter(|w| !self.known.contains(&w.wid))
            .collect();
        let last = self.lookahead - 1;
        let prepared: Vec<_> = new
            .par_iter()
            .map(|registered| {
                Wallet::new(registered).map(|wallet| {
                    let scripts = [Chain::External, Chain::Internal]
                        .map(|chain| wallet.scripts(chain, 0, last));
                    (wallet, scripts)
                })
            })
            .collect();
        for (registered, prepared) in new.into_iter().zip(prepared) {
            match prepared {
                Ok((wallet, scripts)) => {
                    let pos = self.wallets.len();
                    self.wallets.push(wallet);
                    for (chain, scripts) in
                        [Chain::External, Chain::Internal].into_iter().zip(scripts)
                    {
                        self.index_scripts(pos, chain, scripts);
                    }
                }
                Err(e) => {
                    tracing::warn!(wid = %registered.wid, "unusable wallet descriptor: {e}")
                }
            }
            self.known.insert(registered.wid.clone());
        }
    }

    /// Records that `index` of `chain` of wallet `wid` is in use (an address handed out),
    /// deriving scripts up to `index + lookahead`.
    pub fn mark_used(&mut self, wid: &str, chain: Chain, index: u32) {
        if let Some(pos) = self.wallets.iter().position(|w| w.owner.wid == wid) {
            self.derive_up_to(pos, chain, index.saturating_add(self.lookahead));
        }
    }

    /// Whether a wallet receives on `script` (without extending any look-ahead).
    pub fn receives_on(&self, script: &Script) -> bool {
        self.by_script.contains_key(script)
    }

    /// The wallet that receives on `script`, if any. Seeing a script used extends its chain's
    /// look-ahead.
    pub fn owner(&mut self, script: &Script) -> Option<WalletOwner> {
        let slot = *self.by_script.get(script)?;
        self.derive_up_to(
            slot.wallet,
            slot.chain,
            slot.index.saturating_add(self.lookahead),
        );
        Some(self.wallets[slot.wallet].owner.clone())
    }

    /// Unblinds `txout` with the view key of the wallet receiving on its script. `None` when
    /// no wallet receives on it or it is not blinded to that wallet's key; explicit outputs
    /// come back as they are, with zero blinders.
    pub fn unblind(&self, txout: &TxOut) -> Option<TxOutSecrets> {
        if let (Some(asset), Some(value)) = (txout.asset.explicit(), txout.value.explicit()) {
            return Some(TxOutSecrets::new(
                asset,
                elements::confidential::AssetBlindingFactor::zero(),
                value,
                elements::confidential::ValueBlindingFactor::zero(),
            ));
        }
        let slot = self.by_script.get(&txout.script_pubkey)?;
        let ct = self.wallets[slot.wallet].descriptor.ct_descriptor().ok()?;
        let key = lwk_common::derive_blinding_key(ct, &txout.script_pubkey)?;
        amphora_ct::unblind(&self.secp, txout, key).ok()
    }

    fn derive_up_to(&mut self, pos: usize, chain: Chain, last: u32) {
        let slot = slot_of(chain);
        let from = self.wallets[pos].derived[slot];
        // hardened or out-of-range indexes end the chain: nothing further to derive
        let scripts = self.wallets[pos].scripts(chain, from, last);
        self.index_scripts(pos, chain, scripts);
    }

    /// Indexes `scripts` (consecutive, from the chain's next index) of wallet `pos`.
    fn index_scripts(&mut self, pos: usize, chain: Chain, scripts: Vec<(u32, Script)>) {
        for (index, script) in scripts {
            self.by_script.insert(
                script,
                Slot {
                    wallet: pos,
                    chain,
                    index,
                },
            );
            self.wallets[pos].derived[slot_of(chain)] = index + 1;
        }
    }
}
