//! One loaded wallet: keys, keypool, address book, encryption state and persistence.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use elements::bitcoin::PublicKey;
use elements::secp256k1_zkp::{All, Secp256k1, SecretKey};
use elements::{Address, AddressParams, Script};
use elements_miniscript::confidential::slip77::MasterBlindingKey;

use super::crypto;
use super::keys::{self, AddressType, BlindingKeys, KeyOrigin, ScriptKind, Seed};
use super::store::{self, KeyRecord, SeedStore, WalletData, FORMAT_VERSION};
use crate::rpc::error::codes;
use crate::rpc::RpcError;

/// Keys kept ready per chain (Core's `-keypool` default).
pub const KEYPOOL_SIZE: usize = 1000;

/// Core's message for any private-key operation on a locked wallet.
pub const UNLOCK_NEEDED: &str =
    "Error: Please enter the wallet passphrase with walletpassphrase first.";

/// Which key and template a watched script belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptOwner {
    /// Index into the wallet's key list.
    pub key: usize,
    /// Script template.
    pub kind: ScriptKind,
}

/// Decrypted seeds of an encrypted wallet, until the unlock timeout.
struct Unlocked {
    seeds: Vec<Seed>,
    until: Instant,
}

/// A loaded wallet.
pub struct Wallet {
    /// Wallet name (`/wallet/<name>`).
    pub name: String,
    /// Path of the wallet file, `None` for an in-memory node.
    pub path: Option<PathBuf>,
    /// Persisted state.
    pub data: WalletData,
    /// Address parameters of the chain.
    pub params: &'static AddressParams,
    /// secp256k1 context.
    pub secp: Secp256k1<All>,
    scripts: HashMap<Script, ScriptOwner>,
    blinding: BlindingKeys,
    plain_seeds: Vec<Seed>,
    unlocked: Option<Unlocked>,
    /// Wallet transactions seen in the mempool at the last sync.
    pub in_mempool: HashSet<elements::Txid>,
    /// Secrets of outputs blinded by `blindrawtransaction`, by commitment, until the
    /// transaction shows up.
    pub pending_outputs: HashMap<Vec<u8>, elements::TxOutSecrets>,
    /// Secrets of issuances blinded by `blindrawtransaction`, by issuing prevout.
    pub pending_issuances: HashMap<elements::OutPoint, super::store::IssuanceSecrets>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet").field("name", &self.name).finish()
    }
}

fn decode_seeds(hexes: &[String]) -> Result<Vec<Seed>, String> {
    hexes
        .iter()
        .map(|h| {
            let bytes = hex::decode(h).map_err(|e| e.to_string())?;
            let arr: [u8; 32] = bytes
                .try_into()
                .map_err(|_| "seed is not 32 bytes".to_owned())?;
            Ok(Seed(arr))
        })
        .collect()
}

fn encode_seeds(seeds: &[Seed]) -> Vec<String> {
    seeds.iter().map(|s| hex::encode(s.0)).collect()
}

impl Wallet {
    /// A new wallet with a fresh seed, synced (without scanning) to `synced`.
    pub fn create(
        name: &str,
        path: Option<PathBuf>,
        params: &'static AddressParams,
        synced: Vec<elements::BlockHash>,
        load_on_startup: bool,
    ) -> Wallet {
        let secp = Secp256k1::new();
        let seed = Seed::random();
        let mbk = MasterBlindingKey::from_seed(&seed.0);
        let data = WalletData {
            format_version: FORMAT_VERSION,
            load_on_startup,
            descriptors: false,
            birth_time: now_secs(),
            seeds: SeedStore::Plain(encode_seeds(std::slice::from_ref(&seed))),
            seed_info: vec![seed.info(&secp)],
            current_seed: 0,
            next_index: [0, 0],
            master_blinding_key: hex::encode(mbk.as_bytes()),
            keys: Vec::new(),
            synced,
            txs: Default::default(),
            logged: Default::default(),
        };
        let mut wallet = Wallet {
            name: name.to_owned(),
            path,
            data,
            params,
            secp,
            scripts: HashMap::new(),
            blinding: BlindingKeys(mbk),
            plain_seeds: vec![seed],
            unlocked: None,
            in_mempool: HashSet::new(),
            pending_outputs: HashMap::new(),
            pending_issuances: HashMap::new(),
        };
        wallet.top_up();
        wallet
    }

