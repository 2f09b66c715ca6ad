//! A registered user's page: its details and name edit, its GAIDs (add, set the default) and
//! its figures per asset.

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde_json::{json, Value};

use super::figures::amount_cell;
use super::layout::{csrf, field, form_errors, page, respond, text, unavailable, Errors};
use super::people::{encode, with_status};
use super::{Console, Form, Signed};

/// The registered-user page routes of the console.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/registered_users/{id}", get(user))
        .route("/registered_users/{id}/{action}", post(change))
}

/// `GET /registered_users/{id}`.
async fn user(signed: Signed, Path(id): Path<String>) -> Response {
    user_page(&signed, &id, &HashMap::new(), &Errors::new()).await
}

async fn user_page(
    signed: &Signed,
    id: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let id = encode(id);
    let user = signed.api.get(&format!("/registered_users/{id}")).await;
    if !user.ok() {
        let body = html! { (unavailable(&user)) };
        let page = page("Registered user", Some(&signed.session), body);
        return with_status(respond(&[&user], page), &user);
    }
    let gaids = signed
        .api
        .get(&format!("/registered_users/{id}/gaids"))
        .await;
    let summary = signed
        .api
        .get(&format!("/registered_users/{id}/summary"))
        .await;
    let default = text(&user.body["GAID"]);
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let name = values
        .get("name")
        .cloned()
        .unwrap_or_else(|| text(&user.body["name"]));
    let body = html! {
        p { a href="/registered_users" { "← Registered users" } }
        dl.facts {
            dt { "Id" } dd { (id) }
            dt { "Company" } dd { (if user.body["is_company"].as_bool() == Some(true) { "yes" } else { "no" }) }
            dt { "Categories" } dd { (user.body["categories"].as_array().map_or(0, Vec::len)) }
        }
        div.grid {
            form.card method="post" action={ "/registered_users/" (id) "/edit" } {
                h2 { "Edit" }
                (csrf(&signed.session))
                (form_errors(errors, &["name", "GAID"]))
                (field("Name", "name", "text", &name, errors))
                button type="submit" { "Save" }
            }
            div.card {
                h2 { "GAIDs" }
                @if !gaids.ok() { (unavailable(&gaids)) }
                @for gaid in gaids.body.as_array().into_iter().flatten() {
                    @let gaid = text(gaid);
                    form method="post" action={ "/registered_users/" (id) "/set-default" } {
                        (csrf(&signed.session))
                        input type="hidden" name="GAID" value=(gaid);
                        span.mono { (gaid) } " "
                        @if gaid == default { strong { "default" } }
                        @else { button.small type="submit" { "Make default" } }
                    }
                }
                form method="post" action={ "/registered_users/" (id) "/add-gaid" } {
                    (csrf(&signed.session))
                    (field("Add a GAID", "GAID", "text", value("GAID"), errors))
                    button type="submit" { "Add" }
                }
            }
        }
        section {
            h2 { "Per asset" }
            @if !summary.ok() { (unavailable(&summary)) }
            @else if summary.body.as_array().is_none_or(Vec::is_empty) { p.muted { "Nothing assigned yet." } }
            @else {
                table {
                    thead { tr { th { "Asset" } th.num { "Assigned" } th.num { "Distributed" } th.num { "Balance" } } }
                    tbody {
                        @for row in summary.body.as_array().into_iter().flatten() {
                            tr {
                                td { a href={ "/assets/" (text(&row["asset_uuid"])) } { (text(&row["asset_uuid"])) } }
                                td.num { (amount_cell(row["assignments_sum"].as_i64().unwrap_or(0), 0)) }
                                td.num { (amount_cell(row["distributions_sum"].as_i64().unwrap_or(0), 0)) }
                                td.num { (amount_cell(row["balance"].as_i64().unwrap_or(0), 0)) }
                            }
                        }
                    }
                }
                p.muted { "In base units." }
            }
        }
    };
    let title = text(&user.body["name"]);
    respond(
        &[&user, &gaids, &summary],
        page(&title, Some(&signed.session), body),
    )
}

/// `POST /registered_users/{id}/{edit|add-gaid|set-default}`: the API's `PUT …/edit`,
/// `POST …/gaids/add` or `POST …/gaids/set-default`.
async fn change(
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let user = encode(&id);
    let gaid = json!({"GAID": form.text("GAID")});
    let (method, path, body, done): (Method, String, Value, &str) = match action.as_str() {
        "edit" => (
            Method::PUT,
            format!("/registered_users/{user}/edit"),
            json!({"name": form.text("name")}),
            "Saved.",
        ),
        "add-gaid" => (
            Method::POST,
            format!("/registered_users/{user}/gaids/add"),
            gaid,
            "Added the GAID.",
        ),
        "set-default" => (
            Method::POST,
            format!("/registered_users/{user}/gaids/set-default"),
            gaid,
            "This GAID is now the default.",
        ),
        _ => return axum::response::IntoResponse::into_response(crate::error::ApiError::NotFound),
    };
    let answer = signed.api.call(method, &path, Some(body)).await;
    if answer.ok() || action == "set-default" {
        return signed.back(&answer, &format!("/registered_users/{user}"), done);
    }
    let mut errors = answer.errors();
    if action == "add-gaid" {
        // a refused GAID is the GAID field's message, whatever shape the API gave it
        if let Some(message) = errors.remove("") {
            errors.insert("GAID".to_string(), message);
        }
    }
    with_status(user_page(&signed, &id, &form.0, &errors).await, &answer)
}
