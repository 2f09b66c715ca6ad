//! The request files: what the platform's distribution/reissue/burn requests return, saved to a
//! file and passed with `-f`. Checked like the official script checks them
//! (`min_supported_client_script_version`, then `command`), then read with exact amounts.

use std::fmt;
use std::path::{Path, PathBuf};

use amphora_rpc::Amount;
use elements::{AssetId, Txid};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::ConfirmError;

mod payments;

/// The confirm protocol version this client implements (the official script's `CLIENT_SCRIPT_VERSION`).
pub const CLIENT_SCRIPT_VERSION: i64 = 2;

/// An output the platform tracks (`{"txid", "vout"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub struct Outpoint {
    /// Transaction id.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
}

impl fmt::Display for Outpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.txid, self.vout)
    }
}

/// The keys every request file has.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Common {
    /// The API root as a format string ending in `/{}`.
    pub base_url: String,
    /// The asset's uuid on the platform.
    pub asset_uuid: String,
    /// The asset id.
    pub asset_id: AssetId,
}

/// `GET assets/{u}/distributions/create/`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DistributeRequest {
    /// The distribution's uuid.
    pub distribution_uuid: String,
    /// Recipient address -> amount (coin units), in the file's order.
    #[serde(deserialize_with = "ordered_amounts")]
    pub map_address_amount: Vec<(String, Amount)>,
    /// Recipient address -> asset id.
    pub map_address_asset: std::collections::BTreeMap<String, AssetId>,
    /// Amphora: a distribution with more recipients than one transaction can pay lists them
    /// again here, split into transactions (each address in exactly one). Absent: one
    /// transaction pays `map_address_amount` (what the official script always does).
    #[serde(default)]
    pub transactions: Vec<DistributeBatch>,
}

/// One transaction of a split distribution.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DistributeBatch {
    /// Recipient address -> amount (coin units) paid by this transaction.
    #[serde(deserialize_with = "ordered_amounts")]
    pub map_address_amount: Vec<(String, Amount)>,
}

/// `POST assets/{u}/payouts/create`: a payout's payments, made like a distribution's but in
/// the payout asset.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PayoutRequest {
    /// The payout's uuid.
    pub payout_uuid: String,
    /// The asset paid (the file's `asset_id` is the security's).
    pub payout_asset: AssetId,
    /// Recipient address -> amount (coin units), in the file's order.
    #[serde(deserialize_with = "ordered_amounts")]
    pub map_address_amount: Vec<(String, Amount)>,
    /// Recipient address -> asset id.
    pub map_address_asset: std::collections::BTreeMap<String, AssetId>,
    /// The payments split into transactions when one cannot pay them all.
    #[serde(default)]
    pub transactions: Vec<DistributeBatch>,
}

/// `POST assets/{u}/reissue-request`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReissueRequest {
    /// Amount to reissue (coin units).
    pub amount: Amount,
    /// Outputs holding the reissuance token.
    pub reissuance_utxos: Vec<Outpoint>,
}

/// `POST assets/{u}/burn-request`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BurnRequest {
    /// Amount to burn (coin units).
    pub amount: Amount,
    /// Treasury outputs the burn is expected to spend.
    pub utxos: Vec<Outpoint>,
    /// Amphora: the request's id on the platform (`GET assets/{u}/burn-requests/{id}` tells
    /// whether it was completed); absent in Blockstream AMP's files.
    #[serde(default)]
    pub burn_request_id: Option<i64>,
}

/// A request file: the keys every file has and those of its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<T> {
    /// `base_url`, `asset_uuid`, `asset_id`.
    pub common: Common,
    /// The command's own keys.
    pub body: T,
}

/// Reads `path` as the file of `command`: version check, command check, then the typed keys.
pub fn load<T: serde::de::DeserializeOwned>(
    path: &Path,
    command: &'static str,
) -> Result<Request<T>, ConfirmError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfirmError::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path, command)
}

