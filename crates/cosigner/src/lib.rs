//! amphora-cosigner: the platform's co-signing key, AMP2 descriptor checks and co-signing.
//!
//! * [`PlatformKey`]: the platform's BIP32 master key, stored encrypted on disk
//!   ([`PlatformKey::load_or_create`]), with the public parts the AMP2 endpoints serve
//!   ([`PlatformKey::xpub_info`], [`PlatformKey::master_xpub_info`]).
//! * [`PlatformKey::check_descriptor`]: accepts exactly ELIP-153 AMP2 descriptors co-signed by
//!   this platform and assigns their wallet id and GAID.
//! * Co-signing (`POST /amp2/wallets/sign`): [`decode_pset`] → [`analyze_pset`] against the
//!   [`WalletIndex`] of registered wallets and the chain's [`ChainUtxos`] for its inputs → one `amphora_core::policy` request per managed asset
//!   ([`TransferAnalysis::transfer_request`]) → optionally the issuer's endpoint
//!   ([`PlatformKey::issuer_authorization_body`]) → [`PlatformKey::sign_platform_half`].

mod address;
pub mod analysis;
pub mod authorizer;
pub mod chain_scripts;
pub mod chain_view;
pub mod descriptor;
pub mod error;
pub mod key;
mod key_file;
mod signing;
pub mod wallet_index;

pub use analysis::{
    analyze_pset, decode_pset, AnalyzedInput, AnalyzedOutput, Destination, TransferAnalysis,
    WalletRef,
};
pub use authorizer::{
    issuer_authorizer_url, read_issuer_authorization_response, verify_issuer_authorization_body,
};
pub use chain_view::{spent_outpoints, ChainUtxo, ChainUtxos, MAX_INPUTS};
pub use descriptor::{elip153_server_path, RegisteredWallet, ELIP153_PURPOSE};
pub use error::{CosignError, CosignerError, DescriptorError};
pub use key::{PlatformKey, XpubInfo};
pub use wallet_index::{WalletIndex, DEFAULT_LOOKAHEAD};
