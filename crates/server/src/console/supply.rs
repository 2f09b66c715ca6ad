//! Reissuances and burns: the request form (amount in base units) → the confirm file to
//! download and the exact `amphora confirm reissue|burn` line; the request's progress, polled by
//! htmx until the platform lists the confirmed transaction; the confirmed ones in a table.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup};
use serde_json::{Map, Value};

use super::confirm_step::{download, fragment, ConfirmStep};
use super::figures::amount_cell;
use super::layout::{csrf, field, form_errors, page, respond, text, unavailable, when, Errors};
use super::people::with_status;
use super::session::random_token;
use super::{number_or_text, Console, Form, Signed};

/// What changes the asset's supply through the treasury.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Reissue,
    Burn,
}

impl Kind {
    /// The console's and the API's list segment.
    fn segment(self) -> &'static str {
        match self {
            Kind::Reissue => "reissuances",
            Kind::Burn => "burns",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::Reissue => "Reissuances",
            Kind::Burn => "Burns",
        }
    }

    /// The API route that makes the confirm file.
    fn request(self) -> &'static str {
        match self {
            Kind::Reissue => "reissue-request",
            Kind::Burn => "burn-request",
        }
    }

    /// The request body's amount field.
    fn amount_field(self) -> &'static str {
        match self {
            Kind::Reissue => "amount_to_reissue",
            Kind::Burn => "amount",
        }
    }

    /// The `amphora confirm` sub-command.
    fn command(self) -> &'static str {
        match self {
            Kind::Reissue => "reissue",
            Kind::Burn => "burn",
        }
    }

    /// Base units of one confirmed row of the API's list.
    fn units(self, row: &Value) -> i64 {
        let key = match self {
            Kind::Reissue => "reissuance_amount",
            Kind::Burn => "amount",
        };
        row[key].as_i64().unwrap_or(0)
    }

    fn explain(self) -> &'static str {
        match self {
            Kind::Reissue => {
                "Creates new units into the treasury, spending the treasury's reissuance token. \
                 The platform counts them once the transaction has 2 confirmations."
            }
            Kind::Burn => {
                "Destroys units held by the treasury. The platform counts the burn once the \
                 transaction has 2 confirmations."
            }
        }
    }
}

/// The reissuance and burn routes of the console.
pub fn routes() -> Router<Console> {
    [Kind::Reissue, Kind::Burn]
        .into_iter()
        .fold(Router::new(), |router, kind| {
            let base = format!("/assets/{{asset_uuid}}/{}", kind.segment());
            router
                .route(
                    &base,
                    get(
                        move |c: State<Console>,
                              s: Signed,
                              p: Path<String>,
                              q: Query<HashMap<String, String>>| {
                            list(kind, c, s, p, q)
                        },
                    ),
                )
                .route(
                    &format!("{base}/request"),
                    post(
                        move |c: State<Console>, s: Signed, p: Path<String>, f: Form| {
                            request(kind, c, s, p, f)
                        },
                    ),
                )
                .route(
                    &format!("{base}/progress"),
                    get(
                        move |s: Signed, p: Path<String>, q: Query<HashMap<String, String>>| {
                            progress(kind, s, p, q)
                        },
                    ),
                )
                .route(
                    &format!("{base}/file/{{key}}"),
                    get(move |s: Signed, p: Path<(String, String)>| file(kind, s, p)),
                )
        })
}

/// A request's key in the session: `{command}-{confirmed rows when it was made}-{random}`.
fn new_key(kind: Kind, confirmed_before: usize) -> String {
    format!(
        "{}-{confirmed_before}-{}",
        kind.command(),
        &random_token()[..12]
    )
}

/// The confirmed rows there were when the request with `key` was made.
fn confirmed_before(kind: Kind, key: &str) -> Option<usize> {
    let rest = key.strip_prefix(kind.command())?.strip_prefix('-')?;
    rest.split('-').next()?.parse().ok()
}

