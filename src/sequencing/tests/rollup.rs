//! Rollup: RB.1.1a/b, RB.1.2a/b/c, RB.1.3a/b, RB.1.4 (child activity sets), RB.1.4.2
//! (rollupObjectiveSatisfied, rollupProgressCompletion, rollup considerations), RB.1.5.

use super::*;

fn rule(set: &str, extra: &str, cond: &str, action: &str) -> String {
    format!(
        r#"<imsss:rollupRule childActivitySet="{set}" {extra}><imsss:rollupConditions><imsss:rollupCondition condition="{cond}"/></imsss:rollupConditions><imsss:rollupAction action="{action}"/></imsss:rollupRule>"#
    )
}

/// A course of three leaves (with their own sequencing) under the root, with the root's rollup.
fn course(root_rollup: &str, leaf_seq: [&str; 3]) -> Engine {
    engine(&format!(
        "{}{}{}{}",
        leaf("a", &seq(leaf_seq[0])),
        leaf("b", &seq(leaf_seq[1])),
        leaf("c", &seq(leaf_seq[2])),
        seq(&format!("{FLOW}{root_rollup}"))
    ))
}

fn visit(e: &mut Engine, id: &str, completion: &str, success: &str) {
    go(e, choice(id));
    report(e, id, completion, success);
}

#[test]
fn default_rules_need_every_child() {
    let mut e = course("", ["", "", ""]);
    visit(&mut e, "a", "completed", "passed");
    visit(&mut e, "b", "completed", "passed");
    assert_eq!(e.course_status().satisfied, None);
    assert_eq!(e.course_status().completed, None);
    visit(&mut e, "c", "incomplete", "failed");
    // All known, not all satisfied: not satisfied; incomplete likewise.
    assert_eq!(e.course_status().satisfied, Some(false));
    assert_eq!(e.course_status().completed, Some(false));
    report(&mut e, "c", "completed", "passed");
    assert_eq!(e.course_status().satisfied, Some(true));
    assert_eq!(e.course_status().completed, Some(true));
}

