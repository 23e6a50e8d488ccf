//! More ADL conformance scenarios (see `scenarios.rs` for how they are replayed).

use super::scenarios::*;
use super::*;

/// What a test SCO sets on its `cmi.objectives.n.success_status`.
fn objs(list: &[(&str, &str)]) -> RuntimeReport {
    let mut r = rt(&[]);
    for (id, ss) in list {
        r.objectives.push(ObjectiveReport {
            id: (*id).to_owned(),
            success_status: Some((*ss).to_owned()),
            ..Default::default()
        });
    }
    r
}

fn map_w(obj: &str, g: &str) -> String {
    format!(
        r#"<imsss:objective objectiveID="{obj}"><imsss:mapInfo targetObjectiveID="{g}" readNormalizedMeasure="false" writeSatisfiedStatus="true"/></imsss:objective>"#
    )
}

/// SX-05: skip rules on referenced objectives read through global objectives, retry of a
/// cluster and retry all, items whose local objectives replace those of their
/// sequencingCollection entries, and the session ending after the last activity.
#[test]
fn sx_05_referenced_objectives_retry_and_retry_all() {
    let skip_ref =
        |o: &str| pre(&format!(r#"<imsss:ruleCondition condition="satisfied" referencedObjective="{o}"/>"#), "skip");
    let primary_w = |g: &str| {
        format!(
            r#"{}<imsss:rollupRules rollupObjectiveSatisfied="false" rollupProgressCompletion="false"/><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="{g}" readNormalizedMeasure="false" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#,
            pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip")
        )
    };
    let retry_all_unless = |a: &str, b: &str| {
        post_rule(
            &format!(
                r#"</imsss:ruleConditions><imsss:ruleConditions conditionCombination="any"><imsss:ruleCondition operator="not" condition="satisfied" referencedObjective="{a}"/><imsss:ruleCondition operator="not" condition="satisfied" referencedObjective="{b}"/>"#
            ),
            "retryAll",
        )
        .replace("<imsss:ruleConditions></imsss:ruleConditions>", "")
    };
    let a5 = format!(
        r#"<imsss:sequencing IDRef="seqCol-SX05-1">{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/>{}</imsss:objectives></imsss:sequencing>"#,
        skip_ref("obj-SX05-3a"),
        map_w("obj-SX05-3a", "gObj-SX05-3a")
    );
    let a6 = format!(
        r#"<imsss:sequencing IDRef="seqCol-SX05-2">{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/>{}{}</imsss:objectives></imsss:sequencing>"#,
        skip_ref("obj-SX05-3b").replace(
            "</imsss:sequencingRules>",
            &format!("{}</imsss:sequencingRules>", retry_all_unless("obj-SX05-3a", "obj-SX05-3b"))
        ),
        map_w("obj-SX05-3a", "gObj-SX05-3a"),
        map_w("obj-SX05-3b", "gObj-SX05-3b")
    );
    let a8 = seq(&format!(
        r#"{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/>{}</imsss:objectives>"#,
        skip_ref("obj-SX05-4a"),
        map_w("obj-SX05-4a", "gObj-SX05-4a")
    ));
    let a9 = format!(
        r#"<imsss:sequencing IDRef="seqCol-SX05-3"><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/>{}{}</imsss:objectives></imsss:sequencing>"#,
        map_w("obj-SX05-4a", "gObj-SX05-4a"),
        map_w("obj-SX05-4b", "gObj-SX05-4b")
    );
    let all5 = ["5", "3a", "3b", "4a", "4b"];
    let a10 = seq(&format!(
        r#"<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:rollupRules rollupObjectiveSatisfied="false" rollupProgressCompletion="false"/><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/>{}</imsss:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="always"/>"#, "exitParent"),
        all5.iter().map(|o| map_w(&format!("obj-SX05-{o}"), &format!("gObj-SX05-{o}"))).collect::<String>()
    ));
    let a3_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/>{}</imsss:objectives>"#,
        post_rule(
            r#"<imsss:ruleCondition operator="not" condition="satisfied" referencedObjective="obj-SX05-5"/>"#,
            "retry"
        ),
        map_w("obj-SX05-5", "gObj-SX05-5")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", &seq(&primary_w("gObj-SX05-1"))),
        leaf("activity_2", &seq(&primary_w("gObj-SX05-2"))),
        cluster(
            "activity_3",
            &format!(
                "{}{}{}{a3_seq}",
                cluster(
                    "activity_4",
                    &format!("{}{}{}", leaf("activity_5", &a5), leaf("activity_6", &a6), seq(CHOICE_FALSE_FLOW))
                ),
                cluster(
                    "activity_7",
                    &format!("{}{}{}", leaf("activity_8", &a8), leaf("activity_9", &a9), seq(CHOICE_FALSE_FLOW))
                ),
                leaf("activity_10", &a10)
            )
        ),
        seq(CHOICE_FALSE_FLOW)
    );
    let collection = format!(
        r#"<imsss:sequencing ID="seqCol-SX05-1"><imsss:objectives><imsss:primaryObjective objectiveID="FAKEPRIMARYOBJ"/><imsss:objective objectiveID="obj-SX05-3a"><imsss:mapInfo targetObjectiveID="gObj-SX05-3a" readSatisfiedStatus="false" writeNormalizedMeasure="true"/></imsss:objective></imsss:objectives></imsss:sequencing><imsss:sequencing ID="seqCol-SX05-2">{}<imsss:objectives><imsss:primaryObjective/>{}</imsss:objectives></imsss:sequencing><imsss:sequencing ID="seqCol-SX05-3"><imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied" referencedObjective="obj-SX05-4b"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj-SX05-4b"/></imsss:objectives></imsss:sequencing>"#,
        pre(r#"<imsss:ruleCondition operator="not" condition="satisfied" referencedObjective="obj-SX05-3b"/>"#, "skip"),
        map_w("obj-SX05-3a", "gObj-SX05-3b"),
        retry_all_unless("obj-SX05-4a", "obj-SX05-4b")
    );
    let mut e = with_collection(&org, &collection);
    let c = || NavRequest::Continue;
    let ss = |s: &str| rt(&[("SS", s)]);
    let (p, f) = ("passed", "failed");
    let ten = |a: &str, b: &str, c4: &str, d: &str, five: &str| {
        objs(&[("obj-SX05-3a", a), ("obj-SX05-3b", b), ("obj-SX05-4a", c4), ("obj-SX05-4b", d), ("obj-SX05-5", five)])
    };
    play(
        &mut e,
        &[
            ("activity_1", ss(p), c()),
            ("activity_2", ss(p), c()),
            ("activity_5", objs(&[("obj-SX05-3a", p)]), c()),
            ("activity_6", objs(&[("obj-SX05-3a", p), ("obj-SX05-3b", p)]), c()),
            ("activity_8", objs(&[("obj-SX05-4a", p)]), c()),
            ("activity_9", objs(&[("obj-SX05-4a", p), ("obj-SX05-4b", p)]), c()),
            ("activity_10", ten(f, f, f, f, f), c()),
            ("activity_5", objs(&[("obj-SX05-3a", p)]), c()),
            ("activity_6", objs(&[("obj-SX05-3a", p), ("obj-SX05-3b", f)]), c()),
            ("activity_6", objs(&[("obj-SX05-3a", p), ("obj-SX05-3b", p)]), c()),
            ("activity_8", objs(&[("obj-SX05-4a", f)]), c()),
            ("activity_9", objs(&[("obj-SX05-4a", p), ("obj-SX05-4b", f)]), c()),
            ("activity_9", objs(&[("obj-SX05-4a", p), ("obj-SX05-4b", p)]), c()),
            ("activity_10", ten(p, f, p, f, f), c()),
            ("activity_6", objs(&[("obj-SX05-3a", p), ("obj-SX05-3b", p)]), c()),
            ("activity_9", objs(&[("obj-SX05-4a", p), ("obj-SX05-4b", p)]), c()),
        ],
    );
    let out = visit(&mut e, "activity_10", ten(f, f, f, f, p), c());
    assert!(out.end_session, "{out:?}");
    assert_eq!(st(&e, "activity_6").attempt_count, 4);
    assert_eq!(e.course_status().attempt_count, 3);
}

/// SX-04a: an abandon all discards what the SCO set (the player does not report it), so after
/// a relaunch the activity that would have been skipped is delivered again.
#[test]
fn sx_04a_abandon_all_discards_the_attempt() {
    let org = format!(
        "{}{}{}{}",
        leaf(
            "activity_1",
            &seq(&format!(
                r#"{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-SX04a" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#,
                pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip")
            ))
        ),
        leaf("activity_2", ""),
        leaf("activity_3", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    assert_eq!(e.current(), Some("activity_1"));
    // SS passed was set, then abandonAll: nothing is reported.
    let out = e.navigate(NavRequest::AbandonAll, NOW).expect("accepted");
    assert!(out.end_session);
    let mut e = Engine::with_globals(e.def().clone(), 2, e.state().globals);
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("activity_1"));
    visit(&mut e, "activity_1", rt(&[]), NavRequest::ExitAll);
}

fn selectable(e: &Engine, id: &str) -> bool {
    e.toc().iter().any(|t| t.id == id && t.visible && t.enabled)
}

fn toc_enabled(e: &Engine) -> bool {
    e.toc().iter().any(|t| t.visible && t.enabled)
}

/// CM-07a: choiceExit on clusters and on leaves, disabled activities, and what the player offers
/// at each step (the suite's UI questions: TOC entries selectable, Continue and Previous
/// enabled), with the tester's choices through the TOC.
#[test]
fn cm_07a_choice_exit_and_the_player_controls() {
    let disabled = seq(&pre(r#"<imsss:ruleCondition condition="always"/>"#, "disabled"));
    let no_exit = seq(r#"<imsss:controlMode choiceExit="false"/>"#);
    let flow = seq(r#"<imsss:controlMode flow="true"/>"#);
    let flow_no_exit = seq(r#"<imsss:controlMode flow="true" choiceExit="false"/>"#);
    let org = format!(
        "{}{}{flow}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}{flow_no_exit}",
                cluster(
                    "activity_2",
                    &format!(
                        "{}{}{}{flow}",
                        leaf("activity_3", ""),
                        leaf("activity_4", ""),
                        leaf("activity_5", &disabled)
                    )
                ),
                leaf("activity_6", &no_exit),
                leaf("activity_7", "")
            )
        ),
        cluster(
            "activity_8",
            &format!(
                "{}{}{}{flow_no_exit}",
                leaf("activity_9", ""),
                leaf("activity_10", &no_exit),
                cluster(
                    "activity_11",
                    &format!(
                        "{}{}{}{flow}",
                        leaf("activity_12", ""),
                        leaf("activity_13", ""),
                        leaf("activity_14", &disabled)
                    )
                )
            )
        )
    );
    let mut e = start(&org);
    let cont = |e: &Engine| e.request_valid(&NavRequest::Continue);
    let prev = |e: &Engine| e.request_valid(&NavRequest::Previous);

    assert_eq!(e.current(), Some("activity_3"));
    assert_eq!(
        [
            selectable(&e, "activity_5"),
            selectable(&e, "activity_7"),
            selectable(&e, "activity_10"),
            selectable(&e, "activity_14")
        ],
        [false, true, false, false]
    );
    visit(&mut e, "activity_3", rt(&[]), choice("activity_6"));

    assert_eq!([toc_enabled(&e), prev(&e), cont(&e)], [false, false, true]);
    visit(&mut e, "activity_6", rt(&[]), NavRequest::Continue);

    assert!(toc_enabled(&e) && !selectable(&e, "activity_9") && selectable(&e, "activity_4") && !selectable(&e, "org"));
    assert!(cont(&e) && prev(&e));
    visit(&mut e, "activity_7", rt(&[]), NavRequest::Continue);

    assert_eq!(
        [selectable(&e, "activity_1"), selectable(&e, "activity_3"), selectable(&e, "activity_13"), prev(&e), cont(&e)],
        [false, false, true, true, true]
    );
    visit(&mut e, "activity_9", rt(&[]), choice("activity_13"));

    assert_eq!(
        [
            selectable(&e, "activity_11"),
            selectable(&e, "org"),
            selectable(&e, "activity_1"),
            selectable(&e, "activity_14"),
            prev(&e)
        ],
        [true, false, false, false, true]
    );
    visit(&mut e, "activity_13", rt(&[]), choice("activity_10"));

    assert_eq!([toc_enabled(&e), prev(&e), cont(&e)], [false, true, true]);
    visit(&mut e, "activity_10", rt(&[]), NavRequest::Continue);

    assert!(toc_enabled(&e));
    visit(&mut e, "activity_12", rt(&[]), NavRequest::Continue);

    assert!(prev(&e));
    visit(&mut e, "activity_13", rt(&[]), NavRequest::ExitAll);
}

/// CM-04b: `adl.nav.request_valid` answers (continue, previous, choice of several targets) in
/// a tree mixing clusters with and without flow, a cluster skipped once attempted, and choices
/// of clusters (flowing into them) and of the root.
#[test]
fn cm_04b_request_valid_answers() {
    let flow = seq(FLOW);
    let org = format!(
        "{}{}{}{}{flow}",
        cluster("activity_1", &format!("{}{}{flow}", leaf("activity_2", ""), leaf("activity_3", ""))),
        cluster(
            "activity_4",
            &format!("{}{}{}", leaf("activity_5", ""), leaf("activity_6", ""), leaf("activity_7", ""))
        ),
        cluster(
            "activity_8",
            &format!(
                "{}{}",
                leaf("activity_9", ""),
                cluster(
                    "activity_10",
                    &format!(
                        "{}{}{flow}",
                        cluster(
                            "activity_11",
                            &format!(
                                "{}{}{}",
                                leaf("activity_12", ""),
                                leaf("activity_13", ""),
                                seq(&format!(
                                    "{FLOW}{}",
                                    pre(r#"<imsss:ruleCondition condition="attempted"/>"#, "skip")
                                ))
                            )
                        ),
                        leaf("activity_14", "")
                    )
                )
            )
        ),
        leaf("activity_15", "")
    );
    let mut e = start(&org);
    let targets = ["activity_2", "activity_3", "activity_6", "activity_9", "activity_12", "activity_15"];
    for at in ["activity_2", "activity_12"] {
        assert_eq!(e.current(), Some(at));
        assert!(e.request_valid(&NavRequest::Continue), "{at}");
        assert!(!e.request_valid(&NavRequest::Previous), "{at}");
        for t in targets {
            assert!(e.choice_valid(t), "{at}: choice of {t}");
        }
        if at == "activity_2" {
            assert!(selectable(&e, "activity_11"));
            visit(&mut e, "activity_2", rt(&[]), choice("activity_11"));
        }
    }
    play(
        &mut e,
        &[
            ("activity_12", rt(&[]), choice("activity_10")),
            ("activity_14", rt(&[]), choice("org")),
            ("activity_2", rt(&[]), choice("activity_15")),
        ],
    );
    assert!(e.request_valid(&NavRequest::Continue));
    assert!(!e.request_valid(&NavRequest::Previous));
    assert!(selectable(&e, "activity_3"));
    visit(&mut e, "activity_15", rt(&[]), choice("activity_6"));
    visit(&mut e, "activity_6", rt(&[]), NavRequest::ExitAll);
}

/// CM-03a: a forward-only cluster whose children are skipped once attempted and not completed,
/// Previous into it entering at its first child, and jumps (4th edition) that ignore skip rules.
#[test]
fn cm_03a_forward_only_skip_and_jump() {
    let skip = seq(&pre(
        r#"<imsss:ruleCondition condition="attempted"/><imsss:ruleCondition operator="not" condition="completed"/>"#,
        "skip",
    ));
    let org = format!(
        "{}{}{}{}",
        cluster(
            "activity_1",
            &format!("{}{}{}", leaf("activity_2", ""), leaf("activity_3", ""), seq(CHOICE_FALSE_FLOW))
        ),
        cluster(
            "activity_4",
            &format!(
                "{}{}{}{}",
                leaf("activity_5", &skip),
                leaf("activity_6", &skip),
                leaf("activity_7", &skip),
                seq(r#"<imsss:controlMode choice="false" flow="true" forwardOnly="true"/>"#)
            )
        ),
        leaf("activity_8", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let cont = |e: &Engine| e.request_valid(&NavRequest::Continue);
    let prev = |e: &Engine| e.request_valid(&NavRequest::Previous);
    assert!(cont(&e) && !prev(&e));
    visit(&mut e, "activity_2", rt(&[]), NavRequest::Continue);
    assert!(cont(&e));
    visit(&mut e, "activity_3", rt(&[]), NavRequest::Continue);
    assert!(cont(&e) && !prev(&e) && !e.choice_valid("activity_6"));
    play(
        &mut e,
        &[
            ("activity_5", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_6", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_7", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_8", rt(&[]), NavRequest::Previous),
        ],
    );
    assert!(!prev(&e));
    play(
        &mut e,
        &[
            ("activity_5", rt(&[]), NavRequest::Jump("activity_7".into())),
            ("activity_7", rt(&[]), NavRequest::Jump("activity_7".into())),
        ],
    );
    assert_eq!(st(&e, "activity_7").attempt_count, 3);
    visit(&mut e, "activity_7", rt(&[]), NavRequest::ExitAll);
}

/// RU-12a: a SCO exits with `cmi.exit = suspend`; its cluster exits by rule and, holding a
/// suspended child, is suspended itself, so its post-condition rules do not run (TB.2.2); flow
/// back into it resumes the suspended SCO instead of starting a new attempt.
#[test]
fn ru_12a_suspended_sco_resumed_by_flow() {
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}{}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="all"><imsss:rollupConditions><imsss:rollupCondition operator="not" condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>"#,
        post_rule(r#"<imsss:ruleCondition operator="not" condition="objectiveStatusKnown"/>"#, "previous"),
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        cluster("activity_2", &format!("{}{cluster_seq}", leaf("activity_3", ""))),
        leaf("activity_4", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let mut suspend = rt(&[("SS", "failed")]);
    suspend.exit = Some("suspend".into());
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", suspend, NavRequest::Continue),
            ("activity_4", rt(&[]), NavRequest::Previous),
        ],
    );
    // Resumed, not a new attempt; the failure recorded before the suspension is still there.
    assert_eq!(st(&e, "activity_3").attempt_count, 1);
    assert_eq!(st(&e, "activity_3").satisfied, Some(false));
    assert!(!st(&e, "activity_2").suspended);
    play(
        &mut e,
        &[("activity_3", rt(&[("SS", "passed")]), NavRequest::Continue), ("activity_4", rt(&[]), NavRequest::ExitAll)],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(false));
}

/// RU-06a: `useCurrentAttemptObjectiveInfo="false"` on a forward-only cluster: what its children
/// recorded in its previous attempt still counts, so one more pass satisfies it, it exits and its
/// post-condition continues.
#[test]
fn ru_06a_objective_info_from_earlier_attempts_counts() {
    let cluster_seq = seq(&format!(
        r#"<imsss:controlMode choice="false" flow="true" forwardOnly="true" useCurrentAttemptObjectiveInfo="false"/><imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "continue")
    ));
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!("{}{}{}{cluster_seq}", leaf("activity_2", ""), leaf("activity_3", ""), leaf("activity_4", ""))
        ),
        leaf("activity_5", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_2", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_3", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_5", rt(&[]), NavRequest::Previous),
            ("activity_2", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_5", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_1").satisfied, Some(true));
    assert_eq!(st(&e, "activity_3").attempt_count, 1);
}

/// RU-15a: untracked and non-contributing children, a child's exitParent post-condition, the
/// cluster's post-conditions on its rolled-up status, and a global objective written by the
/// cluster and read by an earlier sibling that is then skipped on the way back. (The manifest
/// writes `readSatisfiedStatus=" false "`: XML Schema booleans are whitespace-collapsed.)
#[test]
fn ru_15a_exit_parent_then_previous_over_a_skipped_sibling() {
    let cluster_seq = seq(&format!(
        r#"<imsss:controlMode flow="true" choice="false"/><imsss:sequencingRules>{}{}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition condition="satisfied" operator="not"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-RU15a" readNormalizedMeasure="false" readSatisfiedStatus=" false " writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="satisfied" operator="not"/>"#, "continue"),
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "previous")
    ));
    let a2 = seq(&format!(
        r#"{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-RU15a" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#,
        pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip")
    ));
    let org = format!(
        "{}{}{}{}{}",
        leaf("activity_1", ""),
        leaf("activity_2", &a2),
        cluster(
            "activity_3",
            &format!(
                "{}{}{}{cluster_seq}",
                leaf("activity_4", &seq(r#"<imsss:deliveryControls tracked="false"/>"#)),
                leaf(
                    "activity_5",
                    &seq(r#"<imsss:rollupRules rollupProgressCompletion="false" rollupObjectiveSatisfied="false"/>"#)
                ),
                leaf(
                    "activity_6",
                    &seq(&format!(
                        "<imsss:sequencingRules>{}</imsss:sequencingRules>",
                        post_rule(r#"<imsss:ruleCondition condition="always"/>"#, "exitParent")
                    ))
                )
            )
        ),
        leaf("activity_7", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_2", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_6", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_3").satisfied, Some(true));
    assert_eq!(st(&e, "activity_4").satisfied, None, "untracked");
}

/// OB-14b: what each SCO's `cmi.objectives` starts with, read through shared objectives written
/// by earlier SCOs (satisfied derived from a measure, unknown statuses, several maps on one
/// objective, an untracked activity whose data is not recorded), and case-sensitive ids.
#[test]
fn ob_14b_objectives_initialised_from_shared_objectives() {
    let o = |id: &str, maps: &str| format!(r#"<imsss:objective objectiveID="{id}">{maps}</imsss:objective>"#);
    let m = |g: &str, attrs: &str| format!(r#"<imsss:mapInfo targetObjectiveID="{g}" {attrs}/>"#);
    let w = r#"writeSatisfiedStatus="true" writeNormalizedMeasure="true""#;
    let a1 = seq(&format!(
        r#"<imsss:objectives><imsss:primaryObjective/>{}{}{}{}{}{}</imsss:objectives>"#,
        o("obj4", ""),
        o("obj1", ""),
        o("OBJ1", ""),
        o("obj3", ""),
        o("obj2", &m("gObj-OB14b-1", w)).replace(
            r#"<imsss:objective objectiveID="obj2">"#,
            r#"<imsss:objective objectiveID="obj2" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.5</imsss:minNormalizedMeasure>"#
        ),
        o("obj", &m("obj1", &format!(r#"{w} readNormalizedMeasure="true" readSatisfiedStatus="true""#)))
    ));
    let a2 = seq(&format!(
        r#"<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ">{}</imsss:primaryObjective>{}{}{}{}{}</imsss:objectives>"#,
        m("gObj-OB14b-2", w),
        o("obj3", ""),
        o("obj2", ""),
        o("obj1", ""),
        o("obj5", &m("gObj-OB14b-3", w)),
        o("obj4", "")
    ));
    let a3 = format!(
        r#"<imsss:sequencing IDRef="seqCol-OB14b-1"><imsss:objectives><imsss:primaryObjective/>{}{}{}{}{}</imsss:objectives><imsss:deliveryControls tracked="false"/></imsss:sequencing>"#,
        o("obj5", ""),
        o("obj4", &m("gObj-OB14b-1", w)),
        o("obj3", &m("gObj-OB14b-2", "")),
        o("obj1", &m("gObj-OB14b-3", "")),
        o("obj2", "")
    );
    let a4 = seq(&format!(
        r#"<imsss:objectives><imsss:primaryObjective/>{}{}</imsss:objectives>"#,
        o(
            "obj1",
            &format!(
                "{}{}",
                m("gObj-OB14b-3", &format!(r#"{w} readNormalizedMeasure="false" readSatisfiedStatus="false""#)),
                m("gObj-OB14b-1", "")
            )
        ),
        o("obj2", &m("gObj-OB14b-2", ""))
    ));
    let org = format!(
        "{}{}{}{}{}",
        leaf("activity_1", &a1),
        leaf("activity_2", &a2),
        leaf("activity_3", &a3),
        leaf("activity_4", &a4),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = with_collection(
        &org,
        r#"<imsss:sequencing ID="seqCol-OB14b-1"><imsss:deliveryControls tracked="true"/></imsss:sequencing>"#,
    );
    let init = |e: &Engine, id: &str| e.runtime_init(id).expect("init").objectives;
    let get = |list: &[ObjectiveInit], id: &str| -> (Option<bool>, Option<f64>) {
        let o = list.iter().find(|o| o.id == id).expect(id);
        (o.satisfied, o.score_scaled)
    };
    let rep = |list: &[(&str, Option<&str>, Option<f64>)]| {
        let mut r = rt(&[]);
        r.exit = Some("suspend".into());
        for (id, ss, sc) in list {
            r.objectives.push(ObjectiveReport {
                id: (*id).into(),
                success_status: ss.map(str::to_owned),
                score_scaled: *sc,
                ..Default::default()
            });
        }
        r
    };
    assert_eq!(init(&e, "activity_1").len(), 6);
    let r1 = rep(&[
        ("obj1", Some("failed"), None),
        ("OBJ1", Some("passed"), None),
        ("obj2", None, Some(0.7)),
        ("obj3", Some("failed"), Some(0.4)),
        ("obj4", None, Some(0.25)),
    ]);
    visit(&mut e, "activity_1", r1, NavRequest::Continue);
    assert_eq!(init(&e, "activity_2").len(), 6);
    let mut r2 = rep(&[
        ("obj1", None, Some(0.9)),
        ("obj2", Some("passed"), None),
        ("obj3", Some("failed"), Some(0.75)),
        ("obj4", None, Some(0.1)),
        ("obj5", Some("failed"), Some(0.2)),
    ]);
    r2.score_scaled = Some(0.7);
    visit(&mut e, "activity_2", r2, NavRequest::Continue);
    let i3 = init(&e, "activity_3");
    assert_eq!(i3.len(), 5);
    assert_eq!(get(&i3, "obj1"), (Some(false), Some(0.2)));
    assert_eq!(get(&i3, "obj3"), (None, Some(0.7)));
    assert_eq!(get(&i3, "obj4"), (Some(true), Some(0.7)));
    let r3 = rep(&[
        ("obj1", Some("passed"), Some(0.9)),
        ("obj4", Some("passed"), Some(0.98)),
        ("obj3", Some("failed"), Some(0.2)),
    ]);
    visit(&mut e, "activity_3", r3, NavRequest::Continue);
    let i4 = init(&e, "activity_4");
    assert_eq!(i4.len(), 2);
    // activity_3 is not tracked: nothing it set reached the shared objectives.
    assert_eq!(get(&i4, "obj1"), (Some(true), Some(0.7)));
    assert_eq!(get(&i4, "obj2"), (None, Some(0.7)));
    visit(&mut e, "activity_4", rt(&[]), NavRequest::ExitAll);
}

/// RU-19a: a SCO that explicitly reports `success_status = unknown` keeps its status unknown
/// (End Attempt's default does not apply), so its cluster's status stays unknown and neither its
/// exit rule nor its retry fires.
#[test]
fn ru_19a_an_explicit_unknown_is_not_defaulted() {
    let cluster_seq = seq(&format!(
        r#"<imsss:controlMode flow="true" choice="false"/><imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="objectiveStatusKnown"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition condition="objectiveStatusKnown"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!("{}{}{}{cluster_seq}", leaf("activity_2", ""), leaf("activity_3", ""), leaf("activity_4", ""))
        ),
        leaf("activity_5", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "unknown")]), NavRequest::Continue),
            ("activity_5", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_4").satisfied, None);
    assert_eq!(st(&e, "activity_1").satisfied, None);
}

/// CO-12b: a cluster whose completion is read from a global objective one child writes (4th
/// edition completion map); retried while not completed, continued past once completed, with
/// the child's exitParent post-condition.
#[test]
fn co_12b_cluster_completion_read_from_a_child_written_global() {
    let a2 = seq(&format!(
        r#"<imsss:sequencingRules>{}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="PRIMARYOBJ"><adlseq:mapInfo targetObjectiveID="gObj-CO12b" readCompletionStatus="false" readProgressMeasure="false" writeCompletionStatus="true"/></adlseq:objective></adlseq:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="completed"/>"#, "exitParent")
    ));
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}{}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition condition="completed" operator="not"/></imsss:rollupConditions><imsss:rollupAction action="completed"/></imsss:rollupRule></imsss:rollupRules><imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="PRIMARYOBJ"><adlseq:mapInfo targetObjectiveID="gObj-CO12b"/></adlseq:objective></adlseq:objectives>"#,
        post_rule(r#"<imsss:ruleCondition condition="completed" operator="not"/>"#, "retry"),
        post_rule(r#"<imsss:ruleCondition condition="completed"/>"#, "continue")
    ));
    let org = format!(
        "{}{}{}",
        cluster("activity_1", &format!("{}{}{cluster_seq}", leaf("activity_2", &a2), leaf("activity_3", ""))),
        leaf("activity_4", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_2", rt(&[("CS", "not attempted")]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Continue),
            ("activity_2", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_4", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_1").completed, Some(true));
}

/// OB-09b: global objectives shared with another course (OB-09a, objectivesGlobalToSystem
/// true) make the first two activities skip from the start; the root retries itself while not
/// satisfied, and each new attempt on it forgets its children's earlier statuses.
#[test]
fn ob_09b_global_objectives_from_another_course() {
    let reader = |id: &str, obj: &str| {
        leaf(
            id,
            &seq(&format!(
                r#"{}<imsss:rollupRules rollupObjectiveSatisfied="false" rollupProgressCompletion="false"/><imsss:objectives><imsss:primaryObjective objectiveID="{obj}"><imsss:mapInfo targetObjectiveID="gObj-OB09-{obj}"/></imsss:primaryObjective></imsss:objectives>"#,
                pre(&format!(r#"<imsss:ruleCondition referencedObjective="{obj}" condition="satisfied"/>"#), "skip")
            )),
        )
    };
    let a3 = seq(
        r#"<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-OB09-obj1" writeSatisfiedStatus="true"/></imsss:objective><imsss:objective objectiveID="obj2"><imsss:mapInfo targetObjectiveID="gObj-OB09-obj2" writeSatisfiedStatus="true"/></imsss:objective></imsss:objectives>"#,
    );
    let org = format!(
        "{}{}{}{}",
        reader("activity_1", "obj1"),
        reader("activity_2", "obj2"),
        leaf("activity_3", &a3),
        seq(&format!(
            r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
            post_rule(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "retry")
        ))
    );
    let mut globals = std::collections::BTreeMap::new();
    for g in ["gObj-OB09-obj1", "gObj-OB09-obj2"] {
        globals.insert(g.to_owned(), state::GlobalObjective { satisfied: Some(true), ..Default::default() });
    }
    let mut e = Engine::with_globals(def(&org), 1, globals);
    go(&mut e, NavRequest::Start);
    let a3_report = |o1: &str, o2: &str, ss: &str| {
        let mut r = rt(&[("SS", ss), ("CS", "completed")]);
        for (id, v) in [("obj1", o1), ("obj2", o2)] {
            r.objectives.push(ObjectiveReport { id: id.into(), success_status: Some(v.into()), ..Default::default() });
        }
        r
    };
    play(
        &mut e,
        &[
            ("activity_3", a3_report("passed", "failed", "failed"), NavRequest::Continue),
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_3", a3_report("failed", "failed", "failed"), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_2", rt(&[]), NavRequest::Continue),
        ],
    );
    let out = visit(&mut e, "activity_3", a3_report("passed", "passed", "passed"), NavRequest::Continue);
    assert!(out.end_session, "{out:?}");
    assert_eq!(e.course_status().satisfied, Some(true));
}

/// What an objective of `activity`'s `cmi.objectives` starts with: raw, min, max, completion,
/// progress (`None`: not initialised, or `unknown` for the completion).
type ObjInit = (Option<f64>, Option<f64>, Option<f64>, Option<bool>, Option<f64>);
fn obj_init(e: &Engine, activity: &str, id: &str) -> ObjInit {
    let init = e.runtime_init(activity).expect("init");
    let o = init.objectives.iter().find(|o| o.id == id).cloned().expect("objective");
    (o.score_raw, o.score_min, o.score_max, o.completed, o.progress_measure)
}

/// What a test SCO of SX-11 sets on its objective `obj`: raw, min, max, completion, progress.
fn sx11_report(raw: f64, min: f64, max: f64, cs: &str, pm: f64, exit: &str) -> RuntimeReport {
    RuntimeReport {
        exit: Some(exit.into()),
        objectives: vec![ObjectiveReport {
            id: "obj".into(),
            score_raw: Some(raw),
            score_min: Some(min),
            score_max: Some(max),
            completion_status: Some(cs.into()),
            progress_measure: Some(pm),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Two activities whose objective `obj` shares a global through 4th edition `adlseq:mapInfo` with
/// the given attributes (flow, no choice): the shape of ADL's SX-11 packages.
fn sx11(map1: &str, map2: &str) -> Engine {
    let objectives = |map: &str| {
        seq(&format!(
            r#"<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="obj"><adlseq:mapInfo targetObjectiveID="gObj-SX11" {map}/></adlseq:objective></adlseq:objectives>"#
        ))
    };
    start(&format!(
        "{}{}{}",
        leaf("activity_1", &objectives(map1)),
        leaf("activity_2", &objectives(map2)),
        seq(CHOICE_FALSE_FLOW)
    ))
}

const SX11_WRITE_ALL: &str = r#"writeRawScore="true" writeMinScore="true" writeMaxScore="true" writeCompletionStatus="true" writeProgressMeasure="true""#;

/// SX-11a: activity_1 writes its objective's raw, min and max scores, completion and progress to
/// a global; activity_2 reads it with `readMaxScore`, `readCompletionStatus` and
/// `readProgressMeasure` off, sets its own values and suspends; activity_1's second attempt reads
/// the global (its own earlier values: activity_2 writes nothing); activity_2, resumed, starts with
/// the global's raw and min scores and its own max, completion and progress.
#[test]
fn sx_11a_raw_min_and_max_scores_through_adlseq_maps() {
    sx_11a();
}

fn sx_11a() -> Engine {
    let mut e =
        sx11(SX11_WRITE_ALL, r#"readMaxScore="false" readCompletionStatus="false" readProgressMeasure="false""#);
    let out = visit(
        &mut e,
        "activity_1",
        sx11_report(2000.0, -4.008, 11000.0, "incomplete", 0.66, "normal"),
        NavRequest::Continue,
    );
    assert_eq!(out.deliver.as_deref(), Some("activity_2"));
    assert_eq!(obj_init(&e, "activity_2", "obj"), (Some(2000.0), Some(-4.008), None, None, None));
    let out = visit(
        &mut e,
        "activity_2",
        sx11_report(356.0, -3.0, 3000.0, "completed", 0.8, "suspend"),
        NavRequest::Previous,
    );
    assert_eq!(out.deliver.as_deref(), Some("activity_1"));
    assert_eq!(obj_init(&e, "activity_1", "obj"), (Some(2000.0), Some(-4.008), Some(11000.0), Some(false), Some(0.66)));
    let out =
        visit(&mut e, "activity_1", sx11_report(7.0, 1.0, 3.3333, "unknown", 0.011, "normal"), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_2"));
    assert_eq!(e.runtime_init("activity_2").expect("init").entry, "resume");
    assert_eq!(obj_init(&e, "activity_2", "obj"), (Some(7.0), Some(1.0), Some(3000.0), Some(true), Some(0.8)));
    e
}

/// SX-11c: another course, whose objective maps the same global with the default reads, starts
/// with what SX-11a left in it (its objectives are global to the system): activity_1's second
/// attempt's raw, min and max scores and progress, and the completion it reported `unknown`.
#[test]
fn sx_11c_another_course_reads_what_sx_11a_left() {
    let globals = sx_11a().state().globals;
    let org = format!(
        "{}{}{}",
        leaf(
            "activity_1",
            &seq(
                r#"<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="obj"><adlseq:mapInfo targetObjectiveID="gObj-SX11"/></adlseq:objective></adlseq:objectives>"#
            )
        ),
        leaf("activity_2", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = Engine::with_globals(def(&org), 7, globals);
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("activity_1"));
    assert_eq!(obj_init(&e, "activity_1", "obj"), (Some(7.0), Some(1.0), Some(3.3333), None, Some(0.011)));
}

/// SX-11b: activity_2's map does not read the raw and min scores but writes max, completion and
/// progress. activity_1 starts with nothing; activity_2 reads max, completion and progress;
/// activity_1's second attempt reads activity_2's max, completion and progress and the raw and min
/// it wrote itself; after it reports completion `unknown`, activity_2's new attempt reads `unknown`.
#[test]
fn sx_11b_shared_scores_written_by_both_activities() {
    let mut e = sx11(
        SX11_WRITE_ALL,
        r#"readRawScore="false" readMinScore="false" writeMaxScore="true" writeCompletionStatus="true" writeProgressMeasure="true""#,
    );
    assert_eq!(obj_init(&e, "activity_1", "obj"), (None, None, None, None, None));
    let out = visit(
        &mut e,
        "activity_1",
        sx11_report(578.0, -9.0, 2222.22, "completed", 0.5, "normal"),
        NavRequest::Continue,
    );
    assert_eq!(out.deliver.as_deref(), Some("activity_2"));
    assert_eq!(obj_init(&e, "activity_2", "obj"), (None, None, Some(2222.22), Some(true), Some(0.5)));
    let out =
        visit(&mut e, "activity_2", sx11_report(68.0, 2.0, 157.0, "incomplete", 0.05, "normal"), NavRequest::Previous);
    assert_eq!(out.deliver.as_deref(), Some("activity_1"));
    assert_eq!(obj_init(&e, "activity_1", "obj"), (Some(578.0), Some(-9.0), Some(157.0), Some(false), Some(0.05)));
    let out = visit(
        &mut e,
        "activity_1",
        sx11_report(-68.0, -100.0, 4589.0, "unknown", 0.99, "normal"),
        NavRequest::Continue,
    );
    assert_eq!(out.deliver.as_deref(), Some("activity_2"));
    assert_eq!(obj_init(&e, "activity_2", "obj"), (None, None, Some(4589.0), None, Some(0.99)));
}

/// RU-14a: a cluster (flow, skipped when satisfied) satisfied by the rollup rule "satisfied if any
/// child is not completed". activity_2 fails and continues; activity_3 reports incomplete and asks
/// for previous, but its post-condition (satisfied, which End Attempt defaults it to) exits all,
/// overriding the request. Relaunched, the course skips the satisfied cluster and delivers
/// activity_4; the new attempt on the course begins only at that delivery, after the skip was
/// decided on the cluster's status from the first attempt.
#[test]
fn ru_14a_rollup_on_incomplete_children_then_skip_after_relaunch() {
    let a3 = seq(&format!(
        "<imsss:sequencingRules>{}</imsss:sequencingRules>",
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "exitAll")
    ));
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}{}<imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition operator="not" condition="completed"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>"#,
        pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip")
    ));
    let org = format!(
        "{}{}{}",
        cluster("activity_1", &format!("{}{}{cluster_seq}", leaf("activity_2", ""), leaf("activity_3", &a3))),
        leaf("activity_4", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let out = visit(&mut e, "activity_2", rt(&[("SS", "failed")]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    assert_eq!(st(&e, "activity_1").satisfied, None, "no child is known to be incomplete yet");
    let out = visit(&mut e, "activity_3", rt(&[("CS", "incomplete")]), NavRequest::Previous);
    assert_eq!(out.deliver, None, "the post-condition's exit all wins over previous");
    assert!(out.end_session);
    assert_eq!(st(&e, "activity_3").satisfied, Some(true), "End Attempt default");
    assert_eq!(st(&e, "activity_3").completed, Some(false));
    assert_eq!(st(&e, "activity_1").satisfied, Some(true), "a child is incomplete");
    // Relaunch: a new sequencing session on the same registration.
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("activity_4"));
    let out = visit(&mut e, "activity_4", rt(&[]), NavRequest::ExitAll);
    assert!(out.end_session);
}

/// The RU-14 shape: activity_1 { activity_2, activity_3 } with the given sequencing on the
/// cluster and activity_3, then activity_4; flow without choice everywhere.
fn ru14(cluster_seq: &str, a3: &str) -> Engine {
    start(&format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}",
                leaf("activity_2", ""),
                leaf("activity_3", a3),
                seq(&format!("{CHOICE_FALSE_FLOW}{cluster_seq}"))
            )
        ),
        leaf("activity_4", ""),
        seq(CHOICE_FALSE_FLOW)
    ))
}

/// After the first session ended: relaunched, the course skips the satisfied cluster.
fn ru14_relaunch(e: &mut Engine) {
    assert!(e.session_ended());
    assert_eq!(st(e, "activity_1").satisfied, Some(true));
    assert_eq!(go(e, NavRequest::Start).as_deref(), Some("activity_4"), "the satisfied cluster is skipped");
    assert!(visit(e, "activity_4", rt(&[]), NavRequest::ExitAll).end_session);
}

const SKIP_IF_SATISFIED: &str = r#"<imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule>"#;

/// RU-14b: the cluster reads a shared objective (obj1) that activity_3 writes; its exit rule
/// (obj1 satisfied: exit) and post-condition (obj1 satisfied: exit all) end the course when
/// activity_3 passes obj1 and asks for previous; its rollup (satisfied if any child is incomplete)
/// satisfies it, so the relaunched course skips it.
#[test]
fn ru_14b_exit_and_post_conditions_on_a_shared_objective() {
    let obj1 = |cond: &str, action: &str| {
        format!(
            r#"<imsss:ruleConditions><imsss:ruleCondition referencedObjective="obj1" condition="{cond}"/></imsss:ruleConditions><imsss:ruleAction action="{action}"/>"#
        )
    };
    let cluster_seq = format!(
        r#"<imsss:sequencingRules>{SKIP_IF_SATISFIED}<imsss:exitConditionRule>{}</imsss:exitConditionRule><imsss:postConditionRule>{}</imsss:postConditionRule></imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition operator="not" condition="completed"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules><imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU14b"/></imsss:objective></imsss:objectives>"#,
        obj1("satisfied", "exit"),
        obj1("satisfied", "exitAll")
    );
    let a3 = seq(
        r#"<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj-RU14b" writeSatisfiedStatus="true"/></imsss:objective></imsss:objectives>"#,
    );
    let mut e = ru14(&cluster_seq, &a3);
    let out = visit(&mut e, "activity_2", rt(&[]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    let mut r = rt(&[("CS", "incomplete")]);
    r.objectives.push(ObjectiveReport {
        id: "obj1".into(),
        success_status: Some("passed".into()),
        ..Default::default()
    });
    let out = visit(&mut e, "activity_3", r, NavRequest::Previous);
    assert_eq!(out.deliver, None, "exit, then exit all, instead of previous");
    assert!(out.end_session);
    ru14_relaunch(&mut e);
}

/// RU-14c: the cluster is satisfied by measure (at least -0.25); activity_3 scores -0.4 and exits
/// all. Measure rollup counts activity_2's weight without a measure, so the cluster's measure is
/// -0.2: satisfied, and skipped when relaunched.
#[test]
fn ru_14c_satisfied_by_a_rolled_up_measure() {
    let cluster_seq = format!(
        r#"<imsss:sequencingRules>{SKIP_IF_SATISFIED}</imsss:sequencingRules><imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true" objectiveID="PRIMARYOBJ"><imsss:minNormalizedMeasure>-0.25</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>"#
    );
    let mut e = ru14(&cluster_seq, "");
    let out = visit(&mut e, "activity_2", rt(&[]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    assert!(visit(&mut e, "activity_3", rt(&[("SCA", "-0.4")]), NavRequest::ExitAll).end_session);
    assert_eq!(st(&e, "activity_1").measure, Some(-0.2));
    ru14_relaunch(&mut e);
}

/// RU-14d: the cluster is satisfied when any child is not satisfied; activity_3 fails and exits all
/// (activity_2, silent, was satisfied by End Attempt's default); relaunched, the cluster is skipped.
#[test]
fn ru_14d_satisfied_when_any_child_is_not() {
    let cluster_seq = format!(
        r#"<imsss:sequencingRules>{SKIP_IF_SATISFIED}</imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions><imsss:rollupCondition operator="not" condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules>"#
    );
    let mut e = ru14(&cluster_seq, "");
    let out = visit(&mut e, "activity_2", rt(&[]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
    assert!(visit(&mut e, "activity_3", rt(&[("SS", "failed")]), NavRequest::ExitAll).end_session);
    ru14_relaunch(&mut e);
}

/// Three activities under flow without choice; activity_2's sequencing holds `rules`.
fn sx12(rules: &str) -> Engine {
    start(&format!(
        "{}{}{}{}",
        leaf("activity_1", ""),
        leaf("activity_2", &seq(rules)),
        leaf("activity_3", ""),
        seq(CHOICE_FALSE_FLOW)
    ))
}

/// SX-12a: "skip if not satisfied" on an activity never attempted: its status is unknown, so "not
/// satisfied" is unknown too and the rule does not fire; flow delivers it.
#[test]
fn sx_12a_not_of_an_unknown_status_does_not_skip() {
    let mut e = sx12(&pre(r#"<imsss:ruleCondition condition="satisfied" operator="not"/>"#, "skip"));
    let out = visit(&mut e, "activity_1", rt(&[]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_2"));
    // Beyond ADL's package, to show the rule is live: once activity_2 failed, flow skips it.
    let out = visit(&mut e, "activity_2", rt(&[("SS", "failed")]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    let out = visit(&mut e, "activity_3", rt(&[]), NavRequest::Previous);
    assert_eq!(out.deliver.as_deref(), Some("activity_1"), "not satisfied now: skipped");
}

/// SX-12b: "previous if not satisfied" as a post-condition, on an activity that reports its success
/// `unknown` (kept unknown, RU-19a): the rule does not fire and continue goes on.
#[test]
fn sx_12b_post_condition_on_an_explicit_unknown_does_not_fire() {
    let rules = post_rule(r#"<imsss:ruleCondition condition="satisfied" operator="not"/>"#, "previous");
    let mut e = sx12(&format!("<imsss:sequencingRules>{rules}</imsss:sequencingRules>"));
    visit(&mut e, "activity_1", rt(&[]), NavRequest::Continue);
    let out = visit(&mut e, "activity_2", rt(&[("SS", "unknown")]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    assert!(visit(&mut e, "activity_3", rt(&[]), NavRequest::ExitAll).end_session);
    // Beyond ADL's package, to show the rule is live: a failed activity_2 is sent back.
    let mut e = sx12(&format!("<imsss:sequencingRules>{rules}</imsss:sequencingRules>"));
    visit(&mut e, "activity_1", rt(&[]), NavRequest::Continue);
    let out = visit(&mut e, "activity_2", rt(&[("SS", "failed")]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_1"));
}

/// SX-12c: "skip if not completed" on an activity that reports its completion `unknown`: neither
/// the first delivery nor going back to it (previous from activity_3) skips it.
#[test]
fn sx_12c_skip_if_not_completed_with_an_unknown_completion() {
    let mut e = sx12(&pre(r#"<imsss:ruleCondition condition="completed" operator="not"/>"#, "skip"));
    visit(&mut e, "activity_1", rt(&[]), NavRequest::Continue);
    let out = visit(&mut e, "activity_2", rt(&[("CS", "unknown")]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    assert_eq!(st(&e, "activity_2").completed, None);
    let out = visit(&mut e, "activity_3", rt(&[]), NavRequest::Previous);
    assert_eq!(out.deliver.as_deref(), Some("activity_2"));
    assert!(visit(&mut e, "activity_2", rt(&[]), NavRequest::ExitAll).end_session);
}

/// The SX-10 shape: activity_1 with `a1` (its sequencing), then activity_2, under flow. activity_1
/// reports `r` and continues; its post-condition (satisfied: exit all) must end the course
/// instead, activity_2 never delivered, and the global objective `global` hold what it wrote.
fn sx10(a1: &str, r: RuntimeReport, global: &str) -> crate::sequencing::state::GlobalObjective {
    let mut e = start(&format!("{}{}{}", leaf("activity_1", &seq(a1)), leaf("activity_2", ""), seq(FLOW)));
    let out = visit(&mut e, "activity_1", r, NavRequest::Continue);
    assert_eq!(out.deliver, None, "exit all instead of continue");
    assert!(out.end_session);
    assert_eq!(st(&e, "activity_2").attempt_count, 0);
    e.state().globals.get(global).cloned().expect("the global objective was written")
}

fn exit_all_if(referenced: &str) -> String {
    format!(
        r#"<imsss:sequencingRules>{}</imsss:sequencingRules>"#,
        post_rule(&format!(r#"<imsss:ruleCondition {referenced} condition="satisfied"/>"#), "exitAll")
    )
}

/// SX-10a: a non-primary objective passed by the SCO, written to a global, fires the post-condition
/// that references it.
#[test]
fn sx_10a_post_condition_on_a_passed_non_primary_objective() {
    let a1 = format!(
        r#"{}<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="obj1"><imsss:mapInfo targetObjectiveID="gObj_SX10a" writeSatisfiedStatus="true"/></imsss:objective></imsss:objectives>"#,
        exit_all_if(r#"referencedObjective="obj1""#)
    );
    let mut r = rt(&[]);
    r.objectives.push(ObjectiveReport {
        id: "obj1".into(),
        success_status: Some("passed".into()),
        ..Default::default()
    });
    assert_eq!(sx10(&a1, r, "gObj_SX10a").satisfied, Some(true));
}

/// SX-10b: the primary objective satisfied by measure (0.8 against 0.7), its measure written.
#[test]
fn sx_10b_post_condition_on_a_primary_satisfied_by_measure() {
    let a1 = format!(
        r#"{}<imsss:objectives><imsss:primaryObjective satisfiedByMeasure="true" objectiveID="PRIMARYOBJ"><imsss:minNormalizedMeasure>0.7</imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="gObj-SX10b" writeNormalizedMeasure="true"/></imsss:primaryObjective></imsss:objectives>"#,
        exit_all_if("")
    );
    assert_eq!(sx10(&a1, rt(&[("SCA", "0.8")]), "gObj-SX10b").measure, Some(0.8));
}

/// SX-10c: the primary objective passed by the SCO, its status written.
#[test]
fn sx_10c_post_condition_on_a_passed_primary_objective() {
    let a1 = format!(
        r#"{}<imsss:objectives><imsss:primaryObjective objectiveID="PRIMARYOBJ"><imsss:mapInfo targetObjectiveID="gObj-SX10c" writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>"#,
        exit_all_if("")
    );
    assert_eq!(sx10(&a1, rt(&[("SS", "passed")]), "gObj-SX10c").satisfied, Some(true));
}

/// SX-10d: a non-primary objective satisfied by measure (0.0 against -0.7), its measure written.
#[test]
fn sx_10d_post_condition_on_a_non_primary_satisfied_by_measure() {
    let a1 = format!(
        r#"{}<imsss:objectives><imsss:primaryObjective/><imsss:objective satisfiedByMeasure="true" objectiveID="obj1"><imsss:minNormalizedMeasure>-0.7</imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="gObj-SX10d" writeNormalizedMeasure="true"/></imsss:objective></imsss:objectives>"#,
        exit_all_if(r#"referencedObjective="obj1""#)
    );
    let mut r = rt(&[]);
    r.objectives.push(ObjectiveReport { id: "obj1".into(), score_scaled: Some(0.0), ..Default::default() });
    assert_eq!(sx10(&a1, r, "gObj-SX10d").measure, Some(0.0));
}

/// SX-07b: a choice of a cluster flows into it, and its children's pre-condition rules apply:
/// activity_2 ("skip if not satisfied", silent on first entry because its status is unknown) fails
/// and asks for a choice of its own cluster, which then skips it and delivers activity_3.
#[test]
fn sx_07b_choice_of_a_cluster_skips_a_failed_child() {
    let a2 = pre(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "skip");
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!("{}{}{}", leaf("activity_2", &seq(&a2)), leaf("activity_3", ""), seq(CHOICE_FALSE_FLOW))
        ),
        leaf("activity_4", ""),
        seq(r#"<imsss:controlMode choice="true" flow="true"/>"#)
    );
    let mut e = start(&org);
    let out = visit(&mut e, "activity_2", rt(&[("SS", "failed")]), NavRequest::Choice("activity_1".into()));
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    assert!(visit(&mut e, "activity_3", rt(&[]), NavRequest::ExitAll).end_session);
}

/// SX-07c: a cluster with an exit rule (completed: exit) and a post-condition (completed: retry).
/// Once both children are done, leaving activity_3 exits and retries the cluster; the retry's flow
/// skips activity_2 ("skip if satisfied", satisfied by End Attempt in the first attempt: the new
/// attempt begins only when activity_3 is delivered) and delivers activity_3 again.
#[test]
fn sx_07c_exit_rule_then_retry_skips_a_satisfied_child() {
    let a2 = pre(r#"<imsss:ruleCondition condition="satisfied"/>"#, "skip");
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition condition="completed"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{}",
        cluster("activity_1", &format!("{}{}{cluster_seq}", leaf("activity_2", &seq(&a2)), leaf("activity_3", ""))),
        leaf("activity_4", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    let out = visit(&mut e, "activity_2", rt(&[]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"));
    let out = visit(&mut e, "activity_3", rt(&[]), NavRequest::Continue);
    assert_eq!(out.deliver.as_deref(), Some("activity_3"), "exit, retry, activity_2 skipped");
    assert_eq!(st(&e, "activity_1").attempt_count, 2);
    assert_eq!(st(&e, "activity_3").attempt_count, 2);
    assert!(visit(&mut e, "activity_3", rt(&[]), NavRequest::ExitAll).end_session);
}

/// RU-19b: a cluster whose exit rule and post-condition fire on "activity progress known" (exit,
/// then retry). Its last child reports its completion `unknown`, which End Attempt leaves unknown
/// (RU-19a), so the cluster's progress stays unknown, neither rule fires, and flow goes on.
#[test]
fn ru_19b_an_explicit_unknown_completion_keeps_a_cluster_from_exiting() {
    let known =
        r#"<imsss:ruleConditions><imsss:ruleCondition condition="activityProgressKnown"/></imsss:ruleConditions>"#;
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule>{known}<imsss:ruleAction action="exit"/></imsss:exitConditionRule><imsss:postConditionRule>{known}<imsss:ruleAction action="retry"/></imsss:postConditionRule></imsss:sequencingRules>"#
    ));
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!("{}{}{}{cluster_seq}", leaf("activity_2", ""), leaf("activity_3", ""), leaf("activity_4", ""))
        ),
        leaf("activity_5", ""),
        seq(CHOICE_FALSE_FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "unknown")]), NavRequest::Continue),
            ("activity_5", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_1").completed, None);
    assert_eq!(st(&e, "activity_1").attempt_count, 1, "never retried");
}

/// RU-18a: activity_1 { activity_2, activity_3 { 4, 5, 6 }, activity_7 } retries when not
/// satisfied; activity_7 exits its parent when satisfied. The learner chooses activity_6 from
/// activity_4, skipping activity_5; when activity_7 (satisfied by End Attempt) exits activity_1,
/// activity_5's unknown status leaves activity_1 unknown, so "not satisfied" does not fire the
/// retry and flow delivers activity_8.
#[test]
fn ru_18a_exit_parent_without_a_retry_over_an_unknown_status() {
    let a7 = seq(&format!(
        "<imsss:sequencingRules>{}</imsss:sequencingRules>",
        post_rule(r#"<imsss:ruleCondition condition="satisfied"/>"#, "exitParent")
    ));
    let a1 = seq(&format!(
        r#"{FLOW}<imsss:sequencingRules>{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{}",
        cluster(
            "activity_1",
            &format!(
                "{}{}{}{a1}",
                leaf("activity_2", ""),
                cluster(
                    "activity_3",
                    &format!(
                        "{}{}{}{}",
                        leaf("activity_4", ""),
                        leaf("activity_5", ""),
                        leaf("activity_6", ""),
                        seq(FLOW)
                    )
                ),
                leaf("activity_7", &a7)
            )
        ),
        leaf("activity_8", ""),
        seq(FLOW)
    );
    let mut e = start(&org);
    play(
        &mut e,
        &[
            ("activity_2", rt(&[]), NavRequest::Continue),
            ("activity_4", rt(&[]), NavRequest::Choice("activity_6".into())),
            ("activity_6", rt(&[]), NavRequest::Continue),
            ("activity_7", rt(&[]), NavRequest::Continue),
            ("activity_8", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_1").satisfied, None);
    assert_eq!(st(&e, "activity_1").attempt_count, 1, "never retried");
    assert_eq!(st(&e, "activity_5").attempt_count, 0);
}

/// The RU-02 / RU-05 cluster: an exit rule on `cond` (exit), a post-condition on `cond` doing
/// `post`, and a rollup rule "`action` if `set` (any, none, …) children are `child`".
fn ru02(cond: &str, post: &str, set: &str, child: &str, action: &str) -> Engine {
    let rule = |a: &str| {
        format!(
            r#"<imsss:ruleConditions><imsss:ruleCondition condition="{cond}"/></imsss:ruleConditions><imsss:ruleAction action="{a}"/>"#
        )
    };
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule>{}</imsss:exitConditionRule><imsss:postConditionRule>{}</imsss:postConditionRule></imsss:sequencingRules><imsss:rollupRules><imsss:rollupRule childActivitySet="{set}"><imsss:rollupConditions><imsss:rollupCondition condition="{child}"/></imsss:rollupConditions><imsss:rollupAction action="{action}"/></imsss:rollupRule></imsss:rollupRules>"#,
        rule("exit"),
        rule(post)
    ));
    start(&six("", "", &cluster_seq))
}

/// RU-02a: the cluster is completed when any child is satisfied; a failed child does not, a passed
/// one does, and then its exit rule and post-condition (completed: previous) take the learner back
/// to activity_1.
#[test]
fn ru_02a_completed_if_any_child_satisfied_then_previous() {
    let mut e = ru02("completed", "previous", "any", "satisfied", "completed");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").completed, Some(true));
    assert_eq!(st(&e, "activity_5").attempt_count, 0);
}

/// RU-02b: the cluster is satisfied when any child is completed; an incomplete child does not, a
/// completed one does, and its exit rule and post-condition (satisfied: continue) override the
/// child's previous and deliver activity_6.
#[test]
fn ru_02b_satisfied_if_any_child_completed_then_continue() {
    let mut e = ru02("satisfied", "continue", "any", "completed", "satisfied");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "completed")]), NavRequest::Previous),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
}

/// RU-05a: the cluster is completed when none of its children is satisfied, which holds only once
/// all three have failed (an unknown child keeps "none" from holding); then its exit rule and
/// post-condition (completed: previous) take the learner back to activity_1.
#[test]
fn ru_05a_completed_if_no_child_satisfied() {
    let mut e = ru02("completed", "previous", "none", "satisfied", "completed");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").completed, Some(true));
}

/// RU-05b: the cluster is satisfied when none of its children is completed. activity_4 completes,
/// so going back to it from activity_5 and leaving it incomplete is what makes "none completed"
/// hold; the cluster's exit rule and post-condition (satisfied: continue) then override that
/// activity's previous and deliver activity_6.
#[test]
fn ru_05b_satisfied_if_no_child_completed() {
    let mut e = ru02("satisfied", "continue", "none", "completed", "satisfied");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_5", rt(&[("CS", "incomplete")]), NavRequest::Previous),
            ("activity_4", rt(&[("CS", "incomplete")]), NavRequest::Previous),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
}

/// RU-01ab: the cluster refers to a collection entry whose rollup rule is "satisfied if all
/// children are not satisfied", but its own (empty) `rollupRules` replaces it, so the default rollup
/// applies: three passed children satisfy it, and its exit rule and post-condition (satisfied:
/// previous) take the learner back to activity_1.
#[test]
fn ru_01ab_an_empty_rollup_rules_element_replaces_the_collections() {
    let org = six(
        "",
        "",
        &format!(
            r#"<imsss:sequencing IDRef="seqCol-RU01ab-1">{CHOICE_FALSE_FLOW}{}<imsss:rollupRules></imsss:rollupRules></imsss:sequencing>"#,
            rules("satisfied", "satisfied")
        ),
    );
    let collection = r#"<imsss:sequencing ID="seqCol-RU01ab-1"><imsss:rollupRules><imsss:rollupRule childActivitySet="all"><imsss:rollupConditions><imsss:rollupCondition operator="not" condition="satisfied"/></imsss:rollupConditions><imsss:rollupAction action="satisfied"/></imsss:rollupRule></imsss:rollupRules></imsss:sequencing>"#;
    let mut e = with_collection(&org, collection);
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
}

/// RU-01ba: default completion rollup with the LMS's Continue (the SCOs request nothing): one
/// incomplete child leaves the cluster incomplete, so its exit rule (completed: exit) stays silent
/// and flow goes on to activity_6.
#[test]
fn ru_01ba_default_completion_rollup_with_an_incomplete_child() {
    let mut e = start(&six("", "", &seq(&format!("{CHOICE_FALSE_FLOW}{}", rules("completed", "completed")))));
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_5", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").completed, Some(false));
}

/// RU-01bb: every child completed: the default rollup completes the cluster, whose exit rule and
/// post-condition (completed: previous) take the learner back to activity_1.
#[test]
fn ru_01bb_default_completion_rollup_then_previous() {
    let mut e = start(&six("", "", &seq(&format!("{CHOICE_FALSE_FLOW}{}", rules("completed", "completed")))));
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_5", rt(&[("CS", "completed")]), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").completed, Some(true));
}

/// The RU-04 cluster: exit rule and post-condition (previous) on `cond`, and "`cond` if at least
/// 50% of the children are `cond` or have a known measure".
fn ru04(cond: &str) -> Engine {
    let cluster_seq = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}{}<imsss:rollupRules><imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.5"><imsss:rollupConditions><imsss:rollupCondition condition="{cond}"/><imsss:rollupCondition condition="objectiveMeasureKnown"/></imsss:rollupConditions><imsss:rollupAction action="{cond}"/></imsss:rollupRule></imsss:rollupRules>"#,
        rules(cond, cond)
    ));
    start(&six("", "", &cluster_seq))
}

/// RU-04ab: a child with a measure and a passed child make two of three: the cluster is
/// satisfied when the last one leaves, and exit and previous take the learner to activity_1.
#[test]
fn ru_04ab_at_least_percent_satisfied_then_previous() {
    let mut e = ru04("satisfied");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete"), ("SCA", "0.75")]), NavRequest::Continue),
            ("activity_4", rt(&[("CS", "completed"), ("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "passed")]), NavRequest::Previous),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
}

/// RU-04ba: only activity_4 (completed by End Attempt's default) counts: one of three is not
/// enough, so flow goes on to activity_6.
#[test]
fn ru_04ba_at_least_percent_completed_not_reached() {
    let mut e = ru04("completed");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_ne!(st(&e, "activity_2").completed, Some(true));
}

/// RU-04bb: two children with measures make two of three once activity_4 leaves, before
/// activity_5 is ever attempted: the cluster is completed, exits, and goes back to activity_1.
#[test]
fn ru_04bb_at_least_percent_completed_by_measures() {
    let mut e = ru04("completed");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete"), ("SCA", "0.75")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "failed"), ("SCA", "0.25")]), NavRequest::Continue),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_5").attempt_count, 0);
}

/// RU-04bc: with the LMS's Continue and Previous: one of three falls short, so activity_6; going
/// back into the cluster starts a new attempt on it, which forgets activity_3 and activity_4, so
/// activity_5 (completed by default) alone is not enough either; back in activity_4, a measure
/// makes two of three and the cluster exits to activity_1.
#[test]
fn ru_04bc_back_into_the_cluster_counts_the_new_attempt_only() {
    let mut e = ru04("completed");
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_4", rt(&[("SS", "failed")]), NavRequest::Continue),
            ("activity_5", rt(&[("CS", "incomplete")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::Previous),
            ("activity_5", rt(&[]), NavRequest::Previous),
            ("activity_4", rt(&[("SCA", "0.25")]), NavRequest::Previous),
            ("activity_1", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").attempt_count, 2);
}

/// RU-07b: activity_3 (attempt limit 1, left out of completion rollup, required for satisfied if
/// not skipped) and activity_4 (always skipped; the collection says "always" required, its own
/// rollup considerations say "if attempted") around activity_5. Both graded children pass, so the
/// cluster is completed and satisfied: its exit rule fires without the retry, and flow goes on.
#[test]
fn ru_07b_rollup_considerations_of_the_item_over_its_collection() {
    let a3 = seq(&format!(
        r#"{}<imsss:limitConditions attemptLimit="1"/><imsss:rollupRules rollupProgressCompletion="false"/><adlseq:rollupConsiderations requiredForSatisfied="ifNotSkipped"/>"#,
        pre(r#"<imsss:ruleCondition condition="attemptLimitExceeded"/>"#, "skip")
    ));
    let a4 = format!(
        r#"<imsss:sequencing IDRef="seqCol-RU07b-1">{}<adlseq:rollupConsiderations requiredForCompleted="ifAttempted" requiredForSatisfied="ifAttempted"/></imsss:sequencing>"#,
        pre(r#"<imsss:ruleCondition condition="always"/>"#, "skip")
    );
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
        r#"<imsss:sequencing ID="seqCol-RU07b-1"><adlseq:rollupConsiderations requiredForCompleted="always" requiredForSatisfied="always"/></imsss:sequencing>"#,
    );
    play(
        &mut e,
        &[
            ("activity_1", rt(&[]), NavRequest::Continue),
            ("activity_3", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_5", rt(&[("SS", "passed")]), NavRequest::Continue),
            ("activity_6", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_2").satisfied, Some(true));
    assert_eq!(st(&e, "activity_2").attempt_count, 1);
    assert_eq!(st(&e, "activity_4").attempt_count, 0);
}

/// RU-07c: the course itself exits when completed and retries when not satisfied. activity_1
/// (attempt limit 2, skipped once exceeded, out of completion rollup) fails in both attempts, so
/// each completion of activity_5 exits and retries the course, until activity_1 is skipped and the
/// third attempt starts at activity_5.
#[test]
fn ru_07c_a_course_retried_until_its_cluster_runs_out_of_attempts() {
    let a1 = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}{}<imsss:limitConditions attemptLimit="2"/><imsss:rollupRules rollupProgressCompletion="false"/><adlseq:rollupConsiderations requiredForSatisfied="ifNotSkipped"/>"#,
        pre(r#"<imsss:ruleCondition condition="attemptLimitExceeded"/>"#, "skip")
    ));
    let a6 = seq(r#"<imsss:rollupRules rollupProgressCompletion="false" rollupObjectiveSatisfied="false"/>"#);
    let root = seq(&format!(
        r#"{CHOICE_FALSE_FLOW}<imsss:sequencingRules><imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="completed"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>{}</imsss:sequencingRules>"#,
        post_rule(r#"<imsss:ruleCondition operator="not" condition="satisfied"/>"#, "retry")
    ));
    let org = format!(
        "{}{}{}{root}",
        cluster(
            "activity_1",
            &format!("{}{}{}{a1}", leaf("activity_2", ""), leaf("activity_3", ""), leaf("activity_4", ""))
        ),
        leaf("activity_5", ""),
        leaf("activity_6", &a6)
    );
    let mut e = start(&org);
    let c = NavRequest::Continue;
    play(
        &mut e,
        &[
            ("activity_2", rt(&[]), c.clone()),
            ("activity_3", rt(&[("SS", "failed")]), c.clone()),
            ("activity_4", rt(&[]), c.clone()),
            ("activity_5", rt(&[("SS", "passed"), ("CS", "completed")]), c.clone()),
            ("activity_2", rt(&[("SS", "failed")]), c.clone()),
            ("activity_3", rt(&[]), c.clone()),
            ("activity_4", rt(&[]), c.clone()),
            ("activity_5", rt(&[("SS", "failed"), ("CS", "completed")]), c.clone()),
            ("activity_5", rt(&[]), NavRequest::ExitAll),
        ],
    );
    assert_eq!(st(&e, "activity_1").attempt_count, 2);
    assert_eq!(e.course_status().attempt_count, 3);
}
