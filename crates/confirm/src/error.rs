//! The confirm client's error: every failure carries what went wrong and what to do about it.

use std::path::PathBuf;
use std::time::Duration;

use amphora_rpc::{Amount, RpcError};

use crate::api::ApiError;

/// Everything that stops `amphora confirm`. Each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ConfirmError {
    /// A call to the Elements node failed.
    #[error("the Elements node call {method} failed: {source}")]
    Node {
        /// The RPC method.
        method: &'static str,
        /// The node's or transport's error.
        #[source]
        source: RpcError,
    },
    /// The wallet cannot fund the transaction; nothing was sent.
    #[error(
        "the wallet cannot fund {method} ({message}): it needs the asset and L-BTC for the fee; \
         nothing was sent: fund the wallet in --node-url and run again"
    )]
    InsufficientFunds {
        /// The RPC method.
        method: &'static str,
        /// The node's message.
        message: String,
    },
    /// The node URL is not usable.
    #[error("invalid --node-url: {0}")]
    NodeUrl(#[source] RpcError),
    /// The node is a Tor hidden service and no proxy is configured.
    #[error(
        "--node-url is a .onion address: route it through Tor by setting \
         ALL_PROXY=socks5h://localhost:9050 (or your Tor SOCKS port) in the environment"
    )]
    OnionWithoutProxy,
    /// `getnetworkinfo.subversion` does not name Elements Core.
    #[error(
        "unexpected node ({subversion}): make sure --node-url points to an Elements Core node"
    )]
    NotElements {
        /// The node's subversion.
        subversion: String,
    },
    /// The node is older than Elements 0.17.0.1.
    #[error("node version ({version:06}) not supported (min: {min:06}): upgrade Elements Core")]
    NodeTooOld {
        /// The node's version.
        version: u64,
        /// The minimum supported version.
        min: u64,
    },
    /// The node is still synchronizing.
    #[error(
        "your node is not fully synchronized (verification progress {progress:.4}): \
         wait until it is fully synchronized with the network, then run again"
    )]
    NotSynced {
        /// `getblockchaininfo.verificationprogress`.
        progress: f64,
    },
    /// The wallet is encrypted and locked.
    #[error(
        "the node's wallet is locked: unlock your wallet with walletpassphrase \
         (e.g. `elements-cli walletpassphrase \"<passphrase>\" 600`), then run again"
    )]
    WalletLocked,
    /// Several wallets are loaded and the URL does not name one.
    #[error(
        "the node has several wallets loaded: add /wallet/<name> to --node-url \
         (e.g. http://user:pass@host:port/wallet/treasury)"
    )]
    WalletNotSpecified,
    /// The wallet named in the URL is not loaded.
    #[error(
        "the wallet in --node-url is not loaded ({message}): load it with \
         `elements-cli loadwallet <name> true` or fix the /wallet/<name> part of the URL"
    )]
    WalletNotLoaded {
        /// The node's message.
        message: String,
    },
    /// The request file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The request file is not what the platform returns.
    #[error(
        "{} is not a valid {command} file: {reason} (save the platform's answer to the \
         {command} request unchanged)", path.display()
    )]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// The sub-command.
        command: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The file is not a confirm file at all (an error answer or a web page saved by mistake,
    /// or any other JSON), so neither its version nor its command means anything.
    #[error(
        "{} is not a confirm file: it is {what}. Pass the file the platform answered to the \
         {command} request (a JSON object with \"command\": \"{command}\" and \
         \"min_supported_client_script_version\")", path.display()
    )]
    NotAConfirmFile {
        /// The file.
        path: PathBuf,
        /// The sub-command.
        command: &'static str,
        /// What the file is instead.
        what: String,
    },
    /// `min_supported_client_script_version` does not allow this client.
    #[error("client script version ({client:06}) not supported (min: {min:06}): {advice}")]
    ClientVersion {
        /// The file's `min_supported_client_script_version`.
        min: i64,
        /// This client's version.
        client: i64,
        /// What to do.
        advice: &'static str,
    },
    /// The file is for another sub-command.
    #[error(
        "you have asked to perform a {expected} but you have provided the wrong type of file \
         for this action (its command is {found:?}): use `amphora confirm {found} -f ...` or \
         pass the file of a {expected} request"
    )]
    WrongCommand {
        /// The sub-command run.
        expected: &'static str,
        /// The file's `command`.
        found: String,
    },
    /// A call to the platform failed before anything was sent.
    #[error("{what}: {source}")]
    Api {
        /// What was being done.
        what: &'static str,
        /// The API error.
        #[source]
        source: ApiError,
    },
    /// The platform reports outputs it lost track of.
    #[error(
        "the platform's \"balance\" of asset {asset_uuid} reports {count} lost output(s); \
         the transaction will not be sent: contact the platform operator to reconcile the \
         treasury first"
    )]
    LostOutputs {
        /// The asset.
        asset_uuid: String,
        /// How many lost outputs.
        count: usize,
    },
    /// No assignment carries the distribution's uuid.
    #[error(
        "the platform's assignments of asset {asset_uuid} include none for distribution \
         {distribution_uuid}; the distribution transaction will not be sent: create the \
         distribution again and use the new file"
    )]
    DistributionUnknown {
        /// The asset.
        asset_uuid: String,
        /// The distribution.
        distribution_uuid: String,
    },
    /// The distribution was already carried out.
    #[error(
        "distribution {distribution_uuid} has already been carried out and its transaction \
         confirmed; the distribution transaction will not be sent again"
    )]
    AlreadyDistributed {
        /// The distribution.
        distribution_uuid: String,
    },
    /// The payout is not waiting for payment.
    #[error(
        "payout {payout_uuid} is {status} on the platform, not UNCONFIRMED; the payout \
         transaction will not be sent"
    )]
    PayoutNotPayable {
        /// The payout.
        payout_uuid: String,
        /// Its status.
        status: String,
    },
    /// Outputs the platform expects to be spent are not in the wallet.
    #[error(
        "missing UTXO: the wallet has {found} of the {expected} output(s) the platform expects \
         ({missing}); check that --node-url names the treasury wallet that holds them"
    )]
    MissingUtxo {
        /// How many were expected.
        expected: usize,
        /// How many the wallet has.
        found: usize,
        /// The missing outpoints.
        missing: String,
    },
    /// The wallet holds less of the asset than the burn asks for.
    #[error(
        "local balance of asset {asset_id} ({balance}) is lower than the requested amount \
         ({amount}): nothing was burnt"
    )]
    InsufficientBalance {
        /// The asset.
        asset_id: String,
        /// What the wallet holds (unconfirmed included).
        balance: Amount,
        /// What the burn asks for.
        amount: Amount,
    },
    /// The transaction did not reach the confirmations waited for in time.
    #[error(
        "transaction {txid} was broadcast but has {confirmations} of {required} confirmations \
         after {}s; do NOT run this command again as it is: once the transaction has 2 \
         confirmations, run it again with the additional argument \"{retry}\"",
        waited.as_secs()
    )]
    NotConfirmed {
        /// The transaction.
        txid: String,
        /// Confirmations seen last.
        confirmations: i64,
        /// Confirmations waited for (2, or 1 before the next transaction of a split payment).
        required: i64,
        /// How long the client waited.
        waited: Duration,
        /// The argument that finishes the run ([`use_existing`] or [`RESUME`]).
        retry: String,
    },
    /// The transaction is in no block and not in the node's mempool: the node dropped it (a
    /// conflict, a restart that lost it) and waiting would never confirm it.
    #[error(
        "the transaction ({txid}) is neither in a block nor in the node's mempool: the node does \
         not have it to confirm (it was dropped, or its inputs were spent by another \
         transaction); check it with 'elements-cli gettransaction {txid}' before doing anything \
         else"
    )]
    NotInMempool {
        /// The transaction.
        txid: String,
    },
    /// The wallet already paid this request: paying again would pay twice.
    #[error(
        "the wallet already sent transaction {txid} to {address}, an address of this request: \
         it will not be paid again. Confirm that payment with the additional argument \
         \"--use-existing {txid}\""
    )]
    AlreadyPaid {
        /// The wallet's earlier transaction.
        txid: String,
        /// The request's address it paid.
        address: String,
    },
    /// The wallet already paid some transactions of this split request (an interrupted run):
    /// `--resume` confirms them and sends the others.
    #[error(
        "the wallet already paid {paid} of the {of} transactions of this request (the last one \
         it paid: {txid}): they will not be paid again. Finish the run with the additional \
         argument \"--resume\": it confirms the transactions already sent and sends the others"
    )]
    SplitAlreadyPaid {
        /// Transactions of the request the wallet paid.
        paid: usize,
        /// Transactions of the request.
        of: usize,
        /// The last of the wallet's transactions that paid one.
        txid: String,
    },
    /// A transaction of the request is paid only in part by the wallet, or by more than one
    /// wallet transaction (not sent by this client): no run can finish it without paying
    /// someone twice or leaving someone unpaid.
    #[error(
        "transaction {transaction} of the {of} of this request is paid only in part, or by more \
         than one transaction: the wallet's transaction {txid} pays some of its addresses, and \
         {address} is {state}. It will not be paid again, and no run of this command can finish \
         it: check the wallet's transactions ('elements-cli listtransactions') with the \
         platform's support"
    )]
    PaidInPart {
        /// The request's transaction (1-based, in file order).
        transaction: usize,
        /// Transactions of the request.
        of: usize,
        /// A wallet transaction that pays some of its addresses.
        txid: String,
        /// An address of it paid otherwise.
        address: String,
        /// How that address is paid ("not paid", "paid by another transaction", "paid by
        /// more than one transaction").
        state: &'static str,
    },
    /// The wallet already sent a reissuance or burn for this request (a transaction spending
    /// one of its outputs): sending again would reissue or burn twice.
    #[error(
        "the wallet already sent {what} transaction {txid}, which spends {outpoint}, an output \
         of this request: it will not be sent again. Confirm it with the additional argument \
         \"--use-existing {retry}\""
    )]
    AlreadySent {
        /// What the transaction does ("a reissuance", "a burn").
        what: &'static str,
        /// The wallet's earlier transaction.
        txid: String,
        /// The request's output it spends.
        outpoint: String,
        /// The `--use-existing` value that confirms it.
        retry: String,
    },
    /// The platform already recorded a burn transaction for the file's burn request (an
    /// earlier run burnt, and the follower or that run's confirm call recorded it).
    #[error(
        "the platform already recorded burn transaction {txid} for this burn request: it will \
         not be burnt again. Confirm it with the additional argument \"--use-existing {txid}\""
    )]
    BurnRecorded {
        /// The recorded burn.
        txid: String,
    },
    /// The wallet holds a burn of the file's amount, sent since the request was made, that the
    /// platform has not recorded for any request: an earlier run's, interrupted after its
    /// broadcast. Burning again would destroy the amount twice.
    #[error(
        "the wallet already sent burn transaction {txid}, which destroys the {amount} of this \
         request, and the platform has not recorded it yet: it will not be burnt again. Confirm \
         it with the additional argument \"--use-existing {txid}\""
    )]
    UnrecordedBurn {
        /// The wallet's burn.
        txid: String,
        /// What it destroys (coin units).
        amount: Amount,
    },
    /// The user interrupted the run (Ctrl-C).
    #[error("interrupted{}", interrupted_advice(.retry.as_deref()))]
    Interrupted {
        /// The argument that finishes the run ([`use_existing`] or [`RESUME`]), when a
        /// transaction was already sent.
        retry: Option<String>,
    },
    /// The transaction conflicts with another one (double spent or replaced).
    #[error(
        "transaction {txid} conflicts with a transaction in the chain ({confirmations} \
         confirmations) and will never confirm: check the wallet, then request a new file \
         from the platform"
    )]
    Conflicted {
        /// The transaction.
        txid: String,
        /// The (negative) confirmations.
        confirmations: i64,
    },
    /// The platform did not accept the confirmation of a broadcast transaction.
    #[error(
        "the transaction ({txid}) has been broadcast, but the platform's \"{endpoint}\" failed \
         ({source}). You will need to resend the payload before doing any other operation: run \
         this command again with the additional argument \"{retry}\". Do not run \
         it again without that argument, as it would send the transaction again"
    )]
    ConfirmRejected {
        /// The endpoint name.
        endpoint: &'static str,
        /// The transaction.
        txid: String,
        /// The argument that finishes the run ([`use_existing`] or [`RESUME`]).
        retry: String,
        /// The API error.
        #[source]
        source: ApiError,
    },
    /// `--use-existing TXID:VIN` does not name a reissuance of the asset.
    #[error(
        "outpoint {txid}:{vin} is not associated with a reissuance of asset {asset_id} in this \
         wallet: check the TXID:VIN printed when the reissuance was sent"
    )]
    NotAReissuance {
        /// The transaction.
        txid: String,
        /// The input.
        vin: u32,
        /// The asset.
        asset_id: String,
    },
    /// The transaction named by `--use-existing` is not a wallet transaction.
    #[error(
        "transaction {txid} is not a transaction of this wallet ({message}): check the TXID \
         given to --use-existing and the wallet in --node-url"
    )]
    UnknownTransaction {
        /// The transaction.
        txid: String,
        /// The node's message.
        message: String,
    },
    /// The platform's transaction list of the asset is empty.
    #[error("the platform lists no transaction for asset {asset_uuid}: check --asset-uuid")]
    NoIssuance {
        /// The asset.
        asset_uuid: String,
    },
    /// No issuance output lacks its blinders.
    #[error(
        "the blinders update list is empty: the platform already has the blinders of every \
         output of issuance {txid}"
    )]
    NothingToUpdate {
        /// The issuance.
        txid: String,
    },
    /// Sending blinders failed part way.
    #[error(
        "{sent} of {total} blinder updates were accepted, then the platform's \
         \"update-blinders\" failed ({source}): run update-blinders again"
    )]
    UpdateBlinders {
        /// Updates accepted.
        sent: usize,
        /// Updates to send.
        total: usize,
        /// The API error.
        #[source]
        source: ApiError,
    },
}

