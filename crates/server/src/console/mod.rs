//! The issuer console: server-rendered HTML pages at `/` for issuers and managers, served by
//! the same binary as the API.
//!
//! Every page reads and every form acts through [`api::Api`], an in-process request to the API
//! router with the signed-in user's token, so the access table, the validations, the
//! failed-login limit and the audit log are exactly the API's; an API error is shown beside its
//! field. Pages are `maud` templates (checked at compile time); the one script is htmx
//! (vendored, 0BSD), used only for live updates; the stylesheet is hand-written; all of them
//! are compiled into the binary.
//!
//! Sessions ([`session`]) are opaque random ids in an HttpOnly, SameSite=Strict cookie (Secure
//! when `public_url` is https), and every form carries the session's CSRF token.

mod accounts;
pub mod api;
mod asset_admin;
mod asset_settings;
mod assets;
mod auth;
mod category_page;
mod confirm_step;
mod distribute;
pub mod figures;
mod layout;
mod payouts;
mod people;
pub mod session;
mod sorting;
mod supply;
mod user_page;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use api::Api;
use session::{Session, Sessions};

/// What the console's handlers share: the API router they call, the sessions, the platform
/// state (for its settings only).
#[derive(Clone)]
pub struct Console {
    api: Router,
    sessions: Arc<Sessions>,
    app: AppState,
    sandbox: Option<Arc<Sandbox>>,
}

/// What the console offers on the embedded regtest sandbox (never on liquidv1 or testnet).
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The embedded node's treasury address, offered as an issuance's destination.
    pub treasury_address: String,
    /// The treasury wallet's RPC URL, for the `amphora confirm -n` line.
    pub confirm_node_url: String,
}

impl Console {
    /// Whether cookies get the `Secure` attribute: the platform is served over https.
    fn secure(&self) -> bool {
        self.app
            .public_url()
            .is_some_and(|url| url.starts_with("https://"))
    }
}

/// The console's routes (pages, forms, static files), calling `api` (the API router, with the
/// access layer) for everything they show or do; `sandbox` on the embedded regtest node.
pub fn routes(api: Router, app: AppState, sandbox: Option<Sandbox>) -> Router {
    let console = Console {
        api,
        sessions: Arc::new(Sessions::default()),
        app,
        sandbox: sandbox.map(Arc::new),
    };
    Router::new()
        .route("/", get(assets::list))
        .route("/login", get(auth::form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/static/{file}", get(static_file))
        // browsers ask for it on any page, the API's included
        .route(
            "/favicon.ico",
            get(|| static_file(axum::extract::Path("icon.svg".to_string()))),
        )
        .merge(accounts::routes())
        .merge(assets::routes())
        .merge(asset_settings::routes())
        .merge(asset_admin::routes())
        .merge(supply::routes())
        .merge(category_page::routes())
        .merge(payouts::routes())
        .merge(people::routes())
        .merge(user_page::routes())
        .merge(distribute::routes())
        .with_state(console)
        .layer(axum::middleware::map_response(security_headers))
}

/// What every console answer tells the browser: only this origin's scripts, styles and
/// forms, never inside a frame (no clickjacking of its buttons), no MIME sniffing, no
/// referrer to other sites.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'self'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        headers.insert(name, axum::http::HeaderValue::from_static(value));
    }
    response
}

/// A signed-in request: its session, and an API client acting as its user. Without a live
/// session the request is sent to the sign-in page.
pub struct Signed {
    session: Session,
    api: Api,
    parts_headers: axum::http::HeaderMap,
    sessions: Arc<Sessions>,
}

impl Signed {
    /// Back to `page` after an action, its outcome shown there once (`ok` on success, the
    /// API's message otherwise); to the sign-in page when the token is no longer accepted.
    fn back(&self, answer: &api::Answer, page: &str, ok: &str) -> Response {
        if answer.status == axum::http::StatusCode::UNAUTHORIZED {
            return Redirect::to("/login").into_response();
        }
        let message = match answer.ok() {
            true => ok.to_string(),
            false => answer.message(),
        };
        self.sessions
            .flash(&self.parts_headers, answer.ok(), message);
        Redirect::to(page).into_response()
    }
}

impl FromRequestParts<Console> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let session = console
            .sessions
            .get(&parts.headers)
            .ok_or_else(|| Redirect::to("/login").into_response())?;
        let api = client(console, parts).with_token(&session.token);
        Ok(Signed {
            session,
            api,
            parts_headers: parts.headers.clone(),
            sessions: console.sessions.clone(),
        })
    }
}

/// An API client for the request with these parts (not yet authenticated).
fn client(console: &Console, parts: &Parts) -> Api {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied();
    Api::new(console.api.clone(), &parts.headers, peer)
}

/// A submitted form: its fields by name (a repeated name keeps its last value).
pub struct Form(HashMap<String, String>);

impl Form {
    /// The trimmed value of `name`, `""` when absent.
    fn text(&self, name: &str) -> &str {
        self.0.get(name).map(|v| v.trim()).unwrap_or("")
    }

    /// Whether a checkbox `name` is ticked.
    fn checked(&self, name: &str) -> bool {
        matches!(self.text(name), "on" | "true" | "1")
    }

    /// Whether the form carries the session's CSRF token.
    fn csrf_ok(&self, session: &Session) -> bool {
        session::same_token(self.text("csrf"), &session.csrf)
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, Response> {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|_| layout::unreadable_form())?;
        Ok(Form(fields.into_iter().collect()))
    }
}

/// A form value as JSON for the API: an integer when it reads as one, otherwise the text (so
/// that the API, not the console, says what is wrong with it).
fn number_or_text(text: &str) -> serde_json::Value {
    text.parse::<i64>()
        .map(serde_json::Value::from)
        .unwrap_or_else(|_| serde_json::Value::from(text))
}

/// The compiled-in static files.
async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let (body, kind): (&'static [u8], &str) = match file.as_str() {
        "console.css" => (
            include_bytes!("static/console.css"),
            "text/css; charset=utf-8",
        ),
        "htmx.min.js" => (
            include_bytes!("static/htmx.min.js"),
            "text/javascript; charset=utf-8",
        ),
        "icon.svg" => (include_bytes!("static/icon.svg"), "image/svg+xml"),
        "htmx-LICENSE" => (
            include_bytes!("static/htmx-LICENSE"),
            "text/plain; charset=utf-8",
        ),
        _ => return crate::error::ApiError::NotFound.into_response(),
    };
    (
        [
            (CONTENT_TYPE, kind),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_reach_the_api_as_typed_or_as_typed_in() {
        assert_eq!(number_or_text("42"), serde_json::json!(42));
        assert_eq!(number_or_text("4.2"), serde_json::json!("4.2"));
        assert_eq!(number_or_text(""), serde_json::json!(""));
    }
}