/// [`load`] on text already read.
pub fn parse<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    command: &'static str,
) -> Result<Request<T>, ConfirmError> {
    let invalid = |reason: String| ConfirmError::InvalidFile {
        path: PathBuf::from(path),
        command,
        reason,
    };
    let not_confirm = |what: String| ConfirmError::NotAConfirmFile {
        path: PathBuf::from(path),
        command,
        what,
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) if looks_like_html(text) => {
            return Err(not_confirm(format!("an HTML page, not JSON ({e})")))
        }
        Err(e) if text.trim().is_empty() => return Err(not_confirm(format!("empty ({e})"))),
        Err(e) => return Err(invalid(format!("not JSON ({e})"))),
    };
    let Some(object) = value.as_object() else {
        return Err(not_confirm(format!(
            "a JSON {}, not an object",
            json_kind(&value)
        )));
    };
    if !object.contains_key("command")
        && !object.contains_key("min_supported_client_script_version")
    {
        return Err(not_confirm(what_object_is(object)));
    }
    check_client_version(object.get("min_supported_client_script_version"), &invalid)?;
    match object.get("command") {
        Some(Value::String(found)) if found == command => {}
        Some(Value::String(found)) => {
            return Err(ConfirmError::WrongCommand {
                expected: command,
                found: found.clone(),
            })
        }
        Some(other) => return Err(invalid(format!("command is {other}, not a string"))),
        None => return Err(invalid("no \"command\" key".into())),
    }
    // Amounts are read from the raw text (exactly), so parse the text again, not the Value.
    let common: Common = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let body: T = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    Ok(Request { common, body })
}

