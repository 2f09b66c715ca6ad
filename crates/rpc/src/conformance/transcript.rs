//! Loading a recorded JSON-RPC transcript (`amp-flows.jsonl`: one JSON object per line).

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::conformance::ConformanceError;

/// One recorded call: where it went, what it sent and what the node answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// Line number in the transcript (0-based).
    pub line: usize,
    /// `/wallet/<name>` routing, if any.
    pub wallet: Option<String>,
    /// RPC method.
    pub method: String,
    /// Positional parameters as sent.
    pub params: Vec<Value>,
    /// HTTP status of the answer.
    pub http_status: u16,
    /// The JSON-RPC envelope answered (`result`, `error`, `id`).
    pub response: Value,
    /// The recorder's note, if any.
    pub note: Option<String>,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A call and its answer.
    Call(RecordedCall),
    /// A note without a call (e.g. `note: "contract"` with the contract JSON of the next issuance).
    Note {
        /// Line number (0-based).
        line: usize,
        /// The note kind.
        note: String,
        /// Every other field of the line.
        fields: Map<String, Value>,
    },
}

/// A whole transcript, in recording order.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    /// The lines, in order.
    pub entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct CallLine {
    wallet: Option<String>,
    method: String,
    params: Vec<Value>,
    http_status: u16,
    response: Value,
    note: Option<String>,
}

/// The Elements Core 23.3.3 transcript bundled with this crate (`tests/fixtures/`).
pub fn bundled_transcript_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elementsd-23.3.3/amp-flows.jsonl")
}

impl Transcript {
    /// Reads a transcript file.
    pub fn load(path: &Path) -> Result<Self, ConformanceError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConformanceError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses transcript text (blank lines are ignored).
    pub fn parse(text: &str) -> Result<Self, ConformanceError> {
        let mut entries = Vec::new();
        for (line, raw) in text.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let bad_line = |reason: String| ConformanceError::BadLine { line, reason };
            let value: Value = serde_json::from_str(raw).map_err(|e| bad_line(e.to_string()))?;
            let object = value
                .as_object()
                .ok_or_else(|| bad_line("not a JSON object".into()))?;
            if object.contains_key("method") {
                let call: CallLine =
                    serde_json::from_value(value).map_err(|e| bad_line(e.to_string()))?;
                if !call.response.is_object() {
                    return Err(bad_line("`response` is not a JSON-RPC envelope".into()));
                }
                entries.push(Entry::Call(RecordedCall {
                    line,
                    wallet: call.wallet,
                    method: call.method,
                    params: call.params,
                    http_status: call.http_status,
                    response: call.response,
                    note: call.note,
                }));
            } else {
                let mut fields = object.clone();
                let note = match fields.remove("note") {
                    Some(Value::String(note)) => note,
                    _ => return Err(bad_line("neither a call nor a note".into())),
                };
                entries.push(Entry::Note { line, note, fields });
            }
        }
        Ok(Transcript { entries })
    }

    /// The recorded calls, in order.
    pub fn calls(&self) -> impl Iterator<Item = &RecordedCall> {
        self.entries.iter().filter_map(|entry| match entry {
            Entry::Call(call) => Some(call),
            Entry::Note { .. } => None,
        })
    }

    /// Mutable access to the recorded calls (to build altered transcripts in tests).
    pub fn calls_mut(&mut self) -> impl Iterator<Item = &mut RecordedCall> {
        self.entries.iter_mut().filter_map(|entry| match entry {
            Entry::Call(call) => Some(call),
            Entry::Note { .. } => None,
        })
    }
}
