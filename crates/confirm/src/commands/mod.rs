//! One module per sub-command, and what they share: logging in to the platform, the lost
//! outputs check, the confirmation wait, and the raw node answers forwarded to the platform.

pub mod burn;
mod burnt;
pub mod distribute;
pub mod payout;
pub mod reissue;
mod spent;
pub mod update_blinders;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use amphora_rpc::{Amount, ElementsRpc, RpcError};
use elements::{AssetId, Txid};
use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

use crate::api::AmpApi;
use crate::error::ConfirmError;
use crate::node::{wait_for_confirmations, WaitPolicy, WaitProgress, REQUIRED_CONFIRMATIONS};
use crate::output::Console;
use crate::payload::EntryKeys;
use crate::request::Common;

/// Most wallet history entries read when looking for an earlier payment of a request.
const WALLET_HISTORY: u32 = 1_000_000;

/// One `listtransactions` entry, as far as the double-payment check reads it.
#[derive(Debug, Deserialize)]
struct WalletEntry {
    category: String,
    #[serde(default)]
    address: Option<String>,
    txid: String,
    /// When the wallet first saw the transaction (Unix seconds).
    #[serde(default)]
    time: Option<i64>,
}

/// The unconfidential form of a (confidential) address, for comparing what the wallet
/// reports with what a request lists; the text itself when it does not parse.
fn unconfidential(address: &str) -> String {
    address
        .parse::<elements::Address>()
        .map(|a| a.to_unconfidential().to_string())
        .unwrap_or_else(|_| address.to_owned())
}

/// What every sub-command works with.
#[derive(Clone)]
pub struct Context {
    /// The node (routed to the wallet of the URL).
    pub rpc: ElementsRpc,
    /// Where progress goes.
    pub console: Console,
    /// How to wait for confirmations.
    pub wait: WaitPolicy,
    /// Platform user name.
    pub username: String,
    /// Platform password.
    pub password: String,
    /// The argument that finishes the run (`--use-existing VALUE`, `--resume`) once a
    /// transaction was sent and not yet confirmed to the platform.
    in_flight: Arc<Mutex<Option<String>>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("rpc", &self.rpc)
            .field("console", &self.console)
            .field("wait", &self.wait)
            .field("username", &self.username)
            .field("password", &"***")
            .field("in_flight", &self.in_flight())
            .finish()
    }
}

impl Context {
    /// A context for one run.
    pub fn new(
        rpc: ElementsRpc,
        console: Console,
        wait: WaitPolicy,
        username: String,
        password: String,
    ) -> Self {
        Context {
            rpc,
            console,
            wait,
            username,
            password,
            in_flight: Arc::default(),
        }
    }

