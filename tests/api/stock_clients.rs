//! Stock xAPI clients, unchanged (issue 13, section 3): what PyPI `tincan`, xAPI.js and other
//! off-the-shelf clients send and expect, each rule on both backends.

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::both;
use crate::support::TestApp;

async fn about_versions(app: &TestApp, version: Option<&str>) -> Value {
    let mut r = app.client.get(format!("{}/xapi/about", app.base));
    if let Some(v) = version {
        r = r.header("X-Experience-API-Version", v);
    }
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["version"].clone()
}

/// `/about` answers for the version the request names: a 1.0.x client (PyPI `tincan` raises on a
/// version it does not know) sees the 1.0 versions only, a 2.0 client and a request without the header both.
async fn about_lists_the_versions_of_the_request(app: TestApp) {
    for v in ["1.0.3", "1.0.0", "1.0"] {
        assert_eq!(about_versions(&app, Some(v)).await, json!(["1.0.3"]), "{v}");
    }
    assert_eq!(about_versions(&app, Some("2.0.0")).await, json!(["1.0.3", "2.0.0"]));
    assert_eq!(about_versions(&app, None).await, json!(["1.0.3", "2.0.0"]));
}
both!(about_lists_the_versions_of_the_request);

const ACT: &str = "http://example.com/activities/stock";

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

fn agent_q() -> String {
    urlencode(&json!({"objectType": "Agent", "mbox": "mailto:stock@example.com"}).to_string())
}

/// A PUT creating an Activity or Agent Profile document needs no precondition (204), under 1.0.x
/// (what PyPI `tincan`'s `save_*_profile` sends) as under 2.0; once the document exists, a PUT
/// without `If-Match`/`If-None-Match` is 409 with a message and changes nothing (Communication 3.1).
async fn profile_precondition_only_when_the_document_exists(app: TestApp) {
    let mut app = app;
    for version in ["1.0.3", "2.0.0"] {
        app.version = version;
        for p in profile_paths(&format!("first-{version}")) {
            let r = app.req(Method::PUT, &p).json(&json!({"v": 1})).send().await.unwrap();
            assert_eq!(r.status(), 204, "{version} {p}");
            let r = app.req(Method::PUT, &p).json(&json!({"v": 2})).send().await.unwrap();
            assert_eq!(r.status(), 409, "{version} {p}");
            assert!(r.text().await.unwrap().contains("If-Match"), "{version} {p}: the 409 says what to send");
            let (status, doc) = app.get_json(&p).await;
            assert_eq!((status, doc), (200, json!({"v": 1})), "{version} {p}");
        }
    }
}
both!(profile_precondition_only_when_the_document_exists);

fn profile_paths(profile_id: &str) -> [String; 2] {
    [
        format!("/xapi/activities/profile?activityId={ACT}&profileId={profile_id}"),
        format!("/xapi/agents/profile?agent={}&profileId={profile_id}", agent_q()),
    ]
}

/// Header-less PUTs racing to create one profile: the check and the write share the store's
/// transaction on that document, so exactly one creates it (204) and every other finds it existing
/// (409); the document is the winner's, whole.
async fn racing_first_profile_puts_one_wins_the_others_conflict(app: TestApp) {
    for p in profile_paths("race-first") {
        let puts = (0..8).map(|i| app.req(Method::PUT, &p).json(&json!({"writer": i})).send());
        let codes: Vec<u16> =
            futures_util::future::join_all(puts).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        assert_eq!(codes.iter().filter(|c| **c == 204).count(), 1, "{p}: {codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 409).count(), 7, "{p}: {codes:?}");
        let winner = codes.iter().position(|c| *c == 204).unwrap();
        let (status, doc) = app.get_json(&p).await;
        assert_eq!((status, doc), (200, json!({"writer": winner})), "{p}");
    }
}
both!(racing_first_profile_puts_one_wins_the_others_conflict);

fn strict_profile_create(c: &mut cairn::lrs::LrsConfig) {
    c.profile_create_needs_precondition = true;
}

/// With `--profile-create-needs-precondition` (for a run of the ADL 1.0.3 conformance suite), a
/// header-less PUT creating a profile under 1.0.x is 400 naming the header and stores nothing;
/// `If-None-Match: *` creates it; 2.0 requests are unaffected.
async fn strict_profile_create_refuses_a_header_less_first_put_under_1_0(app: TestApp) {
    let mut app = app;
    for p in profile_paths("strict") {
        let r = app.req(Method::PUT, &p).json(&json!({"v": 1})).send().await.unwrap();
        assert_eq!(r.status(), 400, "{p}");
        assert!(r.text().await.unwrap().contains("If-None-Match"), "{p}");
        assert_eq!(app.get_json(&p).await.0, 404, "{p}");
        let r = app.req(Method::PUT, &p).header("If-None-Match", "*").json(&json!({"v": 1})).send().await.unwrap();
        assert_eq!(r.status(), 204, "{p}");
    }
    app.version = "2.0.0";
    for p in profile_paths("strict-2") {
        assert_eq!(app.req(Method::PUT, &p).json(&json!({"v": 1})).send().await.unwrap().status(), 204, "{p}");
    }
}
crate::both_configured!(strict_profile_create_refuses_a_header_less_first_put_under_1_0, strict_profile_create);

fn statement() -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": {"objectType": "Agent", "mbox": "mailto:stock@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"objectType": "Activity", "id": ACT}
    })
}

