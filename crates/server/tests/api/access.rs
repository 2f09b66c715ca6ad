//! Every declared route, called by every kind of caller, answers what the access rules say.
//!
//! The routes come from the server's one declaration ([`amphora_server::router::table`]:
//! handlers, OpenAPI entries, aliases and rules registered together). What each kind of caller
//! may do is written out here independently of that declaration: the routes open to someone
//! other than an issuer are listed below (the manager lists copy the seed tutorial, "User
//! Management and User Roles"), every other route is for issuers only. A declared rule that
//! differs from this classification fails the test, and so does a listed route that is not
//! declared.

use std::collections::BTreeSet;

use amphora_server::access::Rule;
use amphora_server::credentials::{new_token, token_hash};
use amphora_server::router::{table, Declared};
use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::Value;

use crate::common::{Reply, TestApp};

/// Callable without a token.
const ANONYMOUS: &[&str] = &[
    "GET /api/info",
    "GET /api/changelog",
    "GET /api/openapi.json",
    "GET /api/docs",
    "GET /api/docs/{file}",
    "POST /api/user/obtain_token",
    "GET /amp2/info/xpub",
    "GET /amp2/info/xpub-master",
    "POST /amp2/wallets/register",
    "GET /healthz",
    "GET /registry/{asset_id}",
    "POST /amp2/wallets/sign",
    "GET /amp2/info/authorizer",
];

/// Callable by an issuer and by its investment managers (the seed's list, with the legacy
/// `/investors…` aliases of the same endpoints).
const MANAGER: &[&str] = &[
    "GET /api/registered_users",
    "POST /api/registered_users/add",
    "GET /api/registered_users/{id}",
    "PUT /api/registered_users/{id}/edit",
    "DELETE /api/registered_users/{id}/delete",
    "GET /api/registered_users/{id}/summary",
    "GET /api/registered_users/{id}/gaids",
    "POST /api/registered_users/{id}/gaids/add",
    "POST /api/registered_users/{id}/gaids/set-default",
    "GET /api/investors",
    "POST /api/investors/add",
    "GET /api/investors/{id}",
    "PUT /api/investors/{id}/edit",
    "DELETE /api/investors/{id}/delete",
    "GET /api/investors/{id}/summary",
    "GET /api/investors/{id}/gaids",
    "POST /api/investors/{id}/gaids/add",
    "POST /api/investors/{id}/gaids/set-default",
    "GET /api/categories",
    "GET /api/categories/{id}",
    "GET /api/gaids/{gaid}/validate",
    "GET /api/registered_users/validate-gaid",
    "POST /api/registered_users/validate-gaid",
    "PUT /api/registered_users/{id}/categories/add",
    "PUT /api/registered_users/{id}/categories/delete",
    // Managers get the events of their granted assets only (tests/api/events.rs).
    "GET /api/events",
    "GET /api/events/stream",
];

/// Callable by a manager only for assets the issuer granted it.
const MANAGER_FOR_ASSET: &[&str] = &[
    "GET /api/assets/{asset_uuid}",
    "GET /api/assets/{asset_uuid}/activities",
    "GET /api/assets/{asset_uuid}/balance",
    "GET /api/assets/{asset_uuid}/summary",
    "GET /api/assets/{asset_uuid}/payouts",
    "GET /api/assets/{asset_uuid}/payouts/{payout_id}",
    "GET /api/assets/{asset_uuid}/assignments",
    "GET /api/assets/{asset_uuid}/assignments/{assignment_id}",
    "POST /api/assets/{asset_uuid}/assignments/create",
    "PUT /api/assets/{asset_uuid}/assignments/{assignment_id}/lock",
    "PUT /api/assets/{asset_uuid}/assignments/{assignment_id}/unlock",
    "DELETE /api/assets/{asset_uuid}/assignments/{assignment_id}/delete",
];

/// Callable by a manager only (its own record).
const MANAGER_ONLY: &[&str] = &["GET /api/managers/me"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Anonymous,
    Manager,
    ManagerForAsset,
    ManagerOnly,
    IssuerOnly,
}

