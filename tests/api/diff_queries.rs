//! Differential test of the statement query filters: a small reference model written from xAPI 1.0.3
//! Communication 2.1.3 (filters, "Filter Conditions for StatementRefs", 2.1.4 voided statements) is
//! compared with the LRS over random statements and random queries, on both backends. Property-based
//! (proptest, fixed seed, a bounded number of cases; each case runs on a fresh database so shrinking
//! replays it exactly). `CAIRN_DIFF_SEED=N` picks another seed, `CAIRN_DIFF_CASES=N` more cases.
//!
//! Readings chosen where the text leaves room (README, "Using the LRS", says the same):
//! - each filter is met by a statement or, recursively, by the statement its StatementRef object
//!   targets, independently of the other filters (so `agent` may match the referrer and `verb` the
//!   target); a missing target lends nothing; reference cycles end;
//! - statements with the same `stored` time (one request) keep the order they were sent in;
//! - `agent` matches a Group (actor or object) listing the agent as a member; `related_agents` adds
//!   authority, instructor, team and the same places in a SubStatement; `related_activities` adds the
//!   four context activity lists and the SubStatement's object and context activities.

use std::collections::HashSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::support::{Backend, TestApp};

const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";
const REGISTRATIONS: [&str; 2] = ["6f1e2a34-8d9c-4b9e-9a3e-5b3d1c3a2b10", "0d7e9a2c-1b3f-4c5d-8e6f-7a8b9c0d1e2f"];
const LISTS: [&str; 4] = ["parent", "grouping", "category", "other"];

/// The runner every differential test uses: a fixed seed (or `CAIRN_DIFF_SEED`), `cases` cases (or
/// `CAIRN_DIFF_CASES`), few shrink steps (each replays a case on a new database).
pub fn runner(cases: u32) -> TestRunner {
    let seed: u64 = std::env::var("CAIRN_DIFF_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(16);
    let cases = std::env::var("CAIRN_DIFF_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(cases);
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 48, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs one case's async check on a runtime of its own, shut down afterwards: the case's servers and
/// connection pools end with it (a PostgreSQL cluster shared by the suite has a connection limit).
pub fn block<F: std::future::Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let out = rt.block_on(f);
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    out
}

fn agent(i: usize) -> Value {
    match i {
        0 => json!({"mbox": "mailto:a0@example.com"}),
        1 => json!({"objectType": "Agent", "name": "A1", "mbox": "mailto:a1@example.com"}),
        2 => json!({"objectType": "Agent", "account": {"homePage": "http://example.com/people", "name": "a2"}}),
        _ => json!({"objectType": "Agent", "mbox_sha1sum": "a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3a3"}),
    }
}

fn verb(i: usize) -> String {
    format!("http://example.com/verbs/v{i}")
}

fn activity_id(i: usize) -> String {
    format!("http://example.com/acts/x{i}")
}

fn id_of(i: usize) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

#[derive(Debug, Clone)]
enum Who {
    Agent(usize),
    /// The identified Group `team@example.com`, with these members.
    Team(Vec<usize>),
    Anonymous(Vec<usize>),
}

impl Who {
    fn json(&self) -> Value {
        let members = |m: &[usize]| Value::Array(m.iter().map(|&i| agent(i)).collect());
        match self {
            Who::Agent(i) => agent(*i),
            Who::Team(m) => json!({"objectType": "Group", "mbox": "mailto:team@example.com", "member": members(m)}),
            Who::Anonymous(m) => json!({"objectType": "Group", "member": members(m)}),
        }
    }

    /// As an object, an Agent must say so.
    fn as_object(&self) -> Value {
        let mut v = self.json();
        if let Some(o) = v.as_object_mut() {
            o.entry("objectType").or_insert(json!("Agent"));
        }
        v
    }
}

#[derive(Debug, Clone)]
struct Ctx {
    registration: Option<usize>,
    instructor: Option<Who>,
    team: Option<Vec<usize>>,
    activities: Vec<(usize, usize)>,
}

impl Ctx {
    fn json(&self) -> Option<Value> {
        let mut c = serde_json::Map::new();
        if let Some(r) = self.registration {
            c.insert("registration".into(), json!(REGISTRATIONS[r]));
        }
        if let Some(i) = &self.instructor {
            c.insert("instructor".into(), i.json());
        }
        if let Some(m) = &self.team {
            c.insert("team".into(), Who::Anonymous(m.clone()).json());
        }
        let mut lists = serde_json::Map::new();
        for (l, a) in &self.activities {
            let list = lists.entry(LISTS[*l]).or_insert_with(|| json!([]));
            if let Some(arr) = list.as_array_mut() {
                if !arr.iter().any(|x| x["id"] == activity_id(*a).as_str()) {
                    arr.push(json!({"id": activity_id(*a)}));
                }
            }
        }
        if !lists.is_empty() {
            c.insert("contextActivities".into(), Value::Object(lists));
        }
        (!c.is_empty()).then_some(Value::Object(c))
    }
}

#[derive(Debug, Clone)]
enum Obj {
    Activity(usize),
    Who(Who),
    Sub {
        actor: Who,
        verb: usize,
        object: Box<Obj>,
        ctx: Ctx,
    },
    /// A StatementRef to the statement at this position (past the end: never stored).
    Ref(usize),
}

#[derive(Debug, Clone)]
struct Gen {
    actor: Who,
    verb: usize,
    object: Obj,
    ctx: Ctx,
    /// A voiding statement, aimed at the n-th (mod count) non-voiding statement of the case.
    voids: Option<usize>,
}

#[derive(Debug, Clone)]
struct Query {
    agent: Option<usize>,
    related_agents: bool,
    verb: Option<usize>,
    activity: Option<usize>,
    related_activities: bool,
    registration: Option<usize>,
    since: Option<usize>,
    until: Option<usize>,
    ascending: bool,
    limit: usize,
}

#[derive(Debug, Clone)]
struct Case {
    statements: Vec<Gen>,
    /// Request sizes, cycled over the statements in order.
    batches: Vec<usize>,
    queries: Vec<Query>,
}

fn members() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(0..4usize, 1..3)
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        3 => (0..4usize).prop_map(Who::Agent),
        1 => prop::collection::vec(0..4usize, 0..3).prop_map(Who::Team),
        1 => members().prop_map(Who::Anonymous),
    ]
}

