//! Rollup: measure, completion measure, objective and progress rollup, rollup rules and rollup
//! considerations (RB.1.1a to RB.1.5).

use super::rules::{combine, RuleKind};
use super::tree::{ChildSet, Combination, CondKind, Ix, Required, RollupAction, RollupRule, RuleAction};
use super::Engine;

impl Engine {
    /// Overall Rollup Process (RB.1.5), then the rollup of every activity reading a global
    /// objective that changed meanwhile (their status changed without them: ADL's reference
    /// implementation does the same), until nothing changes (bounded by the tree's size).
    pub(crate) fn overall_rollup(&mut self, ix: Ix) {
        self.rollup_path(ix);
        for _ in 0..self.def.activities.len() {
            if self.st.changed_globals.is_empty() {
                break;
            }
            let changed = std::mem::take(&mut self.st.changed_globals);
            let readers: Vec<Ix> = (0..self.def.activities.len())
                .filter(|&a| {
                    self.def.get(a).seq.objectives.iter().any(|o| {
                        o.maps.iter().any(|m| {
                            (m.read_satisfied || m.read_measure || m.read_completion || m.read_progress)
                                && changed.contains(&m.target)
                        })
                    })
                })
                .collect();
            for a in readers {
                self.rollup_path(a);
            }
        }
        self.st.changed_globals.clear();
    }

    /// RB.1.5 proper: from `ix` up to the root, each cluster rolls up its children. Leaves keep
    /// what the content and End Attempt set.
    fn rollup_path(&mut self, ix: Ix) {
        let mut path = self.def.path_from_root(ix);
        path.reverse();
        for a in path {
            if self.def.get(a).is_leaf() {
                continue;
            }
            self.measure_rollup(a);
            self.completion_measure_rollup(a);
            self.objective_rollup(a);
            self.activity_progress_rollup(a);
        }
    }

    fn tracked_children(&self, ix: Ix) -> Vec<Ix> {
        self.st.activities[ix].available.iter().copied().filter(|&c| self.def.get(c).seq.tracked).collect()
    }

    /// Measure Rollup Process (RB.1.1a): weighted average of the children's primary measures.
    pub(crate) fn measure_rollup(&mut self, ix: Ix) {
        let (mut total, mut counted, mut valid) = (0.0, 0.0, false);
        for c in self.tracked_children(ix) {
            let w = self.def.get(c).seq.objective_measure_weight;
            counted += w;
            if let Some(m) = self.obj_measure(c, 0) {
                total += m * w;
                valid = true;
            }
        }
        let v = (valid && counted > 0.0).then(|| total / counted);
        self.set_obj_measure(ix, 0, v);
    }

    /// Completion Measure Rollup Process (RB.1.1b, 4th edition): weighted average of the
    /// children's progress measures.
    pub(crate) fn completion_measure_rollup(&mut self, ix: Ix) {
        let (mut total, mut counted, mut valid) = (0.0, 0.0, false);
        for c in self.tracked_children(ix) {
            let w = self.def.get(c).seq.progress_weight;
            counted += w;
            if let Some(m) = self.progress_measure(c) {
                total += m * w;
                valid = true;
            }
        }
        let v = (valid && counted > 0.0).then(|| total / counted);
        self.set_progress_measure(ix, v);
    }

    /// Objective Rollup Process: by measure (RB.1.2a) when the primary objective is satisfied by
    /// measure, else by rules (RB.1.2b), the default rules standing in for absent ones (RB.1.2c).
    pub(crate) fn objective_rollup(&mut self, ix: Ix) {
        if self.def.get(ix).seq.objectives[0].satisfied_by_measure {
            self.objective_rollup_using_measure(ix);
        } else {
            self.objective_rollup_using_rules(ix);
        }
    }

    /// Objective Rollup Using Measure Process (RB.1.2a).
    pub(crate) fn objective_rollup_using_measure(&mut self, ix: Ix) {
        let d = &self.def.get(ix).seq;
        let min = d.objectives[0].min_measure;
        let if_active = d.measure_satisfaction_if_active;
        let v = match self.obj_measure(ix, 0) {
            None => None,
            Some(m) if !self.st.activities[ix].active || if_active => Some(m >= min),
            Some(_) => None,
        };
        self.set_obj_satisfied(ix, 0, v);
    }

    /// Objective Rollup Using Rules Process (RB.1.2b); with no satisfied/not-satisfied rules the
    /// default ones apply (RB.1.2c): not satisfied when all children's status is known,
    /// satisfied when all are satisfied.
    pub(crate) fn objective_rollup_using_rules(&mut self, ix: Ix) {
        let rules = self.rules_for(ix, RollupAction::Satisfied, RollupAction::NotSatisfied);
        if self.rollup_rule_check(ix, &rules, RollupAction::NotSatisfied) {
            self.set_obj_satisfied(ix, 0, Some(false));
        }
        if self.rollup_rule_check(ix, &rules, RollupAction::Satisfied) {
            self.set_obj_satisfied(ix, 0, Some(true));
        }
    }

