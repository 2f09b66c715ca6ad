//! The issuer's administration pages of the console through the real router: the asset's
//! authorization endpoint, its outputs and the UTXO blacklist, reissue and burn requests the
//! API refuses (shown beside the field), and CSRF on each of their forms. (The requests the API
//! accepts, paid with `amphora confirm`, are walked in the browser test.)

use amphora_store::{NewAssetOutput, OutputOwner, UNKNOWN_BLINDER};
use axum::http::{Method, StatusCode};

use crate::common::TestApp;
use crate::console::{browse, sign_in};

/// An issuer `alice` with a stored asset, signed in to the console: (app, API token, asset,
/// session cookie, CSRF token).
async fn signed_in_with_asset() -> (TestApp, String, String, String, String) {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let asset = app.stored_asset(id).await;
    let (session, csrf) = sign_in(&app, "alice", crate::common::PASSWORD)
        .await
        .unwrap();
    (app, token, asset, session, csrf)
}

/// Follows the redirect of a form: the page it leads to.
async fn after(app: &TestApp, reply: &crate::console::Page, session: &str) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.html);
    browse(app, Method::GET, reply.location(), session, &[])
        .await
        .html
}

/// Sends the asset page's endpoint form with `endpoint` (and `csrf`, when given).
async fn edit_endpoint(
    app: &TestApp,
    asset: &str,
    session: &str,
    csrf: Option<&str>,
    endpoint: &str,
) -> crate::console::Page {
    let mut fields = vec![("issuer_authorization_endpoint", endpoint)];
    if let Some(csrf) = csrf {
        fields.push(("csrf", csrf));
    }
    let path = format!("/assets/{asset}/edit");
    browse(app, Method::POST, &path, session, &fields).await
}

#[tokio::test]
async fn the_authorization_endpoint_is_set_refused_and_cleared_on_the_asset_page() {
    let (app, token, asset, session, csrf) = signed_in_with_asset().await;
    let page = browse(
        &app,
        Method::GET,
        &format!("/assets/{asset}"),
        &session,
        &[],
    )
    .await;
    assert!(page.html.contains("Transfer authorization") && page.html.contains("Registry"));
    let endpoint = || async {
        let api = app.get(&format!("/api/assets/{asset}"), &token).await;
        api.body["issuer_authorization_endpoint"].clone()
    };

    let reply = edit_endpoint(
        &app,
        &asset,
        &session,
        Some(&csrf),
        "https://auth.example/check",
    )
    .await;
    let html = after(&app, &reply, &session).await;
    assert!(html.contains("Saved the authorization endpoint."), "{html}");
    assert_eq!(endpoint().await, "https://auth.example/check");

    // not an http(s) URL: the API's message, nothing changed
    let reply = edit_endpoint(
        &app,
        &asset,
        &session,
        Some(&csrf),
        "ftp://auth.example/check",
    )
    .await;
    let html = after(&app, &reply, &session).await;
    assert!(
        html.contains("notice bad") && html.contains("issuer_authorization_endpoint"),
        "{html}"
    );
    assert_eq!(endpoint().await, "https://auth.example/check");

    let reply = edit_endpoint(&app, &asset, &session, Some(&csrf), "").await;
    let html = after(&app, &reply, &session).await;
    assert!(
        html.contains("Cleared the authorization endpoint."),
        "{html}"
    );
    assert!(endpoint().await.is_null());

    // without the session's CSRF token nothing changes
    let reply = edit_endpoint(&app, &asset, &session, None, "https://evil.example/").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(endpoint().await.is_null());
}

