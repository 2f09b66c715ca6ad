//! Why the server refused a request (400 `{"Error": …}`): one variant per rule, with the data
//! the refusal is about; likewise why a caller is denied (403, [`Denial`]), what cannot serve
//! now (503, [`Outage`]) and why an AMP2 registration is refused ([`Amp2Refusal`]). Handlers
//! and verifiers return these; no text is written here, the error table (`crate::error`) alone
//! writes the wire message. A store refusal stays its [`Conflict`] (or [`Forbidden`]), a chain
//! check's its [`ChainRefusal`], and a rule of `core` (or the co-signer's descriptor check) its
//! own typed error (whose `Display` is the message).

use amphora_core::asset::IssuanceRule;
use amphora_core::assignment::AssignmentRuleError;
use amphora_core::gaid::GaidError;
use amphora_core::treasury_key::TreasuryKeyError;
use amphora_cosigner::DescriptorError;
use amphora_store::{Conflict, Forbidden, PaymentKind};
use elements::Txid;

use crate::outbound::OutboundError;
pub use crate::verify::refusal::ChainRefusal;

/// Why a fetch from an outside server (the asset registry, a domain proof) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchFailure {
    /// The outbound policy refused the target address.
    Address(OutboundError),
    /// No answer in time.
    TimedOut,
    /// Too many redirects, or one to a target that is not a public `https://` URL.
    Redirected,
    /// The connection was refused or the host is unreachable.
    Unreachable,
    /// Any other failure of the request.
    Failed,
}

/// Why the domain proof could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofUnread {
    /// The fetch failed.
    Fetch(FetchFailure),
    /// The server answered, but not with a file (a status other than success).
    NotServed,
}

/// A rule of the platform refused the request; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The store refused the change.
    Conflict(Conflict),
    /// A chain check refused what the client posted.
    Chain(ChainRefusal),
    /// An issuance rule across fields (`core`).
    Issuance(IssuanceRule),
    /// An assignment rule (`core`), e.g. recipients without a default GAID.
    Assignment(AssignmentRuleError),
    /// A malformed GAID (the GAID's own message).
    Gaid(GaidError),
    /// A malformed GAID of a balance query (the message prefixed `Invalid GAID: `).
    BalanceGaid(GaidError),
    /// A treasury view key that is malformed or not the treasury's.
    TreasuryKey(TreasuryKeyError),
    /// The outbound policy refuses the `issuer_authorization_endpoint`.
    EndpointTarget(OutboundError),
    /// The asset has no issuance transaction.
    NoIssuanceTx,
    /// The asset is not reissuable (or has no reissuance token).
    NotReissuable,
    /// The node refused the signed issuance transaction.
    IssuanceRejected {
        /// The node's reason.
        reason: String,
    },
    /// The issuance transaction is not confirmed enough to authorize the asset.
    AuthorizeTooEarly {
        /// The issuance transaction.
        txid: Txid,
        /// Its confirmations now.
        confirmations: u64,
    },
    /// The issuance is not confirmed enough for a reissuance.
    ReissueTooEarly {
        /// The issuance's confirmations now.
        confirmations: i64,
    },
    /// The domain proof could not be read.
    DomainProofUnread {
        /// Where it was looked for.
        url: String,
        /// Why it could not be read.
        why: ProofUnread,
        /// The text the file must contain.
        expected: String,
    },
    /// The domain proof does not contain the expected text.
    DomainProofWrong {
        /// Where it was read.
        url: String,
        /// The text the file must contain.
        expected: String,
    },
    /// The asset registry refused the asset (a client error status).
    RegistryRefused {
        /// The registry's address.
        registry: String,
        /// The HTTP status.
        status: u16,
        /// The start of the registry's answer.
        detail: String,
    },
    /// No assignment is eligible for a distribution.
    NothingToDistribute,
    /// A recipient left a category the transfer-restricted asset requires.
    LeftRequiredCategory {
        /// The registered user.
        user: i64,
        /// The required category.
        category: i64,
    },
    /// The payment is confirmed and the transaction is none of its transactions.
    PaymentConfirmed {
        /// Distribution or payout.
        kind: PaymentKind,
        /// The posted transaction.
        txid: Txid,
    },
    /// The chain index has not reached the requested height.
    HeightNotIndexed {
        /// The requested height.
        height: i64,
    },
    /// The chain index has no block yet.
    ChainIndexEmpty,
    /// The record height is above the chain index's tip.
    RecordHeightAboveTip {
        /// The requested record height.
        height: i64,
        /// The indexed tip's height.
        tip: i64,
    },
    /// No registered user holds the asset at the record height.
    NoEligibleHolders {
        /// The record height.
        height: i64,
        /// What the treasury held.
        treasury: i64,
        /// What wallets of no registered user held.
        unregistered: i64,
    },
    /// The assignment's registered user does not exist (for this issuer).
    NoSuchRegisteredUser {
        /// The posted id.
        id: i64,
    },
    /// `is_company` cannot change after the registered user is created.
    IsCompanyFixed,
    /// The treasury holds no reissuance-token outputs of the asset.
    NoTokenOutputs,
    /// No reissue request of this amount is outstanding.
    NoReissueRequest {
        /// The reissued amount.
        amount: i64,
    },
    /// The treasury holds less of the asset than the burn asks.
    BurnAboveTreasury {
        /// What the treasury holds.
        total: i64,
        /// What the burn asks.
        amount: i64,
    },
    /// No burn request of this amount is outstanding.
    NoBurnRequest {
        /// The burnt amount.
        amount: i64,
    },
}

