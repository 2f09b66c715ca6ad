//! Sending: build the transfer with LWK, sign the user's half, have the platform co-sign,
//! check its signatures and broadcast through the node.

use std::str::FromStr;

use elements::encode::serialize_hex;
use elements::{Address, AssetId};
use lwk_common::Signer;
use lwk_wollet::EC;

use super::Wallet;
use crate::amount::parse_amount;
use crate::error::{Result, WalletError};
use crate::files::{self, Registration};
use crate::platform::PlatformClient;
use crate::reports::Sent;

/// A transfer to make with [`Wallet::send`].
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    /// Asset id (hex), ticker known to the registry, or `L-BTC`.
    pub asset: String,
    /// Confidential address of the recipient.
    pub to: String,
    /// Amount in the asset's display unit (e.g. `1.5` for an asset with precision 2).
    pub amount: String,
    /// Fee rate in sat/kvB (LWK's default when `None`).
    pub fee_rate: Option<f32>,
}

impl Wallet {
    /// Sends `request.amount` of an asset: builds the transaction with LWK, signs the user's half,
    /// asks the platform to co-sign (a refusal is [`WalletError::Refused`] with the platform's
    /// reasons), checks the platform's signatures, broadcasts through the node and records the
    /// transaction as unconfirmed. Coins are selected from the wallet state as last synced:
    /// call [`Wallet::sync`] first.
    pub async fn send(&mut self, request: &SendRequest) -> Result<Sent> {
        let registration = self.registration()?.clone();
        let platform = PlatformClient::new(&registration.platform, self.registry_url.as_deref())?;
        let (network, policy) = {
            let live = self.live().await?;
            (live.network, live.wollet.policy_asset())
        };
        let asset = self.resolve_asset(&request.asset, policy).await?;
        let label = self
            .labels(vec![asset])
            .await?
            .remove(&asset)
            .expect("labelled");
        let amount = parse_amount(&request.amount, label.precision)?;
        let to = Address::from_str(request.to.trim()).map_err(|e| {
            WalletError::InvalidInput(format!("invalid address '{}': {e}", request.to))
        })?;
        if to.params != network.address_params() {
            return Err(WalletError::InvalidInput(format!(
                "address '{}' is for another network",
                request.to
            )));
        }
        if to.blinding_pubkey.is_none() {
            return Err(WalletError::InvalidInput(
                "the recipient address must be confidential (AMP transfers are blinded)".into(),
            ));
        }
        let fee_rate = match request.fee_rate {
            Some(r) => Some(lwk_common::FeeRate::from_sat_kvb(r).ok_or_else(|| {
                WalletError::InvalidInput(format!("invalid fee rate {r} sat/kvB"))
            })?),
            None => None,
        };
        let signer = self.signer(network)?;
        let live = self.live.as_mut().expect("loaded above");
        let mut builder = live
            .wollet
            .tx_builder()
            .add_recipient(&to, amount, asset)
            .map_err(build_error)?
            .fee_rate(fee_rate);
        if matches!(network, lwk_common::Network::CustomElements(_)) {
            // Local chains relay by the full size (Elements' -acceptdiscountct defaults to off
            // outside Liquid and Liquid testnet): pay for it.
            builder = builder.disable_ct_discount();
        }
        let mut pset = builder.finish().map_err(build_error)?;
        let details = live.wollet.get_details(&pset)?;
        let fee = details.fees_in(&policy);
        let ours = signer
            .sign(&mut pset)
            .map_err(|e| WalletError::Sign(format!("{e:?}")))?;
        if ours == 0 {
            return Err(WalletError::Sign(
                "no input of the transaction is ours to sign".into(),
            ));
        }
        let cosigned = platform.cosign(&pset).await?;
        let (server_fp, _) = server_origin(&registration)?;
        let added =
            lwk_common::verify_added_sigs(&pset, &cosigned, server_fp, &EC).map_err(|e| {
                WalletError::Platform {
                    url: platform.url().to_string(),
                    reason: format!("the co-signed PSET is not the one sent: {e:?}"),
                }
            })?;
        if added == 0 {
            return Err(WalletError::Platform {
                url: platform.url().to_string(),
                reason: "the platform returned the PSET without its signatures".into(),
            });
        }
        // Keep both halves whatever the platform echoed back of the user's signatures.
        pset.merge(cosigned).map_err(|e| WalletError::Platform {
            url: platform.url().to_string(),
            reason: format!("the co-signed PSET does not combine with the one sent: {e}"),
        })?;
        let tx = live.wollet.finalize(&mut pset)?;
        let txid = self.node.send_raw_transaction(&serialize_hex(&tx)).await?;
        let index_path = self.dir.index_path();
        let live = self.live.as_mut().expect("loaded above");
        live.index.add_unconfirmed(&tx)?;
        files::write_json(&index_path, &live.index.to_file())?;
        self.apply_index()?;
        Ok(Sent {
            txid: txid.to_string(),
            display: label.display(amount as i64),
            asset: label,
            amount,
            to: to.to_string(),
            fee,
        })
    }

    /// Finds the asset named by `text`: hex id, `L-BTC`, or a ticker of an asset the wallet
    /// holds.
    async fn resolve_asset(&mut self, text: &str, policy: AssetId) -> Result<AssetId> {
        let text = text.trim();
        if ["l-btc", "lbtc", "bitcoin"].contains(&text.to_ascii_lowercase().as_str()) {
            return Ok(policy);
        }
        if let Ok(id) = AssetId::from_str(text) {
            return Ok(id);
        }
        let held: Vec<AssetId> = {
            let live = self.live().await?;
            live.wollet.balance()?.as_ref().keys().copied().collect()
        };
        let labels = self.labels(held).await?;
        let matches: Vec<AssetId> = labels
            .values()
            .filter(|l| {
                l.ticker
                    .as_deref()
                    .is_some_and(|t| t.eq_ignore_ascii_case(text))
            })
            .map(|l| l.asset_id)
            .collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(WalletError::InvalidInput(format!(
                "unknown asset '{text}': give the asset id (hex) or the ticker of an asset you hold"
            ))),
            _ => Err(WalletError::InvalidInput(format!(
                "ticker '{text}' is used by several assets you hold: give the asset id"
            ))),
        }
    }
}

fn build_error(e: lwk_wollet::Error) -> WalletError {
    WalletError::Build(e.to_string())
}

fn server_origin(
    registration: &Registration,
) -> Result<(
    elements::bitcoin::bip32::Fingerprint,
    elements::bitcoin::bip32::DerivationPath,
)> {
    let (origin, _) = lwk_common::keyorigin_xpub_from_str(&registration.server_keyorigin_xpub)
        .map_err(|e| WalletError::corrupt("wallet.json", format!("platform key: {e}")))?;
    origin.ok_or_else(|| WalletError::corrupt("wallet.json", "platform key without key origin"))
}
