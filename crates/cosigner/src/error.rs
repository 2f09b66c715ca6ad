//! Errors of the co-signer: loading the platform key and checking AMP2 descriptors.

use std::path::PathBuf;

use amphora_core::Network;

/// Errors loading, creating or using the platform key.
#[derive(Debug, thiserror::Error)]
pub enum CosignerError {
    /// The passphrase protecting the key file is empty.
    #[error(
        "the platform key passphrase is empty: configure a passphrase to encrypt the platform key"
    )]
    EmptyPassphrase,
    /// Reading or writing the key file failed.
    #[error("platform key file {path}: {source}")]
    Io {
        /// The key file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key file does not decrypt: the passphrase is wrong (or the file was altered).
    #[error(
        "cannot decrypt the platform key file {path}: wrong passphrase (or the file was altered)"
    )]
    WrongPassphrase {
        /// The key file.
        path: PathBuf,
    },
    /// The key file is not a valid platform key file.
    #[error("invalid platform key file {path}: {reason}")]
    InvalidKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file belongs to another network than the one configured.
    #[error("the platform key file {path} is for {file}, but the platform is configured for {configured}")]
    NetworkMismatch {
        /// The key file.
        path: PathBuf,
        /// The network recorded in the file.
        file: Network,
        /// The configured network.
        configured: Network,
    },
    /// Other users can read or write the key file.
    #[error("the platform key file {path} is accessible by other users (mode {mode:04o}); restrict it with `chmod 600`")]
    InsecurePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Another process created the key file while this one was creating it (handled internally
    /// by loading that file instead).
    #[error("the platform key file {path} was created concurrently by another process")]
    KeyFileExists {
        /// The key file.
        path: PathBuf,
    },
    /// A key derivation or cryptographic operation failed.
    #[error("platform key: {0}")]
    Crypto(String),
}

/// Why a descriptor is refused at registration. Display strings are shown to wallet users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptorError {
    /// The input is not a descriptor at all (syntax, checksum, keys).
    #[error("invalid descriptor: {0}")]
    Unparseable(String),
    /// A valid descriptor, but not a confidential `ct(...)` one.
    #[error("descriptor is not confidential: expected ct(<view key>, elwsh(multi(2, <platform key>, <user key>)))")]
    NotConfidential,
    /// The descriptor blinding key is public (or otherwise unusable) so outputs cannot be unblinded.
    #[error("the descriptor blinding key must be a private view key (hex or slip77(...)) so the platform can unblind the transfers it co-signs")]
    BlindingKeyNotPrivate,
    /// Not a native segwit `elwsh(...)` script.
    #[error(
        "descriptor must be elwsh(multi(2, <platform key>, <user key>)), got a {0} descriptor"
    )]
    NotElwsh(String),
    /// An `elwsh` whose script is not `multi(...)` (e.g. `sortedmulti` or a miniscript policy).
    #[error("the elwsh script must be multi(2, <platform key>, <user key>)")]
    NotMulti,
    /// A multisig other than 2-of-2.
    #[error("descriptor must be a 2-of-2 multisig, got {threshold}-of-{keys}")]
    NotTwoOfTwo {
        /// Required signatures.
        threshold: usize,
        /// Number of keys.
        keys: usize,
    },
    /// A key is not an extended public key.
    #[error("{role} key must be an extended public key (xpub/tpub) with key origin")]
    NotExtendedKey {
        /// "platform" or "user".
        role: &'static str,
    },
    /// A key lacks the `/<0;1>/*` receive/change multipath.
    #[error("{role} key must end with /<0;1>/* (receive and change branches)")]
    MissingMultipath {
        /// "platform" or "user".
        role: &'static str,
    },
    /// The platform key is present, but as the second key.
    #[error("the platform key must be the first key of multi(2, <platform key>, <user key>)")]
    ServerKeyNotFirst,
    /// The first key does not derive from this platform's key.
    #[error("the first key does not belong to this platform (expected key origin fingerprint {expected})")]
    ForeignPlatformKey {
        /// This platform's master fingerprint.
        expected: String,
    },
    /// The platform key is this platform's, but not at the ELIP-153 path for this user key.
    #[error("the platform key is not at the ELIP-153 server path for this user key (expected {expected})")]
    WrongServerPath {
        /// The expected key origin path (one of the accepted forms).
        expected: String,
    },
    /// The user key origin is not the ELIP-153 user path `m/1095585842'/<coin>'/<account>'`.
    #[error("the user key must have the ELIP-153 key origin [fingerprint/1095585842'/{coin}'/<account>'], got {got}")]
    WrongUserPath {
        /// The coin type expected for the platform's network.
        coin: u32,
        /// The origin the descriptor carries.
        got: String,
    },
    /// A key belongs to another network (xpub vs tpub, or the ELIP-153 coin type).
    #[error("descriptor is for another network: {0}")]
    WrongNetwork(String),
}

