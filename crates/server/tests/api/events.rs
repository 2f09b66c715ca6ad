//! The events feed and stream: filters, paging, bad input, issuer isolation, managers' grants,
//! and the Server-Sent Events stream resuming after a disconnect without gaps, picking up rows
//! another replica wrote, and ending when its token is revoked.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::TestApp;

async fn issuer_id(app: &TestApp, username: &str) -> i64 {
    app.state
        .store()
        .issuer_by_username(username)
        .await
        .unwrap()
        .unwrap()
        .id
}

/// `(type, asset_uuid)` of every event of a feed answer.
fn seen(body: &Value) -> Vec<(String, String)> {
    body["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {body}"))
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["asset_uuid"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pair(kind: &str, asset: &str) -> (String, String) {
    (kind.to_string(), asset.to_string())
}

#[tokio::test]
async fn the_feed_filters_pages_and_keeps_issuers_apart() {
    let app = TestApp::new().await;
    let alice = app.issuer("alice").await;
    let bob = app.issuer("bob").await;
    let a1 = app.stored_asset(issuer_id(&app, "alice").await).await;
    let a2 = app.stored_asset(issuer_id(&app, "alice").await).await;
    let b1 = app.stored_asset(issuer_id(&app, "bob").await).await;
    for (path, token) in [
        (format!("/api/assets/{a1}/lock"), &alice),
        (format!("/api/assets/{a1}/unlock"), &alice),
        (format!("/api/assets/{b1}/lock"), &bob),
    ] {
        let reply = app.put(&path, token, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    }
    let all = app.get("/api/events", &alice).await;
    assert_eq!(all.status, StatusCode::OK, "{:?}", all.body);
    assert_eq!(
        seen(&all.body),
        [
            pair("asset.issued", &a1),
            pair("asset.issued", &a2),
            pair("asset.locked", &a1),
            pair("asset.unlocked", &a1),
        ]
    );
    let first = &all.body["results"][0];
    assert_eq!(first["issuer_id"], issuer_id(&app, "alice").await);
    assert_eq!(first["data"]["asset_id"], "ab".repeat(32));
    assert_eq!(first["block_height"], Value::Null);
    assert!(first["created"].as_str().unwrap().contains('T'));
    let ids: Vec<i64> = all.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(all.body["last_id"], ids[3]);

    let reply = app
        .get("/api/events?types=asset.locked,asset.unlocked", &alice)
        .await;
    assert_eq!(
        seen(&reply.body),
        [pair("asset.locked", &a1), pair("asset.unlocked", &a1)]
    );
    let reply = app
        .get(
            "/api/events?types=asset.unlocked&types=asset.issued",
            &alice,
        )
        .await;
    assert_eq!(seen(&reply.body).len(), 3);
    let reply = app
        .get(&format!("/api/events?asset_uuid={a2}"), &alice)
        .await;
    assert_eq!(seen(&reply.body), [pair("asset.issued", &a2)]);
    // Pages, resumed from last_id; an empty page keeps `after`.
    let page = app.get("/api/events?limit=3", &alice).await;
    assert_eq!(seen(&page.body).len(), 3);
    let last = page.body["last_id"].as_i64().unwrap();
    assert_eq!(last, ids[2]);
    let rest = app
        .get(&format!("/api/events?after={last}&limit=3"), &alice)
        .await;
    assert_eq!(seen(&rest.body), [pair("asset.unlocked", &a1)]);
    let end = app
        .get(&format!("/api/events?after={}", ids[3]), &alice)
        .await;
    assert_eq!(seen(&end.body), []);
    assert_eq!(end.body["last_id"], ids[3]);

    // Bob sees his own only, even when he names Alice's asset.
    let reply = app.get("/api/events", &bob).await;
    assert_eq!(
        seen(&reply.body),
        [pair("asset.issued", &b1), pair("asset.locked", &b1)]
    );
    let reply = app.get(&format!("/api/events?asset_uuid={a1}"), &bob).await;
    assert_eq!(seen(&reply.body), []);

    // Bad input: field errors naming the parameter.
    for (query, field) in [
        ("after=-1", "after"),
        ("after=x", "after"),
        ("after=", "after"),
        ("after=1&after=2", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=%205", "limit"),
        ("types=asset.issued,nope", "types"),
        ("asset_uuid=not-a-uuid", "asset_uuid"),
    ] {
        let reply = app.get(&format!("/api/events?{query}"), &alice).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(reply.body[field].is_array(), "{query}: {:?}", reply.body);
    }
    let reply = app
        .send(axum::http::Method::GET, "/api/events", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = app
        .send(axum::http::Method::GET, "/api/events/stream", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn managers_see_the_events_of_their_granted_assets_only() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let id = issuer_id(&app, "alice").await;
    let granted = app.stored_asset(id).await;
    let other = app.stored_asset(id).await;
    let (manager_id, manager) = app.manager(&issuer, "mgr").await;
    let reply = app.get("/api/events", &manager).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(seen(&reply.body), []);
    let reply = app
        .put(
            &format!("/api/managers/{manager_id}/assets/{granted}/add"),
            &issuer,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    app.put(&format!("/api/assets/{other}/lock"), &issuer, None)
        .await;
    let reply = app.get("/api/events", &manager).await;
    assert_eq!(seen(&reply.body), [pair("asset.issued", &granted)]);
    let reply = app
        .get(&format!("/api/events?asset_uuid={granted}"), &manager)
        .await;
    assert_eq!(seen(&reply.body), [pair("asset.issued", &granted)]);
    for path in [
        format!("/api/events?asset_uuid={other}"),
        format!("/api/events/stream?asset_uuid={other}"),
    ] {
        let reply = app.get(&path, &manager).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    // The issuer sees both assets' events.
    let reply = app.get("/api/events", &issuer).await;
    assert_eq!(seen(&reply.body).len(), 3);
}

/// One Server-Sent Events connection over the router.
struct Stream {
    body: Body,
    buffer: String,
}

/// One received event: its id, event name and data.
#[derive(Debug)]
struct Frame {
    id: i64,
    event: String,
    data: Value,
}

impl Stream {
    async fn open(app: &TestApp, path: &str, token: &str, last_id: Option<i64>) -> Stream {
        let mut request = Request::get(path).header("authorization", format!("token {token}"));
        if let Some(id) = last_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = app
            .router
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Stream {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when the stream ended; panics after `wait` without one.
    async fn next(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut frame = (None, String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        frame.0 = Some(v.trim().parse::<i64>().unwrap());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        frame.1 = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        frame.2.push_str(v.trim_start());
                    }
                }
                if let Some(id) = frame.0 {
                    return Some(Frame {
                        id,
                        event: frame.1,
                        data: serde_json::from_str(&frame.2).unwrap(),
                    });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .expect("no event in time");
            match chunk {
                None => return None,
                Some(frame) => {
                    if let Ok(data) = frame.unwrap().into_data() {
                        self.buffer.push_str(std::str::from_utf8(&data).unwrap());
                    }
                }
            }
        }
    }

    /// Asserts that nothing arrives within `wait`.
    async fn quiet(&mut self, wait: Duration) {
        let got = tokio::time::timeout(wait, self.next(wait * 2)).await;
        assert!(got.is_err(), "unexpected event: {got:?}");
    }
}

/// Inserts an event of `issuer` the way another replica would: straight into the table, so
/// this process's signal does not fire.
async fn from_another_replica(app: &TestApp, issuer: i64, asset: &str) {
    let sql = format!(
        "INSERT INTO events (issuer_id, type, asset_uuid, block_height, created_at, data) \
         VALUES ({issuer}, 'asset.locked', '{asset}', NULL, '2026-01-01T00:00:00Z', \
         '{{\"asset_id\": null, \"is_locked\": true}}')"
    );
    app.execute_raw(&sql).await.unwrap();
}

#[tokio::test]
async fn the_stream_resumes_after_a_disconnect_without_gaps() {
    let app = TestApp::new().await;
    let token = app.issuer("alice").await;
    let id = issuer_id(&app, "alice").await;
    let asset = app.stored_asset(id).await;
    let second = app.stored_asset(id).await;
    let wait = Duration::from_secs(10);

    let mut stream = Stream::open(&app, "/api/events/stream", &token, None).await;
    let first = stream.next(wait).await.unwrap();
    assert_eq!(first.event, "asset.issued");
    assert_eq!(first.data["id"], first.id);
    assert_eq!(first.data["type"], "asset.issued");
    assert_eq!(first.data["asset_uuid"], asset.as_str());
    let got = stream.next(wait).await.unwrap();
    assert_eq!(got.data["asset_uuid"], second.as_str());
    let mut last = got.id;
    // New events arrive while connected.
    app.put(&format!("/api/assets/{asset}/lock"), &token, None)
        .await;
    let got = stream.next(wait).await.unwrap();
    assert_eq!((got.event.as_str(), got.id > last), ("asset.locked", true));
    last = got.id;
    // Disconnect; events happen meanwhile, one of them on another replica.
    drop(stream);
    app.put(&format!("/api/assets/{asset}/unlock"), &token, None)
        .await;
    from_another_replica(&app, id, &second).await;
    app.put(&format!("/api/assets/{asset}/lock"), &token, None)
        .await;
    let mut stream = Stream::open(&app, "/api/events/stream", &token, Some(last)).await;
    let mut resumed = Vec::new();
    for _ in 0..3 {
        resumed.push(stream.next(wait).await.unwrap());
    }
    let kinds: Vec<&str> = resumed.iter().map(|f| f.event.as_str()).collect();
    assert_eq!(kinds, ["asset.unlocked", "asset.locked", "asset.locked"]);
    assert_eq!(resumed[1].data["asset_uuid"], second.as_str());
    assert!(resumed.windows(2).all(|w| w[0].id < w[1].id));
    assert!(resumed[0].id > last);
    stream.quiet(Duration::from_millis(1500)).await;
    // A row another replica writes while connected arrives by the poll.
    from_another_replica(&app, id, &asset).await;
    let got = stream.next(wait).await.unwrap();
    assert_eq!(got.data["asset_uuid"], asset.as_str());

    // Concurrent writers while streaming: every event exactly once, in id order.
    let mut stream = Stream::open(&app, "/api/events/stream?after=0", &token, None).await;
    let writers: Vec<_> = (0..4)
        .map(|n| {
            let app_router = app.router.clone();
            let token = token.clone();
            let target = if n % 2 == 0 {
                asset.clone()
            } else {
                second.clone()
            };
            tokio::spawn(async move {
                for round in 0..5 {
                    let action = if round % 2 == 0 { "lock" } else { "unlock" };
                    let request = Request::put(format!("/api/assets/{target}/{action}"))
                        .header("authorization", format!("token {token}"))
                        .body(Body::empty())
                        .unwrap();
                    let response = app_router.clone().oneshot(request).await.unwrap();
                    assert_eq!(response.status(), StatusCode::OK);
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let stored = app
        .state
        .store()
        .events_after(id, 0, &[], None, 1000)
        .await
        .unwrap();
    let mut streamed = Vec::new();
    while streamed.len() < stored.len() {
        streamed.push(stream.next(wait).await.unwrap().id);
    }
    let expected: Vec<i64> = stored.iter().map(|e| e.id).collect();
    assert_eq!(streamed, expected);
    stream.quiet(Duration::from_millis(1500)).await;

    // Filters apply to the stream too; a bad Last-Event-ID is refused.
    let mut filtered = Stream::open(
        &app,
        &format!("/api/events/stream?types=asset.issued&asset_uuid={second}"),
        &token,
        None,
    )
    .await;
    let only = filtered.next(wait).await.unwrap();
    assert_eq!(only.data["asset_uuid"], second.as_str());
    filtered.quiet(Duration::from_millis(1500)).await;
    for bad in ["-1", "x", ""] {
        let request = Request::get("/api/events/stream")
            .header("authorization", format!("token {token}"))
            .header("last-event-id", bad)
            .body(Body::empty())
            .unwrap();
        let reply = app.call(request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(reply.body["Last-Event-ID"].is_array(), "{:?}", reply.body);
    }
}

#[tokio::test]
async fn a_stream_ends_when_its_token_is_revoked() {
    let app = TestApp::new().await;
    let issuer = app.issuer("alice").await;
    let id = issuer_id(&app, "alice").await;
    let asset = app.stored_asset(id).await;
    let (manager_id, manager) = app.manager(&issuer, "mgr").await;
    app.put(
        &format!("/api/managers/{manager_id}/assets/{asset}/add"),
        &issuer,
        None,
    )
    .await;
    let wait = Duration::from_secs(10);
    let mut stream = Stream::open(&app, "/api/events/stream", &manager, None).await;
    assert_eq!(stream.next(wait).await.unwrap().event, "asset.issued");
    // Locking the manager revokes its tokens: the open stream ends too.
    let reply = app
        .put(&format!("/api/managers/{manager_id}/lock"), &issuer, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    app.put(&format!("/api/assets/{asset}/lock"), &issuer, None)
        .await;
    assert!(stream.next(wait).await.is_none(), "the stream went on");
}
