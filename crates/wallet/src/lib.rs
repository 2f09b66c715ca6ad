//! amphora-wallet: the investor's wallet, `amphora wallet ...`.
//!
//! * Keys: a BIP39 mnemonic stored in the wallet directory with mode 0600, used through LWK's
//!   software signer (`lwk_signer::SwSigner`).
//! * Registration: the ELIP-153 AMP2 descriptor `ct(view, elwsh(multi(2, platform, user)))` built
//!   by LWK's `Amp2::elip153_from_signer` with the platform key from `GET /amp2/info/xpub`, posted
//!   to `POST /amp2/wallets/register`; the wallet id and GAID returned are checked against the
//!   descriptor (`WolletDescriptor::dwid`, `amphora_core::gaid::Gaid::from_descriptor`).
//! * Sync: blocks walked from an Elements node's JSON-RPC ([`sync`]) into a [`ChainIndex`] of the
//!   wallet's transactions; LWK's own scan turns it into `Update`s for the watch-only `Wollet`
//!   (persisted by LWK under the wallet directory). Reorgs are undone by comparing block hashes.
//! * Transfers: LWK builds and the signer signs the PSET, the platform co-signs it
//!   (`POST /amp2/wallets/sign`, refusals reported with their reason codes), the node broadcasts.
//!
//! [`Wallet`] is the library API; [`WalletArgs`] and [`run`] are the command line.

pub mod amount;
pub mod backend;
pub mod chain_index;
pub mod cli;
pub mod error;
pub mod files;
pub mod platform;
pub mod reports;
pub mod sync;
pub mod wallet;

pub use amount::parse_amount;
pub use chain_index::ChainIndex;
pub use cli::{execute, run, WalletArgs, WalletCommand, DEFAULT_NODE_URL};
pub use error::WalletError;
pub use platform::{PlatformClient, Refusal};
pub use wallet::{SendRequest, Wallet};
