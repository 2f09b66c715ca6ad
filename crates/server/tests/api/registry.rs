//! Asset registry: domain proofs served by a local HTTP server (none, wrong, right), the
//! platform's own registry at `/registry/{asset_id}`, submission to an external registry (a
//! local server recording what it receives), and authorization after 2 confirmations — on
//! assets issued through the test node of the run (embedded or Elements Core).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use amphora_server::config::{RegistrySettings, RegistryTarget};
use axum::body::Bytes;
use axum::http::{Method, StatusCode, Uri};
use elements::hashes::sha256;
use elements::{AssetId, Txid};
use serde_json::{json, Value};

use crate::chain::Chain;
use crate::common::TestApp;

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;

/// A local web server standing in for the issuer's domain (`/{domain}/.well-known/…`) and for
/// an external registry (`/registry/…`).
#[derive(Clone, Default)]
struct Web {
    /// Path → body of the files served.
    files: Arc<Mutex<HashMap<String, String>>>,
    /// Bodies POSTed to `/registry/`.
    submitted: Arc<Mutex<Vec<Value>>>,
    /// Status the registry answers POSTs with (201 when unset).
    refuse_with: Arc<Mutex<Option<u16>>>,
    /// Paths of every request received.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Web {
    async fn start() -> (Web, SocketAddr) {
        let web = Web::default();
        let state = web.clone();
        let router = axum::Router::new().fallback(move |method: Method, uri: Uri, body: Bytes| {
            let web = state.clone();
            async move { web.answer(method, uri.path(), &body) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        (web, addr)
    }

    fn answer(&self, method: Method, path: &str, body: &[u8]) -> (StatusCode, String) {
        self.requests.lock().unwrap().push(path.to_string());
        if method == Method::POST && path == "/registry/" {
            if let Some(code) = *self.refuse_with.lock().unwrap() {
                return (
                    StatusCode::from_u16(code).unwrap(),
                    "invalid contract".into(),
                );
            }
            let submitted: Value = serde_json::from_slice(body).unwrap();
            let asset_id = submitted["asset_id"].as_str().unwrap().to_string();
            self.serve(&format!("/registry/{asset_id}"), &submitted.to_string());
            self.submitted.lock().unwrap().push(submitted.clone());
            return (StatusCode::CREATED, submitted.to_string());
        }
        match self.files.lock().unwrap().get(path) {
            Some(text) if method == Method::GET => (StatusCode::OK, text.clone()),
            _ => (StatusCode::NOT_FOUND, "not found".into()),
        }
    }

    fn serve(&self, path: &str, body: &str) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_string(), body.to_string());
    }

    fn serve_proof(&self, domain: &str, asset_id: &str, text: &str) {
        self.serve(
            &format!("/{domain}/.well-known/liquid-asset-proof-{asset_id}"),
            text,
        );
    }
}

/// Issues an asset through the API; its (uuid, asset id, txid, vin).
async fn issue(
    chain: &Chain,
    app: &TestApp,
    token: &str,
    ticker: &str,
) -> (String, String, Txid, u32) {
    let destination = chain.issuer_address().await;
    let body = json!({
        "name": "Registered Security",
        "amount": 1_000,
        "destination_address": destination,
        "domain": "example.com",
        "ticker": ticker,
        "pubkey": PUBKEY,
        "precision": 2,
    });
    let reply = app
        .post("/api/assets/issue", token, &body.to_string())
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let field = |key: &str| reply.body[key].as_str().unwrap().to_string();
    let vin = u32::try_from(reply.body["vin"].as_i64().unwrap()).unwrap();
    (
        field("asset_uuid"),
        field("asset_id"),
        field("txid").parse().unwrap(),
        vin,
    )
}

/// Checks that `contract` is what the issuance committed to: its canonical JSON hashes to
/// the issuance input's entropy, which with the spent outpoint gives the asset id.
async fn assert_committed(chain: &Chain, contract: &Value, asset_id: &str, txid: &Txid, vin: u32) {
    let canonical = serde_json::to_string(contract).unwrap();
    let digest = sha256::Hash::hash(canonical.as_bytes()).to_byte_array();
    let tx = chain.rpc.get_raw_transaction(txid).await.unwrap();
    let input = &tx.input[vin as usize];
    assert_eq!(input.asset_issuance.asset_entropy.to_byte_array(), digest);
    let hash = elements::ContractHash::from_byte_array(digest);
    assert_eq!(
        AssetId::new_issuance(input.previous_output, hash).to_string(),
        asset_id
    );
}

fn settings(web: SocketAddr, target: RegistryTarget) -> RegistrySettings {
    RegistrySettings {
        target,
        proof_base_url: format!("http://{web}/{{domain}}"),
    }
}

#[tokio::test]
async fn registration_checks_the_domain_proof_and_registers_the_committed_contract() {
    let chain = Chain::start().await;
    let (web, addr) = Web::start().await;
    let app = TestApp::new()
        .await
        .with_node(chain.rpc.clone())
        .with_registry(settings(addr, RegistryTarget::Own));
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, txid, vin) = issue(&chain, &app, &token, "REGD").await;
    let register = format!("/api/assets/{uuid}/register");

