//! `burn -f FILE [--use-existing TXID]`: destroys an amount of the asset from the treasury
//! wallet, waits for 2 confirmations and confirms the transaction to the platform.

use std::path::Path;

use amphora_rpc::Amount;
use elements::Txid;

use super::burnt::refuse_if_burnt;
use super::Context;
use crate::error::ConfirmError;
use crate::node::check_utxos;
use crate::payload::{self, BurnConfirm, BurnTxData};
use crate::request::{self, BurnRequest, Request};

/// Runs the sub-command.
pub async fn run(
    ctx: &Context,
    path: &Path,
    use_existing: Option<Txid>,
) -> Result<Txid, ConfirmError> {
    let request: Request<BurnRequest> = request::load(path, "burn")?;
    let common = &request.common;
    let api = ctx.login_and_check_balance(common).await?;
    let asset_id = common.asset_id;

    let txid = match use_existing {
        None => {
            let amount = request.body.amount;
            if amount <= Amount::ZERO {
                return Err(ConfirmError::InvalidFile {
                    path: path.to_path_buf(),
                    command: "burn",
                    reason: format!("amount {amount} is not positive"),
                });
            }
            refuse_if_burnt(ctx, &api, &request).await?;
            check_utxos(&ctx.rpc, &request.body.utxos, true).await?;
            let balances = ctx
                .rpc
                .get_balances_min_conf(0)
                .await
                .map_err(|e| ConfirmError::node("getbalance", e))?;
            let balance = balances
                .get(&asset_id.to_string())
                .copied()
                .unwrap_or(Amount::ZERO);
            if balance < amount {
                return Err(ConfirmError::InsufficientBalance {
                    asset_id: asset_id.to_string(),
                    balance,
                    amount,
                });
            }
            amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_SEND);
            let txid = ctx
                .rpc
                .destroy_amount(&asset_id, amount)
                .await
                .map_err(|e| ConfirmError::node("destroyamount", e))?;
            ctx.console.info(format!("Burn transaction {txid}."));
            txid
        }
        Some(txid) => {
            ctx.ensure_wallet_tx(&txid).await?;
            txid
        }
    };
    let retry = crate::error::use_existing(txid);
    ctx.wait_confirmed(&txid, &retry).await?;

    let change_data = ctx.change_data(&asset_id, &txid).await?;
    let payload = BurnConfirm {
        tx_data: BurnTxData { txid },
        change_data,
    };
    ctx.console.debug(format!(
        "calling \"burn-confirm\" with payload: {}",
        payload::to_text(&payload)
    ));
    amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_CONFIRM_CALL);
    api.confirm_burn(&common.asset_uuid, &payload)
        .await
        .map_err(|source| ConfirmError::ConfirmRejected {
            endpoint: "burn-confirm",
            txid: txid.to_string(),
            retry,
            source,
        })?;
    ctx.console.info("Burn confirmed successfully");
    Ok(txid)
}
