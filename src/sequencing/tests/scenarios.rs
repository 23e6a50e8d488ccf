//! Course-level scenarios replaying sequencing test cases of ADL's SCORM 2004 4th Edition
//! conformance suite (`adlnet/SCORM-2004-4ed-Test-Suite`, LMSRTE test packages). The manifests
//! are re-created here from each package's activity structure and sequencing (not copied), and
//! each step plays what the test SCO does: it checks the activity delivered, sets the run-time
//! values the test case sets, and ends with the navigation request it issues (the SCO's
//! `adl.nav.request` or the tester's click). `Exit` at the end is the tester leaving the course.

use super::*;

/// `cmi.*` values a test SCO sets, by the suite's short names: CS completion_status,
/// SS success_status, PM progress_measure, SCA score.scaled.
pub(super) fn rt(values: &[(&str, &str)]) -> RuntimeReport {
    let mut r = RuntimeReport { exit: Some("normal".into()), ..Default::default() };
    for (k, v) in values {
        match *k {
            "CS" => r.completion_status = Some((*v).to_owned()),
            "SS" => r.success_status = Some((*v).to_owned()),
            "PM" => r.progress_measure = v.parse().ok(),
            "SCA" => r.score_scaled = v.parse().ok(),
            other => panic!("unknown element {other}"),
        }
    }
    r
}

/// One visit: the expected delivered activity, what the SCO sets, then its navigation request.
pub(super) fn visit(e: &mut Engine, expect: &str, r: RuntimeReport, then: NavRequest) -> Outcome {
    assert_eq!(e.current(), Some(expect), "delivered activity");
    assert!(st(e, expect).active);
    e.report_runtime(expect, &r).expect("report");
    e.navigate(then, NOW).expect("navigation accepted")
}

/// Plays a run of visits that each end with a request delivering the next one.
pub(super) fn play(e: &mut Engine, steps: &[(&str, RuntimeReport, NavRequest)]) {
    for (i, (expect, r, then)) in steps.iter().enumerate() {
        let out = visit(e, expect, r.clone(), then.clone());
        if i + 1 < steps.len() {
            assert!(out.deliver.is_some(), "step {i} ({expect}) delivered nothing: {out:?}");
        }
    }
}

pub(super) fn start(org: &str) -> Engine {
    let mut e = engine(org);
    assert!(go(&mut e, NavRequest::Start).is_some());
    e
}

pub(super) const CHOICE_FALSE_FLOW: &str = r#"<imsss:controlMode choice="false" flow="true"/>"#;

pub(super) fn rules(exit: &str, post: &str) -> String {
    format!(
        r#"<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="{exit}"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule><imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="{post}"/></imsss:ruleConditions><imsss:ruleAction action="previous"/></imsss:postConditionRule></imsss:sequencingRules>"#
    )
}

/// activity_1, activity_2 { activity_3, activity_4, activity_5 }, activity_6 — the shape of most
/// SX and RU packages.
pub(super) fn six(leaf3: &str, leaf5: &str, cluster_seq: &str) -> String {
    format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        cluster(
            "activity_2",
            &format!(
                "{}{}{}{}",
                leaf("activity_3", leaf3),
                leaf("activity_4", ""),
                leaf("activity_5", leaf5),
                cluster_seq
            )
        ),
        leaf("activity_6", ""),
        seq(CHOICE_FALSE_FLOW)
    )
}