    // No proof published: 400, and the asset stays unregistered.
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let error = reply.body["Error"].as_str().unwrap();
    assert!(error.contains("no such file was served"), "{error}");
    assert!(
        // (the web server's port and the asset id, in the URL, may themselves hold "404")
        !error
            .replace(&addr.to_string(), "")
            .replace(&asset_id.to_string(), "")
            .contains("404"),
        "the remote status is not echoed: {error}"
    );
    assert!(
        error.contains(&format!(
            "Authorize linking the domain name example.com to the Liquid asset {asset_id}"
        )),
        "{error}"
    );
    let details = app.get(&format!("/api/assets/{uuid}"), &token).await;
    assert_eq!(details.body["is_registered"], false);

    // A proof for another asset: 400.
    let other = "11".repeat(32);
    web.serve_proof(
        "example.com",
        &asset_id,
        &format!("Authorize linking the domain name example.com to the Liquid asset {other}"),
    );
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body["Error"].as_str().unwrap().contains("is wrong"));
    assert_eq!(
        app.get(&format!("/registry/{asset_id}"), &token)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The right proof (a trailing newline is fine): registered.
    web.serve_proof(
        "example.com",
        &asset_id,
        &format!("Authorize linking the domain name example.com to the Liquid asset {asset_id}\n"),
    );
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["is_registered"], true);
    // The registration is a write (a GET in AMP's API): audited once, the refusals not.
    let audited = app.audited(&token).await;
    assert_eq!(
        audited
            .iter()
            .filter(|(_, path, _)| *path == register)
            .collect::<Vec<_>>(),
        [&("GET".to_string(), register.clone(), 200)]
    );
    assert_eq!(reply.body["asset_uuid"], uuid.as_str());

    // Twice: the reference's exact error.
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.body,
        json!({"Error": "The asset is already registered."})
    );

    // The own registry serves the entry, without a token, in the registry's shape.
    let entry = app
        .send(Method::GET, &format!("/registry/{asset_id}"), None, None)
        .await;
    assert_eq!(entry.status, StatusCode::OK, "{:?}", entry.body);
    let body = &entry.body;
    assert_eq!(body["asset_id"], asset_id.as_str());
    assert_eq!(body["ticker"], "REGD");
    assert_eq!(body["name"], "Registered Security");
    assert_eq!(body["precision"], 2);
    assert_eq!(body["entity"], json!({"domain": "example.com"}));
    assert_eq!(body["issuer_pubkey"], PUBKEY);
    assert_eq!(body["version"], 0);
    assert_eq!(
        body["issuance_txin"],
        json!({"txid": txid.to_string(), "vin": vin})
    );
    let tx = chain.rpc.get_raw_transaction(&txid).await.unwrap();
    let prevout = tx.input[vin as usize].previous_output;
    assert_eq!(
        body["issuance_prevout"],
        json!({"txid": prevout.txid.to_string(), "vout": prevout.vout})
    );
    assert_committed(&chain, &body["contract"], &asset_id, &txid, vin).await;

    // Unknown and malformed asset ids.
    let unknown = app
        .send(Method::GET, &format!("/registry/{other}"), None, None)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let malformed = app.send(Method::GET, "/registry/xyz", None, None).await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert!(malformed.body["asset_id"].is_array());

    // Another issuer cannot register it.
    let other_issuer = app.issuer("other").await;
    let reply = app.get(&register, &other_issuer).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn registration_submits_the_contract_to_an_external_registry() {
    let chain = Chain::start().await;
    let (web, addr) = Web::start().await;
    let remote = format!("http://{addr}/registry");
    let app = TestApp::new()
        .await
        .with_node(chain.rpc.clone())
        .with_registry(settings(addr, RegistryTarget::Remote(remote)));
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, txid, vin) = issue(&chain, &app, &token, "EXTR").await;
    let register = format!("/api/assets/{uuid}/register");
    web.serve_proof(
        "example.com",
        &asset_id,
        &format!("Authorize linking the domain name example.com to the Liquid asset {asset_id}"),
    );

    // The registry refuses: 400 with its answer; nothing recorded.
    *web.refuse_with.lock().unwrap() = Some(400);
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .contains("invalid contract"));
    // The registry fails: 503.
    *web.refuse_with.lock().unwrap() = Some(502);
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(web.submitted.lock().unwrap().is_empty());

    // It accepts: exactly {asset_id, contract}, the contract the issuance committed to.
    *web.refuse_with.lock().unwrap() = None;
    let reply = app.get(&register, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["is_registered"], true);
    let submitted = web.submitted.lock().unwrap().clone();
    assert_eq!(submitted.len(), 1);
    let keys: Vec<&String> = submitted[0].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(submitted[0]["asset_id"], asset_id.as_str());
    assert_committed(&chain, &submitted[0]["contract"], &asset_id, &txid, vin).await;

    // Registered elsewhere: the platform's own registry does not list it.
    let own = app
        .send(Method::GET, &format!("/registry/{asset_id}"), None, None)
        .await;
    assert_eq!(own.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_registration_the_registry_already_holds_is_recorded_without_resubmitting() {
    let chain = Chain::start().await;
    let (web, addr) = Web::start().await;
    let remote = format!("http://{addr}/registry");
    let app = TestApp::new()
        .await
        .with_node(chain.rpc.clone())
        .with_registry(settings(addr, RegistryTarget::Remote(remote)));
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, _, _) = issue(&chain, &app, &token, "RETRY").await;
    web.serve_proof(
        "example.com",
        &asset_id,
        &format!("Authorize linking the domain name example.com to the Liquid asset {asset_id}"),
    );
    // A previous attempt reached the registry but was not recorded (crash in between).
    let stored = app
        .state
        .store()
        .asset(
            app.state
                .store()
                .issuer_by_username("issuer")
                .await
                .unwrap()
                .unwrap()
                .id,
            &uuid,
        )
        .await
        .unwrap()
        .unwrap();
    let contract: Value = serde_json::from_str(&stored.issuance.contract_json).unwrap();
    web.serve(
        &format!("/registry/{asset_id}"),
        &json!({"asset_id": asset_id, "contract": contract}).to_string(),
    );
    *web.refuse_with.lock().unwrap() = Some(409);
    let reply = app
        .get(&format!("/api/assets/{uuid}/register"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["is_registered"], true);
    assert!(web.submitted.lock().unwrap().is_empty());
}

#[tokio::test]
async fn authorization_needs_two_confirmations_of_the_issuance() {
    let chain = Chain::start().await;
    let app = TestApp::new().await.with_node(chain.rpc.clone());
    let token = app.issuer("issuer").await;
    let (uuid, _, txid, _) = issue(&chain, &app, &token, "AUTH").await;
    let authorize = format!("/api/assets/{uuid}/register-authorized");

    for confirmations in 0..2 {
        let reply = app.get(&authorize, &token).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
        let error = reply.body["Error"].as_str().unwrap();
        assert!(
            error.contains(&format!("{txid} has {confirmations} confirmation")),
            "{error}"
        );
        let details = app.get(&format!("/api/assets/{uuid}"), &token).await;
        assert_eq!(details.body["is_authorized"], false);
        chain.mine(1).await;
    }
    let reply = app.get(&authorize, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["is_authorized"], true);
    // The authorization is a write (a GET in AMP's API): audited, the refusals not.
    let audited = app.audited(&token).await;
    assert_eq!(
        audited
            .iter()
            .filter(|(_, path, _)| *path == authorize)
            .collect::<Vec<_>>(),
        [&("GET".to_string(), authorize.clone(), 200)]
    );
    // Idempotent.
    let reply = app.get(&authorize, &token).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["is_authorized"], true);
}

