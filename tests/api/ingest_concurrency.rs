//! Concurrent ingest: many requests at once (which SQLite's group-commit writer stores in shared
//! transactions) must each stay all-or-nothing, and a failing request must not take others with it.

use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

fn statement(id: &str, n: usize) -> Value {
    json!({"id": id, "actor": {"mbox": format!("mailto:learner{n}@example.com")},
           "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
           "object": {"id": format!("http://example.com/activities/{}", n % 5),
                      "definition": {"name": {"en-US": format!("Activity {}", n % 5)}}}})
}

/// 48 concurrent batches of 3; every fourth also carries the id of a stored statement with different
/// content, so it must fail with 409 and store none of its statements, while all the others succeed.
async fn concurrent_batches_stay_all_or_nothing(app: TestApp) {
    let taken = uuid::Uuid::new_v4().to_string();
    let (status, _) = app.post_statements(&statement(&taken, 999)).await;
    assert_eq!(status, 200);
    let mut batches = Vec::new();
    for b in 0..48 {
        let mut batch: Vec<Value> = (0..3).map(|i| statement(&uuid::Uuid::new_v4().to_string(), b * 3 + i)).collect();
        if b % 4 == 0 {
            batch.push(statement(&taken, 1000 + b));
        }
        batches.push(batch);
    }
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = batches
        .iter()
        .cloned()
        .map(|batch| {
            let app = app.clone();
            tokio::spawn(async move { app.post_statements(&Value::Array(batch)).await.0 })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    for (b, (batch, status)) in batches.iter().zip(&statuses).enumerate() {
        let poisoned = b % 4 == 0;
        assert_eq!(*status, if poisoned { 409 } else { 200 }, "batch {b}");
        for s in batch.iter().filter(|s| s["id"] != json!(taken)) {
            let id = s["id"].as_str().unwrap_or_default();
            let (found, _) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
            assert_eq!(found, if poisoned { 404 } else { 200 }, "statement {id} of batch {b}");
        }
    }
    // Index rows of the stored ones are all there: each learner of a stored batch finds its statement.
    let (_, page) =
        app.get_json("/xapi/statements?agent=%7B%22mbox%22%3A%22mailto%3Alearner4%40example.com%22%7D").await;
    assert_eq!(page["statements"].as_array().map(Vec::len), Some(1), "{page}");
    // 36 good batches of 3, plus the first statement (counted by id: PostgreSQL sequences have gaps).
    assert_eq!(count_all(&app).await, 36 * 3 + 1);
}

/// Statements reachable through queries, following `more` (pages of 100 in the tests).
async fn count_all(app: &TestApp) -> usize {
    let mut url = "/xapi/statements?format=ids".to_string();
    let mut n = 0;
    for _ in 0..100 {
        let (status, page) = app.get_json(&url).await;
        assert_eq!(status, 200, "{page}");
        n += page["statements"].as_array().map_or(0, Vec::len);
        match page["more"].as_str() {
            Some(more) if !more.is_empty() => url = more.to_string(),
            _ => return n,
        }
    }
    panic!("more than 100 pages")
}
both!(concurrent_batches_stay_all_or_nothing);

/// Single-statement POSTs from many clients at once all land, each exactly once.
async fn concurrent_single_posts_all_land(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..64)
        .map(|n| {
            let app = app.clone();
            tokio::spawn(async move {
                let (status, ids) = app.post_statements(&statement(&uuid::Uuid::new_v4().to_string(), n)).await;
                (status, ids)
            })
        })
        .collect();
    for t in tasks {
        let (status, ids) = t.await.expect("task");
        assert_eq!(status, 200, "{ids}");
    }
    assert_eq!(count_all(&app).await, 64);
    let (_, page) = app.get_json("/xapi/statements?activity=http%3A%2F%2Fexample.com%2Factivities%2F3&limit=100").await;
    assert_eq!(page["statements"].as_array().map(Vec::len), Some(13), "{page}");
}
both!(concurrent_single_posts_all_land);

/// Statements posted at once that name one activity and one agent, each in its own language: the
/// canonical definition and the agent's names keep every one of them, first while the activity is
/// new (writers adding it together) and again once it is stored (writers changing it together).
async fn concurrent_writers_merge_one_definition(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let activity = format!("http://example.com/activities/{}", uuid::Uuid::new_v4());
    let mbox = format!("mailto:{}@example.com", uuid::Uuid::new_v4());
    for round in 0..2 {
        let tasks: Vec<_> = (0..24)
            .map(|n| {
                let app = app.clone();
                let lang = format!("x-l{round}-{n}");
                let body = json!({"actor": {"mbox": mbox, "name": format!("Name {round} {n}")},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                    "object": {"id": activity, "definition": {"name": {lang.clone(): format!("Text {lang}")}}}});
                tokio::spawn(async move { app.post_statements(&body).await })
            })
            .collect();
        for t in tasks {
            let (status, body) = t.await.expect("task");
            assert_eq!(status, 200, "{body}");
        }
        let (status, def) = app.get_json(&format!("/xapi/activities?activityId={}", urlencode(&activity))).await;
        assert_eq!(status, 200, "{def}");
        let names = def["definition"]["name"].as_object().cloned().unwrap_or_default();
        for r in 0..=round {
            for n in 0..24 {
                let lang = format!("x-l{r}-{n}");
                assert_eq!(names.get(&lang), Some(&json!(format!("Text {lang}"))), "round {round}: {lang} lost: {def}");
            }
        }
        let agent = urlencode(&json!({"mbox": mbox}).to_string());
        let (status, person) = app.get_json(&format!("/xapi/agents?agent={agent}")).await;
        assert_eq!(status, 200, "{person}");
        let seen = person["name"].as_array().cloned().unwrap_or_default();
        for r in 0..=round {
            for n in 0..24 {
                assert!(seen.contains(&json!(format!("Name {r} {n}"))), "round {round}: name {r} {n} lost: {person}");
            }
        }
    }
}
both!(concurrent_writers_merge_one_definition);

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn row(id: &str) -> cairn::store::NewStatement {
    cairn::store::NewStatement {
        id: id.to_string(),
        stored_us: 1,
        is_voiding: false,
        object_ref: None,
        authority: crate::support::KEY.to_string(),
        body: json!({"id": id}).to_string(),
        index: vec![('V', "http://example.com/verbs/v".to_string())],
        attachments: Vec::new(),
        activities: Vec::new(),
        agents: Vec::new(),
        actor: None,
    }
}

/// The store itself, without the LRS's pre-check: concurrent batches, some of which collide with a
/// stored id inside the database. Each collision fails only its own batch, leaving none of its rows,
/// and the others are all stored (on SQLite they share group transactions, one savepoint each).
async fn store_level_collision_fails_only_its_batch(app: TestApp) {
    let store = app.lrs.store.clone();
    let taken = uuid::Uuid::new_v4().to_string();
    store.insert_statements(vec![row(&taken)].into(), &[], Vec::new().into()).await.expect("first insert");
    let batches: Vec<Vec<cairn::store::NewStatement>> = (0..40)
        .map(|b| {
            let mut batch = vec![row(&uuid::Uuid::new_v4().to_string()), row(&uuid::Uuid::new_v4().to_string())];
            if b % 5 == 0 {
                batch.push(row(&taken));
            }
            batch
        })
        .collect();
    let tasks: Vec<_> = batches
        .iter()
        .cloned()
        .map(|batch| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_statements(batch.into(), &[], Vec::new().into()).await })
        })
        .collect();
    for (b, t) in tasks.into_iter().enumerate() {
        let r = t.await.expect("task");
        let poisoned = b % 5 == 0;
        if poisoned {
            assert!(matches!(r, Err(cairn::store::StoreError::DuplicateStatement(_))), "batch {b}: {r:?}");
        } else {
            assert!(r.is_ok(), "batch {b}: {r:?}");
        }
        let ids: Vec<String> = batches[b].iter().map(|s| s.id.clone()).filter(|id| *id != taken).collect();
        let found = store.statements_by_id(&ids).await.expect("read");
        assert_eq!(found.len(), if poisoned { 0 } else { 2 }, "batch {b}");
    }
}
both!(store_level_collision_fails_only_its_batch);

