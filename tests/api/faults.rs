//! Faults survived (issue 17): what clients see while the database is full or down, and that
//! service resumes by itself afterwards with no write lost, duplicated or half applied. Each test
//! bounds recovery ("within 10 s"), never speed.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::both;
use crate::support::{Backend, TestApp};

const ACT: &str = "http://example.com/activities/faults";

fn statement(id: &str, pad: usize) -> Value {
    json!({
        "id": id,
        "actor": {"objectType": "Agent", "mbox": "mailto:faults@example.com"},
        "verb": {"id": "http://example.com/verbs/survived"},
        "object": {"objectType": "Activity", "id": ACT},
        "result": {"response": "x".repeat(pad)}
    })
}

fn state_path(state_id: &str) -> String {
    let agent = json!({"objectType": "Agent", "mbox": "mailto:faults@example.com"}).to_string();
    let agent = serde_urlencoded::to_string([("agent", agent)]).unwrap();
    format!("/xapi/activities/state?activityId={ACT}&{agent}&stateId={state_id}")
}

/// The SQLite store of an app (the disk-full tests cap its file size).
fn sqlite_store(app: &TestApp) -> &cairn::store::sqlite::SqliteStore {
    match &app.lrs.store {
        cairn::store::Store::Sqlite(s) => s,
        _ => panic!("a SQLite app"),
    }
}

/// Ids of `ids` present in the store.
async fn present(app: &TestApp, ids: &[String]) -> usize {
    app.lrs.store.statements_by_id(ids).await.expect("read by id").len()
}

/// A full disk on SQLite refuses writes with 507 and `Retry-After` naming the cause, keeps reads
/// working and the previous State document intact, leaves nothing of the refused writes, and
/// writes resume without a restart once there is room again (issue 17, finding 1: every write
/// answered 500 "non-zero transaction depth" until restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_refuses_writes_with_507_then_resumes() {
    let app = TestApp::spawn(Backend::Sqlite).await.expect("sqlite app");
    let kept = Uuid::new_v4().to_string();
    assert_eq!(app.post_statements(&json!([statement(&kept, 10)])).await.0, 200);
    let doc = state_path("bookmark");
    let r = app.req(Method::PUT, &doc).json(&json!({"page": 1})).send().await.unwrap();
    assert_eq!(r.status(), 204);

    // Fill: cap the file at its current size, then write until the free pages are gone.
    sqlite_store(&app).set_max_page_count(1).await.expect("cap pages");
    let mut refused = Vec::new();
    let mut full = None;
    for _ in 0..200 {
        let ids: Vec<String> = (0..20).map(|_| Uuid::new_v4().to_string()).collect();
        let batch: Vec<Value> = ids.iter().map(|id| statement(id, 4_000)).collect();
        let r = app.req(Method::POST, "/xapi/statements").json(&batch).send().await.unwrap();
        if r.status() != StatusCode::OK {
            full = Some(r);
            refused = ids;
            break;
        }
    }
    let r = full.expect("the capped database fills up");
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    assert!(r.headers().contains_key("retry-after"), "507 carries Retry-After");
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("out of space"), "the answer names the cause: {body}");
    assert_eq!(present(&app, &refused).await, 0, "a refused batch leaves no statement");

    // A State write that needs room fails whole: the previous document is intact.
    let big = json!({"page": 2, "notes": "n".repeat(200_000)});
    let r = app.req(Method::PUT, &doc).json(&big).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let (status, current) = app.get_json(&doc).await;
    assert_eq!((status, current), (200, json!({"page": 1})), "the previous document is intact");

    // Reads keep working, and the store says it is not ready.
    let (status, _) = app.get_json(&format!("/xapi/statements?statementId={kept}")).await;
    assert_eq!(status, 200);
    let r = app.client.get(format!("{}/ready", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.unwrap();
    assert!(body["reason"].as_str().unwrap_or_default().contains("space"), "{body}");

    // Free space: writes resume on their own, the refused batch can be retried, nothing twice.
    sqlite_store(&app).set_max_page_count(1 << 30).await.expect("raise the cap");
    let batch: Vec<Value> = refused.iter().map(|id| statement(id, 4_000)).collect();
    let r = app.req(Method::POST, "/xapi/statements").json(&batch).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "writes resume without a restart");
    assert_eq!(present(&app, &refused).await, refused.len());
    let r = app.req(Method::PUT, &doc).json(&big).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(app.get_json(&doc).await.1, big);
    let r = app.client.get(format!("{}/ready", app.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// `GET /health` and `GET /ready` answer anonymous callers with JSON on the API origin, and reveal
/// nothing but up or down; the content origin does not answer them.
async fn health_and_ready_are_anonymous_json(app: TestApp) {
    for (path, status) in [("/health", "ok"), ("/ready", "ready")] {
        let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": status}), "{path}");
        let r = app.client.get(format!("{}{path}", app.content_base)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} on the content origin");
    }
}
both!(health_and_ready_are_anonymous_json);