    /// Activity Progress Rollup Process: by measure (RB.1.3a, completed by measure) or by rules
    /// (RB.1.3b, defaults: incomplete when all children's progress is known, completed when all
    /// are completed).
    pub(crate) fn activity_progress_rollup(&mut self, ix: Ix) {
        let d = &self.def.get(ix).seq;
        if d.completed_by_measure {
            let min = d.min_progress_measure;
            let v = self.progress_measure(ix).map(|m| m >= min);
            self.set_completion(ix, v);
            return;
        }
        let rules = self.rules_for(ix, RollupAction::Completed, RollupAction::Incomplete);
        if self.rollup_rule_check(ix, &rules, RollupAction::Incomplete) {
            self.set_completion(ix, Some(false));
        }
        if self.rollup_rule_check(ix, &rules, RollupAction::Completed) {
            self.set_completion(ix, Some(true));
        }
    }

    /// The activity's rules for one pair of actions, or the default pair (RB.1.2c / RB.1.3b).
    fn rules_for(&self, ix: Ix, yes: RollupAction, no: RollupAction) -> Vec<RollupRule> {
        let own: Vec<RollupRule> =
            self.def.get(ix).seq.rollup_rules.iter().filter(|r| r.action == yes || r.action == no).cloned().collect();
        if !own.is_empty() {
            return own;
        }
        let (known, done) = match yes {
            RollupAction::Satisfied => (CondKind::ObjectiveStatusKnown, CondKind::Satisfied),
            _ => (CondKind::ActivityProgressKnown, CondKind::Completed),
        };
        vec![
            RollupRule {
                child_set: ChildSet::All,
                combination: Combination::Any,
                conditions: vec![(known, false)],
                action: no,
            },
            RollupRule {
                child_set: ChildSet::All,
                combination: Combination::Any,
                conditions: vec![(done, false)],
                action: yes,
            },
        ]
    }

    /// Rollup Rule Check Subprocess (RB.1.4): whether any rule with `action` fires.
    fn rollup_rule_check(&self, ix: Ix, rules: &[RollupRule], action: RollupAction) -> bool {
        for rule in rules.iter().filter(|r| r.action == action) {
            let mut bag = Vec::new();
            for c in self.tracked_children(ix) {
                if self.check_child_for_rollup(c, action) {
                    bag.push(self.evaluate_rollup_conditions(c, rule));
                }
            }
            if bag.is_empty() {
                continue;
            }
            let trues = bag.iter().filter(|v| **v == Some(true)).count();
            let fires = match rule.child_set {
                ChildSet::All => trues == bag.len(),
                ChildSet::Any => trues > 0,
                ChildSet::None => bag.iter().all(|v| *v == Some(false)),
                ChildSet::AtLeastCount(n) => trues >= n as usize,
                ChildSet::AtLeastPercent(p) => (trues as f64) / (bag.len() as f64) >= p,
            };
            if fires {
                return true;
            }
        }
        false
    }

    /// Evaluate Rollup Conditions Subprocess (RB.1.4.1), on a child's primary objective.
    fn evaluate_rollup_conditions(&self, child: Ix, rule: &RollupRule) -> Option<bool> {
        let values: Vec<Option<bool>> = rule
            .conditions
            .iter()
            .map(|(k, neg)| {
                let v = self.eval_condition(child, *k, 0, 0.0);
                if *neg {
                    v.map(|b| !b)
                } else {
                    v
                }
            })
            .collect();
        if values.is_empty() {
            return Some(true);
        }
        combine(&values, rule.combination)
    }

    /// Check Child for Rollup Subprocess (RB.1.4.2): rollupObjectiveSatisfied /
    /// rollupProgressCompletion and the rollup considerations.
    pub(crate) fn check_child_for_rollup(&self, child: Ix, action: RollupAction) -> bool {
        let d = &self.def.get(child).seq;
        let (contributes, required) = match action {
            RollupAction::Satisfied => (d.rollup_objective_satisfied, d.required_for_satisfied),
            RollupAction::NotSatisfied => (d.rollup_objective_satisfied, d.required_for_not_satisfied),
            RollupAction::Completed => (d.rollup_progress_completion, d.required_for_completed),
            RollupAction::Incomplete => (d.rollup_progress_completion, d.required_for_incomplete),
        };
        if !contributes {
            return false;
        }
        let a = &self.st.activities[child];
        let attempted = a.progress_status && a.attempt_count > 0;
        match required {
            Required::Always => true,
            Required::IfNotSuspended => !(attempted && a.suspended) && a.progress_status,
            Required::IfAttempted => attempted,
            Required::IfNotSkipped => self.sequencing_rules_check(child, RuleKind::Pre, &[RuleAction::Skip]).is_none(),
        }
    }
}
