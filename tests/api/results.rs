//! Derived results end to end: imported cmi5, SCORM and TinCan courses and a blended course with a live
//! session, assigned with due dates, for learners who finish early, late, never, fail, are waived, or
//! attend/miss the session — over the API (JSON and CSV), on both backends; and a property test that
//! incremental and rebuilt results agree.

use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::courses::zip_folder;
use crate::support::TestApp;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages").join(name)
}

fn learner(name: &str) -> Value {
    json!({"objectType": "Agent", "name": name, "mbox": format!("mailto:{name}@example.com")})
}

fn days(n: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(n);
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

async fn import(app: &TestApp, name: &str) -> Value {
    let r = app.req(Method::POST, "/api/courses").body(zip_folder(&fixture(name))).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

async fn assign(app: &TestApp, course: &str, who: &Value, due: &str) -> Value {
    let r = app
        .req(Method::POST, "/api/assignments")
        .json(&json!({"course": course, "learner": who, "due": due}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let a: Value = r.json().await.unwrap();
    assert!(a["id"].is_string() && a["registration"].is_string(), "{a}");
    a
}

fn st(who: &Value, verb: &str, object: &str, extra: Value) -> Value {
    let mut s = json!({"actor": who, "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")}, "object": {"id": object}});
    if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    s
}

/// Runs SQL text (several statements) on the test's database directly.
async fn execute(url: &str, sql: &'static str) {
    if url.starts_with("sqlite") {
        sqlx::raw_sql(sql).execute(&sqlx::SqlitePool::connect(url).await.unwrap()).await.unwrap();
    } else {
        sqlx::raw_sql(sql).execute(&sqlx::PgPool::connect(url).await.unwrap()).await.unwrap();
    }
}

async fn results_of(app: &TestApp, course: &str) -> Vec<Value> {
    let q = serde_urlencoded::to_string([("course", course)]).unwrap();
    let (status, body) = app.get_json(&format!("/api/results?{q}")).await;
    assert_eq!(status, 200, "{body}");
    body["results"].as_array().unwrap().clone()
}

fn find<'a>(rows: &'a [Value], name: &str) -> &'a Value {
    let mbox = format!("mailto:{name}@example.com");
    rows.iter().find(|r| r["learner"]["mbox"] == mbox).unwrap_or_else(|| panic!("no row for {name}: {rows:?}"))
}

