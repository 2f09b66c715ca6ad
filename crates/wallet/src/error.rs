//! The one error type of the wallet layer.

use std::path::PathBuf;

use crate::platform::Refusal;

/// Everything that can go wrong in the investor wallet. Messages are meant for the investor.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// `create` was run on a directory that already holds a wallet.
    #[error("a wallet already exists in {}: refusing to overwrite its mnemonic", path.display())]
    AlreadyExists {
        /// The existing mnemonic file.
        path: PathBuf,
    },
    /// No wallet in the directory.
    #[error("no wallet in {}: run `amphora wallet create` first (or pass --wallet-dir)", dir.display())]
    NotCreated {
        /// The wallet directory.
        dir: PathBuf,
    },
    /// The wallet has not been registered with a platform yet.
    #[error("the wallet is not registered with a platform yet: run `amphora wallet register --platform <URL>` first")]
    NotRegistered,
    /// The wallet is registered with another platform than the one given.
    #[error("the wallet is already registered with {registered}; a wallet co-signed by one platform cannot be registered with another ({requested})")]
    OtherPlatform {
        /// The platform the wallet is registered with.
        registered: String,
        /// The platform given now.
        requested: String,
    },
    /// A file of the wallet directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file of the wallet directory is not what the wallet wrote.
    #[error("{} is corrupt: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The mnemonic file is readable or writable by other users.
    #[error("{} is accessible by other users (mode {mode:o}); run `chmod 600` on it", path.display())]
    InsecureMnemonicFile {
        /// The mnemonic file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A mnemonic that BIP39 rejects.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// A bad command-line value (address, asset, amount, URL...).
    #[error("{0}")]
    InvalidInput(String),
    /// The platform could not be reached or answered something unexpected.
    #[error("platform {url}: {reason}")]
    Platform {
        /// The URL called.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The platform refused to co-sign the transfer.
    #[error("{0}")]
    Refused(Refusal),
    /// The platform answered registration with data that does not match this wallet.
    #[error("the platform's answer does not match this wallet: {0}")]
    RegistrationMismatch(String),
    /// The Elements node could not be reached or answered an error.
    #[error("Elements node: {0}")]
    Node(#[from] amphora_rpc::RpcError),
    /// The node's chain is not one this wallet can use.
    #[error("the node runs chain {chain}, which does not match this wallet ({reason})")]
    WrongChain {
        /// The node's chain name.
        chain: String,
        /// Why it does not fit.
        reason: String,
    },
    /// The chain index could not record the walked chain.
    #[error("chain index: {0}")]
    Index(#[from] crate::chain_index::IndexError),
    /// Not enough funds of an asset, or another reason LWK cannot build the transaction.
    #[error("cannot build the transaction: {0}")]
    Build(String),
    /// LWK rejected an operation.
    #[error("wallet engine: {0}")]
    Lwk(#[from] lwk_wollet::Error),
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(String),
}

impl WalletError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        WalletError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn corrupt(path: impl Into<PathBuf>, reason: impl ToString) -> Self {
        WalletError::Corrupt {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

/// Result alias of the wallet layer.
pub type Result<T, E = WalletError> = std::result::Result<T, E>;
