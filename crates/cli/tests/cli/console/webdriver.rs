//! Driving headless Chromium over WebDriver for the console tests: the browser session, form
//! filling and submitting, page text, the browser's console errors, screenshots, and the
//! `amphora confirm` binary run on a file the page offers.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::support::{until, Killed, Platform};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free loopback port, and a headless Chromium session of 1280×800 with the
/// command-line switches `extra`.
pub(super) async fn browser(extra: &[&str]) -> (Killed, Client) {
    for exe in [CHROMEDRIVER, CHROMIUM] {
        assert!(
            Path::new(exe).exists(),
            "{exe} is missing: install Debian's chromium and chromium-driver (see .ci/run)"
        );
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let driver = Killed(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--lang=en-US",
    ];
    args.extend_from_slice(extra);
    let capabilities = json!({"goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        // the page's console (script errors, refused resources, CSP violations) for
        // `console_errors`
        "goog:loggingPrefs": {"browser": "ALL"}});
    let capabilities = capabilities.as_object().unwrap().clone();
    let url = format!("http://127.0.0.1:{port}");
    let client = until(
        "chromedriver to start a session",
        Duration::from_secs(30),
        || {
            let capabilities = capabilities.clone();
            let url = url.clone();
            async move {
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&url)
                    .await
                    .ok()
            }
        },
    )
    .await;
    (driver, client)
}

/// The directory the screenshots are written to (committed, shown by the README).
pub(super) fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(super) async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    std::fs::write(screenshots().join(format!("{name}.png")), png).unwrap();
}

/// Replaces the value of the input named `name`.
pub(super) async fn fill(browser: &Client, name: &str, value: &str) {
    let input = browser
        .find(Locator::Css(&format!("[name='{name}']")))
        .await
        .unwrap_or_else(|e| panic!("no field {name}: {e}"));
    input.clear().await.unwrap();
    input.send_keys(value).await.unwrap();
}

/// Clicks the submit button of `form` and waits for the next page (the old one going stale).
pub(super) async fn submit(browser: &Client, form: &str) {
    let old = browser.find(Locator::Css("html")).await.unwrap();
    browser
        .find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap_or_else(|e| panic!("no form {form}: {e}"))
        .click()
        .await
        .unwrap();
    until("the next page", Duration::from_secs(30), || async {
        match old.tag_name().await {
            Err(_) => Some(()),
            Ok(_) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                None
            }
        }
    })
    .await;
}

pub(super) async fn select(browser: &Client, css: &str, value: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// The text of the first element matching `css`.
pub(super) async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

pub(super) async fn page_text(browser: &Client) -> String {
    text_of(browser, "body").await
}

/// chromedriver's `POST /session/{id}/se/log {"type": "browser"}`: the page console's entries
/// since the last call.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.into()))
    }
}

/// The errors the browser's console showed since the last call (script errors, resources that
/// failed to load, Content-Security-Policy refusals), except a page answered with `expected`
/// status (a form sent back with its errors).
pub(super) async fn console_errors(browser: &Client, expected: Option<u16>) -> Vec<String> {
    let entries = browser.issue_cmd(BrowserLog).await.unwrap();
    let allowed = expected.map(|status| format!("the server responded with a status of {status}"));
    let entries = entries
        .as_array()
        .unwrap_or_else(|| panic!("chromedriver's log is not a list: {entries}"));
    entries
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .filter(|m| allowed.as_ref().is_none_or(|a| !m.contains(a.as_str())))
        .collect()
}

/// Fails the test when the browser's console showed an error since the last check.
pub(super) async fn no_console_errors(browser: &Client, expected: Option<u16>, at: &str) {
    let errors = console_errors(browser, expected).await;
    assert!(errors.is_empty(), "console errors at {at}: {errors:#?}");
}

/// The confirm file behind the page's `#confirm-file` link, as the browser downloads it.
pub(super) async fn confirm_file(browser: &Client) -> String {
    browser
        .execute(
            "return fetch(document.getElementById('confirm-file').href).then(r => r.text());",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `amphora confirm {command} -f {file}` against the platform's treasury; fails the test
/// when it does not succeed.
pub(super) fn confirm_with_binary(platform: &Platform, dir: &Path, command: &str, file: &Path) {
    let output = platform
        .confirm(dir, &[command, "-f", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "confirm {command} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until the element `css` of the page (a progress box htmx replaces) reads `CONFIRMED`.
pub(super) async fn until_confirmed(browser: &Client, css: &str) {
    until(
        &format!("{css} to read CONFIRMED"),
        Duration::from_secs(30),
        || async {
            let status = browser
                .find(Locator::Css(css))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (status == "CONFIRMED").then_some(())
        },
    )
    .await;
}

pub(super) async fn sign_in(browser: &Client, root: &str, username: &str, password: &str) {
    browser.goto(&format!("{root}/login")).await.unwrap();
    fill(browser, "username", username).await;
    fill(browser, "password", password).await;
    submit(browser, "form[action='/login']").await;
    let text = page_text(browser).await;
    assert!(text.contains("Sign out"), "not signed in: {text}");
}