#[tokio::test]
async fn authorization_without_a_node_is_503() {
    let app = TestApp::new().await;
    let token = app.issuer("issuer").await;
    let issuer = app
        .state
        .store()
        .issuer_by_username("issuer")
        .await
        .unwrap()
        .unwrap()
        .id;
    let uuid = app.stored_asset(issuer).await;
    let reply = app
        .get(&format!("/api/assets/{uuid}/register-authorized"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(reply.body["detail"].is_string());
    let reply = app
        .get(
            &format!("/api/assets/{}/register", uuid::Uuid::new_v4()),
            &token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// With `allow_private_outbound` off, the domain proof is not read from a loopback address,
/// whether the URL names it literally or by a name that resolves to it when connecting.
#[tokio::test]
async fn domain_proofs_are_never_read_from_private_addresses() {
    let chain = Chain::start().await;
    let (web, addr) = Web::start().await;
    for base in [
        format!("http://{addr}/{{domain}}"),
        format!("http://localhost:{}/{{domain}}", addr.port()),
    ] {
        let app = TestApp::new()
            .await
            .with_node(chain.rpc.clone())
            .with_registry(RegistrySettings {
                target: RegistryTarget::Own,
                proof_base_url: base.clone(),
            })
            .with_security(|s| s.outbound.allow_private = false);
        let token = app.issuer("issuer").await;
        let (uuid, asset_id, _, _) = issue(&chain, &app, &token, "PRIV").await;
        web.serve_proof(
            "example.com",
            &asset_id,
            &amphora_server::routes::registry::proof_text("example.com", &asset_id),
        );
        let reply = app
            .get(&format!("/api/assets/{uuid}/register"), &token)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{base}: {:?}",
            reply.body
        );
        let error = reply.body["Error"].as_str().unwrap();
        assert!(error.contains("non-public"), "{base}: {error}");
        let details = app.get(&format!("/api/assets/{uuid}"), &token).await;
        assert_eq!(details.body["is_registered"], false);
    }
    assert!(
        web.requests.lock().unwrap().is_empty(),
        "the server was reached"
    );
}

/// Domain proofs follow redirects only to https:// targets (here: a redirect to plain http on
/// loopback, allowed as a target in the sandbox but not as a redirect).
#[tokio::test]
async fn domain_proof_redirects_lead_only_to_https() {
    let chain = Chain::start().await;
    let (web, addr) = Web::start().await;
    let redirector = axum::Router::new().fallback(move |uri: Uri| async move {
        (
            StatusCode::FOUND,
            [("location", format!("http://{addr}{}", uri.path()))],
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hop = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, redirector).await.unwrap() });
    let app = TestApp::new()
        .await
        .with_node(chain.rpc.clone())
        .with_registry(settings(hop, RegistryTarget::Own));
    let token = app.issuer("issuer").await;
    let (uuid, asset_id, _, _) = issue(&chain, &app, &token, "REDIR").await;
    web.serve_proof(
        "example.com",
        &asset_id,
        &amphora_server::routes::registry::proof_text("example.com", &asset_id),
    );
    let reply = app
        .get(&format!("/api/assets/{uuid}/register"), &token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let error = reply.body["Error"].as_str().unwrap();
    assert!(error.contains("redirected"), "{error}");
    assert!(
        web.requests.lock().unwrap().is_empty(),
        "the redirect was followed"
    );
}
