//! Failed-login limits: per username and per client address, 429 with `Retry-After`.

use std::net::SocketAddr;
use std::time::Duration;

use amphora_server::login_limit::LoginLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::common::{Reply, TestApp, PASSWORD};

fn limited_app() -> impl std::future::Future<Output = TestApp> {
    TestApp::with_limits(
        Duration::from_secs(3600),
        LoginLimits {
            max_failures: 3,
            window: Duration::from_secs(600),
        },
    )
}

async fn login_from(app: &TestApp, address: &str, username: &str, password: &str) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/user/obtain_token")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"username": username, "password": password}).to_string(),
        ))
        .unwrap();
    let address: SocketAddr = address.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(address));
    app.call(request).await
}

#[tokio::test]
async fn failed_logins_are_limited_per_username() {
    let app = limited_app().await;
    app.issuer("alice").await;
    app.issuer("bob").await;
    for _ in 0..3 {
        let reply = app.login("alice", "wrong password").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    // even the right password is refused now
    let reply = app.login("alice", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_eq!(
        reply.body,
        json!({"detail": format!("Too many failed login attempts. Try again in {retry} seconds.")})
    );
    // other accounts are not affected
    assert_eq!(app.login("bob", PASSWORD).await.status, StatusCode::OK);
    // unknown usernames are limited the same way (no hint which names exist)
    for _ in 0..3 {
        app.login("nobody", "wrong password").await;
    }
    assert_eq!(
        app.login("nobody", "wrong password").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_client_address() {
    let app = limited_app().await;
    app.issuer("alice").await;
    for name in ["a", "b", "c"] {
        let reply = login_from(&app, "192.0.2.1:5000", name, "wrong password").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let reply = login_from(&app, "192.0.2.1:5001", "alice", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(reply.headers.contains_key("retry-after"));
    let reply = login_from(&app, "192.0.2.2:5000", "alice", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[tokio::test]
async fn a_successful_login_clears_the_username_failures() {
    let app = limited_app().await;
    app.issuer("alice").await;
    for _ in 0..2 {
        app.login("alice", "wrong password").await;
    }
    assert_eq!(app.login("alice", PASSWORD).await.status, StatusCode::OK);
    for _ in 0..2 {
        app.login("alice", "wrong password").await;
    }
    assert_eq!(app.login("alice", PASSWORD).await.status, StatusCode::OK);
}

#[tokio::test]
async fn locked_managers_cannot_log_in_even_with_the_right_password() {
    let app = limited_app().await;
    let issuer = app.issuer("alice").await;
    let (id, token) = app.manager(&issuer, "mgr").await;
    app.put(&format!("/api/managers/{id}/lock"), &issuer, None)
        .await;
    assert_eq!(
        app.get("/api/managers/me", &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    let reply = app.login("mgr", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["non_field_errors"][0], "User account is locked.");
}

#[tokio::test]
async fn a_running_server_limits_by_the_peer_address() {
    use amphora_server::{Config, Platform};
    let (_chain, node) = crate::chain::platform_node().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        issuer_username: Some("operator".into()),
        issuer_password: Some("operator password".into()),
        key_passphrase: Some("test passphrase".into()),
        login_max_failures: 2,
        // the test node of the run, through elements_url
        node,
        ..Config::default()
    };
    let platform = Platform::prepare(&config).await.unwrap();
    let addr = platform.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platform.run(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let login = |username: &'static str, password: &'static str| {
        http.post(format!("http://{addr}/api/user/obtain_token"))
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    // two different usernames fail from this address...
    assert_eq!(login("x", "wrong password").await.unwrap().status(), 400);
    assert_eq!(login("y", "wrong password").await.unwrap().status(), 400);
    // ...so the address is refused, even for the right credentials
    let reply = login("operator", "operator password").await.unwrap();
    assert_eq!(reply.status(), 429);
    assert!(reply.headers().contains_key("retry-after"));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn zero_login_limits_are_refused_at_start() {
    use amphora_server::{Config, Platform};
    let dir = tempfile::tempdir().unwrap();
    for (max_failures, window) in [(0, 300), (5, 0)] {
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            key_passphrase: Some("test passphrase".into()),
            login_max_failures: max_failures,
            login_window_secs: window,
            ..Config::default()
        };
        let err = Platform::prepare(&config).await.err().unwrap();
        assert!(err.to_string().contains("login_max_failures"), "{err}");
    }
}

/// 50 wrong-password logins at once for one username: the attempts are reserved before the
/// password is verified, so at most `max_failures` are verified (each verified one answers
/// 400); the rest are refused at once (429, or 503 while the verification slots are busy).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_wrong_password_logins_verify_no_more_than_the_limit() {
    let app = TestApp::with_limits(
        Duration::from_secs(3600),
        LoginLimits {
            max_failures: 5,
            window: Duration::from_secs(600),
        },
    )
    .await
    .with_security(|s| s.login_max_concurrent_verifications = 50);
    app.issuer("alice").await;
    let mut logins = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let router = app.router.clone();
        logins.spawn(async move {
            use tower::ServiceExt;
            let request = Request::builder()
                .method(Method::POST)
                .uri("/api/user/obtain_token")
                .header("content-type", "application/json")
                .body(Body::from(
                    json!({"username": "alice", "password": "wrong password"}).to_string(),
                ))
                .unwrap();
            router.oneshot(request).await.unwrap().status()
        });
    }
    let mut verified = 0;
    while let Some(status) = logins.join_next().await {
        match status.unwrap() {
            StatusCode::BAD_REQUEST => verified += 1,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert!((1..=5).contains(&verified), "{verified} passwords verified");
    // the username is locked out now, right password or not
    assert_eq!(
        app.login("alice", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn logins_beyond_the_verification_cap_are_answered_at_once() {
    let app = limited_app()
        .await
        .with_security(|s| s.login_max_concurrent_verifications = 2);
    app.issuer("alice").await;
    // every verification slot is taken (as by two slow verifications in flight)
    let busy = app
        .state
        .login_verifications()
        .clone()
        .acquire_many_owned(2)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let reply = app.login("alice", PASSWORD).await;
    assert!(started.elapsed() < Duration::from_secs(2), "not queued");
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    assert_eq!(reply.headers["retry-after"], "1");
    assert!(reply.body["detail"].as_str().unwrap().contains("Try again"));
    drop(busy);
    // a refused attempt was not counted as a failure
    for _ in 0..2 {
        app.login("alice", "wrong password").await;
    }
    assert_eq!(app.login("alice", PASSWORD).await.status, StatusCode::OK);
}

async fn login_via(app: &TestApp, peer: &str, forwarded_for: &str, username: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/user/obtain_token")
        .header("content-type", "application/json")
        .header("x-forwarded-for", forwarded_for)
        .body(Body::from(
            json!({"username": username, "password": "wrong password"}).to_string(),
        ))
        .unwrap();
    app.call_from(peer, request).await
}

#[tokio::test]
async fn forwarded_client_addresses_are_believed_only_from_trusted_proxies() {
    let app = limited_app().await.with_security(|s| {
        s.trusted_proxies =
            amphora_server::forwarded::TrustedProxies::parse(&["10.0.0.0/8"]).unwrap()
    });
    // Behind the trusted proxy, each client has its own failures...
    for name in ["a", "b", "c"] {
        let reply = login_via(&app, "10.0.0.1:4000", "192.0.2.1", name).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let reply = login_via(&app, "10.0.0.2:4000", "192.0.2.1", "d").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // ...so another client behind the same proxy is not locked out by the first one,
    let reply = login_via(&app, "10.0.0.1:4000", "192.0.2.2", "d").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    // and a forged entry left of the proxy's does not hide the real client.
    let reply = login_via(&app, "10.0.0.1:4000", "198.51.100.7, 192.0.2.1", "e").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    // An untrusted peer cannot dodge its limit by inventing X-Forwarded-For values.
    for (i, name) in ["f", "g", "h"].iter().enumerate() {
        let spoofed = format!("203.0.113.{i}");
        let reply = login_via(&app, "192.0.2.9:4000", &spoofed, name).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    }
    let reply = login_via(&app, "192.0.2.9:4000", "203.0.113.99", "i").await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
}