    /// A wallet from its stored data.
    pub fn from_data(
        name: &str,
        path: Option<PathBuf>,
        params: &'static AddressParams,
        data: WalletData,
    ) -> Result<Wallet, String> {
        let mbk_bytes = hex::decode(&data.master_blinding_key).map_err(|e| e.to_string())?;
        let mbk: [u8; 32] = mbk_bytes
            .try_into()
            .map_err(|_| "master blinding key is not 32 bytes".to_owned())?;
        let plain_seeds = match &data.seeds {
            SeedStore::Plain(hexes) => decode_seeds(hexes)?,
            SeedStore::Encrypted(_) => Vec::new(),
        };
        let mut wallet = Wallet {
            name: name.to_owned(),
            path,
            data,
            params,
            secp: Secp256k1::new(),
            scripts: HashMap::new(),
            blinding: BlindingKeys(MasterBlindingKey::from(mbk)),
            plain_seeds,
            unlocked: None,
            in_mempool: HashSet::new(),
            pending_outputs: HashMap::new(),
            pending_issuances: HashMap::new(),
        };
        for i in 0..wallet.data.keys.len() {
            wallet.index_key(i)?;
        }
        Ok(wallet)
    }

    /// Writes the wallet file (no-op in memory).
    pub fn save(&mut self) -> Result<(), RpcError> {
        if let Some(path) = &self.path {
            store::write(path, &mut self.data)
                .map_err(|e| RpcError::new(codes::WALLET_ERROR, e.to_string()))?;
        }
        Ok(())
    }

    fn index_key(&mut self, i: usize) -> Result<(), String> {
        let pk = self.key_pubkey(i)?;
        for kind in ScriptKind::ALL {
            self.scripts.insert(
                keys::script_for(&pk, kind, self.params),
                ScriptOwner { key: i, kind },
            );
        }
        Ok(())
    }

    /// Public key of key `i`.
    pub fn key_pubkey(&self, i: usize) -> Result<PublicKey, String> {
        self.data.keys[i]
            .pubkey
            .parse::<PublicKey>()
            .map_err(|e| e.to_string())
    }

    /// Whether the wallet has a passphrase.
    pub fn is_encrypted(&self) -> bool {
        matches!(self.data.seeds, SeedStore::Encrypted(_))
    }

    /// Whether private keys are unavailable right now.
    pub fn is_locked(&mut self) -> bool {
        if !self.is_encrypted() {
            return false;
        }
        if let Some(u) = &self.unlocked {
            if Instant::now() < u.until {
                return false;
            }
        }
        self.unlocked = None;
        true
    }

    /// Fails with -13 when locked (Core's `EnsureWalletIsUnlocked`).
    pub fn ensure_unlocked(&mut self) -> Result<(), RpcError> {
        if self.is_locked() {
            return Err(RpcError::new(codes::WALLET_UNLOCK_NEEDED, UNLOCK_NEEDED));
        }
        Ok(())
    }

    /// Unix time until which the wallet stays unlocked (0 when locked), for `unlocked_until`.
    pub fn unlocked_until(&mut self) -> u64 {
        if self.is_locked() {
            return 0;
        }
        match &self.unlocked {
            Some(u) => now_secs() + u.until.saturating_duration_since(Instant::now()).as_secs(),
            None => 0,
        }
    }

    fn seeds(&mut self) -> Result<&[Seed], RpcError> {
        self.ensure_unlocked()?;
        Ok(match &self.unlocked {
            Some(u) => &u.seeds,
            None => &self.plain_seeds,
        })
    }

