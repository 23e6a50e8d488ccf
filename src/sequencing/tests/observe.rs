//! Replaying statements ([`Engine::observe`]): what each kind of session event does to the tree,
//! including the events the player would not have produced (a report without a session start, a
//! SCO launched alone while another's session is open).

use super::*;

fn set(completion: &str, success: &str) -> Observed {
    Observed::Set(RuntimeReport {
        completion_status: Some(completion.into()),
        success_status: Some(success.into()),
        ..Default::default()
    })
}

const END: Observed = Observed::Ended { suspended: false, session_time_us: None };

fn two() -> Engine {
    engine(&format!("{}{}{}", leaf("a", ""), leaf("b", ""), seq(FLOW)))
}

#[test]
fn a_session_reports_and_ends_as_in_the_player() {
    let mut e = two();
    e.observe("a", &Observed::Began, NOW);
    assert_eq!(e.current(), Some("a"));
    e.observe("a", &set("completed", "failed"), NOW + 1);
    e.observe("a", &END, NOW + 2);
    let a = st(&e, "a");
    assert_eq!((a.completed, a.satisfied, a.attempt_count, a.active), (Some(true), Some(false), 1, false));
    // The same as the player: deliver, report, then the next request ends the attempt.
    let mut p = two();
    go(&mut p, NavRequest::Start);
    report(&mut p, "a", "completed", "failed");
    go(&mut p, NavRequest::Continue);
    assert_eq!((st(&p, "a").completed, st(&p, "a").satisfied), (a.completed, a.satisfied));
}

#[test]
fn a_report_without_a_session_start_continues_the_attempt() {
    let mut e = two();
    e.observe(
        "a",
        &Observed::Set(RuntimeReport { completion_status: Some("completed".into()), ..Default::default() }),
        NOW,
    );
    e.observe(
        "a",
        &Observed::Set(RuntimeReport { success_status: Some("passed".into()), ..Default::default() }),
        NOW + 1,
    );
    let a = st(&e, "a");
    assert_eq!((a.completed, a.satisfied, a.attempt_count), (Some(true), Some(true), 1), "what it set is kept");
}

#[test]
fn a_new_session_elsewhere_abandons_an_open_one_without_ending_its_attempt() {
    let mut e = two();
    e.observe("a", &Observed::Began, NOW);
    e.observe("b", &Observed::Began, NOW + 1);
    assert_eq!(e.current(), Some("b"));
    let a = st(&e, "a");
    assert_eq!((a.active, a.completed, a.satisfied), (false, None, None), "no End Attempt defaults");
}

#[test]
fn a_new_attempt_forgets_the_last_and_a_suspended_one_resumes() {
    let mut e = two();
    e.observe("a", &Observed::Began, NOW);
    e.observe("a", &set("completed", "passed"), NOW + 1);
    e.observe("a", &END, NOW + 2);
    e.observe("a", &Observed::Began, NOW + 3);
    let a = st(&e, "a");
    assert_eq!((a.completed, a.satisfied, a.attempt_count), (None, None, 2));

    let mut e = two();
    e.observe("b", &Observed::Began, NOW);
    e.observe("b", &set("incomplete", "passed"), NOW + 1);
    e.observe("b", &Observed::Ended { suspended: true, session_time_us: Some(5_000_000) }, NOW + 2);
    assert!(st(&e, "b").suspended);
    e.observe("b", &Observed::Resumed, NOW + 3);
    let b = st(&e, "b");
    assert_eq!((b.completed, b.satisfied, b.attempt_count, b.suspended), (Some(false), Some(true), 1, false));
    // A silent end now: what the SCO set stands (no defaults over it).
    e.observe("b", &END, NOW + 4);
    assert_eq!(st(&e, "b").completed, Some(false));
}

#[test]
fn statements_about_unknown_activities_and_clusters_change_nothing() {
    let mut e = engine(&format!("{}{}", cluster("m", &format!("{}{}", leaf("a", ""), seq(FLOW))), seq(FLOW)));
    let before = e.state();
    e.observe("nope", &Observed::Began, NOW);
    e.observe("m", &set("completed", "passed"), NOW);
    assert_eq!(serde_json::to_value(e.state()).unwrap(), serde_json::to_value(before).unwrap());
}