/// The class this file gives a route: its list's, or issuers only.
fn class_of(route: &str) -> Option<Class> {
    let lists = [
        (ANONYMOUS, Class::Anonymous),
        (MANAGER, Class::Manager),
        (MANAGER_FOR_ASSET, Class::ManagerForAsset),
        (MANAGER_ONLY, Class::ManagerOnly),
    ];
    lists
        .iter()
        .find(|(list, _)| list.contains(&route))
        .map(|(_, class)| *class)
}

/// The class a declared rule gives.
fn class_of_rule(rule: Rule) -> Class {
    match rule {
        Rule::Anonymous => Class::Anonymous,
        Rule::IssuerOrManager => Class::Manager,
        Rule::IssuerOrManagerForAsset => Class::ManagerForAsset,
        Rule::ManagerOnly => Class::ManagerOnly,
        Rule::IssuerOnly => Class::IssuerOnly,
    }
}

/// `METHOD /path/template` of a declared route.
fn name(route: &Declared) -> String {
    format!("{} {}", route.method, route.path)
}

#[test]
fn every_declared_route_has_the_rule_classified_here() {
    let routes = table().routes();
    assert!(routes.len() >= 100, "only {} routes declared", routes.len());
    let mut wrong = Vec::new();
    for route in routes {
        let expected = class_of(&name(route)).unwrap_or(Class::IssuerOnly);
        if class_of_rule(route.rule) != expected {
            wrong.push(format!(
                "{}: {:?}, expected {expected:?}",
                name(route),
                route.rule
            ));
        }
    }
    assert!(wrong.is_empty(), "rules that differ: {wrong:#?}");
    let declared: BTreeSet<String> = routes.iter().map(name).collect();
    let stale: Vec<&&str> = [ANONYMOUS, MANAGER, MANAGER_FOR_ASSET, MANAGER_ONLY]
        .iter()
        .flat_map(|list| list.iter())
        .filter(|route| !declared.contains(**route))
        .collect();
    assert!(stale.is_empty(), "classified here, not declared: {stale:?}");
}

