//! Launches (`POST /api/launches`, `cairn launch`) and the launch credential: limited to its learner,
//! registration and activity tree, unable to read anyone else's statements.

use std::path::Path;

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::courses::zip_folder;
use crate::support::TestApp;

pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/packages").join(name)
}

/// Imports a fixture package; returns the course JSON.
pub async fn import(app: &TestApp, name: &str) -> Value {
    let r = app
        .req(Method::POST, "/api/courses")
        .header("Content-Type", "application/zip")
        .body(zip_folder(&fixture(name)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// POST /api/launches with the test credential.
pub async fn launch(app: &TestApp, body: Value) -> (u16, Value) {
    let r = app.req(Method::POST, "/api/launches").json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// The `key:secret` of a SCORM launch URL's `#token=` fragment.
pub fn scorm_credential(url: &str) -> (String, String) {
    let token = url.split("#token=").nth(1).expect("token fragment");
    let token = token.replace("%3D", "=").replace("%2B", "+").replace("%2F", "/");
    let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(token).unwrap()).unwrap();
    let (k, s) = text.split_once(':').unwrap();
    (k.to_string(), s.to_string())
}

/// A request with a given credential.
pub fn as_cred(app: &TestApp, cred: &(String, String), method: Method, path: &str) -> reqwest::RequestBuilder {
    app.client
        .request(method, format!("{}{}", app.base, path))
        .basic_auth(&cred.0, Some(&cred.1))
        .header("X-Experience-API-Version", "1.0.3")
}

fn statement(actor: &str, object: &str, registration: &str) -> Value {
    json!({"actor": {"mbox": actor}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
           "object": {"id": object}, "context": {"registration": registration}})
}

async fn launch_answers_a_url_and_a_scoped_credential(app: TestApp) {
    let course = import(&app, "scorm12-single").await;
    let cid = course["id"].as_str().unwrap();
    let (status, l) =
        launch(&app, json!({"course": cid, "module": "ITEM-1", "learner": "mailto:ann@example.com"})).await;
    assert_eq!(status, 201, "{l}");
    assert_eq!(l["format"], "scorm12");
    assert_eq!(l["entry"], "ab-initio");
    assert_eq!(l["learner"]["mbox"], "mailto:ann@example.com");
    let url = l["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://cairn.test/launch/{}#token=", l["id"].as_str().unwrap())), "{url}");
    let reg = l["registration"].as_str().unwrap().to_string();
    let tree = l["activity_id"].as_str().unwrap().to_string();
    let cred = scorm_credential(url);

    // Another learner's statement, stored by the admin credential.
    let (s, ids) = app.post_statements(&statement("mailto:bob@example.com", &tree, &reg)).await;
    assert_eq!(s, 200);
    let bobs = ids[0].as_str().unwrap().to_string();

    // The launch credential writes about its learner, registration and tree…
    let r = as_cred(&app, &cred, Method::POST, "/xapi/statements")
        .json(&statement("mailto:ann@example.com", &format!("{tree}/page1"), &reg))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // …and nothing else: another actor, another registration, another activity, voiding.
    for bad in [
        statement("mailto:bob@example.com", &tree, &reg),
        statement("mailto:ann@example.com", &tree, "0d5b3d1e-8f6a-4a59-9c9e-3a5cf1a1b2c3"),
        statement("mailto:ann@example.com", "http://example.com/elsewhere", &reg),
        json!({"actor": {"mbox": "mailto:ann@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
               "object": {"objectType": "StatementRef", "id": bobs}, "context": {"registration": reg}}),
    ] {
        let r = as_cred(&app, &cred, Method::POST, "/xapi/statements").json(&bad).send().await.unwrap();
        assert_eq!(r.status(), 403, "{bad}");
    }
    // It reads only what it stored: not Bob's statement, by query or by id.
    let r = as_cred(&app, &cred, Method::GET, "/xapi/statements").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.json().await.unwrap();
    let seen = page["statements"].as_array().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["actor"]["mbox"], "mailto:ann@example.com");
    let r = as_cred(&app, &cred, Method::GET, &format!("/xapi/statements?statementId={bobs}")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let bob_filter = format!("/xapi/statements?agent={}", urlencode(r#"{"mbox":"mailto:bob@example.com"}"#));
    let page: Value = as_cred(&app, &cred, Method::GET, &bob_filter).send().await.unwrap().json().await.unwrap();
    assert_eq!(page["statements"].as_array().unwrap().len(), 0);

    // State: its own learner and tree only; no profiles, no admin API.
    let ann = urlencode(r#"{"mbox":"mailto:ann@example.com"}"#);
    let bob = urlencode(r#"{"mbox":"mailto:bob@example.com"}"#);
    let own =
        format!("/xapi/activities/state?activityId={}&agent={ann}&registration={reg}&stateId=s", urlencode(&tree));
    let r = as_cred(&app, &cred, Method::PUT, &own).json(&json!({"a": 1})).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let theirs = format!("/xapi/activities/state?activityId={}&agent={bob}&stateId=s", urlencode(&tree));
    let r = as_cred(&app, &cred, Method::GET, &theirs).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let outside =
        format!("/xapi/activities/state?activityId={}&agent={ann}&stateId=s", urlencode("http://x.example/a"));
    let r = as_cred(&app, &cred, Method::PUT, &outside).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = as_cred(&app, &cred, Method::PUT, &format!("/xapi/agents/profile?agent={ann}&profileId=p"))
        .header("If-None-Match", "*")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = as_cred(&app, &cred, Method::GET, "/api/courses").send().await.unwrap();
    assert_eq!(r.status(), 403);
    let r = as_cred(&app, &cred, Method::POST, "/api/launches")
        .json(&json!({"course": cid, "module": "ITEM-1", "learner": "mailto:bob@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A wrong secret is refused.
    let r = as_cred(&app, &(cred.0.clone(), "nope".into()), Method::GET, "/xapi/statements").send().await.unwrap();
    assert_eq!(r.status(), 401);
}
both!(launch_answers_a_url_and_a_scoped_credential);

async fn launch_requests_are_checked(app: TestApp) {
    let course = import(&app, "scorm2004-4th").await;
    let cid = course["id"].as_str().unwrap();
    let module = first_module(&course);
    let (s, e) = launch(&app, json!({"course": cid, "module": "nope", "learner": "mailto:a@example.com"})).await;
    assert_eq!(s, 404, "{e}");
    let (s, _) =
        launch(&app, json!({"course": "http://no.example/c", "module": module, "learner": "mailto:a@example.com"}))
            .await;
    assert_eq!(s, 404);
    for learner in [json!("ann"), json!({"name": "no ifi"}), json!(42)] {
        let (s, e) = launch(&app, json!({"course": cid, "module": module, "learner": learner})).await;
        assert_eq!(s, 400, "{e}");
    }
    let (s, _) =
        launch(&app, json!({"course": cid, "module": module, "learner": "mailto:a@example.com", "mode": "x"})).await;
    assert_eq!(s, 400);
    let (s, _) =
        launch(&app, json!({"course": cid, "module": module, "learner": "mailto:a@example.com", "bogus": 1})).await;
    assert_eq!(s, 400);
    let (s, _) =
        launch(&app, json!({"course": cid, "module": module, "learner": "mailto:a@example.com", "registration": "r"}))
            .await;
    assert_eq!(s, 400);
    let aicc = import(&app, "aicc").await;
    let (s, e) =
        launch(&app, json!({"course": aicc["id"], "module": first_module(&aicc), "learner": "mailto:a@example.com"}))
            .await;
    assert_eq!(s, 400, "{e}");

    // The `launch` scope may create launches; a statements credential may not.
    for (scopes, want) in [(vec!["launch"], 201), (vec!["statements/write"], 403)] {
        let c = app
            .lrs
            .create_credential("player", scopes.iter().map(|s| s.to_string()).collect(), None, None)
            .await
            .unwrap();
        let r = app
            .client
            .post(format!("{}/api/launches", app.base))
            .basic_auth(&c.key, Some(&c.secret))
            .json(&json!({"course": cid, "module": module, "learner": {"account": {"homePage": "http://lms.example", "name": "7"}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), want, "{scopes:?}");
    }
}
both!(launch_requests_are_checked);

/// SCORM: a registration is an attempt. A new launch after a terminated session starts a new one; after a
/// suspended session it resumes the same one.
async fn scorm_attempts_follow_suspend(app: TestApp) {
    let course = import(&app, "scorm12-single").await;
    let body = json!({"course": course["id"], "module": "ITEM-1", "learner": "mailto:ann@example.com"});
    let (_, a) = launch(&app, body.clone()).await;
    let reg = a["registration"].as_str().unwrap();
    let cred = scorm_credential(a["url"].as_str().unwrap());
    let sco = a["activity_id"].as_str().unwrap();
    let verb = |v: &str| {
        json!({"actor": {"mbox": "mailto:ann@example.com"}, "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{v}")},
               "object": {"id": sco}, "context": {"registration": reg}})
    };
    let r = as_cred(&app, &cred, Method::POST, "/xapi/statements")
        .json(&json!([verb("initialized"), verb("suspended")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Nothing after the session ended.
    let r = as_cred(&app, &cred, Method::POST, "/xapi/statements").json(&verb("completed")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let (_, b) = launch(&app, body.clone()).await;
    assert_eq!(b["registration"], a["registration"]);
    assert_eq!(b["entry"], "resume");
    let cred = scorm_credential(b["url"].as_str().unwrap());
    let r = as_cred(&app, &cred, Method::POST, "/xapi/statements")
        .json(&json!([verb("resumed"), verb("terminated")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, c) = launch(&app, body).await;
    assert_ne!(c["registration"], a["registration"]);
    assert_eq!(c["entry"], "ab-initio");
}
both!(scorm_attempts_follow_suspend);

async fn tincan_launch_carries_endpoint_auth_actor_registration(app: TestApp) {
    let course = import(&app, "tincan").await;
    let (s, l) = launch(
        &app,
        json!({"course": course["id"], "module": "http://example.com/tincan/course1", "learner": {"name": "Ann", "mbox": "mailto:ann@example.com"}}),
    )
    .await;
    assert_eq!(s, 201, "{l}");
    let url = reqwest::Url::parse(l["url"].as_str().unwrap()).unwrap();
    assert!(url.path().ends_with("/index.html"), "{url}");
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["endpoint"], "http://cairn.test/xapi/");
    assert_eq!(q["registration"], l["registration"].as_str().unwrap());
    assert_eq!(q["activity_id"], "http://example.com/tincan/course1");
    let actor: Value = serde_json::from_str(&q["actor"]).unwrap();
    assert_eq!(actor["mbox"], "mailto:ann@example.com");
    let auth = q["auth"].strip_prefix("Basic ").unwrap();
    let text = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(auth).unwrap()).unwrap();
    let (k, sec) = text.split_once(':').unwrap();
    let cred = (k.to_string(), sec.to_string());
    let r = as_cred(&app, &cred, Method::POST, "/xapi/statements")
        .json(&json!({"actor": actor, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                      "object": {"id": "http://example.com/tincan/course1/objective1"},
                      "context": {"registration": q["registration"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The same registration is kept for the learner's next launch of the course.
    let (_, again) = launch(&app, json!({"course": course["id"], "module": "http://example.com/tincan/course1", "learner": "mailto:ann@example.com"})).await;
    assert_eq!(again["registration"], l["registration"]);
}
both!(tincan_launch_carries_endpoint_auth_actor_registration);

/// `cairn launch` prints a URL that works against the same database.
#[test]
fn cli_launch_prints_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("c.db").display());
    let zip = dir.path().join("p.zip");
    std::fs::write(&zip, zip_folder(&fixture("scorm12-single"))).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("--database")
            .arg(&db)
            .args(args)
            .env("CAIRN_PUBLIC_URL", "http://lms.example:8080")
            .env("CAIRN_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["import", zip.to_str().unwrap()]);
    let url = run(&["launch", "urn:cairn:scorm:single_sco", "ITEM-1", "--learner", "mailto:ann@example.com"]);
    assert!(url.trim().starts_with("http://lms.example:8080/launch/"), "{url}");
    assert!(url.contains("#token="), "{url}");
    let json: Value = serde_json::from_str(&run(&[
        "launch",
        "urn:cairn:scorm:single_sco",
        "ITEM-1",
        "--learner",
        r#"{"account":{"homePage":"http://lms.example","name":"42"}}"#,
        "--json",
    ]))
    .unwrap();
    assert_eq!(json["learner"]["account"]["name"], "42");
}

pub fn first_module(course: &Value) -> String {
    fn walk(nodes: &Value) -> Option<String> {
        for n in nodes.as_array()? {
            if let Some(c) = n.get("children") {
                if let Some(m) = walk(c) {
                    return Some(m);
                }
            } else {
                return n["id"].as_str().map(str::to_string);
            }
        }
        None
    }
    walk(&course["course"]["root"]).unwrap()
}

pub fn urlencode(s: &str) -> String {
    cairn::lrs::launch::encode_component(s)
}
