//! Conformance harness: replays a recorded Elements transcript against a node and compares,
//! call by call, the shape of every answer (keys, JSON types, array lengths), the error codes
//! and messages and the HTTP statuses.
//!
//! Values that legitimately differ between runs (txids, addresses, asset ids, blinders, hex)
//! are learnt as the replay goes ([`Substitutions`]) and substituted into later parameters, so
//! replaying the whole transcript in order from a fresh node reproduces the recorded state.

mod compare;
mod substitution;
mod transcript;
mod typed;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::Value;

pub use compare::{JsonType, Mismatch};
pub use substitution::Substitutions;
pub use transcript::{bundled_transcript_path, Entry, RecordedCall, Transcript};
pub use typed::parse_typed;

use crate::{ElementsRpc, RawAnswer, RpcError};

/// Why a transcript could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The file could not be read.
    #[error("cannot read transcript {}: {source}", path.display())]
    Read {
        /// The transcript path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A line is not a call or a note.
    #[error("transcript line {} is invalid: {reason}", line + 1)]
    BadLine {
        /// 0-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Something that answers JSON-RPC calls: a live node, or a playback of recorded answers.
pub trait Endpoint {
    /// Sends one call (routed to `/wallet/<wallet>` when given) and returns the raw answer.
    fn send(
        &self,
        wallet: Option<&str>,
        method: &str,
        params: &[Value],
    ) -> impl Future<Output = Result<RawAnswer, RpcError>> + Send;
}

impl Endpoint for ElementsRpc {
    async fn send(
        &self,
        wallet: Option<&str>,
        method: &str,
        params: &[Value],
    ) -> Result<RawAnswer, RpcError> {
        match wallet {
            Some(name) => self.wallet(name).send_once(method, params).await,
            None => self.send_once(method, params).await,
        }
    }
}

/// Answers each call with the next recorded answer of a transcript, ignoring what was sent.
/// Replaying a transcript against its own playback must give zero mismatches: the harness's
/// self-test.
#[derive(Debug)]
pub struct Playback {
    answers: Mutex<std::vec::IntoIter<RawAnswer>>,
}

impl Playback {
    /// A playback of `transcript`'s recorded answers, in order.
    pub fn new(transcript: &Transcript) -> Self {
        let answers: Vec<RawAnswer> = transcript
            .calls()
            .map(|call| RawAnswer {
                http_status: call.http_status,
                body: call.response.clone(),
            })
            .collect();
        Playback {
            answers: Mutex::new(answers.into_iter()),
        }
    }
}

impl Endpoint for Playback {
    async fn send(
        &self,
        _wallet: Option<&str>,
        method: &str,
        _params: &[Value],
    ) -> Result<RawAnswer, RpcError> {
        let next = self
            .answers
            .lock()
            .map(|mut answers| answers.next())
            .ok()
            .flatten();
        next.ok_or_else(|| RpcError::InvalidRequest {
            method: method.to_owned(),
            reason: "the playback has no more recorded answers".into(),
        })
    }
}

/// What the replay tolerates.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// The node's datadir, replaced by `<datadir>` in live error messages.
    pub datadir: Option<String>,
    /// Extra keys accepted in live answers, as `(method, path)` (e.g.
    /// `("getnetworkinfo", "result.foo")`); everything else extra is a mismatch.
    pub allowed_extra_keys: Vec<(String, String)>,
}

/// The outcome of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOutcome {
    /// Position among the calls (0-based).
    pub index: usize,
    /// Transcript line (0-based).
    pub line: usize,
    /// Wallet routing.
    pub wallet: Option<String>,
    /// Method.
    pub method: String,
    /// The parameters actually sent (after substitution).
    pub sent_params: Vec<Value>,
    /// Every difference found (empty = conformant).
    pub mismatches: Vec<Mismatch>,
}

/// The outcome of a whole replay.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// One outcome per recorded call, in order.
    pub calls: Vec<CallOutcome>,
    /// The substitutions learnt.
    pub substitutions: Substitutions,
}

impl Report {
    /// Calls answered conformantly.
    pub fn passed(&self) -> usize {
        self.calls
            .iter()
            .filter(|c| c.mismatches.is_empty())
            .count()
    }

    /// Calls with at least one mismatch.
    pub fn failed(&self) -> impl Iterator<Item = &CallOutcome> {
        self.calls.iter().filter(|c| !c.mismatches.is_empty())
    }

    /// Whether every call conformed.
    pub fn is_conformant(&self) -> bool {
        self.calls.iter().all(|c| c.mismatches.is_empty())
    }
}

impl fmt::Display for Report {
    /// One line per mismatch: call index, transcript line, routing, method, path and difference.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}/{} calls conform", self.passed(), self.calls.len())?;
        for call in self.failed() {
            let route = call
                .wallet
                .as_deref()
                .map(|w| format!("/wallet/{w} "))
                .unwrap_or_default();
            writeln!(
                f,
                "call #{} (line {}) {route}{}:",
                call.index,
                call.line + 1,
                call.method
            )?;
            for mismatch in &call.mismatches {
                writeln!(f, "    {mismatch}")?;
            }
        }
        Ok(())
    }
}

/// Replays every call of `transcript`, in order, against `endpoint`.
pub async fn replay<E: Endpoint>(
    transcript: &Transcript,
    endpoint: &E,
    options: &ReplayOptions,
) -> Report {
    let mut report = Report::default();
    for (index, call) in transcript.calls().enumerate() {
        let params = report.substitutions.params(&call.params);
        let wallet = call
            .wallet
            .as_deref()
            .map(|w| report.substitutions.string(w));
        let mismatches = match endpoint
            .send(wallet.as_deref(), &call.method, &params)
            .await
        {
            Ok(live) => {
                // Only results carry identifiers; error messages are compared, never learnt.
                report
                    .substitutions
                    .learn(&call.response["result"], &live.body["result"]);
                let allow_extra = |path: &str| {
                    options
                        .allowed_extra_keys
                        .iter()
                        .any(|(m, p)| *m == call.method && p == path)
                };
                let mut mismatches = compare::compare_answer(
                    call.http_status,
                    &call.response,
                    &live,
                    &report.substitutions,
                    options.datadir.as_deref(),
                    &allow_extra,
                );
                // What the platform's typed client makes of the live answer.
                let text = live.body.to_string();
                if let Some(Err(e)) =
                    parse_typed(&call.method, &params, live.http_status, text.as_bytes())
                {
                    if !matches!(e, RpcError::Node { .. }) {
                        mismatches.push(Mismatch::TypedParse(e.to_string()));
                    }
                }
                mismatches
            }
            Err(e) => vec![Mismatch::Transport(e.to_string())],
        };
        report.calls.push(CallOutcome {
            index,
            line: call.line,
            wallet,
            method: call.method.clone(),
            sent_params: params,
            mismatches,
        });
    }
    report
}
