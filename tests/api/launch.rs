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
    assert!(
        url.starts_with(&format!("http://content.cairn.test/launch/{}#token=", l["id"].as_str().unwrap())),
        "{url}"
    );
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
    let (s, info) = app.get_json(&format!("/api/launches/{}", a["id"].as_str().unwrap())).await;
    assert_eq!(s, 200, "{info}");
    assert_eq!(info["state"], "suspended");
    assert_eq!(info["registration"], a["registration"]);
    assert!(info.get("secret").is_none() && !info.to_string().contains(&cred.1));
    let (s, _) = app.get_json("/api/launches/6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d").await;
    assert_eq!(s, 404);
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
            .env("CAIRN_CONTENT_URL", "http://content.lms.example:8080")
            .env("CAIRN_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["import", zip.to_str().unwrap()]);
    let url = run(&["launch", "urn:cairn:scorm:single_sco", "ITEM-1", "--learner", "mailto:ann@example.com"]);
    assert!(url.trim().starts_with("http://content.lms.example:8080/launch/"), "{url}");
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
    cairn::lms::launch::encode_component(s)
}

/// A cmi5 statement as an AU makes it: the actor and registration from the launch URL, the contextTemplate
/// from LMS.LaunchData, the cmi5 category (and moveOn's for judged verbs).
fn cmi5_statement(q: &std::collections::HashMap<String, String>, template: &Value, verb: &str, result: Value) -> Value {
    let mut context = template.clone();
    context["registration"] = json!(q["registration"]);
    let mut cats = vec![json!({"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"})];
    if ["completed", "passed", "failed"].contains(&verb) {
        cats.push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}));
    }
    context["contextActivities"]["category"] = json!(cats);
    let mut s = json!({"id": uuid::Uuid::new_v4().to_string(), "actor": serde_json::from_str::<Value>(&q["actor"]).unwrap(),
        "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")}, "object": {"id": q["activityId"]}, "context": context});
    if !result.is_null() {
        s["result"] = result;
    }
    s
}

/// Launches a cmi5 AU; returns the launch and its URL's query parameters.
async fn cmi5_launch(app: &TestApp, course: &Value, au: &str) -> (Value, std::collections::HashMap<String, String>) {
    let (s, l) = launch(app, json!({"course": course["id"], "module": au, "learner": "mailto:ann@example.com", "returnURL": "http://lms.example/back"})).await;
    assert_eq!(s, 201, "{l}");
    let url = reqwest::Url::parse(l["url"].as_str().unwrap()).unwrap();
    (l, url.query_pairs().into_owned().collect())
}

