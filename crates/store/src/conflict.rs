//! Why the store refused a change: one variant per rule, carrying the data the refusal is
//! about. The store writes no text for them; the server's error table turns each into the
//! wire message, and a rule of `core` stays its own typed error.

use amphora_core::assignment::AssignmentRuleError;

/// The kind of payment from the treasury a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    /// A distribution of assignments.
    Distribution,
    /// A payout to holders.
    Payout,
}

/// Why the caller's grants do not cover the rows a change would affect; nothing was changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forbidden {
    /// A GAID change of a registered user with undistributed assignments of an asset the
    /// manager making it is not granted (its default GAID decides where they are paid).
    UngrantedAssignments,
}

/// A rule the requested change would break; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// A manager already has this username (issuers and managers log in the same way).
    ManagerNameTaken {
        /// The requested username.
        username: String,
    },
    /// An issuer already has this username.
    IssuerNameTaken {
        /// The requested username.
        username: String,
    },
    /// An issuer or a manager already has this username.
    AccountNameTaken {
        /// The requested username.
        username: String,
    },
    /// The asset (its uuid or issuance) is already recorded.
    AssetExists,
    /// The asset is already registered with the registry.
    AlreadyRegistered,
    /// An assignment rule of `core` refused the assignment (also when the database's unique
    /// index finds the user's ready assignment first: `AlreadyReady`).
    Assignment(AssignmentRuleError),
    /// The assignment is part of a distribution and cannot change.
    AssignmentDistributed {
        /// The assignment's id.
        id: i64,
    },
    /// An assignment of a new distribution changed while it was created.
    AssignmentChanged {
        /// The assignment's id.
        id: i64,
    },
    /// The payment pays more than the treasury's confirmed balance.
    InsufficientFunds {
        /// Distribution or payout.
        kind: PaymentKind,
        /// What the payment pays.
        pays: i64,
        /// The treasury's confirmed balance (of the paid asset).
        balance: i64,
    },
    /// The payment is confirmed and cannot be cancelled.
    PaymentConfirmed(PaymentKind),
    /// The payment is already cancelled.
    PaymentAlreadyCancelled(PaymentKind),
    /// Some transactions of the payment are confirmed; it cannot be cancelled.
    PaymentPartlyPaid {
        /// Distribution or payout.
        kind: PaymentKind,
        /// How many of its transactions are recorded.
        paid: i64,
    },
    /// A transaction was recorded for a cancelled payment.
    PaymentCancelled(PaymentKind),
    /// The batch is already paid by another transaction.
    BatchPaidBy {
        /// Distribution or payout.
        kind: PaymentKind,
        /// The transaction that paid it.
        txid: String,
    },
    /// A paid line (assignment, payout line) is not part of the payment.
    LineNotInPayment {
        /// Distribution or payout.
        kind: PaymentKind,
        /// The line's id.
        line: i64,
    },
    /// The registered user has assignments: its history is kept.
    UserHasHistory {
        /// The registered user's id.
        id: i64,
        /// How many assignments it has.
        assignments: i64,
    },
    /// The GAID is not a wallet registered on this platform.
    GaidNotRegistered {
        /// The GAID.
        gaid: String,
    },
    /// The GAID belongs to another registered user.
    GaidTaken {
        /// The GAID.
        gaid: String,
    },
    /// The GAID is not one of the registered user's GAIDs.
    GaidNotOfUser {
        /// The GAID.
        gaid: String,
    },
    /// Some of the categories do not exist (for this issuer).
    UnknownCategories {
        /// The ids that are not categories.
        ids: Vec<i64>,
    },
    /// The outpoint is not an indexed output of this asset.
    NotAnOutputOfAsset {
        /// The output's transaction.
        txid: String,
        /// The output's index.
        vout: i64,
    },
    /// The reissuance (its transaction) is already recorded.
    ReissuanceRecorded,
    /// The burn (its transaction) is already recorded.
    BurnRecorded,
    /// The reissue request was completed by another transaction.
    ReissueRequestCompleted {
        /// The request's id.
        id: i64,
    },
    /// The burn request was completed by another transaction.
    BurnRequestCompleted {
        /// The request's id.
        id: i64,
    },
    /// Another wallet has this descriptor or GAID.
    WalletTaken,
    /// The wallet id is registered with another descriptor.
    WalletIdTaken {
        /// The wallet id.
        wid: String,
    },
    /// The wallet has no unhardened receive index left.
    ReceiveIndexesExhausted {
        /// The wallet id.
        wid: String,
    },
    /// No receive index was reserved for the wallet (the reservation lost it).
    ReceiveIndexNotReserved {
        /// The wallet id.
        wid: String,
    },
    /// The wallet's stored receive counter is negative.
    NegativeReceiveCounter {
        /// The wallet id.
        wid: String,
    },
    /// The wallet index already has another address.
    IndexHasOtherAddress {
        /// The wallet id.
        wid: String,
        /// The receive index.
        index: u32,
    },
    /// The address was handed out for another wallet index.
    AddressHandedOut {
        /// The address.
        address: String,
    },
    /// The chain follower's lease expired or another replica holds it.
    LeaseLost {
        /// The holder that lost it.
        holder: String,
    },
    /// The block does not extend the indexed tip.
    BlockDoesNotExtend {
        /// The block's hash.
        block_hash: String,
        /// The block's height.
        height: i64,
        /// The indexed tip's hash.
        tip_hash: String,
        /// The indexed tip's height.
        tip_height: i64,
    },
}
