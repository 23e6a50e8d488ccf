//! cmi5 derivation rules to the letter (issue 16), each on both backends: only cmi5 defined statements
//! satisfy; `waived` gives a NotApplicable AU no time; Cairn's `satisfied` statements name generated
//! ids; conflicting pass/fail from trusted clients is voided; waived assignments and time spent read
//! as the README says.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::courses::zip_folder;
use crate::support::TestApp;

pub const CMI5_CATEGORY: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
const SESSION_EXT: &str = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";

/// One AU of a generated course: publisher id, moveOn (absent: the default), masteryScore.
pub struct Au<'a> {
    pub id: &'a str,
    pub move_on: Option<&'a str>,
    pub mastery: Option<f64>,
}

/// Imports a cmi5 course whose AUs sit in one block (`{course}/block`); AUs are hosted elsewhere
/// (absolute URLs), so the package is its course structure alone. Returns the course id.
pub async fn import_cmi5(app: &TestApp, course: &str, aus: &[Au<'_>]) -> String {
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="{course}"><title><langstring lang="en-US">Generated</langstring></title>
    <description><langstring lang="en-US">Generated</langstring></description></course>
  <block id="{course}/block"><title><langstring lang="en-US">Block</langstring></title>
    <description><langstring lang="en-US">Block</langstring></description>
"#
    );
    for au in aus {
        let mut attrs = String::new();
        if let Some(m) = au.move_on {
            attrs.push_str(&format!(r#" moveOn="{m}""#));
        }
        if let Some(m) = au.mastery {
            attrs.push_str(&format!(r#" masteryScore="{m}""#));
        }
        xml.push_str(&format!(
            r#"    <au id="{}"{attrs}><title><langstring lang="en-US">AU</langstring></title>
      <description><langstring lang="en-US">AU</langstring></description>
      <url>https://content.example.com/au.html</url></au>
"#,
            au.id
        ));
    }
    xml.push_str("  </block>\n</courseStructure>\n");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("cmi5.xml"), xml).expect("write");
    let r = app.req(Method::POST, "/api/courses").body(zip_folder(dir.path())).send().await.expect("send");
    let status = r.status().as_u16();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("course id").to_string()
}

pub fn learner(name: &str) -> Value {
    json!({"objectType": "Agent", "name": name, "mbox": format!("mailto:{name}@example.com")})
}

/// A statement about an AU from a trusted client: cmi5 defined when `defined` (the cmi5 category).
pub fn cmi5_st(who: &Value, verb: &str, au: &str, defined: bool, extra: Value) -> Value {
    let verb_iri = match verb {
        "waived" | "satisfied" | "abandoned" => format!("https://w3id.org/xapi/adl/verbs/{verb}"),
        _ => format!("http://adlnet.gov/expapi/verbs/{verb}"),
    };
    let mut ctx = json!({"extensions": {SESSION_EXT: "s1"}});
    if defined {
        ctx["contextActivities"] = json!({"category": [{"id": CMI5_CATEGORY}]});
    }
    let mut s = json!({"actor": who, "verb": {"id": verb_iri}, "object": {"id": au}, "context": ctx});
    if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            o.insert(k.clone(), v.clone());
        }
    }
    s
}

pub fn days(n: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(n);
    t.format(&time::format_description::well_known::Rfc3339).expect("format")
}

pub async fn assign(app: &TestApp, course: &str, who: &Value, due: &str) -> Value {
    let r = app
        .req(Method::POST, "/api/assignments")
        .json(&json!({"course": course, "learner": who, "due": due}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 201);
    r.json().await.expect("json")
}

/// The learner's row of a course's results.
pub async fn result_of(app: &TestApp, course: &str, who: &Value) -> Value {
    let q = serde_urlencoded::to_string([("course", course), ("learner", &who.to_string())]).expect("encode");
    let (status, body) = app.get_json(&format!("/api/results?{q}")).await;
    assert_eq!(status, 200, "{body}");
    body["results"][0].clone()
}

async fn post(app: &TestApp, body: Value) -> Vec<String> {
    let (status, ids) = app.post_statements(&body).await;
    assert_eq!(status, 200, "{ids}");
    ids.as_array().expect("ids").iter().map(|i| i.as_str().unwrap_or("").to_string()).collect()
}

fn course_iri() -> String {
    format!("https://example.com/courses/{}", uuid::Uuid::new_v4())
}

/// cmi5 §7.1.3: a `completed` without the cmi5 category ("cmi5 allowed") does not satisfy the AU;
/// the same verb as a cmi5 defined statement does.
async fn cmi5_allowed_statements_never_satisfy(app: TestApp) {
    let c = course_iri();
    let au = format!("{c}/au");
    let course = import_cmi5(&app, &c, &[Au { id: &au, move_on: Some("Completed"), mastery: None }]).await;
    let ann = learner("ann");
    post(&app, cmi5_st(&ann, "completed", &au, false, json!({}))).await;
    let r = result_of(&app, &course, &ann).await;
    assert_eq!((r["status"].as_str(), &r["completed_at"]), (Some("in_progress"), &Value::Null), "{r}");
    post(&app, cmi5_st(&ann, "completed", &au, true, json!({}))).await;
    assert_eq!(result_of(&app, &course, &ann).await["status"], "completed");
}
both!(cmi5_allowed_statements_never_satisfy);

/// §9.6.1: a NotApplicable AU (or one without moveOn) is satisfied from the start with no time; a
/// later `waived` for it must not make the course's completion later (on_time must not turn late).
async fn waived_not_applicable_au_keeps_the_completion_time(app: TestApp) {
    let c = course_iri();
    let (na, none, done) = (format!("{c}/na"), format!("{c}/default"), format!("{c}/done"));
    let aus = [
        Au { id: &na, move_on: Some("NotApplicable"), mastery: None },
        Au { id: &none, move_on: None, mastery: None },
        Au { id: &done, move_on: Some("Completed"), mastery: None },
    ];
    let course = import_cmi5(&app, &c, &aus).await;
    let ann = learner("ann");
    assign(&app, &course, &ann, &days(-5)).await;
    let at = days(-10);
    post(&app, cmi5_st(&ann, "completed", &done, true, json!({"timestamp": at}))).await;
    let before = result_of(&app, &course, &ann).await;
    assert_eq!(before["compliance"], "on_time", "{before}");
    post(&app, json!([cmi5_st(&ann, "waived", &na, true, json!({})), cmi5_st(&ann, "waived", &none, true, json!({}))]))
        .await;
    let after = result_of(&app, &course, &ann).await;
    assert_eq!(
        (&after["compliance"], &after["completed_at"]),
        (&before["compliance"], &before["completed_at"]),
        "{after}"
    );
}
both!(waived_not_applicable_au_keeps_the_completion_time);

/// §9.4: the `satisfied` statements for a block and the course name ids Cairn generates, never the
/// publisher's; the publisher's id is in `grouping` (§9.6.2.3).
async fn satisfied_statements_name_generated_ids(app: TestApp) {
    let c = course_iri();
    let au = format!("{c}/au");
    let course = import_cmi5(&app, &c, &[Au { id: &au, move_on: Some("Completed"), mastery: None }]).await;
    let ann = learner("ann");
    post(&app, cmi5_st(&ann, "completed", &au, true, json!({}))).await;
    let q = serde_urlencoded::to_string([
        ("verb", "https://w3id.org/xapi/adl/verbs/satisfied"),
        ("agent", &json!({"mbox": "mailto:ann@example.com"}).to_string()),
    ])
    .expect("encode");
    let (_, sat) = app.get_json(&format!("/xapi/statements?{q}")).await;
    let sat = sat["statements"].as_array().expect("statements").clone();
    assert_eq!(sat.len(), 2, "{sat:?}");
    for (publisher, kind) in [(format!("{c}/block"), "block"), (course.clone(), "course")] {
        let s = sat
            .iter()
            .find(|s| s["context"]["contextActivities"]["grouping"][0]["id"] == publisher.as_str())
            .unwrap_or_else(|| panic!("no satisfied statement grouped under {publisher}: {sat:?}"));
        let id = s["object"]["id"].as_str().unwrap_or("");
        assert_ne!(id, publisher);
        assert!(id.starts_with(&format!("urn:cairn:cmi5-{kind}:")), "{id}");
        assert_eq!(s["object"]["definition"]["type"], format!("https://w3id.org/xapi/cmi5/activitytype/{kind}"));
        assert!(s["context"]["contextActivities"]["category"][0]["id"] == CMI5_CATEGORY);
    }
}
both!(satisfied_statements_name_generated_ids);

/// §6.3: a cmi5 defined `passed` below the masteryScore or `failed` at or above it, accepted from a
/// trusted client, is voided by Cairn and counts for nothing, not even the score.
async fn conflicting_pass_fail_is_voided(app: TestApp) {
    let c = course_iri();
    let au = format!("{c}/quiz");
    let course = import_cmi5(&app, &c, &[Au { id: &au, move_on: Some("Passed"), mastery: Some(0.8) }]).await;
    let ann = learner("ann");
    assign(&app, &course, &ann, &days(5)).await;
    let score = |s: f64, ok: bool| json!({"result": {"success": ok, "score": {"scaled": s}}});
    let ids = post(
        &app,
        json!([
            cmi5_st(&ann, "passed", &au, true, score(0.5, true)),
            cmi5_st(&ann, "failed", &au, true, score(0.9, false))
        ]),
    )
    .await;
    for id in &ids {
        let (status, _) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
        assert_eq!(status, 404, "{id} is voided");
        let (status, _) = app.get_json(&format!("/xapi/statements?voidedStatementId={id}")).await;
        assert_eq!(status, 200);
    }
    let r = result_of(&app, &course, &ann).await;
    assert_eq!(
        (r["status"].as_str(), &r["score"], &r["best_score"]),
        (Some("not_started"), &Value::Null, &Value::Null),
        "{r}"
    );
    post(&app, cmi5_st(&ann, "passed", &au, true, score(0.85, true))).await;
    let r = result_of(&app, &course, &ann).await;
    assert_eq!((r["status"].as_str(), r["score"].as_f64()), (Some("passed"), Some(0.85)), "{r}");
    // Cairn voided those two and nothing else (the consistent `passed` stays).
    let (_, all) = app.get_json("/xapi/statements?verb=http://adlnet.gov/expapi/verbs/voided").await;
    assert_eq!(all["statements"].as_array().map(Vec::len), Some(2));
}
both!(conflicting_pass_fail_is_voided);

/// The README's status rule: a waived assignment shows `completed`, or `passed` when the learner
/// passed anyway; compliance is `waived` either way.
async fn waived_assignment_of_a_learner_who_passed(app: TestApp) {
    let c = course_iri();
    let au = format!("{c}/quiz");
    let course = import_cmi5(&app, &c, &[Au { id: &au, move_on: Some("Passed"), mastery: None }]).await;
    let (ann, bob) = (learner("ann"), learner("bob"));
    for who in [&ann, &bob] {
        let a = assign(&app, &course, who, &days(5)).await;
        let r = app
            .req(Method::POST, &format!("/api/assignments/{}/waive", a["id"].as_str().unwrap_or("")))
            .json(&json!({"reason": "prior certificate"}))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }
    post(&app, cmi5_st(&ann, "passed", &au, true, json!({"result": {"success": true}}))).await;
    let r = result_of(&app, &course, &ann).await;
    assert_eq!((r["status"].as_str(), r["compliance"].as_str()), (Some("passed"), Some("waived")), "{r}");
    let r = result_of(&app, &course, &bob).await;
    assert_eq!((r["status"].as_str(), r["compliance"].as_str()), (Some("completed"), Some("waived")), "{r}");
}
both!(waived_assignment_of_a_learner_who_passed);

/// A learner with no time reads `0`, never `-0`, in JSON and CSV.
async fn no_time_spent_reads_zero(app: TestApp) {
    let c = course_iri();
    let au = format!("{c}/au");
    let course = import_cmi5(&app, &c, &[Au { id: &au, move_on: Some("Completed"), mastery: None }]).await;
    assign(&app, &course, &learner("ann"), &days(5)).await;
    let q = serde_urlencoded::to_string([("course", course.as_str())]).expect("encode");
    let json_text = app.req(Method::GET, &format!("/api/results?{q}")).send().await.expect("send").text().await;
    let json_text = json_text.expect("body");
    assert!(json_text.contains("\"time_spent_seconds\":0.0"), "{json_text}");
    let csv = app.req(Method::GET, &format!("/api/results?{q}")).header("Accept", "text/csv").send().await;
    let csv = csv.expect("send").text().await.expect("body");
    assert!(!csv.contains(",-0"), "{csv}");
}
both!(no_time_spent_reads_zero);