#[test]
fn any_none_at_least_count_and_percent() {
    let any = format!("<imsss:rollupRules>{}</imsss:rollupRules>", rule("any", "", "satisfied", "satisfied"));
    let mut e = course(&any, ["", "", ""]);
    visit(&mut e, "b", "completed", "passed");
    assert_eq!(e.course_status().satisfied, Some(true));

    let none = format!("<imsss:rollupRules>{}</imsss:rollupRules>", rule("none", "", "satisfied", "notSatisfied"));
    let mut e = course(&none, ["", "", ""]);
    visit(&mut e, "a", "completed", "failed");
    visit(&mut e, "b", "completed", "failed");
    // c unknown: "none satisfied" cannot be asserted yet.
    assert_eq!(e.course_status().satisfied, None);
    visit(&mut e, "c", "completed", "failed");
    assert_eq!(e.course_status().satisfied, Some(false));

    let count = format!(
        "<imsss:rollupRules>{}</imsss:rollupRules>",
        rule("atLeastCount", r#"minimumCount="2""#, "completed", "completed")
    );
    let mut e = course(&count, ["", "", ""]);
    visit(&mut e, "a", "completed", "unknown");
    assert_eq!(e.course_status().completed, None);
    visit(&mut e, "c", "completed", "unknown");
    assert_eq!(e.course_status().completed, Some(true));

    let pct = format!(
        "<imsss:rollupRules>{}</imsss:rollupRules>",
        rule("atLeastPercent", r#"minimumPercent="0.6""#, "satisfied", "satisfied")
    );
    let mut e = course(&pct, ["", "", ""]);
    visit(&mut e, "a", "completed", "passed");
    assert_eq!(e.course_status().satisfied, None);
    visit(&mut e, "b", "completed", "passed");
    assert_eq!(e.course_status().satisfied, Some(true));
}

#[test]
fn children_that_do_not_contribute_are_left_out() {
    let out = r#"<imsss:rollupRules rollupObjectiveSatisfied="false" rollupProgressCompletion="false"/>"#;
    let mut e = course("", ["", "", out]);
    visit(&mut e, "a", "completed", "passed");
    visit(&mut e, "b", "completed", "passed");
    assert_eq!(e.course_status().satisfied, Some(true));
    assert_eq!(e.course_status().completed, Some(true));
}

#[test]
fn untracked_children_are_left_out() {
    let untracked = r#"<imsss:deliveryControls tracked="false"/>"#;
    let mut e = course("", [untracked, "", ""]);
    visit(&mut e, "a", "completed", "failed");
    assert_eq!(st(&e, "a").satisfied, None);
    visit(&mut e, "b", "completed", "passed");
    visit(&mut e, "c", "completed", "passed");
    assert_eq!(e.course_status().satisfied, Some(true));
}

#[test]
fn rollup_considerations_if_attempted() {
    let cons = r#"<adlseq:rollupConsiderations requiredForSatisfied="ifAttempted" requiredForNotSatisfied="ifAttempted" requiredForCompleted="ifAttempted" requiredForIncomplete="ifAttempted"/>"#;
    let mut e = course("", ["", "", cons]);
    visit(&mut e, "a", "completed", "passed");
    visit(&mut e, "b", "completed", "passed");
    // c never attempted: it does not count.
    assert_eq!(e.course_status().satisfied, Some(true));
    assert_eq!(e.course_status().completed, Some(true));
}

#[test]
fn rollup_considerations_if_not_skipped() {
    let cons = r#"<adlseq:rollupConsiderations requiredForSatisfied="ifNotSkipped" requiredForCompleted="ifNotSkipped"/><imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>"#;
    let mut e = course("", ["", "", cons]);
    visit(&mut e, "a", "completed", "passed");
    visit(&mut e, "b", "completed", "passed");
    assert_eq!(e.course_status().satisfied, Some(true));
}

#[test]
fn measure_rollup_is_a_weighted_average_and_can_satisfy() {
    let root = r#"<imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>"#;
    let heavy = r#"<imsss:rollupRules objectiveMeasureWeight="0.5"/>"#;
    let mut e = course(root, ["", heavy, ""]);
    go(&mut e, choice("a"));
    report_with(&mut e, "a", RuntimeReport { score_scaled: Some(1.0), ..Default::default() });
    go(&mut e, choice("b"));
    report_with(&mut e, "b", RuntimeReport { score_scaled: Some(0.0), ..Default::default() });
    // (1.0 * 1 + 0.0 * 0.5) / (1 + 0.5 + 1): c counts in the weights though unknown.
    let m = e.course_status().measure.expect("measure");
    assert!((m - 0.4).abs() < 1e-9, "{m}");
    // The root is active: measureSatisfactionIfActive (default true) lets it decide now.
    assert_eq!(e.course_status().satisfied, Some(false));
    go(&mut e, choice("c"));
    report_with(&mut e, "c", RuntimeReport { score_scaled: Some(1.0), ..Default::default() });
    assert_eq!(e.course_status().satisfied, Some(true));
}

#[test]
fn satisfied_by_measure_on_a_leaf() {
    let leaf_obj = r#"<imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>"#;
    let mut e = course("", [leaf_obj, "", ""]);
    go(&mut e, choice("a"));
    // The measure wins over what the content said about success.
    report_with(
        &mut e,
        "a",
        RuntimeReport { score_scaled: Some(0.7), success_status: Some("passed".into()), ..Default::default() },
    );
    assert_eq!(st(&e, "a").satisfied, Some(false));
}

#[test]
fn completion_measure_rollup_and_completed_by_measure() {
    // CT-01 style: a cluster completed when its children's weighted progress reaches 0.45.
    let mut e = engine(&format!(
        "{}{}",
        cluster(
            "m",
            &format!(
                "{}{}{}{}<adlcp:completionThreshold completedByMeasure=\"true\" minProgressMeasure=\"0.45\"/>",
                leaf("a", ""),
                leaf("b", r#"<adlcp:completionThreshold progressWeight="0.5"/>"#),
                leaf("c", ""),
                seq(FLOW)
            )
        ),
        seq(FLOW)
    ));
    go(&mut e, NavRequest::Start);
    report_with(&mut e, "a", RuntimeReport { progress_measure: Some(0.5), ..Default::default() });
    // 0.5 * 1 / 2.5 = 0.2
    assert_eq!(st(&e, "m").completed, Some(false));
    go(&mut e, NavRequest::Continue);
    report_with(&mut e, "b", RuntimeReport { progress_measure: Some(1.0), ..Default::default() });
    go(&mut e, NavRequest::Continue);
    report_with(&mut e, "c", RuntimeReport { progress_measure: Some(0.5), ..Default::default() });
    // (0.5 + 0.5 + 0.5) / 2.5 = 0.6
    let pm = st(&e, "m").progress_measure.expect("progress");
    assert!((pm - 0.6).abs() < 1e-9);
    assert_eq!(st(&e, "m").completed, Some(true));
}

#[test]
fn completion_threshold_on_a_leaf_decides_completion() {
    let mut e = engine(&format!(
        "{}{}",
        leaf("a", r#"<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.8"/>"#),
        seq(FLOW)
    ));
    go(&mut e, NavRequest::Start);
    report_with(
        &mut e,
        "a",
        RuntimeReport {
            completion_status: Some("completed".into()),
            progress_measure: Some(0.5),
            ..Default::default()
        },
    );
    assert_eq!(st(&e, "a").completed, Some(false));
    report_with(&mut e, "a", RuntimeReport { progress_measure: Some(0.9), ..Default::default() });
    assert_eq!(st(&e, "a").completed, Some(true));
}

#[test]
fn rollup_conditions_with_not_and_all_combination() {
    let rules = r#"<imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions conditionCombination="all"><imsss:rollupCondition condition="attempted"/><imsss:rollupCondition operator="not" condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>"#;
    let mut e = course(rules, ["", "", ""]);
    visit(&mut e, "a", "completed", "passed");
    assert_eq!(e.course_status().satisfied, None);
    visit(&mut e, "b", "completed", "failed");
    assert_eq!(e.course_status().satisfied, Some(false));
}
