//! The confirm client killed during its confirm call: a TCP proxy in front of the platform
//! forwards the client's traffic until the client has sent a confirm request (`…confirm
//! HTTP/1.1`), forwards what follows of that request for a moment, then kills the client with
//! `SIGKILL` and drops both connections; nothing the server answers after that request reaches
//! the client. The server then finishes the call or, when the closed connection cancels its
//! handler, does not; either way the user's rerun must find a way forward.

use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What marks a confirm request on the wire: the end of its request line.
const MARKER: &[u8] = b"confirm HTTP/1.1\r\n";
/// How long the rest of the confirm request is still forwarded before the kill.
const BODY_WAIT: Duration = Duration::from_millis(200);

/// The proxy, listening at [`CutProxy::url`] until dropped.
pub(super) struct CutProxy {
    /// `http://127.0.0.1:PORT`, the platform behind the proxy.
    pub(super) url: String,
    /// The client to kill, once there is one; `None` again once killed.
    client: Arc<Mutex<Option<Child>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CutProxy {
    /// A proxy to the platform at `upstream` (`http://host:port`).
    pub(super) async fn start(upstream: &str) -> CutProxy {
        let upstream = upstream.trim_start_matches("http://").to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let client: Arc<Mutex<Option<Child>>> = Arc::default();
        let shared = client.clone();
        let task = tokio::spawn(async move {
            while let Ok((down, _)) = listener.accept().await {
                let Ok(up) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                tokio::spawn(pipe(down, up, shared.clone()));
            }
        });
        CutProxy { url, client, task }
    }

    /// Runs `client` (the confirm client, its platform this proxy) until the proxy killed it
    /// during its confirm call; panics when it ends otherwise or not within `limit`.
    pub(super) async fn kill_during_confirm_call(&self, client: Child, limit: Duration) {
        *self.client.lock().unwrap() = Some(client);
        let deadline = std::time::Instant::now() + limit;
        loop {
            {
                let mut slot = self.client.lock().unwrap();
                if let Some(child) = slot.as_mut() {
                    if let Some(status) = child.try_wait().unwrap() {
                        panic!("the client ended before its confirm call was cut: {status}");
                    }
                } else {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the client made no confirm call within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(mut child) = self.client.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Copies one connection both ways; the client's confirm request cuts it (see the module).
async fn pipe(down: TcpStream, up: TcpStream, client: Arc<Mutex<Option<Child>>>) {
    let (mut down_read, mut down_write) = down.into_split();
    let (mut up_read, mut up_write) = up.into_split();
    let cut = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = cut.clone();
    let to_server = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match down_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if up_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
            let armed = client.lock().unwrap().is_some();
            if armed && buf[..n].windows(MARKER.len()).any(|w| w == MARKER) {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = tokio::time::timeout(BODY_WAIT, async {
                    while let Ok(n) = down_read.read(&mut buf).await {
                        if n == 0 || up_write.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                })
                .await;
                if let Some(mut child) = client.lock().unwrap().take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return;
            }
        }
    };
    let to_client = async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match up_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            // Whatever answers the cut request never reaches the client.
            if cut.load(std::sync::atomic::Ordering::SeqCst) {
                continue;
            }
            if down_write.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
    }
}
