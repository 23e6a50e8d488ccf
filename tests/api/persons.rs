//! Persons (issue 13): one learner behind several identifiers. Results, assignments and compliance
//! follow the person (a cmi5 launch's account counts for the `mailto:` learner it was made for);
//! merge and split re-derive; GET /xapi/agents shows every identifier; export and erasure cover
//! everything stored about a person. Every test on both backends; the two-node race on PostgreSQL.

use rand::{Rng, SeedableRng};
use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::results_cmi5::{import_cmi5, Au};
use crate::support::{Backend, TestApp};

fn days(n: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::days(n);
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

fn mbox(name: &str) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:{name}@example.com")})
}

fn account(name: &str) -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "https://lms.example.com", "name": name}})
}

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()[2..].to_string()
}

async fn send(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = app.req(method, path);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// The person an agent belongs to, through the search of the persons API.
async fn person_of(app: &TestApp, agent: &Value) -> Value {
    let term = agent["mbox"].as_str().or(agent["account"]["name"].as_str()).unwrap();
    let (s, body) = send(app, Method::GET, &format!("/api/persons?search={}", enc(term)), None).await;
    assert_eq!(s, 200, "{body}");
    let want = cairn::xapi::agent::key(agent).unwrap();
    body["persons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["identifiers"].as_array().unwrap().iter().any(|i| cairn::xapi::agent::key(i).as_deref() == Some(&want))
        })
        .cloned()
        .unwrap_or_else(|| panic!("no person for {agent} in {body}"))
}

async fn define_course(app: &TestApp, id: &str, activities: &[&str]) {
    let comps: Vec<Value> = activities.iter().map(|a| json!({"kind": "activity", "activity_id": a})).collect();
    let (s, body) =
        send(app, Method::PUT, &format!("/api/courses/{id}"), Some(json!({"title": "P", "components": comps}))).await;
    assert_eq!(s, 200, "{body}");
}

async fn assign(app: &TestApp, course: &str, who: &Value, due: &str) -> Value {
    let (s, a) =
        send(app, Method::POST, "/api/assignments", Some(json!({"course": course, "learner": who, "due": due}))).await;
    assert_eq!(s, 201, "{a}");
    a
}

async fn results(app: &TestApp, course: &str) -> Vec<Value> {
    let (s, body) = app.get_json(&format!("/api/results?course={}", enc(course))).await;
    assert_eq!(s, 200, "{body}");
    body["results"].as_array().unwrap().clone()
}