async fn fetch(app: &TestApp, fetch_url: &str) -> Value {
    let url = app.local(fetch_url);
    let r = app.client.post(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn cmi5_launch_fetch_launch_data_and_session_rules(app: TestApp) {
    let course = import(&app, "cmi5-blocks").await;
    let (l, q) = cmi5_launch(&app, &course, "https://example.com/aus/quiz").await;
    assert!(l["url"].as_str().unwrap().starts_with("http://content.cairn.test/content/"), "{}", l["url"]);
    assert_eq!(q["endpoint"], "http://cairn.test/xapi/");
    // cmi5 §8.1.5: an activity id generated by the LMS, not the publisher's AU id.
    assert_eq!(q["activityId"], cairn::results::ids::cmi5_au_activity_id("https://example.com/aus/quiz"));
    assert_eq!(q["registration"], l["registration"].as_str().unwrap());
    let actor: Value = serde_json::from_str(&q["actor"]).unwrap();
    assert_eq!(actor["account"]["name"], "ann@example.com", "cmi5 actors have an account (§9.2)");

    // The LMS recorded `launched` and LMS.LaunchData before launch.
    let (_, page) = app
        .get_json(&format!(
            "/xapi/statements?registration={}&verb={}",
            q["registration"],
            urlencode("http://adlnet.gov/expapi/verbs/launched")
        ))
        .await;
    let launched = &page["statements"][0];
    assert_eq!(launched["object"]["id"], q["activityId"]);
    let ext = &launched["context"]["extensions"];
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/launchmode"], "Normal");
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/moveon"], "CompletedAndPassed");
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/masteryscore"], 0.8);
    assert_eq!(ext["https://w3id.org/xapi/cmi5/context/extensions/sessionid"], l["session_id"]);
    let state = format!(
        "/xapi/activities/state?activityId={}&agent={}&registration={}&stateId=LMS.LaunchData",
        urlencode(&q["activityId"]),
        urlencode(&q["actor"]),
        q["registration"]
    );
    let (s, data) = app.get_json(&state).await;
    assert_eq!(s, 200);
    assert_eq!(data["launchMode"], "Normal");
    assert_eq!(data["moveOn"], "CompletedAndPassed");
    assert_eq!(data["masteryScore"], 0.8);
    assert_eq!(data["launchParameters"], "{\"level\":2}");
    assert_eq!(data["returnURL"], "http://lms.example/back");
    assert_eq!(data["entitlementKey"]["courseStructure"], "key-123");
    assert_eq!(
        data["contextTemplate"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"],
        l["session_id"]
    );
    assert_eq!(data["contextTemplate"]["contextActivities"]["grouping"][0]["id"], "https://example.com/aus/quiz");

    // The fetch URL gives the token once.
    let wrong = fetch(&app, &format!("{}x", q["fetch"])).await;
    assert_eq!(wrong["error-code"], "2");
    let first = fetch(&app, &q["fetch"]).await;
    let token = first["auth-token"].as_str().expect("auth-token").to_string();
    let again = fetch(&app, &q["fetch"]).await;
    assert_eq!(again["error-code"], "1");
    assert!(again.get("auth-token").is_none());
    let post = |s: Value| {
        app.client
            .post(format!("{}/xapi/statements", app.base))
            .header("Authorization", format!("Basic {token}"))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&s)
            .send()
    };
    // The AU reads LaunchData but may not change it.
    let au_state = |m: Method| {
        app.client
            .request(m, format!("{}{state}", app.base))
            .header("Authorization", format!("Basic {token}"))
            .header("X-Experience-API-Version", "1.0.3")
    };
    let r = au_state(Method::GET).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let template = r.json::<Value>().await.unwrap()["contextTemplate"].clone();
    let r = au_state(Method::PUT).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 403);

    let st = |verb: &str, result: Value| cmi5_statement(&q, &template, verb, result);
    let completed = st("completed", json!({"completion": true, "duration": "PT10S"}));
    assert_eq!(post(completed.clone()).await.unwrap().status(), 403, "initialized must come first");
    assert_eq!(post(st("initialized", Value::Null)).await.unwrap().status(), 200);
    assert_eq!(post(st("initialized", Value::Null)).await.unwrap().status(), 403, "initialized twice");
    let low = st("passed", json!({"success": true, "duration": "PT10S", "score": {"scaled": 0.5}}));
    assert_eq!(post(low).await.unwrap().status(), 403, "below masteryScore");
    let passed = st("passed", json!({"success": true, "duration": "PT10S", "score": {"scaled": 0.9}}));
    assert_eq!(post(json!([completed.clone(), passed])).await.unwrap().status(), 200);
    // A retry of a stored statement is accepted as the same statement, not judged a duplicate.
    assert_eq!(post(completed.clone()).await.unwrap().status(), 200);
    let terminated = st("terminated", json!({"duration": "PT20S"}));
    assert_eq!(post(terminated).await.unwrap().status(), 200);
    let after = cmi5_statement(&q, &template, "experienced", Value::Null);
    assert_eq!(post(after).await.unwrap().status(), 403, "nothing after terminated");

    // The next launch of the AU keeps the registration; completed/passed stay one per registration.
    let (l2, q2) = cmi5_launch(&app, &course, "https://example.com/aus/quiz").await;
    assert_eq!(l2["registration"], l["registration"]);
    let token2 = fetch(&app, &q2["fetch"]).await["auth-token"].as_str().unwrap().to_string();
    let mut template2 = template.clone();
    template2["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"] = l2["session_id"].clone();
    let post2 = |s: Value| {
        app.client
            .post(format!("{}/xapi/statements", app.base))
            .header("Authorization", format!("Basic {token2}"))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&s)
            .send()
    };
    assert_eq!(post2(cmi5_statement(&q2, &template2, "initialized", Value::Null)).await.unwrap().status(), 200);
    let again = cmi5_statement(&q2, &template2, "completed", json!({"completion": true, "duration": "PT1S"}));
    assert_eq!(post2(again).await.unwrap().status(), 403);
}
both!(cmi5_launch_fetch_launch_data_and_session_rules);