/// TinCan course: completed/passed on the course activity completes it; compliance by due date;
/// voiding the completing statement undoes it; CSV carries the same rows.
async fn tincan_course_compliance(app: TestApp) {
    let course = import(&app, "tincan").await;
    let cid = course["id"].as_str().unwrap().to_string();
    let (early, late, never, pending, failer, waived) =
        (learner("early"), learner("late"), learner("never"), learner("pending"), learner("failer"), learner("waived"));
    assign(&app, &cid, &early, &days(10)).await;
    assign(&app, &cid, &late, &days(-2)).await;
    assign(&app, &cid, &never, &days(-1)).await;
    assign(&app, &cid, &pending, &days(5)).await;
    assign(&app, &cid, &failer, &days(5)).await;
    let w = assign(&app, &cid, &waived, &days(-3)).await;
    let (_, ids) = app
        .post_statements(&json!([
            st(
                &early,
                "passed",
                &cid,
                json!({"result": {"score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100}, "duration": "PT10M"}})
            ),
            st(&late, "completed", &cid, json!({})),
            st(&failer, "failed", &cid, json!({"result": {"score": {"scaled": 0.3}}})),
            // A client clock in the future cannot make a late completion look punctual... nor fake anything.
            st(&pending, "experienced", &cid, json!({"timestamp": days(400)})),
        ]))
        .await;
    let r = app
        .req(Method::POST, &format!("/api/assignments/{}/waive", w["id"].as_str().unwrap()))
        .json(&json!({"reason": "prior certificate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let rows = results_of(&app, &cid).await;
    let e = find(&rows, "early");
    assert_eq!(
        (e["status"].as_str(), e["compliance"].as_str(), e["score"].as_f64()),
        (Some("passed"), Some("on_time"), Some(0.9))
    );
    assert_eq!(e["score_raw"], 90.0);
    assert_eq!(e["time_spent_seconds"], 600.0);
    assert!(e["completed_at"].is_string() && e["due"].is_string());
    let l = find(&rows, "late");
    assert_eq!((l["status"].as_str(), l["compliance"].as_str()), (Some("completed"), Some("late")));
    let n = find(&rows, "never");
    assert_eq!(
        (n["status"].as_str(), n["compliance"].as_str(), &n["completed_at"]),
        (Some("not_started"), Some("overdue"), &Value::Null)
    );
    let p = find(&rows, "pending");
    assert_eq!((p["status"].as_str(), p["compliance"].as_str()), (Some("in_progress"), Some("pending")));
    let f = find(&rows, "failer");
    assert_eq!(
        (f["status"].as_str(), f["compliance"].as_str(), f["score"].as_f64()),
        (Some("failed"), Some("pending"), Some(0.3))
    );
    let wv = find(&rows, "waived");
    assert_eq!(wv["compliance"], "waived");

    // One learner across courses.
    let q = serde_urlencoded::to_string([("learner", early.to_string())]).unwrap();
    let (_, mine) = app.get_json(&format!("/api/results?{q}")).await;
    assert_eq!(mine["results"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine["results"][0]["status"], "passed");
    // Filters and CSV.
    let q = serde_urlencoded::to_string([("course", cid.as_str()), ("compliance", "overdue")]).unwrap();
    let (_, body) = app.get_json(&format!("/api/results?{q}")).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1);
    let q = serde_urlencoded::to_string([("course", cid.as_str())]).unwrap();
    let csv = app
        .req(Method::GET, &format!("/api/results?{q}"))
        .header("Accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("learner,course,status,score"), "{csv}");
    assert!(csv.contains("early@example.com,") && csv.contains(",passed,0.9,"), "{csv}");
    assert_eq!(csv.lines().count(), 7);
    let (_, summary) = app.get_json(&format!("/api/summary?{q}")).await;
    assert_eq!(summary["learners"], 6);
    assert_eq!(summary["status"]["passed"], 1);
    assert_eq!(summary["compliance"]["overdue"], 1);

    // Voiding the completing statement recomputes the result.
    let void = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"objectType": "StatementRef", "id": ids[0]}});
    assert_eq!(app.post_statements(&void).await.0, 200);
    let rows = results_of(&app, &cid).await;
    let e = find(&rows, "early");
    assert_eq!((e["status"].as_str(), e["compliance"].as_str()), (Some("not_started"), Some("pending")));
}
both!(tincan_course_compliance);

/// cmi5 course: AUs satisfied per moveOn and mastery score, Browse launches ignored, and Cairn writes
/// the `satisfied` statements for blocks and the course.
async fn cmi5_course_and_satisfied_statements(app: TestApp) {
    let course = import(&app, "cmi5-blocks").await;
    let cid = course["id"].as_str().unwrap().to_string();
    let ann = learner("ann");
    let a = assign(&app, &cid, &ann, &days(7)).await;
    let reg = a["registration"].as_str().unwrap();
    let ctx = |session: &str| {
        json!({"context": {"registration": reg,
        "contextActivities": {"category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]},
        "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": session}}})
    };
    // A Browse-mode session never counts (not even as a start).
    let mut browse = st(&ann, "launched", "https://example.com/aus/intro", ctx("s0"));
    browse["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/launchmode"] = json!("Browse");
    app.post_statements(&json!([browse, st(&ann, "completed", "https://example.com/aus/intro", ctx("s0"))])).await;
    assert_eq!(find(&results_of(&app, &cid).await, "ann")["status"], "not_started");
    // Real sessions.
    app.post_statements(&json!([
        st(&ann, "completed", "https://example.com/aus/intro", ctx("s1")),
        st(&ann, "completed", "https://example.com/aus/quiz", ctx("s2")),
        // Below the mastery score (0.8): does not satisfy CompletedAndPassed.
        st(
            &ann,
            "passed",
            "https://example.com/aus/quiz",
            json!({"result": {"score": {"scaled": 0.5}}, "context": ctx("s2")["context"]})
        ),
    ]))
    .await;
    assert_eq!(find(&results_of(&app, &cid).await, "ann")["status"], "in_progress");
    app.post_statements(&json!([
        st(
            &ann,
            "passed",
            "https://example.com/aus/quiz",
            json!({"result": {"score": {"scaled": 0.85}}, "context": ctx("s3")["context"]})
        ),
        st(
            &ann,
            "failed",
            "https://example.com/aus/quiz",
            json!({"result": {"score": {"scaled": 0.2}}, "context": ctx("s4")["context"]})
        ),
        st(
            &ann,
            "passed",
            "https://example.com/aus/remote",
            json!({"result": {"score": {"scaled": 0.95}}, "context": ctx("s5")["context"]})
        ),
    ]))
    .await;
    let r = find(&results_of(&app, &cid).await, "ann").clone();
    assert_eq!((r["status"].as_str(), r["compliance"].as_str()), (Some("passed"), Some("on_time")), "{r}");
    // satisfied statements: both blocks and the course, once each, in the learner's registration.
    let q = serde_urlencoded::to_string([("verb", "https://w3id.org/xapi/adl/verbs/satisfied"), ("registration", reg)])
        .unwrap();
    let (_, sat) = app.get_json(&format!("/xapi/statements?{q}")).await;
    let mut objects: Vec<&str> =
        sat["statements"].as_array().unwrap().iter().map(|s| s["object"]["id"].as_str().unwrap()).collect();
    objects.sort();
    assert_eq!(
        objects,
        vec![
            "urn:cairn:cmi5-block:https%3A%2F%2Fexample.com%2Fblocks%2Fb1",
            "urn:cairn:cmi5-block:https%3A%2F%2Fexample.com%2Fblocks%2Fb2",
            "urn:cairn:cmi5-course:https%3A%2F%2Fexample.com%2Fcourses%2Fc1"
        ]
    );
    // Nothing more is written on later statements.
    app.post_statements(&st(&ann, "completed", "https://example.com/aus/remote", ctx("s6"))).await;
    let (_, sat) = app.get_json(&format!("/xapi/statements?{q}")).await;
    assert_eq!(sat["statements"].as_array().unwrap().len(), 3);
}
both!(cmi5_course_and_satisfied_statements);

/// SCORM 1.2 course: the SCO reports through the ADL SCORM profile verbs on its module activity.
async fn scorm_course(app: TestApp) {
    let course = import(&app, "scorm12-multi").await;
    let cid = course["id"].as_str().unwrap().to_string();
    let bob = learner("bob");
    assign(&app, &cid, &bob, &days(3)).await;
    let mut scos = Vec::new();
    fn walk(n: &Value, out: &mut Vec<String>) {
        for x in n.as_array().into_iter().flatten() {
            if let Some(c) = x.get("children") {
                walk(c, out);
            } else if x["scorm_type"] == "sco" {
                out.push(x["id"].as_str().unwrap().to_string());
            }
        }
    }
    walk(&course["course"]["root"], &mut scos);
    assert!(scos.len() >= 2, "{scos:?}");
    let activity = |item: &str| cairn::results::ids::module_activity_id(&cid, item);
    app.post_statements(&st(&bob, "completed", &activity(&scos[0]), json!({"result": {"score": {"scaled": 0.6}}})))
        .await;
    let r = find(&results_of(&app, &cid).await, "bob").clone();
    assert_eq!(r["status"], "in_progress");
    for item in &scos[1..] {
        app.post_statements(&st(&bob, "completed", &activity(item), json!({"result": {"score": {"scaled": 0.8}}})))
            .await;
    }
    let r = find(&results_of(&app, &cid).await, "bob").clone();
    assert_eq!((r["status"].as_str(), r["compliance"].as_str()), (Some("completed"), Some("on_time")), "{r}");
    assert!(r["score"].as_f64().unwrap() > 0.6);
}
both!(scorm_course);

/// Blended course: an imported module plus a live session; capacity, bookings (`registered` statements),
/// attendance (API and plain xAPI `attended`), and a learner who misses the session.
async fn blended_course_with_session(app: TestApp) {
    import(&app, "tincan").await;
    let r = app
        .req(Method::PUT, "/api/courses/https://example.com/blended")
        .json(&json!({"title": "Blended", "components": [{"kind": "activity", "activity_id": "http://example.com/tincan/course1", "title": "eLearning"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let start = days(1);
    let r = app
        .req(Method::POST, "/api/sessions")
        .json(&json!({"course": "https://example.com/blended", "title": "Virtual classroom", "start": start, "end": start, "capacity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "end must be after start");
    let end = (time::OffsetDateTime::now_utc() + time::Duration::days(1) + time::Duration::hours(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let r = app
        .req(Method::POST, "/api/sessions")
        .json(&json!({"course": "https://example.com/blended", "title": "Virtual classroom", "start": start, "end": end, "timezone": "Europe/Paris", "capacity": 2, "join_url": "https://meet.example.com/x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    let sid = session["id"].as_str().unwrap();
    let (cat, dan, eve) = (learner("cat"), learner("dan"), learner("eve"));
    for who in [&cat, &dan, &eve] {
        assign(&app, "https://example.com/blended", who, &days(5)).await;
    }
    let book = |who: &Value| {
        app.req(Method::POST, &format!("/api/sessions/{sid}/bookings")).json(&json!({"learner": who})).send()
    };
    assert_eq!(book(&cat).await.unwrap().status(), 201);
    assert_eq!(book(&dan).await.unwrap().status(), 201);
    assert_eq!(book(&eve).await.unwrap().status(), 409, "capacity 2");
    // Bookings are xAPI `registered` statements.
    let q = serde_urlencoded::to_string([
        ("verb", "http://adlnet.gov/expapi/verbs/registered"),
        ("activity", session["activity_id"].as_str().unwrap()),
    ])
    .unwrap();
    let (_, reg) = app.get_json(&format!("/xapi/statements?{q}")).await;
    assert_eq!(reg["statements"].as_array().unwrap().len(), 2);
    // Cat does everything (attendance marked through the API); Dan does the module but misses the
    // session; Eve's attendance arrives as a plain xAPI statement from another client.
    app.post_statements(&json!([
        st(&cat, "completed", "http://example.com/tincan/course1", json!({})),
        st(&dan, "completed", "http://example.com/tincan/course1", json!({}))
    ]))
    .await;
    let r = app
        .req(Method::POST, &format!("/api/sessions/{sid}/attendance"))
        .json(&json!({"learner": cat}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    app.post_statements(&st(&eve, "attended", session["activity_id"].as_str().unwrap(), json!({}))).await;
    let rows = results_of(&app, "https://example.com/blended").await;
    let c = find(&rows, "cat");
    assert_eq!((c["status"].as_str(), c["compliance"].as_str()), (Some("completed"), Some("on_time")));
    assert_eq!(c["attendance"][session["activity_id"].as_str().unwrap()], true);
    let d = find(&rows, "dan");
    assert_eq!((d["status"].as_str(), d["compliance"].as_str()), (Some("in_progress"), Some("pending")));
    assert_eq!(d["attendance"][session["activity_id"].as_str().unwrap()], false);
    let e = find(&rows, "eve");
    assert_eq!(e["status"], "in_progress");
    assert_eq!(e["attendance"][session["activity_id"].as_str().unwrap()], true);
    let (_, summary) = app.get_json("/api/courses/https://example.com/blended/summary").await;
    assert_eq!(summary["status"]["completed"], 1);
    assert_eq!(summary["status"]["in_progress"], 2);
}
both!(blended_course_with_session);

/// Incremental results equal results rebuilt from the raw statements, for random statement streams
/// with voiding and out-of-order timestamps.
async fn incremental_equals_rebuilt(app: TestApp) {
    let acts = ["http://example.com/p/a", "http://example.com/p/b", "http://example.com/p/c"];
    let comps: Vec<Value> = acts.iter().map(|a| json!({"kind": "activity", "activity_id": a})).collect();
    let r = app
        .req(Method::PUT, "/api/courses/http://example.com/p")
        .json(&json!({"title": "P", "components": comps}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let people: Vec<Value> = (0..4).map(|i| learner(&format!("p{i}"))).collect();
    for p in &people {
        assign(&app, "http://example.com/p", p, &days(2)).await;
    }
    for seed in 0..4u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut stored: Vec<String> = Vec::new();
        for _ in 0..25 {
            if !stored.is_empty() && rng.gen_bool(0.15) {
                let target = stored.swap_remove(rng.gen_range(0..stored.len()));
                let void = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"objectType": "StatementRef", "id": target}});
                assert_eq!(app.post_statements(&void).await.0, 200);
                continue;
            }
            let who = &people[rng.gen_range(0..people.len())];
            let verb = ["completed", "passed", "failed", "experienced", "scored"][rng.gen_range(0..5)];
            let mut extra = json!({"timestamp": days(-rng.gen_range(0..30))});
            if rng.gen_bool(0.5) {
                extra["result"] = json!({"score": {"scaled": (rng.gen_range(0..=100) as f64) / 100.0}, "duration": format!("PT{}S", rng.gen_range(1..100))});
            }
            let (status, ids) = app.post_statements(&st(who, verb, acts[rng.gen_range(0..acts.len())], extra)).await;
            assert_eq!(status, 200);
            stored.push(ids[0].as_str().unwrap().to_string());
        }
        let before = results_of(&app, "http://example.com/p").await;
        app.assert_summary_kept("http://example.com/p", &format!("seed {seed}")).await;
        let r = app.req(Method::POST, "/api/results/rebuild").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let after = results_of(&app, "http://example.com/p").await;
        assert_eq!(before, after, "seed {seed}");
        app.assert_summary_kept("http://example.com/p", &format!("seed {seed}, rebuilt")).await;
    }
}
both!(incremental_equals_rebuilt);

/// The same for a SCORM 2004 course, whose results are its rollup replayed from the statements
/// (docs/player.md): random session starts, resumes, reports, ends and suspends on its SCOs (one
/// nested in a cluster, one satisfied by measure), with voiding and out-of-order timestamps.
async fn incremental_equals_rebuilt_for_a_sequenced_course(app: TestApp) {
    let course = import(&app, "scorm2004-4th").await;
    let cid = course["id"].as_str().unwrap().to_string();
    fn leaves(nodes: &Value, out: &mut Vec<String>) {
        for n in nodes.as_array().into_iter().flatten() {
            match n.get("children") {
                Some(c) => leaves(c, out),
                None => out.extend(n["id"].as_str().map(str::to_string)),
            }
        }
    }
    let mut ids = Vec::new();
    leaves(&course["course"]["root"], &mut ids);
    assert!(ids.len() >= 2, "{course:#}");
    let acts: Vec<String> = ids.iter().map(|m| format!("{}/{}", cid.trim_end_matches('/'), m)).collect();
    let people: Vec<Value> = (0..3).map(|i| learner(&format!("q{i}"))).collect();
    for seed in 0..4u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut stored: Vec<String> = Vec::new();
        for _ in 0..30 {
            if !stored.is_empty() && rng.gen_bool(0.1) {
                let target = stored.swap_remove(rng.gen_range(0..stored.len()));
                let void = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"objectType": "StatementRef", "id": target}});
                assert_eq!(app.post_statements(&void).await.0, 200);
                continue;
            }
            let who = &people[rng.gen_range(0..people.len())];
            let verbs =
                ["initialized", "resumed", "completed", "passed", "failed", "scored", "terminated", "suspended"];
            let verb = verbs[rng.gen_range(0..verbs.len())];
            let mut extra = json!({"timestamp": days(-rng.gen_range(0..30))});
            let mut result = json!({});
            if rng.gen_bool(0.5) {
                result["score"] = json!({"scaled": (rng.gen_range(0..=100) as f64) / 100.0});
            }
            if matches!(verb, "terminated" | "suspended") && rng.gen_bool(0.5) {
                result["completion"] = json!(rng.gen_bool(0.5));
                result["duration"] = json!(format!("PT{}S", rng.gen_range(1..100)));
            }
            if result.as_object().is_some_and(|o| !o.is_empty()) {
                extra["result"] = result;
            }
            let (status, ids) = app.post_statements(&st(who, verb, &acts[rng.gen_range(0..acts.len())], extra)).await;
            assert_eq!(status, 200);
            stored.push(ids[0].as_str().unwrap().to_string());
        }
        let before = results_of(&app, &cid).await;
        assert!(!before.is_empty(), "seed {seed}: the statements count toward the course");
        let r = app.req(Method::POST, "/api/results/rebuild").send().await.unwrap();
        assert_eq!(r.status(), 200);
        let after = results_of(&app, &cid).await;
        assert_eq!(before, after, "seed {seed}");
    }
}
both!(incremental_equals_rebuilt_for_a_sequenced_course);

/// Bad admin requests are refused with a message and change nothing.
async fn results_api_rejects_bad_input(app: TestApp) {
    let cases = [
        json!({"course": "http://nope", "learner": learner("x"), "due": days(1)}),
        json!({"course": "http://nope"}),
        json!({"learner": learner("x"), "due": days(1)}),
    ];
    for c in cases {
        let r = app.req(Method::POST, "/api/assignments").json(&c).send().await.unwrap();
        assert!(r.status() == 400 || r.status() == 404, "{c}: {}", r.status());
    }
    import(&app, "tincan").await;
    for c in [
        json!({"course": "http://example.com/tincan/course1", "learner": {"name": "no ifi"}, "due": days(1)}),
        json!({"course": "http://example.com/tincan/course1", "learner": learner("x"), "due": "tomorrow"}),
        json!({"course": "http://example.com/tincan/course1", "learner": learner("x"), "due": days(1), "bogus": 1}),
    ] {
        let r = app.req(Method::POST, "/api/assignments").json(&c).send().await.unwrap();
        assert_eq!(r.status(), 400, "{c}");
    }
    let (status, _) = app.get_json("/api/results?status=done").await;
    assert_eq!(status, 400);
    let (_, list) = app.get_json("/api/assignments").await;
    assert_eq!(list, json!([]));
}
both!(results_api_rejects_bad_input);

/// The CLI does the same: assign, list results as a table and as CSV, summary, rebuild.
#[test]
fn cli_results() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let zip_path = dir.path().join("t.zip");
    std::fs::write(&zip_path, zip_folder(&fixture("tincan"))).unwrap();
    let run = |args: &[&str]| crate::support::cli(&db, args);
    run(&["import", zip_path.to_str().unwrap()]);
    let out = run(&[
        "assign",
        "http://example.com/tincan/course1",
        "--learner",
        "mailto:zoe@example.com",
        "--due-in-days",
        "3",
    ]);
    assert!(out.starts_with("assignment "), "{out}");
    let table = run(&["results", "list", "--course", "http://example.com/tincan/course1"]);
    assert!(table.contains("zoe@example.com") && table.contains("not_started") && table.contains("pending"), "{table}");
    let csv_path = dir.path().join("r.csv");
    run(&["results", "list", "--csv", "--out", csv_path.to_str().unwrap()]);
    let csv = std::fs::read_to_string(&csv_path).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with("zoe@example.com,http://example.com/tincan/course1,not_started"),
        "{csv}"
    );
    let summary: Value =
        serde_json::from_str(&run(&["results", "summary", "http://example.com/tincan/course1"])).unwrap();
    assert_eq!(summary["learners"], 1);
    assert!(run(&["results", "rebuild"]).contains("rebuilt"));
}

/// A SCORM 2004 course imported before results came from its rollup has a definition without its
/// activity tree; `POST /api/results/rebuild` (`cairn results rebuild`) registers it again from the
/// course's latest version, so its results are the rollup's from then on.
async fn a_rebuild_gives_older_scorm2004_definitions_their_rollup(app: TestApp) {
    let course = import(&app, "scorm2004-4th").await;
    let cid = course["id"].as_str().unwrap().to_string();
    let store = &app.lrs.store;
    let mut def: Value = serde_json::from_str(&store.course_def(&cid).await.unwrap().unwrap()).unwrap();
    assert!(def.get("sequencing").is_some(), "imported with its tree");
    def.as_object_mut().unwrap().remove("sequencing");
    let acts: Vec<String> =
        def["components"].as_array().unwrap().iter().map(|c| c["activity_id"].as_str().unwrap().to_string()).collect();
    store.put_course_def(&cid, &def.to_string(), false, &acts).await.unwrap();
    let r = app.req(Method::POST, "/api/results/rebuild").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let def: Value = serde_json::from_str(&store.course_def(&cid).await.unwrap().unwrap()).unwrap();
    assert!(def.get("sequencing").is_some(), "registered again with its tree: {def:#}");
}
both!(a_rebuild_gives_older_scorm2004_definitions_their_rollup);

/// The brief columns written beside each result (what counts, charts and filters read) agree with its
/// body: results rows read through the briefs equal those read before; a row without them (written
/// before migration 0015) is read from its body; and the migration's backfill of such rows gives back
/// the columns the writer wrote.
async fn result_briefs_agree_with_bodies(app: TestApp) {
    let acts = ["http://example.com/q/a", "http://example.com/q/b"];
    let comps: Vec<Value> = acts.iter().map(|a| json!({"kind": "activity", "activity_id": a})).collect();
    let course = "http://example.com/q";
    let r = app
        .req(Method::PUT, &format!("/api/courses/{course}"))
        .json(&json!({"title": "Q", "components": comps}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let people: Vec<Value> = (0..6).map(|i| learner(&format!("q{i}"))).collect();
    for (i, p) in people.iter().enumerate() {
        // Four assigned (one due in the past), two active without an assignment.
        if i < 4 {
            assign(&app, course, p, &days(if i == 0 { -1 } else { 3 })).await;
        }
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..30 {
        let who = &people[rng.gen_range(1..people.len())];
        let verb = ["completed", "passed", "failed", "experienced"][rng.gen_range(0..4)];
        let extra = json!({"timestamp": days(-rng.gen_range(0..5)), "result": {"score": {"scaled": (rng.gen_range(0..=100) as f64) / 100.0}, "duration": format!("PT{}S", rng.gen_range(1..100))}});
        assert_eq!(app.post_statements(&st(who, verb, acts[rng.gen_range(0..2)], extra)).await.0, 200);
    }
    let summary = || async {
        let (status, body) = app.get_json(&format!("/api/courses/{course}/summary")).await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let rows = results_of(&app, course).await;
    assert_eq!(rows.len(), 6, "four assignments and two unassigned learners with activity: {rows:#?}");
    let before = (summary().await, rows);
    let statuses: Vec<&str> = before.1.iter().filter_map(|r| r["status"].as_str()).collect();
    assert!(statuses.iter().any(|s| *s != "not_started"), "the data set has progress: {statuses:?}");
    // Filters read the briefs: each status filter returns exactly the rows of that status.
    for s in ["not_started", "in_progress", "completed", "passed", "failed"] {
        let q = serde_urlencoded::to_string([("course", course), ("status", s)]).unwrap();
        let (_, body) = app.get_json(&format!("/api/results?{q}")).await;
        let n = before.1.iter().filter(|r| r["status"] == s).count();
        assert_eq!(body["total"], n, "status {s}");
    }

    let select = "SELECT course_id, learner_key, status, scaled, time_spent_s, satisfied_us, satisfied_free \
                  FROM results ORDER BY course_id, learner_key";
    let forget = "UPDATE results SET status = NULL, scaled = NULL, time_spent_s = NULL, satisfied_us = NULL, \
                  satisfied_free = NULL";
    type Brief = (String, String, Option<String>, Option<f64>, Option<f64>, Value, Option<bool>);
    async fn briefs(url: &str, sql: &'static str) -> Vec<Brief> {
        type Raw = (String, String, Option<String>, Option<f64>, Option<f64>, Option<String>, Option<bool>);
        let raw: Vec<Raw> = if url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query_as(sql).fetch_all(&pool).await.unwrap()
        };
        raw.into_iter()
            .map(|(c, l, s, sc, t, sat, free)| {
                (c, l, s, sc, t, sat.map(|t| serde_json::from_str(&t).unwrap()).unwrap_or(Value::Null), free)
            })
            .collect()
    }
    let url = app.database_url.clone();
    let written = briefs(&url, select).await;
    assert!(written.len() >= 5, "a result per person with activity (q1..q5): {written:?}");
    assert!(written.iter().any(|b| b.5.as_array().is_some_and(|a| !a.is_empty())), "satisfied times: {written:?}");
    assert!(written.iter().all(|b| b.2.is_some()), "the writer fills the brief: {written:?}");

    // Rows from before the columns existed: read from their bodies, the same answers.
    execute(&url, forget).await;
    assert_eq!((summary().await, results_of(&app, course).await), before, "read from the bodies");

    // The migration's backfill gives back what the writer wrote.
    let migration = if url.starts_with("sqlite") {
        include_str!("../../migrations/sqlite/0015_result_briefs.sql")
    } else {
        include_str!("../../migrations/postgres/0015_result_briefs.sql")
    };
    let backfill = &migration[migration.find("UPDATE results").expect("the backfill")..];
    execute(&url, backfill).await;
    assert_eq!(briefs(&url, select).await, written, "backfilled columns");
    assert_eq!((summary().await, results_of(&app, course).await), before, "after the backfill");
}
both!(result_briefs_agree_with_bodies);

/// A statement's fact is stored once, packed, with a link row per activity it concerns (migrations
/// 0016, 0021): the links are exactly its object, parent and grouping activities, a voided statement
/// leaves neither body nor links, and the migrations turn the older layouts (the body repeated per
/// link; text keys) into the same rows, after which results stay the same and keep following new
/// statements.
async fn fact_bodies_once_and_their_links(app: TestApp) {
    let course = "http://example.com/f";
    let acts = ["http://example.com/f/a", "http://example.com/f/b"];
    let comps: Vec<Value> = acts.iter().map(|a| json!({"kind": "activity", "activity_id": a})).collect();
    let r = app
        .req(Method::PUT, &format!("/api/courses/{course}"))
        .json(&json!({"title": "F", "components": comps}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let people: Vec<Value> = (0..3).map(|i| learner(&format!("f{i}"))).collect();
    let ctx = json!({"context": {"contextActivities": {
        "parent": [{"id": course}], "grouping": [{"id": "http://example.com/g"}]}}});
    let mut ids = Vec::new();
    for i in 0..12 {
        let verb = ["experienced", "completed"][i % 2];
        let (status, body) = app.post_statements(&st(&people[i % 3], verb, acts[i % 2], ctx.clone())).await;
        assert_eq!(status, 200, "{body}");
        ids.push(body[0].as_str().unwrap().to_string());
    }
    let void = json!({"actor": people[0], "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                      "object": {"objectType": "StatementRef", "id": ids[0]}});
    assert_eq!(app.post_statements(&void).await.0, 200);

    let url = app.database_url.clone();
    let (links, bodies, packed) = links_and_bodies(&url).await;
    // Eleven facts (the voided one and the voiding statement have none), one body each, packed.
    assert_eq!(bodies.len(), 11, "{bodies:#?}");
    assert_eq!(packed, 11, "bodies are stored packed");
    assert!(bodies.iter().all(|b| b.0 != ids[0]) && links.iter().all(|l| l.2 != ids[0]), "voided: gone");
    for (id, learner_key, body) in &bodies {
        let fact: Value = serde_json::from_str(body).unwrap();
        assert_eq!(fact["statement_id"], id.as_str());
        let mut linked: Vec<&str> = links
            .iter()
            .filter(|l| &l.2 == id)
            .inspect(|l| assert_eq!(&l.0, learner_key))
            .map(|l| l.1.as_str())
            .collect();
        linked.sort();
        let object = fact["activity_id"].as_str().unwrap();
        let mut expected = vec![object, course, "http://example.com/g"];
        expected.sort();
        assert_eq!(linked, expected, "the object, parent and grouping of {id}");
    }
    assert_eq!(links.len(), 33);
    let before = results_of(&app, course).await;
    assert!(before.iter().any(|r| r["status"] == "in_progress" || r["status"] == "completed"), "{before:#?}");

    // The layout before 0016 (text keys, the body repeated per link), rebuilt from the rows above;
    // then the migrations as shipped: 0016 (a body per statement), 0021 (by number; bodies stay text).
    let mut old = "DROP TABLE result_fact_links; DROP TABLE result_facts; \
        CREATE TABLE result_facts (statement_id TEXT NOT NULL, linked TEXT NOT NULL, learner_key TEXT NOT NULL, \
        body TEXT NOT NULL, PRIMARY KEY (statement_id, linked)); \
        CREATE INDEX result_facts_learner ON result_facts (learner_key, linked);"
        .to_string();
    let quote = |t: &str| format!("'{}'", t.replace('\'', "''"));
    for (learner_key, linked, id) in &links {
        let body = &bodies.iter().find(|b| &b.0 == id).unwrap().2;
        old.push_str(&format!(
            "INSERT INTO result_facts VALUES ({}, {}, {}, {});",
            quote(id),
            quote(linked),
            quote(learner_key),
            quote(body)
        ));
    }
    let (m16, m21) = if url.starts_with("sqlite") {
        (
            include_str!("../../migrations/sqlite/0016_fact_links.sql"),
            include_str!("../../migrations/sqlite/0021_fact_numbers.sql"),
        )
    } else {
        (
            include_str!("../../migrations/postgres/0016_fact_links.sql"),
            include_str!("../../migrations/postgres/0021_fact_numbers.sql"),
        )
    };
    execute_text(&url, old).await;
    execute(&url, m16).await;
    execute(&url, m21).await;
    assert_eq!(links_and_bodies(&url).await, (links, bodies, 0), "links and bodies (as text) after the migrations");
    assert_eq!(results_of(&app, course).await, before);

    // The migrated store keeps following, reading old and new bodies alike: f2 completes both
    // activities, and voiding one undoes it.
    let f2 = &people[2];
    let mut last = String::new();
    for a in acts {
        let (status, body) = app.post_statements(&st(f2, "completed", a, ctx.clone())).await;
        assert_eq!(status, 200);
        last = body[0].as_str().unwrap().to_string();
    }
    assert_eq!(find(&results_of(&app, course).await, "f2")["status"], "completed");
    let void = json!({"actor": f2, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                      "object": {"objectType": "StatementRef", "id": last}});
    assert_eq!(app.post_statements(&void).await.0, 200);
    let (after, _, packed) = links_and_bodies(&url).await;
    assert_eq!(after.len(), 36, "three links of the one new fact left");
    assert_eq!(packed, 1, "the new fact is packed");
    assert!(after.iter().all(|l| l.2 != last));
}
both!(fact_bodies_once_and_their_links);

/// `(learner, activity, statement id)` of every fact link and `(statement id, learner, body)` of
/// every fact body, sorted, read through the key dictionary and the statements; and how many bodies
/// are packed (unpacked here: so small a store has no dictionary, so they are plain zstd frames).
async fn links_and_bodies(url: &str) -> (Vec<(String, String, String)>, Vec<(String, String, String)>, usize) {
    type Raw = Vec<(String, String, String, Option<Vec<u8>>)>;
    let links_sql = "SELECT lk.key, ak.key, s.id FROM result_fact_links l JOIN index_keys lk ON lk.id = l.learner_id \
                     JOIN index_keys ak ON ak.id = l.activity_id JOIN statements s ON s.seq = l.seq";
    let bodies_sql = "SELECT s.id, k.key, f.body, f.packed FROM result_facts f JOIN statements s ON s.seq = f.seq \
                      JOIN index_keys k ON k.id = f.learner_id";
    let (mut links, raw): (Vec<(String, String, String)>, Raw) = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        (
            sqlx::query_as(links_sql).fetch_all(&pool).await.unwrap(),
            sqlx::query_as(bodies_sql).fetch_all(&pool).await.unwrap(),
        )
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        (
            sqlx::query_as(links_sql).fetch_all(&pool).await.unwrap(),
            sqlx::query_as(bodies_sql).fetch_all(&pool).await.unwrap(),
        )
    };
    links.sort();
    let packed = raw.iter().filter(|r| r.3.is_some()).count();
    let mut bodies: Vec<(String, String, String)> = raw
        .into_iter()
        .map(|(id, learner, text, packed)| {
            let body = match packed {
                None => text,
                Some(p) => {
                    assert_eq!(text, "", "the text of a packed body is empty");
                    let (frame, key) = p.split_at(p.len() - 8);
                    assert_eq!(key, [0u8; 8], "packed without a dictionary");
                    String::from_utf8(zstd::decode_all(frame).unwrap()).unwrap()
                }
            };
            (id, learner, body)
        })
        .collect();
    bodies.sort();
    (links, bodies, packed)
}

/// [`execute`] for SQL text built by the test.
async fn execute_text(url: &str, sql: String) {
    if url.starts_with("sqlite") {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&sqlx::SqlitePool::connect(url).await.unwrap()).await.unwrap();
    } else {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&sqlx::PgPool::connect(url).await.unwrap()).await.unwrap();
    }
}

/// The course summary, counted in the database (issue 15), equals the same counts folded from the
/// course's results rows (read row by row through the results API): over data with every status and
/// every compliance value (on time, late, overdue, pending within grace, waived, and a recurring
/// assignment's expiring and expired cycles), learners active without an assignment, and voided
/// statements; then again after a rebuild of every result.
async fn course_summary_equals_its_rows(app: TestApp) {
    let course = "http://example.com/s";
    let act = "http://example.com/s/a";
    let r = app
        .req(Method::PUT, &format!("/api/courses/{course}"))
        .json(&json!({"title": "S", "components": [{"kind": "activity", "activity_id": act}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let assign_with = |who: Value, due: String, extra: Value| {
        let app = &app;
        async move {
            let mut body = json!({"course": course, "learner": who, "due": due});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            let r = app.req(Method::POST, "/api/assignments").json(&body).send().await.unwrap();
            assert_eq!(r.status(), 201);
            let a: Value = r.json().await.unwrap();
            a["id"].as_str().unwrap().to_string()
        }
    };
    let none = json!({});
    let yearly = json!({"recurrence_months": 12});
    assign_with(learner("early"), days(10), none.clone()).await;
    assign_with(learner("late"), days(-2), none.clone()).await;
    let never = assign_with(learner("never"), days(-1), none.clone()).await;
    assign_with(learner("pending"), days(5), none.clone()).await;
    assign_with(learner("failer"), days(5), none.clone()).await;
    let w1 = assign_with(learner("waived"), days(-3), none.clone()).await;
    let w2 = assign_with(learner("waivedpass"), days(-3), none.clone()).await;
    assign_with(learner("expired"), days(-500), yearly.clone()).await;
    assign_with(learner("expiring"), days(-400), yearly.clone()).await;
    assign_with(learner("renewed"), days(10), yearly.clone()).await;
    assign_with(learner("yearlynever"), days(-10), yearly.clone()).await;
    assign_with(learner("grace"), days(-2), json!({"grace_days": 5})).await;
    assign_with(learner("voidedpass"), days(5), none.clone()).await;
    let scored = |s: f64| json!({"result": {"score": {"scaled": s}}});
    let at = |d: i64| json!({"timestamp": days(d)});
    let (status, ids) = app
        .post_statements(&json!([
            st(&learner("early"), "passed", act, scored(0.9)),
            st(&learner("late"), "completed", act, scored(0.5)),
            st(&learner("pending"), "experienced", act, json!({})),
            st(&learner("failer"), "failed", act, scored(0.3)),
            st(&learner("waivedpass"), "passed", act, scored(0.9)),
            st(&learner("expired"), "completed", act, at(-400)),
            st(&learner("expiring"), "completed", act, at(-350)),
            st(&learner("renewed"), "passed", act, scored(0.5)),
            st(&learner("walkin"), "completed", act, scored(0.7)),
            st(&learner("browser"), "experienced", act, json!({})),
            st(&learner("gone"), "completed", act, scored(0.1)),
            st(&learner("voidedpass"), "passed", act, scored(1.0)),
        ]))
        .await;
    assert_eq!(status, 200, "{ids}");
    for id in [&ids[10], &ids[11]] {
        let void = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}, "object": {"objectType": "StatementRef", "id": id}});
        assert_eq!(app.post_statements(&void).await.0, 200);
    }
    for w in [w1, w2] {
        let r = app.req(Method::POST, &format!("/api/assignments/{w}/waive")).json(&json!({})).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    // The same counts folded from the rows, independently of the server's summary code.
    let expected = |rows: &[Value]| {
        let mut status: std::collections::BTreeMap<String, u64> =
            ["not_started", "in_progress", "completed", "passed", "failed"]
                .iter()
                .map(|s| (s.to_string(), 0))
                .collect();
        let mut compliance: std::collections::BTreeMap<String, u64> = Default::default();
        let mut scores: Vec<f64> = rows.iter().filter_map(|r| r["score"].as_f64()).collect();
        for r in rows {
            *status.entry(r["status"].as_str().unwrap().to_string()).or_default() += 1;
            if let Some(c) = r["compliance"].as_str() {
                *compliance.entry(c.to_string()).or_default() += 1;
            }
        }
        scores.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let n = scores.len();
        let median = match n {
            0 => None,
            n if n % 2 == 1 => Some(scores[n / 2]),
            n => Some((scores[n / 2 - 1] + scores[n / 2]) / 2.0),
        };
        let done = status["completed"] + status["passed"];
        json!({
            "course": course,
            "title": "S",
            "learners": rows.len(),
            "status": status,
            "compliance": compliance,
            "completion_rate": (!rows.is_empty()).then(|| done as f64 / rows.len() as f64),
            "mean_score": (n > 0).then(|| scores.iter().sum::<f64>() / n as f64),
            "median_score": median,
        })
    };
    let summary = || async {
        let (status, body) = app.get_json(&format!("/api/courses/{course}/summary")).await;
        assert_eq!(status, 200, "{body}");
        body
    };
    let rows = results_of(&app, course).await;
    let before = summary().await;
    assert_eq!(before, expected(&rows), "{rows:#?}");
    // The data covers every value (and the two unassigned learners still active; `gone` is voided).
    assert_eq!(before["learners"], 15, "{before:#}");
    for s in ["not_started", "in_progress", "completed", "passed", "failed"] {
        assert!(before["status"][s].as_u64() > Some(0), "status {s}: {before:#}");
    }
    for c in ["on_time", "late", "overdue", "pending", "waived", "expiring", "expired"] {
        assert!(before["compliance"][c].as_u64() > Some(0), "compliance {c}: {before:#}");
    }
    assert_eq!(find(&rows, "grace")["compliance"], "pending");
    assert_eq!(find(&rows, "voidedpass")["status"], "not_started");

    let r = app.req(Method::POST, "/api/results/rebuild").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(summary().await, before, "after a rebuild");
    assert_eq!(results_of(&app, course).await, rows);

    // The summary is kept with what it counts (migration 0020): after each kind of change it still
    // equals the rows, and so does the summary at other times of asking, against the server's
    // row-by-row summary: deadlines passing (pending to overdue), completions expiring.
    let check = |what: &'static str| {
        let (app, summary, expected) = (&app, &summary, &expected);
        async move {
            let rows = results_of(app, course).await;
            assert_eq!(summary().await, expected(&rows), "{what}: {rows:#?}");
            let now = cairn::now_us();
            for d in [-40, -1, 0, 1, 3, 6, 11, 20, 340, 380, 800] {
                let at = now + d * 86_400_000_000;
                let kept = app.lms.course_summary(course, at).await.unwrap();
                assert_eq!(kept, app.lms.course_summary_by_rows(course, at).await.unwrap(), "{what}, {d} days on");
            }
            rows
        }
    };
    check("as assigned").await;
    let (status, _) = app
        .post_statements(&json!([
            st(&learner("pending"), "completed", act, scored(0.6)),
            st(&learner("alias"), "completed", act, scored(0.4)),
            st(&learner("browser"), "failed", act, scored(0.2)),
        ]))
        .await;
    assert_eq!(status, 200);
    check("new results").await;
    // A learner with an unassigned result is assigned: one row instead, with a compliance.
    assign_with(learner("walkin"), days(3), none.clone()).await;
    check("walkin assigned").await;
    let r = app.req(Method::POST, &format!("/api/assignments/{never}/waive")).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    check("never waived").await;
    // Merge the unassigned `alias` into the recurring assignment that was never completed, then
    // split it off again.
    let rows = check("before the merge").await;
    let (into, from) = (find(&rows, "yearlynever")["person"].clone(), find(&rows, "alias")["person"].clone());
    let into = into.as_str().unwrap();
    let r = app
        .req(Method::POST, &format!("/api/persons/{into}/merge"))
        .json(&json!({"person": from}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rows = check("merged").await;
    assert_eq!(find(&rows, "yearlynever")["status"], "completed");
    let agent = serde_urlencoded::to_string([("agent", learner("alias").to_string())]).unwrap();
    let r = app.req(Method::DELETE, &format!("/api/persons/{into}/identifiers?{agent}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    check("split").await;
    // Erasure takes the learner's assignment and result away.
    let late = find(&rows, "late")["person"].as_str().unwrap().to_string();
    let r = app.req(Method::DELETE, &format!("/api/persons/{late}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let rows = check("erased").await;
    assert!(rows.iter().all(|r| r["person"] != late.as_str()));
    let r = app.req(Method::POST, "/api/results/rebuild").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let rebuilt = check("rebuilt").await;
    // A store migrated to 0020 with results already in it fills its items on `migrate`.
    execute(&app.database_url, "DELETE FROM summary_items; INSERT INTO summary_items_pending (id) VALUES (1)").await;
    app.lms.store.migrate().await.unwrap();
    assert_eq!(check("built by migrate").await, rebuilt);
}
both!(course_summary_equals_its_rows);
