//! Asset pages: the list, the issue form, and an asset's page (summary figures, the cap table
//! with its share chart, activities, lock and unlock, and for issuers links to reissuance, burn
//! and the outputs with their blacklist).

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::api::Answer;
use super::figures::{amount_cell, group, share_chart};
use super::layout::{
    checkbox, csrf, field, form_errors, page, paged, respond, text, unavailable, when, Errors,
};
use super::session::Role;
use super::{number_or_text, Console, Form, Signed};

/// The asset routes of the console.
pub fn routes() -> Router<Console> {
    Router::new()
        .route("/assets/issue", get(issue_form).post(issue))
        .route("/assets/{asset_uuid}", get(details))
        .route("/assets/{asset_uuid}/lock", post(lock))
        .route("/assets/{asset_uuid}/unlock", post(unlock))
}

/// `GET /`: the assets the signed-in user may see (an issuer's `GET /api/assets`; a manager's
/// granted assets one by one, as the access table lets it read only those).
pub async fn list(signed: Signed) -> Response {
    let (assets, answers) = match &signed.session.role {
        Role::Issuer => {
            let answer = signed.api.get("/assets").await;
            let rows = answer.body.as_array().cloned().unwrap_or_default();
            (rows, vec![answer])
        }
        Role::Manager => {
            // the grants as they are now (the issuer may have changed them since sign-in)
            let me = signed.api.get("/managers/me").await;
            let granted: Vec<String> = me.body["assets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|u| u.as_str().map(str::to_owned))
                .collect();
            let mut rows = Vec::new();
            let mut answers = vec![me];
            for uuid in &granted {
                let answer = signed.api.get(&format!("/assets/{uuid}")).await;
                if answer.ok() {
                    rows.push(answer.body.clone());
                }
                answers.push(answer);
            }
            (rows, answers)
        }
    };
    let body = html! {
        @if !signed.session.is_manager() {
            p { a.button href="/assets/issue" { "Issue an asset" } }
        }
        @if let Some(failed) = answers.iter().find(|a| !a.ok() && a.status != 404) {
            (unavailable(failed))
        }
        @if assets.is_empty() {
            p.muted { "No assets yet." }
        } @else {
            table {
                thead { tr { th { "Name" } th { "Ticker" } th { "Precision" } th { "State" } th { "Asset id" } } }
                tbody {
                    @for asset in &assets {
                        tr {
                            td { a href={ "/assets/" (text(&asset["asset_uuid"])) } { (text(&asset["name"])) } }
                            td { (text(&asset["ticker"])) }
                            td.num { (text(&asset["precision"])) }
                            td { (state(asset)) }
                            td.mono { (short(&text(&asset["asset_id"]))) }
                        }
                    }
                }
            }
        }
    };
    let refs: Vec<&Answer> = answers.iter().collect();
    respond(&refs, page("Assets", Some(&signed.session), body))
}

fn state(asset: &Value) -> &'static str {
    match (
        asset["is_locked"].as_bool(),
        asset["is_registered"].as_bool(),
    ) {
        (Some(true), _) => "Locked",
        (_, Some(true)) => "Registered",
        _ => "Active",
    }
}

fn short(id: &str) -> String {
    match id.len() > 16 {
        true => format!("{}…{}", &id[..8], &id[id.len() - 8..]),
        false => id.to_string(),
    }
}

/// Every field of `POST /api/assets/issue`: (label, name, input type).
const ISSUE_FIELDS: &[(&str, &str, &str)] = &[
    ("Name", "name", "text"),
    ("Amount (base units)", "amount", "text"),
    ("Precision (0–8)", "precision", "text"),
    (
        "Destination address (treasury)",
        "destination_address",
        "text",
    ),
    ("Domain", "domain", "text"),
    ("Ticker", "ticker", "text"),
    ("Issuer public key (hex)", "pubkey", "text"),
    ("Reissuance tokens", "reissuance_amount", "text"),
    ("Reissuance token address", "reissuance_address", "text"),
    (
        "Issuer authorization endpoint",
        "issuer_authorization_endpoint",
        "url",
    ),
];
const ISSUE_FLAGS: &[(&str, &str)] = &[
    ("Confidential", "is_confidential"),
    ("Reissuable", "is_reissuable"),
    ("Transfer restricted", "transfer_restricted"),
];
const NUMBERS: &[&str] = &["amount", "precision", "reissuance_amount"];

/// `GET /assets/issue`.
async fn issue_form(State(console): State<Console>, signed: Signed) -> Response {
    let mut values = HashMap::new();
    if let Some(sandbox) = &console.sandbox {
        values.insert(
            "destination_address".to_string(),
            sandbox.treasury_address.clone(),
        );
    }
    values.insert("precision".to_string(), "0".to_string());
    values.insert("transfer_restricted".to_string(), "on".to_string());
    respond(&[], issue_page(&console, &signed, &values, &Errors::new()))
}