/// SX-02: exit rule and post-condition "previous" on a cluster satisfied when all its children
/// are completed; children completed by measure (completion thresholds 0.5 and 0.75).
#[test]
fn sx_02_exit_and_previous_rules_with_completion_thresholds() {
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}{}<imsss:rollupRules><imsss:rollupRule childActivitySet="all"><imsss:rollupConditions><imsss:rollupCondition condition="completed"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>"#,
        rules("satisfied", "satisfied")
    ));
    let mut e = start(&six(
        r#"<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.5"/>"#,
        r#"<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75"/>"#,
        &cluster_seq,
    ));
    // adl.nav.request_valid checks of Act1V1 and Act3V1.
    assert!(e.request_valid(&NavRequest::Continue));
    assert!(!e.request_valid(&NavRequest::Previous));
    assert!(!e.choice_valid("activity_3"));
    visit(&mut e, "activity_1", rt(&[]), NavRequest::Continue);
    assert!(e.request_valid(&NavRequest::Continue));
    assert!(e.request_valid(&NavRequest::Previous));
    assert!(!e.choice_valid("activity_5"));
    play(
        &mut e,
        &[
            ("activity_3", rt(&[("CS", "incomplete"), ("PM", "0.5")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("PM", "0.9")]), NavRequest::Continue),
        ],
    );
    // All three completed: activity_2 satisfied, exits, and its post-condition goes back.
    assert_eq!(st(&e, "activity_3").completed, Some(true));
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
    assert_eq!(st(&e, "activity_1").attempt_count, 2);
    let out = visit(&mut e, "activity_1", rt(&[]), NavRequest::ExitAll);
    assert!(out.end_session);
}

/// SX-03: non-primary objectives of activity_1 write global objectives; activity_3's primary
/// objective (satisfied by measure, 0.6) reads one of them; exit and post-condition rules on
/// "completed", the cluster completed when all children are satisfied.
#[test]
fn sx_03_objectives_written_by_one_sco_satisfy_another_by_measure() {
    let map = |o: &str, g: &str| {
        format!(
            r#"<imsss:objective objectiveID="{o}"><imsss:mapInfo targetObjectiveID="{g}" readSatisfiedStatus="false" readNormalizedMeasure="false" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/></imsss:objective>"#
        )
    };
    let a1 = seq(&format!(
        r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition operator="not" condition="always"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules><imsss:objectives><imsss:primaryObjective/>{}{}{}</imsss:objectives>"#,
        map("obj1", "gObj-SX03-1"),
        map("obj2", "gObj-SX03-2"),
        map("obj3", "gObj-SX03-3")
    ));
    let a3 = seq(
        r#"<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="gObj-SX03-1"/></imsss:primaryObjective></imsss:objectives>"#,
    );
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}{}<imsss:rollupRules><imsss:rollupRule childActivitySet="all"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="completed"/></imsss:rollupRule></imsss:rollupRules>"#,
        rules("completed", "completed")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", &a1),
        cluster(
            "activity_2",
            &format!("{}{}{}{cluster_seq}", leaf("activity_3", &a3), leaf("activity_4", ""), leaf("activity_5", ""))
        ),
        leaf("activity_6", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let mut r1 = rt(&[]);
    for (id, score, ss) in [("obj1", Some(0.75), "failed"), ("obj2", Some(0.90), "passed"), ("obj3", None, "failed")] {
        r1.objectives.push(ObjectiveReport {
            id: id.into(),
            score_scaled: score,
            success_status: Some(ss.into()),
            ..Default::default()
        });
    }
    play(
        &mut e,
        &[
            ("activity_1", r1, NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Continue),
            ("activity_4", rt(&[]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "passed")]), NavRequest::Continue),
        ],
    );
    // activity_3 is satisfied by the global's measure 0.75 (>= 0.6), whatever obj1's status.
    assert_eq!(st(&e, "activity_3").satisfied, Some(true));
    assert_eq!(st(&e, "activity_3").measure, Some(0.75));
    assert_eq!(st(&e, "activity_2").completed, Some(true));
    let g = e.state().globals;
    assert_eq!(g.get("gObj-SX03-2").and_then(|g| g.satisfied), Some(true));
    assert_eq!(g.get("gObj-SX03-3").and_then(|g| g.measure), None);
    let out = visit(&mut e, "activity_1", rt(&[]), NavRequest::ExitAll);
    assert!(out.end_session);
}

/// RU-01aa: default rollup of a cluster with exit/post rules on "satisfied" that stay silent
/// because one child failed.
#[test]
fn ru_01aa_default_objective_rollup() {
    let mut e = start(&six("", "", &seq(&format!("{CHOICE_FALSE_FLOW}{}", rules("satisfied", "satisfied")))));
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(false));
    assert_eq!(e.course_status().satisfied, Some(false));
    assert_eq!(e.course_status().completed, Some(true));
}

