//! Assignments (create, delete) and distributions (create → the confirm file and the exact
//! `amphora confirm` line; a pending distribution's progress, polled by htmx; cancel).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{json, Value};

use super::confirm_step::{download, fragment, ConfirmStep};
use super::figures::amount_cell;
use super::layout::{
    checkbox, csrf, field, form_errors, page, respond, text, unavailable, when, Errors,
};
use super::people::{encode, with_status};
use super::sorting::Sort;
use super::{number_or_text, Console, Form, Signed};

/// The assignment and distribution routes of the console.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/assets/{asset_uuid}/assignments", get(assignments))
        .route("/assets/{asset_uuid}/assignments/create", post(assign))
        .route(
            "/assets/{asset_uuid}/assignments/{id}/{action}",
            post(change_assignment),
        )
        .route("/assets/{asset_uuid}/distributions", get(distributions))
        .route(
            "/assets/{asset_uuid}/distributions/create",
            post(create_distribution),
        )
        .route("/assets/{asset_uuid}/distributions/{id}", get(distribution))
        .route(
            "/assets/{asset_uuid}/distributions/{id}/progress",
            get(progress),
        )
        .route("/assets/{asset_uuid}/distributions/{id}/file", get(file))
        .route(
            "/assets/{asset_uuid}/distributions/{id}/cancel",
            post(cancel),
        )
}

fn precision(asset: &Value) -> u8 {
    asset["precision"].as_u64().unwrap_or(0).min(8) as u8
}