/// Why the platform refuses to co-sign a PSET. The platform fails closed: anything it cannot
/// fully understand is refused. [`CosignError::code`] gives a stable snake_case code for the
/// `reasons` list of the HTTP error body.
#[derive(Debug, thiserror::Error)]
pub enum CosignError {
    /// The PSET cannot be decoded or is structurally invalid.
    #[error("invalid PSET: {0}")]
    InvalidPset(String),
    /// An input the platform does not handle (issuance, reissuance, peg-in).
    #[error("input {vin} is not supported: {what}")]
    UnsupportedInput {
        /// Input index.
        vin: usize,
        /// What it is.
        what: &'static str,
    },
    /// An input lacks its `witness_utxo`.
    #[error("input {vin} has no witness_utxo: the PSET must carry the outputs it spends")]
    MissingWitnessUtxo {
        /// Input index.
        vin: usize,
    },
    /// An input spends an output the chain does not have.
    #[error("input {vin} spends an output that does not exist in the chain or the mempool")]
    InputUnknown {
        /// Input index.
        vin: usize,
    },
    /// An input spends an output that is already spent (in a block or in the mempool).
    #[error("input {vin} spends an output that is already spent")]
    InputSpent {
        /// Input index.
        vin: usize,
    },
    /// An input's `witness_utxo` is not the output the chain has (script, asset or value).
    #[error("input {vin}: the witness_utxo differs from the output in the chain (script, asset or value)")]
    InputUtxoMismatch {
        /// Input index.
        vin: usize,
    },
    /// An input does not belong to any wallet registered with the platform.
    #[error("input {vin} does not belong to a wallet registered with this platform")]
    InputNotRegistered {
        /// Input index.
        vin: usize,
    },
    /// Inputs come from more than one registered wallet.
    #[error("all inputs must come from one wallet, but input {vin} belongs to another wallet than input 0")]
    MultipleSendingWallets {
        /// The first input of another wallet.
        vin: usize,
    },
    /// An input could not be unblinded with its wallet's view key.
    #[error("input {vin} cannot be unblinded with its wallet's view key")]
    CannotUnblindInput {
        /// Input index.
        vin: usize,
    },
    /// An output's asset and amount could not be established.
    #[error("output {vout} cannot be unblinded: it is not explicit, has no valid blinding proofs and does not pay a registered wallet")]
    CannotUnblindOutput {
        /// Output index.
        vout: usize,
    },
    /// Unblinded inputs and outputs do not balance.
    #[error("inputs and outputs of asset {asset} do not balance")]
    Unbalanced {
        /// The asset (hex).
        asset: String,
    },
    /// An input asks for a signature hash type other than SIGHASH_ALL.
    #[error("input {vin} requests a sighash type other than SIGHASH_ALL")]
    UnsupportedSighash {
        /// Input index.
        vin: usize,
    },
    /// The PSET given for signing is not the one that was analysed.
    #[error("the PSET changed since it was analysed")]
    PsetChanged,
    /// The transfer was not approved by the policy.
    #[error("the transfer is not approved: {}", .0.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "))]
    NotApproved(Vec<amphora_core::policy::ReasonCode>),
    /// A key operation failed.
    #[error(transparent)]
    Key(#[from] CosignerError),
}

impl CosignError {
    /// A stable snake_case code for the error.
    pub fn code(&self) -> &'static str {
        match self {
            CosignError::InvalidPset(_) => "pset_invalid",
            CosignError::UnsupportedInput { .. } => "input_unsupported",
            CosignError::MissingWitnessUtxo { .. } => "input_missing_utxo",
            CosignError::InputUnknown { .. } => "input_unknown",
            CosignError::InputSpent { .. } => "input_spent",
            CosignError::InputUtxoMismatch { .. } => "input_utxo_mismatch",
            CosignError::InputNotRegistered { .. } => "input_not_registered",
            CosignError::MultipleSendingWallets { .. } => "multiple_sending_wallets",
            CosignError::CannotUnblindInput { .. } => "input_not_unblindable",
            CosignError::CannotUnblindOutput { .. } => "output_not_unblindable",
            CosignError::Unbalanced { .. } => "pset_unbalanced",
            CosignError::UnsupportedSighash { .. } => "sighash_unsupported",
            CosignError::PsetChanged => "pset_changed",
            CosignError::NotApproved(_) => "not_approved",
            CosignError::Key(_) => "internal_error",
        }
    }
}
