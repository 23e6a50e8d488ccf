//! Sequencing rules (UP.2, UP.2.1), limit conditions (UP.1), Check Activity (UP.5), exit rules
//! (TB.2.1) and post-condition rules (TB.2.2), per rule type and condition.

use super::*;

fn pre(cond: &str, action: &str) -> String {
    format!(
        r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>{cond}</imsss:ruleConditions><imsss:ruleAction action="{action}"/></imsss:preConditionRule></imsss:sequencingRules>"#
    )
}

fn post(cond: &str, action: &str) -> String {
    format!(
        r#"<imsss:sequencingRules><imsss:postConditionRule><imsss:ruleConditions>{cond}</imsss:ruleConditions><imsss:ruleAction action="{action}"/></imsss:postConditionRule></imsss:sequencingRules>"#
    )
}

fn three(b_seq: &str) -> Engine {
    engine(&format!("{}{}{}{}", leaf("a", ""), leaf("b", &seq(b_seq)), leaf("c", ""), seq(FLOW)))
}

#[test]
fn skip_always_is_skipped_by_flow_both_ways() {
    let mut e = three(&pre(r#"<imsss:ruleCondition condition="always"/>"#, "skip"));
    go(&mut e, NavRequest::Start);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("c"));
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
    // Choice ignores skip.
    assert_eq!(go(&mut e, choice("b")).as_deref(), Some("b"));
}

#[test]
fn skip_if_satisfied_reads_the_objective() {
    let mut e = three(&pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip"));
    go(&mut e, NavRequest::Start);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    report(&mut e, "b", "completed", "passed");
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
}

#[test]
fn not_operator_and_unknown_values() {
    // "not satisfied" on an unknown status is unknown: the rule does not fire.
    let mut e = three(&pre(r#"<imsss:ruleCondition condition="satisfied" operator="not"/>"#, "skip"));
    go(&mut e, NavRequest::Start);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    report(&mut e, "b", "completed", "failed");
    go(&mut e, NavRequest::Continue);
    // Now known and not satisfied: skipped.
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
}

#[test]
fn condition_combinations() {
    let any = r#"<imsss:ruleConditions conditionCombination="any"><imsss:ruleCondition condition="satisfied"/><imsss:ruleCondition condition="attempted"/></imsss:ruleConditions>"#;
    let rule = |c: &str| {
        format!(
            r#"<imsss:sequencingRules><imsss:preConditionRule>{c}<imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>"#
        )
    };
    let mut e = three(&rule(any));
    go(&mut e, NavRequest::Start);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    go(&mut e, NavRequest::Continue);
    // b is attempted now: any → skipped.
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
    let all = any.replace("\"any\"", "\"all\"");
    let mut e = three(&rule(&all));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    report(&mut e, "b", "completed", "failed");
    go(&mut e, NavRequest::Continue);
    // attempted but not satisfied: all → not skipped.
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("b"));
}

#[test]
fn measure_thresholds_and_referenced_objectives() {
    let objs = r#"<imsss:objectives><imsss:primaryObjective objectiveID="p"/><imsss:objective objectiveID="o2"/></imsss:objectives>"#;
    let gt = format!(
        "{}{objs}",
        pre(
            r#"<imsss:ruleCondition condition="objectiveMeasureGreaterThan" measureThreshold="0.5" referencedObjective="o2"/>"#,
            "skip"
        )
    );
    let mut e = three(&gt);
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    let mut r = RuntimeReport { score_scaled: Some(0.9), ..Default::default() };
    r.objectives.push(ObjectiveReport { id: "o2".into(), score_scaled: Some(0.4), ..Default::default() });
    report_with(&mut e, "b", r);
    go(&mut e, NavRequest::Continue);
    // The primary's 0.9 does not count, o2's 0.4 is not above 0.5: not skipped.
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("b"));
    let mut r = RuntimeReport::default();
    r.objectives.push(ObjectiveReport { id: "o2".into(), score_scaled: Some(0.6), ..Default::default() });
    report_with(&mut e, "b", r);
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));

    let lt = pre(r#"<imsss:ruleCondition condition="objectiveMeasureLessThan" measureThreshold="0"/>"#, "skip");
    let mut e = three(&lt);
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    report_with(&mut e, "b", RuntimeReport { score_scaled: Some(-0.2), ..Default::default() });
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
}

#[test]
fn disabled_stops_flow_and_choice() {
    let mut e = three(&pre(r#"<imsss:ruleCondition condition="always"/>"#, "disabled"));
    go(&mut e, NavRequest::Start);
    let out = outcome(&mut e, NavRequest::Continue).expect("accepted");
    assert_eq!((out.deliver, out.exception), (None, Some(Exception("SB.2.2-2"))));
    let out = outcome(&mut e, choice("b")).expect("accepted");
    assert_eq!(out.exception, Some(Exception("DB.1.1-3")));
    assert!(!e.choice_valid("b"));
    assert!(e.choice_valid("c"));
}

#[test]
fn attempt_limit_is_a_limit_condition() {
    let mut e = three(r#"<imsss:limitConditions attemptLimit="1"/>"#);
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    go(&mut e, NavRequest::Continue);
    // b has had its one attempt: flow stops there (UP.1 via UP.5).
    let out = outcome(&mut e, NavRequest::Previous).expect("accepted");
    assert_eq!(out.exception, Some(Exception("SB.2.2-2")));
    assert!(!e.choice_valid("b"));
}

#[test]
fn attempt_limit_exceeded_condition() {
    let mut e = three(&format!(
        "{}<imsss:limitConditions attemptLimit=\"1\"/>",
        pre(r#"<imsss:ruleCondition condition="attemptLimitExceeded"/>"#, "skip")
    ));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Previous).as_deref(), Some("a"));
}

#[test]
fn hidden_from_choice_hides_it_from_the_toc() {
    let mut e = three(&pre(r#"<imsss:ruleCondition condition="always"/>"#, "hiddenFromChoice"));
    let toc = e.toc();
    let b = toc.iter().find(|t| t.id == "b").expect("b");
    assert!(!b.visible && !b.enabled);
    let out = outcome(&mut e, choice("b")).expect("accepted");
    assert_eq!(out.exception, Some(Exception("SB.2.9-3")));
}

#[test]
fn post_condition_retry_until_passed() {
    let mut e = three(&post(r#"<imsss:ruleCondition condition="satisfied" operator="not"/>"#, "retry"));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    report(&mut e, "b", "completed", "failed");
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
    assert_eq!(st(&e, "b").attempt_count, 2);
    // The new attempt starts with unknown status.
    assert_eq!(st(&e, "b").satisfied, None);
    report(&mut e, "b", "completed", "passed");
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("c"));
}

#[test]
fn post_condition_continue_and_previous() {
    let mut e = three(&post(r#"<imsss:ruleCondition condition="completed"/>"#, "continue"));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    report(&mut e, "b", "completed", "unknown");
    // Exit from b (e.g. the SCO exits): the post condition continues.
    assert_eq!(go(&mut e, NavRequest::Exit).as_deref(), Some("c"));
    let mut e = three(&post(r#"<imsss:ruleCondition condition="always"/>"#, "previous"));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Exit).as_deref(), Some("a"));
}

fn nested(m_seq: &str, b_seq: &str) -> Engine {
    engine(&format!(
        "{}{}{}",
        cluster("m", &format!("{}{}{}", leaf("a", ""), leaf("b", &seq(b_seq)), seq(&format!("{FLOW}{m_seq}")))),
        leaf("c", ""),
        seq(FLOW)
    ))
}

#[test]
fn post_condition_exit_parent_and_exit_all() {
    let mut e = nested("", &post(r#"<imsss:ruleCondition condition="always"/>"#, "exitParent"));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    // b exits, then its parent m; with no request left nothing is delivered.
    let out = outcome(&mut e, NavRequest::Exit).expect("accepted");
    assert_eq!(out.deliver, None);
    assert_eq!(e.current(), Some("m"));
    assert!(!st(&e, "m").active);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("c"));

    let mut e = nested("", &post(r#"<imsss:ruleCondition condition="always"/>"#, "exitAll"));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    let out = outcome(&mut e, NavRequest::Exit).expect("accepted");
    assert!(out.end_session);
}

#[test]
fn post_condition_retry_all_restarts_the_course() {
    let mut e = nested("", &post(r#"<imsss:ruleCondition condition="always"/>"#, "retryAll"));
    go(&mut e, NavRequest::Start);
    go(&mut e, NavRequest::Continue);
    assert_eq!(go(&mut e, NavRequest::Exit).as_deref(), Some("a"));
    assert_eq!(e.course_status().attempt_count, 2);
}

#[test]
fn exit_condition_rule_on_a_cluster() {
    let exit = r#"<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule></imsss:sequencingRules>"#;
    // m is satisfied once any child is (rule), and then exits.
    let rollup = r#"<imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>"#;
    let mut e = nested(&format!("{exit}{rollup}"), "");
    go(&mut e, NavRequest::Start);
    report(&mut e, "a", "completed", "passed");
    let out = outcome(&mut e, NavRequest::Exit).expect("accepted");
    assert_eq!(out.deliver, None);
    assert_eq!(e.current(), Some("m"));
    assert!(!st(&e, "m").active);
    // Continue from m goes past the whole cluster.
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("c"));
}

#[test]
fn stop_forward_traversal_blocks_choice_beyond() {
    let stop = pre(r#"<imsss:ruleCondition condition="always"/>"#, "stopForwardTraversal");
    let mut e = engine(&format!(
        "{}{}{}",
        leaf("x", ""),
        cluster("m", &format!("{}{}{}", leaf("a", &seq(&stop)), leaf("b", ""), seq(&stop))),
        seq(FLOW)
    ));
    go(&mut e, NavRequest::Start);
    // Into m from before it (SB.2.9 step 6.5, forward).
    assert_eq!(outcome(&mut e, choice("a")).expect("accepted").exception, Some(Exception("SB.2.4-1")));
    // Past a from a (step 6.2, siblings forward); a itself may be chosen.
    let mut e = engine(&format!("{}{}", leaf("a", &seq(&stop)), leaf("b", "")));
    assert_eq!(go(&mut e, choice("a")).as_deref(), Some("a"));
    assert_eq!(outcome(&mut e, choice("b")).expect("accepted").exception, Some(Exception("SB.2.4-1")));
    // Backward is not affected.
    let mut e = engine(&format!("{}{}", leaf("a", &seq(&stop)), leaf("b", "")));
    go(&mut e, choice("b"));
    assert_eq!(go(&mut e, choice("a")).as_deref(), Some("a"));
}

#[test]
fn unknown_rule_conditions_never_fire() {
    let mut e = three(&pre(r#"<imsss:ruleCondition condition="moonIsFull"/>"#, "skip"));
    go(&mut e, NavRequest::Start);
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("b"));
}

/// `attemptAbsoluteDurationLimit`: once the learner's time in an attempt (the session times the SCO
/// reported) reaches the limit, the activity violates its limit conditions (UP.1) and cannot be
/// delivered again, by flow or by choice; under the limit it can. `timeLimitExceeded` conditions
/// read the same.
#[test]
fn attempt_duration_limit_blocks_the_activity_once_reached() {
    let timed = |spent_us: i64| {
        let mut e = engine(&format!(
            "{}{}{}",
            leaf("test", &seq(r#"<imsss:limitConditions attemptAbsoluteDurationLimit="PT10M"/>"#)),
            leaf("after", ""),
            seq(r#"<imsss:controlMode choice="true" flow="true"/>"#)
        ));
        assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("test"));
        report_with(&mut e, "test", RuntimeReport { session_time_us: Some(spent_us), ..Default::default() });
        assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("after"));
        e
    };
    let over = timed(11 * 60 * 1_000_000);
    assert!(!over.request_valid(&NavRequest::Previous), "the test's time is used up");
    assert!(!over.choice_valid("test"));
    let under = timed(5 * 60 * 1_000_000);
    assert!(under.request_valid(&NavRequest::Previous));
    assert!(under.choice_valid("test"));

    // A post-condition on timeLimitExceeded reads the same limit: over it, leaving the test ends
    // the course (exit all); under it, flow goes on.
    let post = |spent_us: i64| {
        let mut e = engine(&format!(
            "{}{}{}",
            leaf(
                "test",
                &seq(
                    r#"<imsss:sequencingRules><imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="timeLimitExceeded"/></imsss:ruleConditions><imsss:ruleAction action="exitAll"/></imsss:postConditionRule></imsss:sequencingRules><imsss:limitConditions attemptAbsoluteDurationLimit="PT1M"/>"#
                )
            ),
            leaf("after", ""),
            seq(FLOW)
        ));
        assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("test"));
        report_with(&mut e, "test", RuntimeReport { session_time_us: Some(spent_us), ..Default::default() });
        go(&mut e, NavRequest::Continue)
    };
    assert_eq!(post(61_000_000), None, "over the limit: exit all");
    assert_eq!(post(30_000_000).as_deref(), Some("after"));
}