    /// The argument that finishes the run (`--use-existing VALUE`, `--resume`) once a
    /// transaction was sent and not yet confirmed to the platform (what an interrupted run must
    /// tell the user).
    pub fn in_flight(&self) -> Option<String> {
        self.in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Logs in to the platform at `base_url` (`POST user/obtain_token`).
    pub async fn login(&self, base_url: &str) -> Result<AmpApi, ConfirmError> {
        let mut api = AmpApi::new(base_url).map_err(|source| ConfirmError::Api {
            what: "the platform URL is not usable",
            source,
        })?;
        self.console.debug("Obtaining token");
        api.obtain_token(&self.username, &self.password)
            .await
            .map_err(|source| ConfirmError::Api {
                what: "cannot log in to the platform (user/obtain_token); check -u/-p and the URL",
                source,
            })?;
        Ok(api)
    }

    /// Logs in with the file's `base_url`, then checks that the platform's balance of the asset
    /// has no lost outputs (the official script first sleeps 60 s; there is no need to).
    pub async fn login_and_check_balance(&self, common: &Common) -> Result<AmpApi, ConfirmError> {
        let api = self.login(&common.base_url).await?;
        self.console.debug("Checking lost outputs");
        let balance =
            api.balance(&common.asset_uuid)
                .await
                .map_err(|source| ConfirmError::Api {
                    what: "the platform's \"balance\" failed; the transaction will not be sent",
                    source,
                })?;
        if !balance.lost_outputs.is_empty() {
            return Err(ConfirmError::LostOutputs {
                asset_uuid: common.asset_uuid.clone(),
                count: balance.lost_outputs.len(),
            });
        }
        self.share_treasury_view_key(&api, &common.asset_uuid).await;
        Ok(api)
    }

    /// Before anything is paid, hands the platform the treasury wallet's view key
    /// (`dumpmasterblindingkey`) unless it has it, so the platform's follower sees the
    /// treasury's change and reissued units even if this run stops before its confirm call.
    /// Never fatal: a platform without the route (Blockstream AMP), a node that does not give
    /// the key, or a treasury that is not the wallet the asset was issued to only lose that
    /// help, and are reported.
    async fn share_treasury_view_key(&self, api: &AmpApi, asset_uuid: &str) {
        match api.treasury_view_key_registered(asset_uuid).await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) if e.status() == Some(404) => {
                self.console
                    .debug("The platform takes no treasury view key (not an Amphora platform).");
                return;
            }
            Err(e) => {
                self.console.info(format!(
                    "Warning: cannot ask for the treasury view key: {e}"
                ));
                return;
            }
        }
        let key = match self.rpc.dump_master_blinding_key().await {
            Ok(key) => key,
            Err(e) => {
                self.console.info(format!(
                    "Warning: the node did not give the treasury view key \
                     (dumpmasterblindingkey: {e}); the platform will learn of the treasury's \
                     change only from this run's confirm call"
                ));
                return;
            }
        };
        match api.put_treasury_view_key(asset_uuid, &key).await {
            Ok(()) => self
                .console
                .info("The platform now holds the treasury's view key (it cannot spend)."),
            Err(e) => self.console.info(format!(
                "Warning: the platform refused the treasury view key: {e} (is this node's \
                 wallet the one the asset was issued to?)"
            )),
        }
    }

    /// What the wallet already paid of a request's `batches` (one per transaction of the file),
    /// from its sends (`listtransactions`, which names the unconfidential address of each
    /// recipient): for each batch, the wallet transaction that paid every one of its addresses,
    /// `None` when none of them was paid. A run interrupted after a broadcast (a crash of this
    /// client, of the platform or of the node) is then finished without paying the same
    /// investors twice. A batch paid only in part, or by more than one transaction, is
    /// [`ConfirmError::PaidInPart`]: no run can finish it.
    pub async fn earlier_payments(
        &self,
        batches: &[Vec<(String, Amount)>],
    ) -> Result<Vec<Option<Txid>>, ConfirmError> {
        let mut payers: HashMap<String, BTreeSet<Txid>> = HashMap::new();
        for entry in self.wallet_history().await? {
            if let (true, Some(address)) = (entry.category == "send", entry.address.as_deref()) {
                let txid: Txid = serde_json::from_value(json!(entry.txid)).map_err(|source| {
                    let method = "listtransactions";
                    ConfirmError::node(
                        method,
                        RpcError::Parse {
                            method: method.into(),
                            source,
                        },
                    )
                })?;
                payers
                    .entry(unconfidential(address))
                    .or_default()
                    .insert(txid);
            }
        }
        let none = BTreeSet::new();
        let mut paid = Vec::with_capacity(batches.len());
        for (n, batch) in batches.iter().enumerate() {
            let by: Vec<(&String, &BTreeSet<Txid>)> = batch
                .iter()
                .map(|(address, _)| {
                    let txids = payers.get(&unconfidential(address)).unwrap_or(&none);
                    (address, txids)
                })
                .collect();
            let Some(&txid) = by.iter().find_map(|(_, txids)| txids.first()) else {
                paid.push(None);
                continue;
            };
            let odd = by
                .iter()
                .find(|(_, txids)| txids.len() != 1 || txids.first() != Some(&txid));
            if let Some((address, txids)) = odd {
                return Err(ConfirmError::PaidInPart {
                    transaction: n + 1,
                    of: batches.len(),
                    txid: txid.to_string(),
                    address: (*address).clone(),
                    state: match txids.len() {
                        0 => "not paid",
                        1 => "paid by another transaction",
                        _ => "paid by more than one transaction",
                    },
                });
            }
            paid.push(Some(txid));
        }
        Ok(paid)
    }

    /// Waits for 2 confirmations of `txid` with a progress display.
    pub async fn wait_confirmed(
        &self,
        txid: &Txid,
        retry: &str,
    ) -> Result<WaitProgress, ConfirmError> {
        self.wait_for(txid, REQUIRED_CONFIRMATIONS, retry).await
    }

    /// Waits until `txid` is in a block, with a progress display: the next transaction of a
    /// split payment spends its change, and Elements Core keeps a transaction whose
    /// unconfirmed ancestors pass its mempool limits (25 transactions, 101,000 vbytes: two
    /// transactions of 60 confidential outputs) in the wallet without broadcasting it.
    pub async fn wait_mined(&self, txid: &Txid, retry: &str) -> Result<WaitProgress, ConfirmError> {
        self.wait_for(txid, 1, retry).await
    }

    async fn wait_for(
        &self,
        txid: &Txid,
        required: i64,
        retry: &str,
    ) -> Result<WaitProgress, ConfirmError> {
        *self.in_flight.lock().unwrap_or_else(|p| p.into_inner()) = Some(retry.to_owned());
        amphora_core::crash::point(amphora_core::crash::CONFIRM_AFTER_SEND);
        let display = self
            .console
            .confirmation_display(&txid.to_string(), required);
        let outcome = wait_for_confirmations(&self.rpc, txid, required, self.wait, retry, |p| {
            display.update(p)
        })
        .await;
        display.finish();
        outcome
    }

    /// Checks that `txid` (given with `--use-existing`) is a transaction of the wallet.
    pub async fn ensure_wallet_tx(&self, txid: &Txid) -> Result<(), ConfirmError> {
        match self.rpc.get_transaction(txid).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_invalid_address_or_key() => Err(ConfirmError::UnknownTransaction {
                txid: txid.to_string(),
                message: e.node_message().unwrap_or_default().to_owned(),
            }),
            Err(e) => Err(ConfirmError::node("gettransaction", e)),
        }
    }

    /// `gettransaction(txid).details`, as the node wrote it.
    pub async fn transaction_details(&self, txid: &Txid) -> Result<Box<RawValue>, ConfirmError> {
        #[derive(Deserialize)]
        struct Details {
            details: Box<RawValue>,
        }
        let tx: Details = self
            .rpc
            .call("gettransaction", &[json!(txid)])
            .await
            .map_err(|e| ConfirmError::node("gettransaction", e))?;
        Ok(tx.details)
    }

    /// The `listunspent` entries of `asset` created by `txid`, as the node wrote them.
    pub async fn change_data(
        &self,
        asset: &AssetId,
        txid: &Txid,
    ) -> Result<Vec<Box<RawValue>>, ConfirmError> {
        let unspent: Vec<Box<RawValue>> = self
            .rpc
            .call("listunspent", &[])
            .await
            .map_err(|e| ConfirmError::node("listunspent", e))?;
        let (asset, txid) = (asset.to_string(), txid.to_string());
        Ok(unspent
            .into_iter()
            .filter(|u| {
                EntryKeys::of(u).is_some_and(|k| {
                    k.asset.as_deref() == Some(&asset) && k.txid.as_deref() == Some(&txid)
                })
            })
            .collect())
    }

    /// The `listissuances` entries of `txid`, as the node wrote them.
    pub async fn issuances_of(&self, txid: &Txid) -> Result<Vec<Box<RawValue>>, ConfirmError> {
        let issuances: Vec<Box<RawValue>> = self
            .rpc
            .call("listissuances", &[])
            .await
            .map_err(|e| ConfirmError::node("listissuances", e))?;
        let txid = txid.to_string();
        Ok(issuances
            .into_iter()
            .filter(|i| EntryKeys::of(i).is_some_and(|k| k.txid.as_deref() == Some(&txid)))
            .collect())
    }
}
