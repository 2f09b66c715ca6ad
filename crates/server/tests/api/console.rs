//! The issuer console through the real router: its session cookie, CSRF on every form, the
//! failed-login limit it shares with the API, a manager's view limited by the access table, and
//! API messages shown beside their fields. (The browser walk-through is in the CLI tests.)

use std::time::Duration;

use amphora_server::login_limit::LoginLimits;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::common::{TestApp, PASSWORD, REGTEST_ADDRESS};

/// A browser's answer: status, headers, the page.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) html: String,
}

impl Page {
    /// The value of the `name` cookie this answer sets, with its attributes.
    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The CSRF token of the page's first form.
    fn csrf(&self) -> String {
        let at = self
            .html
            .find(r#"name="csrf" value=""#)
            .expect("a csrf field")
            + 19;
        self.html[at..at + 64].to_string()
    }

    pub(crate) fn location(&self) -> &str {
        self.headers.get(LOCATION).unwrap().to_str().unwrap()
    }
}

/// Sends a browser request from 127.0.0.1 with `cookies`; `form` as urlencoded pairs.
pub(crate) async fn browse(
    app: &TestApp,
    method: Method,
    path: &str,
    cookies: &str,
    form: &[(&str, &str)],
) -> Page {
    let mut request = Request::builder().method(method).uri(path);
    if !cookies.is_empty() {
        request = request.header(COOKIE, cookies);
    }
    let body = if form.is_empty() {
        Body::empty()
    } else {
        request = request.header("content-type", "application/x-www-form-urlencoded");
        Body::from(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
    };
    let mut request = request.body(body).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo::<std::net::SocketAddr>(
            "127.0.0.1:40000".parse().unwrap(),
        ));
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        headers,
        html: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The cookie pair (`name=value`) of a `Set-Cookie` value.
fn pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap()
}

/// Signs in through the console's form; the session cookie pair and the CSRF token.
pub(crate) async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> Result<(String, String), Page> {
    let form = browse(app, Method::GET, "/login", "", &[]).await;
    let login_cookie = form.set_cookie("amphora_login").unwrap();
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", username),
        ("password", password),
    ];
    let reply = browse(app, Method::POST, "/login", pair(&login_cookie), &fields).await;
    if reply.status != StatusCode::SEE_OTHER {
        return Err(reply);
    }
    let session = pair(&reply.set_cookie("amphora_session").unwrap()).to_string();
    let home = browse(app, Method::GET, "/", &session, &[]).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.html);
    Ok((session, home.csrf()))
}