fn completed(who: &Value, activity: &str) -> Value {
    json!({"actor": who, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"}, "object": {"id": activity}})
}

/// The issue's own case: an assignment to `mailto:ann` becomes `on_time` when Ann completes the cmi5
/// course through its launch, whose actor is the `account` Cairn made for her.
async fn cmi5_launch_satisfies_the_mailto_assignment(app: TestApp) {
    let course = import_cmi5(
        &app,
        "https://example.com/persons/c1",
        &[Au { id: "https://example.com/persons/au1", move_on: Some("Completed"), mastery: None }],
    )
    .await;
    let ann = mbox("ann");
    assign(&app, &course, &ann, &days(7)).await;
    assert_eq!(results(&app, &course).await[0]["compliance"], "pending");

    let (s, l) = send(
        &app,
        Method::POST,
        "/api/launches",
        Some(
            json!({"course": course, "module": "https://example.com/persons/au1", "learner": "mailto:ann@example.com"}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{l}");
    let url = reqwest::Url::parse(l["url"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let actor: Value = serde_json::from_str(&q["actor"]).unwrap();
    assert!(actor.get("account").is_some() && actor.get("mbox").is_none(), "{actor}");
    let r = app.client.post(app.local(&q["fetch"])).send().await.unwrap();
    let token = r.json::<Value>().await.unwrap()["auth-token"].as_str().unwrap().to_string();
    let as_au = |m: Method, path: String| {
        app.client
            .request(m, format!("{}{path}", app.base))
            .header("Authorization", format!("Basic {token}"))
            .header("X-Experience-API-Version", "1.0.3")
    };
    let state = format!(
        "/xapi/activities/state?activityId={}&agent={}&registration={}&stateId=LMS.LaunchData",
        enc(&q["activityId"]),
        enc(&q["actor"]),
        q["registration"]
    );
    let data: Value = as_au(Method::GET, state).send().await.unwrap().json().await.unwrap();
    let st = |verb: &str, result: Value| {
        let mut ctx = data["contextTemplate"].clone();
        ctx["registration"] = json!(q["registration"]);
        let mut cats = vec![json!({"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"})];
        if verb == "completed" {
            cats.push(json!({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"}));
        }
        ctx["contextActivities"]["category"] = json!(cats);
        let mut s = json!({"actor": actor, "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
            "object": {"id": q["activityId"]}, "context": ctx});
        if !result.is_null() {
            s["result"] = result;
        }
        s
    };
    for s in [
        st("initialized", Value::Null),
        st("completed", json!({"completion": true, "duration": "PT30S"})),
        st("terminated", json!({"duration": "PT40S"})),
    ] {
        let r = as_au(Method::POST, "/xapi/statements".into()).json(&s).send().await.unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }
    let rows = results(&app, &course).await;
    assert_eq!(rows.len(), 1, "one person, one row: {rows:?}");
    assert_eq!((rows[0]["status"].as_str(), rows[0]["compliance"].as_str()), (Some("completed"), Some("on_time")));
    assert_eq!(rows[0]["learner"]["mbox"], "mailto:ann@example.com");

    // The launch's account is one of Ann's identifiers: GET /agents shows both.
    let (s, p) = app.get_json(&format!("/xapi/agents?agent={}", enc(&ann.to_string()))).await;
    assert_eq!(s, 200);
    assert_eq!(p["objectType"], "Person");
    assert_eq!(p["mbox"], json!(["mailto:ann@example.com"]));
    assert_eq!(p["account"][0]["name"], "ann@example.com", "{p}");
    // Statements by the account count for a results query by the mailbox.
    let (_, by_mbox) = app.get_json(&format!("/api/results?learner={}", enc(&ann.to_string()))).await;
    assert_eq!(by_mbox["results"][0]["compliance"], "on_time", "{by_mbox}");
}
both!(cmi5_launch_satisfies_the_mailto_assignment);

/// Create, add, merge, split: results follow each change; bad requests change nothing.
async fn merge_and_split_rederive_results(app: TestApp) {
    let course = "https://example.com/persons/c2";
    define_course(&app, course, &["https://example.com/persons/a"]).await;
    let (ann, ann_lms) = (mbox("ann"), account("ann"));
    assign(&app, course, &ann, &days(7)).await;
    assert_eq!(app.post_statements(&completed(&ann_lms, "https://example.com/persons/a")).await.0, 200);
    // Two persons: the assignment is pending, the account's completion is an unassigned row.
    let rows = results(&app, course).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let assigned = rows.iter().find(|r| r["assignment"].is_string()).unwrap();
    assert_eq!(assigned["compliance"], "pending");
    let p_ann = person_of(&app, &ann).await;
    let p_lms = person_of(&app, &ann_lms).await;
    assert_ne!(p_ann["id"], p_lms["id"]);

    // Merge: one row, on time.
    let path = format!("/api/persons/{}/merge", p_ann["id"].as_str().unwrap());
    let (s, merged) = send(&app, Method::POST, &path, Some(json!({"person": p_lms["id"]}))).await;
    assert_eq!(s, 200, "{merged}");
    assert_eq!(merged["identifiers"].as_array().unwrap().len(), 2);
    let rows = results(&app, course).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["compliance"], "on_time");
    let (s, _) = send(&app, Method::GET, &format!("/api/persons/{}", p_lms["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 404, "the merged-away person is gone");

    // Split the account off again: back to pending, and the account is a person of its own.
    let id = p_ann["id"].as_str().unwrap();
    let split = format!("/api/persons/{id}/identifiers?agent={}", enc(&ann_lms.to_string()));
    let (s, new_person) = send(&app, Method::DELETE, &split, None).await;
    assert_eq!(s, 200, "{new_person}");
    assert_ne!(new_person["id"], p_ann["id"]);
    let rows = results(&app, course).await;
    assert_eq!(rows.iter().find(|r| r["assignment"].is_string()).unwrap()["compliance"], "pending", "{rows:?}");
    // The last identifier cannot be split off; an identifier the person lacks is not found.
    let (s, e) =
        send(&app, Method::DELETE, &format!("/api/persons/{id}/identifiers?agent={}", enc(&ann.to_string())), None)
            .await;
    assert_eq!(s, 409, "{e}");
    let (s, _) = send(&app, Method::DELETE, &split, None).await;
    assert_eq!(s, 404);

    // Add moves an identifier here; create takes identifiers from wherever they were.
    let (s, p) =
        send(&app, Method::POST, &format!("/api/persons/{id}/identifiers"), Some(json!({"agent": ann_lms}))).await;
    assert_eq!((s, p["identifiers"].as_array().unwrap().len()), (200, 2), "{p}");
    assert_eq!(results(&app, course).await.len(), 1);
    let (s, created) = send(
        &app,
        Method::POST,
        "/api/persons",
        Some(json!({"name": "Ann Example", "identifiers": [ann, ann_lms, mbox("ann.private")]})),
    )
    .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["name"], "Ann Example");
    assert_eq!(created["identifiers"].as_array().unwrap().len(), 3);
    let rows = results(&app, course).await;
    assert_eq!((rows.len(), rows[0]["compliance"].as_str()), (1, Some("on_time")), "{rows:?}");
    assert_eq!(rows[0]["person"], created["id"]);
    // The person filter: statements by any of the person's identifiers, paged through `more`.
    assert_eq!(app.post_statements(&completed(&mbox("ann.private"), "https://example.com/persons/x")).await.0, 200);
    let pid = created["id"].as_str().unwrap();
    let (s, page) = app.get_json(&format!("/api/persons/{pid}/statements?limit=1")).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["statements"][0]["actor"]["mbox"], "mailto:ann.private@example.com");
    let (_, page2) = app.get_json(page["more"].as_str().expect("more")).await;
    assert_eq!(page2["statements"][0]["actor"]["account"]["name"], "ann", "{page2}");
    assert!(
        page2["more"].as_str().unwrap_or("").is_empty()
            || app.get_json(page2["more"].as_str().unwrap()).await.1["statements"] == json!([])
    );
    let (s, _) = app.get_json(&format!("/api/persons/{pid}/statements?agent={}", enc(&ann.to_string()))).await;
    assert_eq!(s, 400);
    let (s, _) = app.get_json(&format!("/api/persons/{pid}/statements?nonsense=1")).await;
    assert_eq!(s, 400);
    let (s, renamed) = send(
        &app,
        Method::PATCH,
        &format!("/api/persons/{}", created["id"].as_str().unwrap()),
        Some(json!({"name": "Ann E."})),
    )
    .await;
    assert_eq!((s, renamed["name"].as_str()), (200, Some("Ann E.")));

    // Bad input: named, 4xx, nothing changed.
    let before = results(&app, course).await;
    for (method, path, body, want) in [
        (Method::POST, "/api/persons".to_string(), json!({"identifiers": []}), 400),
        (
            Method::POST,
            "/api/persons".to_string(),
            json!({"identifiers": [{"objectType": "Group", "member": []}]}),
            400,
        ),
        (Method::POST, "/api/persons".to_string(), json!({"identifiers": [{"mbox": "ann"}]}), 400),
        (Method::POST, "/api/persons".to_string(), json!({"identifiers": [mbox("x")], "extra": 1}), 400),
        (
            Method::POST,
            format!("/api/persons/{}/merge", created["id"].as_str().unwrap()),
            json!({"person": created["id"]}),
            400,
        ),
        (
            Method::POST,
            format!("/api/persons/{}/merge", created["id"].as_str().unwrap()),
            json!({"person": "nope"}),
            404,
        ),
        (Method::POST, "/api/persons/nope/identifiers".to_string(), json!({"agent": mbox("z")}), 404),
    ] {
        let (s, e) = send(&app, method, &path, Some(body)).await;
        assert_eq!(s, want, "{path}: {e}");
    }
    assert_eq!(results(&app, course).await, before);

    // Only the admin scope reaches the persons API.
    app.lrs
        .create_credential("reader", vec!["statements/read".into()], Some("reader".into()), Some("pw".into()))
        .await
        .unwrap();
    for (m, path) in [
        (Method::GET, "/api/persons".to_string()),
        (Method::GET, format!("/api/persons/{}/export", created["id"].as_str().unwrap())),
        (Method::DELETE, format!("/api/persons/{}", created["id"].as_str().unwrap())),
    ] {
        let r =
            app.client.request(m, format!("{}{path}", app.base)).basic_auth("reader", Some("pw")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let r = app.client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let (s, _) = send(&app, Method::GET, &format!("/api/persons/{}", created["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200, "the refused erasure erased nothing");
}
both!(merge_and_split_rederive_results);

/// Export holds everything about the person; erasure removes it everywhere, anonymises mentions,
/// and a `more` link handed out before never shows the person again.
async fn export_and_erasure(app: TestApp) {
    let course = "https://example.com/persons/c3";
    define_course(&app, course, &["https://example.com/persons/e"]).await;
    let (ann, ann2, bob) = (mbox("ann"), account("ann"), mbox("bob"));
    let (s, p) =
        send(&app, Method::POST, "/api/persons", Some(json!({"name": "Ann", "identifiers": [ann, ann2]}))).await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_str().unwrap().to_string();
    assign(&app, course, &ann, &days(3)).await;
    assign(&app, course, &bob, &days(3)).await;
    let (s, session) = send(
        &app,
        Method::POST,
        "/api/sessions",
        Some(json!({"course": course, "title": "Live", "start": days(1), "end": days(2)})),
    )
    .await;
    assert_eq!(s, 201, "{session}");
    let (s, b) = send(
        &app,
        Method::POST,
        &format!("/api/sessions/{}/bookings", session["id"].as_str().unwrap()),
        Some(json!({"learner": ann})),
    )
    .await;
    assert!(s == 200 || s == 201, "{s} {b}");
    let mut ids = Vec::new();
    for s in [
        completed(&ann, "https://example.com/persons/e"),
        completed(&ann2, "https://example.com/persons/other"),
        completed(&bob, "https://example.com/persons/e"),
        json!({"actor": bob, "verb": {"id": "http://example.com/verbs/mentored"}, "object": ann,
               "context": {"instructor": ann2, "team": {"objectType": "Group", "member": [ann, bob]}}}),
    ] {
        let (st, body) = app.post_statements(&s).await;
        assert_eq!(st, 200, "{body}");
        ids.push(body[0].as_str().unwrap().to_string());
    }
    let doc = format!(
        "/xapi/activities/state?activityId={}&agent={}&stateId=s1",
        enc("https://example.com/persons/e"),
        enc(&ann.to_string())
    );
    assert_eq!(app.req(Method::PUT, &doc).json(&json!({"page": 3})).send().await.unwrap().status(), 204);
    let profile = format!("/xapi/agents/profile?agent={}&profileId=p1", enc(&ann2.to_string()));
    assert_eq!(
        app.req(Method::PUT, &profile)
            .header("If-None-Match", "*")
            .body("hello")
            .header("Content-Type", "text/plain")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // A page of bob's statements whose `more` is handed out before the erasure.
    let (_, first) =
        app.get_json(&format!("/xapi/statements?agent={}&limit=1&related_agents=true", enc(&bob.to_string()))).await;
    let more = first["more"].as_str().expect("more").to_string();

    let (s, export) = app.get_json(&format!("/api/persons/{id}/export")).await;
    assert_eq!(s, 200, "{export}");
    assert_eq!(export["person"]["name"], "Ann");
    assert_eq!(export["statements"].as_array().unwrap().len(), 3, "two and the booking's `registered`: {export}");
    assert_eq!(export["statements_mentioning"].as_array().unwrap().len(), 1);
    assert_eq!(export["documents"].as_array().unwrap().len(), 2);
    let state = export["documents"].as_array().unwrap().iter().find(|d| d["kind"] == "state").unwrap();
    assert_eq!(state["content"]["page"], 3, "{state}");
    assert_eq!(export["assignments"].as_array().unwrap().len(), 1);
    assert_eq!(export["bookings"].as_array().unwrap().len(), 1);
    assert_eq!(export["results"].as_array().unwrap().len(), 1);

    // The statements stored per day (the console's overview) are counted as they are written, and
    // erasure takes its removed statements off them.
    let day = 86_400_000_000i64;
    let today = cairn::now_us().div_euclid(day) * day;
    let per_day = |app: &TestApp| {
        let store = app.lms.store.clone();
        async move { store.statements_per_day(today - day, 2).await.expect("per day").iter().sum::<i64>() }
    };
    let before = per_day(&app).await;
    assert_eq!(before, app.statement_count().await, "every statement counted on its day");

    let (s, erased) = send(&app, Method::DELETE, &format!("/api/persons/{id}"), None).await;
    assert_eq!(s, 200, "{erased}");
    assert_eq!(erased["statements_removed"], 3, "two statements and the booking's `registered`: {erased}");
    assert_eq!(per_day(&app).await, before - 3, "erased statements are no longer counted");
    let (s, _) = app.get_json(&format!("/api/persons/{id}")).await;
    assert_eq!(s, 404);
    // Nothing anywhere names Ann: every statement, the `more` page, results, documents; also as
    // another node on the same database reads them.
    let other = app.another_node().await;
    let (_, all) = other.get_json("/xapi/statements?limit=0").await;
    let text = all.to_string();
    assert!(!text.contains("ann@example.com") && !text.contains("\"ann\""), "{text}");
    assert!(text.contains(&ids[2]) && text.contains(&ids[3]), "bob's statements stay");
    assert!(!text.contains(&ids[0]) && !text.contains(&ids[1]), "ann's statements are removed, not voided");
    let (_, mentioned) = app.get_json(&format!("/xapi/statements?statementId={}", ids[3])).await;
    assert_eq!(mentioned["object"]["account"]["homePage"], cairn::lrs::persons::ERASED_HOMEPAGE, "{mentioned}");
    assert_eq!(mentioned["context"]["instructor"], mentioned["object"], "one anonymous agent for the person");
    // Found by the anonymous agent with its verb (pair rows move with the agent's rows), not by ann.
    let with_verb = |who: &Value| {
        format!("/xapi/statements?agent={}&verb={}", enc(&who.to_string()), enc("http://example.com/verbs/mentored"))
    };
    let (_, by_pair) = app.get_json(&with_verb(&mentioned["object"])).await;
    assert_eq!(by_pair["statements"][0]["id"], ids[3].as_str(), "{by_pair}");
    assert_eq!(app.get_json(&with_verb(&ann)).await.1["statements"], json!([]));
    let (_, page2) = other.get_json(&more).await;
    assert!(!page2.to_string().contains("ann@example.com"), "{page2}");
    let (s, _) = app.get_json(&format!("/xapi/statements?agent={}", enc(&ann.to_string()))).await;
    assert_eq!(s, 200);
    assert_eq!(
        app.get_json(&format!("/xapi/statements?agent={}", enc(&ann.to_string()))).await.1["statements"],
        json!([])
    );
    assert_eq!(app.req(Method::GET, &doc).send().await.unwrap().status(), 404);
    assert_eq!(app.req(Method::GET, &profile).send().await.unwrap().status(), 404);
    let rows = results(&app, course).await;
    assert_eq!(rows.len(), 1, "only bob's assignment is left: {rows:?}");
    assert_eq!(rows[0]["learner"]["mbox"], "mailto:bob@example.com");
    let (_, search) = app.get_json("/api/persons?search=ann").await;
    assert_eq!(search["persons"], json!([]));
    // No results fact (body or link) and no index key of hers is left; bob's stay. Facts are filed
    // under their learner's number in the key dictionary, so none may be left without its key.
    for (who, expected_some) in [("ann@example.com", false), ("bob@example.com", true)] {
        let like = format!("%{who}%");
        let sql = "SELECT (SELECT count(*) FROM result_facts f JOIN index_keys k ON k.id = f.learner_id \
                   WHERE k.key LIKE $1 OR f.body LIKE $1) \
                   + (SELECT count(*) FROM result_fact_links l JOIN index_keys k ON k.id = l.learner_id \
                   WHERE k.key LIKE $1) \
                   + (SELECT count(*) FROM index_keys WHERE key LIKE $1)";
        let n: i64 = if app.database_url.starts_with("sqlite") {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            sqlx::query_scalar(sql).bind(&like).fetch_one(&pool).await.unwrap()
        } else {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            sqlx::query_scalar(sql).bind(&like).fetch_one(&pool).await.unwrap()
        };
        assert_eq!(n > 0, expected_some, "facts and keys of {who}: {n}");
    }
    let orphans = "SELECT (SELECT count(*) FROM result_facts f WHERE NOT EXISTS \
                   (SELECT 1 FROM index_keys k WHERE k.id = f.learner_id)) \
                   + (SELECT count(*) FROM result_fact_links l WHERE NOT EXISTS \
                   (SELECT 1 FROM index_keys k WHERE k.id = l.learner_id)) \
                   + (SELECT count(*) FROM statement_index i WHERE i.key_id < 0 AND NOT EXISTS \
                   (SELECT 1 FROM index_keys k WHERE k.id = (-i.key_id) / 4294967296))";
    let n: i64 = if app.database_url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(orphans).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
        sqlx::query_scalar(orphans).fetch_one(&pool).await.unwrap()
    };
    assert_eq!(n, 0, "facts or pair rows filed under a number the dictionary no longer has");
    // The audit log says who and when, with the person's opaque id and no personal data.
    let audit = app.lms.store.audit_log(None, 10).await.unwrap();
    let entry = audit.iter().find(|a| a.action == "person.erase").expect("audit entry");
    assert_eq!(entry.target, id);
    assert!(!format!("{entry:?}").contains("ann"), "{entry:?}");
    // Statements from the identifier after the erasure start a new person.
    assert_eq!(app.post_statements(&completed(&ann, "https://example.com/persons/e")).await.0, 200);
    let again = person_of(&app, &ann).await;
    assert_ne!(again["id"].as_str(), Some(id.as_str()));
}
both!(export_and_erasure);

/// Incremental results equal rebuilt ones when merges and splits interleave with statements from
/// every identifier of the persons.
async fn merges_keep_incremental_equal_to_rebuilt(app: TestApp) {
    let course = "https://example.com/persons/c4";
    let acts = ["https://example.com/persons/p/a", "https://example.com/persons/p/b"];
    define_course(&app, course, &acts).await;
    let idents: Vec<Value> = (0..3).flat_map(|i| [mbox(&format!("m{i}")), account(&format!("m{i}"))]).collect();
    for i in 0..3 {
        assign(&app, course, &idents[2 * i], &days(2)).await;
    }
    for who in &idents {
        assert_eq!(app.post_statements(&completed(who, "https://example.com/persons/elsewhere")).await.0, 200);
    }
    for seed in 0..3u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..20 {
            let who = &idents[rng.gen_range(0..idents.len())];
            match rng.gen_range(0..6) {
                0 => {
                    let other = &idents[rng.gen_range(0..idents.len())];
                    let (a, b) = (person_of(&app, who).await, person_of(&app, other).await);
                    if a["id"] != b["id"] {
                        let path = format!("/api/persons/{}/merge", a["id"].as_str().unwrap());
                        assert_eq!(send(&app, Method::POST, &path, Some(json!({"person": b["id"]}))).await.0, 200);
                    }
                }
                1 => {
                    let p = person_of(&app, who).await;
                    if p["identifiers"].as_array().unwrap().len() > 1 {
                        let path = format!(
                            "/api/persons/{}/identifiers?agent={}",
                            p["id"].as_str().unwrap(),
                            enc(&who.to_string())
                        );
                        assert_eq!(send(&app, Method::DELETE, &path, None).await.0, 200);
                    }
                }
                _ => {
                    let verb = ["completed", "passed", "failed"][rng.gen_range(0..3)];
                    let s = json!({"actor": who, "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
                        "object": {"id": acts[rng.gen_range(0..2)]}, "timestamp": days(-rng.gen_range(0..5)),
                        "result": {"score": {"scaled": rng.gen_range(0..=10) as f64 / 10.0}}});
                    assert_eq!(app.post_statements(&s).await.0, 200);
                }
            }
        }
        let before = results(&app, course).await;
        app.assert_summary_kept(course, &format!("seed {seed}")).await;
        assert_eq!(send(&app, Method::POST, "/api/results/rebuild", None).await.0, 200);
        assert_eq!(before, results(&app, course).await, "seed {seed}");
    }
}
both!(merges_keep_incremental_equal_to_rebuilt);

/// Two nodes on one PostgreSQL database: one merges persons while the other stores statements from
/// the identifiers being merged. Nothing is lost: the results equal a rebuild from the statements.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn merges_and_statements_on_two_nodes_lose_nothing() {
    let Some(a) = TestApp::spawn(Backend::Postgres).await else { return };
    let b = a.another_node().await;
    let course = "https://example.com/persons/c5";
    let acts: Vec<String> = (0..4).map(|i| format!("https://example.com/persons/r/{i}")).collect();
    let refs: Vec<&str> = acts.iter().map(String::as_str).collect();
    define_course(&a, course, &refs).await;
    let n = 12;
    for i in 0..n {
        assign(&a, course, &mbox(&format!("r{i}")), &days(2)).await;
        // Each account is seen first, so it is a person of its own until merged.
        assert_eq!(
            a.post_statements(&completed(&account(&format!("r{i}")), "https://example.com/persons/none")).await.0,
            200
        );
    }
    let merging = async {
        for i in 0..n {
            let (p, q) =
                (person_of(&a, &mbox(&format!("r{i}"))).await, person_of(&a, &account(&format!("r{i}"))).await);
            let path = format!("/api/persons/{}/merge", p["id"].as_str().unwrap());
            let (s, body) = send(&a, Method::POST, &path, Some(json!({"person": q["id"]}))).await;
            assert_eq!(s, 200, "{body}");
        }
    };
    let storing = async {
        for i in 0..n {
            let batch: Vec<Value> = acts.iter().map(|x| completed(&account(&format!("r{i}")), x)).collect();
            let (s, body) = b.post_statements(&json!(batch)).await;
            assert_eq!(s, 200, "{body}");
        }
    };
    tokio::join!(merging, storing);
    a.assert_summary_kept(course, "merges and statements on two nodes").await;
    let rows = results(&a, course).await;
    assert_eq!(rows.len(), n, "one row per merged person: {rows:?}");
    for r in &rows {
        assert_eq!((r["status"].as_str(), r["compliance"].as_str()), (Some("completed"), Some("on_time")), "{r}");
    }
    assert_eq!(send(&a, Method::POST, "/api/results/rebuild", None).await.0, 200);
    assert_eq!(rows, results(&a, course).await);
}

/// The same through the command line, as an operator at the server would: create, merge, split,
/// export, and an erasure that asks for the id again.
async fn persons_from_the_cli(app: TestApp) {
    let db = app.database_url.clone();
    assert_eq!(app.post_statements(&completed(&mbox("cli1"), "https://example.com/persons/cli")).await.0, 200);
    let run = move |args: Vec<String>| {
        let db = db.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                crate::support::cli(&db, &args)
            })
            .await
            .unwrap()
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let out = run(s(&[
        "persons",
        "create",
        "--name",
        "Cli One",
        "--agent",
        "mailto:cli1@example.com",
        "--agent",
        r#"{"account":{"homePage":"https://lms.example.com","name":"cli1"}}"#,
    ]))
    .await;
    let p: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(p["identifiers"].as_array().unwrap().len(), 2, "{out}");
    let id = p["id"].as_str().unwrap().to_string();
    let list = run(s(&["persons", "list", "--search", "cli1"])).await;
    assert!(list.contains(&id) && list.contains("Cli One"), "{list}");
    let shown = run(s(&["persons", "show", "mailto:cli1@example.com"])).await;
    assert_eq!(serde_json::from_str::<Value>(&shown).unwrap()["id"], p["id"]);
    let split = run(s(&[
        "persons",
        "split",
        &id,
        "--agent",
        r#"{"account":{"homePage":"https://lms.example.com","name":"cli1"}}"#,
    ]))
    .await;
    let other = serde_json::from_str::<Value>(&split).unwrap()["id"].as_str().unwrap().to_string();
    let merged = run(s(&["persons", "merge", &id, &other])).await;
    assert_eq!(serde_json::from_str::<Value>(&merged).unwrap()["identifiers"].as_array().unwrap().len(), 2);
    let export: Value = serde_json::from_str(&run(s(&["persons", "export", &id])).await).unwrap();
    assert_eq!(export["statements"].as_array().unwrap().len(), 1, "{export}");
    // Without --yes the id must be typed again; a wrong answer erases nothing.
    let db = app.database_url.clone();
    let id2 = id.clone();
    let refused = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--database", &db, "persons", "erase", &id2])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"not-the-id\n").unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nothing was erased"));
    assert_eq!(app.get_json(&format!("/api/persons/{id}")).await.0, 200);
    let erased: Value = serde_json::from_str(&run(s(&["persons", "erase", &id, "--yes"])).await).unwrap();
    assert_eq!(erased["statements_removed"], 1, "{erased}");
    assert_eq!(app.get_json(&format!("/api/persons/{id}")).await.0, 404);
}
both!(persons_from_the_cli);