fn ctx() -> impl Strategy<Value = Ctx> {
    (
        prop::option::weighted(0.5, 0..2usize),
        prop::option::weighted(0.25, who()),
        prop::option::weighted(0.2, members()),
        prop::collection::vec((0..4usize, 0..3usize), 0..3),
    )
        .prop_map(|(registration, instructor, team, activities)| Ctx {
            registration,
            instructor,
            team,
            activities,
        })
}

fn object(n: usize) -> impl Strategy<Value = Obj> {
    let plain = prop_oneof![(0..3usize).prop_map(Obj::Activity), who().prop_map(Obj::Who)];
    prop_oneof![
        4 => (0..3usize).prop_map(Obj::Activity),
        1 => who().prop_map(Obj::Who),
        1 => (who(), 0..3usize, plain, ctx())
            .prop_map(|(actor, verb, object, ctx)| Obj::Sub { actor, verb, object: Box::new(object), ctx }),
        2 => (0..n + 2).prop_map(Obj::Ref),
    ]
}

fn statement(n: usize) -> impl Strategy<Value = Gen> {
    (who(), 0..3usize, object(n), ctx(), prop::option::weighted(0.12, any::<prop::sample::Index>())).prop_map(
        |(actor, verb, object, ctx, voids)| Gen { actor, verb, object, ctx, voids: voids.map(|i| i.index(1 << 16)) },
    )
}