/// Every Statement resource answer carries `X-Experience-API-Consistent-Through`: POST and PUT, their
/// errors, as well as GETs.
async fn consistent_through_on_every_statement_answer(app: TestApp) {
    let has = |r: &reqwest::Response| r.headers().contains_key("x-experience-api-consistent-through");
    let s = statement();
    let r = app.req(Method::POST, "/xapi/statements").json(&s).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(has(&r), "POST");
    let r = app.req(Method::POST, "/xapi/statements").json(&json!({"verb": 1})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(has(&r), "POST 400");
    let id = uuid::Uuid::new_v4();
    let mut put = statement();
    put["id"] = json!(id.to_string());
    let r = app.req(Method::PUT, &format!("/xapi/statements?statementId={id}")).json(&put).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(has(&r), "PUT");
    let r = app.req(Method::PUT, "/xapi/statements").json(&put).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(has(&r), "PUT 400");
    let r = app.req(Method::GET, &format!("/xapi/statements?statementId={id}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(has(&r), "GET");
}
both!(consistent_through_on_every_statement_answer);

/// xAPI.js under Node sends a multipart/mixed statement with attachments as
/// `application/octet-stream`: a body that opens with a delimiter line is taken as the multipart
/// request it is, its boundary read from that line; other octet-stream bodies stay refused.
async fn multipart_sent_as_octet_stream_is_accepted(app: TestApp) {
    let data = b"an attachment sent by xAPI.js";
    let sha2 = hex::encode(Sha256::digest(data));
    let mut s = statement();
    s["attachments"] = json!([{"usageType": "http://example.com/usage", "display": {"en-US": "file"},
                              "contentType": "text/plain", "length": data.len(), "sha2": sha2}]);
    let boundary = "xapijs-7d3a9f0c1b2e";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n{s}\r\n").as_bytes());
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = app
        .req(Method::POST, "/xapi/statements")
        .header("Content-Type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let ids: Value = r.json().await.unwrap();
    assert_eq!(ids, json!([s["id"]]));
    let r =
        app.req(Method::GET, &format!("/xapi/statements?statementId={}&attachments=true", s["id"].as_str().unwrap()));
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.windows(data.len()).any(|w| w == data), "the attachment is served back");

    let r = app
        .req(Method::POST, "/xapi/statements")
        .header("Content-Type", "application/octet-stream")
        .body(statement().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.contains("application/octet-stream"), "the 400 names the content type: {text}");

    // A delimiter line, then a broken multipart body: 400 naming what is wrong with it.
    let broken = format!("--{boundary}\r\nContent-Type: application/json\r\n\r\n{s}\r\n");
    let r = app
        .req(Method::POST, "/xapi/statements")
        .header("Content-Type", "application/octet-stream")
        .body(broken)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert!(text.to_ascii_lowercase().contains("multipart"), "the 400 says the multipart body is broken: {text}");
}
both!(multipart_sent_as_octet_stream_is_accepted);

/// A statement stored through 2.0 is served to a 1.0.x client in the 1.0 form: without the 2.0-only
/// `contextAgents` and `contextGroups` (in a SubStatement too) and with `"version": "1.0.0"`; a 2.0
/// client reads it as stored. By id and by query alike.
async fn statements_are_served_in_the_readers_version(app: TestApp) {
    let mut app = app;
    app.version = "2.0.0";
    let context = json!({
        "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:peer@example.com"}}],
        "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "mbox": "mailto:team@example.com"}}],
        "language": "en"
    });
    let mut s = statement();
    s["context"] = context.clone();
    let mut sub = statement();
    sub.as_object_mut().unwrap().remove("id");
    sub["objectType"] = json!("SubStatement");
    sub["context"] = context.clone();
    let mut outer = statement();
    outer["object"] = sub;
    let (status, _) = app.post_statements(&json!([s, outer])).await;
    assert_eq!(status, 200);
    let by_id = |id: &Value| format!("/xapi/statements?statementId={}", id.as_str().unwrap());
    let query = format!("/xapi/statements?agent={}&limit=10", agent_q());

    let (_, got) = app.get_json(&by_id(&s["id"])).await;
    assert_eq!(got["version"], "2.0.0");
    assert_eq!(got["context"], context);
    let (_, got) = app.get_json(&by_id(&outer["id"])).await;
    assert_eq!(got["object"]["context"], context);

    app.version = "1.0.3";
    let one_oh = |got: &Value| {
        assert_eq!(got["version"], "1.0.0", "{got}");
        let ctx =
            if got["object"]["objectType"] == "SubStatement" { &got["object"]["context"] } else { &got["context"] };
        assert_eq!(ctx, &json!({"language": "en"}), "{got}");
    };
    for id in [&s["id"], &outer["id"]] {
        let (status, got) = app.get_json(&by_id(id)).await;
        assert_eq!(status, 200);
        one_oh(&got);
    }
    let (status, page) = app.get_json(&query).await;
    assert_eq!(status, 200);
    let stmts = page["statements"].as_array().unwrap();
    assert_eq!(stmts.len(), 2);
    stmts.iter().for_each(one_oh);

    // `more` pages too: one statement a page, each in the 1.0 form.
    let mut path = format!("/xapi/statements?agent={}&limit=1", agent_q());
    let mut seen = 0;
    loop {
        let (status, page) = app.get_json(&path).await;
        assert_eq!(status, 200, "{path}");
        page["statements"].as_array().unwrap().iter().for_each(one_oh);
        seen += page["statements"].as_array().unwrap().len();
        match page["more"].as_str() {
            Some(m) if !m.is_empty() => path = m.to_string(),
            _ => break,
        }
        assert!(seen <= 2, "paging does not end");
    }
    assert_eq!(seen, 2);
}
both!(statements_are_served_in_the_readers_version);
