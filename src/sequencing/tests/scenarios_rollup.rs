//! ADL conformance scenarios about rollup through nested clusters (see `scenarios.rs`).

use super::scenarios::*;
use super::*;

fn any_rules() -> String {
    r#"<imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied" operator="not"/></imsss:rollupConditions><imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>"#.to_owned()
}

/// RU-17a: a SCO deep in one branch writes a global objective that a SCO in another branch
/// reads; the reading branch rolls up although nothing happened in it (ADL's "global objective
/// changed" rollup), so its top cluster is satisfied and skipped.
#[test]
fn ru_17a_a_global_objective_change_rolls_up_its_readers() {
    let flow = seq(CHOICE_FALSE_FLOW);
    let a9 = seq(
        r#"<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-RU17a" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#,
    );
    let a16 = seq(
        r#"<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-RU17a"/></imsss:primaryObjective></imsss:objectives>"#,
    );
    let a10_seq = seq(&format!(
        "{CHOICE_FALSE_FLOW}{}{}",
        pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip"),
        any_rules()
    ));
    let org = format!(
        "{}{}{}{flow}",
        leaf("activity_1", ""),
        cluster(
            "activity_2",
            &format!(
                "{}{}{flow}",
                cluster(
                    "activity_3",
                    &format!(
                        "{}{}{flow}",
                        cluster("activity_4", &format!("{}{}{flow}", leaf("activity_5", ""), leaf("activity_6", ""))),
                        cluster("activity_7", &format!("{}{}{flow}", leaf("activity_8", ""), leaf("activity_9", &a9)))
                    )
                ),
                cluster(
                    "activity_10",
                    &format!(
                        "{}{}{a10_seq}",
                        cluster(
                            "activity_11",
                            &format!("{}{}{flow}", leaf("activity_12", ""), leaf("activity_13", ""))
                        ),
                        cluster(
                            "activity_14",
                            &format!(
                                "{}{}{}",
                                leaf("activity_15", ""),
                                leaf("activity_16", &a16),
                                seq(&format!("{CHOICE_FALSE_FLOW}{}", any_rules()))
                            )
                        )
                    )
                )
            )
        ),
        leaf("activity_17", "")
    );
    let mut e = start(&org);
    let c = || NavRequest::Continue;
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), c()),
            ("activity_5", rt(&[]), c()),
            ("activity_6", rt(&[]), c()),
            ("activity_8", rt(&[]), c()),
            ("activity_9", rt(&[("SS", "passed")]), c()),
            ("activity_17", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_16").satisfied, Some(true));
    assert_eq!(st(&e, "activity_14").satisfied, Some(true));
    assert_eq!(st(&e, "activity_10").satisfied, Some(true));
    assert_eq!(st(&e, "activity_10").attempt_count, 0);
}

