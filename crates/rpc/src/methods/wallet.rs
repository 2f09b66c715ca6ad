//! The wallet RPCs: balances, coins, addresses, sending, issuing and building, blinding and
//! signing raw transactions. Called on a client routed with [`ElementsRpc::wallet`] when the
//! node has several wallets loaded.

use std::collections::HashSet;

use elements::{AssetId, ContractHash, Txid};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::client::{param, ElementsRpc};
use crate::types::*;
use crate::{Amount, RpcError};

macro_rules! raw_params {
    ($method:expr; $($value:expr),* $(,)?) => {{
        let method: &str = $method;
        let params: Result<Vec<Box<RawValue>>, RpcError> = (|| {
            Ok(vec![$(param(&$value).map_err(|e| RpcError::InvalidRequest {
                method: method.to_owned(),
                reason: e.to_string(),
            })?),*])
        })();
        params
    }};
}

/// Address types of `getnewaddress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressType {
    /// P2PKH (confidential by default).
    Legacy,
    /// P2SH-P2WPKH.
    P2shSegwit,
    /// Unconfidential P2WPKH (`ert1...`).
    Bech32,
    /// Confidential P2WPKH (`el1...`).
    Blech32,
}

/// One issuance request of `rawissueasset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawIssuanceRequest {
    /// Amount of the asset to issue.
    pub asset_amount: Amount,
    /// Where the issued asset goes.
    pub asset_address: String,
    /// Amount of reissuance token (zero for none).
    pub token_amount: Amount,
    /// Where the token goes (required when `token_amount` is not zero).
    pub token_address: Option<String>,
    /// Whether the issuance amounts are blinded.
    pub blind: bool,
    /// Registry contract hash committed in the issuance entropy.
    pub contract_hash: Option<ContractHash>,
}

/// One output of a distribution (`sendmany` with `output_assets`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetPayment {
    /// Recipient address.
    pub address: String,
    /// Amount in base units of `asset`.
    pub amount: Amount,
    /// Asset paid.
    pub asset: AssetId,
}

impl ElementsRpc {
    /// `getwalletinfo`.
    pub async fn get_wallet_info(&self) -> Result<WalletInfo, RpcError> {
        self.call("getwalletinfo", &[]).await
    }

    /// `rescanblockchain`.
    pub async fn rescan_blockchain(&self) -> Result<RescanResult, RpcError> {
        self.call("rescanblockchain", &[]).await
    }

    /// `getnewaddress "" [type]`.
    pub async fn get_new_address(&self, kind: Option<AddressType>) -> Result<String, RpcError> {
        match kind {
            Some(kind) => self.call("getnewaddress", &[json!(""), json!(kind)]).await,
            None => self.call("getnewaddress", &[]).await,
        }
    }

    /// `dumpmasterblindingkey`: the wallet's SLIP-77 master blinding key (64 hex digits), from
    /// which the blinding key of every script it receives on is derived. A view key: it opens
    /// amounts and assets, it cannot spend.
    pub async fn dump_master_blinding_key(&self) -> Result<String, RpcError> {
        self.call("dumpmasterblindingkey", &[]).await
    }

    /// `getaddressinfo <address>`.
    pub async fn get_address_info(&self, address: &str) -> Result<AddressInfo, RpcError> {
        self.call("getaddressinfo", &[json!(address)]).await
    }

    /// `getbalance`: trusted balance (1 confirmation or own unconfirmed) of every asset.
    pub async fn get_balances(&self) -> Result<AssetAmounts, RpcError> {
        self.call("getbalance", &[]).await
    }

    /// `getbalance "*" <minconf> false`: every asset, with `minconf` (0 counts the mempool).
    pub async fn get_balances_min_conf(&self, minconf: u32) -> Result<AssetAmounts, RpcError> {
        self.call("getbalance", &[json!("*"), json!(minconf), json!(false)])
            .await
    }

    /// `gettransaction <txid>`.
    pub async fn get_transaction(&self, txid: &Txid) -> Result<WalletTransaction, RpcError> {
        self.call("gettransaction", &[json!(txid)]).await
    }

