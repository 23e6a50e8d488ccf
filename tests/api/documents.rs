//! State, Activity Profile, Agent Profile, Activities and Agents resources, on both backends.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

const ACT: &str = "http://example.com/activities/doc";

fn agent_q() -> String {
    let a = json!({"objectType": "Agent", "mbox": "mailto:learner@example.com"});
    urlencode(&a.to_string())
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

fn state_path(state_id: &str) -> String {
    format!("/xapi/activities/state?activityId={ACT}&agent={}&stateId={state_id}", agent_q())
}

/// Documents keep their bytes and Content-Type; GET gives a quoted SHA-1 ETag and Last-Modified.
async fn state_round_trips_bytes_and_content_type(app: TestApp) {
    let bytes: Vec<u8> = (0..=255u8).collect();
    let r = app
        .req(Method::PUT, &state_path("bin"))
        .header("Content-Type", "application/octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = app.req(Method::GET, &state_path("bin")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert!(etag.len() == 42 && etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(r.headers().contains_key("last-modified"));
    assert_eq!(r.bytes().await.unwrap().to_vec(), bytes);
}
both!(state_round_trips_bytes_and_content_type);

/// POST merges top-level properties of JSON objects (posted wins); non-JSON POSTs are 400 and change nothing.
async fn post_merges_json_objects(app: TestApp) {
    let p = state_path("merge");
    let r = app.req(Method::POST, &p).json(&json!({"a": 1, "b": {"x": 1}})).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let r = app.req(Method::POST, &p).json(&json!({"b": {"y": 2}, "c": 3})).send().await.unwrap();
    assert_eq!(r.status(), 204);
    let (_, doc) = app.get_json(&p).await;
    assert_eq!(doc, json!({"a": 1, "b": {"y": 2}, "c": 3}));
    let r = app.req(Method::POST, &p).header("Content-Type", "text/plain").body("abc").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = app.req(Method::POST, &p).header("Content-Type", "application/json").body("[1,2]").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let r = app.req(Method::POST, &p).header("Content-Type", "application/json").body("{\"a\":").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let (_, doc) = app.get_json(&p).await;
    assert_eq!(doc, json!({"a": 1, "b": {"y": 2}, "c": 3}));
    // A stored binary document cannot be merged into.
    let bin = state_path("bin2");
    app.req(Method::PUT, &bin).header("Content-Type", "application/octet-stream").body("raw").send().await.unwrap();
    let r = app.req(Method::POST, &bin).json(&json!({"a": 1})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(app.req(Method::GET, &bin).send().await.unwrap().bytes().await.unwrap(), "raw");
}
both!(post_merges_json_objects);

/// Listing ids honours `since` (stored time) and registrations; DELETE without stateId removes all.
async fn state_ids_since_registration_and_delete_all(app: TestApp) {
    let reg = "6f1e2a34-8d9c-4b9e-9a3e-5b3d1c3a2b10";
    for id in ["s1", "s2"] {
        app.req(Method::PUT, &state_path(id)).json(&json!({"id": id})).send().await.unwrap();
    }
    let with_reg = format!("{}&registration={reg}", state_path("s3"));
    assert_eq!(app.req(Method::PUT, &with_reg).json(&json!({})).send().await.unwrap().status(), 204);
    // The registered document is distinct from an unregistered one of the same id.
    assert_eq!(app.req(Method::GET, &state_path("s3")).send().await.unwrap().status(), 404);
    let list = format!("/xapi/activities/state?activityId={ACT}&agent={}", agent_q());
    let (_, ids) = app.get_json(&list).await;
    assert_eq!(ids, json!(["s1", "s2", "s3"]));
    let (_, ids) = app.get_json(&format!("{list}&registration={reg}")).await;
    assert_eq!(ids, json!(["s3"]));
    let (_, ids) = app.get_json(&format!("{list}&since=2999-01-01T00:00:00%2B01:00")).await;
    assert_eq!(ids, json!([]));
    let (_, ids) = app.get_json(&format!("{list}&since=2000-01-01T00:00:00-05:00")).await;
    assert_eq!(ids.as_array().unwrap().len(), 3);
    let (status, _) = app.get_json(&format!("{list}&since=yesterday")).await;
    assert_eq!(status, 400);
    assert_eq!(app.req(Method::DELETE, &list).send().await.unwrap().status(), 204);
    let (_, ids) = app.get_json(&list).await;
    assert_eq!(ids, json!([]));
}
both!(state_ids_since_registration_and_delete_all);

/// Bad parameters each get a 400 naming the problem.
async fn document_parameters_are_checked(app: TestApp) {
    let cases = [
        format!("/xapi/activities/state?agent={}&stateId=x", agent_q()),
        format!("/xapi/activities/state?activityId={ACT}&stateId=x"),
        format!("/xapi/activities/state?activityId={ACT}&agent=not%20json&stateId=x"),
        format!("/xapi/activities/state?activityId={ACT}&agent={}&stateId=x", urlencode(r#"{"name":"no ifi"}"#)),
        format!("/xapi/activities/state?activityId={ACT}&agent={}&stateId=x&registration=nope", agent_q()),
        format!("/xapi/activities/state?activityId={ACT}&agent={}&stateId=x&foo=bar", agent_q()),
        "/xapi/activities/profile?activityId=not%20an%20iri&profileId=x".to_string(),
        "/xapi/agents/profile?profileId=x".to_string(),
    ];
    for path in cases {
        let r = app.req(Method::PUT, &path).header("If-None-Match", "*").json(&json!({})).send().await.unwrap();
        assert_eq!(r.status(), 400, "{path}");
        let body: Value = r.json().await.unwrap();
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    let r = app
        .req(Method::PUT, &format!("/xapi/activities/profile?activityId={ACT}"))
        .header("If-None-Match", "*")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "missing profileId");
}
both!(document_parameters_are_checked);

/// Concurrency: If-Match/If-None-Match give 412 on mismatch; an unconditional PUT over an existing
/// profile is 409 (creating one without either header is accepted: `stock_clients`).
async fn profile_preconditions(app: TestApp) {
    let p = format!("/xapi/activities/profile?activityId={ACT}&profileId=p1");
    let put = |h: Option<(&'static str, String)>, body: Value| {
        let mut r = app.req(Method::PUT, &p).json(&body);
        if let Some((k, v)) = h {
            r = r.header(k, v);
        }
        r.send()
    };
    assert_eq!(put(Some(("If-None-Match", "*".into())), json!({"v": 1})).await.unwrap().status(), 204);
    assert_eq!(put(Some(("If-None-Match", "*".into())), json!({"v": 2})).await.unwrap().status(), 412);
    let r = put(None, json!({"v": 3})).await.unwrap();
    assert_eq!(r.status(), 409);
    assert!(!r.text().await.unwrap().is_empty());
    let etag = app.req(Method::GET, &p).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(
        put(Some(("If-Match", "\"0000000000000000000000000000000000000000\"".into())), json!({"v": 4}))
            .await
            .unwrap()
            .status(),
        412
    );
    assert_eq!(put(Some(("If-Match", etag.clone())), json!({"v": 5})).await.unwrap().status(), 204);
    let (_, doc) = app.get_json(&p).await;
    assert_eq!(doc, json!({"v": 5}));
    // The old ETag no longer matches, for DELETE either; the right one deletes.
    assert_eq!(app.req(Method::DELETE, &p).header("If-Match", etag).send().await.unwrap().status(), 412);
    let etag = app.req(Method::GET, &p).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(app.req(Method::DELETE, &p).header("If-Match", etag).send().await.unwrap().status(), 204);
    assert_eq!(app.req(Method::GET, &p).send().await.unwrap().status(), 404);
    // Deleting what is not there is fine.
    assert_eq!(app.req(Method::DELETE, &p).send().await.unwrap().status(), 204);
}
both!(profile_preconditions);

/// State follows the version: 1.0.3 overwrites without preconditions, 2.0 wants one over an existing document.
async fn state_preconditions_follow_the_version(app: TestApp) {
    let mut app = app;
    let p = state_path("versioned");
    assert_eq!(app.req(Method::PUT, &p).json(&json!({"v": 1})).send().await.unwrap().status(), 204);
    assert_eq!(app.req(Method::PUT, &p).json(&json!({"v": 2})).send().await.unwrap().status(), 204);
    app.version = "2.0.0";
    assert_eq!(app.req(Method::PUT, &p).json(&json!({"v": 3})).send().await.unwrap().status(), 409);
    let (_, doc) = app.get_json(&p).await;
    assert_eq!(doc, json!({"v": 2}));
}
both!(state_preconditions_follow_the_version);

/// Racing writers never lose an update: concurrent merges all land, and of concurrent
/// If-Match writers on one version exactly one wins.
async fn concurrent_writers_do_not_lose_updates(app: TestApp) {
    let p = state_path("race");
    app.req(Method::PUT, &p).json(&json!({})).send().await.unwrap();
    let posts = (0..16).map(|i| app.req(Method::POST, &p).json(&json!({format!("k{i}"): i})).send());
    for r in futures_util::future::join_all(posts).await {
        assert_eq!(r.unwrap().status(), 204);
    }
    let (_, doc) = app.get_json(&p).await;
    assert_eq!(doc.as_object().unwrap().len(), 16, "{doc}");

    let prof = format!("/xapi/agents/profile?agent={}&profileId=race", agent_q());
    app.req(Method::PUT, &prof).header("If-None-Match", "*").json(&json!({"n": 0})).send().await.unwrap();
    let etag = app.req(Method::GET, &prof).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    let puts =
        (0..8).map(|i| app.req(Method::PUT, &prof).header("If-Match", etag.clone()).json(&json!({"n": i + 1})).send());
    let codes: Vec<StatusCode> =
        futures_util::future::join_all(puts).await.into_iter().map(|r| r.unwrap().status()).collect();
    assert_eq!(codes.iter().filter(|c| **c == StatusCode::NO_CONTENT).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == StatusCode::PRECONDITION_FAILED).count(), 7, "{codes:?}");
}
both!(concurrent_writers_do_not_lose_updates);

/// Agent profiles: Groups are refused; listing returns ids.
async fn agent_profiles(app: TestApp) {
    let p = format!("/xapi/agents/profile?agent={}&profileId=settings", agent_q());
    assert_eq!(app.req(Method::POST, &p).json(&json!({"theme": "dark"})).send().await.unwrap().status(), 204);
    let (_, ids) = app.get_json(&format!("/xapi/agents/profile?agent={}", agent_q())).await;
    assert_eq!(ids, json!(["settings"]));
    let group = urlencode(r#"{"objectType":"Group","mbox":"mailto:team@example.com"}"#);
    let (status, _) = app.get_json(&format!("/xapi/agents/profile?agent={group}")).await;
    assert_eq!(status, 400);
}
both!(agent_profiles);

/// Documents over the size limit are refused with 413 and nothing is stored.
async fn large_documents_are_413(app: TestApp) {
    let p = state_path("big");
    let r = app
        .req(Method::PUT, &p)
        .header("Content-Type", "application/octet-stream")
        // The server answers 413 without reading the body and drops the connection: don't let the
        // next request try to reuse it.
        .header("Connection", "close")
        .body(vec![b'x'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(app.req(Method::GET, &p).send().await.unwrap().status(), 404);
}
both!(large_documents_are_413);

/// /activities returns the canonical definition merged across statements (language maps per key).
async fn activities_merge_definitions(app: TestApp) {
    let s = |name: Value| {
        json!({"actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "http://example.com/v"},
                               "object": {"objectType": "Activity", "id": "http://example.com/act/merge", "definition": {"name": name, "type": "http://example.com/t"}}})
    };
    app.post_statements(&json!([
        s(json!({"en-GB": "meeting", "en-US": "example meeting"})),
        s(json!({"en-GB": "meeting!", "fr-FR": "réunion"}))
    ]))
    .await;
    let (status, a) = app.get_json("/xapi/activities?activityId=http://example.com/act/merge").await;
    assert_eq!(status, 200);
    assert_eq!(a["objectType"], "Activity");
    assert_eq!(a["definition"]["name"], json!({"en-GB": "meeting!", "en-US": "example meeting", "fr-FR": "réunion"}));
    let (status, _) = app.get_json("/xapi/activities?activityId=http://example.com/unknown").await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json("/xapi/activities").await;
    assert_eq!(status, 400);
    let mut app = app;
    app.version = "2.0.0";
    let (status, a) = app.get_json("/xapi/activities?activityId=http://example.com/unknown").await;
    assert_eq!(status, 200);
    assert_eq!(a, json!({"objectType": "Activity", "id": "http://example.com/unknown"}));
}
both!(activities_merge_definitions);

/// /agents returns a Person with array properties, also for an agent never seen.
async fn agents_return_a_person(app: TestApp) {
    app.post_statements(&json!({"actor": {"name": "Ann", "mbox": "mailto:ann@example.com"}, "verb": {"id": "http://example.com/v"}, "object": {"id": "http://example.com/a"}})).await;
    let q = urlencode(r#"{"objectType":"Agent","name":"Annie","mbox":"mailto:ann@example.com"}"#);
    let (status, p) = app.get_json(&format!("/xapi/agents?agent={q}")).await;
    assert_eq!(status, 200);
    assert_eq!(p, json!({"objectType": "Person", "name": ["Ann", "Annie"], "mbox": ["mailto:ann@example.com"]}));
    let q = urlencode(r#"{"account":{"homePage":"http://example.com","name":"nobody"}}"#);
    let (status, p) = app.get_json(&format!("/xapi/agents?agent={q}")).await;
    assert_eq!(status, 200);
    assert_eq!(p["account"], json!([{"homePage": "http://example.com", "name": "nobody"}]));
    let q = urlencode(r#"{"name":"no ifi"}"#);
    assert_eq!(app.get_json(&format!("/xapi/agents?agent={q}")).await.0, 400);
}
both!(agents_return_a_person);

/// Scopes: `state` may use State but not profiles; `all/read` may read but not write.
async fn document_scopes(app: TestApp) {
    let state_only = app.lrs.create_credential("player", vec!["state".into()], None, None).await.unwrap();
    let reader = app.lrs.create_credential("reader", vec!["all/read".into()], None, None).await.unwrap();
    let with = |c: &cairn::lrs::auth::NewCredential, m: Method, path: &str| {
        app.client
            .request(m, format!("{}{}", app.base, path))
            .basic_auth(&c.key, Some(&c.secret))
            .header("X-Experience-API-Version", "1.0.3")
    };
    let sp = state_path("scoped");
    assert_eq!(with(&state_only, Method::PUT, &sp).json(&json!({})).send().await.unwrap().status(), 204);
    let prof = format!("/xapi/activities/profile?activityId={ACT}&profileId=x");
    assert_eq!(with(&state_only, Method::GET, &prof).send().await.unwrap().status(), 403);
    assert_eq!(with(&reader, Method::GET, &sp).send().await.unwrap().status(), 200);
    assert_eq!(with(&reader, Method::PUT, &sp).json(&json!({})).send().await.unwrap().status(), 403);
}
both!(document_scopes);
