//! The error table's wire text: the one place the messages of refusals (400 `{"Error": …}`)
//! are written. [`refusal_text`] covers the server's own refusals, [`conflict_text`] the
//! store's; a rule of `core` keeps its `Display` as its message. Denials (403), outages (503)
//! and AMP2 registration refusals are written here too ([`denial_text`], [`outage_text`],
//! [`amp2_text`]).

use std::fmt;

use amphora_store::{Conflict, Forbidden, PaymentKind};

use crate::issuance::PLATFORM_WALLET;
use crate::refusal::{
    Amp2Refusal, ChainRefusal, Denial, FetchFailure, Outage, ProofUnread, Refusal,
};
use crate::verify::refusal::Recipient;
use crate::verify::MIN_CONFIRMATIONS;

/// A payment's noun in messages.
fn noun(kind: &PaymentKind) -> &'static str {
    match kind {
        PaymentKind::Distribution => "distribution",
        PaymentKind::Payout => "payout",
    }
}

/// The wire text of a refusal: the one place these messages are written.
pub(crate) fn refusal_text(refusal: &Refusal) -> String {
    match refusal {
        Refusal::Conflict(conflict) => conflict_text(conflict),
        Refusal::Chain(chain) => chain_text(chain),
        Refusal::Issuance(rule) => rule.to_string(),
        Refusal::Assignment(rule) => rule.to_string(),
        Refusal::Gaid(error) => error.to_string(),
        Refusal::BalanceGaid(error) => format!("Invalid GAID: {error}"),
        Refusal::TreasuryKey(error) => error.to_string(),
        Refusal::EndpointTarget(error) => format!("The issuer_authorization_endpoint {error}."),
        Refusal::NoIssuanceTx => "The asset has no issuance transaction.".to_string(),
        Refusal::NotReissuable => "The asset is not reissuable.".to_string(),
        Refusal::IssuanceRejected { reason } => {
            format!("The Elements node refused the issuance transaction: {reason}")
        }
        Refusal::AuthorizeTooEarly {
            txid,
            confirmations,
        } => format!(
            "The issuance transaction {txid} has {confirmations} confirmation(s); the asset can \
             be authorized once it has {MIN_CONFIRMATIONS}."
        ),
        Refusal::ReissueTooEarly { confirmations } => format!(
            "The issuance has {confirmations} confirmations; {MIN_CONFIRMATIONS} are needed \
             before a reissuance."
        ),
        Refusal::DomainProofUnread { url, why, expected } => {
            let why = match why {
                ProofUnread::Fetch(failure) => failure.to_string(),
                ProofUnread::NotServed => "no such file was served there".to_string(),
            };
            format!(
                "The domain proof could not be read at {url} ({why}). Publish a file there \
                 containing: {expected}"
            )
        }
        Refusal::DomainProofWrong { url, expected } => {
            format!("The domain proof at {url} is wrong: it must contain exactly: {expected}")
        }
        Refusal::RegistryRefused {
            registry,
            status,
            detail,
        } => {
            format!("The asset registry at {registry} refused the asset (HTTP {status}): {detail}")
        }
        Refusal::NothingToDistribute => {
            "No assignments to distribute: none is ready for distribution, unlocked, vested \
             and outside another distribution."
                .to_string()
        }
        Refusal::LeftRequiredCategory { user, category } => format!(
            "Registered user {user} is no longer in category {category}, which this \
             transfer-restricted asset requires; lock or delete the assignment."
        ),
        Refusal::PaymentConfirmed { kind, txid } => format!(
            "The {} is already confirmed; transaction {txid} is not one of its transactions.",
            noun(kind)
        ),
        Refusal::HeightNotIndexed { height } => {
            format!("The chain index has not reached height {height} yet.")
        }
        Refusal::ChainIndexEmpty => "The chain index has no block yet.".to_string(),
        Refusal::RecordHeightAboveTip { height, tip } => {
            format!("The record height {height} is above the chain index's tip ({tip}).")
        }
        Refusal::NoEligibleHolders {
            height,
            treasury,
            unregistered,
        } => format!(
            "Nobody is eligible: no registered user holds the asset at height {height} (the \
             treasury held {treasury}, wallets of no registered user {unregistered})."
        ),
        Refusal::NoSuchRegisteredUser { id } => {
            format!("Invalid registered_user \"{id}\": object does not exist.")
        }
        Refusal::IsCompanyFixed => {
            "is_company cannot be changed after the registered user is created.".to_string()
        }
        Refusal::NoTokenOutputs => {
            "The treasury holds no reissuance-token outputs of this asset.".to_string()
        }
        Refusal::NoReissueRequest { amount } => {
            format!("No outstanding reissue request of {amount} units for this asset.")
        }
        Refusal::BurnAboveTreasury { total, amount } => format!(
            "The treasury holds {total} units of the asset, less than the {amount} to burn."
        ),
        Refusal::NoBurnRequest { amount } => {
            format!("No outstanding burn request of {amount} units for this asset.")
        }
    }
}

