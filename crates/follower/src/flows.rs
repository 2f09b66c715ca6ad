//! Recognising what a transaction did to a managed asset, beyond what the follower can tell
//! from the chain alone.
//!
//! The follower identifies issuances, reissuances, burns, explicit treasury outputs and outputs
//! to registered wallets by itself (see [`crate::block`]). A platform flow (a distribution, a
//! reissuance or burn through the API) knows more: which transaction it is, and outputs the
//! follower cannot unblind (the treasury's confidential change). Each flow implements
//! [`FlowRecognizer`] in its own file under `flows/` and adds one line to [`recognizers`].
//!
//! For each managed asset a transaction touches, the recognizers are asked in order; the first
//! that answers decides the transaction's kind for that asset and may add outputs to record.

use std::future::Future;
use std::pin::Pin;

use amphora_store::{AssetOutput, NewAssetOutput, Store, TxKind};
use elements::Transaction;

use crate::context::ManagedAsset;

pub mod distribution;
pub mod payout;
pub mod reissue_burn;

/// A boxed future, so that recognizers can be kept in one list.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the follower knows about one transaction and one managed asset it touches.
#[derive(Debug, Clone, Copy)]
pub struct FlowInput<'a> {
    /// The platform's database.
    pub store: &'a Store,
    /// The managed asset.
    pub asset: &'a ManagedAsset,
    /// The transaction.
    pub tx: &'a Transaction,
    /// Its txid, hex.
    pub txid: &'a str,
    /// Height of the block it confirmed in.
    pub height: i64,
    /// Tracked outputs of this asset (or its token) that it spends.
    pub spent: &'a [AssetOutput],
    /// Outputs of this asset (or its token) the follower identified in it.
    pub identified: &'a [NewAssetOutput],
    /// The kind the follower would give it without recognizers (see [`crate::block`]).
    pub default_kind: TxKind,
}

/// A transaction a recognizer claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognized {
    /// What it did. [`TxKind::Unknown`] marks the spent tracked outputs lost, every other
    /// kind keeps them as regular spends.
    pub kind: TxKind,
    /// Outputs of the asset to record besides the identified ones (for example the
    /// treasury's confidential change, whose amount and blinders the flow knows). An output
    /// the follower identified too is recorded once, the follower's version.
    pub outputs: Vec<NewAssetOutput>,
}

/// Why a recognizer could not decide. The block is retried on the next poll.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FlowError(pub String);

impl From<amphora_store::StoreError> for FlowError {
    fn from(error: amphora_store::StoreError) -> Self {
        FlowError(error.to_string())
    }
}

/// Recognises the transactions of one platform flow.
pub trait FlowRecognizer: Send + Sync + std::fmt::Debug {
    /// A short name for logs and errors.
    fn name(&self) -> &'static str;

    /// `Some` when the transaction is one of this flow's for `input.asset`; `None` to let
    /// the next recognizer (or the default rule) decide.
    fn recognize<'a>(
        &'a self,
        input: FlowInput<'a>,
    ) -> BoxFuture<'a, Result<Option<Recognized>, FlowError>>;
}

/// Every flow recognizer of the platform, in the order they are asked. One line per flow.
pub fn recognizers() -> Vec<Box<dyn FlowRecognizer>> {
    // Flows add themselves here, e.g. `Box::new(distribution::DistributionFlow),`.
    vec![
        Box::new(distribution::DistributionFlow),
        Box::new(payout::PayoutFlow),
        Box::new(reissue_burn::ReissueBurnFlow),
    ]
}
