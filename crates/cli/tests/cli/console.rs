//! The issuer console in a real browser: headless Chromium driven over WebDriver
//! (`/usr/bin/chromedriver`, installed by `.ci/run` from Debian's `chromium-driver`) against
//! `amphora serve` on the node of the run. The whole tutorial through the pages: sign in, a bad
//! form value shown beside its field, issue, a registered user with a wallet's GAID, a
//! category attached to both, an assignment, a distribution paid with the `amphora confirm`
//! binary and seen confirmed live (htmx polling), the holder in the cap table; then a manager
//! who sees only its granted asset. Screenshots of the main pages go to `docs/screenshots/`.
//! Also: `/api/docs` renders the served OpenAPI document with nothing loaded from outside.
//!
//! Without Chromium or its driver the test fails: the console is not tested otherwise.

use std::net::TcpListener;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::Locator;
use serde_json::json;

use crate::support::{until, Options, Platform};

mod webdriver;

use webdriver::{
    browser, confirm_file, confirm_with_binary, console_errors, fill, no_console_errors, page_text,
    screenshot, select, sign_in, submit, text_of, until_confirmed,
};

const PUBKEY: &str = amphora_testenv::ISSUER_PUBKEY;
const MANAGER_PASSWORD: &str = "manager-password-1";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_tutorial_in_the_browser() {
    let (_driver, browser) = browser(&[]).await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), Options::default()).await;
    let root = platform.url.clone();
    let treasury_address = platform.treasury().get_new_address(None).await.unwrap();
    let token_address = platform.treasury().get_new_address(None).await.unwrap();

    // The console check sees what the browser logs: a missing file is an error.
    browser
        .goto(&format!("{root}/static/missing.js"))
        .await
        .unwrap();
    let errors = console_errors(&browser, None).await;
    assert!(
        errors.iter().any(|e| e.contains("404")),
        "the browser's log did not show a 404: {errors:?}"
    );

    // Signed out, every page leads to the sign-in form; a wrong password is refused there.
    browser.goto(&format!("{root}/")).await.unwrap();
    assert!(browser.current_url().await.unwrap().path() == "/login");
    fill(&browser, "username", &platform.username).await;
    fill(&browser, "password", "wrong-password").await;
    submit(&browser, "form[action='/login']").await;
    let text = page_text(&browser).await;
    assert!(text.contains("Unable to log in"), "{text}");
    screenshot(&browser, "sign-in").await;
    no_console_errors(&browser, Some(400), "the sign-in page").await;
    sign_in(&browser, &root, &platform.username, &platform.password).await;

    // Issue: a bad amount is shown beside its field, then the asset is issued.
    browser.goto(&format!("{root}/assets/issue")).await.unwrap();
    for (name, value) in [
        ("name", "Console Fund"),
        ("amount", "a lot"),
        ("precision", "2"),
        ("destination_address", treasury_address.as_str()),
        ("domain", "example.com"),
        ("ticker", "CFND"),
        ("pubkey", PUBKEY),
        ("reissuance_amount", "1"),
        ("reissuance_address", token_address.as_str()),
    ] {
        fill(&browser, name, value).await;
    }
    // reissuable, not confidential: its issuance stays explicit on both nodes
    for flag in ["#f-is_reissuable"] {
        browser
            .find(Locator::Css(flag))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    submit(&browser, "form[action='/assets/issue']").await;
    let error = text_of(&browser, "#f-amount-error").await;
    assert!(!error.is_empty(), "empty error");
    screenshot(&browser, "issue-form-error").await;
    no_console_errors(&browser, Some(400), "the issue form").await;
    fill(&browser, "amount", "1000000").await;
    submit(&browser, "form[action='/assets/issue']").await;
    let url = browser.current_url().await.unwrap();
    let asset = url.path().strip_prefix("/assets/").unwrap().to_string();
    let text = page_text(&browser).await;
    assert!(text.contains("Issued."), "{text}");

    // A registered user with a wallet's GAID.
    let wallet_dir = dir.path().join("wallet-alice");
    let (mut wallet, _) = amphora_wallet::Wallet::create(&wallet_dir, platform.node())
        .await
        .unwrap();
    let gaid = wallet.register(&root).await.unwrap().gaid;
    browser
        .goto(&format!("{root}/registered_users"))
        .await
        .unwrap();
    fill(&browser, "name", "Alice").await;
    fill(&browser, "GAID", &gaid).await;
    submit(&browser, "form[action='/registered_users/add']").await;
    let text = page_text(&browser).await;
    assert!(
        text.contains("Added Alice") && text.contains(&gaid),
        "{text}"
    );
    let api = platform.api().await;
    let alice = api.get("/registered_users").await[0]["id"]
        .as_i64()
        .unwrap()
        .to_string();

    // A category, attached to the registered user and to the asset.
    browser.goto(&format!("{root}/categories")).await.unwrap();
    fill(&browser, "name", "Accredited").await;
    submit(&browser, "form[action='/categories/add']").await;
    assert!(page_text(&browser).await.contains("Created Accredited"));
    select(&browser, "#t-registered_user", &alice).await;
    submit(&browser, "form:has(#t-registered_user)").await;
    assert!(page_text(&browser).await.contains("Attached."));
    select(&browser, "#t-asset", &asset).await;
    submit(&browser, "form:has(#t-asset)").await;
    assert!(page_text(&browser).await.contains("Attached."));
    let category = &api.get("/categories").await[0];
    assert_eq!(
        category["registered_users"],
        json!([alice.parse::<i64>().unwrap()])
    );
    assert_eq!(category["assets"], json!([asset]));
    screenshot(&browser, "categories").await;

    // An assignment, once the issuance has its confirmations.
    let assignments = format!("{root}/assets/{asset}/assignments");
    until(
        "the issuance to be assignable",
        Duration::from_secs(90),
        || async {
            browser.goto(&assignments).await.unwrap();
            select(&browser, "#f-registered_user", &alice).await;
            fill(&browser, "amount", "250000").await;
            submit(&browser, "form[action$='/assignments/create']").await;
            let text = page_text(&browser).await;
            match text.contains("Assigned.") {
                true => Some(()),
                false => {
                    assert!(text.contains("confirmation"), "{text}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    None
                }
            }
        },
    )
    .await;
    submit(&browser, "form[action$='/lock']").await;
    assert!(page_text(&browser).await.contains("Locked the assignment."));
    submit(&browser, "form[action$='/unlock']").await;
    assert!(page_text(&browser)
        .await
        .contains("Unlocked the assignment."));
    screenshot(&browser, "assignments").await;

    // A distribution: the confirm file and the exact command line, paid with the binary; the
    // page shows it confirmed without reloading.
    browser
        .goto(&format!("{root}/assets/{asset}/distributions"))
        .await
        .unwrap();
    submit(&browser, "form[action$='/distributions/create']").await;
    let path = browser.current_url().await.unwrap().path().to_string();
    let id = path.rsplit('/').next().unwrap().to_string();
    let line = text_of(&browser, "#confirm-line").await;
    assert!(
        line.starts_with(&format!("amphora confirm -u {} -n ", platform.username))
            && line.ends_with(&format!("distribute -f distribution-{id}.json")),
        "{line}"
    );
    let file = confirm_file(&browser).await;
    let file_path = dir.path().join(format!("distribution-{id}.json"));
    std::fs::write(&file_path, &file).unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&file).unwrap()["distribution_uuid"],
        id
    );
    screenshot(&browser, "distribution-pending").await;
    confirm_with_binary(&platform, dir.path(), "distribute", &file_path);
    until_confirmed(&browser, "#distribution-status").await;
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        path,
        "reloaded"
    );
    screenshot(&browser, "distribution-confirmed").await;
    no_console_errors(&browser, None, "the distribution").await;

    // The holder in the cap table, in the asset's precision next to the base units.
    browser
        .goto(&format!("{root}/assets/{asset}"))
        .await
        .unwrap();
    let table = text_of(&browser, "table.captable").await;
    assert!(
        table.contains("Alice") && table.contains("2,500.00") && table.contains("250,000 units"),
        "{table}"
    );
    assert!(browser.find(Locator::Css("svg.chart")).await.is_ok());
    let first = text_of(&browser, "table.captable tbody tr").await;
    assert!(first.starts_with("ISSUER"), "largest first: {first}");
    browser
        .find(Locator::Css("table.captable th a[href$='sort=holder']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(
        "the cap table by holder",
        Duration::from_secs(10),
        || async {
            let first = text_of(&browser, "table.captable tbody tr").await;
            first.starts_with("Alice").then_some(())
        },
    )
    .await;

    // Reissue and burn: a bad amount beside its field, then the same confirm step as a
    // distribution, sent with the binary and seen confirmed without reloading.
    for (segment, command, amount) in [
        ("reissuances", "reissue", "5000"),
        ("burns", "burn", "1000"),
    ] {
        browser
            .goto(&format!("{root}/assets/{asset}/{segment}"))
            .await
            .unwrap();
        fill(&browser, "amount", "0").await;
        submit(&browser, "form[action$='/request']").await;
        let error = text_of(&browser, "#f-amount-error").await;
        assert!(error.contains("greater than or equal to 1"), "{error}");
        fill(&browser, "amount", amount).await;
        submit(&browser, "form[action$='/request']").await;
        let line = text_of(&browser, "#confirm-line").await;
        assert!(
            line.starts_with(&format!("amphora confirm -u {} -n ", platform.username))
                && line.contains(&format!(" {command} -f {command}-")),
            "{line}"
        );
        let file_name = line.rsplit(' ').next().unwrap().to_string();
        let file = confirm_file(&browser).await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&file).unwrap()["command"],
            command
        );
        let file_path = dir.path().join(&file_name);
        std::fs::write(&file_path, &file).unwrap();
        let path = browser.current_url().await.unwrap().path().to_string();
        confirm_with_binary(&platform, dir.path(), command, &file_path);
        until_confirmed(&browser, "#request-status").await;
        assert_eq!(browser.current_url().await.unwrap().path(), path);
        screenshot(&browser, &format!("{segment}-confirmed")).await;
        no_console_errors(&browser, Some(400), segment).await;
    }
    // A payout in L-BTC to the holders (Alice alone), paid with the binary, seen confirmed live.
    let labels: serde_json::Value = platform
        .treasury()
        .call("dumpassetlabels", &[])
        .await
        .unwrap();
    let lbtc = labels["bitcoin"].as_str().unwrap().to_string();
    browser
        .goto(&format!("{root}/assets/{asset}/payouts"))
        .await
        .unwrap();
    fill(&browser, "payout_asset", &lbtc).await;
    fill(&browser, "total_amount", "3000").await;
    fill(&browser, "description", "2026 dividend").await;
    submit(&browser, "form[action$='/payouts/create']").await;
    let path = browser.current_url().await.unwrap().path().to_string();
    let id = path.rsplit('/').next().unwrap().to_string();
    let line = text_of(&browser, "#confirm-line").await;
    assert!(
        line.ends_with(&format!("payout -f payout-{id}.json")),
        "{line}"
    );
    let file_path = dir.path().join(format!("payout-{id}.json"));
    std::fs::write(&file_path, confirm_file(&browser).await).unwrap();
    confirm_with_binary(&platform, dir.path(), "payout", &file_path);
    until_confirmed(&browser, "#payout-status").await;
    assert_eq!(browser.current_url().await.unwrap().path(), path);
    // reloaded, the line shows the output that paid it
    browser.refresh().await.unwrap();
    let lines = text_of(&browser, "table").await;
    let paid = api.get(&format!("/assets/{asset}/payouts/{id}")).await;
    let txid = paid["lines"][0]["txid"].as_str().unwrap().to_string();
    assert!(
        lines.contains("250,000") && lines.contains("3,000") && lines.contains(&txid),
        "{lines}"
    );
    screenshot(&browser, "payout-confirmed").await;
    no_console_errors(&browser, None, "the payout").await;

    let summary = api.get(&format!("/assets/{asset}/summary")).await;
    assert_eq!(
        (&summary["reissued"], &summary["burned"]),
        (&json!(5000), &json!(1000)),
        "{summary}"
    );

    browser
        .goto(&format!("{root}/assets/{asset}"))
        .await
        .unwrap();
    screenshot(&browser, "asset").await;
    no_console_errors(&browser, None, "the asset page").await;
    browser.goto(&format!("{root}/")).await.unwrap();
    screenshot(&browser, "assets").await;

    // Every field of every page has a label, and at a phone's width no page scrolls sideways
    // (wide tables scroll inside their box).
    let pages = [
        "/".to_string(),
        "/assets/issue".to_string(),
        format!("/assets/{asset}"),
        format!("/assets/{asset}/assignments"),
        format!("/assets/{asset}/payouts"),
        format!("/assets/{asset}/reissuances"),
        format!("/assets/{asset}/outputs"),
        "/registered_users".to_string(),
        "/categories".to_string(),
        "/managers".to_string(),
    ];
    for width in [1280, 390] {
        browser.set_window_size(width, 844).await.unwrap();
        for page in &pages {
            browser.goto(&format!("{root}{page}")).await.unwrap();
            let unlabelled = browser
                .execute(
                    "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]\
                     .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))\
                     .map(e => e.name);",
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(unlabelled, json!([]), "fields without a label on {page}");
            let overflow = browser
                .execute(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                    vec![],
                )
                .await
                .unwrap();
            if overflow.as_i64().unwrap() > 0 {
                let wide = browser
                    .execute(
                        "const w = document.documentElement.clientWidth; \
                         return [...document.querySelectorAll('body *')]\
                         .filter(e => e.getBoundingClientRect().right > w || (e.scrollWidth > e.clientWidth + 1 \
                         && getComputedStyle(e).overflowX === 'visible'))\
                         .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + \
                         e.textContent.slice(0, 60));",
                        vec![],
                    )
                    .await
                    .unwrap();
                panic!("{page} scrolls sideways by {overflow} px at {width} px: {wide}");
            }
        }
    }
    browser
        .goto(&format!("{root}/assets/{asset}"))
        .await
        .unwrap();
    screenshot(&browser, "asset-phone").await;
    browser.set_window_size(1280, 800).await.unwrap();
    no_console_errors(&browser, None, "the pages at both widths").await;

    // A manager granted one asset only sees it, not the issuer's other asset.
    let other = api
        .ok(
            "POST",
            "/assets/issue",
            Some(json!({"name": "Hidden asset", "amount": 10,
                "destination_address": treasury_address, "domain": "example.com",
                "ticker": "HIDN", "pubkey": PUBKEY})),
            201,
        )
        .await;
    // The manager is created, unlocked and granted the asset on the managers page.
    browser.goto(&format!("{root}/managers")).await.unwrap();
    fill(&browser, "username", "manager").await;
    fill(&browser, "password", "short").await;
    submit(&browser, "form[action='/managers/create']").await;
    assert!(!text_of(&browser, "#f-password-error").await.is_empty());
    fill(&browser, "username", "manager").await;
    fill(&browser, "password", MANAGER_PASSWORD).await;
    submit(&browser, "form[action='/managers/create']").await;
    assert!(page_text(&browser)
        .await
        .contains("Created manager (locked)."));
    submit(&browser, "form[action$='/unlock']").await;
    assert!(page_text(&browser).await.contains("Unlocked the manager."));
    select(&browser, "select[name=asset]", &asset).await;
    submit(&browser, "form[action$='/grant']").await;
    assert!(page_text(&browser).await.contains("Granted."));
    screenshot(&browser, "managers").await;
    browser.goto(&format!("{root}/audit")).await.unwrap();
    let audit = text_of(&browser, "table").await;
    assert!(
        audit.contains("PUT /api/managers/") && audit.contains("POST /api/assets/issue"),
        "{audit}"
    );
    screenshot(&browser, "audit").await;
    no_console_errors(&browser, Some(400), "the managers and audit pages").await;
    submit(&browser, "form.signout").await;
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");
    // The manager signs in with the keyboard alone: Tab from the user name to the password,
    // Enter sends the form.
    browser.goto(&format!("{root}/login")).await.unwrap();
    let old = browser.find(Locator::Css("html")).await.unwrap();
    browser
        .find(Locator::Css("[name='username']"))
        .await
        .unwrap()
        .send_keys(&("manager".to_string() + &Key::Tab))
        .await
        .unwrap();
    let focused = browser.active_element().await.unwrap();
    assert_eq!(
        focused.attr("name").await.unwrap().as_deref(),
        Some("password")
    );
    focused
        .send_keys(&(MANAGER_PASSWORD.to_string() + &Key::Enter))
        .await
        .unwrap();
    until("the page after Enter", Duration::from_secs(30), || async {
        old.tag_name().await.is_err().then_some(())
    })
    .await;
    let text = page_text(&browser).await;
    assert!(
        text.contains("Console Fund") && !text.contains("Hidden asset"),
        "{text}"
    );
    assert!(!text.contains("Issue an asset"), "{text}");
    let hidden = other["asset_uuid"].as_str().unwrap();
    browser
        .goto(&format!("{root}/assets/{hidden}"))
        .await
        .unwrap();
    let text = page_text(&browser).await;
    assert!(
        !text.contains("Hidden asset") && text.contains("Not available"),
        "{text}"
    );
    browser
        .goto(&format!("{root}/assets/{asset}"))
        .await
        .unwrap();
    let text = page_text(&browser).await;
    assert!(
        text.contains("Console Fund") && !text.contains("Holders"),
        "{text}"
    );
    browser.close().await.unwrap();
}

