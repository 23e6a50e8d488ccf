//! The Statement resource: one test per rule of the spec, each on both backends.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

fn stmt(verb: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
        "verb": {"id": verb, "display": {"en-US": "did", "fr-FR": "a fait"}},
        "object": {"objectType": "Activity", "id": "http://example.com/activities/a1",
                   "definition": {"name": {"en-US": "A one", "fr-FR": "Un"}}}
    })
}

/// POST returns the ids; GET by id returns the statement with LRS-set properties.
async fn post_then_get_by_id(app: TestApp) {
    let (status, ids) = app.post_statements(&stmt("http://example.com/verbs/did")).await;
    assert_eq!(status, 200);
    let id = ids[0].as_str().unwrap().to_string();
    let (status, s) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
    assert_eq!(status, 200);
    assert_eq!(s["id"], json!(id));
    for p in ["stored", "timestamp", "authority", "version"] {
        assert!(s.get(p).is_some(), "{p} set by the LRS");
    }
    assert_eq!(s["actor"], stmt("x")["actor"]);
}
both!(post_then_get_by_id);

/// PUT stores under the given id (204); the same statement again is 204; a different one is 409.
async fn put_conflicts(app: TestApp) {
    let id = "0d7e6a2c-3f4b-4b8e-9f00-5d3c2b1a0f9e";
    let put = |body: Value| app.req(Method::PUT, &format!("/xapi/statements?statementId={id}")).json(&body).send();
    assert_eq!(put(stmt("http://example.com/verbs/did")).await.unwrap().status(), 204);
    assert_eq!(put(stmt("http://example.com/verbs/did")).await.unwrap().status(), 204);
    assert_eq!(put(stmt("http://example.com/verbs/other")).await.unwrap().status(), 409);
    let (_, s) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
    assert_eq!(s["verb"]["id"], json!("http://example.com/verbs/did"));
}
both!(put_conflicts);

/// A batch with one invalid statement stores nothing.
async fn batch_is_all_or_nothing(app: TestApp) {
    let mut bad = stmt("http://example.com/verbs/did");
    bad["verb"]["id"] = json!("not an iri");
    let good_id = "1a2b3c4d-0000-4000-8000-000000000001";
    let mut good = stmt("http://example.com/verbs/did");
    good["id"] = json!(good_id);
    let (status, body) = app.post_statements(&json!([good, bad])).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("verb"), "{body}");
    let (status, _) = app.get_json(&format!("/xapi/statements?statementId={good_id}")).await;
    assert_eq!(status, 404);
    assert_eq!(app.statement_count().await, 0);
}
both!(batch_is_all_or_nothing);

/// Voiding hides the target from queries and single GET, but voidedStatementId returns it.
async fn voiding_hides_the_target(app: TestApp) {
    let (_, ids) = app.post_statements(&stmt("http://example.com/verbs/v1")).await;
    let target = ids[0].as_str().unwrap().to_string();
    let void = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                      "object": {"objectType": "StatementRef", "id": target}});
    let (status, vids) = app.post_statements(&void).await;
    assert_eq!(status, 200);
    let (status, _) = app.get_json(&format!("/xapi/statements?statementId={target}")).await;
    assert_eq!(status, 404);
    let (status, s) = app.get_json(&format!("/xapi/statements?voidedStatementId={target}")).await;
    assert_eq!(status, 200);
    assert_eq!(s["id"], json!(target));
    // Voiding a voiding statement is refused.
    let again = json!({"actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                       "object": {"objectType": "StatementRef", "id": vids[0]}});
    let (status, _) = app.post_statements(&again).await;
    assert_eq!(status, 400);
    // The query returns the voiding statement (its target matches the verb filter) but not the target.
    let (_, r) = app.get_json("/xapi/statements?verb=http://example.com/verbs/v1").await;
    let got: Vec<&str> = r["statements"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(got, vec![vids[0].as_str().unwrap()]);
}
both!(voiding_hides_the_target);

/// `more` pages through a stable snapshot: statements stored meanwhile neither duplicate nor skip rows.
async fn more_pages_through_a_snapshot(app: TestApp) {
    let batch: Vec<Value> = (0..7).map(|_| stmt("http://example.com/verbs/page")).collect();
    app.post_statements(&json!(batch)).await;
    let (_, page) = app.get_json("/xapi/statements?limit=3&verb=http://example.com/verbs/page").await;
    let mut seen: Vec<String> =
        page["statements"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect();
    let mut more = page["more"].as_str().unwrap().to_string();
    // New statements arriving mid-paging must not appear.
    app.post_statements(&stmt("http://example.com/verbs/page")).await;
    while !more.is_empty() {
        let (status, page) = app.get_json(&more).await;
        assert_eq!(status, 200);
        seen.extend(page["statements"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()));
        more = page["more"].as_str().unwrap().to_string();
    }
    assert_eq!(seen.len(), 7);
    let mut dedup = seen.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), 7);
}
both!(more_pages_through_a_snapshot);

/// Unknown query parameters are a 400.
async fn unknown_query_parameter_is_400(app: TestApp) {
    let (status, _) = app.get_json("/xapi/statements?foo=bar").await;
    assert_eq!(status, 400);
    let (status, _) = app.get_json("/xapi/statements?LIMIT=1").await;
    assert_eq!(status, 400);
}
both!(unknown_query_parameter_is_400);

/// Two nodes on one database behave as one LRS: concurrent conflicting PUTs of one id give exactly one
/// 204 and one 409, and a `more` link from one node works on the other.
async fn two_nodes_behave_as_one(app: TestApp) {
    let other = app.another_node().await;
    for round in 0..5 {
        let id = uuid::Uuid::new_v4().to_string();
        let a = app
            .req(Method::PUT, &format!("/xapi/statements?statementId={id}"))
            .json(&stmt("http://example.com/verbs/a"))
            .send();
        let b = other
            .req(Method::PUT, &format!("/xapi/statements?statementId={id}"))
            .json(&stmt("http://example.com/verbs/b"))
            .send();
        let (ra, rb) = tokio::join!(a, b);
        let mut codes = vec![ra.unwrap().status().as_u16(), rb.unwrap().status().as_u16()];
        codes.sort();
        assert_eq!(codes, vec![204, 409], "round {round}");
    }
    let (_, page) = app.get_json("/xapi/statements?limit=2").await;
    let more = page["more"].as_str().unwrap().to_string();
    assert!(!more.is_empty());
    let (status, page2) = other.get_json(&more).await;
    assert_eq!(status, 200);
    assert_eq!(page2["statements"].as_array().unwrap().len(), 2);
    assert_ne!(page["statements"][0]["id"], page2["statements"][0]["id"]);
}
both!(two_nodes_behave_as_one);
