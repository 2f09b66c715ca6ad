//! The one layout of every page, and the form pieces every page uses (labelled fields with their
//! API messages beside them, the CSRF field, result notices).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{html, Markup, DOCTYPE};

use super::api::Answer;
use super::session::Session;

/// Messages by field name (`""`: the whole form).
pub type Errors = BTreeMap<String, String>;

/// A whole page: header with the navigation for `session`'s role, `body` in `main`.
pub fn page(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Amphora" }
                // htmx's own indicator styles would be an inline style the policy refuses
                meta name="htmx-config" content=r#"{"includeIndicatorStyles": false}"#;
                link rel="icon" href="/static/icon.svg" type="image/svg+xml";
                link rel="stylesheet" href="/static/console.css";
                script src="/static/htmx.min.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "Amphora" }
                    @if let Some(session) = session {
                        nav aria-label="Main" {
                            a href="/" { "Assets" }
                            a href="/registered_users" { "Registered users" }
                            a href="/categories" { "Categories" }
                            @if !session.is_manager() {
                                a href="/managers" { "Managers" }
                                a href="/audit" { "Audit log" }
                            }
                            a href="/api/docs" { "API docs" }
                        }
                        form.signout method="post" action="/logout" {
                            (csrf(session))
                            span.who { (session.username)
                                @if session.is_manager() { " (manager)" } }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some((success, message)) = session.and_then(|s| s.flash.as_ref()) {
                        div.notice.good[*success].bad[!*success] role="status" { (message) }
                    }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field of `session`.
pub fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// A labelled input; the API's message for `name` in `errors` beside it.
pub fn field(label: &str, name: &str, kind: &str, value: &str, errors: &Errors) -> Markup {
    let id = format!("f-{name}");
    let error = errors.get(name);
    html! {
        div.field {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value)
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| format!("{id}-error"))];
            @if let Some(message) = error {
                p.error id={ (id) "-error" } role="alert" { (message) }
            }
        }
    }
}

/// A labelled checkbox.
pub fn checkbox(label: &str, name: &str, checked: bool, errors: &Errors) -> Markup {
    let id = format!("f-{name}");
    html! {
        div.field.check {
            input id=(id) name=(name) type="checkbox" checked[checked];
            label for=(id) { (label) }
            @if let Some(message) = errors.get(name) {
                p.error role="alert" { (message) }
            }
        }
    }
}

/// The whole-form message, and every field message whose field the form does not show.
pub fn form_errors(errors: &Errors, shown: &[&str]) -> Markup {
    let rest: Vec<String> = errors
        .iter()
        .filter(|(field, _)| !shown.contains(&field.as_str()))
        .map(|(field, text)| match field.as_str() {
            "" => text.clone(),
            _ => format!("{field}: {text}"),
        })
        .collect();
    html! {
        @if !rest.is_empty() {
            div.notice.bad role="alert" { @for text in &rest { p { (text) } } }
        }
    }
}

/// A section that could not be read, with the API's reason.
pub fn unavailable(answer: &Answer) -> Markup {
    html! { p.muted { "Not available: " (answer.message()) } }
}

/// Renders a page, or, when the API no longer accepts the session's token, sends the browser
/// to sign in again.
pub fn respond(answers: &[&Answer], markup: Markup) -> Response {
    if answers.iter().any(|a| a.status == StatusCode::UNAUTHORIZED) {
        return Redirect::to("/login").into_response();
    }
    Html(markup.into_string()).into_response()
}

/// The answer to a form without the session's CSRF token.
pub fn bad_csrf() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html(
            page(
                "Form expired",
                None,
                html! { p { "This form is no longer valid. " a href="/" { "Reload the console" } " and try again." } },
            )
            .into_string(),
        ),
    )
        .into_response()
}

/// The answer to a form body that is not `application/x-www-form-urlencoded` text.
pub fn unreadable_form() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(
            page(
                "Form not understood",
                None,
                html! { p { "The form could not be read. " a href="/" { "Back to the console" } } },
            )
            .into_string(),
        ),
    )
        .into_response()
}

/// Rows of a paged table per page.
pub const PAGE_SIZE: usize = 50;

/// The rows of page `page` (1-based) of `rows`, and the pager below them linking to `link`
/// with `?{param}=N`.
pub fn paged<T>(
    rows: &[T],
    page: usize,
    link: &str,
    param: &str,
) -> (std::ops::Range<usize>, Markup) {
    let pages = rows.len().div_ceil(PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let start = (page - 1) * PAGE_SIZE;
    let range = start..(start + PAGE_SIZE).min(rows.len());
    let sep = if link.contains('?') { '&' } else { '?' };
    let pager = html! {
        @if pages > 1 {
            nav.pager aria-label="Pages" {
                @if page > 1 { a href={ (link) (sep) (param) "=" (page - 1) } { "← Previous" } }
                span { "Page " (page) " of " (pages) " (" (rows.len()) " rows)" }
                @if page < pages { a href={ (link) (sep) (param) "=" (page + 1) } { "Next →" } }
            }
        }
    };
    (range, pager)
}

/// A JSON value as display text (strings without quotes, null as empty).
pub fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// An ISO-8601 time from the API as `YYYY-MM-DD HH:MM:SS UTC` (to the second); other text
/// as it is.
pub fn when(value: &serde_json::Value) -> String {
    let full = text(value);
    match chrono::DateTime::parse_from_rfc3339(&full) {
        Ok(time) => time
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        Err(_) => full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_shows_its_message_beside_it() {
        let mut errors = Errors::new();
        errors.insert("amount".into(), "Wrong <type>".into());
        let html = field("Amount", "amount", "text", "x\"", &errors).into_string();
        assert!(
            html.contains(r#"<label for="f-amount">Amount</label>"#),
            "{html}"
        );
        assert!(html.contains(r#"value="x&quot;""#), "{html}");
        assert!(
            html.contains("Wrong &lt;type&gt;") && html.contains("aria-invalid"),
            "{html}"
        );
        let others = form_errors(&errors, &[]).into_string();
        assert!(others.contains("amount: Wrong"), "{others}");
        assert_eq!(form_errors(&errors, &["amount"]).into_string(), "");
    }

    #[test]
    fn times_are_shown_to_the_second_in_utc() {
        let time = serde_json::json!("2026-12-02T01:41:02.486252344+01:00");
        assert_eq!(when(&time), "2026-12-02 00:41:02 UTC");
        assert_eq!(when(&serde_json::json!("soon")), "soon");
    }

    #[test]
    fn tables_are_paged() {
        let rows: Vec<usize> = (0..120).collect();
        let (range, pager) = paged(&rows, 3, "/x", "page");
        assert_eq!(range, 100..120);
        let pager = pager.into_string();
        assert!(
            pager.contains("/x?page=2") && !pager.contains("page=4"),
            "{pager}"
        );
        assert_eq!(paged(&rows, 99, "/x", "page").0, 100..120);
        assert_eq!(paged(&rows[..3], 1, "/x", "page").1.into_string(), "");
    }
}