    /// `listunspent 1 9999999 [] true {"asset": <asset>}` or plain `listunspent`.
    pub async fn list_unspent(
        &self,
        asset: Option<&AssetId>,
    ) -> Result<Vec<UnspentOutput>, RpcError> {
        match asset {
            Some(asset) => {
                let filter = json!({ "asset": asset });
                self.call(
                    "listunspent",
                    &[json!(1), json!(9_999_999), json!([]), json!(true), filter],
                )
                .await
            }
            None => self.call("listunspent", &[]).await,
        }
    }

    /// `listissuances [asset]`.
    pub async fn list_issuances(
        &self,
        asset: Option<&AssetId>,
    ) -> Result<Vec<IssuanceInfo>, RpcError> {
        match asset {
            Some(asset) => self.call("listissuances", &[json!(asset)]).await,
            None => self.call("listissuances", &[]).await,
        }
    }

    /// `sendtoaddress <address> <amount> ... <assetlabel>`: pays `amount` of `asset`
    /// (the policy asset when `None`).
    pub async fn send_to_address(
        &self,
        address: &str,
        amount: Amount,
        asset: Option<&AssetId>,
    ) -> Result<Txid, RpcError> {
        let params = send_to_address_params(address, amount, asset)?;
        self.call_raw("sendtoaddress", &params).await
    }

    /// `sendmany "" {address: amount} 0 "" [] false 1 "UNSET" {address: asset}`: one
    /// transaction paying every recipient (as the confirm client distributes).
    ///
    /// Each address may appear once (the node keys outputs by address).
    pub async fn send_many(&self, payments: &[AssetPayment]) -> Result<Txid, RpcError> {
        let params = send_many_params(payments)?;
        self.call_raw("sendmany", &params).await
    }

    /// `reissueasset <asset> <amount>` (the wallet must hold the reissuance token).
    pub async fn reissue_asset(
        &self,
        asset: &AssetId,
        amount: Amount,
    ) -> Result<Reissuance, RpcError> {
        let params = raw_params!("reissueasset"; asset, amount)?;
        self.call_raw("reissueasset", &params).await
    }

    /// `destroyamount <asset> <amount>`: burns `amount` of `asset`.
    pub async fn destroy_amount(&self, asset: &AssetId, amount: Amount) -> Result<Txid, RpcError> {
        let params = raw_params!("destroyamount"; asset, amount)?;
        self.call_raw("destroyamount", &params).await
    }

    /// `issueasset <amount> <token_amount> <blind>`.
    pub async fn issue_asset(
        &self,
        amount: Amount,
        token_amount: Amount,
        blind: bool,
    ) -> Result<IssuedAsset, RpcError> {
        let params = raw_params!("issueasset"; amount, token_amount, blind)?;
        self.call_raw("issueasset", &params).await
    }

    /// `createrawtransaction <inputs> <outputs>` (outputs as Elements takes them, e.g.
    /// `[{"data": "00"}]` or `[{"<address>": amount}]`).
    pub async fn create_raw_transaction(
        &self,
        inputs: &Value,
        outputs: &Value,
    ) -> Result<String, RpcError> {
        self.call("createrawtransaction", &[inputs.clone(), outputs.clone()])
            .await
    }

    /// `fundrawtransaction <hex> <options>` (e.g. `{"fee_rate": 10}`).
    pub async fn fund_raw_transaction(
        &self,
        hex: &str,
        options: &Value,
    ) -> Result<FundedTransaction, RpcError> {
        self.call("fundrawtransaction", &[json!(hex), options.clone()])
            .await
    }

    /// `rawissueasset <hex> [issuances]`.
    pub async fn raw_issue_asset(
        &self,
        hex: &str,
        issuances: &[RawIssuanceRequest],
    ) -> Result<Vec<RawIssuance>, RpcError> {
        let params = raw_issue_asset_params(hex, issuances)?;
        self.call_raw("rawissueasset", &params).await
    }

