//! Every answer of the real Elements Core 23.3.3 transcript goes through the typed parser of its
//! method: results must parse, errors must map to `RpcError::Node` with the recorded code,
//! message and HTTP status.

use amphora_rpc::conformance::{bundled_transcript_path, parse_typed};
use amphora_rpc::types::*;
use amphora_rpc::{parse_answer, Amount, RpcError};
use elements::AssetId;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// A transcript line with the response kept as its exact text (amounts unrounded).
#[derive(Deserialize)]
struct Line {
    method: Option<String>,
    #[serde(default)]
    params: Vec<Value>,
    http_status: Option<u16>,
    response: Option<Box<RawValue>>,
}

struct Parsed {
    method: String,
    params: Vec<Value>,
    status: u16,
    body: String,
}

fn transcript() -> Vec<Parsed> {
    let text = std::fs::read_to_string(bundled_transcript_path()).expect("transcript");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let line: Line = serde_json::from_str(l).expect("transcript line");
            Some(Parsed {
                method: line.method?,
                params: line.params,
                status: line.http_status.expect("http_status"),
                body: line.response.expect("response").get().to_owned(),
            })
        })
        .collect()
}

fn parse<T: DeserializeOwned>(call: &Parsed) -> Result<T, RpcError> {
    parse_answer(&call.method, call.status, call.body.as_bytes())
}

#[test]
fn every_recorded_answer_parses_with_its_typed_parser() {
    let calls = transcript();
    assert_eq!(calls.len(), 104, "every call of the transcript is read");
    let (mut results, mut errors) = (0, 0);
    for (i, call) in calls.iter().enumerate() {
        let envelope: Value = serde_json::from_str(&call.body).unwrap();
        let recorded_error = &envelope["error"];
        let outcome = parse_typed(
            &call.method,
            &call.params,
            call.status,
            call.body.as_bytes(),
        );
        match outcome {
            None => assert_eq!(call.method, "nosuchmethod", "call {i}: no typed parser"),
            Some(Ok(())) => {
                assert!(
                    recorded_error.is_null(),
                    "call {i} {}: recorded error {recorded_error} parsed as a result",
                    call.method
                );
                results += 1;
            }
            Some(Err(RpcError::Node {
                method,
                code,
                message,
                http_status,
            })) => {
                assert_eq!(method, call.method);
                assert_eq!(Some(code), recorded_error["code"].as_i64(), "call {i}");
                assert_eq!(Some(message.as_str()), recorded_error["message"].as_str());
                assert_eq!(http_status, call.status);
                errors += 1;
            }
            Some(Err(other)) => panic!("call {i} {}: {other}", call.method),
        }
    }
    assert_eq!((results, errors), (88, 15), "plus the unknown method");
}

#[test]
fn recorded_errors_map_to_their_helpers() {
    let calls = transcript();
    let error_of = |method: &str, code: i64| -> RpcError {
        calls
            .iter()
            .filter(|c| c.method == method)
            .map(parse::<Value>)
            .filter_map(Result::err)
            .find(|e| e.code() == Some(code))
            .unwrap_or_else(|| panic!("no {code} answer to {method} in the transcript"))
    };
    assert!(error_of("getbalance", -19).is_wallet_not_specified());
    assert!(error_of("signmessage", -13).is_wallet_locked());
    assert!(error_of("signmessage", -5).is_invalid_address_or_key());
    assert!(error_of("gettransaction", -5).is_invalid_address_or_key());
    assert!(error_of("reissueasset", -4).is_wallet_error());
    assert!(!error_of("reissueasset", -4).is_insufficient_funds());
    assert!(error_of("destroyamount", -6).is_insufficient_funds());
    assert!(error_of("sendrawtransaction", -27).is_already_in_chain());
    assert!(error_of("loadwallet", -18).is_wallet_not_found());
    assert!(error_of("getnewaddress", -18).is_wallet_not_found());
    assert!(error_of("walletpassphrase", -15).is_wrong_encryption_state());
    assert!(error_of("walletpassphrase", -14).is_passphrase_incorrect());
    assert!(error_of("loadwallet", -35).is_wallet_already_loaded());
    let not_found = error_of("nosuchmethod", -32601);
    assert!(not_found.is_method_not_found());
    assert!(matches!(
        not_found,
        RpcError::Node {
            http_status: 404,
            ..
        }
    ));
    assert!(!not_found.is_wallet_locked() && !not_found.is_warming_up());
}

#[test]
fn recorded_amounts_convert_exactly() {
    let calls = transcript();
    let balances: Vec<AssetAmounts> = calls
        .iter()
        .filter(|c| c.method == "getbalance" && c.status == 200)
        .map(|c| parse(c).unwrap())
        .collect();
    assert_eq!(
        balances[0]["bitcoin"],
        Amount::from_units(2_100_000_000_000_000)
    );
    // 20999989.99999753 is not representable in f64 arithmetic without care.
    assert_eq!(
        balances[1]["bitcoin"],
        Amount::from_units(2_099_998_999_999_753)
    );
    let token = "71a131ce613209cb5d2a7525240167874097140e4d33bc13fd6c547f907b68e5";
    let asset = "46a233d92f0a672782fc5d3ae43e694cc4c4d2044c222140ebd656c3de8aeeed";
    assert_eq!(
        balances[1][token],
        Amount::from_units(1),
        "1e-08 is one unit"
    );
    assert_eq!(balances[1][asset], Amount::from_units(17_000_000));

    let distribution = calls
        .iter()
        .filter(|c| c.method == "gettransaction" && c.status == 200)
        .map(|c| parse::<WalletTransaction>(c).unwrap())
        .find(|tx| tx.amount.get(asset) == Some(&Amount::from_units(-3_500_000)))
        .expect("the sendmany distribution");
    assert_eq!(distribution.fee["bitcoin"], Amount::from_units(-496));
    let asset_id: AssetId = asset.parse().unwrap();
    let mut sent: Vec<i64> = distribution
        .details
        .iter()
        .filter(|d| d.category == "send" && d.asset == Some(asset_id))
        .map(|d| d.amount.units())
        .collect();
    sent.sort();
    assert_eq!(sent, vec![-2_000_000, -1_500_000]);
    assert!(distribution
        .details
        .iter()
        .all(|d| d.fee == Some(Amount::from_units(496))));
}
