//! Shape comparison of a recorded answer with a live one.

use std::fmt;

use serde_json::Value;

use crate::conformance::substitution::Substitutions;
use crate::RawAnswer;

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    /// `null`
    Null,
    /// `true` / `false`
    Bool,
    /// any number
    Number,
    /// string
    String,
    /// array
    Array,
    /// object
    Object,
}

impl JsonType {
    /// The type of `value`.
    pub fn of(value: &Value) -> Self {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }
}

impl fmt::Display for JsonType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonType::Null => "null",
            JsonType::Bool => "bool",
            JsonType::Number => "number",
            JsonType::String => "string",
            JsonType::Array => "array",
            JsonType::Object => "object",
        })
    }
}

/// One difference between the recorded and the live answer. Paths are JSON paths in the
/// envelope (`result.details[0].amount`), with keys spelled as recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Mismatch {
    /// The call could not be made (node unreachable, ...).
    Transport(String),
    /// Different HTTP status.
    HttpStatus {
        /// As recorded.
        recorded: u16,
        /// As answered.
        live: u16,
    },
    /// The live body is not a JSON object.
    NotAnEnvelope,
    /// A key of the recorded answer is missing.
    MissingKey {
        /// Path of the missing key.
        path: String,
    },
    /// The live answer has a key the recording does not.
    ExtraKey {
        /// Path of the extra key.
        path: String,
    },
    /// Same path, different JSON type.
    Type {
        /// Path of the value.
        path: String,
        /// As recorded.
        recorded: JsonType,
        /// As answered.
        live: JsonType,
    },
    /// Arrays of different lengths (their items are then not compared).
    Length {
        /// Path of the array.
        path: String,
        /// As recorded.
        recorded: usize,
        /// As answered.
        live: usize,
    },
    /// The recording has an error, the live answer a result.
    MissingError {
        /// Recorded code.
        code: i64,
        /// Recorded message.
        message: String,
    },
    /// The live answer has an error, the recording a result.
    UnexpectedError {
        /// Live code.
        code: Value,
        /// Live message.
        message: Value,
    },
    /// Different error codes.
    ErrorCode {
        /// As recorded.
        recorded: i64,
        /// As answered.
        live: Value,
    },
    /// The client's typed parser for the method rejects the live answer.
    TypedParse(String),
    /// Different error messages (after substitution and `<datadir>` normalisation).
    ErrorMessage {
        /// As recorded (substituted).
        recorded: String,
        /// As answered (normalised).
        live: String,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Transport(e) => write!(f, "call failed: {e}"),
            Mismatch::HttpStatus { recorded, live } => {
                write!(f, "HTTP status {live}, recorded {recorded}")
            }
            Mismatch::NotAnEnvelope => write!(f, "body is not a JSON-RPC envelope"),
            Mismatch::MissingKey { path } => write!(f, "{path}: missing key"),
            Mismatch::ExtraKey { path } => write!(f, "{path}: extra key"),
            Mismatch::Type {
                path,
                recorded,
                live,
            } => write!(f, "{path}: {live}, recorded {recorded}"),
            Mismatch::Length {
                path,
                recorded,
                live,
            } => write!(f, "{path}: {live} items, recorded {recorded}"),
            Mismatch::MissingError { code, message } => {
                write!(f, "answered a result, recorded error {code} {message:?}")
            }
            Mismatch::UnexpectedError { code, message } => {
                write!(f, "answered error {code} {message}, recorded a result")
            }
            Mismatch::ErrorCode { recorded, live } => {
                write!(f, "error code {live}, recorded {recorded}")
            }
            Mismatch::TypedParse(error) => write!(f, "typed client: {error}"),
            Mismatch::ErrorMessage { recorded, live } => {
                write!(f, "error message {live:?}, recorded {recorded:?}")
            }
        }
    }
}

/// Compares one answer; `allow_extra(path)` says whether an extra key at `path` is accepted.
pub(crate) fn compare_answer(
    recorded_status: u16,
    recorded: &Value,
    live: &RawAnswer,
    subs: &Substitutions,
    datadir: Option<&str>,
    allow_extra: &dyn Fn(&str) -> bool,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if recorded_status != live.http_status {
        out.push(Mismatch::HttpStatus {
            recorded: recorded_status,
            live: live.http_status,
        });
    }
    if !live.body.is_object() {
        out.push(Mismatch::NotAnEnvelope);
        return out;
    }
    let recorded_error = recorded.get("error").filter(|e| !e.is_null());
    let live_error = live.body.get("error").filter(|e| !e.is_null());
    match (recorded_error, live_error) {
        (Some(r), None) => out.push(Mismatch::MissingError {
            code: r.get("code").and_then(Value::as_i64).unwrap_or_default(),
            message: r
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        }),
        (None, Some(l)) => out.push(Mismatch::UnexpectedError {
            code: l.get("code").cloned().unwrap_or(Value::Null),
            message: l.get("message").cloned().unwrap_or(Value::Null),
        }),
        (Some(r), Some(l)) => {
            compare_error(r, l, subs, datadir, &mut out);
            compare_shape(recorded, &live.body, "", subs, allow_extra, &mut out);
        }
        (None, None) => compare_shape(recorded, &live.body, "", subs, allow_extra, &mut out),
    }
    out
}

