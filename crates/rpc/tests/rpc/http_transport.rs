//! The client against a local HTTP test double of an Elements node's transport: auth, wallet
//! routing, error envelopes on HTTP 500/404, 401, retries on -28 and on refused connections,
//! and the exact text of amounts sent.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_rpc::{Amount, Auth, ElementsRpc, RetryPolicy, RpcError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use base64::Engine;
use serde_json::{json, Value};

const USER: &str = "rpcuser";
const PASSWORD: &str = "rpcpass";

#[derive(Default)]
struct Double {
    /// (path, raw request body) of every authenticated request.
    requests: Mutex<Vec<(String, String)>>,
    /// How many `warmup` calls still answer -28.
    warmups_left: AtomicU32,
    /// Credentials accepted (`user:password`).
    accepted: Mutex<String>,
}

fn envelope(result: &str, error: Value) -> String {
    format!(r#"{{"result":{result},"error":{error},"id":1}}"#)
}

fn node_error(code: i64, message: &str) -> String {
    envelope("null", json!({ "code": code, "message": message }))
}

async fn answer(
    State(double): State<Arc<Double>>,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(double.accepted.lock().unwrap().as_bytes())
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, String::new());
    }
    double
        .requests
        .lock()
        .unwrap()
        .push((uri.path().to_owned(), body.clone()));
    let request: Value = serde_json::from_str(&body).expect("JSON-RPC request");
    assert_eq!(request["jsonrpc"], "1.0");
    let wallet = uri.path().strip_prefix("/wallet/");
    match request["method"].as_str().unwrap_or_default() {
        "getblockcount" => (StatusCode::OK, envelope("7", Value::Null)),
        "getbalance" if wallet.is_none() => (
            StatusCode::INTERNAL_SERVER_ERROR,
            node_error(-19, "Wallet file not specified (must request wallet RPC through /wallet/<filename> uri-path)."),
        ),
        "getbalance" => (StatusCode::OK, envelope(r#"{"bitcoin": 20999989.99999753}"#, Value::Null)),
        "warmup" => {
            let left = double.warmups_left.load(Ordering::SeqCst);
            if left > 0 {
                double.warmups_left.store(left - 1, Ordering::SeqCst);
                (StatusCode::INTERNAL_SERVER_ERROR, node_error(-28, "Loading block index..."))
            } else {
                (StatusCode::OK, envelope(r#""ready""#, Value::Null))
            }
        }
        "sendtoaddress" => (
            StatusCode::OK,
            envelope(r#""a4494ef6d1f9105f2a9a3df19396a263b0b72cb0520aa9dcecfc3146b3a390f5""#, Value::Null),
        ),
        "busy" => (StatusCode::SERVICE_UNAVAILABLE, "busy".to_owned()),
        _ => (StatusCode::NOT_FOUND, node_error(-32601, "Method not found")),
    }
}

async fn serve_on(listener: tokio::net::TcpListener) -> Arc<Double> {
    let double = Arc::new(Double::default());
    *double.accepted.lock().unwrap() = format!("{USER}:{PASSWORD}");
    let app = Router::new().fallback(answer).with_state(double.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    double
}

async fn start() -> (String, Arc<Double>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (url, serve_on(listener).await)
}

fn client(url: &str) -> ElementsRpc {
    ElementsRpc::new(
        url,
        Auth::UserPass {
            user: USER.into(),
            password: PASSWORD.into(),
        },
    )
    .unwrap()
    .with_retry(RetryPolicy::none())
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    }
}

#[tokio::test]
async fn routes_wallet_calls_and_maps_the_wallet_not_specified_error() {
    let (url, double) = start().await;
    let rpc = client(&url);
    assert_eq!(rpc.get_block_count().await.unwrap(), 7);
    let error = rpc.get_balances().await.unwrap_err();
    assert!(error.is_wallet_not_specified(), "{error}");
    assert!(matches!(
        error,
        RpcError::Node {
            http_status: 500,
            code: -19,
            ..
        }
    ));
    let balances = rpc.wallet("treasury").get_balances().await.unwrap();
    assert_eq!(
        balances["bitcoin"],
        Amount::from_units(2_099_998_999_999_753)
    );
    let paths: Vec<String> = double
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(paths, vec!["/", "/", "/wallet/treasury"]);
}

#[tokio::test]
async fn credentials_in_the_url_work_and_bad_ones_give_unauthorized() {
    let (url, double) = start().await;
    let with_userinfo = url.replace("http://", &format!("http://{USER}:{PASSWORD}@"));
    let rpc = ElementsRpc::new(&with_userinfo, Auth::None).unwrap();
    assert_eq!(rpc.get_block_count().await.unwrap(), 7);

    let wrong = ElementsRpc::new(
        &url,
        Auth::UserPass {
            user: USER.into(),
            password: "nope".into(),
        },
    )
    .unwrap()
    .with_retry(fast_retries(5));
    assert!(matches!(
        wrong.get_block_count().await,
        Err(RpcError::Unauthorized)
    ));
    assert_eq!(
        double.requests.lock().unwrap().len(),
        1,
        "401 is not retried"
    );
}

#[tokio::test]
async fn cookie_file_auth_is_read_per_request() {
    let (url, double) = start().await;
    let dir = tempfile::tempdir().unwrap();
    let cookie = dir.path().join(".cookie");
    std::fs::write(&cookie, "__cookie__:first\n").unwrap();
    *double.accepted.lock().unwrap() = "__cookie__:first".into();
    let rpc = ElementsRpc::new(&url, Auth::CookieFile(cookie.clone())).unwrap();
    assert_eq!(rpc.get_block_count().await.unwrap(), 7);

    // The node restarted with a fresh cookie: the same client picks it up.
    std::fs::write(&cookie, "__cookie__:second").unwrap();
    *double.accepted.lock().unwrap() = "__cookie__:second".into();
    assert_eq!(rpc.get_block_count().await.unwrap(), 7);

    std::fs::remove_file(&cookie).unwrap();
    assert!(matches!(
        rpc.get_block_count().await,
        Err(RpcError::Cookie { .. })
    ));
    std::fs::write(&cookie, "no separator").unwrap();
    assert!(matches!(
        rpc.get_block_count().await,
        Err(RpcError::Cookie { .. })
    ));
}

#[tokio::test]
async fn unknown_method_is_a_node_error_with_http_404() {
    let (url, _double) = start().await;
    let error = client(&url)
        .call::<Value>("nosuchmethod", &[])
        .await
        .unwrap_err();
    assert!(error.is_method_not_found());
    assert!(
        matches!(error, RpcError::Node { http_status: 404, ref message, .. } if message == "Method not found")
    );
    let busy = client(&url).call::<Value>("busy", &[]).await.unwrap_err();
    assert!(matches!(busy, RpcError::Http { status: 503, ref body } if body == "busy"));
}

#[tokio::test]
async fn warming_up_is_retried_within_the_bound() {
    let (url, double) = start().await;
    double.warmups_left.store(2, Ordering::SeqCst);
    let rpc = client(&url).with_retry(fast_retries(5));
    assert_eq!(rpc.call::<String>("warmup", &[]).await.unwrap(), "ready");
    assert_eq!(double.requests.lock().unwrap().len(), 3);

    double.warmups_left.store(10, Ordering::SeqCst);
    let error = client(&url)
        .with_retry(fast_retries(3))
        .call::<String>("warmup", &[])
        .await
        .unwrap_err();
    assert!(error.is_warming_up(), "{error}");
    assert_eq!(
        double.requests.lock().unwrap().len(),
        6,
        "3 more attempts, then the error"
    );
}

#[tokio::test]
async fn refused_connections_are_retried_until_the_node_listens() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    drop(listener);
    let url = format!("http://{addr}");

    let error = client(&url)
        .with_retry(fast_retries(3))
        .get_block_count()
        .await
        .unwrap_err();
    assert!(error.is_transport(), "{error}");

    let late = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        serve_on(listener).await
    });
    let patient = client(&url).with_retry(RetryPolicy {
        max_attempts: 200,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(20),
    });
    assert_eq!(patient.get_block_count().await.unwrap(), 7);
    late.await.unwrap();
}

#[tokio::test]
async fn amounts_are_sent_as_exact_decimal_text() {
    let (url, double) = start().await;
    let asset: elements::AssetId =
        "46a233d92f0a672782fc5d3ae43e694cc4c4d2044c222140ebd656c3de8aeeed"
            .parse()
            .unwrap();
    let txid = client(&url)
        .wallet("treasury")
        .send_to_address("el1qqaddress", Amount::from_units(1_500_000), Some(&asset))
        .await
        .unwrap();
    assert_eq!(
        txid.to_string(),
        "a4494ef6d1f9105f2a9a3df19396a263b0b72cb0520aa9dcecfc3146b3a390f5"
    );
    let body = double.requests.lock().unwrap()[0].1.clone();
    assert!(
        body.contains(r#""params":["el1qqaddress",0.01500000,"","",false,null,null,"UNSET",false,"46a233d92f0a672782fc5d3ae43e694cc4c4d2044c222140ebd656c3de8aeeed"]"#),
        "{body}"
    );
}

/// A raw HTTP server that drops the first `drops` connections after reading the request, then
/// answers `getblockcount`/`sendtoaddress`-style results. Returns the URL and the request count.
async fn flaky_server(drops: usize) -> (String, Arc<AtomicU32>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(AtomicU32::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
            let mut buf = vec![0u8; 8192];
            let _ = socket.read(&mut buf).await;
            if n < drops {
                drop(socket);
                continue;
            }
            let body = envelope("7", Value::Null);
            let response = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn connection_lost_mid_request_is_retried_only_for_read_only_calls() {
    let (url, seen) = flaky_server(1).await;
    let rpc = client(&url).with_retry(fast_retries(3));
    assert_eq!(rpc.get_block_count().await.unwrap(), 7);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "dropped once, then answered"
    );

    let (url, seen) = flaky_server(1).await;
    let rpc = client(&url).with_retry(fast_retries(3));
    let error = rpc
        .call::<Value>("sendtoaddress", &[json!("el1qq"), json!(1)])
        .await
        .unwrap_err();
    assert!(error.is_transport(), "{error}");
    assert_eq!(
        seen.load(Ordering::SeqCst),
        1,
        "a call with effects is never repeated"
    );
}