/// RU-18b: a cluster made not satisfied by one incomplete child (a notSatisfied rule alone, so
/// no default satisfied rule), a sibling's exitParent, and the parent retried while not
/// satisfied.
#[test]
fn ru_18b_not_satisfied_rule_alone_then_retry() {
    let flow = seq(FLOW);
    let a3_seq = seq(&format!(
        r#"{FLOW}<imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition operator="not" condition="completed"/></imsss:rollupConditions><imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>"#
    ));
    let a7 = seq(&format!(
        "<imsss:sequencingRules>{}</imsss:sequencingRules>",
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "exitParent")
    ));
    let a1_seq = seq(&format!(
        "{FLOW}<imsss:sequencingRules>{}</imsss:sequencingRules>",
        post_rule(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{flow}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}{a1_seq}",
                leaf("activity_2", ""),
                cluster(
                    "activity_3",
                    &format!("{}{}{}{a3_seq}", leaf("activity_4", ""), leaf("activity_5", ""), leaf("activity_6", ""))
                ),
                leaf("activity_7", &a7)
            )
        ),
        leaf("activity_8", "")
    );
    let mut e = start(&org);
    let done = |cs: &str| rt(&[("CS", cs), ("SS", "passed")]);
    let c = || NavRequest::Continue;
    play(
        &mut e,
        &[
            ("activity_2", done("completed"), c()),
            ("activity_4", done("completed"), c()),
            ("activity_5", done("incomplete"), c()),
            ("activity_6", done("completed"), c()),
            ("activity_7", done("completed"), c()),
            ("activity_2", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_1").attempt_count, 2);
}

/// RU-04bd: atLeastPercent completion over (completed or measure known), reached only after the
/// learner goes back into the cluster from its end and re-does two activities; then the exit
/// rule and the "previous" post-condition.
#[test]
fn ru_04bd_back_into_a_cluster_until_its_completion_rule_holds() {
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.5"><imsss:rollupConditions><imsss:rollupCondition condition="completed"/><imsss:rollupCondition condition="objectiveMeasureKnown"/></imsss:rollupConditions><imsss:rollupAction action="completed"/></imsss:rollupRule></imsss:rollupRules>"#,
        post_rule(r#"<imsss:ruleCondition condition="completed"/>"#, "previous")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        cluster(
            "activity_2",
            &format!("{}{}{}{cluster_seq}", leaf("activity_3", ""), leaf("activity_4", ""), leaf("activity_5", ""))
        ),
        leaf("activity_6", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let (c, p) = (|| NavRequest::Continue, || NavRequest::Previous);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), c()),
            ("activity_3", rt(&[("CS", "incomplete")]), c()),
            ("activity_4", rt(&[("SS", "failed")]), c()),
            ("activity_5", rt(&[("CS", "incomplete")]), c()),
            ("activity_6", rt(&[]), p()),
            ("activity_5", rt(&[("CS", "incomplete")]), p()),
            ("activity_4", rt(&[("SCA", "0.8")]), c()),
            ("activity_5", rt(&[("SCA", "0.5")]), c()),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").completed, Some(true));
}

/// RU-13a: exitParent post-conditions chained from a SCO to its cluster (satisfied by an
/// atLeastPercent rule) to the root, whose status is read from a global objective the SCO
/// failed, so the root retries; a skip rule on referenced objectives then lets activity_2 in.
#[test]
fn ru_13a_chained_exit_parent_and_a_root_retry() {
    let a2 = seq(&format!(
        r#"{}<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU13a-2"/></imsss:objective></imsss:objectives>"#,
        pre(
            r#"</imsss:ruleConditions><imsss:ruleConditions conditionCombination="any"><imsss:ruleCondition referencedObjective="obj1" operator="not" condition="objectiveStatusKnown"/><imsss:ruleCondition referencedObjective="obj1" operator="not" condition="satisfied"/>"#,
            "skip"
        )
        .replace("<imsss:ruleConditions></imsss:ruleConditions>", "")
    ));
    let w = r#"readNormalizedMeasure="false" readSatisfiedStatus="false" writeSatisfiedStatus="true""#;
    let a4 = seq(&format!(
        r#"<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU13a-1" {w}/></imsss:objective><imsss:objective objectiveID="obj2"><imsss:mapInfo targetObjectiveID="gObj-RU13a-2" {w}/></imsss:objective></imsss:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="always"/>"#, "exitParent")
    ));
    let a1_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="attempted"/><imsss:ruleCondition referencedObjective="obj1" operator="not" condition="objectiveStatusKnown"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule>{}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.4"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules><imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU13a-1"/></imsss:objective></imsss:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "exitParent")
    ));
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}{}{a1_seq}",
                leaf("activity_2", &a2),
                leaf("activity_3", ""),
                leaf("activity_4", &a4),
                leaf("activity_5", "")
            )
        ),
        leaf("activity_6", ""),
        seq(&format!(
            r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-RU13a-1"/></imsss:primaryObjective></imsss:objectives>"#,
            post_rule(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "retry")
        ))
    );
    let mut e = start(&org);
    let mut r4 = rt(&[]);
    for (id, ss) in [("obj1", "failed"), ("obj2", "passed")] {
        r4.objectives.push(ObjectiveReport { id: id.into(), success_status: Some(ss.into()), ..Default::default() });
    }
    play(&mut e, &[("activity_3", rt(&[]), NavRequest::Continue), ("activity_4", r4, NavRequest::Continue)]);
    assert_eq!(e.course_status().attempt_count, 2);
    let init = e.runtime_init("activity_2").expect("init");
    assert_eq!(init.objectives.iter().find(|o| o.id == "obj1").and_then(|o| o.satisfied), Some(true));
    visit(&mut e, "activity_2", rt(&[]), NavRequest::ExitAll);
}

/// CO-04c: a skip on "not activityProgressKnown" whose completion is read from a global written
/// by another SCO (completed by measure with threshold 0); a jump reaches the skipped activity.
#[test]
fn co_04c_progress_known_skip_and_jump() {
    let a1 = format!(
        r#"{}<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.0"/>"#,
        seq(
            r#"<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="PRIMARYOBJ"><adlseq:mapInfo targetObjectiveID="gObj-CO04c" writeCompletionStatus="true" writeProgressMeasure="true"/></adlseq:objective></adlseq:objectives>"#
        )
    );
    let a2 = seq(&format!(
        r#"{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="PRIMARYOBJ"><adlseq:mapInfo targetObjectiveID="gObj-CO04c"/></adlseq:objective></adlseq:objectives>"#,
        pre(r#"<imsss:ruleCondition operator="not" condition="activityProgressKnown"/>"#, "skip")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", &a1),
        leaf("activity_2", &a2),
        leaf("activity_3", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Jump("activity_2".into())),
            ("activity_2", rt(&[]), NavRequest::ExitAll),
        ],
    );
}

/// SX-04b: an abandon ends the SCO without End Attempt and without recording what it set, so a
/// choice of the root flows into the same activity again instead of skipping it.
#[test]
fn sx_04b_abandon_then_choice_of_the_root() {
    let a1 = seq(&pre(
        r#"</imsss:ruleConditions><imsss:ruleConditions conditionCombination="any"><imsss:ruleCondition condition="satisfied"/><imsss:ruleCondition condition="completed"/>"#,
        "skip",
    )
    .replace("<imsss:ruleConditions></imsss:ruleConditions>", ""));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", &a1),
        leaf("activity_2", ""),
        leaf("activity_3", ""),
        seq(r#"<imsss:controlMode choice="true" flow="true"/>"#)
    );
    let mut e = start(&org);
    assert_eq!(e.current(), Some("activity_1"));
    // SS passed was set, then abandon: nothing is reported.
    let out = e.navigate(NavRequest::Abandon, NOW).expect("accepted");
    assert_eq!(out.deliver, None);
    assert_eq!(st(&e, "activity_1").completed, None);
    assert_eq!(go(&mut e, choice("org")).as_deref(), Some("activity_1"));
    assert_eq!(st(&e, "activity_1").attempt_count, 2);
    visit(&mut e, "activity_1", rt(&[]), NavRequest::ExitAll);
}