/// The wire text of a chain check's refusal.
fn chain_text(refusal: &ChainRefusal) -> String {
    match refusal {
        ChainRefusal::TxNotKnown { txid } => {
            format!("Transaction {txid} is not known to the platform's node.")
        }
        ChainRefusal::TooFewConfirmations {
            txid,
            confirmations,
        } => format!(
            "Transaction {txid} has {confirmations} confirmations; at least \
             {MIN_CONFIRMATIONS} are needed."
        ),
        ChainRefusal::EntryOutputMissing { txid, vout, field } => {
            format!("Transaction {txid} has no output {vout} ({field}).")
        }
        ChainRefusal::EntryNotOpened {
            txid,
            vout,
            amount,
            asset,
            field,
        } => format!(
            "Output {txid}:{vout} does not hold {amount} units of asset {asset} with the posted \
             blinders ({field})."
        ),
        ChainRefusal::BurnNotExplicit { txid, vout } => {
            format!("Burn output {txid}:{vout} has no explicit amount.")
        }
        ChainRefusal::BurnsNothing { txid } => {
            format!("Transaction {txid} burns none of the asset.")
        }
        ChainRefusal::ReissuedUnitsDiffer {
            txid,
            posted,
            created,
        } => format!(
            "The posted details show {posted} new units of the asset in {txid}; the \
             reissuance created {created}."
        ),
        ChainRefusal::NotAReissuance { txid, vin } => {
            format!("Input {vin} of {txid} is not a reissuance.")
        }
        ChainRefusal::ReissuesAnotherAsset { txid, vin } => {
            format!("Input {vin} of {txid} reissues another asset.")
        }
        ChainRefusal::ReissuanceOutOfRange { txid, vin } => {
            format!("Reissuance {txid}:{vin} is out of range.")
        }
        ChainRefusal::ReissuanceNotOpened { txid, vin } => {
            format!("The listissuances entry does not open the reissuance amount of {txid}:{vin}.")
        }
        ChainRefusal::PaymentOutputCount {
            txid,
            kind,
            count,
            address,
            recipient,
        } => {
            let recipient = match recipient {
                Recipient::Assignment(id) => format!("assignment {id}"),
                Recipient::RegisteredUser(id) => format!("registered user {id}"),
            };
            format!(
                "Transaction {txid} pays {count} outputs to {address} ({recipient}); the {} \
                 needs exactly one.",
                noun(kind)
            )
        }
        ChainRefusal::PaymentNotUnblindable { txid, vout, gaid } => format!(
            "Output {vout} of transaction {txid} cannot be unblinded with the view key of \
             {gaid}'s wallet."
        ),
        ChainRefusal::PaymentDiffers {
            txid,
            kind,
            vout,
            paid,
            paid_asset,
            address,
            expected,
            asset,
        } => format!(
            "Output {vout} of transaction {txid} pays {paid} of asset {paid_asset} to \
             {address}; the {} expects {expected} of asset {asset}.",
            noun(kind)
        ),
        ChainRefusal::PaysNoPendingLine { txid, kind, uuid } => format!(
            "Transaction {txid} pays none of the receiving addresses of {} {uuid} that are \
             still to be paid.",
            noun(kind)
        ),
        ChainRefusal::TreasuryLeak {
            txid,
            taken,
            accounted,
        } => format!(
            "Transaction {txid} takes {taken} of the asset from the treasury but pays only \
             {accounted} to the recipients and the posted change_data; the rest goes elsewhere."
        ),
        ChainRefusal::NotAnIndexedOutput { txid, vout } => {
            format!("{txid}:{vout} is not an indexed output of this asset.")
        }
        ChainRefusal::BlindersTxUnknown { txid } => {
            format!("Transaction {txid} is unknown to the node.")
        }
        ChainRefusal::BlindersOutputMissing { txid, vout } => {
            format!("Transaction {txid} has no output {vout}.")
        }
        ChainRefusal::OutputNotConfidential => {
            "The output is not confidential: it has no blinders.".to_string()
        }
        ChainRefusal::BlindersDoNotOpen => {
            "The blinders do not open the output's asset and amount commitments.".to_string()
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&refusal_text(self))
    }
}

