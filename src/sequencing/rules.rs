//! Sequencing rules and limit conditions: UP.1, UP.2, UP.2.1, UP.5.

use super::tree::{Combination, CondKind, Condition, Ix, RuleAction};
use super::Engine;

/// Which rules of an activity a check looks at (SN: "pre-condition", "exit", "post-condition").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleKind {
    Pre,
    Exit,
    Post,
}

/// Three-valued `not`: unknown stays unknown.
fn not3(v: Option<bool>, negated: bool) -> Option<bool> {
    if negated {
        v.map(|b| !b)
    } else {
        v
    }
}

/// Three-valued combination of condition values (SN UP.2.1 step 3, RB.1.4.1).
pub(crate) fn combine(values: &[Option<bool>], c: Combination) -> Option<bool> {
    match c {
        Combination::All => {
            if values.contains(&Some(false)) {
                Some(false)
            } else if values.contains(&None) {
                None
            } else {
                Some(true)
            }
        }
        Combination::Any => {
            if values.contains(&Some(true)) {
                Some(true)
            } else if values.contains(&None) {
                None
            } else {
                Some(false)
            }
        }
    }
}

impl Engine {
    /// Evaluates one rule condition for objective `o` of `ix` (SN table 3.4.2a); `None` is unknown.
    pub(crate) fn eval_condition(&self, ix: Ix, kind: CondKind, o: usize, threshold: f64) -> Option<bool> {
        let a = &self.st.activities[ix];
        match kind {
            CondKind::Satisfied => self.obj_satisfied(ix, o),
            CondKind::ObjectiveStatusKnown => Some(self.obj_satisfied(ix, o).is_some()),
            CondKind::ObjectiveMeasureKnown => Some(self.obj_measure(ix, o).is_some()),
            CondKind::ObjectiveMeasureGreaterThan => self.obj_measure(ix, o).map(|m| m > threshold),
            CondKind::ObjectiveMeasureLessThan => self.obj_measure(ix, o).map(|m| m < threshold),
            CondKind::Completed => self.obj_completion(ix, o),
            CondKind::ActivityProgressKnown => Some(a.progress_status && self.obj_completion(ix, o).is_some()),
            CondKind::Attempted => Some(a.progress_status && a.attempt_count > 0),
            CondKind::AttemptLimitExceeded => Some(self.attempt_limit_exceeded(ix)),
            CondKind::TimeLimitExceeded => Some(self.time_limit_exceeded(ix)),
            // Available time ranges are optional in 4th edition and not tracked here.
            CondKind::OutsideAvailableTimeRange | CondKind::Never => Some(false),
            CondKind::Always => Some(true),
            CondKind::Unknown => None,
        }
    }

    fn attempt_limit_exceeded(&self, ix: Ix) -> bool {
        let a = &self.st.activities[ix];
        match self.def.get(ix).seq.attempt_limit {
            Some(limit) => a.progress_status && a.attempt_count >= limit,
            None => false,
        }
    }

    /// The attempt's duration limit (`attemptAbsoluteDurationLimit`) is reached, measured as the
    /// learner's time in the attempt as the SCOs reported it (`cmi.session_time` summed into the
    /// attempt's experienced duration; SN 4.2.1.4), since Cairn's run-time reports no wall-clock
    /// time of a suspended attempt.
    fn time_limit_exceeded(&self, ix: Ix) -> bool {
        let a = &self.st.activities[ix];
        match self.def.get(ix).seq.attempt_duration_limit_us {
            Some(limit) => a.progress_status && a.attempt_experienced_us >= limit,
            None => false,
        }
    }

    /// Sequencing Rule Check Subprocess (UP.2.1): whether the rule's conditions hold.
    pub(crate) fn sequencing_rule_check(&self, ix: Ix, combination: Combination, conds: &[Condition]) -> bool {
        let values: Vec<Option<bool>> =
            conds.iter().map(|c| not3(self.eval_condition(ix, c.kind, c.objective, c.threshold), c.negated)).collect();
        if values.is_empty() {
            return false;
        }
        combine(&values, combination) == Some(true)
    }

    /// Sequencing Rules Check Process (UP.2): the action of the first rule of `kind` whose action
    /// is in `actions` and whose conditions hold.
    pub(crate) fn sequencing_rules_check(&self, ix: Ix, kind: RuleKind, actions: &[RuleAction]) -> Option<RuleAction> {
        let seq = &self.def.get(ix).seq;
        let rules = match kind {
            RuleKind::Pre => &seq.pre_rules,
            RuleKind::Exit => &seq.exit_rules,
            RuleKind::Post => &seq.post_rules,
        };
        rules
            .iter()
            .filter(|r| actions.contains(&r.action))
            .find(|r| self.sequencing_rule_check(ix, r.combination, &r.conditions))
            .map(|r| r.action)
    }

    /// Limit Conditions Check Process (UP.1): true when the activity violates its attempt limit
    /// or its attempt duration limit.
    pub(crate) fn limit_conditions_check(&self, ix: Ix) -> bool {
        let a = &self.st.activities[ix];
        if !self.def.get(ix).seq.tracked || a.active || a.suspended {
            return false;
        }
        self.attempt_limit_exceeded(ix) || self.time_limit_exceeded(ix)
    }

    /// Check Activity Process (UP.5): true when the activity is disabled or violates its limits.
    pub(crate) fn check_activity(&self, ix: Ix) -> bool {
        self.sequencing_rules_check(ix, RuleKind::Pre, &[RuleAction::Disabled]).is_some()
            || self.limit_conditions_check(ix)
    }
}
