//! `reissue -f FILE [--have-split-reissuance-token] [--use-existing TXID:VIN]`: reissues an
//! amount of the asset with the wallet's reissuance token, waits for 2 confirmations and
//! confirms the reissuance to the platform.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use amphora_rpc::Amount;
use elements::Txid;

use super::Context;
use crate::error::ConfirmError;
use crate::node::check_utxos;
use crate::payload::{self, ReissuanceOutput, ReissueConfirm};
use crate::request::{self, Outpoint, ReissueRequest, Request};

/// `TXID:VIN` of a reissuance (the value of `reissue --use-existing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReissuanceRef {
    /// The reissuing transaction.
    pub txid: Txid,
    /// The input carrying the reissuance.
    pub vin: u32,
}

impl fmt::Display for ReissuanceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.txid, self.vin)
    }
}

impl FromStr for ReissuanceRef {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || {
            format!(
                "{s:?}: with reissue, \"--use-existing\" takes TXID:VIN (the values printed when \
                 the reissuance was sent)"
            )
        };
        let (txid, vin) = s.split_once(':').ok_or_else(usage)?;
        Ok(ReissuanceRef {
            txid: txid.parse().map_err(|_| usage())?,
            vin: vin.parse().map_err(|_| usage())?,
        })
    }
}

/// Runs the sub-command.
pub async fn run(
    ctx: &Context,
    path: &Path,
    have_split_reissuance_token: bool,
    use_existing: Option<ReissuanceRef>,
) -> Result<ReissuanceRef, ConfirmError> {
    let request: Request<ReissueRequest> = request::load(path, "reissue")?;
    let common = &request.common;
    let api = ctx.login_and_check_balance(common).await?;
    let asset_id = common.asset_id;

    let output = match use_existing {
        None => {
            let amount = request.body.amount;
            if amount <= Amount::ZERO {
                return Err(ConfirmError::InvalidFile {
                    path: path.to_path_buf(),
                    command: "reissue",
                    reason: format!("amount {amount} is not positive"),
                });
            }
            refuse_if_reissued(ctx, &request.body.reissuance_utxos).await?;
            check_utxos(
                &ctx.rpc,
                &request.body.reissuance_utxos,
                !have_split_reissuance_token,
            )
            .await?;
            amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_SEND);
            let sent = ctx
                .rpc
                .reissue_asset(&asset_id, amount)
                .await
                .map_err(|e| ConfirmError::node("reissueasset", e))?;
            let output = ReissuanceRef {
                txid: sent.txid,
                vin: sent.vin,
            };
            ctx.console.info(format!(
                "Reissuance transaction {} vin {}.",
                output.txid, output.vin
            ));
            output
        }
        Some(existing) => {
            let issuances = ctx
                .rpc
                .list_issuances(Some(&asset_id))
                .await
                .map_err(|e| ConfirmError::node("listissuances", e))?;
            if !issuances
                .iter()
                .any(|i| i.isreissuance && i.txid == existing.txid && i.vin == existing.vin)
            {
                return Err(ConfirmError::NotAReissuance {
                    txid: existing.txid.to_string(),
                    vin: existing.vin,
                    asset_id: asset_id.to_string(),
                });
            }
            existing
        }
    };
    let retry = crate::error::use_existing(output);
    ctx.wait_confirmed(&output.txid, &retry).await?;

    let details = ctx.transaction_details(&output.txid).await?;
    let listissuances = ctx.issuances_of(&output.txid).await?;
    let payload = ReissueConfirm {
        details,
        reissuance_output: ReissuanceOutput {
            txid: output.txid,
            vin: output.vin,
        },
        listissuances,
    };
    ctx.console.debug(format!(
        "calling \"reissue-confirm\" with payload: {}",
        payload::to_text(&payload)
    ));
    amphora_core::crash::point(amphora_core::crash::CONFIRM_BEFORE_CONFIRM_CALL);
    api.confirm_reissue(&common.asset_uuid, &payload)
        .await
        .map_err(|source| ConfirmError::ConfirmRejected {
            endpoint: "reissue-confirm",
            txid: output.txid.to_string(),
            retry,
            source,
        })?;
    ctx.console.info("Reissuance confirmed successfully");
    Ok(output)
}

/// Refuses to reissue when a wallet reissuance already spends one of the request's token
/// outputs (an interrupted earlier run), naming its `--use-existing TXID:VIN`.
async fn refuse_if_reissued(ctx: &Context, tokens: &[Outpoint]) -> Result<(), ConfirmError> {
    match ctx.wallet_spend_of(tokens).await? {
        Some(spend) if spend.tx.input[spend.vin as usize].has_issuance() => {
            let txid = spend.tx.txid();
            Err(ConfirmError::AlreadySent {
                what: "a reissuance",
                txid: txid.to_string(),
                outpoint: spend.outpoint.to_string(),
                retry: ReissuanceRef {
                    txid,
                    vin: spend.vin,
                }
                .to_string(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_existing_takes_txid_and_vin() {
        let txid = "ab".repeat(32);
        let r: ReissuanceRef = format!("{txid}:3").parse().unwrap();
        assert_eq!(r.vin, 3);
        assert_eq!(r.to_string(), format!("{txid}:3"));
        for bad in [
            txid.clone(),
            format!("{txid}:x"),
            "zz:1".into(),
            format!("{txid}:-1"),
        ] {
            let err = bad.parse::<ReissuanceRef>().unwrap_err();
            assert!(err.contains("TXID:VIN"), "{err}");
        }
    }
}