/// Whether `text` starts like an HTML (or XML) document.
fn looks_like_html(text: &str) -> bool {
    text.trim_start().starts_with('<')
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Names a JSON object that has none of a confirm file's keys: an error answer of the API
/// (`{"Error": …}`, `{"detail": …}`, `{"error": …}`, DRF field lists) or some other object.
fn what_object_is(object: &serde_json::Map<String, Value>) -> String {
    for key in ["Error", "detail", "error"] {
        if let Some(message) = object.get(key) {
            let message = message
                .as_str()
                .map_or_else(|| message.to_string(), str::to_string);
            return format!("an error answer of the platform ({key}: {message:?})");
        }
    }
    let keys: Vec<&str> = object.keys().map(String::as_str).take(5).collect();
    if !keys.is_empty() && object.values().all(Value::is_array) {
        return format!("an error answer of the platform (invalid fields: {keys:?})");
    }
    format!("a JSON object with the keys {keys:?}, none of a confirm file's")
}

/// The official script refuses files whose `min_supported_client_script_version` is below its
/// version; this client also refuses files that require a newer client than it is.
fn check_client_version(
    field: Option<&Value>,
    invalid: &dyn Fn(String) -> ConfirmError,
) -> Result<(), ConfirmError> {
    let min = match field {
        None => 0,
        Some(value) => value.as_i64().ok_or_else(|| {
            invalid(format!(
                "min_supported_client_script_version is {value}, not an integer"
            ))
        })?,
    };
    if min < CLIENT_SCRIPT_VERSION {
        return Err(ConfirmError::ClientVersion {
            min,
            client: CLIENT_SCRIPT_VERSION,
            advice: "the file comes from a platform that does not speak confirm protocol \
                     version 2; request a new file from an up-to-date platform",
        });
    }
    if min > CLIENT_SCRIPT_VERSION {
        return Err(ConfirmError::ClientVersion {
            min,
            client: CLIENT_SCRIPT_VERSION,
            advice: "the platform requires a newer confirm client; upgrade amphora",
        });
    }
    Ok(())
}

/// `{address: amount}` read in the file's order with exact amounts.
fn ordered_amounts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, Amount)>, D::Error> {
    struct Entries;
    impl<'de> Visitor<'de> for Entries {
        type Value = Vec<(String, Amount)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of address: amount")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(String, Amount)> = Vec::new();
            while let Some((address, amount)) = map.next_entry::<String, Amount>()? {
                if entries.iter().any(|(a, _)| *a == address) {
                    return Err(serde::de::Error::custom(format!(
                        "address {address} appears twice in map_address_amount"
                    )));
                }
                entries.push((address, amount));
            }
            Ok(entries)
        }
    }
    d.deserialize_map(Entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ASSET: &str = "4fa41f2929d4bf6975a55967d9da5b650b6b9bfddeae4d7b54b04394be328f7f";

    fn distribute(extra: &str) -> String {
        format!(
            r#"{{"command":"distribute","min_supported_client_script_version":2,
            "base_url":"https://amp.example.org/api/{{}}","asset_uuid":"u1","asset_id":"{ASSET}",
            "distribution_uuid":"d1",{extra}}}"#
        )
    }

    fn parse_distribute(text: &str) -> Result<Request<DistributeRequest>, ConfirmError> {
        parse(text, Path::new("d.json"), "distribute")
    }

    #[test]
    fn a_distribution_file_keeps_order_and_exact_amounts() {
        let text = distribute(&format!(
            r#""map_address_amount":{{"b":0.1,"a":1.5}},"map_address_asset":{{"a":"{ASSET}","b":"{ASSET}"}}"#
        ));
        let request = parse_distribute(&text).unwrap();
        assert_eq!(
            request.body.map_address_amount,
            vec![
                ("b".into(), Amount::from_units(10_000_000)),
                ("a".into(), Amount::from_units(150_000_000)),
            ]
        );
        request.validate(Path::new("d.json")).unwrap();
        assert_eq!(request.common.base_url, "https://amp.example.org/api/{}");
    }

    #[test]
    fn distribution_maps_must_agree() {
        let other = "0000000000000000000000000000000000000000000000000000000000000001";
        for (maps, expected) in [
            (
                r#""map_address_amount":{},"map_address_asset":{}"#.to_string(),
                "empty",
            ),
            (
                r#""map_address_amount":{"a":1},"map_address_asset":{}"#.to_string(),
                "no entry",
            ),
            (
                format!(r#""map_address_amount":{{"a":1}},"map_address_asset":{{"a":"{other}"}}"#),
                "not the file's asset",
            ),
            (
                format!(r#""map_address_amount":{{"a":0}},"map_address_asset":{{"a":"{ASSET}"}}"#),
                "not positive",
            ),
            (
                format!(
                    r#""map_address_amount":{{"a":1}},"map_address_asset":{{"a":"{ASSET}","b":"{ASSET}"}}"#
                ),
                "does not",
            ),
        ] {
            let request = parse_distribute(&distribute(&maps)).unwrap();
            let err = request.validate(Path::new("d.json")).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let twice = distribute(&format!(
            r#""map_address_amount":{{"a":1,"a":2}},"map_address_asset":{{"a":"{ASSET}"}}"#
        ));
        assert!(parse_distribute(&twice)
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn version_and_command_are_checked_first() {
        let old = distribute(r#""map_address_amount":{},"map_address_asset":{}"#).replace(
            "\"min_supported_client_script_version\":2",
            "\"min_supported_client_script_version\":1",
        );
        let err = parse_distribute(&old).unwrap_err();
        assert!(
            matches!(err, ConfirmError::ClientVersion { min: 1, .. }),
            "{err}"
        );
        assert!(err
            .to_string()
            .contains("(000002) not supported (min: 000001)"));
        let newer = distribute(r#""map_address_amount":{},"map_address_asset":{}"#).replace(
            "\"min_supported_client_script_version\":2",
            "\"min_supported_client_script_version\":3",
        );
        assert!(parse_distribute(&newer)
            .unwrap_err()
            .to_string()
            .contains("upgrade amphora"));
        let missing = r#"{"command":"distribute"}"#;
        assert!(matches!(
            parse_distribute(missing).unwrap_err(),
            ConfirmError::ClientVersion { min: 0, .. }
        ));
        let burn = distribute(r#""map_address_amount":{},"map_address_asset":{}"#)
            .replace("\"command\":\"distribute\"", "\"command\":\"burn\"");
        let err = parse_distribute(&burn).unwrap_err();
        assert!(matches!(
            err,
            ConfirmError::WrongCommand {
                expected: "distribute",
                ..
            }
        ));
        assert!(err.to_string().contains("wrong type of file"));
        // amp-rs's mock name for a burn is not accepted.
        let wrong: Result<Request<BurnRequest>, _> = parse(
            &distribute(r#""map_address_amount":{},"map_address_asset":{}"#).replace(
                "\"command\":\"distribute\"",
                "\"command\":\"destroyamount\"",
            ),
            Path::new("b.json"),
            "burn",
        );
        assert!(matches!(
            wrong.unwrap_err(),
            ConfirmError::WrongCommand { .. }
        ));
        for bad in [
            "{\"command\":1,\"min_supported_client_script_version\":2}",
            "{\"min_supported_client_script_version\":2,",
        ] {
            assert!(matches!(
                parse_distribute(bad).unwrap_err(),
                ConfirmError::InvalidFile { .. }
            ));
        }
    }

    /// Files that are no confirm file at all (an API error answer saved by mistake, a web
    /// page, other JSON) are reported as such, not as a protocol-version mismatch.
    #[test]
    fn a_file_that_is_no_confirm_file_is_named_for_what_it_is() {
        for (text, expected) in [
            (
                r#"{"Error": "No assignments to distribute."}"#,
                r#"an error answer of the platform (Error: "No assignments to distribute.")"#,
            ),
            (
                r#"{"detail": "Invalid token."}"#,
                r#"an error answer of the platform (detail: "Invalid token.")"#,
            ),
            (
                r#"{"amount": ["A valid integer is required."]}"#,
                "an error answer of the platform (invalid fields: [\"amount\"])",
            ),
            (
                "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>",
                "an HTML page",
            ),
            ("", "empty"),
            ("[1, 2]", "a JSON array, not an object"),
            (r#"{"asset_uuid": "u1"}"#, "none of a confirm file's"),
        ] {
            let err = parse_distribute(text).unwrap_err();
            assert!(
                matches!(err, ConfirmError::NotAConfirmFile { .. }),
                "{text}: {err:?}"
            );
            let message = err.to_string();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(
                message.contains("d.json is not a confirm file"),
                "{message}"
            );
            assert!(!message.contains("version ("), "{message}");
        }
    }

    #[test]
    fn reissue_and_burn_files_parse() {
        let txid = "aa".repeat(32);
        let reissue: Request<ReissueRequest> = parse(
            &format!(
                r#"{{"command":"reissue","min_supported_client_script_version":2,
                "base_url":"http://h/api/{{}}","asset_uuid":"u","asset_id":"{ASSET}",
                "amount":10.0,"reissuance_utxos":[{{"txid":"{txid}","vout":0}}]}}"#
            ),
            Path::new("r.json"),
            "reissue",
        )
        .unwrap();
        assert_eq!(reissue.body.amount, Amount::from_units(1_000_000_000));
        assert_eq!(
            reissue.body.reissuance_utxos[0].to_string(),
            format!("{txid}:0")
        );
        let burn: Result<Request<BurnRequest>, _> = parse(
            &format!(
                r#"{{"command":"burn","min_supported_client_script_version":2,
                "base_url":"http://h/api/{{}}","asset_uuid":"u","asset_id":"{ASSET}",
                "amount":1.0}}"#
            ),
            Path::new("b.json"),
            "burn",
        );
        assert!(burn
            .unwrap_err()
            .to_string()
            .contains("missing field `utxos`"));
    }
}
