//! Shared test support: the test node of the run (`amphora_testenv::TestNode`: the embedded
//! regtest node, or Elements Core with `ELEMENTSD_EXE`) with a treasury wallet holding an
//! issued asset, and a TEST DOUBLE of the AMP API.
//!
//! The double is NOT the platform: it is a small axum server implementing only the contract of
//! AMP API §3 that the confirm client relies on (obtain_token, balance with lost_outputs,
//! assignments, txs, the three confirm endpoints, update-blinders), with scripted answers, and
//! it records every request it receives so tests can assert the exact bodies posted. It stands
//! in until the platform's own endpoints exist.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_confirm::{execute, ConfirmArgs, ConfirmCommand, ConfirmError};
use amphora_rpc::{Amount, ElementsRpc};
use amphora_testenv::TestNode;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::Json;
use elements::AssetId;
use serde_json::{json, Value};

pub const API_USER: &str = "issuer";
pub const API_PASSWORD: &str = "issuer-password";
const TOKEN: &str = "test-token-1";

/// One request the double received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
    /// The body as sent.
    pub text: String,
}

/// What the double answers.
#[derive(Debug, Clone)]
pub struct Script {
    pub lost_outputs: Vec<Value>,
    pub assignments: Vec<Value>,
    pub txs: Vec<Value>,
    /// Status of the confirm and update-blinders endpoints.
    pub confirm_status: u16,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            lost_outputs: vec![],
            assignments: vec![],
            txs: vec![],
            confirm_status: 200,
        }
    }
}

#[derive(Debug, Default)]
struct DoubleState {
    script: Script,
    received: Vec<Received>,
}

/// TEST DOUBLE of the AMP API (see the module documentation).
pub struct AmpDouble {
    /// `http://127.0.0.1:<port>/api/{}`.
    pub base_url: String,
    state: Arc<Mutex<DoubleState>>,
}

impl AmpDouble {
    pub async fn start(script: Script) -> AmpDouble {
        let state = Arc::new(Mutex::new(DoubleState {
            script,
            received: vec![],
        }));
        let shared = state.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let state = shared.clone();
                async move { answer(&state, method, uri, headers, body) }
            },
        );
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        AmpDouble {
            base_url: format!("http://{addr}/api/{{}}"),
            state,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Bodies posted to paths ending in `suffix`.
    pub fn posted(&self, suffix: &str) -> Vec<Value> {
        self.received()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.ends_with(suffix))
            .map(|r| r.body)
            .collect()
    }

    pub fn set_confirm_status(&self, status: u16) {
        self.state.lock().unwrap().script.confirm_status = status;
    }
}

fn answer(
    state: &Mutex<DoubleState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let path = uri.path().to_owned();
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = String::from_utf8_lossy(&body).into_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut guard = state.lock().unwrap();
    guard.received.push(Received {
        method: method.to_string(),
        path: path.clone(),
        authorization: authorization.clone(),
        body: body.clone(),
        text,
    });
    let script = guard.script.clone();
    drop(guard);

    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if method == Method::POST && segments == ["api", "user", "obtain_token"] {
        return if body == json!({"username": API_USER, "password": API_PASSWORD}) {
            Json(json!({"token": TOKEN})).into_response()
        } else {
            (
                StatusCode::BAD_REQUEST,
                Json(json!({"non_field_errors": ["Unable to log in"]})),
            )
                .into_response()
        };
    }
    if !matches!(segments.as_slice(), ["api", "assets", ..]) {
        return (StatusCode::NOT_FOUND, "no such endpoint in the test double").into_response();
    }
    if authorization.as_deref() != Some(&format!("token {TOKEN}")) {
        return (StatusCode::UNAUTHORIZED, "missing token").into_response();
    }
    let status = StatusCode::from_u16(script.confirm_status).unwrap();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["api", "assets", _, "balance"]) => Json(json!({
            "confirmed_balance": [], "reissuance_tokens": [], "lost_outputs": script.lost_outputs,
        }))
        .into_response(),
        ("GET", ["api", "assets", _, "assignments"]) => Json(script.assignments).into_response(),
        ("GET", ["api", "assets", _, "txs"]) => Json(script.txs).into_response(),
        ("GET", ["api", "assets", _, "payouts", _]) => {
            Json(json!({"payout_status": "UNCONFIRMED"})).into_response()
        }
        ("POST", ["api", "assets", _, "distributions", _, "confirm"])
        | ("POST", ["api", "assets", _, "payouts", _, "confirm"])
        | ("POST", ["api", "assets", _, "reissue-confirm"])
        | ("POST", ["api", "assets", _, "burn-confirm"])
        | ("POST", ["api", "assets", _, "update-blinders"]) => (
            status,
            if status == StatusCode::OK {
                ""
            } else {
                "confirm refused"
            },
        )
            .into_response(),
        _ => (StatusCode::NOT_FOUND, "no such endpoint in the test double").into_response(),
    }
}