/// `GET /assets/{uuid}/{reissuances|burns}[?request=KEY]`.
async fn list(
    kind: Kind,
    State(console): State<Console>,
    signed: Signed,
    Path(uuid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let key = query.get("request").map(String::as_str);
    render(
        kind,
        &console,
        &signed,
        &uuid,
        key,
        &HashMap::new(),
        &Errors::new(),
    )
    .await
}

async fn render(
    kind: Kind,
    console: &Console,
    signed: &Signed,
    uuid: &str,
    key: Option<&str>,
    values: &HashMap<String, String>,
    errors: &Errors,
) -> Response {
    let asset = signed.api.get(&format!("/assets/{uuid}")).await;
    let rows = signed
        .api
        .get(&format!("/assets/{uuid}/{}", kind.segment()))
        .await;
    let precision = asset.body["precision"].as_u64().unwrap_or(0).min(8) as u8;
    let pending = key
        .filter(|k| signed.session.file(k).is_some())
        .and_then(|k| Some((k, confirmed_before(kind, k)?)));
    let base = format!("/assets/{uuid}/{}", kind.segment());
    let value = |name: &str| values.get(name).map(String::as_str).unwrap_or("");
    let body = html! {
        p { a href={ "/assets/" (uuid) } { "← " (text(&asset.body["name"])) } }
        @if let Some((key, before)) = pending {
            (ConfirmStep {
                command: kind.command(),
                file_name: format!("{key}.json"),
                download: Some(format!("{base}/file/{key}")),
            }.card(console, signed, "Send it"))
            (progress_box(kind, uuid, before, &rows.body))
        }
        form.card method="post" action={ (base) "/request" } {
            h2 { "Request a " (kind.command()) }
            p.muted { (kind.explain()) }
            (csrf(&signed.session))
            (form_errors(errors, &["amount"]))
            (field("Amount (base units)", "amount", "text", value("amount"), errors))
            button type="submit" { "Make the confirm file" }
        }
        section {
            h2 { "Confirmed" }
            (table(kind, &rows, precision))
        }
    };
    respond(
        &[&asset, &rows],
        page(kind.title(), Some(&signed.session), body),
    )
}

fn table(kind: Kind, rows: &super::api::Answer, precision: u8) -> Markup {
    let list = rows.body.as_array().cloned().unwrap_or_default();
    html! {
        @if !rows.ok() { (unavailable(rows)) }
        @else if list.is_empty() { p.muted { "None yet." } }
        @else {
            table {
                thead { tr { th { "Confirmed" } th.num { "Amount" } th { "Transaction" } th { "Block" } } }
                tbody {
                    @for row in list.iter().rev() {
                        tr {
                            td { (when(&row["created"])) }
                            td.num { (amount_cell(kind.units(row), precision)) }
                            td.mono { (text(&row["txid"])) }
                            td.mono { (text(&row["confirmed_in_block"])) }
                        }
                    }
                }
            }
        }
    }
}

/// The progress of a request made when `before` rows were confirmed: polled every 2 s by htmx
/// until the platform lists one more.
fn progress_box(kind: Kind, uuid: &str, before: usize, rows: &Value) -> Markup {
    let list = rows.as_array().cloned().unwrap_or_default();
    let done = list.len() > before;
    let url = format!("/assets/{uuid}/{}/progress?after={before}", kind.segment());
    html! {
        section.card.progress id="progress" aria-live="polite"
            hx-get=[(!done).then_some(&url)]
            hx-trigger=[(!done).then_some("every 2s")]
            hx-swap=[(!done).then_some("outerHTML")] {
            p {
                "Status: " strong id="request-status" { (if done { "CONFIRMED" } else { "WAITING" }) } " — "
                @if done { "done: the transaction has its confirmations." }
                @else { "waiting for the transaction and its 2 confirmations…" }
            }
            @if let Some(latest) = list.last().filter(|_| done) {
                p.mono { (text(&latest["txid"])) }
            }
        }
    }
}

/// `GET …/progress?after=N`: the progress box alone (htmx).
async fn progress(
    kind: Kind,
    signed: Signed,
    Path(uuid): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let before = query.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let rows = signed
        .api
        .get(&format!("/assets/{uuid}/{}", kind.segment()))
        .await;
    fragment(&rows, |body| progress_box(kind, &uuid, before, body))
}

/// `POST …/request`: the API's request route with the amount; the file is kept in the
/// session and the page shows its confirm step, or the form again with the API's messages.
async fn request(
    kind: Kind,
    State(console): State<Console>,
    signed: Signed,
    Path(uuid): Path<String>,
    form: Form,
) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    let before = signed
        .api
        .get(&format!("/assets/{uuid}/{}", kind.segment()))
        .await;
    let mut body = Map::new();
    body.insert(
        kind.amount_field().to_string(),
        number_or_text(form.text("amount")),
    );
    let answer = signed
        .api
        .call(
            Method::POST,
            &format!("/assets/{uuid}/{}", kind.request()),
            Some(Value::Object(body)),
        )
        .await;
    if answer.ok() && before.ok() {
        let key = new_key(kind, before.body.as_array().map_or(0, Vec::len));
        let file = serde_json::to_string_pretty(&answer.body).unwrap_or_default();
        console
            .sessions
            .keep_file(&signed.parts_headers, key.clone(), file);
        return signed.back(
            &answer,
            &format!("/assets/{uuid}/{}?request={key}", kind.segment()),
            "Made the confirm file. Send it with the command below.",
        );
    }
    // the API names the amount by its own field; the form calls it `amount`
    let mut errors = answer.errors();
    if let Some(message) = errors.remove(kind.amount_field()) {
        errors.insert("amount".into(), message);
    }
    let failed = if answer.ok() { &before } else { &answer };
    with_status(
        render(kind, &console, &signed, &uuid, None, &form.0, &errors).await,
        failed,
    )
}

/// `GET …/file/{key}`: the confirm file made in this session.
async fn file(kind: Kind, signed: Signed, Path((_, key)): Path<(String, String)>) -> Response {
    if confirmed_before(kind, &key).is_none() {
        return crate::error::ApiError::NotFound.into_response();
    }
    download(&signed, &key, &format!("{key}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_key_carries_its_kind_and_the_rows_before_it() {
        let key = new_key(Kind::Burn, 3);
        assert_eq!(confirmed_before(Kind::Burn, &key), Some(3));
        assert_eq!(confirmed_before(Kind::Reissue, &key), None);
        assert_eq!(confirmed_before(Kind::Burn, "burn-x-1"), None);
        assert_ne!(new_key(Kind::Burn, 3), key);
    }
}
