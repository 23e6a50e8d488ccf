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