#[tokio::test]
async fn an_output_is_blacklisted_and_whitelisted_on_the_outputs_page() {
    let (app, token, asset, session, csrf) = signed_in_with_asset().await;
    let txid = "ef".repeat(32);
    app.state
        .store()
        .record_asset_outputs(&[NewAssetOutput {
            txid: txid.clone(),
            vout: 1,
            asset_uuid: asset.clone(),
            is_token: false,
            amount: 700,
            script_pubkey: "0014".to_string() + &"00".repeat(20),
            owner: OutputOwner::Treasury,
            asset_blinder: UNKNOWN_BLINDER.to_string(),
            amount_blinder: UNKNOWN_BLINDER.to_string(),
            height: 1,
        }])
        .await
        .unwrap();
    let outputs = format!("/assets/{asset}/outputs");
    let page = browse(&app, Method::GET, &outputs, &session, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains(&format!("{txid}:1")) && page.html.contains(">Blacklist<"),
        "{}",
        page.html
    );
    let blacklisted = || async {
        let utxos = app.get(&format!("/api/assets/{asset}/utxos"), &token).await;
        utxos.body[0]["blacklisted"].clone()
    };
    let fields = [
        ("csrf", csrf.as_str()),
        ("txid", txid.as_str()),
        ("vout", "1"),
    ];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{outputs}/blacklist"),
        &session,
        &fields,
    )
    .await;
    let html = after(&app, &reply, &session).await;
    assert!(
        html.contains("Blacklisted the output") && html.contains("Remove from blacklist"),
        "{html}"
    );
    assert_eq!(blacklisted().await, true);

    // an outpoint that is not one of the asset's outputs: the API's refusal, nothing changes
    let other = "12".repeat(32);
    let fields = [
        ("csrf", csrf.as_str()),
        ("txid", other.as_str()),
        ("vout", "0"),
    ];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{outputs}/whitelist"),
        &session,
        &fields,
    )
    .await;
    assert!(after(&app, &reply, &session).await.contains("notice bad"));
    assert_eq!(blacklisted().await, true);

    // no CSRF token: refused
    let fields = [("txid", txid.as_str()), ("vout", "1")];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{outputs}/whitelist"),
        &session,
        &fields,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(blacklisted().await, true);

    let fields = [
        ("csrf", csrf.as_str()),
        ("txid", txid.as_str()),
        ("vout", "1"),
    ];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{outputs}/whitelist"),
        &session,
        &fields,
    )
    .await;
    assert!(after(&app, &reply, &session)
        .await
        .contains("Removed the output from the blacklist."));
    assert_eq!(blacklisted().await, false);
}