/// The argument that finishes a run after its one transaction was sent: `--use-existing VALUE`
/// (the transaction, or the reissuance's `TXID:VIN`) confirms it without sending again.
pub fn use_existing(value: impl std::fmt::Display) -> String {
    format!("--use-existing {value}")
}

/// The argument that finishes a split payment's run after one of its transactions was sent:
/// it confirms the transactions the wallet sent and sends the others.
pub const RESUME: &str = "--resume";

fn interrupted_advice(retry: Option<&str>) -> String {
    match retry {
        Some(retry) => format!(
            " after the transaction was sent: once it has 2 confirmations, run this command \
             again with the additional argument \"{retry}\" (do not run it \
             again without that argument, as it would send the transaction again)"
        ),
        None => " before any transaction was sent".to_owned(),
    }
}

impl ConfirmError {
    /// Wraps a node error, turning the ones with a known remedy into their own variant.
    pub fn node(method: &'static str, source: RpcError) -> Self {
        if source.is_wallet_locked() {
            ConfirmError::WalletLocked
        } else if source.is_wallet_not_specified() {
            ConfirmError::WalletNotSpecified
        } else if source.is_insufficient_funds() {
            ConfirmError::InsufficientFunds {
                method,
                message: source.node_message().unwrap_or_default().to_owned(),
            }
        } else if source.is_wallet_not_found() {
            ConfirmError::WalletNotLoaded {
                message: source.node_message().unwrap_or_default().to_owned(),
            }
        } else {
            ConfirmError::Node { method, source }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interruption_says_whether_something_was_sent() {
        let sent = ConfirmError::Interrupted {
            retry: Some(use_existing("ab:1")),
        };
        assert!(sent
            .to_string()
            .starts_with("interrupted after the transaction was sent"));
        assert!(sent.to_string().contains("\"--use-existing ab:1\""));
        let nothing = ConfirmError::Interrupted { retry: None };
        assert_eq!(
            nothing.to_string(),
            "interrupted before any transaction was sent"
        );
    }

    #[test]
    fn wallet_errors_become_their_remedies() {
        let node = |code: i64| RpcError::Node {
            method: "signmessage".into(),
            code,
            message: "m".into(),
            http_status: 500,
        };
        assert!(matches!(
            ConfirmError::node("x", node(-13)),
            ConfirmError::WalletLocked
        ));
        assert!(matches!(
            ConfirmError::node("x", node(-19)),
            ConfirmError::WalletNotSpecified
        ));
        assert!(matches!(
            ConfirmError::node("x", node(-18)),
            ConfirmError::WalletNotLoaded { .. }
        ));
        assert!(matches!(
            ConfirmError::node("x", node(-5)),
            ConfirmError::Node { method: "x", .. }
        ));
    }
}
