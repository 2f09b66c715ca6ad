//! The conformance harness checked against the real transcript itself: replaying the recorded
//! answers gives zero mismatches, altered answers give exactly the expected mismatches, and a
//! node whose identifiers all differ from the recording is matched through the substitutions.

use std::collections::HashSet;
use std::sync::Mutex;

use amphora_rpc::conformance::{
    bundled_transcript_path, replay, Endpoint, JsonType, Mismatch, Playback, ReplayOptions,
    Transcript,
};
use amphora_rpc::{RawAnswer, RpcError};
use serde_json::{json, Value};

fn transcript() -> Transcript {
    Transcript::load(&bundled_transcript_path()).expect("bundled transcript")
}

fn call_index(transcript: &Transcript, method: &str, nth: usize) -> usize {
    transcript
        .calls()
        .enumerate()
        .filter(|(_, c)| c.method == method)
        .nth(nth)
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no call {nth} of {method}"))
}

#[tokio::test]
async fn replaying_the_recorded_answers_conforms() {
    let transcript = transcript();
    assert_eq!(transcript.calls().count(), 104);
    assert_eq!(transcript.entries.len(), 105, "one note line (contract)");
    let report = replay(
        &transcript,
        &Playback::new(&transcript),
        &ReplayOptions::default(),
    )
    .await;
    assert!(report.is_conformant(), "{report}");
    assert_eq!(report.passed(), 104);
    assert!(
        report.substitutions.is_empty(),
        "same values: nothing to substitute"
    );
}

#[tokio::test]
async fn altered_answers_are_reported_call_by_call() {
    let recorded = transcript();
    let mut altered = recorded.clone();
    let network = call_index(&recorded, "getnetworkinfo", 0);
    let count = call_index(&recorded, "getblockcount", 0);
    let wallet_not_specified = call_index(&recorded, "getbalance", 0);
    let generate = call_index(&recorded, "generatetoaddress", 1);
    let not_found = call_index(&recorded, "nosuchmethod", 0);
    let datadir = call_index(&recorded, "loadwallet", 0);
    for (i, call) in altered.calls_mut().enumerate() {
        let result = &mut call.response["result"];
        if i == network {
            let info = result.as_object_mut().unwrap();
            info.remove("subversion");
            info.insert("mweb".into(), json!(true));
        } else if i == count {
            *result = json!("0");
        } else if i == wallet_not_specified {
            call.response["error"]["code"] = json!(-18);
        } else if i == generate {
            result.as_array_mut().unwrap().pop();
        } else if i == not_found {
            call.http_status = 500;
        } else if i == datadir {
            let message = call.response["error"]["message"].as_str().unwrap();
            call.response["error"]["message"] = json!(message.replace("<datadir>", "/srv/node"));
        }
    }
    let report = replay(
        &recorded,
        &Playback::new(&altered),
        &ReplayOptions::default(),
    )
    .await;
    let failed: Vec<(usize, &Vec<Mismatch>)> =
        report.failed().map(|c| (c.index, &c.mismatches)).collect();
    assert_eq!(failed.len(), 6, "{report}");
    let expect = |index: usize, mismatches: Vec<Mismatch>| {
        let call = &report.calls[index];
        assert_eq!(call.mismatches, mismatches, "call {index} {}", call.method);
    };
    let missing_subversion = Mismatch::TypedParse(
        "cannot parse the answer to getnetworkinfo: missing field `subversion` at line 1 column 825"
            .into(),
    );
    expect(
        network,
        vec![
            Mismatch::MissingKey {
                path: "result.subversion".into(),
            },
            Mismatch::ExtraKey {
                path: "result.mweb".into(),
            },
            missing_subversion.clone(),
        ],
    );
    expect(
        count,
        vec![
            Mismatch::Type {
                path: "result".into(),
                recorded: JsonType::Number,
                live: JsonType::String,
            },
            Mismatch::TypedParse(
                "cannot parse the answer to getblockcount: invalid type: string \"0\", expected u64 at line 1 column 3".into(),
            ),
        ],
    );
    expect(
        wallet_not_specified,
        vec![Mismatch::ErrorCode {
            recorded: -19,
            live: json!(-18),
        }],
    );
    expect(
        generate,
        vec![Mismatch::Length {
            path: "result".into(),
            recorded: 2,
            live: 1,
        }],
    );
    expect(
        not_found,
        vec![Mismatch::HttpStatus {
            recorded: 404,
            live: 500,
        }],
    );
    assert!(matches!(
        report.calls[datadir].mismatches.as_slice(),
        [Mismatch::ErrorMessage { .. }]
    ));
    let text = report.to_string();
    assert!(text.starts_with("98/104 calls conform"), "{text}");
    assert!(
        text.contains("getnetworkinfo:\n    result.subversion: missing key"),
        "{text}"
    );

    // With the node's datadir given, the path is normalised and the message conforms; an
    // explicitly allowed extra key is accepted.
    let options = ReplayOptions {
        datadir: Some("/srv/node/".into()),
        allowed_extra_keys: vec![("getnetworkinfo".into(), "result.mweb".into())],
    };
    let report = replay(&recorded, &Playback::new(&altered), &options).await;
    assert!(report.calls[datadir].mismatches.is_empty(), "{report}");
    assert_eq!(
        report.calls[network].mismatches,
        vec![
            Mismatch::MissingKey {
                path: "result.subversion".into()
            },
            missing_subversion
        ]
    );
}

