//! A category's page: rename it and change its description, see and detach its registered
//! users and assets, delete it.

use std::collections::HashMap;

use axum::extract::Path;
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::html;
use serde_json::{json, Value};

use super::layout::{csrf, field, form_errors, page, respond, text, unavailable, Errors};
use super::people::{encode, with_status};
use super::{Console, Form, Signed};

/// The category page's routes.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/categories/{id}", get(details))
        .route("/categories/{id}/edit", post(edit))
        .route("/categories/{id}/detach", post(detach))
        .route("/categories/{id}/delete", post(delete))
}

/// `GET /categories/{id}`.
async fn details(signed: Signed, Path(id): Path<String>) -> Response {
    render(&signed, &id, &HashMap::new(), &Errors::new()).await
}

async fn render(
    signed: &Signed,
    id: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let category = signed.api.get(&format!("/categories/{}", encode(id))).await;
    if !category.ok() {
        let body = html! { (unavailable(&category)) p { a href="/categories" { "Back to the categories" } } };
        return with_status(
            respond(&[&category], page("Category", Some(&signed.session), body)),
            &category,
        );
    }
    let users = signed.api.get("/registered_users").await;
    let assets = signed.api.get("/assets").await;
    let name_of = |list: &Value, key: &str, wanted: &Value| {
        list.as_array()
            .into_iter()
            .flatten()
            .find(|row| &row[key] == wanted)
            .map(|row| text(&row["name"]))
            .unwrap_or_else(|| text(wanted))
    };
    let value =
        |name: &str, current: &Value| values.get(name).cloned().unwrap_or_else(|| text(current));
    let manager = signed.session.is_manager();
    let c = &category.body;
    let body = html! {
        p { a href="/categories" { "← Categories" } }
        @if !manager {
            form.card method="post" action={ "/categories/" (encode(id)) "/edit" } {
                h2 { "Edit" }
                (csrf(&signed.session))
                (form_errors(errors, &["name", "description"]))
                div.grid {
                    (field("Name", "name", "text", &value("name", &c["name"]), errors))
                    (field("Description", "description", "text", &value("description", &c["description"]), errors))
                }
                button type="submit" { "Save" }
            }
        }
        @for (kind, title, key, list) in [("registered_users", "Registered users", "id", &users.body),
                                          ("assets", "Assets", "asset_uuid", &assets.body)] {
            section {
                h2 { (title) }
                @let members = c[kind].as_array().cloned().unwrap_or_default();
                @if members.is_empty() { p.muted { "None." } }
                @else {
                    table {
                        tbody {
                            @for member in &members {
                                tr {
                                    td { (name_of(list, key, member)) }
                                    td.mono { (text(member)) }
                                    td {
                                        @if !manager {
                                            form.inline method="post" action={ "/categories/" (encode(id)) "/detach" } {
                                                (csrf(&signed.session))
                                                input type="hidden" name="kind" value=(kind);
                                                input type="hidden" name="target" value=(text(member));
                                                button.small type="submit" { "Detach" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !manager {
            form method="post" action={ "/categories/" (encode(id)) "/delete" } {
                (csrf(&signed.session))
                button.danger type="submit" { "Delete the category" }
            }
        }
    };
    let title = format!("Category {}", text(&c["name"]));
    respond(
        &[&category, &users],
        page(&title, Some(&signed.session), body),
    )
}

/// `POST /categories/{id}/edit`: `PUT /api/categories/{id}/edit`.
async fn edit(signed: Signed, Path(id): Path<String>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let body = json!({ "name": form.text("name"), "description": form.text("description") });
    let path = format!("/categories/{}/edit", encode(&id));
    let answer = signed.api.call(Method::PUT, &path, Some(body)).await;
    if answer.ok() {
        return signed.back(&answer, &format!("/categories/{}", encode(&id)), "Saved.");
    }
    with_status(
        render(&signed, &id, &form.0, &answer.errors()).await,
        &answer,
    )
}

/// `POST /categories/{id}/detach`: `PUT /api/categories/{id}/{registered_users|assets}/{t}/remove`.
async fn detach(signed: Signed, Path(id): Path<String>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let kind = match form.text("kind") {
        "assets" => "assets",
        "registered_users" => "registered_users",
        _ => return axum::response::IntoResponse::into_response(crate::error::ApiError::NotFound),
    };
    let path = format!(
        "/categories/{}/{kind}/{}/remove",
        encode(&id),
        encode(form.text("target"))
    );
    let answer = signed.api.call(Method::PUT, &path, Some(json!({}))).await;
    signed.back(
        &answer,
        &format!("/categories/{}", encode(&id)),
        "Detached.",
    )
}

/// `POST /categories/{id}/delete`: `DELETE /api/categories/{id}/delete`; back to the list.
async fn delete(signed: Signed, Path(id): Path<String>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let path = format!("/categories/{}/delete", encode(&id));
    let answer = signed.api.call(Method::DELETE, &path, None).await;
    match answer.ok() {
        true => signed.back(&answer, "/categories", "Deleted the category."),
        false => signed.back(&answer, &format!("/categories/{}", encode(&id)), ""),
    }
}
