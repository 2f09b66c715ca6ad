//! A real `elementsd` process: started on free ports in a temporary data directory with the
//! flags of `../shared/elementsd/README.md`, stopped with the `stop` RPC (then killed) on drop.

use std::ffi::OsString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use amphora_rpc::{Auth, ElementsRpc, RetryPolicy};

use crate::{TestNodeOptions, ELEMENTSD_EXE, INITIAL_FREE_COINS};

/// How long a stopping `elementsd` may take before it is killed. Elements Core 23 waits for
/// its idle keep-alive RPC connections (up to `-rpcservertimeout`, 30 s) before it exits, and a
/// test usually still holds clients; the data directory is thrown away, so once `stop` has
/// been answered the process gets this long, then SIGKILL.
pub const STOP_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long a starting `elementsd` may take to answer RPC.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The `elementsd` binary named by `ELEMENTSD_EXE`, checked to exist.
pub fn elementsd_exe() -> Result<PathBuf, String> {
    let value: OsString = std::env::var_os(ELEMENTSD_EXE)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("{ELEMENTSD_EXE} is not set"))?;
    let path = PathBuf::from(value);
    if !path.is_file() {
        return Err(format!(
            "{ELEMENTSD_EXE}={} is not a file: point it at an Elements Core elementsd \
             (../shared/elementsd/bin/elementsd)",
            path.display()
        ));
    }
    Ok(path)
}

/// A free TCP port on 127.0.0.1 (bound and released: another process could take it, which
/// `elementsd` then reports at start).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A running `elementsd`.
pub(crate) struct Elementsd {
    child: Child,
    url: String,
    auth: Auth,
    datadir: PathBuf,
}

impl Elementsd {
    /// Starts `exe` and waits until it answers RPC outside warm-up.
    pub(crate) async fn spawn(
        exe: &Path,
        datadir: &Path,
        user: &str,
        password: &str,
        options: &TestNodeOptions,
    ) -> Result<Elementsd, String> {
        let mut last_error = String::new();
        // A port taken between `free_port` and the bind makes elementsd exit: try again.
        for _ in 0..3 {
            let (rpc_port, p2p_port) = (free_port(), free_port());
            let child = Command::new(exe)
                .args([
                    "-chain=liquidregtest",
                    "-daemon=0",
                    "-server=1",
                    "-listen=0",
                    "-printtoconsole=0",
                    "-validatepegin=0",
                    "-anyonecanspendaremine=1",
                    "-con_blocksubsidy=0",
                    "-fallbackfee=0.00000100",
                    "-rpcthreads=16",
                    "-rpcworkqueue=64",
                    // A legacy wallet derives its whole keypool at `createwallet`: 1,000 keys
                    // (the default) take 2 s per wallet, 20 take 0.2 s; the pool still tops up
                    // as addresses are handed out.
                    "-keypool=20",
                ])
                .arg(format!("-txindex={}", u8::from(options.txindex)))
                .arg(format!("-initialfreecoins={INITIAL_FREE_COINS}"))
                .arg(format!("-datadir={}", datadir.display()))
                .arg(format!("-rpcport={rpc_port}"))
                .arg(format!("-port={p2p_port}"))
                .arg(format!("-rpcuser={user}"))
                .arg(format!("-rpcpassword={password}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            let mut node = Elementsd {
                child,
                url: format!("http://127.0.0.1:{rpc_port}"),
                auth: Auth::UserPass {
                    user: user.into(),
                    password: password.into(),
                },
                datadir: datadir.to_path_buf(),
            };
            match node.wait_ready().await {
                Ok(()) => return Ok(node),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:<rpcport>`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let rpc = ElementsRpc::new(&self.url, self.auth.clone())
            .map_err(|e| e.to_string())?
            .with_retry(RetryPolicy::none());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    use std::io::Read;
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return Err(format!(
                    "elementsd exited at start ({status}): {}{}",
                    stderr.trim(),
                    self.log_tail()
                ));
            }
            match rpc.get_blockchain_info().await {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() > deadline => {
                    return Err(format!(
                        "elementsd did not answer RPC within {START_TIMEOUT:?}: {e}{}",
                        self.log_tail()
                    ))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn log_tail(&self) -> String {
        let log = self.datadir.join("liquidregtest").join("debug.log");
        match std::fs::read_to_string(&log) {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(20)..].join("\n");
                format!("\nlast lines of {}:\n{tail}", log.display())
            }
            Err(_) => String::new(),
        }
    }

    /// Sends `stop` from a thread of its own (drop may run inside an async runtime), waits up
    /// to [`STOP_TIMEOUT`] for the process to exit, then kills it and reaps it.
    pub(crate) fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let url = self.url.clone();
        let auth = self.auth.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(rpc) = ElementsRpc::new(&url, auth) {
                    let rpc = rpc.with_retry(RetryPolicy::none());
                    if let Ok(rpc) = rpc.with_timeout(Duration::from_secs(5)) {
                        let _ = rpc.call::<serde_json::Value>("stop", &[]).await;
                    }
                }
            });
        })
        .join();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Elementsd {
    fn drop(&mut self) {
        self.stop();
    }
}