/// A budget of statements in flight far below the requests' size.
fn tiny_intake(c: &mut cairn::lrs::LrsConfig) {
    c.statements_in_flight_bytes = 4 * 1024;
}

/// Requests beyond the budget of statements in flight wait, they are not refused: with a 4 KiB
/// budget, a batch of 60 (~14 KiB, larger than the whole budget, so it runs alone), batches of 10
/// and single statements all sent at once are all stored, and the whole budget is free afterwards.
async fn requests_beyond_the_in_flight_budget_wait_and_all_land(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let big: Vec<Value> = (0..60).map(|n| statement(&uuid::Uuid::new_v4().to_string(), n)).collect();
    let mut bodies: Vec<Value> = vec![Value::Array(big)];
    for b in 0..4 {
        bodies.push(Value::Array((0..10).map(|n| statement(&uuid::Uuid::new_v4().to_string(), b * 10 + n)).collect()));
    }
    for n in 0..20 {
        bodies.push(statement(&uuid::Uuid::new_v4().to_string(), n));
    }
    assert!(serde_json::to_vec(&bodies[0]).map(|v| v.len()).unwrap_or(0) > 4 * 1024);
    let sent: Vec<_> = bodies
        .iter()
        .cloned()
        .map(|body| {
            let app = app.clone();
            tokio::spawn(async move { app.post_statements(&body).await })
        })
        .collect();
    for t in sent {
        let (status, body) = t.await.expect("task");
        assert_eq!(status, 200, "{body}");
    }
    let ids: Vec<String> = bodies
        .iter()
        .flat_map(|b| match b {
            Value::Array(a) => a.clone(),
            one => vec![one.clone()],
        })
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ids.len(), 120);
    let found = app.lrs.store.statements_by_id(&ids).await.expect("read");
    assert_eq!(found.len(), 120);
    assert_eq!(app.lrs.intake.available_bytes(), 4 * 1024);
}
crate::both_configured!(requests_beyond_the_in_flight_budget_wait_and_all_land, tiny_intake);