impl From<Conflict> for Refusal {
    fn from(conflict: Conflict) -> Self {
        Refusal::Conflict(conflict)
    }
}

impl From<ChainRefusal> for Refusal {
    fn from(refusal: ChainRefusal) -> Self {
        Refusal::Chain(refusal)
    }
}

/// Why an authenticated caller may not do this (403 `{"detail": …}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The caller's role (or a manager's grants) does not cover the route or the asset.
    NoPermission,
    /// The route has no access rule: it fails closed.
    RouteClosed,
    /// `GET /api/managers/me` by an issuer.
    NotAManager,
    /// The store refused a change the caller's grants do not cover.
    Store(Forbidden),
}

/// What cannot serve the request now (503 `{"detail": …}`). The text names what failed and
/// never carries an internal error: where one caused the outage, it is logged where the outage
/// is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outage {
    /// No Elements node is configured.
    NoNode,
    /// The platform's Elements node failed to answer (the cause is logged).
    NodeFailed,
    /// Co-signing needs the Elements node to check a PSET's inputs, and none is configured.
    CosignNeedsNode,
    /// The Elements node failed while checking a PSET's inputs (the cause is logged).
    CosignInputsUnchecked,
    /// The chain index has not reached a block the node already has, within the wait: what
    /// the call would record could disagree with the reports, so nothing is recorded.
    IndexBehind {
        /// The block's height.
        height: i64,
    },
    /// The platform wallet cannot pay the issuance fee.
    NoPlatformFunds,
    /// The platform wallet is not loaded on the node.
    NoPlatformWallet,
    /// The node failed while issuing; nothing was broadcast (the cause is logged).
    IssuanceFailed,
    /// The issuance transaction is recorded but could not be broadcast now.
    BroadcastPending {
        /// The recorded transaction.
        txid: Txid,
    },
    /// The external asset registry cannot be reached.
    RegistryUnreachable {
        /// The registry's base URL.
        registry: String,
        /// Why the request failed.
        why: FetchFailure,
    },
    /// The external asset registry answered with a server error.
    RegistryFailed {
        /// The registry's base URL.
        registry: String,
        /// The HTTP status it answered.
        status: u16,
    },
}

/// Why an AMP2 wallet registration was refused (400 `{"error": …}`, the co-signer's shape).
#[derive(Debug)]
pub enum Amp2Refusal {
    /// The descriptor is not an AMP2 descriptor of this platform (the check's own message).
    Descriptor(DescriptorError),
    /// The store refused to register the wallet.
    Conflict(Conflict),
}
