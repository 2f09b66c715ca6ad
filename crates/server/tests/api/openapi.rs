//! The OpenAPI document is served and matches the committed snapshot, so every wire change
//! shows in review. Regenerate with `UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p amphora-server`.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::common::TestApp;

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

#[tokio::test]
async fn openapi_document_is_served_and_matches_the_snapshot() {
    let app = TestApp::new().await;
    let reply = app.send(Method::GET, "/api/openapi.json", None, None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/json");
    let served = String::from_utf8(reply.raw).unwrap();
    assert_eq!(served, amphora_server::openapi::openapi_json());
    let paths = reply.body["paths"].as_object().unwrap();
    for path in [
        "/api/user/obtain_token",
        "/api/registered_users/{id}/gaids/add",
        "/api/categories/{id}/registered_users/{user_id}/add",
        "/api/gaids/{gaid}/validate",
        "/amp2/wallets/register",
    ] {
        assert!(paths.contains_key(path), "{path} missing");
    }

    let document = format!("{served}\n");
    if std::env::var("UPDATE_OPENAPI_SNAPSHOT").as_deref() == Ok("1") {
        std::fs::write(SNAPSHOT, &document).unwrap();
    }
    let committed = std::fs::read_to_string(SNAPSHOT)
        .expect("crates/server/openapi.json exists (UPDATE_OPENAPI_SNAPSHOT=1 creates it)");
    assert!(
        committed == document,
        "the OpenAPI document changed: review the wire change and regenerate the snapshot with \
         UPDATE_OPENAPI_SNAPSHOT=1 cargo test -p amphora-server --test api openapi"
    );
}

/// A GET through the router, whatever the body.
async fn fetch(app: &TestApp, path: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

/// Every `src`/`href` of the docs page, in order.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(attribute) {
            rest = &rest[start + attribute.len()..];
            let end = rest.find('"').expect("attribute closes");
            found.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    found
}

#[tokio::test]
async fn interactive_docs_are_served_from_the_binary() {
    let app = TestApp::new().await;
    let (status, headers, page) = fetch(&app, "/api/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let html = String::from_utf8(page).unwrap();
    // the page loads nothing from outside the server
    assert!(!html.contains("://"), "external URL in the docs page");
    let references = references(&html);
    assert_eq!(references.len(), 4, "{references:?}");
    for reference in &references {
        assert!(reference.starts_with("/api/docs/"), "{reference}");
        let (status, headers, bytes) = fetch(&app, reference).await;
        assert_eq!(status, StatusCode::OK, "{reference}");
        let expected = if reference.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if reference.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "image/png"
        };
        assert_eq!(headers["content-type"], expected, "{reference}");
        assert!(!bytes.is_empty(), "{reference}");
    }
    // the set-up script points Swagger UI at this server's document, with no online validator
    let (_, _, setup) = fetch(&app, "/api/docs/amphora-docs.js").await;
    let setup = String::from_utf8(setup).unwrap();
    assert!(setup.contains("url: \"/api/openapi.json\""), "{setup}");
    assert!(setup.contains("validatorUrl: null"), "{setup}");
    assert!(!setup.contains("://"), "{setup}");
    // the vendored license is served; unknown files are the API's 404
    let (status, _, license) = fetch(&app, "/api/docs/LICENSE").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8(license)
        .unwrap()
        .contains("Apache License"));
    for missing in [
        "/api/docs/../Cargo.toml",
        "/api/docs/index.js",
        "/api/docs/a/b",
    ] {
        let reply = app.send(Method::GET, missing, None, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(reply.body["detail"], "Not found.", "{missing}");
    }
    // with a trailing slash too, as every path
    let (status, _, _) = fetch(&app, "/api/docs/").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn every_operation_has_a_unique_id_and_documents_its_error_bodies() {
    let document: serde_json::Value =
        serde_json::from_str(&amphora_server::openapi::openapi_json()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            assert!(
                ids.insert(id.to_string()),
                "{method} {path}: operationId {id} twice"
            );
            let responses = operation["responses"].as_object().unwrap();
            let secured = operation["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| !r.as_object().unwrap().is_empty()));
            if secured {
                assert!(responses.contains_key("401"), "{method} {path}: no 401");
                assert!(responses.contains_key("403"), "{method} {path}: no 403");
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}: no 404");
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert!(
                        schema.is_object(),
                        "{method} {path} {status}: no body schema"
                    );
                }
            }
        }
    }
    // the shapes are the error table's
    let schemas = &document["components"]["schemas"];
    assert_eq!(schemas["Detail"]["required"][0], "detail");
    assert_eq!(schemas["BusinessError"]["required"][0], "Error");
    assert_eq!(schemas["Amp2Error"]["required"][0], "error");
    let app = TestApp::new().await;
    let reply = app
        .send(Method::GET, "/api/assets", Some(&"0".repeat(40)), None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert!(reply.body["detail"].is_string());
    let assets = &document["paths"]["/api/assets"]["get"]["responses"]["401"];
    assert_eq!(
        assets["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Detail"
    );
}
