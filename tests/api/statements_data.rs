//! What the LRS keeps, sets and normalises when it stores a statement (ids, stored, timestamp,
//! version, numbers, durations), under xAPI 1.0.3 and 2.0, each on both backends.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn stmt() -> Value {
    json!({"actor": {"objectType": "Agent", "mbox": "mailto:data@example.com"},
           "verb": {"id": "http://example.com/verbs/kept"},
           "object": {"objectType": "Activity", "id": "http://example.com/activities/data"}})
}

async fn put(app: &TestApp, id: &str, body: &Value) -> (u16, Value) {
    let r = app.req(Method::PUT, &format!("/xapi/statements?statementId={id}")).json(body).send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, id: &str) -> Value {
    let (status, s) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
    assert_eq!(status, 200, "{s}");
    s
}

/// PUT: the body's id must be the statementId (any case); a non-string id is refused by validation
/// instead of being replaced; without statementId it is a 400.
async fn put_statement_id_rules(app: TestApp) {
    let id = uuid();
    let mut s = stmt();
    s["id"] = json!(id.to_uppercase());
    assert_eq!(put(&app, &id, &s).await.0, 204);
    assert_eq!(get(&app, &id).await["id"], json!(id));
    s["id"] = json!(uuid());
    let (status, body) = put(&app, &uuid(), &s).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("does not match"), "{body}");
    s["id"] = json!(12345);
    let (status, body) = put(&app, &uuid(), &s).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("statement.id"), "{body}");
    let r = app.req(Method::PUT, "/xapi/statements").json(&stmt()).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.statement_count().await, 1);
}
both!(put_statement_id_rules);

/// The LRS sets id, stored, authority and version, replaces a client `stored`, and sets a missing
/// timestamp to exactly `stored`; `stored` carries milliseconds.
async fn lrs_set_properties(app: TestApp) {
    let mut s = stmt();
    s["stored"] = json!("2011-07-15T12:00:00.000Z");
    let (status, ids) = app.post_statements(&s).await;
    assert_eq!(status, 200);
    let got = get(&app, ids[0].as_str().unwrap()).await;
    assert_ne!(got["stored"], json!("2011-07-15T12:00:00.000Z"));
    assert_eq!(got["timestamp"], got["stored"]);
    let stored = got["stored"].as_str().unwrap();
    assert!(stored.len() == 24 && stored.ends_with('Z') && stored.as_bytes()[19] == b'.', "{stored}");
    assert_eq!(got["authority"]["account"]["name"], json!(crate::support::KEY));
    assert_eq!(got["version"], json!("1.0.0"));
}
both!(lrs_set_properties);

/// `since` with a statement's own `stored` value excludes it and `until` includes it: the LRS keeps
/// `stored` at the millisecond precision it reports, so resuming from the last value seen neither
/// repeats nor skips statements.
async fn stored_precision_matches_what_clients_see(app: TestApp) {
    let verb = format!("http://example.com/verbs/{}", uuid());
    let mut s = stmt();
    s["verb"]["id"] = json!(verb);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let (_, ids) = app.post_statements(&s).await;
        seen.push(get(&app, ids[0].as_str().unwrap()).await);
    }
    for st in &seen {
        let stored = st["stored"].as_str().unwrap();
        let (_, after) = app.get_json(&format!("/xapi/statements?verb={verb}&since={stored}")).await;
        assert!(after["statements"].as_array().unwrap().iter().all(|x| x["id"] != st["id"]), "since {stored}");
        let (_, upto) = app.get_json(&format!("/xapi/statements?verb={verb}&until={stored}")).await;
        assert!(upto["statements"].as_array().unwrap().iter().any(|x| x["id"] == st["id"]), "until {stored}");
    }
}
both!(stored_precision_matches_what_clients_see);

/// The `version` a client sends is kept as sent: 1.0.x under 1.0.3; 1.0.x and 2.0.x under 2.0. A
/// statement without one gets the request's version family. Others are refused.
async fn version_is_retained(app: TestApp) {
    let mut app = app;
    for (request, sent, ok) in [
        ("1.0.3", "1.0.3", true),
        ("1.0.3", "1.0", true),
        ("1.0.3", "1.0.9", true),
        ("1.0.3", "2.0.0", false),
        ("2.0.0", "2.0.0", true),
        ("2.0.0", "1.0.3", true),
        ("2.0.0", "1.1.0", false),
        ("2.0.0", "0.9.9", false),
    ] {
        app.version = request;
        let mut s = stmt();
        s["version"] = json!(sent);
        let (status, body) = app.post_statements(&s).await;
        if ok {
            assert_eq!(status, 200, "{request}/{sent}: {body}");
            assert_eq!(get(&app, body[0].as_str().unwrap()).await["version"], json!(sent), "{request}/{sent}");
        } else {
            assert_eq!(status, 400, "{request}/{sent}: {body}");
            assert!(body["error"]["message"].as_str().unwrap().contains("statement.version"), "{body}");
        }
    }
    app.version = "2.0.0";
    let (_, ids) = app.post_statements(&stmt()).await;
    assert_eq!(get(&app, ids[0].as_str().unwrap()).await["version"], json!("2.0.0"));
}
both!(version_is_retained);