/// RU-03a: the cluster's control mode and rollup rule come from a sequencingCollection entry
/// (IDRef), its rules from the item: completed when at least one child is attempted and not
/// completed (sic), then exit and previous.
#[test]
fn ru_03a_at_least_count_rollup_from_a_sequencing_collection() {
    let org = six("", "", r#"<imsss:sequencing IDRef="seqCol-RU03a-1">RULES</imsss:sequencing>"#)
        .replace("RULES", &rules("completed", "completed"));
    let collection = r#"<imsss:sequencingCollection><imsss:sequencing ID="seqCol-RU03a-1"><imsss:controlMode choice="false" flow="true"/><imsss:rollupRules><imsss:rollupRule childActivitySet="atLeastCount" minimumCount="1"><imsss:rollupConditions conditionCombination="all"><imsss:rollupCondition condition="attempted"/><imsss:rollupCondition operator="not" condition="completed"/></imsss:rollupConditions><imsss:rollupAction action="completed"/></imsss:rollupRule></imsss:rollupRules></imsss:sequencing></imsss:sequencingCollection>"#;
    let xml = manifest(&org).replace("</resources>", &format!("</resources>{collection}"));
    let parsed = scorm::parse("imsmanifest.xml", &xml, &Limits::default()).expect("parse");
    let mut e = Engine::new(TreeDef::from_course(&parsed.course).expect("tree"), 1);
    go(&mut e, NavRequest::Start);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_4", rt(&[]), NavRequest::Continue),
            ("activity_5", rt(&[("CS", "incomplete")]), NavRequest::Previous),
        ],
    );
    assert_eq!(st(&e, "activity_2").completed, Some(true));
    visit(&mut e, "activity_1", rt(&[]), NavRequest::ExitAll);
}

/// RU-04aa: atLeastPercent 50% of (satisfied or measure known) — one child of three is not
/// enough, so the exit rule stays silent and flow goes on to activity_6.
#[test]
fn ru_04aa_at_least_percent_rollup() {
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}{}<imsss:rollupRules><imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.5"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/><imsss:rollupCondition condition="objectiveMeasureKnown"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>"#,
        rules("satisfied", "satisfied")
    ));
    let mut e = start(&six("", "", &cluster_seq));
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete"), ("SCA", "0.75")]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "completed"), ("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_ne!(st(&e, "activity_2").satisfied, Some(true));
}

/// OB-01a: a passed activity writes a global objective that makes the next one skip.
#[test]
fn ob_01a_global_objective_skips_an_activity() {
    let org = format!(
        "{}{}{}{}",
        leaf(
            "activity_1",
            &seq(
                r#"<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ_1"><imsss:mapInfo targetObjectiveID="gObj-OB01a" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#
            )
        ),
        leaf(
            "activity_2",
            &seq(
                r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ_2"><imsss:mapInfo targetObjectiveID="gObj-OB01a"/></imsss:primaryObjective></imsss:objectives>"#
            )
        ),
        leaf(
            "activity_3",
            &seq(
                r#"<imsss:objectives><imsss:primaryObjective objectiveID="OBJ"/><imsss:objective objectiveID="obj"/><imsss:objective objectiveID="Obj"/></imsss:objectives>"#
            )
        ),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[("activity_1", rt(&[("SS", "passed")]), NavRequest::Continue), ("activity_3", rt(&[]), NavRequest::ExitAll)],
    );
    assert_eq!(st(&e, "activity_2").attempt_count, 0);
    // Objective ids are case-sensitive: three distinct objectives.
    assert_eq!(e.def().activities[3].seq.objectives.len(), 3);
}

/// CM-01: plain flow back and forth; every visit is a new attempt.
#[test]
fn cm_01_flow_back_and_forth() {
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", &seq(r#"<imsss:limitConditions attemptAbsoluteDurationLimit="P5Y6M4DT12H30M58S"/>"#)),
        leaf(
            "activity_2",
            &seq(
                r#"<imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>"#
            )
        ),
        leaf(
            "activity_3",
            &seq(
                r#"<imsss:limitConditions attemptAbsoluteDurationLimit="P5Y6M4DT12H30M58.55S"/><imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.7</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>"#
            )
        ),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Previous),
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Previous),
            ("activity_2", rt(&[]), NavRequest::Previous),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").attempt_count, 3);
    assert_eq!(st(&e, "activity_3").attempt_count, 2);
}