    /// The private key of key `i` (needs an unlocked wallet).
    pub fn secret_key(&mut self, i: usize) -> Result<SecretKey, RpcError> {
        let origin = self.data.keys[i].origin;
        let secp = self.secp.clone();
        let seeds = self.seeds()?;
        let seed = seeds
            .get(origin.seed as usize)
            .ok_or_else(|| RpcError::new(codes::WALLET_ERROR, "Private key not available"))?;
        Ok(seed.derive(&secp, &origin))
    }

    /// Derives keys until each chain of the current seed has [`KEYPOOL_SIZE`] unused keys.
    /// Does nothing while locked (the keypool then only shrinks).
    pub fn top_up(&mut self) {
        let current = self.data.current_seed as usize;
        let Ok(seeds) = self.seeds() else { return };
        let seed = seeds[current].clone();
        for internal in [false, true] {
            let unused = self
                .data
                .keys
                .iter()
                .filter(|k| {
                    !k.used
                        && k.origin.internal == internal
                        && k.origin.seed == self.data.current_seed
                })
                .count();
            if unused >= KEYPOOL_SIZE {
                continue;
            }
            let chain_key = seed.chain_key(&self.secp, internal);
            for _ in unused..KEYPOOL_SIZE {
                let slot = usize::from(internal);
                let origin = KeyOrigin {
                    seed: self.data.current_seed,
                    internal,
                    index: self.data.next_index[slot],
                };
                self.data.next_index[slot] += 1;
                let sk = keys::child_key(&self.secp, &chain_key, origin.index);
                let pk = PublicKey::new(sk.public_key(&self.secp));
                self.data.keys.push(KeyRecord {
                    origin,
                    pubkey: pk.to_string(),
                    used: false,
                    label: None,
                    time: now_secs(),
                });
                let i = self.data.keys.len() - 1;
                self.index_key(i).expect("freshly derived key is valid");
            }
        }
    }

    /// Number of unused keys of the current seed on a chain.
    pub fn keypool_size(&self, internal: bool) -> usize {
        self.data
            .keys
            .iter()
            .filter(|k| {
                !k.used && k.origin.internal == internal && k.origin.seed == self.data.current_seed
            })
            .count()
    }

    /// Takes the next key from the keypool (-12 when empty).
    pub fn reserve_key(
        &mut self,
        internal: bool,
        label: Option<String>,
    ) -> Result<usize, RpcError> {
        self.top_up();
        let current = self.data.current_seed;
        let i = self
            .data
            .keys
            .iter()
            .position(|k| !k.used && k.origin.internal == internal && k.origin.seed == current)
            .ok_or_else(|| {
                RpcError::new(
                    codes::WALLET_KEYPOOL_RAN_OUT,
                    "Error: Keypool ran out, please call keypoolrefill first",
                )
            })?;
        self.data.keys[i].used = true;
        self.data.keys[i].label = label;
        self.top_up();
        Ok(i)
    }

    /// A new receiving address (`getnewaddress`).
    pub fn new_address(&mut self, label: &str, ty: AddressType) -> Result<Address, RpcError> {
        let i = self.reserve_key(false, Some(label.to_owned()))?;
        let addr = self.address_of(i, ty.kind, ty.blinded);
        self.save()?;
        Ok(addr)
    }

    /// A new blinded change address (`wpkh` on the internal chain).
    pub fn new_change(&mut self) -> Result<Address, RpcError> {
        let i = self.reserve_key(true, None)?;
        Ok(self.address_of(i, ScriptKind::Bech32, true))
    }

    /// The address of key `i` under a template, blinded with the wallet's key if asked.
    pub fn address_of(&self, i: usize, kind: ScriptKind, blinded: bool) -> Address {
        let pk = self.key_pubkey(i).expect("indexed keys are valid");
        let script = keys::script_for(&pk, kind, self.params);
        let blinder = blinded.then(|| self.blinding.public(&self.secp, &script));
        keys::address_for(&pk, kind, blinder, self.params)
    }

