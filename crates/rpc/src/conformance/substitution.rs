//! Values that differ between runs (txids, addresses, asset ids, hex...), learnt call by call.
//!
//! When a recorded answer holds an identifier where the live answer holds another one at the
//! same JSON path, the recorded value is mapped to the live one; later recorded parameters are
//! rewritten through the map before they are sent. The first observation of a value wins, so a
//! list answered in another order cannot remap an identifier learnt from a direct result.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};

/// Strings shorter than this are words (`send`, `UNSET`, labels), not identifiers.
const MIN_IDENTIFIER_LEN: usize = 20;

/// The recorded -> live map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Substitutions {
    strings: HashMap<String, String>,
    /// (recorded txid, recorded vout) -> live vout: output order is random in Elements.
    outpoints: BTreeMap<(String, u64), u64>,
}

impl Substitutions {
    /// Number of learnt string identifiers.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Whether nothing was learnt.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty() && self.outpoints.is_empty()
    }

    /// The live value learnt for a recorded string, if any.
    pub fn get(&self, recorded: &str) -> Option<&str> {
        self.strings.get(recorded).map(String::as_str)
    }

    /// Learns from a recorded answer and the live answer to the same call.
    ///
    /// A recorded value that also occurs anywhere in the live answer is a constant (the policy
    /// asset id, the genesis hash), not a per-run value, and is never remapped; neither are
    /// filler values such as the all-zero hash.
    pub fn learn(&mut self, recorded: &Value, live: &Value) {
        let mut live_strings = HashSet::new();
        collect_strings(live, &mut live_strings);
        self.learn_paired(recorded, live, &live_strings);
    }

    fn learn_paired(&mut self, recorded: &Value, live: &Value, live_strings: &HashSet<&str>) {
        match (recorded, live) {
            (Value::String(r), Value::String(l)) => self.learn_string(r, l, live_strings),
            (Value::Object(r), Value::Object(l)) => {
                for (key, r_value) in r {
                    if let Some(l_value) = lookup(l, key, self) {
                        self.learn_paired(r_value, l_value, live_strings);
                    }
                }
                self.learn_outpoint(r, l);
            }
            (Value::Array(r), Value::Array(l)) if r.len() == l.len() => {
                for (r_item, l_item) in r.iter().zip(l) {
                    self.learn_paired(r_item, l_item, live_strings);
                }
            }
            _ => {}
        }
    }

    fn learn_string(&mut self, recorded: &str, live: &str, live_strings: &HashSet<&str>) {
        let filler = recorded.bytes().all(|b| Some(b) == recorded.bytes().next());
        if recorded != live
            && recorded.len() >= MIN_IDENTIFIER_LEN
            && !filler
            && !live_strings.contains(recorded)
        {
            self.strings
                .entry(recorded.to_owned())
                .or_insert_with(|| live.to_owned());
        }
    }

    fn learn_outpoint(&mut self, recorded: &Map<String, Value>, live: &Map<String, Value>) {
        let (Some(Value::String(r_txid)), Some(r_vout), Some(Value::String(l_txid)), Some(l_vout)) = (
            recorded.get("txid"),
            recorded.get("vout").and_then(Value::as_u64),
            live.get("txid"),
            live.get("vout").and_then(Value::as_u64),
        ) else {
            return;
        };
        // Only when both objects describe the same output (txid already mapped or equal).
        if self.string(r_txid) == *l_txid && r_vout != l_vout {
            self.outpoints
                .entry((r_txid.clone(), r_vout))
                .or_insert(l_vout);
        }
    }

    /// A recorded string rewritten for the live node: whole identifiers are replaced, and
    /// learnt non-hex identifiers (addresses) are replaced inside longer strings such as
    /// `addr(<address>)` descriptors.
    pub fn string(&self, recorded: &str) -> String {
        if let Some(live) = self.strings.get(recorded) {
            return live.clone();
        }
        let mut out = recorded.to_owned();
        if recorded.len() > MIN_IDENTIFIER_LEN {
            for (from, to) in &self.strings {
                if from.len() < out.len() && !is_hex(from) && out.contains(from.as_str()) {
                    out = out.replace(from.as_str(), to);
                }
            }
        }
        out
    }

    /// Rewrites text such as an error message (every learnt identifier, hex included).
    pub fn text(&self, recorded: &str) -> String {
        let mut out = recorded.to_owned();
        for (from, to) in &self.strings {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        out
    }

    /// Rewrites recorded parameters (nested values, object keys, `[txid, vout]` pairs and
    /// `{"txid", "vout"}` objects).
    pub fn params(&self, recorded: &[Value]) -> Vec<Value> {
        let mut out: Vec<Value> = recorded.iter().map(|v| self.value(v)).collect();
        self.fix_positional_outpoint(recorded, &mut out);
        out
    }

    fn value(&self, recorded: &Value) -> Value {
        match recorded {
            Value::String(s) => Value::String(self.string(s)),
            Value::Array(items) => {
                let mut out: Vec<Value> = items.iter().map(|v| self.value(v)).collect();
                self.fix_positional_outpoint(items, &mut out);
                Value::Array(out)
            }
            Value::Object(map) => {
                let mut out: Map<String, Value> = map
                    .iter()
                    .map(|(k, v)| (self.string(k), self.value(v)))
                    .collect();
                if let (Some(Value::String(txid)), Some(vout)) =
                    (map.get("txid"), map.get("vout").and_then(Value::as_u64))
                {
                    if let Some(live) = self.outpoints.get(&(txid.clone(), vout)) {
                        out.insert("vout".into(), Value::from(*live));
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }
    }

    fn fix_positional_outpoint(&self, recorded: &[Value], out: &mut [Value]) {
        for i in 1..recorded.len() {
            if let (Value::String(txid), Some(vout)) = (&recorded[i - 1], recorded[i].as_u64()) {
                if let Some(live) = self.outpoints.get(&(txid.clone(), vout)) {
                    out[i] = Value::from(*live);
                }
            }
        }
    }
}

/// The live value for a recorded object key: the substituted key, else the key itself.
pub(crate) fn lookup<'a>(
    live: &'a Map<String, Value>,
    recorded_key: &str,
    subs: &Substitutions,
) -> Option<&'a Value> {
    live.get(&subs.string(recorded_key))
        .or_else(|| live.get(recorded_key))
}

fn collect_strings<'a>(value: &'a Value, out: &mut HashSet<&'a str>) {
    match value {
        Value::String(s) => {
            out.insert(s);
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            out.insert(k);
            collect_strings(v, out);
        }),
        _ => {}
    }
}