#[test]
fn the_document_lists_exactly_the_declared_routes_but_the_aliases() {
    let document: Value = serde_json::from_str(&amphora_server::openapi::openapi_json()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let declared: BTreeSet<String> = table()
        .routes()
        .iter()
        .filter(|route| route.documented)
        .map(name)
        .collect();
    assert_eq!(documented, declared);
    for undocumented in [
        "GET /api/investors/{id}",
        "GET /api/docs",
        "POST /api/user/change_password",
    ] {
        assert!(
            !documented.contains(undocumented),
            "{undocumented} is documented"
        );
    }
}

/// The objects the calls name, all owned by issuer A.
struct Fixture {
    user: i64,
    category: i64,
    gaid: String,
    target_manager: i64,
    asset: String,
}

impl Fixture {
    fn path(&self, template: &str) -> String {
        let segments: Vec<&str> = template.split('/').collect();
        segments
            .iter()
            .enumerate()
            .map(|(i, segment)| {
                let previous = if i > 0 { segments[i - 1] } else { "" };
                match *segment {
                    "{id}" => match previous {
                        "categories" => self.category.to_string(),
                        "managers" => self.target_manager.to_string(),
                        _ => self.user.to_string(),
                    },
                    "{user_id}" => self.user.to_string(),
                    "{gaid}" => self.gaid.clone(),
                    "{asset_uuid}" => self.asset.clone(),
                    "{assignment_id}" | "{burn_request_id}" => "1".to_string(),
                    "{asset_id}" => "ab".repeat(32),
                    "{distribution_id}" | "{payout_id}" => {
                        "00000000-0000-4000-8000-000000000000".to_string()
                    }
                    "{height}" => "0".to_string(),
                    "{txid}" => "ab".repeat(32),
                    "{file}" => "LICENSE".to_string(),
                    other if other.starts_with('{') => panic!("no value for {other} in {template}"),
                    other => other.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Whether the route names an object of issuer A (issuer B must get 404 for it).
fn names_an_object_of_a(template: &str) -> bool {
    (template.contains("{id}") || template.contains("{asset_uuid}"))
        && !template.starts_with("/api/managers/me")
        || template.ends_with("/registered_user")
        || template.ends_with("/investor")
}

/// Calls a route with a body that passes its validation, so that what answers is the access
/// rule and the object lookup, not the body check.
async fn call(
    app: &TestApp,
    method: &Method,
    template: &str,
    fixture: &Fixture,
    token: Option<&str>,
) -> Reply {
    let body = if template.contains("/gaids/") && matches!(*method, Method::POST) {
        Some(format!("\"{}\"", fixture.gaid))
    } else if template.ends_with("/memo/set") {
        Some("\"a memo\"".to_string())
    } else if template.ends_with("/treasury-view-key") && matches!(*method, Method::PUT) {
        Some(format!("{{\"view_key\": \"{}\"}}", "11".repeat(32)))
    } else if template.contains("/treasury-addresses/") {
        Some(format!("[\"{}\"]", crate::common::REGTEST_ADDRESS))
    } else if matches!(*method, Method::POST | Method::PUT) {
        Some(
            serde_json::json!({
                "name": "Some name",
                "username": format!("user-{}", uuid::Uuid::new_v4().simple()),
                "password": "a long enough password",
                "descriptor": "not a descriptor",
            })
            .to_string(),
        )
    } else {
        None
    };
    if template.starts_with(amphora_server::docs::DOCS_PATH) {
        return send_raw(app, method, &fixture.path(template), token).await;
    }
    app.send(
        method.clone(),
        &fixture.path(template),
        token,
        body.as_deref(),
    )
    .await
}

/// A bodiless call whose answer need not be JSON (the documentation's HTML and files).
async fn send_raw(app: &TestApp, method: &Method, path: &str, token: Option<&str>) -> Reply {
    let mut request = axum::http::Request::builder()
        .method(method.clone())
        .uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("token {token}"));
    }
    let request = request.body(axum::body::Body::empty()).unwrap();
    let response = tower::ServiceExt::oneshot(app.router.clone(), request)
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let raw = http_body_util::BodyExt::collect(body)
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
        raw,
    }
}

/// Routes whose success replaces the caller's token (the old one is revoked).
fn replaces_token(template: &str) -> bool {
    template.starts_with("/api/user/refresh") || template.starts_with("/api/user/change")
}

fn allowed(reply: &Reply) -> bool {
    reply.status != StatusCode::UNAUTHORIZED && reply.status != StatusCode::FORBIDDEN
}

#[tokio::test]
async fn every_route_answers_each_caller_as_classified() {
    let app = TestApp::new().await;
    let mut issuer_a = app.issuer("issuer-a").await;
    let mut issuer_b = app.issuer("issuer-b").await;
    let gaid = app.registered_gaid().await;
    let user = app.registered_user(&issuer_a, "Investor of A").await;
    let reply = app
        .post(
            &format!("/api/registered_users/{user}/gaids/add"),
            &issuer_a,
            &format!("\"{gaid}\""),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    let reply = app
        .post("/api/categories/add", &issuer_a, r#"{"name": "Qualified"}"#)
        .await;
    let category = reply.body["id"].as_i64().unwrap();
    let (target_manager, _) = app.manager(&issuer_a, "target-manager").await;
    let a_id = app
        .state
        .store()
        .issuer_by_username("issuer-a")
        .await
        .unwrap()
        .unwrap()
        .id;
    let asset = app.stored_asset(a_id).await;
    let (with_asset_id, with_asset) = app.manager(&issuer_a, "manager-with-asset").await;
    app.state
        .store()
        .add_manager_asset(a_id, with_asset_id, &asset)
        .await
        .unwrap();
    let (_, without_asset) = app.manager(&issuer_a, "manager-without-asset").await;
    // A locked manager holding an unexpired token (locking revokes tokens; this one is put
    // back directly so that the lock itself is what refuses it).
    let (locked_id, _) = app.manager(&issuer_a, "locked-manager").await;
    let reply = app
        .put(&format!("/api/managers/{locked_id}/lock"), &issuer_a, None)
        .await;
    assert_eq!(reply.body["is_locked"], true);
    let locked = new_token();
    app.state
        .store()
        .insert_manager_token(
            a_id,
            locked_id,
            &token_hash(&locked),
            Utc::now() + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
    let fixture = Fixture {
        user,
        category,
        gaid,
        target_manager,
        asset,
    };

    let mut failures = Vec::new();
    let mut check = |caller: &str, route: &str, reply: &Reply, ok: bool, expected: &str| {
        if !ok {
            failures.push(format!(
                "{caller}: {route} answered {} {:?}, expected {expected}",
                reply.status, reply.body
            ));
        }
    };

    for declared in table().routes() {
        let (method, template) = (&declared.method, declared.path.as_str());
        let route = name(declared);
        let class = class_of(&route).unwrap_or(Class::IssuerOnly);
        let reply = call(&app, method, template, &fixture, None).await;
        if class == Class::Anonymous {
            check("anonymous", &route, &reply, allowed(&reply), "access");
        } else {
            check(
                "anonymous",
                &route,
                &reply,
                reply.status == StatusCode::UNAUTHORIZED,
                "401",
            );
        }

        let reply = call(&app, method, template, &fixture, Some(&issuer_b)).await;
        if replaces_token(template) && reply.status == StatusCode::OK {
            issuer_b = reply.body["token"].as_str().unwrap().to_string();
        }
        match class {
            Class::ManagerOnly => check(
                "issuer B",
                &route,
                &reply,
                reply.status == StatusCode::FORBIDDEN,
                "403",
            ),
            _ if names_an_object_of_a(template) => check(
                "issuer B",
                &route,
                &reply,
                reply.status == StatusCode::NOT_FOUND,
                "404",
            ),
            _ => check("issuer B", &route, &reply, allowed(&reply), "access"),
        }

        for (caller, token, has_asset) in [
            ("manager with the asset", &with_asset, true),
            ("manager without the asset", &without_asset, false),
        ] {
            let reply = call(&app, method, template, &fixture, Some(token)).await;
            let may = match class {
                Class::Anonymous | Class::Manager | Class::ManagerOnly => true,
                Class::ManagerForAsset => has_asset,
                Class::IssuerOnly => false,
            };
            if may {
                check(caller, &route, &reply, allowed(&reply), "access");
            } else {
                check(
                    caller,
                    &route,
                    &reply,
                    reply.status == StatusCode::FORBIDDEN,
                    "403",
                );
                check(
                    caller,
                    &route,
                    &reply,
                    reply.body["detail"].is_string(),
                    "a detail",
                );
            }
        }

        let reply = call(&app, method, template, &fixture, Some(&locked)).await;
        if class == Class::Anonymous {
            check("locked manager", &route, &reply, allowed(&reply), "access");
        } else {
            check(
                "locked manager",
                &route,
                &reply,
                reply.status == StatusCode::UNAUTHORIZED,
                "401",
            );
        }

        let reply = call(&app, method, template, &fixture, Some(&issuer_a)).await;
        if class == Class::ManagerOnly {
            check(
                "issuer A",
                &route,
                &reply,
                reply.status == StatusCode::FORBIDDEN,
                "403",
            );
        } else {
            check("issuer A", &route, &reply, allowed(&reply), "access");
        }
        if replaces_token(template) && reply.status == StatusCode::OK {
            issuer_a = reply.body["token"].as_str().unwrap().to_string();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_route_without_a_rule_is_refused() {
    use axum::routing::get;
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    // The same middleware in front of a route registered without a rule.
    let router = axum::Router::new()
        .route("/api/unclassified", get(|| async { "secret" }))
        .route_layer(axum::middleware::from_fn_with_state(
            app.state.clone(),
            amphora_server::access::authorize,
        ))
        .with_state(app.state.clone());
    let request = axum::http::Request::builder()
        .uri("/api/unclassified")
        .header("authorization", format!("token {token}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["detail"], "This route is not open to any caller.");
}
