//! Distributions over the router (no node): the confirm file, stamped assignments, nothing to
//! distribute, list and details, cancel and create again, and confirm's input checks. The
//! on-chain confirm is tested end to end with the embedded node in crates/cli/tests/cli.

use axum::http::StatusCode;
use serde_json::json;

use crate::assignments::{create_body, setup, user_with_gaid};

#[tokio::test]
async fn create_cancel_and_create_again() {
    let s = setup(2).await;
    let assets = format!("/api/assets/{}", s.asset);
    // Nothing ready yet.
    let reply = s
        .app
        .get(&format!("{assets}/distributions/create/"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body["Error"]
        .as_str()
        .unwrap()
        .contains("No assignments"));

    let reply = s
        .app
        .post(
            &format!("{assets}/assignments/create"),
            &s.token,
            &create_body(s.user, 150_000_001, false),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "more than the treasury"
    );
    s.app
        .post(
            &format!("{assets}/assignments/create"),
            &s.token,
            &create_body(s.user, 250, true),
        )
        .await;
    s.app
        .post(
            &format!("{assets}/assignments/create"),
            &s.token,
            &create_body(s.user, 50, false),
        )
        .await;

    let file = s
        .app
        .get(&format!("{assets}/distributions/create/"), &s.token)
        .await;
    assert_eq!(file.status, StatusCode::OK, "{:?}", file.body);
    let body = &file.body;
    assert_eq!(body["command"], "distribute");
    assert_eq!(body["min_supported_client_script_version"], 2);
    assert!(body["base_url"].as_str().unwrap().ends_with("/api/{}"));
    assert_eq!(body["asset_uuid"], s.asset.as_str());
    assert_eq!(body["asset_id"], "ab".repeat(32));
    assert!(body.get("transactions").is_none());
    let map = body["map_address_amount"].as_object().unwrap();
    assert_eq!(map.len(), 1);
    let (address, amount) = map.iter().next().unwrap();
    assert_eq!(amount.as_f64(), Some(0.0000025));
    assert!(address.starts_with("el1"), "{address}");
    assert_eq!(body["map_address_asset"][address], "ab".repeat(32));
    let uuid = body["distribution_uuid"].as_str().unwrap().to_string();
    // The create is a write (a GET in AMP's API): audited, and only when it succeeded.
    let creates: Vec<_> = s
        .app
        .audited(&s.token)
        .await
        .into_iter()
        .filter(|(method, path, _)| method == "GET" && path.contains("/distributions/create"))
        .collect();
    assert_eq!(
        creates,
        [(
            "GET".to_string(),
            format!("{assets}/distributions/create"),
            200
        )]
    );

    let listed = s.app.get(&format!("{assets}/assignments"), &s.token).await;
    let stamped: Vec<_> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["distribution_uuid"] == uuid.as_str())
        .collect();
    assert_eq!(stamped.len(), 1);
    assert_eq!(stamped[0]["receiving_address"], address.as_str());
    assert_eq!(stamped[0]["GAID"], s.gaid.as_str());
    let id = stamped[0]["id"].as_i64().unwrap();
    let reply = s
        .app
        .put(&format!("{assets}/assignments/{id}/lock"), &s.token, None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // A second create has nothing left (without the slash too).
    let reply = s
        .app
        .get(&format!("{assets}/distributions/create"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    let list = s
        .app
        .get(&format!("{assets}/distributions"), &s.token)
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(list.body[0]["distribution_status"], "UNCONFIRMED");
    assert_eq!(list.body[0]["transactions"], json!([]));
    let details = s
        .app
        .get(&format!("{assets}/distributions/{uuid}"), &s.token)
        .await;
    assert_eq!(details.body["distribution_uuid"], uuid.as_str());
    assert!(details.body["id"].as_i64().is_some());

    // Confirm: input checks (no node is configured: 503 once the body is acceptable).
    let confirm = format!("{assets}/distributions/{uuid}/confirm");
    let reply = s
        .app
        .post(&confirm, &s.token, r#"{"change_data": []}"#)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let reply = s
        .app
        .post(
            &confirm,
            &s.token,
            r#"{"tx_data": {"txid": "xyz"}, "change_data": []}"#,
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.body);
    let body = json!({"tx_data": {"txid": "ef".repeat(32), "details": []}, "change_data": []});
    let reply = s.app.post(&confirm, &s.token, &body.to_string()).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        reply.body
    );
    let reply = s
        .app
        .post(
            &format!("{assets}/distributions/00000000-0000-4000-8000-000000000000/confirm"),
            &s.token,
            &body.to_string(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);

    // Cancel releases the assignment; a new distribution uses a fresh address.
    let reply = s
        .app
        .delete(&format!("{assets}/distributions/{uuid}/cancel"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.body["distribution_status"], "CANCELLED");
    let reply = s
        .app
        .delete(&format!("{assets}/distributions/{uuid}/cancel"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "already cancelled");
    let gone = s
        .app
        .get(&format!("{assets}/distributions/{uuid}"), &s.token)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let listed = s
        .app
        .get(&format!("{assets}/assignments/{id}"), &s.token)
        .await;
    assert!(listed.body["distribution_uuid"].is_null());
    assert!(listed.body["receiving_address"].is_null());
    let again = s
        .app
        .get(&format!("{assets}/distributions/create"), &s.token)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    let new_address = again.body["map_address_amount"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    assert_ne!(&new_address, address);
    assert_ne!(again.body["distribution_uuid"], uuid.as_str());
    let list = s
        .app
        .get(&format!("{assets}/distributions"), &s.token)
        .await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_user_removed_from_a_required_category_is_refused() {
    let s = setup(2).await;
    let assets = format!("/api/assets/{}", s.asset);
    let (other, _) = user_with_gaid(&s.app, &s.token, "Second").await;
    let categories = s.app.get("/api/categories", &s.token).await;
    let category = categories.body[0]["id"].as_i64().unwrap();
    s.app
        .put(
            &format!("/api/categories/{category}/registered_users/{other}/add"),
            &s.token,
            None,
        )
        .await;
    let reply = s
        .app
        .post(
            &format!("{assets}/assignments/create"),
            &s.token,
            &create_body(other, 10, true),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    s.app
        .put(
            &format!("/api/categories/{category}/registered_users/{other}/remove"),
            &s.token,
            None,
        )
        .await;
    let reply = s
        .app
        .get(&format!("{assets}/distributions/create"), &s.token)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["Error"]
            .as_str()
            .unwrap()
            .contains("no longer in category"),
        "{:?}",
        reply.body
    );
    let list = s
        .app
        .get(&format!("{assets}/distributions"), &s.token)
        .await;
    assert_eq!(list.body, json!([]));
}

/// The confirm file's `base_url` from a peer with these headers.
async fn base_url_via(
    app: &crate::common::TestApp,
    token: &str,
    asset: &str,
    peer: &str,
    headers: &[(&str, &str)],
) -> String {
    use axum::body::Body;
    use axum::http::{Method, Request};
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(format!("/api/assets/{asset}/distributions/create/"))
        .header("authorization", format!("token {token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let reply = app
        .call_from(peer, request.body(Body::empty()).unwrap())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let distribution = reply.body["distribution_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let cancel = app
        .delete(
            &format!("/api/assets/{asset}/distributions/{distribution}/cancel"),
            token,
        )
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{:?}", cancel.body);
    reply.body["base_url"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn confirm_files_name_the_public_url_or_the_origin_as_trusted_proxies_tell_it() {
    let s = setup(2).await;
    let created = s
        .app
        .post(
            &format!("/api/assets/{}/assignments/create", s.asset),
            &s.token,
            &create_body(s.user, 100, true),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{:?}", created.body);
    let forwarded = [
        ("host", "internal:8080"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "client-facing.example"),
    ];
    let app = s.app.with_security(|settings| {
        settings.trusted_proxies =
            amphora_server::forwarded::TrustedProxies::parse(&["10.0.0.0/8"]).unwrap()
    });
    // An untrusted peer's forwarding headers are ignored: its Host is used.
    let url = base_url_via(&app, &s.token, &s.asset, "192.0.2.9:4000", &forwarded).await;
    assert_eq!(url, "http://internal:8080/api/{}");
    // Behind a trusted proxy, the client's scheme and host.
    let url = base_url_via(&app, &s.token, &s.asset, "10.0.0.1:4000", &forwarded).await;
    assert_eq!(url, "https://client-facing.example/api/{}");
    // A configured public_url wins over both.
    let app = app.with_security(|settings| {
        settings.trusted_proxies =
            amphora_server::forwarded::TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        settings.public_url = Some(
            amphora_server::forwarded::check_public_url("https://amp.example.com/amphora/")
                .unwrap(),
        );
    });
    for peer in ["192.0.2.9:4000", "10.0.0.1:4000"] {
        let url = base_url_via(&app, &s.token, &s.asset, peer, &forwarded).await;
        assert_eq!(url, "https://amp.example.com/amphora/api/{}");
    }
}

#[test]
fn public_url_must_be_a_plain_http_url() {
    use amphora_server::forwarded::check_public_url;
    assert_eq!(
        check_public_url("https://amp.example.com").unwrap(),
        "https://amp.example.com"
    );
    for bad in [
        "amp.example.com",
        "ftp://amp.example.com",
        "https://amp.example.com/?x=1",
        "https://user:pw@amp.example.com",
    ] {
        assert!(check_public_url(bad).is_err(), "{bad}");
    }
}

/// The seed's rule: "Assignment does not require that registered users have a wallet
/// registered but, without it, any subsequent distribution cannot begin." Users without a GAID
/// are assigned; the distribution names them all; locking their assignments lets the rest go.
#[tokio::test]
async fn users_without_a_gaid_are_assigned_but_not_paid() {
    let s = setup(2).await;
    let assets = format!("/api/assets/{}", s.asset);
    let category = s.app.get(&assets, &s.token).await.body["requirements"][0]
        .as_i64()
        .unwrap();
    let mut walletless = Vec::new();
    for name in ["Walletless One", "Walletless Two"] {
        let user = s.app.registered_user(&s.token, name).await;
        let path = format!("/api/categories/{category}/registered_users/{user}/add");
        assert_eq!(
            s.app.put(&path, &s.token, None).await.status,
            StatusCode::OK
        );
        let reply = s
            .app
            .post(
                &format!("{assets}/assignments/create"),
                &s.token,
                &create_body(user, 10, true),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{name}: {:?}", reply.body);
        assert!(reply.body[0]["GAID"].is_null(), "{:?}", reply.body);
        walletless.push((user, reply.body[0]["id"].as_i64().unwrap()));
    }
    let reply = s
        .app
        .post(
            &format!("{assets}/assignments/create"),
            &s.token,
            &create_body(s.user, 100, true),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    let refused = s
        .app
        .get(&format!("{assets}/distributions/create"), &s.token)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::BAD_REQUEST,
        "{:?}",
        refused.body
    );
    let message = refused.body["Error"].as_str().unwrap();
    let (one, two) = (walletless[0].0, walletless[1].0);
    assert!(message.contains(&format!("[{one}, {two}]")), "{message}");
    assert!(!message.contains(&s.user.to_string()), "{message}");
    assert!(
        s.app
            .get(&format!("{assets}/distributions"), &s.token)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty(),
        "a refused create records nothing"
    );

    // Locking the walletless assignments lets the rest be distributed.
    for (_, assignment) in &walletless {
        let path = format!("{assets}/assignments/{assignment}/lock");
        assert_eq!(
            s.app.put(&path, &s.token, None).await.status,
            StatusCode::OK
        );
    }
    let file = s
        .app
        .get(&format!("{assets}/distributions/create"), &s.token)
        .await;
    assert_eq!(file.status, StatusCode::OK, "{:?}", file.body);
    let amounts = file.body["map_address_amount"].as_object().unwrap();
    assert_eq!(amounts.len(), 1, "{amounts:?}");
    assert_eq!(amounts.values().next().unwrap().as_f64(), Some(0.000001));
}