/// A node whose every generated identifier differs from the recording: hex strings have their
/// digits flipped, other identifiers (addresses) are reversed. It checks that each call's
/// parameters are the recorded ones rewritten the same way, and answers HTTP 400 otherwise.
struct RenamingNode {
    transcript: Transcript,
    generated: HashSet<String>,
    next: Mutex<usize>,
    /// Outputs (recorded txid, recorded vout) this node answered at vout + 100.
    moved_outputs: Mutex<HashSet<(String, u64)>>,
}

/// The renaming node puts the outputs of the transactions it names at other positions.
const VOUT_SHIFT: u64 = 100;

impl RenamingNode {
    fn new(transcript: Transcript) -> Self {
        // Generated identifiers: string values first seen in a result, not in what the client
        // sent (field names are not identifiers).
        let mut seen = HashSet::new();
        let mut generated = HashSet::new();
        for call in transcript.calls() {
            collect_strings(&Value::Array(call.params.clone()), &mut seen);
            let mut answered = HashSet::new();
            collect_values(&call.response["result"], &mut answered);
            for s in answered {
                // Constants such as the all-zero hash are the same on every node.
                let constant = s.bytes().all(|b| Some(b) == s.bytes().next());
                // Serialized transactions and blocks keep their bytes: renamed they would no
                // longer decode (the harness decodes them as the typed client does).
                let serialized = s.len() > 66 && s.bytes().all(|b| b.is_ascii_hexdigit());
                if s.len() >= 20 && !constant && !serialized && seen.insert(s.clone()) {
                    generated.insert(s);
                }
            }
        }
        RenamingNode {
            transcript,
            generated,
            next: Mutex::new(0),
            moved_outputs: Mutex::new(HashSet::new()),
        }
    }

    fn rename_string(&self, s: &str) -> String {
        if self.generated.contains(s) {
            return rename(s);
        }
        let mut out = s.to_owned();
        for g in &self.generated {
            if g.len() < s.len()
                && !g.bytes().all(|b| b.is_ascii_hexdigit())
                && out.contains(g.as_str())
            {
                out = out.replace(g.as_str(), &rename(g));
            }
        }
        out
    }

