//! AMP2 co-signer endpoints: public keys, wallet registration, GAID validation; and LWK's own
//! `Amp2` client registering against a running server over HTTP.

use std::time::Duration;

use amphora_core::Network;
use amphora_cosigner::key::lwk_network;
use amphora_cosigner::PlatformKey;
use amphora_server::{Config, Platform};
use axum::http::{Method, StatusCode};
use lwk_signer::SwSigner;
use lwk_wollet::amp2::Amp2;
use serde_json::{json, Value};

use crate::common::{unregistered_gaid, TestApp};

fn register_body(descriptor: &str) -> String {
    json!({ "descriptor": descriptor }).to_string()
}

#[tokio::test]
async fn xpub_endpoints_serve_the_platform_key() {
    let app = TestApp::new().await;
    let reply = app.send(Method::GET, "/amp2/info/xpub", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    let xpub = reply.body["keyorigin_xpub"].as_str().unwrap();
    assert_eq!(xpub, app.state.key().xpub_info().keyorigin_xpub);
    assert!(xpub.contains("/87h/1h/0h]tpub"), "{xpub}");
    let reply = app
        .send(Method::GET, "/amp2/info/xpub-master/", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["keyorigin_xpub"],
        app.state.key().master_xpub_info().keyorigin_xpub
    );
    // LWK accepts both as the server key
    Amp2::new(xpub.to_string(), "http://localhost/amp2".into()).unwrap();
}

#[tokio::test]
async fn registration_is_idempotent_and_gives_a_valid_gaid() {
    let app = TestApp::new().await;
    let (signer, _) = SwSigner::random_with_network(lwk_network(Network::LiquidRegtest)).unwrap();
    let descriptor = app
        .amp2()
        .elip153_from_signer(&signer, 0)
        .unwrap()
        .to_string();
    let first = app
        .send(
            Method::POST,
            "/amp2/wallets/register",
            None,
            Some(&register_body(&descriptor)),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    let wid = first.body["wid"].as_str().unwrap();
    let gaid = first.body["gaid"].as_str().unwrap();
    assert!(gaid.starts_with("GA"));
    let again = app
        .send(
            Method::POST,
            "/amp2/wallets/register/",
            None,
            Some(&register_body(&descriptor)),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body);
    // a second account of the same signer is another wallet
    let other = app
        .amp2()
        .elip153_from_signer(&signer, 1)
        .unwrap()
        .to_string();
    let reply = app
        .send(
            Method::POST,
            "/amp2/wallets/register",
            None,
            Some(&register_body(&other)),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_ne!(reply.body["wid"], wid);

    let token = app.issuer("alice").await;
    let reply = app
        .get(&format!("/api/gaids/{gaid}/validate"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"is_valid": true}));
}

#[tokio::test]
async fn validate_reports_malformed_and_unregistered_gaids() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let gaid = app.registered_gaid().await;
    // one character changed: the checksum catches it
    let mut typo: Vec<char> = gaid.chars().collect();
    let last = typo.len() - 1;
    typo[last] = if typo[last] == '2' { '3' } else { '2' };
    let typo: String = typo.into_iter().collect();
    for bad in [
        "GA",
        "XX1234",
        "GA0OIl",
        typo.as_str(),
        unregistered_gaid().as_str(),
    ] {
        let reply = app.get(&format!("/api/gaids/{bad}/validate"), &token).await;
        assert_eq!(reply.status, StatusCode::OK, "{bad}");
        assert_eq!(reply.body["is_valid"], false, "{bad}");
        assert!(!reply.body["error"].as_str().unwrap().is_empty(), "{bad}");
    }
    let reply = app
        .send(
            Method::GET,
            &format!("/api/gaids/{gaid}/validate"),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn foreign_key_one_of_two_and_garbage_are_refused() {
    let app = TestApp::new().await;
    let (signer, _) = SwSigner::random_with_network(lwk_network(Network::LiquidRegtest)).unwrap();

    let foreign_key = PlatformKey::from_mnemonic(
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        Network::LiquidRegtest,
    )
    .unwrap();
    let foreign = Amp2::new(
        foreign_key.xpub_info().keyorigin_xpub,
        "http://x/amp2".into(),
    )
    .unwrap();
    let foreign_descriptor = foreign.elip153_from_signer(&signer, 0).unwrap().to_string();

    let good = app
        .amp2()
        .elip153_from_signer(&signer, 0)
        .unwrap()
        .to_string();
    let without_checksum = good.split('#').next().unwrap();
    let one_of_two = without_checksum.replace("multi(2,", "multi(1,");
    assert_ne!(one_of_two, without_checksum);

    for (case, body) in [
        ("foreign platform key", register_body(&foreign_descriptor)),
        ("1-of-2", register_body(&one_of_two)),
        ("garbage descriptor", register_body("hello")),
        ("empty descriptor", register_body("")),
        ("no descriptor", "{}".to_string()),
        ("not JSON", "descriptor=ct(...)".to_string()),
    ] {
        let reply = app
            .send(Method::POST, "/amp2/wallets/register", None, Some(&body))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{case}: {:?}",
            reply.body
        );
        let error = reply.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: {:?}", reply.body));
        assert!(!error.is_empty(), "{case}");
        // a body that is not `{"descriptor": string}` says so; a descriptor that does not
        // parse or is not this platform's 2-of-2 is refused without a reason code
        let undecodable = matches!(case, "no descriptor" | "not JSON");
        let reasons = if undecodable {
            json!(["request_invalid"])
        } else {
            Value::Null
        };
        assert_eq!(reply.body["reasons"], reasons, "{case}");
    }
}

#[tokio::test]
async fn lwk_amp2_client_registers_against_a_running_server() {
    let (_chain, node) = crate::chain::platform_node().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        issuer_username: Some("operator".into()),
        issuer_password: Some("operator password".into()),
        key_passphrase: Some("test passphrase".into()),
        // the test node of the run, through elements_url
        node,
        ..Config::default()
    };
    let platform = Platform::prepare(&config).await.unwrap();
    let created = platform.created_issuer().unwrap();
    assert_eq!(created.username, "operator");
    assert!(created.generated_password.is_none());
    assert!(!platform.banner().contains("operator password"));
    let addr = platform.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(platform.run(async move {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let xpub: serde_json::Value = http
        .get(format!("{base}/amp2/info/xpub"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let xpub = xpub["keyorigin_xpub"].as_str().unwrap().to_string();

    let amp2 = Amp2::new(xpub, format!("{base}/amp2")).unwrap();
    let (signer, _) = SwSigner::random_with_network(lwk_network(Network::LiquidRegtest)).unwrap();
    let descriptor = amp2.elip153_from_signer(&signer, 0).unwrap();
    let registered = amp2.register(descriptor.clone()).await.unwrap();
    assert_eq!(
        registered.wid,
        descriptor
            .descriptor()
            .dwid(lwk_network(Network::LiquidRegtest))
            .unwrap()
    );
    // a second registration of the same descriptor returns the same wid
    assert_eq!(amp2.register(descriptor).await.unwrap().wid, registered.wid);

    // a foreign platform key is refused with a clear 400 through the client too
    let bad = Amp2::new(
        PlatformKey::from_mnemonic(
            "legal winner thank year wave sausage worth useful legal winner thank yellow",
            Network::LiquidRegtest,
        )
        .unwrap()
        .xpub_info()
        .keyorigin_xpub,
        format!("{base}/amp2"),
    )
    .unwrap();
    let Err(err) = bad
        .register(bad.elip153_from_signer(&signer, 0).unwrap())
        .await
    else {
        panic!("a descriptor with a foreign platform key was accepted");
    };
    assert!(err.to_string().contains("400"), "{err}");

    // the issuer configured for first start logs in and finds the wallet's GAID valid
    let token: serde_json::Value = http
        .post(format!("{base}/api/user/obtain_token/"))
        .json(&json!({"username": "operator", "password": "operator password"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    let store = amphora_store::Store::connect(&config.database_url())
        .await
        .unwrap();
    let wallet = store.wallet(&registered.wid).await.unwrap().unwrap();
    store.close().await;
    let validation: serde_json::Value = http
        .get(format!("{base}/api/gaids/{}/validate", wallet.gaid))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(validation, json!({"is_valid": true}));

    // graceful shutdown
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("server stops after the shutdown signal")
        .unwrap()
        .unwrap();

    // a restart keeps the key and does not create another issuer
    let again = Platform::prepare(&config).await.unwrap();
    assert!(again.created_issuer().is_none());
    assert_eq!(
        again.state().key().xpub_info(),
        PlatformKey::load_or_create(
            &config.key_path(),
            "test passphrase",
            Network::LiquidRegtest
        )
        .unwrap()
        .xpub_info()
    );
}