fn query(n: usize) -> impl Strategy<Value = Query> {
    (
        prop::option::weighted(0.5, 0..6usize),
        any::<bool>(),
        prop::option::weighted(0.3, 0..4usize),
        prop::option::weighted(0.3, 0..3usize),
        any::<bool>(),
        prop::option::weighted(0.2, 0..2usize),
        prop::option::weighted(0.25, 0..n),
        prop::option::weighted(0.25, 0..n),
        any::<bool>(),
        prop_oneof![2 => Just(0usize), 3 => 1..5usize],
    )
        .prop_map(
            |(
                agent,
                related_agents,
                verb,
                activity,
                related_activities,
                registration,
                since,
                until,
                ascending,
                limit,
            )| {
                Query {
                    agent,
                    related_agents,
                    verb,
                    activity,
                    related_activities,
                    registration,
                    since,
                    until,
                    ascending,
                    limit,
                }
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (4..26usize).prop_flat_map(|n| {
        (
            prop::collection::vec(statement(n), n),
            prop::collection::vec(1..5usize, 1..4),
            prop::collection::vec(query(n), 10..14),
        )
            .prop_map(|(statements, batches, queries)| Case { statements, batches, queries })
    })
}

/// The statements of a case as sent: voiding targets resolved to non-voiding statements.
fn bodies(case: &Case) -> Vec<Value> {
    let plain: Vec<usize> = (0..case.statements.len()).filter(|&i| case.statements[i].voids.is_none()).collect();
    case.statements
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let mut s = json!({"id": id_of(i), "actor": g.actor.json(), "verb": {"id": verb(g.verb)}});
            let object = match (&g.voids, &g.object) {
                (Some(t), _) if !plain.is_empty() => {
                    s["verb"] = json!({"id": VOIDED});
                    json!({"objectType": "StatementRef", "id": id_of(plain[t % plain.len()])})
                }
                (_, o) => object_json(o),
            };
            s["object"] = object;
            if let Some(c) = g.ctx.json() {
                s["context"] = c;
            }
            s
        })
        .collect()
}

fn object_json(o: &Obj) -> Value {
    match o {
        Obj::Activity(a) => json!({"objectType": "Activity", "id": activity_id(*a)}),
        Obj::Who(w) => w.as_object(),
        Obj::Ref(j) => json!({"objectType": "StatementRef", "id": id_of(*j)}),
        Obj::Sub { actor, verb: v, object, ctx } => {
            let mut s = json!({"objectType": "SubStatement", "actor": actor.json(), "verb": {"id": verb(*v)},
                "object": object_json(object)});
            if let Some(c) = ctx.json() {
                s["context"] = c;
            }
            s
        }
    }
}

// --- the reference model ---

/// An Agent's or Group's identity: objectType and its one IFI (Data 2.4.2.1, 2.4.2.2).
fn identity(a: &Value) -> Option<String> {
    let kind = if a["objectType"] == "Group" { "Group" } else { "Agent" };
    let ifi = if let Some(m) = a["mbox"].as_str() {
        format!("mbox={m}")
    } else if let Some(s) = a["mbox_sha1sum"].as_str() {
        format!("sha1={}", s.to_ascii_lowercase())
    } else if let Some(o) = a["openid"].as_str() {
        format!("openid={o}")
    } else if let (Some(h), Some(n)) = (a["account"]["homePage"].as_str(), a["account"]["name"].as_str()) {
        format!("account={h} {n}")
    } else {
        return None;
    };
    Some(format!("{kind}:{ifi}"))
}

/// The agent filter's matching (Comm 2.1.3): the same identity, or a Group listing it as a member.
fn agent_matches(place: &Value, wanted: &str) -> bool {
    if !place.is_object() {
        return false;
    }
    identity(place).as_deref() == Some(wanted)
        || place["member"].as_array().into_iter().flatten().any(|m| identity(m).as_deref() == Some(wanted))
}

fn is_agent_object(o: &Value) -> bool {
    matches!(o["objectType"].as_str(), Some("Agent") | Some("Group"))
}

fn agent_own(s: &Value, wanted: &str, related: bool) -> bool {
    let o = &s["object"];
    let mut places = vec![&s["actor"]];
    if is_agent_object(o) {
        places.push(o);
    }
    if related {
        places.extend([&s["authority"], &s["context"]["instructor"], &s["context"]["team"]]);
        if o["objectType"] == "SubStatement" {
            places.extend([&o["actor"], &o["context"]["instructor"], &o["context"]["team"]]);
            if is_agent_object(&o["object"]) {
                places.push(&o["object"]);
            }
        }
    }
    places.into_iter().any(|p| agent_matches(p, wanted))
}