    /// An answer as this node gives it: identifiers renamed, outputs of named transactions
    /// moved.
    fn rename_answer(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.rename_answer(v)).collect())
            }
            Value::Object(map) => {
                let mut out: serde_json::Map<String, Value> = map
                    .iter()
                    .map(|(k, v)| (self.rename_string(k), self.rename_answer(v)))
                    .collect();
                if let (Some(Value::String(txid)), Some(vout)) =
                    (map.get("txid"), map.get("vout").and_then(Value::as_u64))
                {
                    if self.generated.contains(txid) {
                        self.moved_outputs
                            .lock()
                            .unwrap()
                            .insert((txid.clone(), vout));
                        out.insert("vout".into(), json!(vout + VOUT_SHIFT));
                    }
                }
                Value::Object(out)
            }
            other => self.rename_value(other),
        }
    }

    /// The parameters a client must send: identifiers renamed, `[txid, vout]` and
    /// `{"txid", "vout"}` of moved outputs at their new position.
    fn expected_params(&self, params: &[Value]) -> Value {
        let moved = self.moved_outputs.lock().unwrap().clone();
        fn walk(node: &RenamingNode, value: &Value, moved: &HashSet<(String, u64)>) -> Value {
            match value {
                Value::Array(items) => {
                    let mut out: Vec<Value> = items.iter().map(|v| walk(node, v, moved)).collect();
                    for i in 1..items.len() {
                        if let (Value::String(txid), Some(vout)) =
                            (&items[i - 1], items[i].as_u64())
                        {
                            if moved.contains(&(txid.clone(), vout)) {
                                out[i] = json!(vout + VOUT_SHIFT);
                            }
                        }
                    }
                    Value::Array(out)
                }
                Value::Object(map) => {
                    let mut out = node.rename_value(value);
                    if let (Some(Value::String(txid)), Some(vout)) =
                        (map.get("txid"), map.get("vout").and_then(Value::as_u64))
                    {
                        if moved.contains(&(txid.clone(), vout)) {
                            out["vout"] = json!(vout + VOUT_SHIFT);
                        }
                    }
                    out
                }
                other => node.rename_value(other),
            }
        }
        walk(self, &Value::Array(params.to_vec()), &moved)
    }

    fn rename_value(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.rename_string(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.rename_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.rename_string(k), self.rename_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn rename(s: &str) -> String {
    if s.bytes().all(|b| b.is_ascii_hexdigit()) {
        s.chars()
            .map(|c| {
                let d = c.to_digit(16).unwrap();
                std::char::from_digit(15 - d, 16).unwrap()
            })
            .collect()
    } else {
        s.chars().rev().collect()
    }
}

fn collect_values(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_values(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_values(v, out)),
        _ => {}
    }
}

fn collect_strings(value: &Value, out: &mut HashSet<String>) {
    match value {
        Value::String(s) => {
            out.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.insert(k.clone());
            collect_strings(v, out);
        }),
        _ => {}
    }
}

impl Endpoint for RenamingNode {
    async fn send(
        &self,
        wallet: Option<&str>,
        method: &str,
        params: &[Value],
    ) -> Result<RawAnswer, RpcError> {
        let index = {
            let mut next = self.next.lock().unwrap();
            *next += 1;
            *next - 1
        };
        let call = self
            .transcript
            .calls()
            .nth(index)
            .expect("more calls than recorded");
        let expected = self.expected_params(&call.params);
        if Value::Array(params.to_vec()) != expected
            || method != call.method
            || wallet != call.wallet.as_deref()
        {
            return Ok(RawAnswer {
                http_status: 400,
                body: json!({ "result": null, "error": { "code": -1, "message": format!("expected params {expected}") }, "id": 0 }),
            });
        }
        Ok(RawAnswer {
            http_status: call.http_status,
            body: self.rename_answer(&call.response),
        })
    }
}

#[tokio::test]
async fn identifiers_that_differ_are_learnt_and_substituted() {
    let transcript = transcript();
    let node = RenamingNode::new(transcript.clone());
    assert!(
        node.generated.len() > 100,
        "txids, addresses, hex, asset ids"
    );
    let report = replay(&transcript, &node, &ReplayOptions::default()).await;
    assert!(report.is_conformant(), "{report}");
    assert!(report.substitutions.len() > 100);
    let gettxout = report
        .calls
        .iter()
        .find(|c| c.method == "gettxout")
        .unwrap();
    assert_eq!(
        gettxout.sent_params[1],
        json!(3 + VOUT_SHIFT),
        "output moved, index followed"
    );

    // Without substitution the same node rejects the first call that reuses an identifier.
    let fresh = RenamingNode::new(transcript.clone());
    let first_reuse = transcript
        .calls()
        .position(|c| {
            let mut strings = HashSet::new();
            collect_strings(&Value::Array(c.params.clone()), &mut strings);
            strings.iter().any(|s| fresh.generated.contains(s))
        })
        .unwrap();
    let call = transcript.calls().nth(first_reuse).unwrap();
    for earlier in transcript.calls().take(first_reuse) {
        fresh
            .send(earlier.wallet.as_deref(), &earlier.method, &earlier.params)
            .await
            .unwrap();
    }
    let answer = fresh
        .send(call.wallet.as_deref(), &call.method, &call.params)
        .await
        .unwrap();
    assert_eq!(
        answer.http_status, 400,
        "the double really checks parameters"
    );
}