    /// `blindrawtransaction <hex> true [] <blind_issuances>`: blinds the outputs to
    /// confidential addresses; `blind_issuances` also blinds the amounts of new issuances whose
    /// amounts are explicit (Elements' default). An issuance made with `rawissueasset`
    /// `"blind": false` must be blinded with `blind_issuances` false: its reissuance token id is
    /// that of an unblinded issuance, and Elements refuses to blind the issuance under it.
    pub async fn blind_raw_transaction(
        &self,
        hex: &str,
        blind_issuances: bool,
    ) -> Result<String, RpcError> {
        self.call(
            "blindrawtransaction",
            &[json!(hex), json!(true), json!([]), json!(blind_issuances)],
        )
        .await
    }

    /// `signrawtransactionwithwallet <hex>`.
    pub async fn sign_raw_transaction_with_wallet(
        &self,
        hex: &str,
    ) -> Result<SignedTransaction, RpcError> {
        self.call("signrawtransactionwithwallet", &[json!(hex)])
            .await
    }

    /// `signmessage <address> <message>`.
    pub async fn sign_message(&self, address: &str, message: &str) -> Result<String, RpcError> {
        self.call("signmessage", &[json!(address), json!(message)])
            .await
    }

    /// Whether the wallet is locked, probed as the confirm client does: `signmessage` with an
    /// invalid address answers -13 when locked and -5 (invalid address) when usable.
    pub async fn is_wallet_locked(&self) -> Result<bool, RpcError> {
        match self.sign_message("invalidaddress", "message").await {
            Err(e) if e.is_wallet_locked() => Ok(true),
            Err(e) if e.is_invalid_address_or_key() => Ok(false),
            Err(e) => Err(e),
            Ok(_) => Err(RpcError::InvalidRequest {
                method: "signmessage".into(),
                reason: "the node signed with the address \"invalidaddress\"".into(),
            }),
        }
    }

    /// `walletpassphrase <passphrase> <seconds>`.
    pub async fn wallet_passphrase(&self, passphrase: &str, seconds: u64) -> Result<(), RpcError> {
        self.call("walletpassphrase", &[json!(passphrase), json!(seconds)])
            .await
    }

    /// `walletlock`.
    pub async fn wallet_lock(&self) -> Result<(), RpcError> {
        self.call("walletlock", &[]).await
    }

    /// `encryptwallet <passphrase>`.
    pub async fn encrypt_wallet(&self, passphrase: &str) -> Result<String, RpcError> {
        self.call("encryptwallet", &[json!(passphrase)]).await
    }
}

fn send_to_address_params(
    address: &str,
    amount: Amount,
    asset: Option<&AssetId>,
) -> Result<Vec<Box<RawValue>>, RpcError> {
    match asset {
        None => raw_params!("sendtoaddress"; address, amount),
        Some(asset) => raw_params!("sendtoaddress";
            address, amount, "", "", false, Value::Null, Value::Null, "UNSET", false, asset),
    }
}

fn send_many_params(payments: &[AssetPayment]) -> Result<Vec<Box<RawValue>>, RpcError> {
    let mut seen = HashSet::new();
    let mut assets = serde_json::Map::new();
    for payment in payments {
        if !seen.insert(payment.address.as_str()) {
            return Err(RpcError::InvalidRequest {
                method: "sendmany".into(),
                reason: format!("address {} appears twice", payment.address),
            });
        }
        assets.insert(payment.address.clone(), json!(payment.asset));
    }
    if payments.is_empty() {
        return Err(RpcError::InvalidRequest {
            method: "sendmany".into(),
            reason: "no payment".into(),
        });
    }
    raw_params!("sendmany";
        "", RawAmounts(payments), 0, "", json!([]), false, 1, "UNSET", Value::Object(assets))
}

fn raw_issue_asset_params(
    hex: &str,
    issuances: &[RawIssuanceRequest],
) -> Result<Vec<Box<RawValue>>, RpcError> {
    let requests: Vec<RawIssuanceJson<'_>> = issuances.iter().map(RawIssuanceJson::from).collect();
    raw_params!("rawissueasset"; hex, requests)
}

/// `{address: amount}` with exact amount text.
struct RawAmounts<'a>(&'a [AssetPayment]);

impl Serialize for RawAmounts<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for payment in self.0 {
            map.serialize_entry(&payment.address, &payment.amount)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct RawIssuanceJson<'a> {
    asset_amount: Amount,
    asset_address: &'a str,
    #[serde(skip_serializing_if = "is_zero")]
    token_amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_address: Option<&'a str>,
    blind: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract_hash: Option<ContractHash>,
}