#[tokio::test]
async fn a_reissue_or_burn_request_the_api_refuses_is_shown_beside_the_amount() {
    let (app, _token, asset, session, csrf) = signed_in_with_asset().await;
    for segment in ["reissuances", "burns"] {
        let base = format!("/assets/{asset}/{segment}");
        let page = browse(&app, Method::GET, &base, &session, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert!(page.html.contains("None yet."), "{}", page.html);

        // a field error: beside the amount, what was typed kept
        let fields = [("csrf", csrf.as_str()), ("amount", "0")];
        let page = browse(
            &app,
            Method::POST,
            &format!("{base}/request"),
            &session,
            &fields,
        )
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
        let at = page
            .html
            .find(r#"id="f-amount-error""#)
            .expect("the amount's error");
        assert!(
            page.html[at..].contains("greater than or equal to 1"),
            "{}",
            page.html
        );
        assert!(page.html.contains(r#"value="0""#));
        assert!(!page.html.contains("confirm-line"), "no confirm step");

        // a business refusal of the whole request (the stored asset holds nothing to burn and
        // is not reissuable)
        let fields = [("csrf", csrf.as_str()), ("amount", "10")];
        let page = browse(
            &app,
            Method::POST,
            &format!("{base}/request"),
            &session,
            &fields,
        )
        .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
        assert!(page.html.contains("notice bad"), "{}", page.html);
        assert!(!page.html.contains("confirm-line"), "no confirm step");

        let fields = [("amount", "10")];
        let page = browse(
            &app,
            Method::POST,
            &format!("{base}/request"),
            &session,
            &fields,
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);

        // a file another session made (or none) is not served
        let page = browse(
            &app,
            Method::GET,
            &format!("{base}/file/burn-0-abc"),
            &session,
            &[],
        )
        .await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn a_category_is_edited_detached_and_deleted_on_its_page() {
    let (app, token, asset, session, csrf) = signed_in_with_asset().await;
    let user = app.registered_user(&token, "Carol").await;
    let category = app
        .post("/api/categories/add", &token, r#"{"name": "Qualified"}"#)
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    for path in [
        format!("/api/categories/{category}/registered_users/{user}/add"),
        format!("/api/categories/{category}/assets/{asset}/add"),
    ] {
        assert_eq!(
            app.put(&path, &token, Some("{}")).await.status,
            StatusCode::OK
        );
    }
    let base = format!("/categories/{category}");
    let page = browse(&app, Method::GET, &base, &session, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("Carol") && page.html.contains("Stored asset"),
        "{}",
        page.html
    );
    let api = || async {
        app.get(&format!("/api/categories/{category}"), &token)
            .await
            .body
    };

    // a name the API refuses: beside its field, nothing changed
    let fields = [("csrf", csrf.as_str()), ("name", ""), ("description", "x")];
    let page = browse(
        &app,
        Method::POST,
        &format!("{base}/edit"),
        &session,
        &fields,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
    assert!(page.html.contains(r#"id="f-name-error""#), "{}", page.html);
    assert_eq!(api().await["name"], "Qualified");
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "Qualified investors"),
        ("description", "MiFID II"),
    ];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{base}/edit"),
        &session,
        &fields,
    )
    .await;
    assert!(after(&app, &reply, &session).await.contains("Saved."));
    let now = api().await;
    assert_eq!(
        (&now["name"], &now["description"]),
        (&"Qualified investors".into(), &"MiFID II".into())
    );

    let user_id = user.to_string();
    for (kind, target) in [
        ("registered_users", user_id.as_str()),
        ("assets", asset.as_str()),
    ] {
        let fields = [("csrf", csrf.as_str()), ("kind", kind), ("target", target)];
        let reply = browse(
            &app,
            Method::POST,
            &format!("{base}/detach"),
            &session,
            &fields,
        )
        .await;
        assert!(after(&app, &reply, &session).await.contains("Detached."));
        assert_eq!(api().await[kind], serde_json::json!([]));
    }

    // no CSRF token: nothing deleted
    let fields = [("confirm", "yes")];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{base}/delete"),
        &session,
        &fields,
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    let fields = [("csrf", csrf.as_str())];
    let reply = browse(
        &app,
        Method::POST,
        &format!("{base}/delete"),
        &session,
        &fields,
    )
    .await;
    assert_eq!(reply.location(), "/categories");
    let gone = app
        .get(&format!("/api/categories/{category}"), &token)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_registered_users_table_sorts_by_the_column_asked_for() {
    let (app, token, _asset, session, _csrf) = signed_in_with_asset().await;
    for name in ["bob", "Alice", "carol"] {
        app.registered_user(&token, name).await;
    }
    let order = |html: &str| {
        let mut at: Vec<(usize, &str)> = ["Alice", "bob", "carol"]
            .into_iter()
            .map(|name| (html.find(&format!(">{name}</a>")).expect(name), name))
            .collect();
        at.sort();
        at.into_iter().map(|(_, name)| name).collect::<Vec<_>>()
    };
    let page = browse(
        &app,
        Method::GET,
        "/registered_users?sort=name&order=asc",
        &session,
        &[],
    )
    .await;
    assert_eq!(order(&page.html), ["Alice", "bob", "carol"]);
    assert!(
        page.html.contains(r#"aria-sort="ascending""#),
        "{}",
        page.html
    );
    let page = browse(
        &app,
        Method::GET,
        "/registered_users?sort=name&order=desc",
        &session,
        &[],
    )
    .await;
    assert_eq!(order(&page.html), ["carol", "bob", "Alice"]);
    // by id (the default): the order they were added in
    let page = browse(&app, Method::GET, "/registered_users", &session, &[]).await;
    assert_eq!(order(&page.html), ["bob", "Alice", "carol"]);
}
