//! Differential test of the derivation rules: a reference model of the README's "Derivation rules"
//! for cmi5 courses (cmi5 §7.1.3, §9.3, §9.6.1, §6.3: moveOn, masteryScore, waived, Browse/Review,
//! voiding, clamping) and of compliance (due, grace, recurrence, waivers) is compared with
//! `/api/results` over random courses and statement streams, on both backends. Same runner as
//! `diff_queries` (fixed seed, bounded cases, a fresh database per case).
//!
//! Readings chosen where the texts leave room (the README says the same):
//! - a statement's time is its `timestamp` clamped to its `stored` time;
//! - an AU satisfied from the start (NotApplicable or no moveOn) has no time; a course whose AUs are all
//!   such is satisfied without activity and counts as completed when assigned;
//! - within one satisfaction cycle only the first `completed`/`passed`/`waived` count; the next cycle
//!   counts only statements after the previous satisfaction;
//! - a course's score is the mean of its AUs' latest scaled scores;
//! - status `passed` needs a known outcome and every known outcome a pass; a waived assignment shows
//!   `completed` unless the learner passed.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::diff_queries::{block, runner};
use crate::results_cmi5::{import_cmi5, result_of, Au, CMI5_CATEGORY};
use crate::support::{Backend, TestApp};

const DAY: i64 = 86_400_000_000;
const MOVE_ONS: [Option<&str>; 6] = [
    None,
    Some("NotApplicable"),
    Some("Completed"),
    Some("Passed"),
    Some("CompletedAndPassed"),
    Some("CompletedOrPassed"),
];
const MASTERY: [Option<f64>; 3] = [None, Some(0.6), Some(0.8)];
const SCORES: [f64; 5] = [0.3, 0.6, 0.7, 0.8, 0.9];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Completed,
    Passed,
    Failed,
    Waived,
    Experienced,
    Launched(usize),
    /// Voids the n-th (mod count) earlier statement.
    Void(usize),
}

#[derive(Debug, Clone)]
struct Event {
    learner: usize,
    kind: Kind,
    /// An AU index, or past the AUs: the course activity itself.
    target: usize,
    defined: bool,
    session: usize,
    score: Option<usize>,
    days_ago: i64,
    future: bool,
    duration_s: Option<u32>,
}

#[derive(Debug, Clone)]
struct Terms {
    due_days: i64,
    grace_days: i64,
    recurrence_months: Option<i64>,
    waived: bool,
}

#[derive(Debug, Clone)]
struct Case {
    aus: Vec<(usize, usize)>,
    learners: Vec<Terms>,
    events: Vec<Event>,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => Just(Kind::Completed),
        3 => Just(Kind::Passed),
        2 => Just(Kind::Failed),
        1 => Just(Kind::Waived),
        1 => Just(Kind::Experienced),
        1 => (0..3usize).prop_map(Kind::Launched),
        1 => (0..64usize).prop_map(Kind::Void),
    ]
}

fn event(learners: usize, aus: usize) -> impl Strategy<Value = Event> {
    (
        0..learners,
        kind(),
        0..aus + 1,
        prop::bool::weighted(0.85),
        0..3usize,
        prop::option::weighted(0.5, 0..SCORES.len()),
        0..70i64,
        prop::bool::weighted(0.05),
        prop::option::weighted(0.5, 1..600u32),
    )
        .prop_map(|(learner, kind, target, defined, session, score, days_ago, future, duration_s)| Event {
            learner,
            kind,
            target,
            defined,
            session,
            score,
            days_ago,
            future,
            duration_s,
        })
}

