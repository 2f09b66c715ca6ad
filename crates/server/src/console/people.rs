//! Registered users (list, add with a GAID) and categories (create, attach to registered users
//! and assets).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::api::Answer;
use super::layout::{
    checkbox, csrf, field, form_errors, page, paged, respond, text, unavailable, Errors,
};
use super::sorting::Sort;
use super::{Console, Form, Signed};

/// The registered-user and category routes of the console.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/registered_users", get(users))
        .route("/registered_users/add", post(add_user))
        .route("/categories", get(categories))
        .route("/categories/add", post(add_category))
        .route("/categories/attach", post(attach))
}

/// `GET /registered_users`: the table (paged) and the add form.
async fn users(signed: Signed, Query(query): Query<HashMap<String, String>>) -> Response {
    users_page(&signed, &query, &HashMap::new(), &Errors::new()).await
}

/// The columns the registered users can be sorted by.
const USER_COLUMNS: &[&str] = &["id", "name", "GAID", "is_company"];

async fn users_page(
    signed: &Signed,
    query: &HashMap<String, String>,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let page_number = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let sort = Sort::from_query(query, USER_COLUMNS, "id");
    let list = signed.api.get("/registered_users").await;
    let mut rows = list.body.as_array().cloned().unwrap_or_default();
    sort.apply(&mut rows);
    let link = format!("/registered_users?{}", sort.query());
    let (range, pager) = paged(&rows, page_number, &link, "page");
    let base = "/registered_users";
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let body = html! {
        form.card method="post" action="/registered_users/add" {
            h2 { "Add a registered user" }
            (csrf(&signed.session))
            (form_errors(errors, &["name", "GAID", "is_company"]))
            div.grid {
                (field("Name", "name", "text", value("name"), errors))
                (field("GAID", "GAID", "text", value("GAID"), errors))
            }
            (checkbox("Company", "is_company", value("is_company") == "on", errors))
            button type="submit" { "Add" }
        }
        @if !list.ok() { (unavailable(&list)) }
        @else if rows.is_empty() { p.muted { "No registered users yet." } }
        @else {
            table {
                thead { tr {
                    (sort.header("Id", "id", base, true))
                    (sort.header("Name", "name", base, false))
                    (sort.header("GAID", "GAID", base, false))
                    (sort.header("Company", "is_company", base, false))
                    th { "Categories" }
                } }
                tbody {
                    @for user in &rows[range] {
                        tr {
                            td.num { (text(&user["id"])) }
                            td { a href={ "/registered_users/" (text(&user["id"])) } { (text(&user["name"])) } }
                            td.mono { (text(&user["GAID"])) }
                            td { (if user["is_company"].as_bool() == Some(true) { "yes" } else { "no" }) }
                            td { (ids(&user["categories"])) }
                        }
                    }
                }
            }
            (pager)
        }
    };
    respond(
        &[&list],
        page("Registered users", Some(&signed.session), body),
    )
}

/// `POST /registered_users/add`: `POST /api/registered_users/add`.
async fn add_user(signed: Signed, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let mut body = json!({"name": form.text("name"), "is_company": form.checked("is_company")});
    if !form.text("GAID").is_empty() {
        body["GAID"] = Value::from(form.text("GAID"));
    }
    let answer = signed
        .api
        .call(Method::POST, "/registered_users/add", Some(body))
        .await;
    if answer.ok() {
        let name = text(&answer.body["name"]);
        let id = text(&answer.body["id"]);
        return signed.back(
            &answer,
            "/registered_users",
            &format!("Added {name} (id {id})."),
        );
    }
    with_status(
        users_page(&signed, &HashMap::new(), &form.0, &answer.errors()).await,
        &answer,
    )
}

/// A page answering a failed form keeps the API's status.
pub fn with_status(mut response: Response, answer: &Answer) -> Response {
    if response.status().is_success() && !answer.ok() {
        *response.status_mut() = answer.status;
    }
    response
}

fn ids(value: &Value) -> String {
    value
        .as_array()
        .map(|a| a.iter().map(text).collect::<Vec<_>>().join(", "))
        .unwrap_or_default()
}