/// `GET /assets/{uuid}/assignments`.
async fn assignments(
    signed: Signed,
    Path(uuid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let sort = Sort::from_query(&query, ASSIGNMENT_COLUMNS, "id");
    assignments_page(&signed, &uuid, &sort, &HashMap::new(), &Errors::new()).await
}

/// The columns assignments can be sorted by.
const ASSIGNMENT_COLUMNS: &[&str] = &[
    "id",
    "registered_user",
    "amount",
    "ready_for_distribution",
    "vesting_datetime",
    "is_distributed",
    "is_locked",
];

async fn assignments_page(
    signed: &Signed,
    uuid: &str,
    sort: &Sort,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let asset = signed.api.get(&format!("/assets/{uuid}")).await;
    let list = signed.api.get(&format!("/assets/{uuid}/assignments")).await;
    let users = signed.api.get("/registered_users").await;
    let precision = precision(&asset.body);
    let mut rows = list.body.as_array().cloned().unwrap_or_default();
    sort.apply(&mut rows);
    let base = format!("/assets/{uuid}/assignments");
    let base = base.as_str();
    let names: HashMap<String, String> = users
        .body
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| (text(&u["id"]), text(&u["name"])))
        .collect();
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let shown = [
        "registered_user",
        "amount",
        "ready_for_distribution",
        "vesting_timestamp",
    ];
    let body = html! {
        p { a href={ "/assets/" (uuid) } { "← " (text(&asset.body["name"])) } }
        form.card method="post" action={ "/assets/" (uuid) "/assignments/create" } {
            h2 { "Assign" }
            (csrf(&signed.session))
            (form_errors(errors, &shown))
            div.grid {
                div.field {
                    label for="f-registered_user" { "Registered user" }
                    select id="f-registered_user" name="registered_user" {
                        @for (id, name) in &names {
                            option value=(id) selected[value("registered_user") == id] { (name) " (" (id) ")" }
                        }
                    }
                    @if let Some(message) = errors.get("registered_user") { p.error role="alert" { (message) } }
                }
                (field("Amount (base units)", "amount", "text", value("amount"), errors))
                (field("Vesting (Unix time, optional)", "vesting_timestamp", "text", value("vesting_timestamp"), errors))
            }
            (checkbox("Ready for distribution", "ready_for_distribution", values.is_empty() || value("ready_for_distribution") == "on", errors))
            button type="submit" { "Assign" }
        }
        @if !list.ok() { (unavailable(&list)) }
        @else if rows.is_empty() { p.muted { "No assignments yet." } }
        @else {
            table {
                thead { tr {
                    (sort.header("Id", "id", base, true))
                    (sort.header("Registered user", "registered_user", base, false))
                    (sort.header("Amount", "amount", base, true))
                    (sort.header("Ready", "ready_for_distribution", base, false))
                    (sort.header("Vesting", "vesting_datetime", base, false))
                    (sort.header("Distributed", "is_distributed", base, false))
                    (sort.header("Locked", "is_locked", base, false))
                    th {}
                } }
                tbody {
                    @for row in &rows {
                        @let user = text(&row["registered_user"]);
                        tr {
                            td.num { (text(&row["id"])) }
                            td { (names.get(&user).cloned().unwrap_or(user.clone())) }
                            td.num { (amount_cell(row["amount"].as_i64().unwrap_or(0), precision)) }
                            td { (yes(&row["ready_for_distribution"])) }
                            td {
                                @if !row["vesting_datetime"].is_null() {
                                    (when(&row["vesting_datetime"]))
                                    (if row["has_vested"].as_bool() == Some(true) { " (vested)" } else { " (not yet)" })
                                }
                            }
                            td { (yes(&row["is_distributed"])) }
                            td { (yes(&row["is_locked"])) }
                            td {
                                @if row["is_distributed"].as_bool() != Some(true) {
                                    @let locked = row["is_locked"].as_bool() == Some(true);
                                    @for (action, label) in [(if locked { "unlock" } else { "lock" }, if locked { "Unlock" } else { "Lock" }), ("delete", "Delete")] {
                                        form.inline method="post" action={ "/assets/" (uuid) "/assignments/" (text(&row["id"])) "/" (action) } {
                                            (csrf(&signed.session))
                                            button.small type="submit" { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        &[&asset, &list],
        page("Assignments", Some(&signed.session), body),
    )
}

fn yes(value: &Value) -> &'static str {
    if value.as_bool() == Some(true) {
        "yes"
    } else {
        "no"
    }
}

/// `POST /assets/{uuid}/assignments/create`: one assignment through
/// `POST /api/assets/{uuid}/assignments/create`.
async fn assign(signed: Signed, Path(uuid): Path<String>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let mut item = json!({
        "registered_user": number_or_text(form.text("registered_user")),
        "amount": number_or_text(form.text("amount")),
        "ready_for_distribution": form.checked("ready_for_distribution"),
    });
    if !form.text("vesting_timestamp").is_empty() {
        item["vesting_timestamp"] = number_or_text(form.text("vesting_timestamp"));
    }
    let path = format!("/assets/{uuid}/assignments/create");
    let answer = signed
        .api
        .call(Method::POST, &path, Some(json!({ "assignments": [item] })))
        .await;
    if answer.ok() {
        return signed.back(&answer, &format!("/assets/{uuid}/assignments"), "Assigned.");
    }
    with_status(
        assignments_page(
            &signed,
            &uuid,
            &Sort::from_query(&HashMap::new(), ASSIGNMENT_COLUMNS, "id"),
            &form.0,
            &answer.errors(),
        )
        .await,
        &answer,
    )
}

/// `POST /assets/{uuid}/assignments/{id}/{lock|unlock|delete}`: the API's `PUT …/lock`,
/// `PUT …/unlock` or `DELETE …/delete`.
async fn change_assignment(
    signed: Signed,
    Path((uuid, id, action)): Path<(String, String, String)>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let (method, done) = match action.as_str() {
        "lock" => (Method::PUT, "Locked the assignment."),
        "unlock" => (Method::PUT, "Unlocked the assignment."),
        "delete" => (Method::DELETE, "Deleted the assignment."),
        _ => return crate::error::ApiError::NotFound.into_response(),
    };
    let path = format!("/assets/{uuid}/assignments/{}/{action}", encode(&id));
    let body = (method == Method::PUT).then(|| json!({}));
    let answer = signed.api.call(method, &path, body).await;
    signed.back(&answer, &format!("/assets/{uuid}/assignments"), done)
}

/// `GET /assets/{uuid}/distributions`: the list and the create button.
async fn distributions(signed: Signed, Path(uuid): Path<String>) -> Response {
    let asset = signed.api.get(&format!("/assets/{uuid}")).await;
    let list = signed
        .api
        .get(&format!("/assets/{uuid}/distributions"))
        .await;
    let rows = list.body.as_array().cloned().unwrap_or_default();
    let body = html! {
        p { a href={ "/assets/" (uuid) } { "← " (text(&asset.body["name"])) } }
        form.card method="post" action={ "/assets/" (uuid) "/distributions/create" } {
            (csrf(&signed.session))
            p { "Pays every assignment that is ready for distribution and not yet distributed." }
            button type="submit" { "Create a distribution" }
        }
        @if !list.ok() { (unavailable(&list)) }
        @else if rows.is_empty() { p.muted { "No distributions yet." } }
        @else {
            table {
                thead { tr { th.num { "Id" } th { "Distribution" } th { "Status" } th.num { "Transactions" } } }
                tbody {
                    @for row in rows.iter().rev() {
                        tr {
                            td.num { (text(&row["id"])) }
                            td.mono { a href={ "/assets/" (uuid) "/distributions/" (text(&row["distribution_uuid"])) } { (text(&row["distribution_uuid"])) } }
                            td { (text(&row["distribution_status"])) }
                            td.num { (row["transactions"].as_array().map_or(0, Vec::len)) }
                        }
                    }
                }
            }
        }
    };
    respond(
        &[&asset, &list],
        page("Distributions", Some(&signed.session), body),
    )
}

/// `POST /assets/{uuid}/distributions/create`: `GET /api/assets/{uuid}/distributions/create`;
/// the confirm file is kept in the session for download.
async fn create_distribution(
    State(console): State<Console>,
    signed: Signed,
    Path(uuid): Path<String>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let answer = signed
        .api
        .get(&format!("/assets/{uuid}/distributions/create"))
        .await;
    let back = format!("/assets/{uuid}/distributions");
    match answer.body["distribution_uuid"]
        .as_str()
        .filter(|_| answer.ok())
    {
        Some(id) => {
            let id = id.to_string();
            let file = serde_json::to_string_pretty(&answer.body).unwrap_or_default();
            console
                .sessions
                .keep_file(&signed.parts_headers, id.clone(), file);
            signed.back(
                &answer,
                &format!("{back}/{id}"),
                "Created. Pay it with the command below.",
            )
        }
        None => signed.back(&answer, &back, ""),
    }
}

/// `GET /assets/{uuid}/distributions/{id}`: the distribution, its confirm step, its progress.
async fn distribution(
    State(console): State<Console>,
    signed: Signed,
    Path((uuid, id)): Path<(String, String)>,
) -> Response {
    let answer = signed
        .api
        .get(&format!("/assets/{uuid}/distributions/{}", encode(&id)))
        .await;
    if !answer.ok() {
        let body = html! { (unavailable(&answer)) };
        return with_status(
            respond(
                &[&answer],
                page("Distribution", Some(&signed.session), body),
            ),
            &answer,
        );
    }
    let pending = answer.body["distribution_status"] != "CONFIRMED";
    let step = ConfirmStep {
        command: "distribute",
        file_name: format!("distribution-{id}.json"),
        download: signed
            .session
            .file(&id)
            .map(|_| format!("/assets/{uuid}/distributions/{}/file", encode(&id))),
    };
    let body = html! {
        p { a href={ "/assets/" (uuid) "/distributions" } { "← Distributions" } }
        (progress_box(&uuid, &id, &answer.body))
        @if pending {
            (step.card(&console, &signed, "Pay it"))
            form method="post" action={ "/assets/" (uuid) "/distributions/" (id) "/cancel" } {
                (csrf(&signed.session))
                button.danger type="submit" { "Cancel the distribution" }
            }
        }
    };
    respond(
        &[&answer],
        page("Distribution", Some(&signed.session), body),
    )
}

/// The progress box: polled every 2 s by htmx while the distribution waits.
fn progress_box(uuid: &str, id: &str, distribution: &Value) -> Markup {
    let status = text(&distribution["distribution_status"]);
    let confirmed = status == "CONFIRMED";
    let transactions = distribution["transactions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let url = format!("/assets/{uuid}/distributions/{id}/progress");
    html! {
        section.card.progress id="progress" aria-live="polite"
            hx-get=[(!confirmed).then_some(&url)]
            hx-trigger=[(!confirmed).then_some("every 2s")]
            hx-swap=[(!confirmed).then_some("outerHTML")] {
            p {
                "Status: " strong id="distribution-status" { (status) } " — "
                @if confirmed { "done: the payment has its confirmations." }
                @else if transactions.is_empty() { "waiting for the payment and its confirmations…" }
                @else { "paid, waiting for the remaining transactions…" }
            }
            @for tx in &transactions {
                p.mono { (text(&tx["txid"])) " at block " (text(&tx["included_blockheight"])) }
            }
        }
    }
}

/// `GET /assets/{uuid}/distributions/{id}/progress`: the progress box alone (htmx).
async fn progress(signed: Signed, Path((uuid, id)): Path<(String, String)>) -> Response {
    let answer = signed
        .api
        .get(&format!("/assets/{uuid}/distributions/{}", encode(&id)))
        .await;
    fragment(&answer, |body| progress_box(&uuid, &id, body))
}

/// `GET /assets/{uuid}/distributions/{id}/file`: the confirm file made in this session.
async fn file(signed: Signed, Path((_, id)): Path<(String, String)>) -> Response {
    download(&signed, &id, &format!("distribution-{id}.json"))
}

/// `POST /assets/{uuid}/distributions/{id}/cancel`.
async fn cancel(signed: Signed, Path((uuid, id)): Path<(String, String)>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let path = format!("/assets/{uuid}/distributions/{}/cancel", encode(&id));
    let answer = signed.api.call(Method::DELETE, &path, None).await;
    signed.back(
        &answer,
        &format!("/assets/{uuid}/distributions"),
        "Cancelled the distribution.",
    )
}