/// The wire text of a denial (403 `{"detail": …}`).
pub(crate) fn denial_text(denial: &Denial) -> &'static str {
    match denial {
        Denial::NoPermission => "You do not have permission to perform this action.",
        Denial::RouteClosed => "This route is not open to any caller.",
        Denial::NotAManager => "Only a manager has a manager record.",
        Denial::Store(Forbidden::UngrantedAssignments) => {
            "This registered user has undistributed assignments of an asset you are not \
             granted; only the issuer (or a manager granted every such asset) may change its \
             GAIDs."
        }
    }
}

/// The wire text of an outage (503 `{"detail": …}`): what cannot serve, never an internal
/// error's text.
pub(crate) fn outage_text(outage: &Outage) -> String {
    match outage {
        Outage::NoNode => "No Elements node is configured.".to_string(),
        Outage::NodeFailed => {
            "The platform's Elements node cannot answer now; try again later.".to_string()
        }
        Outage::CosignNeedsNode => {
            "Co-signing needs the Elements node to check the transaction's inputs.".to_string()
        }
        Outage::CosignInputsUnchecked => {
            "The Elements node cannot check the transaction's inputs now; try again later."
                .to_string()
        }
        Outage::IndexBehind { height } => format!(
            "The platform has not yet indexed block {height}, which the Elements node already \
             has; nothing was recorded, try again shortly."
        ),
        Outage::NoPlatformFunds => format!(
            "The platform wallet has no L-BTC to pay the issuance fee; fund the node's \
             '{PLATFORM_WALLET}' wallet and retry."
        ),
        Outage::NoPlatformWallet => format!(
            "The node has no '{PLATFORM_WALLET}' wallet loaded; create or load it and retry."
        ),
        Outage::IssuanceFailed => {
            "The Elements node could not issue the asset now; try again later.".to_string()
        }
        Outage::BroadcastPending { txid } => format!(
            "The issuance transaction {txid} is recorded but the node could not be reached to \
             broadcast it; it will be re-sent when the platform restarts."
        ),
        Outage::RegistryUnreachable { registry, why } => {
            format!("The asset registry at {registry} cannot be reached ({why}); try again later.")
        }
        Outage::RegistryFailed { registry, status } => {
            format!("The asset registry at {registry} failed (HTTP {status}); try again later.")
        }
    }
}

/// The wire text of a refused AMP2 wallet registration (400 `{"error": …}`).
pub(crate) fn amp2_text(refusal: &Amp2Refusal) -> String {
    match refusal {
        Amp2Refusal::Descriptor(error) => error.to_string(),
        Amp2Refusal::Conflict(conflict) => conflict_text(conflict),
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(denial_text(self))
    }
}

impl fmt::Display for Outage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&outage_text(self))
    }
}

impl fmt::Display for Amp2Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&amp2_text(self))
    }
}

impl fmt::Display for FetchFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchFailure::Address(error) => write!(f, "the address {error}"),
            FetchFailure::TimedOut => f.write_str("timed out"),
            FetchFailure::Redirected => f.write_str(
                "redirected too often, or to a target that is not a public https:// URL",
            ),
            FetchFailure::Unreachable => f.write_str("connection refused or host unreachable"),
            FetchFailure::Failed => f.write_str("the request failed"),
        }
    }
}