fn is_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TXID_R: &str = "d6ffa2cfa6e906614b4286bd7cba09321b817b20c822437c9e5345a002b88388";
    const TXID_L: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const ADDR_R: &str = "el1qqtx8xtr5pjjftm2mgqqv0zsjc4l3a5y4pw6kfrffzmjps9n6rgx9w3a4ddc0x6frtcrr8alzlm45af4s0dfy5vmayvtvvrx4y";
    const ADDR_L: &str = "el1qqlivelivelivelivelivelivelivelivelivelive";

    #[test]
    fn learns_identifiers_and_rewrites_params_keys_and_descriptors() {
        let mut subs = Substitutions::default();
        subs.learn(
            &json!([TXID_R, ADDR_R, "send", 3]),
            &json!([TXID_L, ADDR_L, "receive", 4]),
        );
        assert_eq!(subs.len(), 2, "short words and numbers are not identifiers");
        let params = subs.params(&[
            json!(TXID_R),
            json!({ ADDR_R: 0.1 }),
            json!([format!("addr({ADDR_R})")]),
            json!("send"),
        ]);
        assert_eq!(
            params,
            vec![
                json!(TXID_L),
                json!({ ADDR_L: 0.1 }),
                json!([format!("addr({ADDR_L})")]),
                json!("send")
            ]
        );
    }

    #[test]
    fn constants_and_fillers_are_never_remapped() {
        let bitcoin = "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225";
        let zeros = "0".repeat(64);
        let mut subs = Substitutions::default();
        // Listed in another order: the policy asset id is still present in the live answer.
        subs.learn(&json!([bitcoin, "x"]), &json!([TXID_L, bitcoin]));
        assert_eq!(subs.get(bitcoin), None);
        // The all-zero hash is a filler, not a per-run value.
        subs.learn(&json!([zeros]), &json!([TXID_L]));
        assert_eq!(subs.get(&zeros), None);
        subs.learn(&json!([TXID_R]), &json!([TXID_L]));
        assert_eq!(subs.get(TXID_R), Some(TXID_L));
    }

    #[test]
    fn first_observation_wins() {
        let mut subs = Substitutions::default();
        subs.learn(&json!(TXID_R), &json!(TXID_L));
        subs.learn(
            &json!(TXID_R),
            &json!("2222222222222222222222222222222222222222222222222222222222222222"),
        );
        assert_eq!(subs.get(TXID_R), Some(TXID_L));
    }

    #[test]
    fn maps_output_indexes_of_known_transactions() {
        let mut subs = Substitutions::default();
        subs.learn(&json!(TXID_R), &json!(TXID_L));
        subs.learn(
            &json!([{ "txid": TXID_R, "vout": 3 }]),
            &json!([{ "txid": TXID_L, "vout": 1 }]),
        );
        assert_eq!(
            subs.params(&[json!(TXID_R), json!(3)]),
            vec![json!(TXID_L), json!(1)]
        );
        assert_eq!(
            subs.params(&[json!([{ "txid": TXID_R, "vout": 3 }])]),
            vec![json!([{ "txid": TXID_L, "vout": 1 }])]
        );
        // Another transaction's output 3 is untouched.
        assert_eq!(subs.params(&[json!("x".repeat(64)), json!(3)])[1], json!(3));
    }

    #[test]
    fn hex_identifiers_are_not_replaced_inside_other_hex() {
        let mut subs = Substitutions::default();
        subs.learn(&json!(TXID_R), &json!(TXID_L));
        let blob = format!("00{TXID_R}00");
        assert_eq!(subs.string(&blob), blob);
        assert_eq!(
            subs.text(&format!("txid {TXID_R} unknown")),
            format!("txid {TXID_L} unknown")
        );
    }
}
