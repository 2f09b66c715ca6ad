//! Payouts (a dividend or coupon paid pro rata to the holders at a record height): the create
//! form → the confirm file and the exact `amphora confirm payout` line; a payout's lines and its
//! progress, polled by htmx until it is confirmed; cancel.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::confirm_step::{download, fragment, ConfirmStep};
use super::figures::group;
use super::layout::{csrf, field, form_errors, page, respond, text, unavailable, when, Errors};
use super::people::{encode, with_status};
use super::{number_or_text, Console, Form, Signed};

/// The payout routes of the console.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/assets/{asset_uuid}/payouts", get(list))
        .route("/assets/{asset_uuid}/payouts/create", post(create))
        .route("/assets/{asset_uuid}/payouts/{id}", get(details))
        .route("/assets/{asset_uuid}/payouts/{id}/progress", get(progress))
        .route("/assets/{asset_uuid}/payouts/{id}/file", get(file))
        .route("/assets/{asset_uuid}/payouts/{id}/cancel", post(cancel))
}

/// The create form's fields: (label, name).
const FIELDS: &[(&str, &str)] = &[
    ("Asset paid (asset id, e.g. L-BTC's)", "payout_asset"),
    ("Total (base units of the asset paid)", "total_amount"),
    ("Record height (empty: the chain's tip)", "record_height"),
    ("Description", "description"),
];

/// `GET /assets/{uuid}/payouts`.
async fn list(
    State(console): State<Console>,
    signed: Signed,
    Path(uuid): Path<String>,
) -> Response {
    render_list(&console, &signed, &uuid, &HashMap::new(), &Errors::new()).await
}

async fn render_list(
    _console: &Console,
    signed: &Signed,
    uuid: &str,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let asset = signed.api.get(&format!("/assets/{uuid}")).await;
    let payouts = signed.api.get(&format!("/assets/{uuid}/payouts")).await;
    let rows = payouts.body.as_array().cloned().unwrap_or_default();
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let names: Vec<&str> = FIELDS.iter().map(|f| f.1).collect();
    let body = html! {
        p { a href={ "/assets/" (uuid) } { "← " (text(&asset.body["name"])) } }
        form.card method="post" action={ "/assets/" (uuid) "/payouts/create" } {
            h2 { "Create a payout" }
            p.muted { "Shares the total among the registered holders in proportion to their holdings at the record height; the treasury and unregistered holders are left out." }
            (csrf(&signed.session))
            (form_errors(errors, &names))
            div.grid {
                @for (label, name) in FIELDS { (field(label, name, "text", value(name), errors)) }
            }
            button type="submit" { "Make the confirm file" }
        }
        @if !payouts.ok() { (unavailable(&payouts)) }
        @else if rows.is_empty() { p.muted { "No payouts yet." } }
        @else {
            table {
                thead { tr { th { "Payout" } th { "Description" } th { "Status" } th.num { "Total" } th.num { "Record height" } } }
                tbody {
                    @for row in rows.iter().rev() {
                        tr {
                            td.mono { a href={ "/assets/" (uuid) "/payouts/" (text(&row["payout_uuid"])) } { (text(&row["payout_uuid"])) } }
                            td { (text(&row["description"])) }
                            td { (text(&row["payout_status"])) }
                            td.num { (group(row["total_amount"].as_u64().unwrap_or(0).into())) }
                            td.num { (text(&row["record_height"])) }
                        }
                    }
                }
            }
        }
    };
    respond(
        &[&asset, &payouts],
        page("Payouts", Some(&signed.session), body),
    )
}

/// `POST /assets/{uuid}/payouts/create`: `POST /api/assets/{uuid}/payouts/create`; the confirm
/// file is kept in the session for download.
async fn create(
    State(console): State<Console>,
    signed: Signed,
    Path(uuid): Path<String>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let mut body = Map::new();
    for (_, name) in FIELDS {
        let value = form.text(name);
        match *name {
            "record_height" if value.is_empty() => continue,
            "total_amount" | "record_height" => {
                body.insert(name.to_string(), number_or_text(value))
            }
            _ => body.insert(name.to_string(), Value::from(value)),
        };
    }
    let answer = signed
        .api
        .call(
            Method::POST,
            &format!("/assets/{uuid}/payouts/create"),
            Some(Value::Object(body)),
        )
        .await;
    match answer.body["payout_uuid"].as_str().filter(|_| answer.ok()) {
        Some(id) => {
            let id = id.to_string();
            let file = serde_json::to_string_pretty(&answer.body).unwrap_or_default();
            console
                .sessions
                .keep_file(&signed.parts_headers, id.clone(), file);
            signed.back(
                &answer,
                &format!("/assets/{uuid}/payouts/{id}"),
                "Created. Pay it with the command below.",
            )
        }
        None => with_status(
            render_list(&console, &signed, &uuid, &form.0, &answer.errors()).await,
            &answer,
        ),
    }
}