    /// Who owns `script`, if it is one of the wallet's key scripts.
    pub fn owner(&self, script: &Script) -> Option<ScriptOwner> {
        self.scripts.get(script).copied()
    }

    /// Whether `script` is spendable by the wallet (its keys, or `OP_TRUE` as with
    /// `anyonecanspendaremine=1`).
    pub fn is_mine(&self, script: &Script) -> bool {
        is_op_true(script) || self.scripts.contains_key(script)
    }

    /// Whether `script` is change (the wallet's internal chain).
    pub fn is_change(&self, script: &Script) -> bool {
        self.owner(script)
            .is_some_and(|o| self.data.keys[o.key].origin.internal)
    }

    /// The address-book label of `script` (external keys handed out), if any.
    pub fn label(&self, script: &Script) -> Option<&str> {
        let owner = self.owner(script)?;
        let key = &self.data.keys[owner.key];
        if key.origin.internal {
            return None;
        }
        key.label.as_deref()
    }

    /// The blinding keys.
    pub fn blinding(&self) -> &BlindingKeys {
        &self.blinding
    }

    /// `desc` of an owned script.
    pub fn descriptor(&self, owner: ScriptOwner) -> String {
        let key = &self.data.keys[owner.key];
        let pk = self.key_pubkey(owner.key).expect("indexed keys are valid");
        let fp = &self.data.seed_info[key.origin.seed as usize].fingerprint;
        keys::descriptor(&pk, owner.kind, fp, &key.origin)
    }

    /// Encrypts the wallet (`encryptwallet`): a new HD seed is generated, the keypool is
    /// flushed and refilled from it, and all seeds are sealed under `passphrase`.
    pub fn encrypt(&mut self, passphrase: &str) -> Result<(), RpcError> {
        if self.is_encrypted() {
            return Err(RpcError::new(
                codes::WALLET_WRONG_ENC_STATE,
                "Error: running with an encrypted wallet, but encryptwallet was called.",
            ));
        }
        let mut seeds = std::mem::take(&mut self.plain_seeds);
        let seed = Seed::random();
        self.data.seed_info.push(seed.info(&self.secp));
        seeds.push(seed);
        self.data.current_seed = (seeds.len() - 1) as u32;
        self.data.next_index = [0, 0];
        // Flush the keypool: unused keys of older seeds are dropped from the pool.
        for key in &mut self.data.keys {
            if !key.used {
                key.used = true;
                key.label = None;
            }
        }
        self.unlocked = Some(Unlocked {
            seeds: seeds.clone(),
            until: Instant::now() + Duration::from_secs(60),
        });
        self.data.seeds = SeedStore::Plain(Vec::new());
        self.top_up();
        let json = serde_json::to_vec(&encode_seeds(&seeds)).expect("strings serialize");
        self.data.seeds = SeedStore::Encrypted(crypto::seal(passphrase, &json));
        self.unlocked = None;
        self.save()
    }

    /// Unlocks for `timeout` seconds (`walletpassphrase`).
    pub fn unlock(&mut self, passphrase: &str, timeout: u64) -> Result<(), RpcError> {
        let SeedStore::Encrypted(blob) = &self.data.seeds else {
            return Err(RpcError::new(
                codes::WALLET_WRONG_ENC_STATE,
                "Error: running with an unencrypted wallet, but walletpassphrase was called.",
            ));
        };
        let plain = crypto::open(passphrase, blob).map_err(|e| match e {
            crypto::CryptoError::WrongPassphrase => RpcError::new(
                codes::WALLET_PASSPHRASE_INCORRECT,
                "Error: The wallet passphrase entered was incorrect.",
            ),
            other => RpcError::new(codes::WALLET_ERROR, other.to_string()),
        })?;
        let hexes: Vec<String> = serde_json::from_slice(&plain)
            .map_err(|e| RpcError::new(codes::WALLET_ERROR, e.to_string()))?;
        let seeds = decode_seeds(&hexes).map_err(|e| RpcError::new(codes::WALLET_ERROR, e))?;
        self.unlocked = Some(Unlocked {
            seeds,
            until: Instant::now() + Duration::from_secs(timeout),
        });
        self.top_up();
        self.save()
    }

