//! Sign-in and sign-out. Signing in is `POST /api/user/obtain_token` through the API router (the
//! same credentials check and failed-login limit), then `GET /api/managers/me` to know whether
//! a manager signed in and which assets it was granted.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde_json::json;

use super::layout::{field, form_errors, page, Errors};
use super::session::SESSION_COOKIE;
use super::session::{cookie, random_token, same_token, set_cookie, Role, LOGIN_COOKIE};
use super::{client, Console, Form, Signed};

/// `GET /login`: the sign-in form, with a fresh CSRF token in its cookie and field.
pub async fn form(State(console): State<Console>, headers: HeaderMap) -> Response {
    if console.sessions.get(&headers).is_some() {
        return Redirect::to("/").into_response();
    }
    render(&console, StatusCode::OK, "", &Errors::new())
}

fn render(console: &Console, status: StatusCode, username: &str, errors: &Errors) -> Response {
    let token = random_token();
    let body = html! {
        form.card.narrow method="post" action="/login" {
            input type="hidden" name="csrf" value=(token);
            (form_errors(errors, &["username", "password"]))
            (field("Username", "username", "text", username, errors))
            (field("Password", "password", "password", "", errors))
            button type="submit" { "Sign in" }
        }
    };
    (
        status,
        [(
            SET_COOKIE,
            set_cookie(LOGIN_COOKIE, &token, console.secure(), Some(3600)),
        )],
        Html(page("Sign in", None, body).into_string()),
    )
        .into_response()
}

/// `POST /login`: obtains a token with the submitted credentials and opens a session.
pub async fn login(State(console): State<Console>, parts: Parts, form: Form) -> Response {
    let expected = cookie(&parts.headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(form.text("csrf"), &expected) {
        return super::layout::bad_csrf();
    }
    let api = client(&console, &parts);
    let username = form.text("username").to_string();
    let answer = api
        .call(
            Method::POST,
            "/user/obtain_token",
            Some(json!({"username": username, "password": form.0.get("password").cloned().unwrap_or_default()})),
        )
        .await;
    let Some(token) = answer.body["token"].as_str().filter(|_| answer.ok()) else {
        let status = match answer.status {
            s if s.is_client_error() || s.is_server_error() => s,
            _ => StatusCode::BAD_GATEWAY,
        };
        return render(&console, status, &username, &answer.errors());
    };
    let me = api.clone().with_token(token).get("/managers/me").await;
    let role = match me.ok() {
        true => Role::Manager,
        false => Role::Issuer,
    };
    let id = console.sessions.open(
        username,
        role,
        token.to_string(),
        console.app.token_lifetime(),
    );
    let secure = console.secure();
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    for value in [
        set_cookie(SESSION_COOKIE, &id, secure, None),
        set_cookie(LOGIN_COOKIE, "", secure, Some(0)),
    ] {
        if let Ok(value) = value.parse() {
            headers.append(SET_COOKIE, value);
        }
    }
    response
}

/// `POST /logout`: forgets the session and its cookie.
pub async fn logout(State(console): State<Console>, signed: Signed, form: Form) -> Response {
    if !form.csrf_ok(&signed.session) {
        return super::layout::bad_csrf();
    }
    console.sessions.close(&signed.parts_headers);
    (
        [(
            SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", console.secure(), Some(0)),
        )],
        Redirect::to("/login"),
    )
        .into_response()
}