/// The test node with a `treasury` wallet that issued `asset` (blinded, with 1 token), and
/// two investor wallets.
pub struct Treasury {
    pub node: TestNode,
    pub root: ElementsRpc,
    pub wallet: ElementsRpc,
    pub asset: AssetId,
    pub token: AssetId,
    pub issuance_txid: elements::Txid,
}

impl Treasury {
    pub async fn start() -> Treasury {
        let node = TestNode::start().await;
        let root = node.rpc().clone();
        let wallet = node.claim_free_coins("treasury").await;
        for name in ["investor1", "investor2"] {
            node.create_wallet(name).await;
        }
        let issued = node
            .issue_asset(&wallet, 1_000 * 100_000_000, 1, true)
            .await;
        let treasury = Treasury {
            node,
            root,
            wallet,
            asset: issued.asset,
            token: issued.token,
            issuance_txid: issued.txid,
        };
        treasury.mine(1).await;
        treasury
    }

    /// `http://user:password@127.0.0.1:<port>/wallet/<name>`.
    pub fn wallet_url(&self, name: &str) -> String {
        self.node.url_with_credentials(&format!("/wallet/{name}"))
    }

    /// The node URL with credentials and no wallet.
    pub fn node_url(&self) -> String {
        self.node.url_with_credentials("")
    }

    pub async fn mine(&self, blocks: u64) {
        self.node.mine(blocks).await;
    }

    pub async fn address(&self, wallet: &str) -> String {
        self.root
            .wallet(wallet)
            .get_new_address(None)
            .await
            .unwrap()
    }

    pub async fn balance(&self, wallet: &str, asset: &AssetId) -> Amount {
        let balances = self
            .root
            .wallet(wallet)
            .get_balances_min_conf(0)
            .await
            .unwrap();
        balances
            .get(&asset.to_string())
            .copied()
            .unwrap_or(Amount::ZERO)
    }

    pub async fn mempool_size(&self) -> usize {
        self.root.get_raw_mempool().await.unwrap().len()
    }

    /// The treasury's unspent outputs of `asset` as `{"txid", "vout"}` objects.
    pub async fn outpoints(&self, asset: &AssetId) -> Vec<Value> {
        self.wallet
            .list_unspent(Some(asset))
            .await
            .unwrap()
            .iter()
            .map(|u| json!({"txid": u.txid, "vout": u.vout}))
            .collect()
    }

    /// Confirm args against this node's treasury wallet, polling every 20 ms.
    pub fn args(&self, command: ConfirmCommand) -> ConfirmArgs {
        ConfirmArgs {
            username: API_USER.into(),
            password: API_PASSWORD.into(),
            node_url: self.wallet_url("treasury"),
            verbose: 1,
            poll_interval: Duration::from_millis(20),
            confirmation_timeout: Duration::from_secs(30),
            command,
        }
    }

    /// Runs the command while the node mines by itself (a block whenever the mempool has
    /// transactions, and blocks until they have 2 confirmations).
    pub async fn run_mining(&self, args: ConfirmArgs) -> Result<(), ConfirmError> {
        let _miner = self.node.automine(2);
        execute(&args).await
    }
}

/// A request file in a temporary directory.
pub struct RequestFile {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl RequestFile {
    pub fn write(value: &Value) -> RequestFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("request.json");
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap()).unwrap();
        RequestFile { _dir: dir, path }
    }
}

/// The keys every request file has.
pub fn file_header(command: &str, amp: &AmpDouble, asset: &AssetId) -> Value {
    json!({
        "command": command,
        "min_supported_client_script_version": 2,
        "base_url": amp.base_url,
        "asset_uuid": "asset-uuid-1",
        "asset_id": asset,
    })
}

/// `header` with `extra` keys added.
pub fn with(mut header: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        header[k] = v.clone();
    }
    header
}
