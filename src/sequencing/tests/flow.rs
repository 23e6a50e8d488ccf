//! Flow navigation: NB.2.1, TB.2.3, SB.2.5–SB.2.8, SB.2.11, SB.2.1–SB.2.3, UP.4, DB.2.

use super::*;

fn course() -> Engine {
    engine(&format!(
        "{}{}{}",
        leaf("a", ""),
        cluster("m", &format!("{}{}{}", leaf("b", ""), leaf("c", ""), seq(FLOW))),
        seq(FLOW)
    ))
}

#[test]
fn start_continue_to_the_end_of_the_course() {
    let mut e = course();
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("a"));
    assert_eq!(e.current(), Some("a"));
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("c"));
    // Past the last activity: the session ends (SB.2.1-1) and every attempt is closed.
    let out = outcome(&mut e, NavRequest::Continue).expect("accepted");
    assert_eq!(out.deliver, None);
    assert!(out.end_session);
    assert_eq!(out.exception, Some(Exception("SB.2.1-1")));
    assert!(e.session_ended());
    assert_eq!(e.current(), None);
    // UP.4 defaults: content that reported nothing is completed and satisfied; rolled up.
    let root = e.course_status();
    assert_eq!((root.completed, root.satisfied), (Some(true), Some(true)));
    assert!(!st(&e, "m").active);
}

#[test]
fn previous_walks_back_and_stops_at_the_first_activity() {
    let mut e = course();
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("b"));
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
    let out = outcome(&mut e, NavRequest::Previous).expect("accepted");
    assert_eq!((out.deliver, out.exception), (None, Some(Exception("SB.2.1-3"))));
    assert!(!out.end_session);
    // The current activity's attempt ended; a new one starts on a second visit.
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    assert_eq!(st(&e, "b").attempt_count, 3);
}

#[test]
fn navigation_request_exceptions() {
    let mut e = course();
    assert_eq!(outcome(&mut e, NavRequest::Continue), Err(Exception("NB.2.1-2")));
    assert_eq!(outcome(&mut e, NavRequest::Previous), Err(Exception("NB.2.1-2")));
    assert_eq!(outcome(&mut e, NavRequest::ResumeAll), Err(Exception("NB.2.1-3")));
    assert_eq!(outcome(&mut e, NavRequest::Exit), Err(Exception("NB.2.1-2")));
    assert_eq!(outcome(&mut e, NavRequest::Forward), Err(Exception("NB.2.1-7")));
    go(&mut e, NavRequest::Start);
    assert_eq!(outcome(&mut e, NavRequest::Start), Err(Exception("NB.2.1-1")));
    assert_eq!(outcome(&mut e, choice("nope")), Err(Exception("NB.2.1-11")));
}

#[test]
fn without_flow_nothing_starts_and_continue_is_refused() {
    // CAM default: flow false.
    let mut e = engine(&format!("{}{}", leaf("a", ""), leaf("b", "")));
    let out = outcome(&mut e, NavRequest::Start).expect("accepted");
    assert_eq!((out.deliver, out.exception), (None, Some(Exception("SB.2.2-1"))));
    assert_eq!(go(&mut e, choice("b")).as_deref(), Some("b"));
    assert_eq!(outcome(&mut e, NavRequest::Continue), Err(Exception("NB.2.1-4")));
    assert_eq!(outcome(&mut e, NavRequest::Previous), Err(Exception("NB.2.1-5")));
}

#[test]
fn forward_only_refuses_previous() {
    let mut e = engine(&format!(
        "{}{}{}",
        leaf("a", ""),
        leaf("b", ""),
        seq(r#"<imsss:controlMode flow="true" forwardOnly="true"/>"#)
    ));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    assert_eq!(outcome(&mut e, NavRequest::Previous), Err(Exception("NB.2.1-5")));
}

#[test]
fn backward_into_a_forward_only_cluster_enters_at_its_first_child() {
    let mut e = engine(&format!(
        "{}{}{}",
        cluster(
            "m",
            &format!(
                "{}{}{}",
                leaf("a", ""),
                leaf("b", ""),
                seq(r#"<imsss:controlMode flow="true" forwardOnly="true"/>"#)
            )
        ),
        leaf("c", ""),
        seq(FLOW)
    ));
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("a"));
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("c"));
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
}