/// The wire text of a store refusal: the one place these messages are written.
pub(crate) fn conflict_text(conflict: &Conflict) -> String {
    match conflict {
        Conflict::ManagerNameTaken { username } => {
            format!("a manager named '{username}' already exists")
        }
        Conflict::IssuerNameTaken { username } => {
            format!("an issuer named '{username}' already exists")
        }
        Conflict::AccountNameTaken { username } => {
            format!("an account named '{username}' already exists")
        }
        Conflict::AssetExists => "This asset already exists.".to_string(),
        Conflict::AlreadyRegistered => "The asset is already registered.".to_string(),
        Conflict::Assignment(rule) => rule.to_string(),
        Conflict::AssignmentDistributed { id } => format!(
            "Assignment {id} is part of a distribution; cancel the distribution first (a \
             distributed assignment cannot change)."
        ),
        Conflict::AssignmentChanged { id } => {
            format!("Assignment {id} changed while the distribution was created; try again.")
        }
        Conflict::InsufficientFunds {
            kind: PaymentKind::Distribution,
            pays,
            balance,
        } => format!(
            "insufficient confirmed funds: the distribution pays {pays} but the treasury's \
             confirmed balance is {balance}."
        ),
        Conflict::InsufficientFunds {
            kind: PaymentKind::Payout,
            pays,
            balance,
        } => format!(
            "insufficient confirmed funds: the payout pays {pays} but the treasury's confirmed \
             balance of the payout asset is {balance}."
        ),
        Conflict::PaymentConfirmed(kind) => {
            format!("The {} is confirmed and cannot be cancelled.", noun(kind))
        }
        Conflict::PaymentAlreadyCancelled(kind) => {
            format!("The {} is already cancelled.", noun(kind))
        }
        Conflict::PaymentPartlyPaid { kind, paid } => format!(
            "{paid} transaction(s) of the {} are already confirmed on chain; it cannot be \
             cancelled.",
            noun(kind)
        ),
        Conflict::PaymentCancelled(kind) => format!("The {} was cancelled.", noun(kind)),
        Conflict::BatchPaidBy { kind, txid } => format!(
            "This part of the {} was already paid by transaction {txid}.",
            noun(kind)
        ),
        Conflict::LineNotInPayment { kind, line } => {
            let line_noun = match kind {
                PaymentKind::Distribution => "Assignment",
                PaymentKind::Payout => "Payout line",
            };
            format!("{line_noun} {line} is not part of the {}.", noun(kind))
        }
        Conflict::UserHasHistory { id, assignments } => format!(
            "Registered user {id} has {assignments} assignment(s); its assignment and \
             distribution history is kept, so it cannot be deleted."
        ),
        Conflict::GaidNotRegistered { gaid } => {
            format!("GAID {gaid} is not a wallet registered on this platform")
        }
        Conflict::GaidTaken { gaid } => {
            format!("GAID {gaid} already belongs to another registered user")
        }
        Conflict::GaidNotOfUser { gaid } => {
            format!("GAID {gaid} is not one of this registered user's GAIDs; add it first")
        }
        Conflict::UnknownCategories { ids } => {
            format!("No such categories: {ids:?}; nothing was changed.")
        }
        Conflict::NotAnOutputOfAsset { txid, vout } => {
            format!("{txid}:{vout} is not an output of this asset")
        }
        Conflict::ReissuanceRecorded => "the reissuance is already recorded".to_string(),
        Conflict::BurnRecorded => "the burn is already recorded".to_string(),
        Conflict::ReissueRequestCompleted { id } => {
            format!("reissue request {id} is already completed by another transaction")
        }
        Conflict::BurnRequestCompleted { id } => {
            format!("burn request {id} is already completed by another transaction")
        }
        Conflict::WalletTaken => {
            "another wallet is registered with this descriptor or GAID".to_string()
        }
        Conflict::WalletIdTaken { wid } => {
            format!("wallet id {wid} is already registered with another descriptor")
        }
        Conflict::ReceiveIndexesExhausted { wid } => {
            format!("wallet {wid} has no unhardened receive index left")
        }
        Conflict::ReceiveIndexNotReserved { wid } => {
            format!("no index was reserved for wallet {wid}")
        }
        Conflict::NegativeReceiveCounter { wid } => {
            format!("wallet {wid} has a negative counter")
        }
        Conflict::IndexHasOtherAddress { wid, index } => {
            format!("index {index} of wallet {wid} already has another address")
        }
        Conflict::AddressHandedOut { address } => {
            format!("address {address} was already handed out for another wallet index")
        }
        Conflict::LeaseLost { holder } => {
            format!("the follower lease of {holder} expired or was taken over")
        }
        Conflict::BlockDoesNotExtend {
            block_hash,
            height,
            tip_hash,
            tip_height,
        } => format!(
            "block {block_hash} at height {height} does not extend the indexed tip {tip_hash} \
             at height {tip_height}"
        ),
    }
}
