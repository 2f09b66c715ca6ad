//! What the CLI tests share: the `amphora` binary run in a clean environment, and a guard that
//! kills a started process when the test ends (also on panic).

use std::path::Path;
use std::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_amphora");

/// `amphora` run in `dir`, without any AMPHORA_* setting inherited from the test's environment,
/// logging warnings only.
pub(crate) fn amphora(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("AMPHORA_") {
            command.env_remove(key);
        }
    }
    command.env("AMPHORA_LOG", "warn");
    command
}

/// A started process (`amphora serve`, `amphora regtest`), killed and reaped when dropped.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