/// xAPI 2.0 returns timestamps in UTC (same instant, sub-millisecond digits kept); 1.0.3 keeps the
/// timestamp exactly as sent.
async fn timestamps_by_version(app: TestApp) {
    let mut app = app;
    let mut s = stmt();
    s["timestamp"] = json!("2023-05-04T12:00:00.123456-05:00");
    app.version = "2.0.0";
    let (_, ids) = app.post_statements(&s).await;
    assert_eq!(get(&app, ids[0].as_str().unwrap()).await["timestamp"], json!("2023-05-04T17:00:00.123456Z"));
    s["timestamp"] = json!("2008-09-15T15:53:00.601+00:00");
    let (_, ids) = app.post_statements(&s).await;
    assert_eq!(get(&app, ids[0].as_str().unwrap()).await["timestamp"], json!("2008-09-15T15:53:00.601Z"));
    app.version = "1.0.3";
    s["timestamp"] = json!("2023-05-04T12:00:00.123456-05:00");
    let (_, ids) = app.post_statements(&s).await;
    assert_eq!(get(&app, ids[0].as_str().unwrap()).await["timestamp"], json!("2023-05-04T12:00:00.123456-05:00"));
    // Negative zero offsets mean "unknown" and are refused in both versions; future times are fine.
    for v in ["1.0.3", "2.0.0"] {
        app.version = v;
        s["timestamp"] = json!("2008-09-15T15:53:00.601-00:00");
        assert_eq!(app.post_statements(&s).await.0, 400, "{v}");
        s["timestamp"] = json!("2099-01-01T00:00:00Z");
        assert_eq!(app.post_statements(&s).await.0, 200, "{v}");
    }
}
both!(timestamps_by_version);

/// Numbers come back as the same numbers (no float narrowing or decimal padding). The long-mantissa
/// and extreme values need serde_json's exact float parsing (`float_roundtrip`); a best-effort parser
/// would return a neighbouring float for some of them.
async fn numbers_round_trip(app: TestApp) {
    let mut s = stmt();
    let hard = [1.1362275116276523e-8, 2.2201838057111728e-13, 0.30000000000000004, 5e-324, 1.7976931348623157e308];
    s["result"] = json!({"score": {"min": 0.12123434, "raw": 12.125, "max": 45.45, "scaled": 0.12123434},
                         "extensions": {"http://example.com/ext/n": [0.1, 1e-7, 12345678901234567890u64, -3, 2.5e300],
                                        "http://example.com/ext/hard": hard}});
    let (status, ids) = app.post_statements(&s).await;
    assert_eq!(status, 200, "{ids}");
    let got = get(&app, ids[0].as_str().unwrap()).await;
    assert_eq!(got["result"], s["result"]);
    assert_eq!(got["result"]["score"]["raw"].as_f64(), Some(12.125));
    assert_eq!(got["result"]["score"]["min"].as_f64(), Some(0.12123434));
}
both!(numbers_round_trip);

/// `null` is not a value a statement property may take, `timestamp` included: a client that has no
/// timestamp leaves it out (the LRS then sets it to `stored`). Extension values may be null.
async fn null_timestamp_is_refused(app: TestApp) {
    let mut app = app;
    for v in ["1.0.3", "2.0.0"] {
        app.version = v;
        let mut s = stmt();
        s["timestamp"] = Value::Null;
        let (status, body) = app.post_statements(&s).await;
        assert_eq!(status, 400, "{v}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("statement.timestamp"), "{v}: {body}");
        let mut s = stmt();
        s["result"] = json!({"extensions": {"http://example.com/ext/null": null}});
        assert_eq!(app.post_statements(&s).await.0, 200, "{v}");
    }
}
both!(null_timestamp_is_refused);

/// A re-sent statement id: the same statement (differing only in what the LRS sets, in
/// contextActivities form, or in duration digits beyond 0.01 s) is accepted without change; a
/// different one is a 409 and the stored statement is unchanged.
async fn resending_a_statement(app: TestApp) {
    let id = uuid();
    let mut s = stmt();
    s["result"] = json!({"duration": "PT1M2.3456S"});
    s["context"] = json!({"contextActivities": {"parent": {"id": "http://example.com/activities/parent"}}});
    assert_eq!(put(&app, &id, &s).await.0, 204);
    let mut same = s.clone();
    same["result"]["duration"] = json!("PT1M2.34S");
    same["context"]["contextActivities"]["parent"] = json!([{"id": "http://example.com/activities/parent"}]);
    same["id"] = json!(id);
    assert_eq!(app.post_statements(&same).await.0, 200);
    assert_eq!(put(&app, &id, &same).await.0, 204);
    let mut different = s.clone();
    different["result"]["duration"] = json!("PT1M2.35S");
    assert_eq!(put(&app, &id, &different).await.0, 409);
    let got = get(&app, &id).await;
    assert_eq!(got["result"]["duration"], json!("PT1M2.3456S"));
    assert_eq!(got["context"]["contextActivities"]["parent"], json!([{"id": "http://example.com/activities/parent"}]));
    assert_eq!(app.statement_count().await, 1);
}
both!(resending_a_statement);

/// xAPI 2.0: one batch naming the same id twice is a 400 and stores nothing.
async fn duplicate_ids_in_a_batch(app: TestApp) {
    let mut app = app;
    app.version = "2.0.0";
    let mut s = stmt();
    s["id"] = json!(uuid());
    let (status, body) = app.post_statements(&json!([s, s])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("more than once"), "{body}");
    assert_eq!(app.statement_count().await, 0);
}
both!(duplicate_ids_in_a_batch);