fn issue_page(
    console: &Console,
    signed: &Signed,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Markup {
    let shown: Vec<&str> = ISSUE_FIELDS
        .iter()
        .map(|f| f.1)
        .chain(ISSUE_FLAGS.iter().map(|f| f.1))
        .collect();
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let body = html! {
        form.card method="post" action="/assets/issue" {
            (csrf(&signed.session))
            (form_errors(errors, &shown))
            @if console.sandbox.is_some() {
                p.muted { "Sandbox: the destination is the embedded node's treasury wallet." }
            }
            div.grid {
                @for (label, name, kind) in ISSUE_FIELDS {
                    (field(label, name, kind, value(name), errors))
                }
            }
            @for (label, name) in ISSUE_FLAGS {
                (checkbox(label, name, matches!(value(name), "on" | "true"), errors))
            }
            button type="submit" { "Issue" }
        }
    };
    page("Issue an asset", Some(&signed.session), body)
}

/// `POST /assets/issue`: the form as `POST /api/assets/issue`; the new asset's page, or the
/// form again with the API's messages.
async fn issue(State(console): State<Console>, signed: Signed, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let mut body = Map::new();
    for (_, name, _) in ISSUE_FIELDS {
        let value = form.text(name);
        if value.is_empty() {
            continue;
        }
        let json = match NUMBERS.contains(name) {
            true => number_or_text(value),
            false => Value::from(value),
        };
        body.insert(name.to_string(), json);
    }
    for (_, name) in ISSUE_FLAGS {
        body.insert(name.to_string(), Value::from(form.checked(name)));
    }
    let answer = signed
        .api
        .call(Method::POST, "/assets/issue", Some(Value::Object(body)))
        .await;
    match answer.body["asset_uuid"].as_str().filter(|_| answer.ok()) {
        Some(uuid) => signed.back(
            &answer,
            &format!("/assets/{uuid}"),
            "Issued. The asset can be assigned once its issuance has 2 confirmations.",
        ),
        None => {
            let page = issue_page(&console, &signed, &form.0, &answer.errors());
            let status = answer.status;
            let mut response = respond(&[&answer], page);
            if response.status().is_success() {
                *response.status_mut() = status;
            }
            response
        }
    }
}

/// `GET /assets/{uuid}`: what the signed-in user may see of the asset. Sections the access
/// table closes to a manager are left out.
async fn details(
    signed: Signed,
    Path(uuid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let api = &signed.api;
    let asset = api.get(&format!("/assets/{uuid}")).await;
    if !asset.ok() {
        let body = html! { (unavailable(&asset)) p { a href="/" { "Back to the assets" } } };
        let mut response = respond(&[&asset], page("Asset", Some(&signed.session), body));
        if response.status().is_success() {
            *response.status_mut() = asset.status;
        }
        return response;
    }
    let summary = api.get(&format!("/assets/{uuid}/summary")).await;
    let owners = api.get(&format!("/assets/{uuid}/ownerships")).await;
    let activities = api.get(&format!("/assets/{uuid}/activities")).await;
    let (settings, settings_answers) = match signed.session.is_manager() {
        true => (html! {}, Vec::new()),
        false => super::asset_settings::section(&signed, &uuid).await,
    };
    let admin = match signed.session.is_manager() {
        true => html! {},
        false => super::asset_admin::section(&signed, &uuid, &asset.body),
    };
    let precision = asset.body["precision"].as_u64().unwrap_or(0).min(8) as u8;
    let number = |key: &str| query.get(key).and_then(|p| p.parse().ok()).unwrap_or(1);
    let link = format!("/assets/{uuid}");
    let locked = asset.body["is_locked"].as_bool().unwrap_or(false);
    let body = html! {
        dl.facts {
            dt { "Ticker" } dd { (text(&asset.body["ticker"])) }
            dt { "Precision" } dd { (precision) }
            dt { "State" } dd { (state(&asset.body)) }
            dt { "Asset id" } dd.mono { (text(&asset.body["asset_id"])) }
            dt { "Domain" } dd { (text(&asset.body["domain"])) }
        }
        nav.actions {
            a.button href={ "/assets/" (uuid) "/assignments" } { "Assignments" }
            @if !signed.session.is_manager() {
                a.button href={ "/assets/" (uuid) "/distributions" } { "Distributions" }
                a.button href={ "/assets/" (uuid) "/payouts" } { "Payouts" }
                a.button href={ "/assets/" (uuid) "/reissuances" } { "Reissue" }
                a.button href={ "/assets/" (uuid) "/burns" } { "Burn" }
                a.button href={ "/assets/" (uuid) "/outputs" } { "Outputs and blacklist" }
                form method="post" action={ "/assets/" (uuid) (if locked { "/unlock" } else { "/lock" }) } {
                    (csrf(&signed.session))
                    button type="submit" { (if locked { "Unlock" } else { "Lock" }) }
                }
            }
        }
        @if summary.ok() { (figures(&summary.body, precision)) }
        @if owners.status != 403 {
            section {
                h2 { "Holders (cap table)" }
                @if owners.ok() {
                    (cap_table(&owners.body, precision, number("page"), &link,
                        query.get("sort").map_or("amount", String::as_str)))
                }
                @else { (unavailable(&owners)) }
            }
        }
        (admin)
        (settings)
        @if activities.status != 403 {
            section {
                h2 { "Activities" }
                @if activities.ok() { (activity_table(&activities.body, precision, number("apage"), &link)) }
                @else { (unavailable(&activities)) }
            }
        }
    };
    let title = text(&asset.body["name"]);
    let mut answers = vec![&asset, &summary, &owners, &activities];
    answers.extend(settings_answers.iter());
    respond(&answers, page(&title, Some(&signed.session), body))
}

fn figures(summary: &Value, precision: u8) -> Markup {
    let units = |key: &str| summary[key].as_i64().unwrap_or(0);
    html! {
        section.figures aria-label="Summary" {
            @for (label, key) in [("Issued", "issued"), ("Reissued", "reissued"), ("Burned", "burned"),
                ("Assigned", "assigned"), ("Distributed", "distributed"), ("Blacklisted", "blacklisted")] {
                div.figure { span.label { (label) } span.value { (amount_cell(units(key), precision)) } }
            }
            div.figure { span.label { "Registered users" } span.value { (group(u128::from(units("registered_users").unsigned_abs()))) } }
        }
    }
}

/// The cap table, largest holding first (`sort=amount`) or by holder (`sort=holder`), paged.
fn cap_table(owners: &Value, precision: u8, page_number: usize, link: &str, sort: &str) -> Markup {
    let mut rows = owners.as_array().cloned().unwrap_or_default();
    let label = |row: &Value| match (row["owner"].as_str(), row["GAID"].as_str()) {
        (Some(owner), _) if !owner.is_empty() => owner.to_string(),
        (_, Some(gaid)) => gaid.to_string(),
        _ => "Treasury / unregistered".to_string(),
    };
    let by_holder = sort == "holder";
    rows.sort_by(|a, b| {
        let amounts = b["amount"].as_i64().cmp(&a["amount"].as_i64());
        let labels = label(a).cmp(&label(b));
        match by_holder {
            true => labels.then(amounts),
            false => amounts.then(labels),
        }
    });
    let link = format!(
        "{link}?sort={}",
        if by_holder { "holder" } else { "amount" }
    );
    let link = link.as_str();
    let base = link.split('?').next().unwrap_or(link);
    let holders: Vec<(String, i64)> = rows
        .iter()
        .map(|row| (label(row), row["amount"].as_i64().unwrap_or(0)))
        .collect();
    let total: i64 = holders.iter().map(|h| h.1.max(0)).sum();
    let (range, pager) = paged(&rows, page_number, link, "page");
    html! {
        (share_chart(&holders))
        table.captable {
            thead { tr {
                th aria-sort=[by_holder.then_some("ascending")] {
                    a href={ (base) "?sort=holder" } { "Holder" } }
                th { "GAID" }
                th.num aria-sort=[(!by_holder).then_some("descending")] {
                    a href={ (base) "?sort=amount" } { "Amount" } }
                th.num { "Share" }
            } }
            tbody {
                @for row in &rows[range] {
                    @let units = row["amount"].as_i64().unwrap_or(0);
                    tr {
                        td { (label(row)) }
                        td.mono { (text(&row["GAID"])) }
                        td.num { (amount_cell(units, precision)) }
                        // the share the CSV cap table gives (one rule: `percent_of`)
                        td.num { (amphora_core::payout::percent_of(units.max(0) as u64, total.max(0) as u64)) "%" }
                    }
                }
            }
        }
        (pager)
    }
}

fn activity_table(activities: &Value, precision: u8, page_number: usize, link: &str) -> Markup {
    let mut rows = activities.as_array().cloned().unwrap_or_default();
    rows.reverse();
    let (range, pager) = paged(&rows, page_number, link, "apage");
    html! {
        @if rows.is_empty() { p.muted { "No activity yet." } }
        @else {
            table {
                thead { tr { th { "When" } th { "Type" } th { "Description" } th.num { "Amount" } th { "Transaction" } } }
                tbody {
                    @for row in &rows[range] {
                        tr {
                            td { (when(&row["datetime"])) }
                            td { (text(&row["type"])) }
                            td { (text(&row["description"])) }
                            td.num { (amount_cell(row["amount"].as_i64().unwrap_or(0), precision)) }
                            td.mono { (short(&text(&row["txid"]))) }
                        }
                    }
                }
            }
            (pager)
        }
    }
}

async fn lock(signed: Signed, Path(uuid): Path<String>, form: Form) -> Response {
    toggle(
        signed,
        uuid,
        form,
        "lock",
        "Locked: no transfer is co-signed.",
    )
    .await
}

async fn unlock(signed: Signed, Path(uuid): Path<String>, form: Form) -> Response {
    toggle(signed, uuid, form, "unlock", "Unlocked.").await
}

async fn toggle(signed: Signed, uuid: String, form: Form, action: &str, ok: &str) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let answer = signed
        .api
        .call(
            Method::PUT,
            &format!("/assets/{uuid}/{action}"),
            Some(json!({})),
        )
        .await;
    signed.back(&answer, &format!("/assets/{uuid}"), ok)
}