fn terms() -> impl Strategy<Value = Terms> {
    (
        -40..20i64,
        prop_oneof![3 => Just(0i64), 1 => 1..5i64],
        prop::option::weighted(0.3, 1..3i64),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(due_days, grace_days, recurrence_months, waived)| Terms {
            due_days,
            grace_days,
            recurrence_months,
            waived,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (prop::collection::vec((0..MOVE_ONS.len(), 0..MASTERY.len()), 1..4), prop::collection::vec(terms(), 1..4))
        .prop_flat_map(|(aus, learners)| {
            let (n, l) = (aus.len(), learners.len());
            prop::collection::vec(event(l, n), 2..24).prop_map(move |events| Case {
                aus: aus.clone(),
                learners: learners.clone(),
                events,
            })
        })
}

fn learner(i: usize) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:l{i}@example.com")})
}

fn id_of(i: usize) -> String {
    format!("00000000-0000-4000-9000-{i:012x}")
}

fn us(s: &str) -> i64 {
    OffsetDateTime::parse(s, &Rfc3339).map(|t| (t.unix_timestamp_nanos() / 1000) as i64).unwrap_or(i64::MIN)
}

fn rfc(us: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Calendar months later, the day clamped to the month's length (31 Jan + 1 month = end of February).
fn add_months(at: i64, months: i64) -> i64 {
    let Ok(t) = OffsetDateTime::from_unix_timestamp_nanos(at as i128 * 1000) else { return at };
    let m0 = t.year() as i64 * 12 + t.month() as i64 - 1 + months;
    let (year, month) = (m0.div_euclid(12) as i32, (m0.rem_euclid(12) + 1) as u8);
    let Ok(month) = time::Month::try_from(month) else { return at };
    let day = t.day().min(time::util::days_in_month(month, year));
    match time::Date::from_calendar_date(year, month, day) {
        Ok(d) => (t.replace_date(d).unix_timestamp_nanos() / 1000) as i64,
        Err(_) => at,
    }
}

/// One statement as the model sees it.
#[derive(Debug, Clone)]
struct Seen {
    verb: &'static str,
    au: Option<usize>,
    defined: bool,
    session: String,
    mode: Option<&'static str>,
    scaled: Option<f64>,
    duration: f64,
    at: i64,
}

/// What `/api/results` must say for one learner.
#[derive(Debug, PartialEq)]
struct Expected {
    status: &'static str,
    compliance: &'static str,
    completed_at: Option<i64>,
    score: Option<f64>,
    time_spent: f64,
}

/// When the course is satisfied considering only statements after `from`: `Some(Some(t))` at `t`,
/// `Some(None)` from the start (every AU NotApplicable), `None` not.
fn satisfaction(aus: &[(usize, usize)], counted: &[&Seen], from: i64) -> Option<Option<i64>> {
    let mut latest: Option<i64> = None;
    for (i, (move_on, _)) in aus.iter().enumerate() {
        if let Some(at) = au_satisfaction(MOVE_ONS[*move_on], i, counted, from)? {
            latest = Some(latest.map_or(at, |l| l.max(at)));
        }
    }
    Some(latest)
}

/// One AU's satisfaction by its moveOn (cmi5 §13.1.4), from statements after `from`; `waived` satisfies.
fn au_satisfaction(move_on: Option<&str>, au: usize, counted: &[&Seen], from: i64) -> Option<Option<i64>> {
    let first = |v: &str| counted.iter().filter(|s| s.au == Some(au) && s.verb == v && s.at > from).map(|s| s.at).min();
    let (c, p, w) = (first("completed"), first("passed"), first("waived"));
    let by_rule = match move_on {
        None | Some("NotApplicable") => return Some(None),
        Some("Completed") => c,
        Some("Passed") => p,
        Some("CompletedAndPassed") => c.zip(p).map(|(a, b)| a.max(b)),
        _ => c.into_iter().chain(p).min(),
    };
    by_rule.into_iter().chain(w).min().map(Some)
}

fn model(case: &Case, learner_i: usize, seen: &[Seen], assigned: i64, now: i64) -> Expected {
    let terms = &case.learners[learner_i];
    // Browse and Review sessions count for nothing.
    let browse: Vec<&str> = seen
        .iter()
        .filter(|s| s.verb == "launched" && matches!(s.mode, Some("Browse") | Some("Review")))
        .map(|s| s.session.as_str())
        .collect();
    let relevant: Vec<&Seen> = seen.iter().filter(|s| !browse.contains(&s.session.as_str())).collect();
    let counted: Vec<&Seen> = relevant.iter().copied().filter(|s| s.defined && s.au.is_some()).collect();
    let mut completions = Vec::new();
    let mut from_start = false;
    let mut from = i64::MIN;
    loop {
        match satisfaction(&case.aus, &counted, from) {
            Some(Some(t)) => {
                completions.push(t);
                from = t;
            }
            Some(None) => {
                from_start = completions.is_empty();
                break;
            }
            None => break,
        }
    }
    let satisfied = from_start || !completions.is_empty();
    let mut outcomes = Vec::new();
    let mut any_failed = false;
    let mut scores = Vec::new();
    for (i, (move_on, _)) in case.aus.iter().enumerate() {
        let has = |v: &str| counted.iter().any(|s| s.au == Some(i) && s.verb == v);
        let outcome = if has("passed") {
            Some(true)
        } else if has("failed") {
            Some(false)
        } else {
            None
        };
        outcomes.extend(outcome);
        let au_satisfied = au_satisfaction(MOVE_ONS[*move_on], i, &counted, i64::MIN).is_some();
        any_failed |= !au_satisfied && outcome == Some(false);
        let latest = relevant.iter().filter(|s| s.au == Some(i) && s.scaled.is_some()).max_by_key(|s| s.at);
        scores.extend(latest.and_then(|s| s.scaled));
    }
    let passed = !outcomes.is_empty() && outcomes.iter().all(|o| *o);
    let mut status = match (satisfied, passed) {
        (true, true) => "passed",
        (true, false) => "completed",
        _ if any_failed => "failed",
        _ if !relevant.is_empty() => "in_progress",
        _ => "not_started",
    };
    let completions = if from_start { vec![assigned] } else { completions };
    let due = now + terms.due_days * DAY + DAY / 2;
    let grace = terms.grace_days * DAY;
    let (compliance, completed_at) = if terms.waived {
        if matches!(status, "not_started" | "in_progress" | "failed") {
            status = "completed";
        }
        ("waived", completions.first().copied())
    } else {
        match (terms.recurrence_months, completions.last()) {
            (_, None) => (if now <= due + grace { "pending" } else { "overdue" }, None),
            (None, _) => {
                let c = completions[0];
                (if c <= due + grace { "on_time" } else { "late" }, Some(c))
            }
            (Some(m), Some(&c)) => {
                let n = completions.len();
                let cycle_due = if n == 1 { due } else { add_months(completions[n - 2], m) };
                let expires = add_months(c, m);
                let word = if now >= expires {
                    "expired"
                } else if now >= expires - 30 * DAY {
                    "expiring"
                } else if c <= cycle_due + grace {
                    "on_time"
                } else {
                    "late"
                };
                (word, Some(c))
            }
        }
    };
    Expected {
        status,
        compliance,
        completed_at,
        score: (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64),
        time_spent: relevant.iter().map(|s| s.duration).sum::<f64>() + 0.0,
    }
}

fn verb_iri(v: &str) -> String {
    match v {
        "waived" => format!("https://w3id.org/xapi/adl/verbs/{v}"),
        _ => format!("http://adlnet.gov/expapi/verbs/{v}"),
    }
}

const MODES: [&str; 3] = ["Normal", "Browse", "Review"];

async fn check(backend: Backend, case: Case) -> Result<(), TestCaseError> {
    let Some(app) = TestApp::spawn(backend).await else { return Ok(()) };
    let now = (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64;
    let course_iri = "https://example.com/diff/course";
    let au_ids: Vec<String> = (0..case.aus.len()).map(|i| format!("{course_iri}/au{i}")).collect();
    let aus: Vec<Au<'_>> = case
        .aus
        .iter()
        .zip(&au_ids)
        .map(|((m, s), id)| Au { id, move_on: MOVE_ONS[*m], mastery: MASTERY[*s] })
        .collect();
    let course = import_cmi5(&app, course_iri, &aus).await;
    let mut assigned = Vec::new();
    for (i, t) in case.learners.iter().enumerate() {
        let mut req = json!({"course": course, "learner": learner(i), "due": rfc(now + t.due_days * DAY + DAY / 2), "grace_days": t.grace_days});
        if let Some(m) = t.recurrence_months {
            req["recurrence_months"] = json!(m);
        }
        let r = app.req(reqwest::Method::POST, "/api/assignments").json(&req).send().await.expect("send");
        prop_assert_eq!(r.status().as_u16(), 201);
        let a: Value = r.json().await.expect("json");
        assigned.push(us(a["assigned_at"].as_str().unwrap_or("")));
        if t.waived {
            let path = format!("/api/assignments/{}/waive", a["id"].as_str().unwrap_or(""));
            let r = app.req(reqwest::Method::POST, &path).json(&json!({})).send().await.expect("send");
            prop_assert_eq!(r.status().as_u16(), 200);
        }
    }
    // Send the stream one statement a request; remember what each says.
    let mut sent: Vec<(usize, Option<Seen>)> = Vec::new(); // (learner, what the model sees)
    let mut voided = std::collections::HashSet::new();
    for (k, e) in case.events.iter().enumerate() {
        let id = id_of(k);
        let body = if let Kind::Void(n) = e.kind {
            let targets: Vec<usize> = (0..k).filter(|&j| !matches!(case.events[j].kind, Kind::Void(_))).collect();
            sent.push((usize::MAX, None));
            let Some(&t) = targets.get(n % targets.len().max(1)) else { continue };
            voided.insert(t);
            json!({"id": id, "actor": {"mbox": "mailto:admin@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                   "object": {"objectType": "StatementRef", "id": id_of(t)}})
        } else {
            let (verb, mode) = match e.kind {
                Kind::Completed => ("completed", None),
                Kind::Passed => ("passed", None),
                Kind::Failed => ("failed", None),
                Kind::Waived => ("waived", None),
                Kind::Experienced => ("experienced", None),
                Kind::Launched(m) => ("launched", Some(MODES[m])),
                Kind::Void(_) => ("voided", None),
            };
            let object = au_ids.get(e.target).cloned().unwrap_or_else(|| course.clone());
            let session = format!("l{}-s{}", e.learner, e.session);
            let mut ctx = json!({"extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": session}});
            if let Some(m) = mode {
                ctx["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/launchmode"] = json!(m);
            }
            if e.defined {
                ctx["contextActivities"] = json!({"category": [{"id": CMI5_CATEGORY}]});
            }
            // Distinct times by construction (no ties for "first" or "latest"); a few in the future. Due
            // dates fall at half days, far from any statement's time and from the time of the check.
            let at = if e.future { now + 3 * DAY } else { now - e.days_ago * DAY - (k as i64 + 1) * 1_000_000 };
            let scaled = e.score.filter(|_| matches!(verb, "passed" | "failed" | "experienced")).map(|s| SCORES[s]);
            let mut result = serde_json::Map::new();
            if let Some(s) = scaled.filter(|_| !e.future) {
                result.insert("score".into(), json!({"scaled": s}));
            }
            let judged = match verb {
                "passed" => Some(("success", true)),
                "failed" => Some(("success", false)),
                "completed" => Some(("completion", true)),
                _ => None,
            };
            if let Some((k, v)) = judged {
                result.insert(k.into(), json!(v));
            }
            if let Some(d) = e.duration_s {
                result.insert("duration".into(), json!(format!("PT{d}S")));
            }
            let mut s = json!({"id": id, "actor": learner(e.learner), "verb": {"id": verb_iri(verb)},
                "object": {"id": object}, "context": ctx, "timestamp": rfc(at)});
            if !result.is_empty() {
                s["result"] = Value::Object(result);
            }
            let au = (e.target < au_ids.len()).then_some(e.target);
            let scaled = scaled.filter(|_| !e.future);
            // A pass/fail contradicting the masteryScore counts for nothing, not even its score; Cairn
            // voids it when it is cmi5 defined (§6.3).
            let conflicting = au.and_then(|a| MASTERY[case.aus[a].1]).zip(scaled).is_some_and(|(m, s)| match verb {
                "passed" => s < m,
                "failed" => s >= m,
                _ => false,
            });
            let scaled = scaled.filter(|_| !conflicting);
            let conflicting = conflicting && e.defined;
            let seen = Seen {
                verb,
                au,
                defined: e.defined,
                session: format!("l{}-s{}", e.learner, e.session),
                mode,
                scaled,
                duration: e.duration_s.map_or(0.0, f64::from),
                at,
            };
            sent.push((e.learner, (!conflicting).then_some(seen)));
            s
        };
        let (status, r) = app.post_statements(&body).await;
        prop_assert_eq!(status, 200, "{}: {}", body, r);
    }
    // Clamping: a statement's time is at most its stored time.
    for (k, (_, seen)) in sent.iter_mut().enumerate() {
        if let Some(s) = seen.as_mut().filter(|s| s.at > now) {
            let (_, got) = app.get_json(&format!("/xapi/statements?statementId={}", id_of(k))).await;
            let (_, got) = if got["stored"].is_string() {
                (200, got)
            } else {
                app.get_json(&format!("/xapi/statements?voidedStatementId={}", id_of(k))).await
            };
            s.at = us(got["stored"].as_str().unwrap_or(""));
        }
    }
    for (i, &assigned_at) in assigned.iter().enumerate() {
        let seen: Vec<Seen> = sent
            .iter()
            .enumerate()
            .filter(|(k, (l, _))| *l == i && !voided.contains(k))
            .filter_map(|(_, (_, s))| s.clone())
            .collect();
        let want = model(&case, i, &seen, assigned_at, now);
        let row = result_of(&app, &course, &learner(i)).await;
        let got = Expected {
            status: static_word(row["status"].as_str()),
            compliance: static_word(row["compliance"].as_str()),
            completed_at: row["completed_at"].as_str().map(us),
            score: row["score"].as_f64(),
            time_spent: row["time_spent_seconds"].as_f64().unwrap_or(f64::NAN),
        };
        let ms = |t: Option<i64>| t.map(|t| t.div_euclid(1000));
        let same = got.status == want.status
            && got.compliance == want.compliance
            && ms(got.completed_at) == ms(want.completed_at)
            && match (got.score, want.score) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                (a, b) => a == b,
            }
            && got.time_spent == want.time_spent
            && got.time_spent.is_sign_positive();
        prop_assert!(same, "learner l{}: Cairn {:?}, model {:?}; row {}", i, got, want, row);
    }
    Ok(())
}

/// The words the API answers with, as `'static` for comparison.
fn static_word(w: Option<&str>) -> &'static str {
    const WORDS: [&str; 12] = [
        "not_started",
        "in_progress",
        "completed",
        "passed",
        "failed",
        "pending",
        "on_time",
        "late",
        "overdue",
        "waived",
        "expiring",
        "expired",
    ];
    WORDS.iter().find(|x| Some(**x) == w).copied().unwrap_or("?")
}

fn run(backend: Backend) {
    let mut r = runner(12);
    if let Err(e) = r.run(&case(), |c| block(check(backend, c))) {
        panic!("{backend:?}: /api/results and the reference model disagree: {e}");
    }
}

#[test]
fn derivation_matches_the_reference_model_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn derivation_matches_the_reference_model_postgres() {
    run(Backend::Postgres);
}