fn compare_error(
    recorded: &Value,
    live: &Value,
    subs: &Substitutions,
    datadir: Option<&str>,
    out: &mut Vec<Mismatch>,
) {
    let recorded_code = recorded
        .get("code")
        .and_then(Value::as_i64)
        .unwrap_or_default();
    let live_code = live.get("code").cloned().unwrap_or(Value::Null);
    if live_code.as_i64() != Some(recorded_code) {
        out.push(Mismatch::ErrorCode {
            recorded: recorded_code,
            live: live_code,
        });
    }
    let recorded_message = subs.text(
        recorded
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    );
    let mut live_message = live
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if let Some(datadir) = datadir.filter(|d| !d.is_empty()) {
        live_message = live_message.replace(datadir.trim_end_matches('/'), "<datadir>");
    }
    if live_message != recorded_message {
        out.push(Mismatch::ErrorMessage {
            recorded: recorded_message,
            live: live_message,
        });
    }
}

fn compare_shape(
    recorded: &Value,
    live: &Value,
    path: &str,
    subs: &Substitutions,
    allow_extra: &dyn Fn(&str) -> bool,
    out: &mut Vec<Mismatch>,
) {
    let (r_type, l_type) = (JsonType::of(recorded), JsonType::of(live));
    if r_type != l_type {
        out.push(Mismatch::Type {
            path: display_path(path),
            recorded: r_type,
            live: l_type,
        });
        return;
    }
    match (recorded, live) {
        (Value::Object(r), Value::Object(l)) => {
            let mut matched = std::collections::HashSet::new();
            for (key, r_value) in r {
                let child = join(path, key);
                let live_key = subs.string(key);
                let live_key = if l.contains_key(&live_key) {
                    live_key
                } else {
                    key.clone()
                };
                match l.get(&live_key) {
                    Some(l_value) => {
                        matched.insert(live_key);
                        compare_shape(r_value, l_value, &child, subs, allow_extra, out);
                    }
                    None => out.push(Mismatch::MissingKey { path: child }),
                }
            }
            for key in l.keys().filter(|k| !matched.contains(*k)) {
                let child = join(path, key);
                if !allow_extra(&child) {
                    out.push(Mismatch::ExtraKey { path: child });
                }
            }
        }
        (Value::Array(r), Value::Array(l)) => {
            if r.len() != l.len() {
                out.push(Mismatch::Length {
                    path: display_path(path),
                    recorded: r.len(),
                    live: l.len(),
                });
                return;
            }
            let mut elementwise = Vec::new();
            for (i, (r_item, l_item)) in r.iter().zip(l).enumerate() {
                let child = format!("{path}[{i}]");
                compare_shape(r_item, l_item, &child, subs, allow_extra, &mut elementwise);
            }
            // Elements orders some lists by wallet internals (listunspent, details, unspents):
            // the same shapes in another order conform.
            if !elementwise.is_empty() && !same_shapes_in_any_order(r, l, subs, allow_extra) {
                out.extend(elementwise);
            }
        }
        _ => {}
    }
}

/// Whether every recorded item has a distinct live item of the same shape.
fn same_shapes_in_any_order(
    recorded: &[Value],
    live: &[Value],
    subs: &Substitutions,
    allow_extra: &dyn Fn(&str) -> bool,
) -> bool {
    let mut used = vec![false; live.len()];
    recorded.iter().all(|r_item| {
        let found = live.iter().enumerate().position(|(j, l_item)| {
            if used[j] {
                return false;
            }
            let mut mismatches = Vec::new();
            compare_shape(r_item, l_item, "", subs, allow_extra, &mut mismatches);
            mismatches.is_empty()
        });
        match found {
            Some(j) => {
                used[j] = true;
                true
            }
            None => false,
        }
    })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "(body)".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn compare(recorded: Value, live: Value) -> Vec<Mismatch> {
        let answer = RawAnswer {
            http_status: 200,
            body: json!({ "result": live, "error": null, "id": 2 }),
        };
        compare_answer(
            200,
            &json!({ "result": recorded, "error": null, "id": 1 }),
            &answer,
            &Substitutions::default(),
            None,
            &|_| false,
        )
    }

    #[test]
    fn lists_in_another_order_conform_but_other_shapes_do_not() {
        let recorded = json!([{ "vout": 1, "label": "" }, { "vout": 0 }]);
        assert!(compare(
            recorded.clone(),
            json!([{ "vout": 0 }, { "vout": 1, "label": "x" }])
        )
        .is_empty());
        assert_eq!(
            compare(recorded, json!([{ "vout": 0 }, { "vout": 1 }])),
            vec![Mismatch::MissingKey {
                path: "result[0].label".into()
            }]
        );
    }

    #[test]
    fn values_may_differ_but_types_may_not() {
        assert!(compare(json!({ "a": 1, "b": "x" }), json!({ "a": 2.5, "b": "y" })).is_empty());
        assert_eq!(
            compare(json!({ "a": 1 }), json!({ "a": "1" })),
            vec![Mismatch::Type {
                path: "result.a".into(),
                recorded: JsonType::Number,
                live: JsonType::String
            }]
        );
        assert_eq!(
            compare(json!(null), json!({})),
            vec![Mismatch::Type {
                path: "result".into(),
                recorded: JsonType::Null,
                live: JsonType::Object
            }]
        );
    }
}