#[test]
fn suspend_all_then_resume_all_on_another_node() {
    let mut e = course();
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    report_with(
        &mut e,
        "b",
        RuntimeReport {
            completion_status: Some("incomplete".into()),
            exit: Some("suspend".into()),
            ..Default::default()
        },
    );
    let out = outcome(&mut e, NavRequest::SuspendAll).expect("accepted");
    assert!(out.end_session);
    assert_eq!(e.suspended_activity(), Some("b"));
    assert!(st(&e, "b").suspended && st(&e, "m").suspended);
    let e = roundtrip(&e);
    assert!(e.valid_requests().resume_all);
    let mut e2 = e.clone();
    assert_eq!(go(&mut e2, NavRequest::ResumeAll).as_deref(), Some("b"));
    // Resuming continues the same attempts.
    assert_eq!(st(&e2, "b").attempt_count, 1);
    assert_eq!(st(&e2, "b").completed, Some(false));
    assert!(!st(&e2, "b").suspended && !st(&e2, "m").suspended);
    assert_eq!(e2.suspended_activity(), None);
}

#[test]
fn exit_all_ends_the_session_and_a_new_start_is_a_new_attempt() {
    let mut e = course();
    go(&mut e, NavRequest::Start);
    let out = outcome(&mut e, NavRequest::ExitAll).expect("accepted");
    assert!(out.end_session);
    assert!(!e.course_status().active);
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("a"));
    assert_eq!(e.course_status().attempt_count, 2);
    assert_eq!(st(&e, "a").attempt_count, 2);
}

#[test]
fn exit_ends_the_attempt_without_delivering() {
    let mut e = course();
    go(&mut e, NavRequest::Start);
    let out = outcome(&mut e, NavRequest::Exit).expect("accepted");
    assert_eq!(out, Outcome::default());
    assert!(!st(&e, "a").active);
    assert_eq!(outcome(&mut e, NavRequest::Exit), Err(Exception("NB.2.1-12")));
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
}

#[test]
fn abandon_leaves_the_status_as_it_was() {
    let mut e = course();
    go(&mut e, NavRequest::Start);
    outcome(&mut e, NavRequest::Abandon).expect("accepted");
    // No End Attempt: no default completion.
    assert_eq!(st(&e, "a").completed, None);
    let out = outcome(&mut e, NavRequest::AbandonAll).expect("accepted");
    assert!(out.end_session);
}

#[test]
fn adl_nav_request_values_parse() {
    assert_eq!(NavRequest::parse_adl("continue"), Ok(Some(NavRequest::Continue)));
    assert_eq!(NavRequest::parse_adl("_none_"), Ok(None));
    assert_eq!(NavRequest::parse_adl("{target=x}choice"), Ok(Some(choice("x"))));
    assert_eq!(NavRequest::parse_adl("{target=x}jump"), Ok(Some(NavRequest::Jump("x".into()))));
    assert!(NavRequest::parse_adl("{target=x}fly").is_err());
    assert!(NavRequest::parse_adl("sideways").is_err());
}

