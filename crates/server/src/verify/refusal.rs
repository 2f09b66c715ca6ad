//! Why a chain check refused what the client posted: one variant per rule, with the data the
//! refusal is about. No text is written here; the error table (`crate::error`) turns each into
//! the wire message (400 `{"Error": …}`).

use amphora_store::PaymentKind;
use elements::{AssetId, Txid};

/// Who a paid line goes to, as a payment refusal names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// The line is this assignment (a distribution).
    Assignment(i64),
    /// The line pays this registered user (a payout).
    RegisteredUser(i64),
}

/// A transaction, an output or the posted node entries do not show what the request claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainRefusal {
    /// The platform's node does not know the transaction.
    TxNotKnown {
        /// The transaction.
        txid: Txid,
    },
    /// The transaction has fewer than `MIN_CONFIRMATIONS` confirmations.
    TooFewConfirmations {
        /// The transaction.
        txid: Txid,
        /// Its confirmations now.
        confirmations: u64,
    },
    /// A posted node entry names an output the transaction does not have.
    EntryOutputMissing {
        /// The transaction.
        txid: Txid,
        /// The output index the entry names.
        vout: u32,
        /// The posted field holding the entry (`details`, `change_data`).
        field: &'static str,
    },
    /// The posted blinders do not open the output's commitments to the entry's asset and amount.
    EntryNotOpened {
        /// The transaction.
        txid: Txid,
        /// The output index.
        vout: u32,
        /// The amount the entry states.
        amount: i64,
        /// The asset the entry states.
        asset: AssetId,
        /// The posted field holding the entry.
        field: &'static str,
    },
    /// A burn output of the asset has a confidential amount.
    BurnNotExplicit {
        /// The transaction.
        txid: Txid,
        /// The burn output.
        vout: usize,
    },
    /// The transaction has no burn output of the asset.
    BurnsNothing {
        /// The transaction.
        txid: Txid,
    },
    /// The posted details show another number of new units than the reissuance created.
    ReissuedUnitsDiffer {
        /// The transaction.
        txid: Txid,
        /// New units the posted details show.
        posted: i64,
        /// Units the reissuance input created.
        created: i64,
    },
    /// The input is not a reissuance.
    NotAReissuance {
        /// The transaction.
        txid: Txid,
        /// The input index.
        vin: u32,
    },
    /// The input reissues another asset.
    ReissuesAnotherAsset {
        /// The transaction.
        txid: Txid,
        /// The input index.
        vin: u32,
    },
    /// The explicit reissuance amount does not fit in the platform's amounts.
    ReissuanceOutOfRange {
        /// The transaction.
        txid: Txid,
        /// The input index.
        vin: u32,
    },
    /// The posted `listissuances` entry does not open the blinded reissuance amount.
    ReissuanceNotOpened {
        /// The transaction.
        txid: Txid,
        /// The input index.
        vin: u32,
    },
    /// The transaction pays a line's address by no output or by several.
    PaymentOutputCount {
        /// The transaction.
        txid: Txid,
        /// Distribution or payout.
        kind: PaymentKind,
        /// How many outputs pay the address.
        count: usize,
        /// The line's receiving address.
        address: String,
        /// Who the line pays.
        recipient: Recipient,
    },
    /// The output cannot be unblinded with the view key of the recipient's wallet.
    PaymentNotUnblindable {
        /// The transaction.
        txid: Txid,
        /// The output.
        vout: usize,
        /// The recipient's GAID.
        gaid: String,
    },
    /// The output pays another asset or amount than the line.
    PaymentDiffers {
        /// The transaction.
        txid: Txid,
        /// Distribution or payout.
        kind: PaymentKind,
        /// The output.
        vout: usize,
        /// The amount it pays.
        paid: u64,
        /// The asset it pays.
        paid_asset: AssetId,
        /// The line's receiving address.
        address: String,
        /// The amount the line expects.
        expected: i64,
        /// The asset the line expects.
        asset: AssetId,
    },
    /// The transaction pays none of the payment's addresses still to be paid.
    PaysNoPendingLine {
        /// The transaction.
        txid: Txid,
        /// Distribution or payout.
        kind: PaymentKind,
        /// The distribution's or payout's uuid.
        uuid: String,
    },
    /// The transaction takes more of the asset from the treasury than it pays to the
    /// recipients and the posted change.
    TreasuryLeak {
        /// The transaction.
        txid: Txid,
        /// Units taken from tracked treasury outputs.
        taken: i64,
        /// Units paid to the recipients and the change.
        accounted: i64,
    },
    /// The outpoint is not an indexed output of the asset (posted blinders).
    NotAnIndexedOutput {
        /// The transaction.
        txid: Txid,
        /// The output index.
        vout: i64,
    },
    /// The node does not know the transaction of the posted blinders.
    BlindersTxUnknown {
        /// The transaction.
        txid: Txid,
    },
    /// The transaction of the posted blinders has no such output.
    BlindersOutputMissing {
        /// The transaction.
        txid: Txid,
        /// The output index.
        vout: i64,
    },
    /// The output has explicit asset or amount: there are no blinders to post.
    OutputNotConfidential,
    /// The posted blinders do not open the output's commitments.
    BlindersDoNotOpen,
}
