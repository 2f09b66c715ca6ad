//! The ownerships reports a process keeps (`ownerships_cache`): answered again only while the
//! asset's holder rows are unchanged. A rename, a GAID added to a user, a block, a reorg and
//! the asset's deletion each show at once, at the tip and at a past height; another issuer
//! is not answered from them.

use amphora_store::{OutputOwner, TxKind};
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::Reported;

#[tokio::test]
async fn kept_reports_follow_every_change_at_once() {
    let r = Reported::new().await;
    r.index_history().await;
    let (tip, at_two) = (r.path("ownerships"), r.path("ownerships?height=2"));
    let before = r.get(&tip).await;
    assert_eq!(r.get(&tip).await, before, "answered again, unchanged");
    assert_eq!(r.get(&at_two).await[2]["owner"], "Bob");

    let send = |method: Method, path: String, body: serde_json::Value| {
        let r = &r;
        async move {
            let body = body.to_string();
            let reply = r.app.send(method, &path, Some(&r.token), Some(&body)).await;
            assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.body);
        }
    };
    // Bob renamed: his row at height 2 (he lost his output at 5, so not at the tip)
    let edit = format!("/api/registered_users/{}/edit", r.bob);
    send(Method::PUT, edit, json!({"name": "Robert"})).await;
    assert_eq!(r.get(&at_two).await[2]["owner"], "Robert");

    // C's GAID added to Alice: the tip's second row becomes hers
    let add = format!("/api/registered_users/{}/gaids/add", r.alice);
    send(Method::POST, add, json!(r.gaids[2])).await;
    let relinked = r.get(&tip).await;
    assert_eq!(relinked[1]["owner"], "Alice");
    assert_eq!(relinked[1]["registered_user"], r.alice);
    assert_ne!(relinked, before);

    // a block paying C 50 of the treasury's 400, then its reorg
    let block = r.block(
        6,
        &[(6, TxKind::Transfer)],
        vec![
            r.out(6, 0, 50, r.wallet(2), 6),
            r.out(6, 1, 350, OutputOwner::Treasury, 6),
        ],
        &[(4, 1, 6, false)],
    );
    r.app.state.store().apply_block(&block).await.unwrap();
    let paid = r.get(&tip).await;
    assert_eq!(paid[0]["amount"], 350);
    assert_eq!(paid[1]["amount"], 350, "C's 300 and 50");
    r.app.state.store().rollback_to(5).await.unwrap();
    assert_eq!(r.get(&tip).await, relinked, "the reorg undid the block");

    // another issuer is not answered from the kept texts
    let other = r.app.issuer("another-reporter").await;
    for path in [&tip, &at_two] {
        let reply = r.app.get(path, &other).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    // nor is anyone once the asset is deleted
    let delete = r.path("delete");
    let reply = r
        .app
        .send(Method::DELETE, &delete, Some(&r.token), None)
        .await;
    assert!(reply.status.is_success(), "{:?}", reply.body);
    for path in [&tip, &at_two] {
        let reply = r.app.get(path, &r.token).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
}
