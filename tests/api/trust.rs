//! Trust boundaries of the learner's side (issue 11): what a launch credential, held by content running
//! in the learner's browser, can never do. Each test is named after the rule it checks and runs on
//! SQLite and PostgreSQL.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::launch::{as_cred, import, launch, scorm_credential};
use crate::support::TestApp;

/// The learner's rows of `/api/results` for a course.
async fn results_of(app: &TestApp, course: &str, mbox: &str) -> Vec<Value> {
    let q = serde_urlencoded::to_string([("course", course)]).unwrap();
    let (status, body) = app.get_json(&format!("/api/results?{q}")).await;
    assert_eq!(status, 200, "{body}");
    body["results"].as_array().unwrap().iter().filter(|r| r["learner"]["mbox"] == mbox).cloned().collect()
}

fn credits(rows: &[Value]) -> bool {
    rows.iter().any(|r| matches!(r["status"].as_str(), Some("passed" | "completed")) || !r["score"].is_null())
}

/// Finding 1: a launch for course A can never change a result outside A, whatever the statement says;
/// statements about activities outside the launched tree are accepted when their context ties them to
/// the launch, and never complete or score anything (not even in A). Rebuilding keeps it so.
async fn a_launch_never_credits_another_course(app: TestApp) {
    let a = import(&app, "scorm12-single").await;
    let b = import(&app, "tincan").await;
    let (a_id, b_id) = (a["id"].as_str().unwrap().to_string(), b["id"].as_str().unwrap().to_string());
    let (status, l) =
        launch(&app, json!({"course": a_id, "module": "ITEM-1", "learner": "mailto:ann@example.com"})).await;
    assert_eq!(status, 201, "{l}");
    let cred = scorm_credential(l["url"].as_str().unwrap());
    let reg = l["registration"].as_str().unwrap();
    let tree = l["activity_id"].as_str().unwrap();
    let b_activity = "http://example.com/tincan/course1";
    for verb in ["passed", "completed"] {
        let forged = json!({
            "actor": {"mbox": "mailto:ann@example.com"},
            "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
            "object": {"id": b_activity},
            "result": {"success": true, "completion": true, "score": {"scaled": 1.0}},
            "context": {"registration": reg, "contextActivities": {"parent": [{"id": tree}]}}
        });
        let r = as_cred(&app, &cred, Method::POST, "/xapi/statements").json(&forged).send().await.unwrap();
        assert_eq!(r.status(), 200, "tied to the launch by its context, the statement is accepted");
    }
    let check = |when: &'static str| {
        let app = &app;
        let (a_id, b_id) = (a_id.clone(), b_id.clone());
        async move {
            let in_b = results_of(app, &b_id, "mailto:ann@example.com").await;
            assert!(!credits(&in_b), "{when}: course B credited through A's launch: {in_b:?}");
            let in_a = results_of(app, &a_id, "mailto:ann@example.com").await;
            assert!(!credits(&in_a), "{when}: an object outside the launched tree completed A: {in_a:?}");
        }
    };
    check("incremental").await;
    let r = app.req(Method::POST, "/api/results/rebuild").send().await.unwrap();
    assert_eq!(r.status(), 200);
    check("after rebuild").await;

    // The same statement from a trusted client does count: the limit is the launch credential's.
    let trusted = json!({"actor": {"mbox": "mailto:ann@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                         "object": {"id": b_activity}, "result": {"score": {"scaled": 1.0}}});
    assert_eq!(app.post_statements(&trusted).await.0, 200);
    let in_b = results_of(&app, &b_id, "mailto:ann@example.com").await;
    assert!(credits(&in_b), "{in_b:?}");
}
both!(a_launch_never_credits_another_course);

/// Finding 3: documents are bytes, never pages. A launch credential stores a State document as
/// `text/html` with a script; fetched back the way a cross-site form would (the 1.0.3 alternate request
/// syntax, a top-level POST), it comes as a download in a sandbox, never as a page of the API origin.
async fn documents_never_render_as_pages(app: TestApp) {
    let course = import(&app, "scorm12-single").await;
    let (_, l) =
        launch(&app, json!({"course": course["id"], "module": "ITEM-1", "learner": "mailto:ann@example.com"})).await;
    let cred = scorm_credential(l["url"].as_str().unwrap());
    let agent = r#"{"mbox":"mailto:ann@example.com"}"#;
    let params = [
        ("activityId", l["activity_id"].as_str().unwrap()),
        ("agent", agent),
        ("registration", l["registration"].as_str().unwrap()),
        ("stateId", "page"),
    ];
    let q = serde_urlencoded::to_string(params).unwrap();
    let html = "<html><body><script>alert(document.domain)</script></body></html>";
    let r = as_cred(&app, &cred, Method::PUT, &format!("/xapi/activities/state?{q}"))
        .header("Content-Type", "text/html")
        .body(html)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("{}:{}", cred.0, cred.1))
    );
    let mut form: Vec<(&str, &str)> = params.to_vec();
    form.extend([("Authorization", auth.as_str()), ("X-Experience-API-Version", "1.0.3")]);
    let direct = as_cred(&app, &cred, Method::GET, &format!("/xapi/activities/state?{q}")).send().await.unwrap();
    let alternate = app
        .client
        .post(format!("{}/xapi/activities/state?method=GET", app.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", "http://evil.example")
        .body(serde_urlencoded::to_string(&form).unwrap())
        .send()
        .await
        .unwrap();
    for r in [direct, alternate] {
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-security-policy"].to_str().unwrap().starts_with("sandbox"), "{h:?}");
        assert_eq!(h["content-disposition"], "attachment");
        assert_eq!(r.text().await.unwrap(), html, "the bytes are kept as stored");
    }
}
both!(documents_never_render_as_pages);

/// A SCORM launch of `learner` with its credential, registration and activity id.
async fn scorm_launch(app: &TestApp, learner: &str) -> (Value, (String, String)) {
    let course = import(app, "scorm12-single").await;
    let (s, l) = launch(app, json!({"course": course["id"], "module": "ITEM-1", "learner": learner})).await;
    assert_eq!(s, 201, "{l}");
    let cred = scorm_credential(l["url"].as_str().unwrap());
    (l, cred)
}

fn scorm_statement(l: &Value, verb: &str) -> Value {
    json!({"actor": {"mbox": "mailto:ann@example.com"}, "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
           "object": {"id": l["activity_id"]}, "context": {"registration": l["registration"]}})
}

fn state_path(l: &Value) -> String {
    let q = serde_urlencoded::to_string([
        ("activityId", l["activity_id"].as_str().unwrap()),
        ("agent", r#"{"mbox":"mailto:ann@example.com"}"#),
        ("registration", l["registration"].as_str().unwrap()),
        ("stateId", "cmi"),
    ])
    .unwrap();
    format!("/xapi/activities/state?{q}")
}

/// Finding 9: `DELETE /api/launches/{id}` revokes a launch credential at once (admin or `launch` scope
/// only); afterwards it neither writes statements nor reaches documents.
async fn a_revoked_launch_credential_stops_working(app: TestApp) {
    let (l, cred) = scorm_launch(&app, "mailto:ann@example.com").await;
    let post = |body: Value| as_cred(&app, &cred, Method::POST, "/xapi/statements").json(&body).send();
    assert_eq!(post(scorm_statement(&l, "initialized")).await.unwrap().status(), 200);
    let path = format!("/api/launches/{}", l["id"].as_str().unwrap());
    let writer = app.lrs.create_credential("writer", vec!["all".into()], None, None).await.unwrap();
    let r = app.client.delete(format!("{}{path}", app.base)).basic_auth(&writer.key, Some(&writer.secret)).send();
    assert_eq!(r.await.unwrap().status(), 403, "an xAPI credential cannot revoke launches");
    assert_eq!(app.client.delete(format!("{}{path}", app.base)).send().await.unwrap().status(), 401);
    let r = as_cred(&app, &cred, Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), 403, "nor can the launch credential itself");
    let r = app.req(Method::DELETE, &path).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "revoked");
    assert_eq!(post(scorm_statement(&l, "completed")).await.unwrap().status(), 401);
    let r = as_cred(&app, &cred, Method::GET, &state_path(&l)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (_, info) = app.get_json(&path).await;
    assert_eq!(info["state"], "revoked");
}
both!(a_revoked_launch_credential_stops_working);

/// Finding 9: a launch credential reaches the learner's State while its session runs, not for the
/// 8 hours the credential lives: once the session terminated, reads and writes are refused.
async fn document_access_ends_with_the_session(app: TestApp) {
    let (l, cred) = scorm_launch(&app, "mailto:ann@example.com").await;
    let post = |body: Value| as_cred(&app, &cred, Method::POST, "/xapi/statements").json(&body).send();
    assert_eq!(post(scorm_statement(&l, "initialized")).await.unwrap().status(), 200);
    let put = || as_cred(&app, &cred, Method::PUT, &state_path(&l)).json(&json!({"location": "p2"})).send();
    assert_eq!(put().await.unwrap().status(), 204);
    assert_eq!(as_cred(&app, &cred, Method::GET, &state_path(&l)).send().await.unwrap().status(), 200);
    assert_eq!(post(scorm_statement(&l, "terminated")).await.unwrap().status(), 200);
    let r = put().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("terminated"));
    assert_eq!(as_cred(&app, &cred, Method::GET, &state_path(&l)).send().await.unwrap().status(), 403);
    // The document itself is untouched and still there for the LMS.
    let (s, doc) = app.get_json(&state_path(&l)).await;
    assert_eq!((s, doc["location"].as_str()), (200, Some("p2")));
}
both!(document_access_ends_with_the_session);

/// Finding 9: content cannot look up other learners through `/xapi/agents`; its own learner it can.
async fn a_launch_cannot_look_up_other_learners(app: TestApp) {
    let (_, cred) = scorm_launch(&app, "mailto:ann@example.com").await;
    let agents = |mbox: &str| {
        let q = serde_urlencoded::to_string([("agent", format!(r#"{{"mbox":"{mbox}"}}"#))]).unwrap();
        as_cred(&app, &cred, Method::GET, &format!("/xapi/agents?{q}")).send()
    };
    assert_eq!(agents("mailto:ann@example.com").await.unwrap().status(), 200);
    let r = agents("mailto:bob@example.com").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("own learner"));
}
both!(a_launch_cannot_look_up_other_learners);

/// Every endpoint of the API origin, as `(method, path)`: the admin API and the xAPI resources.
const ADMIN_ENDPOINTS: [(&str, &str); 20] = [
    ("GET", "/api/courses"),
    ("POST", "/api/courses"),
    ("GET", "/api/courses/urn:x"),
    ("PUT", "/api/courses/urn:x"),
    ("GET", "/api/assignments"),
    ("POST", "/api/assignments"),
    ("POST", "/api/assignments/x/waive"),
    ("GET", "/api/results"),
    ("POST", "/api/results/rebuild"),
    ("GET", "/api/summary"),
    ("GET", "/api/sessions"),
    ("POST", "/api/sessions"),
    ("GET", "/api/sessions/x"),
    ("POST", "/api/sessions/x/cancel"),
    ("POST", "/api/sessions/x/bookings"),
    ("POST", "/api/sessions/x/bookings/cancel"),
    ("POST", "/api/sessions/x/attendance"),
    ("POST", "/api/launches"),
    ("POST", "/api/players"),
    ("POST", "/api/persons/x/sign-in-link"),
];
const XAPI_ENDPOINTS: [(&str, &str); 8] = [
    ("GET", "/xapi/statements"),
    ("POST", "/xapi/statements"),
    ("PUT", "/xapi/statements?statementId=6fa1fd6e-2e6a-4f1c-9f52-9d1d1d1d1d1d"),
    ("GET", "/xapi/activities/state?activityId=urn:a&agent=%7B%22mbox%22%3A%22mailto%3Aa%40b.c%22%7D&stateId=s"),
    ("GET", "/xapi/activities/profile?activityId=urn:a&profileId=p"),
    ("GET", "/xapi/agents/profile?agent=%7B%22mbox%22%3A%22mailto%3Aa%40b.c%22%7D&profileId=p"),
    ("GET", "/xapi/activities?activityId=urn:a"),
    ("GET", "/xapi/agents?agent=%7B%22mbox%22%3A%22mailto%3Aa%40b.c%22%7D"),
];

/// SECURITY.md's table, checked: the admin API answers only the admin scope (anonymous 401; an xAPI
/// credential with every xAPI scope, and a launch credential, 403), the launch endpoints also the
/// `launch` scope; every xAPI resource but `/about` needs a credential; the content origin answers
/// none of them, and the API origin none of the content origin's paths.
async fn every_endpoint_refuses_callers_it_does_not_serve(app: TestApp) {
    let xapi_all = app.lrs.create_credential("xapi", vec!["all".into()], None, None).await.unwrap();
    let launcher = app.lrs.create_credential("player", vec!["launch".into()], None, None).await.unwrap();
    let (l, launch_cred) = scorm_launch(&app, "mailto:ann@example.com").await;
    let send = |base: &str, method: &str, path: &str, cred: Option<(&str, &str)>| {
        let mut r = app
            .client
            .request(Method::from_bytes(method.as_bytes()).unwrap(), format!("{base}{path}"))
            .header("X-Experience-API-Version", "1.0.3")
            .header("Content-Type", "application/json")
            .body("{}");
        if let Some((k, s)) = cred {
            r = r.basic_auth(k, Some(s));
        }
        r.send()
    };
    for (method, path) in ADMIN_ENDPOINTS {
        let status = |cred| {
            let s = send(&app.base, method, path, cred);
            async move { s.await.unwrap().status().as_u16() }
        };
        assert_eq!(status(None).await, 401, "anonymous {method} {path}");
        assert_eq!(status(Some((&xapi_all.key, &xapi_all.secret))).await, 403, "scope all {method} {path}");
        assert_eq!(status(Some((&launch_cred.0, &launch_cred.1))).await, 403, "a launch credential {method} {path}");
        let by_player = status(Some((&launcher.key, &launcher.secret))).await;
        if path == "/api/launches" || path == "/api/players" {
            assert_eq!(by_player, 400, "the launch scope reaches {method} {path} (and is told what is wrong)");
        } else {
            assert_eq!(by_player, 403, "the launch scope {method} {path}");
        }
        let on_content = send(&app.content_base, method, path, Some((crate::support::KEY, crate::support::SECRET)));
        assert_eq!(on_content.await.unwrap().status(), 404, "{method} {path} on the content origin");
    }
    let launch_path = format!("/api/launches/{}", l["id"].as_str().unwrap());
    for method in ["GET", "DELETE"] {
        let s = |cred| send(&app.base, method, &launch_path, cred);
        assert_eq!(s(None).await.unwrap().status(), 401, "anonymous {method} {launch_path}");
        let s2 = s(Some((&xapi_all.key, &xapi_all.secret)));
        assert_eq!(s2.await.unwrap().status(), 403, "scope all {method} {launch_path}");
    }
    for (method, path) in XAPI_ENDPOINTS {
        let r = send(&app.base, method, path, None).await.unwrap();
        assert_eq!(r.status(), 401, "anonymous {method} {path}");
        let on_content = send(&app.content_base, method, path, Some((crate::support::KEY, crate::support::SECRET)));
        assert_eq!(on_content.await.unwrap().status(), 404, "{method} {path} on the content origin");
    }
    assert_eq!(app.client.get(format!("{}/xapi/about", app.base)).send().await.unwrap().status(), 200);
    let version = l["version_id"].as_str().unwrap();
    for path in [
        format!("/launch/{}", l["id"].as_str().unwrap()),
        format!("/launch/{}/runtime", l["id"].as_str().unwrap()),
        format!("/content/{version}/index.html"),
        "/static/scorm/runtime.js".to_string(),
        "/static/player/player.js".to_string(),
        "/player/returned".to_string(),
    ] {
        let r = send(&app.base, "GET", &path, Some((crate::support::KEY, crate::support::SECRET))).await.unwrap();
        assert_eq!(r.status(), 404, "{path} on the API origin");
    }
}
both!(every_endpoint_refuses_callers_it_does_not_serve);