fn is_activity(o: &Value) -> bool {
    matches!(o["objectType"].as_str(), None | Some("Activity")) && o["id"].is_string()
}

fn context_activities(ctx: &Value) -> Vec<&str> {
    LISTS
        .iter()
        .flat_map(|l| ctx["contextActivities"][l].as_array().into_iter().flatten())
        .filter_map(|a| a["id"].as_str())
        .collect()
}

fn activity_own(s: &Value, wanted: &str, related: bool) -> bool {
    let o = &s["object"];
    if is_activity(o) && o["id"] == wanted {
        return true;
    }
    if !related {
        return false;
    }
    let mut ids = context_activities(&s["context"]);
    if o["objectType"] == "SubStatement" {
        if is_activity(&o["object"]) {
            ids.extend(o["object"]["id"].as_str());
        }
        ids.extend(context_activities(&o["context"]));
    }
    ids.contains(&wanted)
}

enum Filter<'a> {
    Agent(&'a str, bool),
    Verb(&'a str),
    Activity(&'a str, bool),
    Registration(&'a str),
}

fn own(s: &Value, f: &Filter<'_>) -> bool {
    match f {
        Filter::Agent(a, related) => agent_own(s, a, *related),
        Filter::Verb(v) => s["verb"]["id"] == *v,
        Filter::Activity(a, related) => activity_own(s, a, *related),
        Filter::Registration(r) => {
            s["context"]["registration"].as_str().map(str::to_ascii_lowercase).as_deref() == Some(*r)
        }
    }
}

/// A statement meets a filter itself or through the statement its StatementRef targets, recursively.
fn meets(all: &[Value], s: &Value, f: &Filter<'_>, seen: &mut HashSet<String>) -> bool {
    if own(s, f) {
        return true;
    }
    if s["object"]["objectType"] != "StatementRef" {
        return false;
    }
    let target = s["object"]["id"].as_str().unwrap_or("").to_ascii_lowercase();
    if !seen.insert(target.clone()) {
        return false;
    }
    all.iter().find(|t| t["id"] == target.as_str()).is_some_and(|t| meets(all, t, f, seen))
}

/// What the query must return, in order: `all` in the order they were sent, as stored.
fn expected(all: &[Value], q: &Query, query_agents: &[Value]) -> Vec<String> {
    let voided: HashSet<&str> =
        all.iter().filter(|s| s["verb"]["id"] == VOIDED).filter_map(|s| s["object"]["id"].as_str()).collect();
    let agent_key = q.agent.and_then(|i| identity(&query_agents[i]));
    let verb_id = q.verb.map(|v| if v == 3 { VOIDED.to_string() } else { verb(v) });
    let act = q.activity.map(activity_id);
    let mut filters = Vec::new();
    if let Some(a) = &agent_key {
        filters.push(Filter::Agent(a, q.related_agents));
    }
    if let Some(v) = &verb_id {
        filters.push(Filter::Verb(v));
    }
    if let Some(a) = &act {
        filters.push(Filter::Activity(a, q.related_activities));
    }
    if let Some(r) = q.registration {
        filters.push(Filter::Registration(REGISTRATIONS[r]));
    }
    let by_stored = sorted_stored(all);
    let since = q.since.map(|i| by_stored[i % by_stored.len()].clone());
    let until = q.until.map(|i| by_stored[i % by_stored.len()].clone());
    let mut out: Vec<(String, usize, String)> = all
        .iter()
        .enumerate()
        .filter(|(_, s)| !voided.contains(s["id"].as_str().unwrap_or("")))
        .filter(|(_, s)| {
            let st = s["stored"].as_str().unwrap_or("");
            since.as_deref().is_none_or(|x| st > x) && until.as_deref().is_none_or(|x| st <= x)
        })
        .filter(|(_, s)| filters.iter().all(|f| meets(all, s, f, &mut HashSet::new())))
        .map(|(i, s)| (s["stored"].as_str().unwrap_or("").to_string(), i, s["id"].as_str().unwrap_or("").to_string()))
        .collect();
    out.sort();
    if !q.ascending {
        out.reverse();
    }
    out.into_iter().map(|(_, _, id)| id).collect()
}

fn sorted_stored(all: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = all.iter().filter_map(|s| s["stored"].as_str().map(str::to_string)).collect();
    v.sort();
    v
}

fn query_string(q: &Query, all: &[Value], query_agents: &[Value]) -> String {
    let mut p: Vec<(&str, String)> = Vec::new();
    if let Some(a) = q.agent {
        p.push(("agent", query_agents[a].to_string()));
        if q.related_agents {
            p.push(("related_agents", "true".into()));
        }
    }
    if let Some(v) = q.verb {
        p.push(("verb", if v == 3 { VOIDED.to_string() } else { verb(v) }));
    }
    if let Some(a) = q.activity {
        p.push(("activity", activity_id(a)));
        if q.related_activities {
            p.push(("related_activities", "true".into()));
        }
    }
    if let Some(r) = q.registration {
        p.push(("registration", REGISTRATIONS[r].to_string()));
    }
    let by_stored = sorted_stored(all);
    if let Some(i) = q.since {
        p.push(("since", by_stored[i % by_stored.len()].clone()));
    }
    if let Some(i) = q.until {
        p.push(("until", by_stored[i % by_stored.len()].clone()));
    }
    if q.ascending {
        p.push(("ascending", "true".into()));
    }
    p.push(("limit", q.limit.to_string()));
    serde_urlencoded::to_string(p).unwrap_or_default()
}

fn ids_of(page: &Value) -> Vec<String> {
    page["statements"].as_array().into_iter().flatten().filter_map(|s| s["id"].as_str().map(str::to_string)).collect()
}

async fn check(backend: Backend, case: Case) -> Result<(), TestCaseError> {
    let Some(app) = TestApp::spawn(backend).await else { return Ok(()) };
    let sent = bodies(&case);
    let mut at = 0;
    for size in case.batches.iter().cycle() {
        if at >= sent.len() {
            break;
        }
        let end = (at + size).min(sent.len());
        let (status, body) = app.post_statements(&Value::Array(sent[at..end].to_vec())).await;
        prop_assert_eq!(status, 200, "batch {}..{}: {}", at, end, body);
        at = end;
    }
    // The model reads the statements as stored (stored time, authority) and in the order sent.
    let mut all = Vec::new();
    for s in &sent {
        let id = s["id"].as_str().unwrap_or("");
        let (status, got) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
        let got =
            if status == 200 { got } else { app.get_json(&format!("/xapi/statements?voidedStatementId={id}")).await.1 };
        prop_assert!(got["stored"].is_string(), "{} not stored: {}", id, got);
        all.push(got);
    }
    let mut query_agents: Vec<Value> = (0..4).map(agent).collect();
    query_agents.push(json!({"objectType": "Group", "mbox": "mailto:team@example.com"}));
    query_agents.push(all[0]["authority"].clone());
    for q in &case.queries {
        let want = expected(&all, q, &query_agents);
        let qs = query_string(q, &all, &query_agents);
        let (status, page) = app.get_json(&format!("/xapi/statements?{qs}")).await;
        prop_assert_eq!(status, 200, "{}: {}", qs, page);
        let first = ids_of(&page);
        let n = if q.limit == 0 { want.len() } else { q.limit.min(want.len()) };
        prop_assert_eq!(&first, &want[..n].to_vec(), "first page of {}", qs);
        let mut got = first;
        let mut more = page["more"].as_str().unwrap_or("").to_string();
        while !more.is_empty() {
            prop_assert!(got.len() <= want.len(), "{} pages on past the model's {} statements", qs, want.len());
            let (status, page) = app.get_json(&more).await;
            prop_assert_eq!(status, 200, "{}: {}", more, page);
            got.extend(ids_of(&page));
            more = page["more"].as_str().unwrap_or("").to_string();
        }
        prop_assert_eq!(&got, &want, "all pages of {}", qs);
    }
    Ok(())
}

fn run(backend: Backend) {
    let mut r = runner(12);
    if let Err(e) = r.run(&case(), |c| block(check(backend, c))) {
        panic!("{backend:?}: the LRS and the reference model disagree: {e}");
    }
}

#[test]
fn query_filters_match_the_reference_model_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn query_filters_match_the_reference_model_postgres() {
    run(Backend::Postgres);
}