/// SX-07a: going back into a forward-only cluster enters at its first child, which is skipped
/// while not completed, so flow delivers the second one.
#[test]
fn sx_07a_previous_into_a_forward_only_cluster_with_skip() {
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}{}",
                leaf(
                    "activity_2",
                    &seq(
                        r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition operator="not" condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>"#
                    )
                ),
                leaf("activity_3", ""),
                leaf("activity_4", ""),
                seq(r#"<imsss:controlMode choice="false" flow="true" forwardOnly="true"/>"#)
            )
        ),
        leaf("activity_5", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_2", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Continue),
            ("activity_4", rt(&[]), NavRequest::Continue),
            ("activity_5", rt(&[]), NavRequest::Previous),
            ("activity_3", rt(&[]), NavRequest::ExitAll),
        ],
    );
}

/// CT-01: a cluster completed by measure (0.45) from its children's progress measures, skipped
/// once completed; one child does not count for completion rollup.
#[test]
fn ct_01_completion_measure_rollup_and_skip_when_completed() {
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        cluster(
            "activity_2",
            &format!(
                "{}{}{}{}{}",
                leaf("activity_3", &seq(r#"<imsss:rollupRules rollupProgressCompletion="false"/>"#)),
                leaf("activity_4", ""),
                leaf("activity_5", ""),
                seq(&format!(
                    r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>"#
                )),
                r#"<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.45"/>"#
            )
        ),
        leaf("activity_6", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("PM", "1.0")]), NavRequest::Continue),
            ("activity_4", rt(&[("PM", "0.0")]), NavRequest::Continue),
            ("activity_5", rt(&[("PM", "1.0"), ("CS", "incomplete")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::Previous),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    let pm = st(&e, "activity_2").progress_measure.expect("progress");
    assert!((pm - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(st(&e, "activity_2").completed, Some(true));
}

pub(super) fn pre(cond: &str, action: &str) -> String {
    format!(
        r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>{cond}</imsss:ruleConditions><imsss:ruleAction action="{action}"/></imsss:preConditionRule></imsss:sequencingRules>"#
    )
}

pub(super) fn post_rule(cond: &str, action: &str) -> String {
    format!(
        r#"<imsss:postConditionRule><imsss:ruleConditions>{cond}</imsss:ruleConditions><imsss:ruleAction action="{action}"/></imsss:postConditionRule>"#
    )
}

pub(super) fn with_collection(org: &str, collection: &str) -> Engine {
    let xml = manifest(org).replace(
        "</resources>",
        &format!("</resources><imsss:sequencingCollection>{collection}</imsss:sequencingCollection>"),
    );
    let parsed = scorm::parse("imsmanifest.xml", &xml, &Limits::default()).expect("parse");
    let mut e = Engine::new(TreeDef::from_course(&parsed.course).expect("tree"), 1);
    go(&mut e, NavRequest::Start);
    e
}

/// RU-09: a cluster retried as a whole (retryAll) until it is completed; one child has an attempt
/// limit of two, after which it is skipped and, being skipped, left out of rollup.
#[test]
fn ru_09_retry_all_until_completed_with_an_attempt_limit() {
    let a4 = seq(&format!(
        r#"{}<imsss:limitConditions attemptLimit="2"/><adlseq:rollupConsiderations requiredForSatisfied="ifNotSkipped" requiredForIncomplete="ifNotSkipped" requiredForCompleted="ifNotSkipped"/>"#,
        pre(r#"<imsss:ruleCondition condition="attemptLimitExceeded"/>"#, "skip")
    ));
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition operator="not" condition="completed"/>"#, "retryAll"),
        post_rule(r#"<imsss:ruleCondition condition="completed"/>"#, "continue")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        cluster(
            "activity_2",
            &format!("{}{}{}{cluster_seq}", leaf("activity_3", ""), leaf("activity_4", &a4), leaf("activity_5", ""))
        ),
        leaf("activity_6", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let c = NavRequest::Continue;
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), c.clone()),
            ("activity_3", rt(&[("CS", "completed")]), c.clone()),
            ("activity_4", rt(&[("CS", "incomplete")]), c.clone()),
            ("activity_5", rt(&[("CS", "completed")]), c.clone()),
            ("activity_1", rt(&[]), c.clone()),
            ("activity_3", rt(&[("CS", "incomplete")]), c.clone()),
            ("activity_4", rt(&[("CS", "completed")]), c.clone()),
            ("activity_5", rt(&[("CS", "completed")]), c.clone()),
            ("activity_1", rt(&[]), c.clone()),
            ("activity_3", rt(&[("CS", "completed")]), c.clone()),
            ("activity_5", rt(&[("CS", "completed")]), NavRequest::Previous),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_4").attempt_count, 2);
    assert_eq!(e.course_status().attempt_count, 3);
}

/// RU-07a: a cluster retried (post-condition) until satisfied; its first child has an attempt
/// limit (the item's 1 overriding the sequencingCollection's 2) and is then skipped and left
/// out of rollup, the second is always skipped and counts only if attempted.
#[test]
fn ru_07a_retry_until_satisfied_with_rollup_considerations() {
    let a3 = r#"<imsss:sequencing IDRef="seqCol-RU07a-1">PRE<imsss:limitConditions attemptLimit="1"/><imsss:rollupRules rollupProgressCompletion="false"/><adlseq:rollupConsiderations requiredForSatisfied="ifNotSkipped" requiredForNotSatisfied="ifNotSkipped"/></imsss:sequencing>"#
        .replace("PRE", &pre(r#"<imsss:ruleCondition condition="attemptLimitExceeded"/>"#, "skip"));
    let a4 = seq(&format!(
        r#"{}<adlseq:rollupConsiderations requiredForCompleted="ifAttempted" requiredForSatisfied="ifAttempted" requiredForNotSatisfied="ifAttempted"/>"#,
        pre(r#"<imsss:ruleCondition condition="always"/>"#, "skip")
    ));
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        cluster(
            "activity_2",
            &format!("{}{}{}{cluster_seq}", leaf("activity_3", &a3), leaf("activity_4", &a4), leaf("activity_5", ""))
        ),
        leaf("activity_6", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = with_collection(
        &org,
        r#"<imsss:sequencing ID="seqCol-RU07a-1"><imsss:limitConditions attemptLimit="2"/></imsss:sequencing>"#,
    );
    let c = NavRequest::Continue;
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), c.clone()),
            ("activity_3", rt(&[("SS", "failed")]), c.clone()),
            ("activity_5", rt(&[("SS", "failed")]), c.clone()),
            ("activity_5", rt(&[("SS", "failed")]), c.clone()),
            ("activity_5", rt(&[("SS", "passed")]), c.clone()),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
    assert_eq!(st(&e, "activity_2").attempt_count, 3);
}

/// RU-13e: a new attempt on the course (relaunch after exit all) keeps the global objectives the
/// first attempt wrote; a pre-condition with `any` and referenced objectives then lets
/// activity_2 through because its objective is satisfied by the global's measure.
#[test]
fn ru_13e_global_objectives_across_course_attempts() {
    let a2 = seq(&format!(
        r#"{}<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.5</imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="gObj-RU13e-2"/></imsss:objective></imsss:objectives>"#,
        pre(
            r#"</imsss:ruleConditions><imsss:ruleConditions conditionCombination="any"><imsss:ruleCondition referencedObjective="obj1" operator="not" condition="objectiveMeasureKnown"/><imsss:ruleCondition referencedObjective="obj1" operator="not" condition="satisfied"/>"#,
            "skip"
        )
        .replace("<imsss:ruleConditions></imsss:ruleConditions>", "")
    ));
    let a4 = seq(&format!(
        r#"<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU13e-1" readNormalizedMeasure="false" readSatisfiedStatus="false" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/></imsss:objective><imsss:objective objectiveID="obj2"><imsss:mapInfo targetObjectiveID="gObj-RU13e-2" readNormalizedMeasure="false" readSatisfiedStatus="false" writeNormalizedMeasure="true"/></imsss:objective></imsss:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="always"/>"#, "exitParent")
    ));
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions conditionCombination="all"><imsss:ruleCondition condition="attempted"/><imsss:ruleCondition referencedObjective="obj1" operator="not" condition="objectiveMeasureKnown"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule>{}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="atLeastCount" minimumCount="1"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules><imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU13e-1"/></imsss:objective></imsss:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "exitParent")
    ));
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}{}{cluster_seq}",
                leaf("activity_2", &a2),
                leaf("activity_3", ""),
                leaf("activity_4", &a4),
                leaf("activity_5", "")
            )
        ),
        leaf("activity_6", ""),
        seq(&format!(
            r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ" satisfiedByMeasure="true"><imsss:minNormalizedMeasure> 1.00000 </imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="gObj-RU13e-1"/></imsss:primaryObjective></imsss:objectives>"#,
            post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "retry")
        ))
    );
    let mut e = start(&org);
    visit(&mut e, "activity_3", rt(&[]), NavRequest::Continue);
    let mut r = rt(&[]);
    r.objectives.push(ObjectiveReport {
        id: "obj1".into(),
        score_scaled: Some(1.0),
        success_status: Some("failed".into()),
        ..Default::default()
    });
    r.objectives.push(ObjectiveReport { id: "obj2".into(), score_scaled: Some(0.7), ..Default::default() });
    let out = visit(&mut e, "activity_4", r, NavRequest::ExitAll);
    assert!(out.end_session);
    // Relaunch: a new attempt on the course with the learner's global objectives.
    let mut e = Engine::with_globals(e.def().clone(), 2, e.state().globals);
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("activity_2"));
    assert_eq!(e.status("activity_2").map(|_| ()), Some(()));
    visit(&mut e, "activity_2", rt(&[]), NavRequest::ExitAll);
}

