//! The bodies posted to the platform's confirm endpoints (AMP API §3), built from the node's
//! answers. Node objects are forwarded as the node wrote them (raw JSON text), so amounts reach
//! the platform with the node's exact decimals.

use elements::Txid;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `POST assets/{u}/distributions/{d}/confirm`.
#[derive(Debug, Serialize)]
pub struct DistributionConfirm {
    /// The transaction.
    pub tx_data: DistributionTxData,
    /// `listunspent` entries of the asset created by the transaction.
    pub change_data: Vec<Box<RawValue>>,
}

/// `tx_data` of a distribution.
#[derive(Debug, Serialize)]
pub struct DistributionTxData {
    /// `gettransaction(txid).details`.
    pub details: Box<RawValue>,
    /// The transaction id.
    pub txid: Txid,
}

/// `POST assets/{u}/burn-confirm`.
#[derive(Debug, Serialize)]
pub struct BurnConfirm {
    /// The transaction.
    pub tx_data: BurnTxData,
    /// `listunspent` entries of the asset created by the transaction.
    pub change_data: Vec<Box<RawValue>>,
}

/// `tx_data` of a burn.
#[derive(Debug, Serialize)]
pub struct BurnTxData {
    /// The transaction id.
    pub txid: Txid,
}

/// `POST assets/{u}/reissue-confirm`.
#[derive(Debug, Serialize)]
pub struct ReissueConfirm {
    /// `gettransaction(txid).details`.
    pub details: Box<RawValue>,
    /// What `reissueasset` returned.
    pub reissuance_output: ReissuanceOutput,
    /// `listissuances` entries of the transaction.
    pub listissuances: Vec<Box<RawValue>>,
}

/// `{txid, vin}` of a reissuance.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReissuanceOutput {
    /// The transaction id.
    pub txid: Txid,
    /// The input carrying the reissuance.
    pub vin: u32,
}

/// The fields of a `listunspent` or `listissuances` entry used to filter them.
#[derive(Debug, Deserialize)]
pub(crate) struct EntryKeys {
    pub txid: Option<String>,
    pub asset: Option<String>,
}

impl EntryKeys {
    /// Reads the keys of a raw entry (`None` for an entry that is not an object).
    pub fn of(entry: &RawValue) -> Option<EntryKeys> {
        serde_json::from_str(entry.get()).ok()
    }
}

/// The body as text, for `-v`.
pub fn to_text(body: &impl Serialize) -> String {
    serde_json::to_string(body).unwrap_or_else(|e| format!("<unprintable: {e}>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn node_objects_keep_their_exact_text() {
        let txid: Txid = "ab".repeat(32).parse().unwrap();
        let body = DistributionConfirm {
            tx_data: DistributionTxData {
                details: raw(r#"[{"amount":-0.00000001,"fee":-0.00000494}]"#),
                txid,
            },
            change_data: vec![raw(r#"{"txid":"x","amount":996.25000000}"#)],
        };
        assert_eq!(
            to_text(&body),
            format!(
                r#"{{"tx_data":{{"details":[{{"amount":-0.00000001,"fee":-0.00000494}}],"txid":"{txid}"}},"change_data":[{{"txid":"x","amount":996.25000000}}]}}"#
            )
        );
        let keys = EntryKeys::of(&raw(r#"{"txid":"t","asset":"a","amount":1}"#)).unwrap();
        assert_eq!(
            (keys.txid.as_deref(), keys.asset.as_deref()),
            (Some("t"), Some("a"))
        );
        assert!(EntryKeys::of(&raw("[1]")).is_none());
    }
}