/// `GET /assets/{uuid}/payouts/{id}`: the payout's lines, its confirm step and progress.
async fn details(
    State(console): State<Console>,
    signed: Signed,
    Path((uuid, id)): Path<(String, String)>,
) -> Response {
    let answer = signed
        .api
        .get(&format!("/assets/{uuid}/payouts/{}", encode(&id)))
        .await;
    if !answer.ok() {
        let body = html! { (unavailable(&answer)) };
        return with_status(
            respond(&[&answer], page("Payout", Some(&signed.session), body)),
            &answer,
        );
    }
    let payout = &answer.body;
    let pending = payout["payout_status"] == "UNCONFIRMED";
    let step = ConfirmStep {
        command: "payout",
        file_name: format!("payout-{id}.json"),
        download: signed
            .session
            .file(&id)
            .map(|_| format!("/assets/{uuid}/payouts/{}/file", encode(&id))),
    };
    let lines = payout["lines"].as_array().cloned().unwrap_or_default();
    let body = html! {
        p { a href={ "/assets/" (uuid) "/payouts" } { "← Payouts" } }
        dl.facts {
            dt { "Description" } dd { (text(&payout["description"])) }
            dt { "Asset paid" } dd.mono { (text(&payout["payout_asset"])) }
            dt { "Total" } dd { (group(payout["total_amount"].as_u64().unwrap_or(0).into())) " base units" }
            dt { "Record height" } dd { (text(&payout["record_height"])) }
        }
        (progress_box(&uuid, &id, payout))
        @if pending {
            (step.card(&console, &signed, "Pay it"))
            form method="post" action={ "/assets/" (uuid) "/payouts/" (encode(&id)) "/cancel" } {
                (csrf(&signed.session))
                button.danger type="submit" { "Cancel the payout" }
            }
        }
        section {
            h2 { "Lines" }
            table {
                thead { tr { th.num { "Registered user" } th { "GAID" } th.num { "Holding" } th.num { "Paid" } th { "Output" } } }
                tbody {
                    @for line in &lines {
                        tr {
                            td.num { (text(&line["registered_user"])) }
                            td.mono { (text(&line["gaid"])) }
                            td.num { (group(line["holding"].as_u64().unwrap_or(0).into())) }
                            td.num { (group(line["amount"].as_u64().unwrap_or(0).into())) }
                            td.mono { @if !line["txid"].is_null() { (text(&line["txid"])) ":" (text(&line["vout"])) } }
                        }
                    }
                }
            }
        }
    };
    respond(&[&answer], page("Payout", Some(&signed.session), body))
}

/// The progress box: polled every 2 s by htmx while the payout waits for its payment.
fn progress_box(uuid: &str, id: &str, payout: &Value) -> Markup {
    let status = text(&payout["payout_status"]);
    let waiting = status == "UNCONFIRMED";
    let url = format!("/assets/{uuid}/payouts/{}/progress", encode(id));
    let transactions = payout["transactions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    html! {
        section.card.progress id="progress" aria-live="polite"
            hx-get=[waiting.then_some(&url)]
            hx-trigger=[waiting.then_some("every 2s")]
            hx-swap=[waiting.then_some("outerHTML")] {
            p {
                "Status: " strong id="payout-status" { (status) } " — "
                @if !waiting { "no longer waiting." }
                @else if transactions.is_empty() { "waiting for the payment and its confirmations…" }
                @else { "paid, waiting for the remaining transactions…" }
            }
            @for tx in &transactions {
                p.mono { (text(&tx["txid"])) " at block " (text(&tx["included_blockheight"])) ", " (when(&tx["confirmed_datetime"])) }
            }
        }
    }
}

/// `GET …/payouts/{id}/progress`: the progress box alone (htmx).
async fn progress(signed: Signed, Path((uuid, id)): Path<(String, String)>) -> Response {
    let answer = signed
        .api
        .get(&format!("/assets/{uuid}/payouts/{}", encode(&id)))
        .await;
    fragment(&answer, |body| progress_box(&uuid, &id, body))
}

/// `GET …/payouts/{id}/file`: the confirm file made in this session.
async fn file(signed: Signed, Path((_, id)): Path<(String, String)>) -> Response {
    download(&signed, &id, &format!("payout-{id}.json"))
}

/// `POST …/payouts/{id}/cancel`: `DELETE /api/assets/{uuid}/payouts/{id}/cancel`.
async fn cancel(signed: Signed, Path((uuid, id)): Path<(String, String)>, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let path = format!("/assets/{uuid}/payouts/{}/cancel", encode(&id));
    let answer = signed.api.call(Method::DELETE, &path, None).await;
    signed.back(
        &answer,
        &format!("/assets/{uuid}/payouts"),
        "Cancelled the payout.",
    )
}
