//! GET /statements: filters (including the StatementRef rule), single-statement rules, formats,
//! paging and response headers, each on both backends.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn stmt(verb: &str, object: Value) -> Value {
    json!({"actor": {"objectType": "Agent", "mbox": "mailto:query@example.com"}, "verb": {"id": verb}, "object": object})
}

fn activity(id: &str) -> Value {
    json!({"objectType": "Activity", "id": id})
}

fn statement_ref(id: &str) -> Value {
    json!({"objectType": "StatementRef", "id": id})
}

async fn put(app: &TestApp, id: &str, body: &Value) -> u16 {
    let r = app.req(Method::PUT, &format!("/xapi/statements?statementId={id}")).json(body).send().await.expect("send");
    r.status().as_u16()
}

/// The ids of a query's statements, in order.
async fn ids(app: &TestApp, query: &str) -> Vec<String> {
    let (status, r) = app.get_json(&format!("/xapi/statements?{query}")).await;
    assert_eq!(status, 200, "{query}: {r}");
    r["statements"].as_array().expect("statements").iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

/// XAPI-00162: a statement referencing another (StatementRef object) matches the filters through its
/// target, voided or not; the voided target itself never appears in a query; order and `limit` apply
/// to the referencing statements.
async fn statement_ref_filters_and_voided_targets(app: TestApp) {
    let verb = format!("http://example.com/verbs/{}", uuid());
    let (voided, voiding, referrer) = (uuid(), uuid(), uuid());
    assert_eq!(put(&app, &voided, &stmt(&verb, activity("http://example.com/a/voided"))).await, 204);
    assert_eq!(put(&app, &voiding, &stmt(VOIDED, statement_ref(&voided))).await, 204);
    assert_eq!(put(&app, &referrer, &stmt("http://example.com/verbs/mentions", statement_ref(&voided))).await, 204);
    assert_eq!(ids(&app, &format!("verb={verb}")).await, vec![referrer.clone(), voiding.clone()]);
    assert_eq!(ids(&app, &format!("verb={verb}&limit=1")).await, vec![referrer.clone()]);
    assert_eq!(ids(&app, &format!("verb={verb}&ascending=true")).await, vec![voiding.clone(), referrer.clone()]);
    // The target's other properties match too: its activity and actor.
    assert_eq!(ids(&app, "activity=http://example.com/a/voided").await, vec![referrer.clone(), voiding.clone()]);
    // Single-statement GETs do not follow references.
    let (status, s) = app.get_json(&format!("/xapi/statements?statementId={voiding}")).await;
    assert_eq!((status, s["id"].as_str()), (200, Some(voiding.as_str())));
}
both!(statement_ref_filters_and_voided_targets);

/// The StatementRef rule also holds when the target is stored after the statements referencing it,
/// transitively (a reference to a reference), and when a voiding statement arrives first.
async fn statement_ref_target_stored_later(app: TestApp) {
    let verb = format!("http://example.com/verbs/{}", uuid());
    let (target, referrer, second, voiding, late_voided) = (uuid(), uuid(), uuid(), uuid(), uuid());
    assert_eq!(put(&app, &referrer, &stmt("http://example.com/verbs/mentions", statement_ref(&target))).await, 204);
    assert_eq!(put(&app, &second, &stmt("http://example.com/verbs/mentions", statement_ref(&referrer))).await, 204);
    assert!(ids(&app, &format!("verb={verb}")).await.is_empty());
    assert_eq!(put(&app, &target, &stmt(&verb, activity("http://example.com/a/late"))).await, 204);
    assert_eq!(ids(&app, &format!("verb={verb}")).await, vec![target.clone(), second.clone(), referrer.clone()]);
    // A voiding statement stored before its target voids it on arrival and matches through it.
    let verb2 = format!("http://example.com/verbs/{}", uuid());
    assert_eq!(put(&app, &voiding, &stmt(VOIDED, statement_ref(&late_voided))).await, 204);
    assert_eq!(put(&app, &late_voided, &stmt(&verb2, activity("http://example.com/a/late2"))).await, 204);
    assert_eq!(ids(&app, &format!("verb={verb2}")).await, vec![voiding.clone()]);
    let (status, _) = app.get_json(&format!("/xapi/statements?statementId={late_voided}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(&format!("/xapi/statements?voidedStatementId={late_voided}")).await;
    assert_eq!(status, 200);
}
both!(statement_ref_target_stored_later);

/// Reference cycles (ids are client-chosen) are stored and queried without looping.
async fn statement_ref_cycle(app: TestApp) {
    let (a, b) = (uuid(), uuid());
    let verb = format!("http://example.com/verbs/{}", uuid());
    assert_eq!(put(&app, &a, &stmt(&verb, statement_ref(&b))).await, 204);
    assert_eq!(put(&app, &b, &stmt("http://example.com/verbs/other", statement_ref(&a))).await, 204);
    assert_eq!(ids(&app, &format!("verb={verb}")).await, vec![b.clone(), a.clone()]);
}
both!(statement_ref_cycle);

/// `statementId`/`voidedStatementId` combine only with `format` and `attachments`; every other
/// parameter with them is a 400. `method` outside the 1.0.3 alternate syntax is an unknown parameter.
async fn single_statement_parameters(app: TestApp) {
    let id = uuid();
    assert_eq!(put(&app, &id, &stmt("http://example.com/verbs/single", activity("http://example.com/a/1"))).await, 204);
    for ok in ["format=ids", "attachments=true", "format=canonical&attachments=false"] {
        let r = app.req(Method::GET, &format!("/xapi/statements?statementId={id}&{ok}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{ok}");
    }
    for bad in [
        "agent=%7B%22mbox%22%3A%22mailto%3Aquery%40example.com%22%7D",
        "verb=http://example.com/verbs/single",
        "activity=http://example.com/a/1",
        "registration=6f1e2a34-8d9c-4b9e-9a3e-5b3d1c3a2b10",
        "related_activities=true",
        "related_agents=true",
        "since=2020-01-01T00:00:00Z",
        "until=2020-01-01T00:00:00Z",
        "limit=1",
        "ascending=true",
        "voidedStatementId=6f1e2a34-8d9c-4b9e-9a3e-5b3d1c3a2b10",
    ] {
        let (status, body) = app.get_json(&format!("/xapi/statements?statementId={id}&{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, body) = app.get_json("/xapi/statements?method=GET").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("method"), "{body}");
    let r = app
        .req(Method::PUT, &format!("/xapi/statements?statementId={}&method=POST", uuid()))
        .json(&stmt("http://example.com/verbs/single", activity("http://example.com/a/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
both!(single_statement_parameters);

/// Query values that are not what the parameter takes are 400s naming the parameter.
async fn malformed_query_values(app: TestApp) {
    for (bad, name) in [
        ("statementId=wrong", "statementId"),
        ("voidedStatementId=wrong", "voidedStatementId"),
        ("agent=wrong", "agent"),
        ("agent=%7B%22name%22%3A%22no%20ifi%22%7D", "agent"),
        ("verb=not.a.valid.iri.com/verb", "verb"),
        ("activity=not.a.valid.iri.com/activity", "activity"),
        ("registration=wrong", "registration"),
        ("since=yesterday", "since"),
        ("limit=-1", "limit"),
        ("format=full", "format"),
        ("ascending=yes", "ascending"),
        ("verb=http://example.com/v&verb=http://example.com/w", "verb"),
    ] {
        let (status, body) = app.get_json(&format!("/xapi/statements?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().contains(name), "{bad}: {body}");
    }
}
both!(malformed_query_values);

/// `since` is exclusive and `until` inclusive on `stored`; the default order is newest first.
async fn since_until_and_order(app: TestApp) {
    let verb = format!("http://example.com/verbs/{}", uuid());
    let mut stored = Vec::new();
    for _ in 0..3 {
        let id = uuid();
        assert_eq!(put(&app, &id, &stmt(&verb, activity("http://example.com/a/time"))).await, 204);
        let (_, s) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
        stored.push((id, s["stored"].as_str().unwrap().to_string()));
    }
    let all = ids(&app, &format!("verb={verb}")).await;
    assert_eq!(all, stored.iter().rev().map(|(id, _)| id.clone()).collect::<Vec<_>>());
    let asc = ids(&app, &format!("verb={verb}&ascending=true")).await;
    assert_eq!(asc, stored.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>());
    // Boundaries use each statement's own stored value (millisecond precision in the response).
    let (first_id, first_stored) = &stored[0];
    let since = ids(&app, &format!("verb={verb}&since={first_stored}")).await;
    assert!(!since.contains(first_id), "since is exclusive");
    let until = ids(&app, &format!("verb={verb}&until={first_stored}&ascending=true")).await;
    assert_eq!(until.first(), Some(first_id), "until is inclusive");
    assert!(ids(&app, &format!("verb={verb}&until=2000-01-01T00:00:00Z")).await.is_empty());
}
both!(since_until_and_order);

/// `more` continues the same query: the filters and `limit` carry over, and the last page has an
/// empty `more`. A page with no match has `statements: []`.
async fn more_keeps_filters_and_limit(app: TestApp) {
    let verb = format!("http://example.com/verbs/{}", uuid());
    for _ in 0..3 {
        assert_eq!(put(&app, &uuid(), &stmt(&verb, activity("http://example.com/a/more"))).await, 204);
    }
    put(&app, &uuid(), &stmt("http://example.com/verbs/unrelated", activity("http://example.com/a/more"))).await;
    let (_, page) = app.get_json(&format!("/xapi/statements?verb={verb}&limit=1")).await;
    let mut seen = vec![page["statements"][0]["id"].clone()];
    let mut more = page["more"].as_str().unwrap().to_string();
    while !more.is_empty() {
        let (status, page) = app.get_json(&more).await;
        assert_eq!(status, 200);
        let list = page["statements"].as_array().unwrap();
        assert!(list.len() <= 1, "limit carried over");
        for s in list {
            assert_eq!(s["verb"]["id"], json!(verb), "filter carried over");
            seen.push(s["id"].clone());
        }
        more = page["more"].as_str().unwrap().to_string();
    }
    assert_eq!(seen.len(), 3);
    let (status, none) = app.get_json("/xapi/statements?verb=http://adlnet.gov/expapi/non/existent").await;
    assert_eq!(status, 200);
    assert_eq!(none["statements"], json!([]));
    assert_eq!(none["more"], json!(""));
}
both!(more_keeps_filters_and_limit);

/// HEAD answers like GET without a body; every statements GET (errors included) carries
/// `X-Experience-API-Consistent-Through`, and a single statement `Last-Modified` = its `stored`.
async fn head_and_response_headers(app: TestApp) {
    let id = uuid();
    assert_eq!(
        put(&app, &id, &stmt("http://example.com/verbs/head", activity("http://example.com/a/head"))).await,
        204
    );
    let r = app.req(Method::HEAD, "/xapi/statements").send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-experience-api-consistent-through"));
    assert!(r.bytes().await.unwrap().is_empty());
    let r = app.req(Method::HEAD, &format!("/xapi/statements?statementId={id}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = app.req(Method::HEAD, &format!("/xapi/statements?statementId={}", uuid())).send().await.unwrap();
    assert_eq!(r.status(), 404);

    let r = app.req(Method::GET, &format!("/xapi/statements?statementId={id}")).send().await.unwrap();
    assert_eq!(r.headers()["x-experience-api-version"], "1.0.3");
    let consistent = r.headers()["x-experience-api-consistent-through"].to_str().unwrap().to_string();
    assert!(cairn::xapi::timestamp::parse_timestamp(&consistent).is_ok(), "{consistent}");
    let last_modified = r.headers()["last-modified"].to_str().unwrap().to_string();
    let s: Value = r.json().await.unwrap();
    let stored = cairn::xapi::timestamp::parse_timestamp(s["stored"].as_str().unwrap()).unwrap();
    let lm = httpdate::parse_http_date(&last_modified).unwrap();
    let lm_secs = lm.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert_eq!(lm_secs, stored.unix_timestamp(), "Last-Modified is stored, to the second");
    let r = app.req(Method::GET, "/xapi/statements?Limit=1").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().contains_key("x-experience-api-consistent-through"));
}
both!(head_and_response_headers);

/// The statement the `format` tests of the ADL suite use: an actor, and a SubStatement whose actor is
/// an identified Group without members and whose object is an Activity with a full definition; plus
/// an anonymous-group instructor and a context category with two languages.
fn format_statement(id: &str) -> Value {
    json!({
        "id": id,
        "actor": {"objectType": "Agent", "name": "Format Tester", "mbox": "mailto:format@example.com"},
        "verb": {"id": "http://example.com/verbs/formatted", "display": {"en-US": "formatted", "en-GB": "formatted (GB)", "fr-FR": "formaté"}},
        "object": {
            "objectType": "SubStatement",
            "actor": {"objectType": "Group", "name": "Group Identified", "mbox": "mailto:group@example.com"},
            "verb": {"id": "http://example.com/verbs/inner", "display": {"en-US": "inner", "en-GB": "inner (GB)"}},
            "object": {"objectType": "Activity", "id": format!("http://example.com/unicode/{id}"),
                       "definition": {"name": {"en-US": "name", "en-GB": "name (GB)"}, "description": {"en-US": "desc", "en-GB": "desc (GB)"},
                                      "type": "http://example.com/types/t", "moreInfo": "http://example.com/more",
                                      "interactionType": "other", "correctResponsesPattern": ["x"],
                                      "extensions": {"http://example.com/ext": {"name": {"en-US": "not a language map"}}}}}
        },
        "context": {
            "instructor": {"objectType": "Group", "member": [{"name": "M", "mbox": "mailto:member@example.com"}]},
            "contextActivities": {"category": {"id": format!("http://example.com/category/{id}"),
                                               "definition": {"name": {"en-US": "cat", "en-GB": "cat (GB)"}, "description": {"en-US": "cd", "en-GB": "cd (GB)"}}}}
        }
    })
}

/// `format=exact` (and no format) returns actor, verb and object exactly as posted, whatever
/// Accept-Language says; the only normalisation is contextActivities values becoming arrays.
async fn exact_format_keeps_what_was_posted(app: TestApp) {
    let id = uuid();
    let posted = format_statement(&id);
    assert_eq!(app.post_statements(&posted).await.0, 200);
    for q in ["", "&format=exact"] {
        let r = app
            .req(Method::GET, &format!("/xapi/statements?statementId={id}{q}"))
            .header("Accept-Language", "en-GB")
            .send()
            .await
            .unwrap();
        let got: Value = r.json().await.unwrap();
        for p in ["actor", "verb", "object"] {
            assert_eq!(got[p], posted[p], "{p} ({q})");
        }
        assert_eq!(
            got["context"]["contextActivities"]["category"],
            json!([posted["context"]["contextActivities"]["category"]])
        );
    }
}
both!(exact_format_keeps_what_was_posted);

/// `format=ids`: agents and identified groups keep only objectType and IFI, anonymous groups keep
/// their members reduced the same way, activities keep only `id` and verbs only `id`.
async fn ids_format(app: TestApp) {
    let id = uuid();
    assert_eq!(app.post_statements(&format_statement(&id)).await.0, 200);
    let (_, got) = app.get_json(&format!("/xapi/statements?statementId={id}&format=ids")).await;
    assert_eq!(got["actor"], json!({"objectType": "Agent", "mbox": "mailto:format@example.com"}));
    assert_eq!(got["verb"], json!({"id": "http://example.com/verbs/formatted"}));
    let sub = &got["object"];
    assert_eq!(sub["objectType"], json!("SubStatement"));
    assert_eq!(sub["actor"], json!({"objectType": "Group", "mbox": "mailto:group@example.com"}));
    assert_eq!(sub["verb"], json!({"id": "http://example.com/verbs/inner"}));
    assert_eq!(sub["object"], json!({"id": format!("http://example.com/unicode/{id}")}));
    assert_eq!(
        got["context"]["instructor"],
        json!({"objectType": "Group", "member": [{"mbox": "mailto:member@example.com"}]})
    );
    assert_eq!(
        got["context"]["contextActivities"]["category"],
        json!([{"id": format!("http://example.com/category/{id}")}])
    );
    // The same format applies to query results.
    let (_, page) = app.get_json("/xapi/statements?format=ids&verb=http://example.com/verbs/formatted").await;
    assert_eq!(page["statements"][0]["actor"], got["actor"]);
}
both!(ids_format);

/// `format=canonical` reduces every language map (verb displays, activity names and descriptions,
/// context activities, the SubStatement's) to the best match for Accept-Language; agents are
/// unchanged and extension values are never touched.
async fn canonical_format(app: TestApp) {
    let id = uuid();
    let posted = format_statement(&id);
    assert_eq!(app.post_statements(&posted).await.0, 200);
    let r = app
        .req(Method::GET, &format!("/xapi/statements?statementId={id}&format=canonical"))
        .header("Accept-Language", "en-GB")
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["actor"], posted["actor"]);
    assert_eq!(
        got["verb"],
        json!({"id": "http://example.com/verbs/formatted", "display": {"en-GB": "formatted (GB)"}})
    );
    let sub = &got["object"];
    assert_eq!(sub["actor"], posted["object"]["actor"]);
    assert_eq!(sub["verb"]["display"], json!({"en-GB": "inner (GB)"}));
    let def = &sub["object"]["definition"];
    assert_eq!(def["name"], json!({"en-GB": "name (GB)"}));
    assert_eq!(def["description"], json!({"en-GB": "desc (GB)"}));
    assert_eq!(def["interactionType"], json!("other"));
    assert_eq!(def["extensions"], posted["object"]["object"]["definition"]["extensions"]);
    let cat = &got["context"]["contextActivities"]["category"][0]["definition"];
    assert_eq!(cat["name"], json!({"en-GB": "cat (GB)"}));
    assert_eq!(cat["description"], json!({"en-GB": "cd (GB)"}));
    // A language the map lacks falls back to a map entry rather than dropping the map.
    let r = app
        .req(Method::GET, &format!("/xapi/statements?statementId={id}&format=canonical"))
        .header("Accept-Language", "fr")
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["verb"]["display"], json!({"fr-FR": "formaté"}));
    assert_eq!(
        got["context"]["contextActivities"]["category"][0]["definition"]["name"].as_object().map(|m| m.len()),
        Some(1)
    );
}
both!(canonical_format);