fn is_zero(amount: &Amount) -> bool {
    *amount == Amount::ZERO
}

impl<'a> From<&'a RawIssuanceRequest> for RawIssuanceJson<'a> {
    fn from(request: &'a RawIssuanceRequest) -> Self {
        RawIssuanceJson {
            asset_amount: request.asset_amount,
            asset_address: &request.asset_address,
            token_amount: request.token_amount,
            token_address: request.token_address.as_deref(),
            blind: request.blind,
            contract_hash: request.contract_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::{bundled_transcript_path, Entry, RecordedCall, Transcript};

    fn transcript() -> Transcript {
        Transcript::load(&bundled_transcript_path()).unwrap()
    }

    fn recorded<'a>(transcript: &'a Transcript, method: &str) -> &'a RecordedCall {
        transcript.calls().find(|c| c.method == method).unwrap()
    }

    fn as_values(params: Vec<Box<RawValue>>) -> Vec<Value> {
        params
            .iter()
            .map(|p| serde_json::from_str(p.get()).unwrap())
            .collect()
    }

    #[test]
    fn raw_issuance_params_match_the_transcript() {
        let transcript = transcript();
        let contract_json = transcript
            .entries
            .iter()
            .find_map(|e| match e {
                Entry::Note { note, fields, .. } if note == "contract" => {
                    fields["contract_json"].as_str().map(str::to_owned)
                }
                _ => None,
            })
            .unwrap();
        let call = recorded(&transcript, "rawissueasset");
        let request = &call.params[1][0];
        let issuance = RawIssuanceRequest {
            asset_amount: Amount::from_units(17_000_000),
            asset_address: request["asset_address"].as_str().unwrap().into(),
            token_amount: Amount::from_units(1),
            token_address: request["token_address"].as_str().map(str::to_owned),
            blind: false,
            contract_hash: Some(ContractHash::from_json_contract(&contract_json).unwrap()),
        };
        let hex = call.params[0].as_str().unwrap();
        let params = raw_issue_asset_params(hex, &[issuance]).unwrap();
        assert!(params[1].get().contains(r#""asset_amount":0.17000000"#));
        assert_eq!(as_values(params), call.params);
    }

    #[test]
    fn distribution_params_match_the_transcript() {
        let transcript = transcript();
        let call = recorded(&transcript, "sendmany");
        let amounts = call.params[1].as_object().unwrap();
        let payments: Vec<AssetPayment> = amounts
            .iter()
            .map(|(address, amount)| AssetPayment {
                address: address.clone(),
                amount: serde_json::from_value(amount.clone()).unwrap(),
                asset: serde_json::from_value(call.params[8][address].clone()).unwrap(),
            })
            .collect();
        assert_eq!(as_values(send_many_params(&payments).unwrap()), call.params);

        let twice = [payments[0].clone(), payments[0].clone()];
        assert!(matches!(
            send_many_params(&twice),
            Err(RpcError::InvalidRequest { .. })
        ));
        assert!(send_many_params(&[]).is_err());
    }

    #[test]
    fn asset_typed_params_match_the_transcript() {
        let transcript = transcript();
        let filtered = transcript
            .calls()
            .find(|c| c.method == "listunspent" && !c.params.is_empty())
            .unwrap();
        let asset: AssetId = serde_json::from_value(filtered.params[4]["asset"].clone()).unwrap();
        let filter = json!({ "asset": asset });
        assert_eq!(
            vec![json!(1), json!(9_999_999), json!([]), json!(true), filter],
            filtered.params
        );
        let reissue = recorded(&transcript, "reissueasset");
        let params = raw_params!("reissueasset"; asset, Amount::from_units(5_000_000)).unwrap();
        assert_eq!(as_values(params), reissue.params);
        let labelled = transcript
            .calls()
            .find(|c| c.method == "sendtoaddress" && c.params.len() == 10)
            .unwrap();
        let address = labelled.params[0].as_str().unwrap();
        let params =
            send_to_address_params(address, Amount::from_units(100_000), Some(&asset)).unwrap();
        assert_eq!(as_values(params), labelled.params);
    }
}