/// A session replaced by a new launch before it terminated is abandoned: the LMS records `abandoned` with
/// a duration, and the old session's credential can write no more.
async fn cmi5_unterminated_session_is_abandoned(app: TestApp) {
    let course = import(&app, "cmi5-blocks").await;
    let (l, q) = cmi5_launch(&app, &course, "https://example.com/aus/intro").await;
    assert_eq!(q["lang"], "en", "the AU's own query string is kept");
    let token = fetch(&app, &q["fetch"]).await["auth-token"].as_str().unwrap().to_string();
    let template = json!({"contextActivities": {"grouping": [{"id": q["activityId"]}]},
        "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": l["session_id"]}});
    let post = |s: Value| {
        app.client
            .post(format!("{}/xapi/statements", app.base))
            .header("Authorization", format!("Basic {token}"))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&s)
            .send()
    };
    assert_eq!(post(cmi5_statement(&q, &template, "initialized", Value::Null)).await.unwrap().status(), 200);
    let (l2, _) = cmi5_launch(&app, &course, "https://example.com/aus/intro").await;
    assert_eq!(l2["registration"], l["registration"]);
    let (_, page) = app
        .get_json(&format!(
            "/xapi/statements?registration={}&verb={}",
            q["registration"],
            urlencode("https://w3id.org/xapi/adl/verbs/abandoned")
        ))
        .await;
    let list = page["statements"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"],
        l["session_id"]
    );
    assert!(list[0]["result"]["duration"].as_str().unwrap().starts_with("PT"));
    let more = cmi5_statement(&q, &template, "experienced", Value::Null);
    assert_eq!(post(more).await.unwrap().status(), 403);
    // The old fetch URL is dead too.
    assert_eq!(fetch(&app, &q["fetch"]).await["error-code"], "1");
}
both!(cmi5_unterminated_session_is_abandoned);

