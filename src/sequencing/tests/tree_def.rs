//! Building the activity tree: CAM defaults, the organization as root, rule kinds.

use super::*;
use crate::sequencing::tree::{ChildSet, Combination, CondKind, Required, RollupAction, RuleAction, Timing};

#[test]
fn cam_defaults_apply_when_the_manifest_says_nothing() {
    let d = def(&format!("{}{}", leaf("a", ""), cluster("m", &leaf("b", ""))));
    assert_eq!(d.activities.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["org", "a", "m", "b"]);
    assert_eq!(d.activities[0].title, "Course");
    assert_eq!((d.activities[3].parent, d.activities[3].depth), (Some(2), 2));
    let s = &d.activities[1].seq;
    assert!(s.choice && s.choice_exit && !s.flow && !s.forward_only);
    assert!(s.use_current_attempt_objective_info && s.use_current_attempt_progress_info);
    assert!(s.tracked && !s.completion_set_by_content && !s.objective_set_by_content);
    assert!(s.rollup_objective_satisfied && s.rollup_progress_completion);
    assert_eq!(s.objective_measure_weight, 1.0);
    assert_eq!(s.required_for_satisfied, Required::Always);
    assert!(s.measure_satisfaction_if_active);
    assert_eq!(s.attempt_limit, None);
    assert_eq!((s.selection_timing, s.randomization_timing, s.reorder_children), (Timing::Never, Timing::Never, false));
    assert!(!s.prevent_activation && !s.constrain_choice);
    assert!(!s.completed_by_measure);
    assert_eq!((s.min_progress_measure, s.progress_weight), (1.0, 1.0));
    // A primary objective exists even when none is declared.
    assert_eq!(s.objectives.len(), 1);
    assert!(!s.objectives[0].satisfied_by_measure);
    assert!(d.objectives_global_to_system);
}

#[test]
fn rules_are_typed_and_misplaced_actions_dropped() {
    let rules = r#"<imsss:sequencingRules>
      <imsss:preConditionRule><imsss:ruleConditions conditionCombination="any"><imsss:ruleCondition condition="attempted" operator="not"/><imsss:ruleCondition condition="objectiveMeasureLessThan" measureThreshold="-0.5"/></imsss:ruleConditions><imsss:ruleAction action="disabled"/></imsss:preConditionRule>
      <imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions><imsss:ruleAction action="exitAll"/></imsss:preConditionRule>
      <imsss:exitConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions><imsss:ruleAction action="exit"/></imsss:exitConditionRule>
      <imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="always"/></imsss:ruleConditions><imsss:ruleAction action="teleport"/></imsss:postConditionRule>
    </imsss:sequencingRules>
    <imsss:rollupRules objectiveMeasureWeight="0.25"><imsss:rollupRule childActivitySet="atLeastCount" minimumCount="2"><imsss:rollupConditions><imsss:rollupCondition condition="completed" operator="not"/></imsss:rollupConditions><imsss:rollupAction action="incomplete"/></imsss:rollupRule></imsss:rollupRules>"#;
    let d = def(&leaf("a", &seq(rules)));
    let s = &d.activities[1].seq;
    assert_eq!(s.pre_rules.len(), 1, "exitAll is not a pre-condition action");
    let r = &s.pre_rules[0];
    assert_eq!((r.combination, r.action), (Combination::Any, RuleAction::Disabled));
    assert_eq!(r.conditions[0].kind, CondKind::Attempted);
    assert!(r.conditions[0].negated);
    assert_eq!(r.conditions[1].threshold, -0.5);
    assert_eq!(s.exit_rules.len(), 1);
    assert!(s.post_rules.is_empty());
    assert!(d.warnings.iter().any(|w| w.contains("teleport")));
    assert_eq!(s.objective_measure_weight, 0.25);
    let rr = &s.rollup_rules[0];
    assert_eq!((rr.child_set, rr.action), (ChildSet::AtLeastCount(2), RollupAction::Incomplete));
    assert_eq!(rr.conditions, vec![(CondKind::Completed, true)]);
}

#[test]
fn objective_maps_merge_the_adlseq_extensions() {
    let obj = r#"<imsss:objectives><imsss:primaryObjective objectiveID="p"><imsss:mapInfo targetObjectiveID="g" writeSatisfiedStatus="true"/></imsss:primaryObjective><imsss:objective objectiveID="o"/></imsss:objectives>
      <adlseq:objectives><adlseq:objective objectiveID="p"><adlseq:mapInfo targetObjectiveID="g" writeCompletionStatus="true"/><adlseq:mapInfo targetObjectiveID="h" readCompletionStatus="true"/></adlseq:objective></adlseq:objectives>"#;
    let d = def(&leaf("a", &seq(obj)));
    let p = &d.activities[1].seq.objectives[0];
    assert_eq!(p.id, "p");
    assert_eq!(p.maps.len(), 2);
    assert!(p.maps[0].write_satisfied && p.maps[0].read_satisfied && p.maps[0].write_completion);
    assert!(p.maps[1].read_completion && !p.maps[1].read_satisfied);
    assert_eq!(d.activities[1].seq.objectives[1].id, "o");
}
