//! The issuer authorization endpoint of an asset decides co-signing: the signed request it
//! receives, and its approvals, refusals, garbage, hangs and absence.

use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amphora_cosigner::verify_issuer_authorization_body;
use amphora_server::cosign::CosignSettings;
use axum::http::{Method, StatusCode};
use lwk_wollet::Chain;
use serde_json::Value;

use super::{assert_refused, scene_with};
use crate::common::TestApp;

/// What the test authorization endpoint answers.
#[derive(Clone, Copy)]
pub(super) enum Answer {
    Approve,
    Refuse,
    Garbage,
    Hang,
}

/// A local issuer authorization endpoint; records the bodies and paths it received.
pub(super) async fn endpoint(answer: Answer) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let handler = move |uri: axum::http::Uri, body: String| {
        let log = log.clone();
        async move {
            log.lock().unwrap().push((uri.path().to_string(), body));
            match answer {
                Answer::Approve => r#"{"result": true}"#.to_string(),
                Answer::Refuse => r#"{"result": false}"#.to_string(),
                Answer::Garbage => "<html>oops</html>".to_string(),
                Answer::Hang => {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                    r#"{"result": true}"#.to_string()
                }
            }
        }
    };
    let router = axum::Router::new().fallback(handler);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn issuer_authorization_endpoint_decides() {
    let mut app = TestApp::new().await;
    app.state = app.state.clone().with_cosign_settings(CosignSettings {
        authorizer_timeout: Duration::from_millis(1500),
        ..app.state.cosign().settings()
    });
    app.router = amphora_server::app(app.state.clone());
    let s = scene_with(app).await;
    let info = s
        .app
        .send(Method::GET, "/amp2/info/authorizer", None, None)
        .await;
    assert_eq!(info.status, StatusCode::OK);
    let pubkey =
        elements::bitcoin::secp256k1::PublicKey::from_str(info.body["pubkey"].as_str().unwrap())
            .unwrap();
    assert_eq!(pubkey, s.app.state.key().authorizer_public_key());

    let (pset, _) = s.alice_sends(&s.bob.address(Chain::External, 0), 10).await;
    let (url, seen) = endpoint(Answer::Approve).await;
    s.edit_endpoint(&url).await;
    assert_eq!(s.sign(&pset).await.status, StatusCode::OK);
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, "/hooks/issuerauthorizer", "exactly one '/'");
    assert!(verify_issuer_authorization_body(&calls[0].1, &pubkey));
    let body: Value = serde_json::from_str(&calls[0].1).unwrap();
    let request = &body["message"]["request"];
    assert_eq!(request["asset_id"], s.asset.to_string());
    assert_eq!(
        request["txid"],
        pset.extract_tx().unwrap().txid().to_string()
    );

    for (answer, code) in [
        (Answer::Refuse, "issuer_authorization_rejected"),
        (Answer::Garbage, "issuer_authorization_unavailable"),
        (Answer::Hang, "issuer_authorization_unavailable"),
    ] {
        let (url, seen) = endpoint(answer).await;
        s.edit_endpoint(&url).await;
        assert_refused(&s.sign(&pset).await, StatusCode::FORBIDDEN, code);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }
    // Down: nothing listens there.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    s.edit_endpoint(&url).await;
    assert_refused(
        &s.sign(&pset).await,
        StatusCode::FORBIDDEN,
        "issuer_authorization_unavailable",
    );
    // A transfer the rules refuse never reaches the endpoint.
    let (url, seen) = endpoint(Answer::Approve).await;
    s.edit_endpoint(&url).await;
    let (to_carol, _) = s
        .alice_sends(&s.carol.address(Chain::External, 0), 10)
        .await;
    assert_refused(
        &s.sign(&to_carol).await,
        StatusCode::FORBIDDEN,
        "recipient_missing_category",
    );
    assert!(seen.lock().unwrap().is_empty());
}