#[test]
fn jump_delivers_the_target_without_flow_or_choice_rules() {
    let mut e = engine(&format!(
        "{}{}{}",
        leaf("a", ""),
        leaf("b", ""),
        seq(r#"<imsss:controlMode flow="true" choice="false"/>"#)
    ));
    go(&mut e, NavRequest::Start);
    assert_eq!(outcome(&mut e, choice("b")), Err(Exception("NB.2.1-10")));
    assert_eq!(go(&mut e, NavRequest::Jump("b".into())).as_deref(), Some("b"));
    assert!(e.jump_valid("a"));
}

#[test]
fn valid_requests_follow_the_state() {
    let mut e = course();
    let v = e.valid_requests();
    assert!(v.start && !v.continue_ && !v.previous && !v.resume_all && !v.exit);
    go(&mut e, NavRequest::Start);
    let v = e.valid_requests();
    assert!(!v.start && v.continue_ && !v.previous && v.exit && v.suspend_all && v.exit_all);
    go(&mut e, NavRequest::Continue);
    go(&mut e, NavRequest::Continue);
    let v = e.valid_requests();
    // Continue at the last activity ends the course: offered.
    assert!(v.continue_ && v.previous);
    // Asking changed nothing.
    assert_eq!(e.current(), Some("c"));
    assert!(st(&e, "c").active);
}

#[test]
fn time_out_and_logout_imply_exit_all() {
    let r = |x: &str| RuntimeReport { exit: Some(x.into()), ..Default::default() };
    assert_eq!(r("time-out").implied_request(), Some(NavRequest::ExitAll));
    assert_eq!(r("logout").implied_request(), Some(NavRequest::ExitAll));
    assert_eq!(r("suspend").implied_request(), None);
}

#[test]
fn hostile_sizes_are_bounded() {
    use crate::package::model::{Block, CompletionRules, Course, Format, Node, Scorm2004Edition};
    use crate::package::scorm::blank_module;
    fn course(root: Vec<Node>) -> Course {
        Course {
            id: None,
            package_identifier: None,
            title: "t".into(),
            title_langs: vec![],
            description: None,
            description_langs: vec![],
            format: Format::Scorm2004 { edition: Scorm2004Edition::Fourth },
            schema_version: None,
            organization_id: Some("org".into()),
            root,
            other_organizations: vec![],
            objectives: vec![],
            metadata_files: vec![],
            warnings: vec![],
            organization_rules: None,
            objectives_global_to_system: None,
        }
    }
    let many: Vec<Node> =
        (0..tree::MAX_ACTIVITIES).map(|i| Node::Module(blank_module(&format!("m{i}"), "m"))).collect();
    assert_eq!(TreeDef::from_course(&course(many)), Err(TreeError::TooManyActivities));
    let mut node = Node::Module(blank_module("leaf", "leaf"));
    for i in 0..tree::MAX_DEPTH + 1 {
        node = Node::Block(Block {
            id: format!("b{i}"),
            title: "b".into(),
            title_langs: vec![],
            description: None,
            description_langs: vec![],
            visible: true,
            rules: CompletionRules::default(),
            children: vec![node],
        });
    }
    assert_eq!(TreeDef::from_course(&course(vec![node])), Err(TreeError::TooDeep));
    assert_eq!(TreeDef::from_course(&course(vec![])), Err(TreeError::Empty));
}

#[test]
fn a_long_run_of_skipped_activities_does_not_exhaust_the_stack() {
    let skip = seq(
        r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>"#,
    );
    let mut org: String = (0..3000).map(|i| leaf(&format!("s{i}"), &skip)).collect();
    org.push_str(&leaf("last", ""));
    org.push_str(&seq(FLOW));
    let mut e = engine(&org);
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("last"));
}

#[test]
fn a_forged_state_cannot_point_outside_the_tree() {
    let mut e = course();
    go(&mut e, NavRequest::Start);
    let mut saved = e.state();
    saved.current = Some("nowhere".into());
    saved.suspended = Some("m".into());
    if let Some(m) = saved.activities.get_mut("m") {
        m.available_ids = vec!["c".into(), "c".into(), "a".into(), "zzz".into()];
    }
    let json = serde_json::to_string(&saved).expect("json");
    let mut e = Engine::restore(e.def().clone(), serde_json::from_str(&json).expect("parse"));
    assert_eq!(e.current(), None);
    let toc: Vec<String> = e.toc().into_iter().map(|t| t.id).collect();
    assert_eq!(toc, ["org", "a", "m", "c"]);
    // Unknown fields of a stored activity default.
    let partial: SavedState = serde_json::from_str(
        r#"{"version":1,"current":null,"suspended":null,"activities":{"a":{"available_ids":[],"attempt_count":2}},"rng":1}"#,
    )
    .expect("partial state");
    let e2 = Engine::restore(e.def().clone(), partial);
    assert_eq!(st(&e2, "a").attempt_count, 2);
    assert_eq!(go(&mut e, NavRequest::ResumeAll), None);
}

#[test]
fn toc_of_a_large_course_stays_cheap() {
    let mut org: String = (0..299).map(|i| leaf(&format!("s{i}"), "")).collect();
    org.push_str(&seq(FLOW));
    let mut e = engine(&org);
    go(&mut e, NavRequest::Start);
    let t = std::time::Instant::now();
    let v = e.valid_requests();
    eprintln!("valid_requests on 300 activities: {:?}", t.elapsed());
    assert_eq!(v.choice.len(), 300);
    assert!(v.choice.values().skip(1).all(|&ok| ok));
}