#[tokio::test]
async fn a_session_cookie_is_strict_and_every_form_needs_its_csrf_token() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;

    // signed out: the sign-in page; its form needs the token of its own cookie
    let home = browse(&app, Method::GET, "/", "", &[]).await;
    assert_eq!(
        (home.status, home.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let form = browse(&app, Method::GET, "/login", "", &[]).await;
    assert!(form
        .html
        .contains(r#"<label for="f-username">Username</label>"#));
    let fields = [("csrf", "0".repeat(64)), ("username", "alice".into())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let forged = browse(&app, Method::POST, "/login", "", &fields).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let login = browse(&app, Method::GET, "/login", "", &[]).await;
    let csrf = login.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let cookie = login.set_cookie("amphora_login").unwrap();
    let reply = browse(&app, Method::POST, "/login", pair(&cookie), &fields).await;
    assert_eq!(
        (reply.status, reply.location()),
        (StatusCode::SEE_OTHER, "/")
    );
    let set = reply.set_cookie("amphora_session").unwrap();
    assert!(
        set.ends_with("; Path=/; HttpOnly; SameSite=Strict"),
        "{set}"
    );
    let session = pair(&set).to_string();
    let home = browse(&app, Method::GET, "/", &session, &[]).await;
    assert!(home.html.contains("Issue an asset") && home.html.contains("No assets yet."));
    let policy = home.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.starts_with("default-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(home.headers["x-frame-options"], "DENY");
    let csrf = home.csrf();

    // a form without the session's token changes nothing
    for token in ["", "f".repeat(64).as_str()] {
        let fields = [("csrf", token), ("name", "Forged")];
        let reply = browse(&app, Method::POST, "/categories/add", &session, &fields).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
    }
    let fields = [("csrf", csrf.as_str()), ("name", "Accredited")];
    let reply = browse(&app, Method::POST, "/categories/add", &session, &fields).await;
    assert_eq!(
        (reply.status, reply.location()),
        (StatusCode::SEE_OTHER, "/categories")
    );
    let categories = app.get("/api/categories", &issuer).await.body;
    assert_eq!(categories.as_array().unwrap().len(), 1);
    assert_eq!(categories[0]["name"], "Accredited");
    // the console's write is in the audit log like any API call
    assert!(app
        .audited(&issuer)
        .await
        .iter()
        .any(|(method, path, _)| method == "POST" && path == "/api/categories/add"));
    let page = browse(&app, Method::GET, "/categories", &session, &[]).await;
    assert!(page.html.contains("Created Accredited."), "{}", page.html);

    // sign-out forgets the session
    let out = browse(&app, Method::POST, "/logout", &session, &[("csrf", &csrf)]).await;
    assert_eq!(
        (out.status, out.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert!(out
        .set_cookie("amphora_session")
        .unwrap()
        .contains("Max-Age=0"));
    let after = browse(&app, Method::GET, "/categories", &session, &[]).await;
    assert_eq!(
        (after.status, after.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
}

#[tokio::test]
async fn cookies_are_secure_when_the_platform_is_served_over_https() {
    let app = TestApp::new()
        .await
        .with_security(|s| s.public_url = Some("https://amphora.example".into()));
    app.issuer("alice").await;
    let form = browse(&app, Method::GET, "/login", "", &[]).await;
    assert!(form
        .set_cookie("amphora_login")
        .unwrap()
        .ends_with("; Secure"));
    let login_cookie = form.set_cookie("amphora_login").unwrap();
    let csrf = form.csrf();
    let fields = [
        ("csrf", csrf.as_str()),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let reply = browse(&app, Method::POST, "/login", pair(&login_cookie), &fields).await;
    let set = reply.set_cookie("amphora_session").unwrap();
    assert!(set.contains("HttpOnly; SameSite=Strict; Secure"), "{set}");
}

#[tokio::test]
async fn console_sign_ins_count_towards_the_failed_login_limit() {
    let limits = LoginLimits {
        max_failures: 2,
        window: Duration::from_secs(300),
    };
    let app = TestApp::with_limits(Duration::from_secs(3600), limits).await;
    app.issuer("alice").await;
    for _ in 0..2 {
        let refused = sign_in(&app, "alice", "wrong password").await.unwrap_err();
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(
            refused.html.contains("Unable to log in"),
            "{}",
            refused.html
        );
    }
    let limited = sign_in(&app, "alice", PASSWORD).await.unwrap_err();
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.html.contains("Too many failed login attempts"));
    assert_eq!(
        app.login("alice", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_manager_sees_only_what_the_access_table_grants_it() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let granted = app.stored_asset(id).await;
    let hidden = app.stored_asset_with_id(id, &"cd".repeat(32)).await;
    let (manager, _) = app.manager(&issuer, "mgr").await;
    let reply = app
        .put(
            &format!("/api/managers/{manager}/assets/{granted}/add"),
            &issuer,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);

    let (session, _) = sign_in(&app, "mgr", PASSWORD).await.unwrap();
    let home = browse(&app, Method::GET, "/", &session, &[]).await;
    assert!(
        home.html.contains(&format!("/assets/{granted}")),
        "{}",
        home.html
    );
    assert!(
        !home.html.contains(&format!("/assets/{hidden}")),
        "{}",
        home.html
    );
    assert!(!home.html.contains("Issue an asset"));
    let page = browse(
        &app,
        Method::GET,
        &format!("/assets/{granted}"),
        &session,
        &[],
    )
    .await;
    assert_eq!(page.status, StatusCode::OK);
    // the cap table is for issuers only: not on a manager's page; no lock button either
    assert!(
        !page.html.contains("Holders") && !page.html.contains("/lock"),
        "{}",
        page.html
    );
    let other = browse(
        &app,
        Method::GET,
        &format!("/assets/{hidden}"),
        &session,
        &[],
    )
    .await;
    assert!(other.status.is_client_error(), "{}", other.status);
    assert!(other.html.contains("Not available"), "{}", other.html);
}

#[tokio::test]
async fn a_bad_form_value_is_shown_beside_its_field() {
    let app = TestApp::new().await;
    app.issuer("alice").await;
    let (session, csrf) = sign_in(&app, "alice", PASSWORD).await.unwrap();
    let fields = [
        ("csrf", csrf.as_str()),
        ("name", "Bob"),
        ("GAID", "not-a-gaid"),
    ];
    let page = browse(
        &app,
        Method::POST,
        "/registered_users/add",
        &session,
        &fields,
    )
    .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.html);
    let at = page
        .html
        .find(r#"id="f-GAID-error""#)
        .expect("the GAID's error");
    assert!(page.html[at..].contains("GAID"), "{}", page.html);
    // what was typed is kept
    assert!(page.html.contains(r#"value="not-a-gaid""#));
}

#[tokio::test]
async fn managers_are_created_unlocked_and_granted_on_the_issuers_pages_only() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let asset = app.stored_asset(id).await;
    let (session, csrf) = sign_in(&app, "alice", PASSWORD).await.unwrap();
    let create = |password: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("username", "mgr".to_string()),
            ("password", password.to_string()),
        ]
    };
    let fields = create("short");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = browse(&app, Method::POST, "/managers/create", &session, &fields).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(
        page.html.contains(r#"id="f-password-error""#),
        "{}",
        page.html
    );
    let fields = create(PASSWORD);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = browse(&app, Method::POST, "/managers/create", &session, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let manager = app.get("/api/managers", &issuer).await.body[0].clone();
    assert_eq!(manager["is_locked"], true);
    let mid = manager["id"].as_i64().unwrap();
    for (action, extra) in [("unlock", None), ("grant", Some(asset.as_str()))] {
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend(extra.map(|a| ("asset", a)));
        let path = format!("/managers/{mid}/{action}");
        let reply = browse(&app, Method::POST, &path, &session, &fields).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{action}");
    }
    let manager = app.get(&format!("/api/managers/{mid}"), &issuer).await.body;
    assert_eq!(manager["is_locked"], false);
    assert_eq!(manager["assets"], serde_json::json!([asset]));
    let audit = browse(&app, Method::GET, "/audit", &session, &[]).await;
    assert!(
        audit.html.contains("POST /api/managers/create"),
        "{}",
        audit.html
    );
    assert!(audit
        .html
        .contains(&format!("PUT /api/managers/{mid}/unlock")));

    // a new password set on the page is the one that signs in
    let new_password = "another horse battery";
    let fields = [("csrf", csrf.as_str()), ("password", new_password)];
    let path = format!("/managers/{mid}/password");
    let reply = browse(&app, Method::POST, &path, &session, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.login("mgr", PASSWORD).await.status,
        StatusCode::BAD_REQUEST
    );

    // the manager has no such pages: the API refuses what the access table keeps from it
    let (manager_session, _) = sign_in(&app, "mgr", new_password).await.unwrap();
    for path in ["/managers", "/audit"] {
        let page = browse(&app, Method::GET, path, &manager_session, &[]).await;
        assert!(page.html.contains("Not available"), "{path}: {}", page.html);
        assert!(!page.html.contains(r#"href="/audit""#), "{path}");
    }
}

#[tokio::test]
async fn the_memo_and_treasury_addresses_are_set_on_the_asset_page() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let id = app
        .state
        .store()
        .issuer_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .id;
    let asset = app.stored_asset(id).await;
    let (session, csrf) = sign_in(&app, "alice", PASSWORD).await.unwrap();
    let page_path = format!("/assets/{asset}");
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let session = session.clone();
        let csrf = csrf.clone();
        let app = &app;
        async move {
            let mut all = vec![("csrf", csrf)];
            all.extend(fields);
            let all: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = browse(app, Method::POST, &path, &session, &all).await;
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{path}: {}",
                reply.html
            );
            browse(app, Method::GET, reply.location(), &session, &[]).await
        }
    };
    let page = post(
        format!("/assets/{asset}/memo"),
        vec![("memo", "Series <A>".into())],
    )
    .await;
    assert!(page.html.contains("Saved the memo.") && page.html.contains("Series &lt;A&gt;"));
    assert_eq!(
        app.get(&format!("/api/assets/{asset}/memo"), &issuer)
            .await
            .body,
        "Series <A>"
    );
    let add = format!("/assets/{asset}/treasury-addresses/add");
    let page = post(add.clone(), vec![("address", REGTEST_ADDRESS.into())]).await;
    assert!(
        page.html.contains("Added the treasury address."),
        "{}",
        page.html
    );
    assert!(page.html.contains(REGTEST_ADDRESS));
    let page = post(add, vec![("address", "not-an-address".into())]).await;
    assert!(page.html.contains(r#"class="notice bad""#), "{}", page.html);
    let delete = format!("/assets/{asset}/treasury-addresses/delete");
    let page = post(delete, vec![("address", REGTEST_ADDRESS.into())]).await;
    assert!(
        page.html.contains("Removed the treasury address."),
        "{}",
        page.html
    );
    let reply = app
        .get(&format!("/api/assets/{asset}/treasury-addresses"), &issuer)
        .await;
    assert_eq!(reply.body, serde_json::json!([]));
    let page = browse(&app, Method::GET, &page_path, &session, &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .html
        .contains("No transfer has been co-signed or refused yet."));
}

#[tokio::test]
async fn a_form_body_that_is_not_a_form_gets_a_page_not_a_rejection() {
    let app = TestApp::new().await;
    app.issuer("alice").await;
    let (session, _) = sign_in(&app, "alice", PASSWORD).await.unwrap();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/categories/add")
        .header(COOKIE, &session)
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo::<std::net::SocketAddr>(
            "127.0.0.1:40000".parse().unwrap(),
        ));
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(String::from_utf8_lossy(&bytes).contains("The form could not be read."));
}

#[tokio::test]
async fn a_registered_user_is_edited_and_given_gaids_on_its_page() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let user = app.registered_user(&issuer, "Bob").await;
    let (first, second) = (app.registered_gaid().await, app.registered_gaid().await);
    let (session, csrf) = sign_in(&app, "alice", PASSWORD).await.unwrap();
    let page = format!("/registered_users/{user}");
    let send = |action: &str, field: &'static str, value: String| {
        let path = format!("{page}/{action}");
        let fields = [("csrf", csrf.clone()), (field, value)];
        let session = session.clone();
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browse(app, Method::POST, &path, &session, &fields).await
        }
    };
    let refused = send("edit", "name", String::new()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.html.contains(r#"id="f-name-error""#),
        "{}",
        refused.html
    );
    assert_eq!(
        send("edit", "name", "Robert".into()).await.status,
        StatusCode::SEE_OTHER
    );
    for gaid in [&first, &second] {
        let reply = send("add-gaid", "GAID", gaid.clone()).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.html);
    }
    let reply = send("add-gaid", "GAID", "nonsense".into()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.html.contains(r#"id="f-GAID-error""#),
        "{}",
        reply.html
    );
    assert_eq!(
        send("set-default", "GAID", second.clone()).await.status,
        StatusCode::SEE_OTHER
    );
    let shown = browse(&app, Method::GET, &page, &session, &[]).await;
    assert!(
        shown.html.contains("This GAID is now the default."),
        "{}",
        shown.html
    );
    assert!(shown.html.contains("Robert") && shown.html.contains(&first));
    let api = app
        .get(&format!("/api/registered_users/{user}"), &issuer)
        .await
        .body;
    assert_eq!(
        (api["name"].as_str(), api["GAID"].as_str()),
        (Some("Robert"), Some(second.as_str()))
    );
}
