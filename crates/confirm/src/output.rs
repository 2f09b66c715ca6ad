//! What the user sees: progress lines on stderr (payloads too with `-v`) and the confirmation
//! progress display.

use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::node::{WaitProgress, REQUIRED_CONFIRMATIONS};

/// The run's confirmation displays: two can be live at once (a split payment confirms one
/// transaction while it waits to send the next), and lines printed meanwhile go above them.
fn displays() -> &'static MultiProgress {
    static DISPLAYS: OnceLock<MultiProgress> = OnceLock::new();
    DISPLAYS.get_or_init(MultiProgress::new)
}

/// Prints the client's progress on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Console {
    verbosity: u8,
}

impl Console {
    /// `verbosity` is the number of `-v`: 0 prints progress, 1 or more also the payloads.
    pub fn new(verbosity: u8) -> Self {
        Console { verbosity }
    }

    /// A progress line.
    pub fn info(&self, message: impl AsRef<str>) {
        displays().suspend(|| eprintln!("{}", message.as_ref()));
    }

    /// A detail shown with `-v`.
    pub fn debug(&self, message: impl AsRef<str>) {
        if self.verbosity > 0 {
            self.info(message);
        }
    }

    /// A display of the wait for `required` confirmations of `txid` (2 before its confirm
    /// call; 1 before the next transaction of a split payment, which spends its change): a
    /// spinner on a terminal, one line per new block otherwise.
    pub fn confirmation_display(&self, txid: &str, required: i64) -> ConfirmationDisplay {
        if required >= REQUIRED_CONFIRMATIONS {
            self.info(format!(
                "Waiting for {required} confirmations of transaction {txid} \
                 (about 2 minutes on Liquid)"
            ));
        } else {
            self.info(format!(
                "Waiting for transaction {txid} to be in a block before the next one spends its \
                 change (about 1 minute on Liquid)"
            ));
        }
        let bar = displays().add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        ConfirmationDisplay {
            bar,
            console: *self,
            required,
        }
    }
}

/// The live display of a confirmation wait.
#[derive(Debug)]
pub struct ConfirmationDisplay {
    bar: ProgressBar,
    console: Console,
    required: i64,
}

impl ConfirmationDisplay {
    /// Shows new progress.
    pub fn update(&self, progress: &WaitProgress) {
        let message = format!(
            "{}/{} confirmations, {} new block(s) seen, tip at height {}",
            progress.confirmations.max(0),
            self.required,
            progress.blocks_seen,
            progress.tip
        );
        if self.bar.is_hidden() {
            self.console.info(format!("  {message}"));
        }
        self.bar.set_message(message);
    }

    /// Replaces the spinner with its last message.
    pub fn finish(self) {
        let last = self.bar.message();
        self.bar.finish_and_clear();
        if !self.bar.is_hidden() && !last.is_empty() {
            self.console.info(format!("  {last}"));
        }
    }
}