/// SX-06: the item's own post-condition rules replace its collection entry's; "retry" while not
/// completed, then "continue" overrides the SCO's own "previous" once completed.
#[test]
fn sx_06_post_conditions_override_the_requested_navigation() {
    let a2 = format!(
        r#"<imsss:sequencing IDRef="seqCol-SX06-1"><imsss:sequencingRules>{}{}</imsss:sequencingRules></imsss:sequencing>"#,
        post_rule(r#"<imsss:ruleCondition condition="completed"/>"#, "continue"),
        post_rule(r#"<imsss:ruleCondition operator="not" condition="completed"/>"#, "retry")
    );
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        leaf("activity_2", &a2),
        leaf("activity_3", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let collection = format!(
        r#"<imsss:sequencing ID="seqCol-SX06-1"><imsss:sequencingRules>{}</imsss:sequencingRules></imsss:sequencing>"#,
        post_rule(r#"<imsss:ruleCondition operator="not" condition="completed"/>"#, "exitAll")
    );
    let mut e = with_collection(&org, &collection);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_2", rt(&[("CS", "not attempted")]), NavRequest::Continue),
            ("activity_2", rt(&[("CS", "completed")]), NavRequest::Previous),
            ("activity_3", rt(&[]), NavRequest::ExitAll),
        ],
    );
}

/// CO-07a: 4th edition objective completion shared through `adlseq` maps: activity_3 writes the
/// completion of two objectives that activities 1 and 2 read to skip themselves; the root exits
/// when satisfied and is retried while not completed.
#[test]
fn co_07a_shared_objective_completion_skips_activities() {
    let reader = |id: &str, obj: &str| {
        leaf(
            id,
            &seq(&format!(
                r#"{}<imsss:rollupRules rollupObjectiveSatisfied="false" rollupProgressCompletion="false"/><imsss:objectives><imsss:primaryObjective objectiveID="{obj}"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="{obj}"><adlseq:mapInfo targetObjectiveID="gObj-CO07-{obj}"/></adlseq:objective></adlseq:objectives>"#,
                pre(&format!(r#"<imsss:ruleCondition referencedObjective="{obj}" condition="completed"/>"#), "skip")
            )),
        )
    };
    let a3 = seq(
        r#"<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"/><imsss:objective objectiveID="obj2"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="obj1"><adlseq:mapInfo targetObjectiveID="gObj-CO07-obj1" writeCompletionStatus="true"/></adlseq:objective><adlseq:objective objectiveID="obj2"><adlseq:mapInfo targetObjectiveID="gObj-CO07-obj2" writeCompletionStatus="true"/></adlseq:objective></adlseq:objectives>"#,
    );
    let org = format!(
        "{}{}{}{}",
        reader("activity_1", "obj1"),
        reader("activity_2", "obj2"),
        leaf("activity_3", &a3),
        seq(&format!(
            r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
            post_rule(r#"<imsss:ruleCondition operator="not" condition="completed"/>"#, "retry")
        ))
    );
    let objs = |o1: &str, o2: &str| {
        let mut r = rt(&[("SS", "passed")]);
        for (id, cs) in [("obj1", o1), ("obj2", o2)] {
            r.objectives.push(ObjectiveReport {
                id: id.into(),
                completion_status: Some(cs.into()),
                ..Default::default()
            });
        }
        r
    };
    let mut e = start(&org);
    let mut first = objs("incomplete", "completed");
    first.completion_status = Some("not attempted".into());
    let mut second = objs("completed", "completed");
    second.completion_status = Some("completed".into());
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_3", first, NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", second, NavRequest::Continue),
        ],
    );
    // Satisfied and completed: the root exits and the session ends.
    assert!(e.session_ended());
    assert_eq!(e.course_status().completed, Some(true));
}

/// OB-03b: three attempts on a course whose global objectives are scoped to it
/// (objectivesGlobalToSystem false): a cluster satisfied by measure writes a global that makes
/// later activities skip; an unknown measure rolled up in the second attempt is written too, so
/// the third attempt delivers the cluster again.
#[test]
fn ob_03b_cluster_measure_written_to_a_global_across_attempts() {
    let skip_sat = pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip");
    let reads = |id: &str, g: &str, rule: &str| {
        leaf(
            id,
            &seq(&format!(
                r#"{rule}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="{g}"/></imsss:primaryObjective></imsss:objectives>"#
            )),
        )
    };
    let a3_seq = seq(&format!(
        r#"<imsss:controlMode choice="true" flow="true"/>{skip_sat}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="gObj-OB03-3" readSatisfiedStatus="false" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/></imsss:primaryObjective></imsss:objectives>"#
    ));
    let org = format!(
        "{}{}{}{}",
        reads(
            "activity_1",
            "gObj-OB03-2",
            &pre(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "skip")
        ),
        cluster(
            "activity_2",
            &format!(
                "{}{}{}{}",
                cluster(
                    "activity_3",
                    &format!(
                        "{}{}{}{a3_seq}",
                        leaf("activity_4", ""),
                        reads("activity_5", "gObj-OB03-1", &skip_sat),
                        leaf("activity_6", "")
                    )
                ),
                reads("activity_7", "gObj-OB03-3", &skip_sat),
                reads("activity_8", "gObj-OB03-3", &skip_sat),
                seq(CHOICE_FALSE_FLOW)
            )
        ),
        leaf("activity_9", ""),
        seq(CHOICE_FALSE_FLOW)
    )
    .replace(r#"<item identifier="activity_1""#, r#"<item identifier="activity_1""#);
    let mut e = start(&org);
    let score = || rt(&[("SCA", "1.0")]);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_4", score(), NavRequest::Continue),
            ("activity_5", score(), NavRequest::Continue),
            ("activity_6", score(), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_3").satisfied, Some(true));
    // Second attempt: activity_3 (by the global's measure) and 7, 8 (by its status) are skipped.
    let mut e = Engine::with_globals(e.def().clone(), 2, e.state().globals);
    go(&mut e, NavRequest::Start);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_9", rt(&[]), choice("activity_6")),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    // Third attempt: activity_3's rolled-up measure was unknown and written so.
    let mut e = Engine::with_globals(e.def().clone(), 3, e.state().globals);
    go(&mut e, NavRequest::Start);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_4", score(), NavRequest::Continue),
            ("activity_5", score(), NavRequest::Continue),
            ("activity_6", score(), NavRequest::Continue),
            ("activity_9", rt(&[]), NavRequest::ExitAll),
        ],
    );
}
