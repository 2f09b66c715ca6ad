//! Replays the Elements Core 23.3.3 transcript against any node and prints the report.
//!
//! ```text
//! cargo run -p amphora-rpc --example conformance -- http://user:pass@127.0.0.1:18884 [DATADIR] [TRANSCRIPT]
//! ```
//!
//! The node must be fresh (the transcript creates its wallets and claims the free coins) and
//! configured as the transcript's README says. Exits with status 1 when a call does not conform.

use std::path::PathBuf;
use std::process::ExitCode;

use amphora_rpc::conformance::{bundled_transcript_path, replay, ReplayOptions, Transcript};
use amphora_rpc::{Auth, ElementsRpc, RetryPolicy};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next() else {
        eprintln!("usage: conformance <node URL with user:pass> [datadir] [transcript.jsonl]");
        return ExitCode::from(2);
    };
    let datadir = args.next();
    let transcript_path = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(bundled_transcript_path);
    let transcript = match Transcript::load(&transcript_path) {
        Ok(transcript) => transcript,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let rpc = match ElementsRpc::new(&url, Auth::None) {
        Ok(rpc) => rpc.with_retry(RetryPolicy::none()),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let options = ReplayOptions {
        datadir,
        allowed_extra_keys: Vec::new(),
    };
    let report = replay(&transcript, &rpc, &options).await;
    print!("{report}");
    if report.is_conformant() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