/// The SCORM launch page is served on the content origin only, carries nothing about the learner and no
/// inline script (a strict CSP); the run-time's settings answer only the launch's own credential.
async fn scorm_launch_page_serves_the_runtime(app: TestApp) {
    let course = import(&app, "scorm12-single").await;
    let (_, l) =
        launch(&app, json!({"course": course["id"], "module": "ITEM-1", "learner": "mailto:ann@example.com"})).await;
    let id = l["id"].as_str().unwrap();
    let r = app.client.get(format!("{}/launch/{id}", app.content_base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(r.headers()["cache-control"], "no-store");
    let csp = r.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'") && csp.contains("connect-src 'self' http://cairn.test"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains("<script src=\"/static/scorm/runtime.js\" defer></script>"), "{html}");
    assert!(!html.contains("ann@example.com"), "the page names no learner: {html}");
    assert!(!html.contains("<script>"), "no inline script: {html}");
    let cred = scorm_credential(l["url"].as_str().unwrap());
    assert!(!html.contains(&cred.1), "the page must not carry the credential");

    // The settings: the launch's own credential only.
    let runtime = format!("{}/launch/{id}/runtime", app.content_base);
    let r = app.client.get(&runtime).basic_auth(&cred.0, Some(&cred.1)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cfg: Value = r.json().await.unwrap();
    assert_eq!(cfg["version"], "1.2");
    assert_eq!(cfg["init"]["mastery_score"], "80");
    assert_eq!(cfg["endpoint"], "http://cairn.test/xapi/");
    assert_eq!(cfg["sco_url"], format!("/content/{}/index.html", l["version_id"].as_str().unwrap()));
    assert_eq!(cfg["actor"]["mbox"], "mailto:ann@example.com");
    let r = app.client.get(&runtime).send().await.unwrap();
    assert_eq!(r.status(), 401, "anonymous");
    let r =
        app.client.get(&runtime).basic_auth(crate::support::KEY, Some(crate::support::SECRET)).send().await.unwrap();
    assert_eq!(r.status(), 403, "not even the admin credential: only the launch's own");
    let (_, other) =
        launch(&app, json!({"course": course["id"], "module": "ITEM-1", "learner": "mailto:bob@example.com"})).await;
    let bob = scorm_credential(other["url"].as_str().unwrap());
    let r = app.client.get(&runtime).basic_auth(&bob.0, Some(&bob.1)).send().await.unwrap();
    assert_eq!(r.status(), 403, "another launch's credential");

    let r = app.client.get(format!("{}/static/scorm/runtime.js", app.content_base)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(r.text().await.unwrap().contains("API_1484_11"));
    for bad in ["nope", "6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d"] {
        let r = app.client.get(format!("{}/launch/{bad}", app.content_base)).send().await.unwrap();
        assert_eq!(r.status(), 404);
    }
    // cmi5 and TinCan launches have no launch page.
    let cmi5 = import(&app, "cmi5-blocks").await;
    let (_, c) = launch(
        &app,
        json!({"course": cmi5["id"], "module": "https://example.com/aus/intro", "learner": "mailto:ann@example.com"}),
    )
    .await;
    let r = app.client.get(format!("{}/launch/{}", app.content_base, c["id"].as_str().unwrap())).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
both!(scorm_launch_page_serves_the_runtime);

/// Content whose credential fails gets a plain 401, without the Basic challenge that would make the
/// browser show a login dialog and hold the request; other clients keep the challenge. `/xapi//…` (an
/// endpoint ending in `/` joined with another `/`) is served like `/xapi/…`.
async fn browser_scripts_get_no_login_dialog(app: TestApp) {
    let url = format!("{}/xapi/statements", app.base);
    let plain = app
        .client
        .get(&url)
        .basic_auth("nobody", Some("x"))
        .header("X-Experience-API-Version", "1.0.3")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    assert!(plain.headers().contains_key("www-authenticate"));
    let script = app
        .client
        .put(format!("{url}?statementId=6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d"))
        .basic_auth("nobody", Some("x"))
        .header("X-Experience-API-Version", "1.0.3")
        .header("Origin", "http://content.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 401);
    assert!(!script.headers().contains_key("www-authenticate"));
    let (s, _) = app.get_json("/xapi//statements?limit=1").await;
    assert_eq!(s, 200);
}
both!(browser_scripts_get_no_login_dialog);

/// A cmi5 course structure alone (its AU hosted elsewhere): one block holding one AU with `move_on`.
async fn import_bare_cmi5(app: &TestApp, name: &str, move_on: &str) -> Value {
    let c = format!("https://example.com/catapult/course/{name}");
    let xml = format!(
        r#"<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
<course id="{c}"><title><langstring lang="en">{name}</langstring></title><description><langstring lang="en">d</langstring></description></course>
<block id="https://example.com/catapult/block/{name}"><title><langstring lang="en">B</langstring></title><description><langstring lang="en">d</langstring></description>
<au id="https://example.com/catapult/au/{name}" moveOn="{move_on}"><title><langstring lang="en">AU</langstring></title><description><langstring lang="en">d</langstring></description>
<url>https://au.example.org/{name}/index.html</url></au></block></courseStructure>"#
    );
    let r = app.req(Method::POST, "/api/courses").body(xml).send().await.unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

/// The statements of a registration, oldest first, as CATAPULT's LMS tests read them (1.0.3).
async fn registration_statements(app: &TestApp, registration: &str) -> Vec<Value> {
    let (status, page) =
        app.get_json(&format!("/xapi/statements?registration={registration}&ascending=true&limit=50")).await;
    assert_eq!(status, 200);
    page["statements"].as_array().unwrap().clone()
}

/// What CATAPULT's LMS tests check of the `satisfied` statements Cairn writes (9.3.9.0-1/2/4/5/6/8/9,
/// 9.6.2.3-2, 9.6.1.1-3): the block's then the course's, with generated object ids (never the
/// publisher's), the publisher's id in `grouping`, the launch's registration and session; after the
/// statement that satisfied the AU (001-essentials) or, for `NotApplicable`, at registration, before
/// `launched` (004-5-moveOn-NotApplicable).
async fn cmi5_satisfied_statements_as_catapult_reads_them(app: TestApp) {
    let satisfied = |s: &Value, kind: &str, name: &str, session: &Value, registration: &str| {
        let publisher = format!("https://example.com/catapult/{kind}/{name}");
        assert_eq!(s["verb"]["id"], "https://w3id.org/xapi/adl/verbs/satisfied", "{s}");
        assert_eq!(s["object"]["definition"]["type"], format!("https://w3id.org/xapi/cmi5/activitytype/{kind}"), "{s}");
        assert_ne!(s["object"]["id"], publisher.as_str(), "9.3.9.0-4/-8: {s}");
        let grouping = s["context"]["contextActivities"]["grouping"].as_array().cloned().unwrap_or_default();
        assert!(grouping.iter().any(|a| a["id"] == publisher.as_str()), "9.6.2.3-2: {s}");
        assert_eq!(
            s["context"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"], *session,
            "{s}"
        );
        assert_eq!(s["context"]["registration"], registration, "{s}");
    };

    // 001-essentials: launched, initialized, completed, passed, satisfied block, satisfied course, terminated.
    let course = import_bare_cmi5(&app, "essentials", "CompletedAndPassed").await;
    let (l, q) = cmi5_launch(&app, &course, "https://example.com/catapult/au/essentials").await;
    let token = fetch(&app, &q["fetch"]).await["auth-token"].as_str().unwrap().to_string();
    let template = json!({"contextActivities": {"grouping": [{"id": "https://example.com/catapult/au/essentials"}]},
        "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": l["session_id"]}});
    for (verb, result) in [
        ("initialized", Value::Null),
        ("completed", json!({"completion": true, "duration": "PT5S"})),
        ("passed", json!({"success": true, "duration": "PT5S"})),
        ("terminated", json!({"duration": "PT12S"})),
    ] {
        let r = app
            .client
            .post(format!("{}/xapi/statements", app.base))
            .header("Authorization", format!("Basic {token}"))
            .header("X-Experience-API-Version", "1.0.3")
            .json(&cmi5_statement(&q, &template, verb, result))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{verb}");
    }
    let reg = q["registration"].as_str();
    let list = registration_statements(&app, &q["registration"]).await;
    let verbs: Vec<&str> = list.iter().map(|s| s["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap()).collect();
    assert_eq!(verbs, ["launched", "initialized", "completed", "passed", "satisfied", "satisfied", "terminated"]);
    satisfied(&list[4], "block", "essentials", &l["session_id"], reg);
    satisfied(&list[5], "course", "essentials", &l["session_id"], reg);

    // 004-5-moveOn-NotApplicable: satisfied at registration, before `launched`.
    let course = import_bare_cmi5(&app, "not-applicable", "NotApplicable").await;
    let (l, q) = cmi5_launch(&app, &course, "https://example.com/catapult/au/not-applicable").await;
    let list = registration_statements(&app, &q["registration"]).await;
    let verbs: Vec<&str> = list.iter().map(|s| s["verb"]["id"].as_str().unwrap().rsplit('/').next().unwrap()).collect();
    assert_eq!(verbs, ["satisfied", "satisfied", "launched"], "9.6.1.1-3");
    satisfied(&list[0], "block", "not-applicable", &l["session_id"], &q["registration"]);
    satisfied(&list[1], "course", "not-applicable", &l["session_id"], &q["registration"]);
    // A second launch of the registration writes them no more.
    let (_, q2) = cmi5_launch(&app, &course, "https://example.com/catapult/au/not-applicable").await;
    assert_eq!(q2["registration"], q["registration"]);
    let list = registration_statements(&app, &q["registration"]).await;
    let count = list.iter().filter(|s| s["verb"]["id"] == "https://w3id.org/xapi/adl/verbs/satisfied").count();
    assert_eq!(count, 2);
}
both!(cmi5_satisfied_statements_as_catapult_reads_them);