/// Issue 19, item 3: `/api/docs` renders the served document in Chromium offline. Every host but
/// loopback goes through a proxy that is not there (a closed port), so a file from a CDN would
/// not load; the page shows the document's title and one block per operation, and every
/// resource it loaded came from the platform.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_api_docs_render_offline() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy = format!("--proxy-server=http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (_driver, browser) = browser(&[&proxy]).await;
    let dir = tempfile::tempdir().unwrap();
    let platform = Platform::start(dir.path(), Options::default()).await;
    let root = platform.url.clone();
    let document: serde_json::Value = reqwest::get(format!("{root}/api/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert!(operations > 50, "{operations} operations");

    browser.goto(&format!("{root}/api/docs")).await.unwrap();
    let count = "return document.querySelectorAll('.swagger-ui .opblock').length";
    let what = format!("Swagger UI to render the {operations} operations");
    until(&what, Duration::from_secs(30), || async {
        let blocks = browser.execute(count, vec![]).await.unwrap().as_u64();
        if blocks == Some(operations as u64) {
            return Some(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        None
    })
    .await;
    let title = text_of(&browser, ".swagger-ui .info .title").await;
    assert!(title.contains("Amphora AMP API"), "{title}");
    let loaded = browser
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)",
            vec![],
        )
        .await
        .unwrap();
    let loaded: Vec<&str> = loaded
        .as_array()
        .unwrap()
        .iter()
        .map(|url| url.as_str().unwrap())
        .collect();
    assert!(
        loaded.iter().any(|url| url.ends_with("/api/openapi.json"))
            && loaded
                .iter()
                .any(|url| url.ends_with("/swagger-ui-bundle.js")),
        "{loaded:?}"
    );
    for url in &loaded {
        assert!(
            url.starts_with(&format!("{root}/")),
            "loaded from outside: {url}"
        );
    }
    browser.close().await.unwrap();
}