/// `GET /categories`: the categories with their users and assets, the create and attach forms.
async fn categories(signed: Signed) -> Response {
    categories_page(&signed, &HashMap::new(), &Errors::new()).await
}

async fn categories_page(
    signed: &Signed,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let list = signed.api.get("/categories").await;
    let users = signed.api.get("/registered_users").await;
    let assets = signed.api.get("/assets").await;
    let rows = list.body.as_array().cloned().unwrap_or_default();
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let body = html! {
        @if !signed.session.is_manager() {
            form.card method="post" action="/categories/add" {
                h2 { "Create a category" }
                (csrf(&signed.session))
                (form_errors(errors, &["name", "description"]))
                div.grid {
                    (field("Name", "name", "text", value("name"), errors))
                    (field("Description", "description", "text", value("description"), errors))
                }
                button type="submit" { "Create" }
            }
            @if !rows.is_empty() {
                div.grid {
                    (attach_form(signed, &rows, "registered_user", "Registered user", &users, "id", "name"))
                    @if assets.ok() {
                        (attach_form(signed, &rows, "asset", "Asset", &assets, "asset_uuid", "name"))
                    }
                }
            }
        }
        @if !list.ok() { (unavailable(&list)) }
        @else if rows.is_empty() { p.muted { "No categories yet." } }
        @else {
            table {
                thead { tr { th.num { "Id" } th { "Name" } th { "Description" } th { "Registered users" } th { "Assets" } } }
                tbody {
                    @for category in &rows {
                        tr {
                            td.num { (text(&category["id"])) }
                            td { a href={ "/categories/" (text(&category["id"])) } { (text(&category["name"])) } }
                            td { (text(&category["description"])) }
                            td { (ids(&category["registered_users"])) }
                            td.mono { (ids(&category["assets"])) }
                        }
                    }
                }
            }
        }
    };
    respond(&[&list], page("Categories", Some(&signed.session), body))
}

/// A form attaching a category to one of `options` (`kind`: `registered_user` or `asset`).
fn attach_form(
    signed: &Signed,
    categories: &[Value],
    kind: &str,
    label: &str,
    options: &Answer,
    key: &str,
    name: &str,
) -> Markup {
    let options = options.body.as_array().cloned().unwrap_or_default();
    html! {
        form.card method="post" action="/categories/attach" {
            h2 { "Attach to a " (label.to_lowercase()) }
            (csrf(&signed.session))
            input type="hidden" name="kind" value=(kind);
            div.field {
                label for={ "c-" (kind) } { "Category" }
                select id={ "c-" (kind) } name="category" {
                    @for c in categories { option value=(text(&c["id"])) { (text(&c["name"])) } }
                }
            }
            div.field {
                label for={ "t-" (kind) } { (label) }
                select id={ "t-" (kind) } name="target" {
                    @for o in &options { option value=(text(&o[key])) { (text(&o[name])) } }
                }
            }
            button type="submit" { "Attach" }
        }
    }
}

/// `POST /categories/add`: `POST /api/categories/add`.
async fn add_category(signed: Signed, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let mut body = json!({"name": form.text("name")});
    if !form.text("description").is_empty() {
        body["description"] = Value::from(form.text("description"));
    }
    let answer = signed
        .api
        .call(Method::POST, "/categories/add", Some(body))
        .await;
    if answer.ok() {
        let name = text(&answer.body["name"]);
        return signed.back(&answer, "/categories", &format!("Created {name}."));
    }
    with_status(
        categories_page(&signed, &form.0, &answer.errors()).await,
        &answer,
    )
}

/// `POST /categories/attach`: `PUT /api/categories/{id}/registered_users/{user}/add` or
/// `…/assets/{uuid}/add`.
async fn attach(State(_): State<Console>, signed: Signed, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let segment = match form.text("kind") {
        "asset" => "assets",
        _ => "registered_users",
    };
    let path = format!(
        "/categories/{}/{segment}/{}/add",
        encode(form.text("category")),
        encode(form.text("target"))
    );
    let answer = signed.api.call(Method::PUT, &path, Some(json!({}))).await;
    signed.back(&answer, "/categories", "Attached.")
}

/// A form value as one path segment.
pub fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}
