//! The confirm step every treasury action shares (distributions, reissuances, burns): the file
//! the platform made, kept in the session for download, and the exact `amphora confirm` line to
//! run beside it against the treasury node.

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use maud::{html, Markup};
use serde_json::Value;

use super::api::Answer;
use super::layout::unavailable;
use super::people::{encode, with_status};
use super::{Console, Signed};

/// The treasury node placeholder of the confirm line outside the sandbox.
const NODE_PLACEHOLDER: &str = "http://RPCUSER:RPCPASSWORD@HOST:PORT/wallet/TREASURY";

/// One action's confirm step: `amphora confirm … {command} -f {file_name}`.
pub struct ConfirmStep<'a> {
    /// The `amphora confirm` sub-command (`distribute`, `reissue`, `burn`).
    pub command: &'a str,
    /// The name the file is downloaded under, and that the line passes with `-f`.
    pub file_name: String,
    /// Where the file is downloaded from; `None` when this session did not make it.
    pub download: Option<String>,
}

impl ConfirmStep<'_> {
    /// The exact command line for the signed-in user (the embedded treasury wallet's URL on the
    /// sandbox, a placeholder otherwise).
    pub fn line(&self, console: &Console, signed: &Signed) -> String {
        let node = console
            .sandbox
            .as_ref()
            .map_or(NODE_PLACEHOLDER, |s| s.confirm_node_url.as_str());
        format!(
            "amphora confirm -u {} -n {node} {} -f {}",
            signed.session.username, self.command, self.file_name
        )
    }

    /// The card: the download button (or why there is none) and the line to copy.
    pub fn card(&self, console: &Console, signed: &Signed, title: &str) -> Markup {
        html! {
            section.card {
                h2 { (title) }
                @if let Some(href) = &self.download {
                    p { a.button id="confirm-file" download=(self.file_name) href=(href) { "Download the confirm file" } }
                } @else {
                    p.muted { "The confirm file was made in another session: it is shown once, when the request is made. Make a new request here to download it." }
                }
                p { "Then run, beside the file (the password is read from AMPHORA_CONFIRM_PASSWORD, or pass -p):" }
                pre id="confirm-line" { code { (self.line(console, signed)) } }
            }
        }
    }
}

/// The confirm file kept in the session under `key`, as a download named `file_name`; 404
/// when this session holds no such file.
pub fn download(signed: &Signed, key: &str, file_name: &str) -> Response {
    match signed.session.file(key) {
        Some(file) => (
            [
                (CONTENT_TYPE, "application/json".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", encode(file_name)),
                ),
            ],
            file.to_string(),
        )
            .into_response(),
        None => crate::error::ApiError::NotFound.into_response(),
    }
}

/// An htmx progress fragment: `progress` drawn from the API's answer, or why it cannot be read
/// (with the answer's status).
pub fn fragment(answer: &Answer, progress: impl FnOnce(&Value) -> Markup) -> Response {
    match answer.ok() {
        true => Html(progress(&answer.body).into_string()).into_response(),
        false => with_status(
            Html(unavailable(answer).into_string()).into_response(),
            answer,
        ),
    }
}
