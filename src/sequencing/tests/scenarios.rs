//! Course-level scenarios replaying sequencing test cases of ADL's SCORM 2004 4th Edition
//! conformance suite (`adlnet/SCORM-2004-4ed-Test-Suite`, LMSRTE test packages). The manifests
//! are re-created here from each package's activity structure and sequencing (not copied), and
//! each step plays what the test SCO does: it checks the activity delivered, sets the run-time
//! values the test case sets, and ends with the navigation request it issues (the SCO's
//! `adl.nav.request` or the tester's click). `Exit` at the end is the tester leaving the course.

use super::*;

/// `cmi.*` values a test SCO sets, by the suite's short names: CS completion_status,
/// SS success_status, PM progress_measure, SCA score.scaled.
fn rt(values: &[(&str, &str)]) -> RuntimeReport {
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
fn visit(e: &mut Engine, expect: &str, r: RuntimeReport, then: NavRequest) -> Outcome {
    assert_eq!(e.current(), Some(expect), "delivered activity");
    assert!(st(e, expect).active);
    e.report_runtime(expect, &r).expect("report");
    e.navigate(then, NOW).expect("navigation accepted")
}

/// Plays a run of visits that each end with a request delivering the next one.
fn play(e: &mut Engine, steps: &[(&str, RuntimeReport, NavRequest)]) {
    for (i, (expect, r, then)) in steps.iter().enumerate() {
        let out = visit(e, expect, r.clone(), then.clone());
        if i + 1 < steps.len() {
            assert!(out.deliver.is_some(), "step {i} ({expect}) delivered nothing: {out:?}");
        }
    }
}

fn start(org: &str) -> Engine {
    let mut e = engine(org);
    assert!(go(&mut e, NavRequest::Start).is_some());
    e
}

const CHOICE_FALSE_FLOW: &str = r#"<imsss:controlMode choice="false" flow="true"/>"#;

fn rules(exit: &str, post: &str) -> String {
    format!(
        r#"<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="{exit}"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule><imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="{post}"/></imsss:ruleConditions><imsss:ruleAction action="previous"/></imsss:postConditionRule></imsss:sequencingRules>"#
    )
}

/// activity_1, activity_2 { activity_3, activity_4, activity_5 }, activity_6 — the shape of most
/// SX and RU packages.
fn six(leaf3: &str, leaf5: &str, cluster_seq: &str) -> String {
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