    /// Locks again (`walletlock`).
    pub fn lock(&mut self) -> Result<(), RpcError> {
        if !self.is_encrypted() {
            return Err(RpcError::new(
                codes::WALLET_WRONG_ENC_STATE,
                "Error: running with an unencrypted wallet, but walletlock was called.",
            ));
        }
        self.unlocked = None;
        Ok(())
    }
}

/// `OP_TRUE` (`51`): the genesis free coins' script.
pub fn is_op_true(script: &Script) -> bool {
    script.as_bytes() == [0x51]
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wallet() -> Wallet {
        Wallet::create("w", None, &AddressParams::ELEMENTS, Vec::new(), false)
    }

    #[test]
    fn new_addresses_use_consecutive_external_keys() {
        let mut w = wallet();
        let a = w.new_address("", AddressType::DEFAULT).unwrap();
        let b = w
            .new_address("x", AddressType::parse("legacy").unwrap())
            .unwrap();
        assert!(a.is_blinded() && b.is_blinded());
        let oa = w.owner(&a.script_pubkey()).unwrap();
        let ob = w.owner(&b.script_pubkey()).unwrap();
        assert_eq!(w.data.keys[oa.key].origin.hdkeypath(), "m/0'/0'/0'");
        assert_eq!(w.data.keys[ob.key].origin.hdkeypath(), "m/0'/0'/1'");
        assert_eq!(w.label(&b.script_pubkey()), Some("x"));
        let change = w.new_change().unwrap();
        assert!(w.is_change(&change.script_pubkey()));
        assert_eq!(w.keypool_size(false), KEYPOOL_SIZE);
    }

    #[test]
    fn encryption_state_machine_matches_core() {
        let mut w = wallet();
        assert_eq!(
            w.unlock("x", 60).unwrap_err().code,
            codes::WALLET_WRONG_ENC_STATE
        );
        assert_eq!(w.lock().unwrap_err().code, codes::WALLET_WRONG_ENC_STATE);
        w.encrypt("secret").unwrap();
        assert!(w.is_locked());
        assert_eq!(w.ensure_unlocked().unwrap_err().message, UNLOCK_NEEDED);
        assert_eq!(
            w.encrypt("again").unwrap_err().code,
            codes::WALLET_WRONG_ENC_STATE
        );
        assert_eq!(
            w.unlock("wrong", 60).unwrap_err().code,
            codes::WALLET_PASSPHRASE_INCORRECT
        );
        // Locked wallets still hand out keypool addresses.
        let addr = w.new_address("", AddressType::DEFAULT).unwrap();
        let owner = w.owner(&addr.script_pubkey()).unwrap();
        assert_eq!(
            w.data.keys[owner.key].origin.seed, 1,
            "a new seed after encryptwallet"
        );
        assert!(w.secret_key(owner.key).is_err());
        w.unlock("secret", 60).unwrap();
        let sk = w.secret_key(owner.key).unwrap();
        assert_eq!(
            PublicKey::new(sk.public_key(&w.secp)),
            w.key_pubkey(owner.key).unwrap()
        );
        w.lock().unwrap();
        assert!(w.is_locked());
    }

    #[test]
    fn stored_wallet_reloads_with_same_scripts() {
        let mut w = wallet();
        let a = w.new_address("", AddressType::DEFAULT).unwrap();
        let json = serde_json::to_string(&w.data).unwrap();
        let data: WalletData = serde_json::from_str(&json).unwrap();
        let w2 = Wallet::from_data("w", None, &AddressParams::ELEMENTS, data).unwrap();
        assert!(w2.is_mine(&a.script_pubkey()));
        assert_eq!(
            w2.address_of(
                w2.owner(&a.script_pubkey()).unwrap().key,
                ScriptKind::Bech32,
                true
            ),
            a
        );
    }
}
