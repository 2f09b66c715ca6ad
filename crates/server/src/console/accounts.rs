//! The issuer's own pages: managers (create, lock and unlock, change the password, grant and
//! revoke assets) and the audit log (paged).

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde_json::json;

use super::layout::{
    csrf, field, form_errors, page, respond, text, unavailable, when, Errors, PAGE_SIZE,
};
use super::people::{encode, with_status};
use super::{Console, Form, Signed};

/// The manager and audit routes of the console.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/managers", get(managers))
        .route("/managers/create", post(create))
        .route("/managers/{id}/{action}", post(change))
        .route("/audit", get(audit))
}

/// `GET /managers`.
async fn managers(signed: Signed) -> Response {
    managers_page(&signed, &HashMap::new(), &Errors::new()).await
}

async fn managers_page(
    signed: &Signed,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let list = signed.api.get("/managers").await;
    let assets = signed.api.get("/assets").await;
    let rows = list.body.as_array().cloned().unwrap_or_default();
    let assets = assets.body.as_array().cloned().unwrap_or_default();
    let names: HashMap<String, String> = assets
        .iter()
        .map(|a| (text(&a["asset_uuid"]), text(&a["name"])))
        .collect();
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let body = html! {
        form.card method="post" action="/managers/create" {
            h2 { "Create a manager" }
            (csrf(&signed.session))
            (form_errors(errors, &["username", "password"]))
            div.grid {
                (field("Username", "username", "text", value("username"), errors))
                (field("Password (8–128 characters)", "password", "password", "", errors))
            }
            p.muted { "A new manager is locked until you unlock it." }
            button type="submit" { "Create" }
        }
        @if !list.ok() { (unavailable(&list)) }
        @else if rows.is_empty() { p.muted { "No managers yet." } }
        @else {
            table {
                thead { tr { th.num { "Id" } th { "Username" } th { "State" } th { "Assets" } th { "Password and grants" } } }
                tbody {
                    @for manager in &rows {
                        @let id = text(&manager["id"]);
                        @let locked = manager["is_locked"].as_bool() == Some(true);
                        tr {
                            td.num { (id) }
                            td { (text(&manager["username"])) }
                            td {
                                form method="post" action={ "/managers/" (id) (if locked { "/unlock" } else { "/lock" }) } {
                                    (csrf(&signed.session))
                                    (if locked { "Locked " } else { "Active " })
                                    button.small type="submit" { (if locked { "Unlock" } else { "Lock" }) }
                                }
                            }
                            td {
                                @for uuid in manager["assets"].as_array().into_iter().flatten() {
                                    @let uuid = text(uuid);
                                    form method="post" action={ "/managers/" (id) "/revoke" } {
                                        (csrf(&signed.session))
                                        input type="hidden" name="asset" value=(uuid);
                                        (names.get(&uuid).cloned().unwrap_or(uuid.clone())) " "
                                        button.small type="submit" aria-label={ "Revoke " (uuid) } { "Revoke" }
                                    }
                                }
                            }
                            td {
                                form method="post" action={ "/managers/" (id) "/password" } {
                                    (csrf(&signed.session))
                                    label.muted for={ "pw-" (id) } { "New password " }
                                    input id={ "pw-" (id) } name="password" type="password" autocomplete="new-password";
                                    " " button.small type="submit" { "Change" }
                                }
                                form method="post" action={ "/managers/" (id) "/grant" } {
                                    (csrf(&signed.session))
                                    label.muted for={ "grant-" (id) } { "Asset " }
                                    select id={ "grant-" (id) } name="asset" {
                                        @for asset in &assets { option value=(text(&asset["asset_uuid"])) { (text(&asset["name"])) } }
                                    }
                                    " " button.small type="submit" { "Grant" }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(&[&list], page("Managers", Some(&signed.session), body))
}

/// `POST /managers/create`: `POST /api/managers/create`.
async fn create(signed: Signed, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let body = json!({"username": form.text("username"),
        "password": form.0.get("password").cloned().unwrap_or_default()});
    let answer = signed
        .api
        .call(Method::POST, "/managers/create", Some(body))
        .await;
    if answer.ok() {
        let name = text(&answer.body["username"]);
        return signed.back(&answer, "/managers", &format!("Created {name} (locked)."));
    }
    with_status(
        managers_page(&signed, &form.0, &answer.errors()).await,
        &answer,
    )
}

/// `POST /managers/{id}/{lock|unlock|grant|revoke|password}`.
async fn change(
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let id = encode(&id);
    let asset = encode(form.text("asset"));
    let (path, done) = match action.as_str() {
        "lock" => (format!("/managers/{id}/lock"), "Locked the manager."),
        "unlock" => (format!("/managers/{id}/unlock"), "Unlocked the manager."),
        "grant" => (format!("/managers/{id}/assets/{asset}/add"), "Granted."),
        "revoke" => (format!("/managers/{id}/assets/{asset}/remove"), "Revoked."),
        "password" => (
            format!("/managers/{id}/change-password"),
            "Changed the manager's password.",
        ),
        _ => return crate::error::ApiError::NotFound.into_response(),
    };
    let answer = match action.as_str() {
        "password" => {
            let password = form.0.get("password").cloned().unwrap_or_default();
            let body = json!({ "password": password });
            signed.api.call(Method::POST, &path, Some(body)).await
        }
        _ => signed.api.call(Method::PUT, &path, Some(json!({}))).await,
    };
    signed.back(&answer, "/managers", done)
}

/// `GET /audit?page=N`: the issuer's audit log, newest first, [`PAGE_SIZE`] entries a page.
async fn audit(signed: Signed, Query(query): Query<HashMap<String, String>>) -> Response {
    let number: usize = query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let offset = (number - 1) * PAGE_SIZE;
    let answer = signed
        .api
        .get(&format!("/audit?limit={PAGE_SIZE}&offset={offset}"))
        .await;
    let rows = answer.body["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let count = answer.body["count"].as_u64().unwrap_or(0) as usize;
    let pages = count.div_ceil(PAGE_SIZE).max(1);
    let body = html! {
        @if !answer.ok() { (unavailable(&answer)) }
        @else if rows.is_empty() { p.muted { "Nothing recorded yet." } }
        @else {
            table {
                thead { tr { th { "When" } th { "Who" } th { "Role" } th { "Request" } th.num { "Status" } } }
                tbody {
                    @for entry in &rows {
                        tr {
                            td { (when(&entry["created"])) }
                            td { (text(&entry["username"])) }
                            td { (text(&entry["role"])) }
                            td.mono { (text(&entry["method"])) " " (text(&entry["path"])) }
                            td.num { (text(&entry["status"])) }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if number > 1 { a href={ "/audit?page=" (number - 1) } { "← Newer" } }
                span { "Page " (number) " of " (pages) " (" (count) " entries)" }
                @if number < pages { a href={ "/audit?page=" (number + 1) } { "Older →" } }
            }
        }
    };
    respond(&[&answer], page("Audit log", Some(&signed.session), body))
}
