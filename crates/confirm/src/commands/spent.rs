//! Finding the wallet's earlier transaction for a reissue or burn request before sending a new
//! one: a run interrupted after its broadcast (a crash of this client, of the platform or of
//! the node) left the request's outputs spent by a wallet transaction, and sending again would
//! reissue or burn twice. The caller names the transaction and its `--use-existing` value.
//! A burn need not spend the outputs its file lists (`destroyamount` selects its own), so the
//! wallet's burns of an amount are found too ([`Context::wallet_burns_since`]).

use elements::{AssetId, OutPoint, Transaction, Txid};
use serde::Deserialize;
use serde_json::json;

use super::{Context, WalletEntry, WALLET_HISTORY};
use crate::error::ConfirmError;
use crate::request::Outpoint;

/// A wallet transaction spending one of a request's outputs.
#[derive(Debug, Clone)]
pub struct WalletSpend {
    /// The transaction.
    pub tx: Transaction,
    /// The request's output it spends.
    pub outpoint: Outpoint,
    /// The index of the input spending it.
    pub vin: u32,
}

impl Context {
    /// The wallet transaction (confirmed or unconfirmed, not conflicted) that spends one of
    /// `outputs`, when one of them is no longer unspent; newest first.
    pub async fn wallet_spend_of(
        &self,
        outputs: &[Outpoint],
    ) -> Result<Option<WalletSpend>, ConfirmError> {
        let unspent = self
            .rpc
            .list_unspent(None)
            .await
            .map_err(|e| ConfirmError::node("listunspent", e))?;
        let spent: Vec<OutPoint> = outputs
            .iter()
            .filter(|o| !unspent.iter().any(|u| u.txid == o.txid && u.vout == o.vout))
            .map(|o| OutPoint::new(o.txid, o.vout))
            .collect();
        if spent.is_empty() {
            return Ok(None);
        }
        let history = self.wallet_history().await?;
        let mut seen = std::collections::HashSet::new();
        for entry in history.iter().rev() {
            if !seen.insert(entry.txid.as_str()) {
                continue;
            }
            let Some(tx) = self.live_wallet_tx(&entry.txid).await? else {
                continue;
            };
            let found = tx
                .input
                .iter()
                .position(|input| spent.contains(&input.previous_output));
            if let Some(vin) = found {
                let prevout = tx.input[vin].previous_output;
                return Ok(Some(WalletSpend {
                    outpoint: Outpoint {
                        txid: prevout.txid,
                        vout: prevout.vout,
                    },
                    vin: vin as u32,
                    tx,
                }));
            }
        }
        Ok(None)
    }

    /// The wallet's live (not conflicted) transactions that the wallet first saw at or after
    /// `since` (Unix seconds) and whose explicit `OP_RETURN` outputs of `asset` destroy exactly
    /// `units` base units; newest first.
    pub async fn wallet_burns_since(
        &self,
        asset: &AssetId,
        units: i64,
        since: i64,
    ) -> Result<Vec<Txid>, ConfirmError> {
        let history = self.wallet_history().await?;
        let mut seen = std::collections::HashSet::new();
        let mut burns = Vec::new();
        for entry in history.iter().rev() {
            if entry.time.is_some_and(|t| t < since) || !seen.insert(entry.txid.as_str()) {
                continue;
            }
            let Some(tx) = self.live_wallet_tx(&entry.txid).await? else {
                continue;
            };
            let burnt: u64 = tx
                .output
                .iter()
                .filter(|o| o.script_pubkey.is_op_return() && o.asset.explicit() == Some(*asset))
                .filter_map(|o| o.value.explicit())
                .sum();
            if burnt > 0 && i64::try_from(burnt) == Ok(units) {
                burns.push(tx.txid());
            }
        }
        Ok(burns)
    }

    /// The wallet's whole history (`listtransactions`, watch-only included), oldest first.
    pub(super) async fn wallet_history(&self) -> Result<Vec<WalletEntry>, ConfirmError> {
        self.rpc
            .call(
                "listtransactions",
                &[json!("*"), json!(WALLET_HISTORY), json!(0), json!(true)],
            )
            .await
            .map_err(|e| ConfirmError::node("listtransactions", e))
    }

    /// The wallet transaction `txid` unless it is conflicted (negative confirmations: it
    /// never paid anything).
    async fn live_wallet_tx(&self, txid: &str) -> Result<Option<Transaction>, ConfirmError> {
        #[derive(Deserialize)]
        struct WalletTx {
            confirmations: i64,
            hex: String,
        }
        let wtx: WalletTx = self
            .rpc
            .call("gettransaction", &[json!(txid)])
            .await
            .map_err(|e| ConfirmError::node("gettransaction", e))?;
        if wtx.confirmations < 0 {
            return Ok(None);
        }
        amphora_rpc::decode_hex("gettransaction", &wtx.hex)
            .map(Some)
            .map_err(|e| ConfirmError::node("gettransaction", e))
    }
}
