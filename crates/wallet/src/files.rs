//! The wallet directory: the mnemonic (mode 0600), `wallet.json` (registration and chain) and the
//! sync state (`chain-index.json` and LWK's own store under `lwk/`).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use elements::{AssetId, BlockHash};
use lwk_signer::bip39::Mnemonic;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Result, WalletError};

/// The files of one wallet directory.
#[derive(Debug, Clone)]
pub struct WalletDir {
    root: PathBuf,
}

impl WalletDir {
    /// The wallet in directory `root` (nothing is touched until used).
    pub fn new(root: impl Into<PathBuf>) -> WalletDir {
        WalletDir { root: root.into() }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The BIP39 mnemonic, one line, mode 0600.
    pub fn mnemonic_path(&self) -> PathBuf {
        self.root.join("mnemonic")
    }

    /// The wallet's configuration: registration and chain parameters.
    pub fn config_path(&self) -> PathBuf {
        self.root.join("wallet.json")
    }

    /// The sync cursor and the wallet's transactions found on chain.
    pub fn index_path(&self) -> PathBuf {
        self.root.join("chain-index.json")
    }

    /// Cached registry data of the assets the wallet has seen.
    pub fn assets_path(&self) -> PathBuf {
        self.root.join("assets.json")
    }

    /// LWK's persisted wallet updates.
    pub fn lwk_dir(&self) -> PathBuf {
        self.root.join("lwk")
    }

    /// Creates the directory (mode 0700) if missing.
    pub fn ensure_exists(&self) -> Result<()> {
        if !self.root.exists() {
            fs::create_dir_all(&self.root).map_err(|e| WalletError::io(&self.root, e))?;
            fs::set_permissions(&self.root, fs::Permissions::from_mode(0o700))
                .map_err(|e| WalletError::io(&self.root, e))?;
        }
        Ok(())
    }
}

/// Writes a new mnemonic file with mode 0600. Fails if the file exists: a mnemonic is never
/// overwritten.
pub fn write_mnemonic(path: &Path, mnemonic: &Mnemonic) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                WalletError::AlreadyExists {
                    path: path.to_path_buf(),
                }
            } else {
                WalletError::io(path, e)
            }
        })?;
    // `mode` is filtered by the umask; make sure the file ends up exactly 0600.
    file.set_permissions(fs::Permissions::from_mode(0o600))
        .map_err(|e| WalletError::io(path, e))?;
    writeln!(file, "{mnemonic}").map_err(|e| WalletError::io(path, e))?;
    file.sync_all().map_err(|e| WalletError::io(path, e))?;
    Ok(())
}

/// Reads the mnemonic file, refusing it if other users can access it.
pub fn read_mnemonic(path: &Path) -> Result<Mnemonic> {
    let meta = fs::metadata(path).map_err(|e| WalletError::io(path, e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(WalletError::InsecureMnemonicFile {
            path: path.to_path_buf(),
            mode,
        });
    }
    let text = fs::read_to_string(path).map_err(|e| WalletError::io(path, e))?;
    Mnemonic::parse(text.trim()).map_err(|e| WalletError::corrupt(path, e))
}

/// Writes `value` as pretty JSON, atomically (temporary file + rename), mode 0600.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| WalletError::corrupt(path, e))?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| WalletError::io(&tmp, e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| WalletError::io(&tmp, e))?;
        file.sync_all().map_err(|e| WalletError::io(&tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| WalletError::io(path, e))
}

/// Reads a JSON file written by [`write_json`]; `None` if it does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| WalletError::corrupt(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WalletError::io(path, e)),
    }
}

/// `wallet.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletConfig {
    /// The AMP2 registration, once `register` succeeded.
    #[serde(default)]
    pub registration: Option<Registration>,
    /// The chain the wallet lives on, learnt from the node.
    #[serde(default)]
    pub chain: Option<ChainParams>,
    /// The node's height when the wallet was created: no earlier block can pay it, so the first
    /// sync starts there. `None` (node unreachable at creation) means from genesis.
    #[serde(default)]
    pub birth_height: Option<u32>,
}

/// A wallet's registration with an Amphora platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// The platform's base URL (e.g. `http://127.0.0.1:8080`).
    pub platform: String,
    /// The platform key the wallet is co-signed with (`[fp/path]xpub`, from `/amp2/info/xpub`).
    pub server_keyorigin_xpub: String,
    /// The ELIP-153 account number of the user key.
    pub account: u32,
    /// The canonical CT descriptor registered.
    pub descriptor: String,
    /// The AMP2 wallet id (ELIP-152 `dwid`).
    pub wid: String,
    /// The GAID the platform assigned.
    pub gaid: String,
}

/// The chain parameters the wallet needs (address prefixes and fee asset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainParams {
    /// The chain name as Elements reports it (`liquidv1`, `liquidtestnet`, `liquidregtest`...).
    pub name: String,
    /// The policy asset (L-BTC) of the chain.
    pub policy_asset: AssetId,
    /// The genesis block hash.
    pub genesis_hash: BlockHash,
}

impl ChainParams {
    /// The LWK network for these parameters.
    pub fn lwk_network(&self) -> lwk_common::Network {
        match self.name.as_str() {
            "liquidv1" => lwk_common::Network::Liquid,
            "liquidtestnet" => lwk_common::Network::TestnetLiquid,
            _ => lwk_common::Network::CustomElements(
                lwk_common::ElementsParamsBuilder::new()
                    .with_policy_asset(self.policy_asset)
                    .with_genesis_hash(self.genesis_hash)
                    .build()
                    .expect("parameters are all given"),
            ),
        }
    }

    /// Whether this is Liquid mainnet.
    pub fn is_mainnet(&self) -> bool {
        self.name == "liquidv1"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &str =
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn mnemonic_file_is_0600_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnemonic");
        let mnemonic = Mnemonic::parse(WORDS).unwrap();
        write_mnemonic(&path, &mnemonic).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_mnemonic(&path).unwrap(), mnemonic);
    }

    #[test]
    fn mnemonic_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnemonic");
        let mnemonic = Mnemonic::parse(WORDS).unwrap();
        write_mnemonic(&path, &mnemonic).unwrap();
        let other = Mnemonic::parse(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
        )
        .unwrap();
        assert!(matches!(
            write_mnemonic(&path, &other),
            Err(WalletError::AlreadyExists { .. })
        ));
        assert_eq!(read_mnemonic(&path).unwrap(), mnemonic);
    }

    #[test]
    fn readable_mnemonic_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnemonic");
        write_mnemonic(&path, &Mnemonic::parse(WORDS).unwrap()).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_mnemonic(&path).unwrap_err();
        assert!(matches!(
            err,
            WalletError::InsecureMnemonicFile { mode: 0o644, .. }
        ));
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn corrupt_mnemonic_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnemonic");
        fs::write(&path, "not a mnemonic\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let err = read_mnemonic(&path).unwrap_err();
        assert!(err.to_string().contains("mnemonic is corrupt"), "{err}");
    }

    #[test]
    fn json_round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wallet.json");
        assert_eq!(read_json::<WalletConfig>(&path).unwrap(), None);
        let config = WalletConfig {
            birth_height: Some(7),
            ..Default::default()
        };
        write_json(&path, &config).unwrap();
        assert_eq!(read_json::<WalletConfig>(&path).unwrap(), Some(config));
        fs::write(&path, "{").unwrap();
        assert!(matches!(
            read_json::<WalletConfig>(&path),
            Err(WalletError::Corrupt { .. })
        ));
    }
}
