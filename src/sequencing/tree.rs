//! The activity tree's static definition, built from the course model with the CAM defaults
//! applied. The tracking state is in [`super::state`].

use serde::{Deserialize, Serialize};

use crate::package::model as pm;

/// Index of an activity in [`TreeDef::activities`] (pre-order; 0 is the root).
pub type Ix = usize;

/// At most this many activities: a package with more is refused, which bounds every traversal
/// (and the TOC's per-activity simulations).
pub const MAX_ACTIVITIES: usize = 5_000;
/// At most this nesting depth: the builder and every recursive process stay far from the stack
/// limit even with hostile packages.
pub const MAX_DEPTH: usize = 64;

/// Why a tree cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("the course has more than {MAX_ACTIVITIES} activities")]
    TooManyActivities,
    #[error("the course nests activities more than {MAX_DEPTH} levels deep")]
    TooDeep,
    #[error("the course has no activity")]
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Combination {
    All,
    Any,
}

/// Sequencing rule conditions (SN 4th ed. table 3.4.2a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CondKind {
    Satisfied,
    ObjectiveStatusKnown,
    ObjectiveMeasureKnown,
    ObjectiveMeasureGreaterThan,
    ObjectiveMeasureLessThan,
    Completed,
    ActivityProgressKnown,
    Attempted,
    AttemptLimitExceeded,
    TimeLimitExceeded,
    OutsideAvailableTimeRange,
    Always,
    /// Rollup only.
    Never,
    /// A condition this engine does not know: evaluates to unknown.
    Unknown,
}

impl CondKind {
    fn parse(s: &str) -> CondKind {
        match s {
            "satisfied" => CondKind::Satisfied,
            "objectiveStatusKnown" => CondKind::ObjectiveStatusKnown,
            "objectiveMeasureKnown" => CondKind::ObjectiveMeasureKnown,
            "objectiveMeasureGreaterThan" => CondKind::ObjectiveMeasureGreaterThan,
            "objectiveMeasureLessThan" => CondKind::ObjectiveMeasureLessThan,
            "completed" => CondKind::Completed,
            "activityProgressKnown" => CondKind::ActivityProgressKnown,
            "attempted" => CondKind::Attempted,
            "attemptLimitExceeded" => CondKind::AttemptLimitExceeded,
            "timeLimitExceeded" => CondKind::TimeLimitExceeded,
            "outsideAvailableTimeRange" => CondKind::OutsideAvailableTimeRange,
            "always" => CondKind::Always,
            "never" => CondKind::Never,
            _ => CondKind::Unknown,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Condition {
    pub kind: CondKind,
    pub negated: bool,
    /// Index into the activity's objectives (0, the primary, when not referenced).
    pub objective: usize,
    pub threshold: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleAction {
    Skip,
    Disabled,
    HiddenFromChoice,
    StopForwardTraversal,
    Exit,
    ExitParent,
    ExitAll,
    Retry,
    RetryAll,
    Continue,
    Previous,
}

impl RuleAction {
    fn parse(s: &str) -> Option<RuleAction> {
        Some(match s {
            "skip" => RuleAction::Skip,
            "disabled" => RuleAction::Disabled,
            "hiddenFromChoice" => RuleAction::HiddenFromChoice,
            "stopForwardTraversal" => RuleAction::StopForwardTraversal,
            "exit" => RuleAction::Exit,
            "exitParent" => RuleAction::ExitParent,
            "exitAll" => RuleAction::ExitAll,
            "retry" => RuleAction::Retry,
            "retryAll" => RuleAction::RetryAll,
            "continue" => RuleAction::Continue,
            "previous" => RuleAction::Previous,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub combination: Combination,
    pub conditions: Vec<Condition>,
    pub action: RuleAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum ChildSet {
    All,
    Any,
    None,
    AtLeastCount(u32),
    AtLeastPercent(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RollupAction {
    Satisfied,
    NotSatisfied,
    Completed,
    Incomplete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollupRule {
    pub child_set: ChildSet,
    pub combination: Combination,
    /// Condition and `not`.
    pub conditions: Vec<(CondKind, bool)>,
    pub action: RollupAction,
}

/// `adlseq:rollupConsiderations` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Required {
    Always,
    IfAttempted,
    IfNotSkipped,
    IfNotSuspended,
}

impl Required {
    fn parse(s: &str) -> Required {
        match s {
            "ifAttempted" => Required::IfAttempted,
            "ifNotSkipped" => Required::IfNotSkipped,
            "ifNotSuspended" => Required::IfNotSuspended,
            _ => Required::Always,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timing {
    Never,
    Once,
    OnEachNewAttempt,
}

impl Timing {
    fn parse(s: &str) -> Timing {
        match s {
            "once" => Timing::Once,
            "onEachNewAttempt" => Timing::OnEachNewAttempt,
            _ => Timing::Never,
        }
    }
}

/// One objective map, `imsss:mapInfo` and `adlseq:mapInfo` merged per target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapDef {
    pub target: String,
    pub read_satisfied: bool,
    pub read_measure: bool,
    pub write_satisfied: bool,
    pub write_measure: bool,
    pub read_completion: bool,
    pub read_progress: bool,
    pub write_completion: bool,
    pub write_progress: bool,
    pub read_raw: bool,
    pub write_raw: bool,
    pub read_min: bool,
    pub write_min: bool,
    pub read_max: bool,
    pub write_max: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveDef {
    /// Empty for a primary objective without `objectiveID`.
    pub id: String,
    pub satisfied_by_measure: bool,
    pub min_measure: f64,
    pub maps: Vec<MapDef>,
}

/// The sequencing definition of one activity, with CAM defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeqDef {
    pub choice: bool,
    pub choice_exit: bool,
    pub flow: bool,
    pub forward_only: bool,
    pub use_current_attempt_objective_info: bool,
    pub use_current_attempt_progress_info: bool,
    pub pre_rules: Vec<Rule>,
    pub exit_rules: Vec<Rule>,
    pub post_rules: Vec<Rule>,
    pub attempt_limit: Option<u32>,
    /// `attemptAbsoluteDurationLimit`, in microseconds (see [`super::Engine`]'s limits).
    #[serde(default)]
    pub attempt_duration_limit_us: Option<i64>,
    pub rollup_rules: Vec<RollupRule>,
    pub rollup_objective_satisfied: bool,
    pub rollup_progress_completion: bool,
    pub objective_measure_weight: f64,
    pub required_for_satisfied: Required,
    pub required_for_not_satisfied: Required,
    pub required_for_completed: Required,
    pub required_for_incomplete: Required,
    pub measure_satisfaction_if_active: bool,
    /// Index 0 is the primary objective (one is made when the manifest names none).
    pub objectives: Vec<ObjectiveDef>,
    pub selection_timing: Timing,
    pub select_count: Option<u32>,
    pub randomization_timing: Timing,
    pub reorder_children: bool,
    pub tracked: bool,
    pub completion_set_by_content: bool,
    pub objective_set_by_content: bool,
    pub prevent_activation: bool,
    pub constrain_choice: bool,
    pub completed_by_measure: bool,
    pub min_progress_measure: f64,
    pub progress_weight: f64,
    pub hide_lms_ui: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityDef {
    /// Item identifier (the organization identifier for the root).
    pub id: String,
    pub title: String,
    pub visible: bool,
    pub parent: Option<Ix>,
    pub children: Vec<Ix>,
    pub depth: usize,
    pub seq: SeqDef,
}

impl ActivityDef {
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }
}

/// The static activity tree of a course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeDef {
    pub activities: Vec<ActivityDef>,
    /// `adlseq:objectivesGlobalToSystem`: whether global objectives are shared with other courses
    /// (the integrator decides where [`super::TreeState::globals`] are kept).
    pub objectives_global_to_system: bool,
    /// Things in the sequencing definition that were ignored (unknown actions).
    pub warnings: Vec<String>,
}

impl TreeDef {
    /// Builds the tree of a SCORM 2004 course (the organization is the root activity). Other
    /// formats give a flat or nested tree with default sequencing (flow off, choice on).
    pub fn from_course(course: &pm::Course) -> Result<TreeDef, TreeError> {
        let mut b = Builder { acts: Vec::new(), warnings: Vec::new() };
        let org_rules = course.organization_rules.clone().unwrap_or_default();
        let root_id = course.organization_id.clone().unwrap_or_else(|| "root".to_owned());
        b.push(None, &root_id, &course.title, true, &org_rules, 0)?;
        b.children(0, &course.root, 1)?;
        if b.acts.len() < 2 {
            return Err(TreeError::Empty);
        }
        Ok(TreeDef {
            activities: b.acts,
            objectives_global_to_system: course.objectives_global_to_system.unwrap_or(true),
            warnings: b.warnings,
        })
    }

    pub fn root(&self) -> Ix {
        0
    }

    pub fn get(&self, ix: Ix) -> &ActivityDef {
        &self.activities[ix]
    }

    pub fn find(&self, id: &str) -> Option<Ix> {
        self.activities.iter().position(|a| a.id == id)
    }

    pub fn parent(&self, ix: Ix) -> Option<Ix> {
        self.activities[ix].parent
    }

    /// Root to `ix`, inclusive.
    pub fn path_from_root(&self, ix: Ix) -> Vec<Ix> {
        let mut p = vec![ix];
        let mut c = ix;
        while let Some(parent) = self.activities[c].parent {
            p.push(parent);
            c = parent;
        }
        p.reverse();
        p
    }

    pub fn is_ancestor_or_self(&self, anc: Ix, ix: Ix) -> bool {
        let mut c = Some(ix);
        while let Some(x) = c {
            if x == anc {
                return true;
            }
            c = self.activities[x].parent;
        }
        false
    }

    pub fn common_ancestor(&self, a: Ix, b: Ix) -> Ix {
        let pa = self.path_from_root(a);
        let pb = self.path_from_root(b);
        let mut common = 0;
        for (x, y) in pa.iter().zip(pb.iter()) {
            if x == y {
                common = *x;
            } else {
                break;
            }
        }
        common
    }
}

struct Builder {
    acts: Vec<ActivityDef>,
    warnings: Vec<String>,
}

impl Builder {
    fn push(
        &mut self,
        parent: Option<Ix>,
        id: &str,
        title: &str,
        visible: bool,
        rules: &pm::CompletionRules,
        depth: usize,
    ) -> Result<Ix, TreeError> {
        if self.acts.len() >= MAX_ACTIVITIES {
            return Err(TreeError::TooManyActivities);
        }
        if depth > MAX_DEPTH {
            return Err(TreeError::TooDeep);
        }
        let seq = seq_def(id, rules, &mut self.warnings);
        let ix = self.acts.len();
        self.acts.push(ActivityDef {
            id: id.to_owned(),
            title: title.to_owned(),
            visible,
            parent,
            children: Vec::new(),
            depth,
            seq,
        });
        if let Some(p) = parent {
            self.acts[p].children.push(ix);
        }
        Ok(ix)
    }

    fn children(&mut self, parent: Ix, nodes: &[pm::Node], depth: usize) -> Result<(), TreeError> {
        for n in nodes {
            match n {
                pm::Node::Module(m) => {
                    self.push(Some(parent), &m.id, &m.title, m.visible, &m.rules, depth)?;
                }
                pm::Node::Block(b) => {
                    let ix = self.push(Some(parent), &b.id, &b.title, b.visible, &b.rules, depth)?;
                    self.children(ix, &b.children, depth + 1)?;
                    if self.acts[ix].children.is_empty() {
                        // A cluster with nothing to deliver would make every flow fail there.
                        self.warnings.push(format!("activity {:?} has no children", b.id));
                    }
                }
            }
        }
        Ok(())
    }
}

fn combination(s: &str, default: Combination) -> Combination {
    match s {
        "all" => Combination::All,
        "any" => Combination::Any,
        _ => default,
    }
}

/// Applies the CAM defaults (SCORM 2004 4th ed. CAM 5.1) to what the manifest said.
fn seq_def(id: &str, r: &pm::CompletionRules, warnings: &mut Vec<String>) -> SeqDef {
    let cm = r.control_mode.unwrap_or(pm::ControlMode {
        choice: true,
        choice_exit: true,
        flow: false,
        forward_only: false,
        use_current_attempt_objective_info: true,
        use_current_attempt_progress_info: true,
    });
    // Objectives: primary first; a primary is made when none is declared.
    let mut objectives = Vec::new();
    let mut declared: Vec<&pm::Objective> = r.objectives.iter().filter(|o| o.primary).take(1).collect();
    declared.extend(r.objectives.iter().filter(|o| !o.primary));
    if !r.objectives.iter().any(|o| o.primary) {
        objectives.push(ObjectiveDef {
            id: String::new(),
            satisfied_by_measure: false,
            min_measure: 1.0,
            maps: vec![],
        });
    }
    for o in declared {
        let oid = o.id.clone().unwrap_or_default();
        let mut maps: Vec<MapDef> = o
            .maps
            .iter()
            .map(|m| MapDef {
                target: m.target_objective_id.clone(),
                read_satisfied: m.read_satisfied_status,
                read_measure: m.read_normalized_measure,
                write_satisfied: m.write_satisfied_status,
                write_measure: m.write_normalized_measure,
                ..MapDef::default()
            })
            .collect();
        if let Some(adl) = r.adl_objectives.as_ref().and_then(|l| l.iter().find(|a| a.objective_id == oid)) {
            for m in &adl.maps {
                let at = match maps.iter().position(|x| x.target == m.target_objective_id) {
                    Some(i) => i,
                    None => {
                        maps.push(MapDef { target: m.target_objective_id.clone(), ..MapDef::default() });
                        maps.len() - 1
                    }
                };
                let x = &mut maps[at];
                x.read_completion = m.read_completion_status;
                x.read_progress = m.read_progress_measure;
                x.write_completion = m.write_completion_status;
                x.write_progress = m.write_progress_measure;
                x.read_raw = m.read_raw_score;
                x.write_raw = m.write_raw_score;
                x.read_min = m.read_min_score;
                x.write_min = m.write_min_score;
                x.read_max = m.read_max_score;
                x.write_max = m.write_max_score;
            }
        }
        maps.truncate(64);
        objectives.push(ObjectiveDef {
            id: oid,
            satisfied_by_measure: o.satisfied_by_measure,
            min_measure: o.min_normalized_measure,
            maps,
        });
    }
    let obj_index = |name: &Option<String>| -> usize {
        match name {
            None => 0,
            Some(n) => objectives.iter().position(|o| &o.id == n).unwrap_or(0),
        }
    };
    let mut rules_of = |list: &[pm::SequencingRule]| -> Vec<Rule> {
        list.iter()
            .filter_map(|r| {
                let Some(action) = RuleAction::parse(&r.action) else {
                    warnings.push(format!("activity {id:?}: unknown rule action {:?} ignored", r.action));
                    return None;
                };
                Some(Rule {
                    combination: combination(&r.condition_combination, Combination::All),
                    conditions: r
                        .conditions
                        .iter()
                        .map(|c| Condition {
                            kind: CondKind::parse(&c.condition),
                            negated: c.negated,
                            objective: obj_index(&c.referenced_objective),
                            threshold: c.measure_threshold,
                        })
                        .collect(),
                    action,
                })
            })
            .collect()
    };
    let sr = r.sequencing_rules.clone().unwrap_or_default();
    // Actions only count in the rule kind they belong to (CAM: the schema restricts them).
    let pre = rules_of(&sr.pre)
        .into_iter()
        .filter(|r| {
            matches!(
                r.action,
                RuleAction::Skip
                    | RuleAction::Disabled
                    | RuleAction::HiddenFromChoice
                    | RuleAction::StopForwardTraversal
            )
        })
        .collect();
    let exit = rules_of(&sr.exit).into_iter().filter(|r| r.action == RuleAction::Exit).collect();
    let post = rules_of(&sr.post)
        .into_iter()
        .filter(|r| {
            matches!(
                r.action,
                RuleAction::ExitParent
                    | RuleAction::ExitAll
                    | RuleAction::Retry
                    | RuleAction::RetryAll
                    | RuleAction::Continue
                    | RuleAction::Previous
            )
        })
        .collect();
    let rollup = r.rollup.clone();
    let rollup_rules = rollup
        .as_ref()
        .map(|ro| {
            ro.rules
                .iter()
                .filter_map(|rr| {
                    let action = match rr.action.as_str() {
                        "satisfied" => RollupAction::Satisfied,
                        "notSatisfied" => RollupAction::NotSatisfied,
                        "completed" => RollupAction::Completed,
                        "incomplete" => RollupAction::Incomplete,
                        other => {
                            warnings.push(format!("activity {id:?}: unknown rollup action {other:?} ignored"));
                            return None;
                        }
                    };
                    let child_set = match rr.child_activity_set.as_str() {
                        "any" => ChildSet::Any,
                        "none" => ChildSet::None,
                        "atLeastCount" => ChildSet::AtLeastCount(rr.minimum_count),
                        "atLeastPercent" => ChildSet::AtLeastPercent(rr.minimum_percent),
                        _ => ChildSet::All,
                    };
                    Some(RollupRule {
                        child_set,
                        combination: combination(&rr.condition_combination, Combination::Any),
                        conditions: rr.conditions.iter().map(|c| (CondKind::parse(&c.condition), c.negated)).collect(),
                        action,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let rc = r.rollup_considerations.clone();
    let req = |f: fn(&pm::RollupConsiderations) -> &str| {
        rc.as_ref().map(|c| Required::parse(f(c))).unwrap_or(Required::Always)
    };
    let dc = r.delivery_controls.unwrap_or(pm::DeliveryControls {
        tracked: true,
        completion_set_by_content: false,
        objective_set_by_content: false,
    });
    let rand = r.randomization.clone();
    let cc = r.constrained_choice.unwrap_or_default();
    let ct = r.completion_threshold;
    SeqDef {
        choice: cm.choice,
        choice_exit: cm.choice_exit,
        flow: cm.flow,
        forward_only: cm.forward_only,
        use_current_attempt_objective_info: cm.use_current_attempt_objective_info,
        use_current_attempt_progress_info: cm.use_current_attempt_progress_info,
        pre_rules: pre,
        exit_rules: exit,
        post_rules: post,
        attempt_limit: r.attempt_limit.filter(|l| *l > 0),
        // SCORM 2004 writes it as an ISO 8601 duration; 1.2's `maxtimeallowed` (HH:MM:SS) is the
        // run-time's business (`cmi.core.max_time_allowed`), not sequencing's.
        attempt_duration_limit_us: r
            .max_time_allowed
            .as_deref()
            .and_then(|d| crate::xapi::duration::parse_duration(d.trim()).ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| (s * 1e6).min(i64::MAX as f64) as i64),
        rollup_rules,
        rollup_objective_satisfied: rollup.as_ref().is_none_or(|ro| ro.rollup_objective_satisfied),
        rollup_progress_completion: rollup.as_ref().is_none_or(|ro| ro.rollup_progress_completion),
        objective_measure_weight: rollup.as_ref().map_or(1.0, |ro| ro.objective_measure_weight.clamp(0.0, 1.0)),
        required_for_satisfied: req(|c| &c.required_for_satisfied),
        required_for_not_satisfied: req(|c| &c.required_for_not_satisfied),
        required_for_completed: req(|c| &c.required_for_completed),
        required_for_incomplete: req(|c| &c.required_for_incomplete),
        measure_satisfaction_if_active: rc.as_ref().is_none_or(|c| c.measure_satisfaction_if_active),
        objectives,
        selection_timing: rand.as_ref().map_or(Timing::Never, |x| Timing::parse(&x.selection_timing)),
        select_count: rand.as_ref().and_then(|x| x.select_count),
        randomization_timing: rand.as_ref().map_or(Timing::Never, |x| Timing::parse(&x.randomization_timing)),
        reorder_children: rand.as_ref().is_some_and(|x| x.reorder_children),
        tracked: dc.tracked,
        completion_set_by_content: dc.completion_set_by_content,
        objective_set_by_content: dc.objective_set_by_content,
        prevent_activation: cc.prevent_activation,
        constrain_choice: cc.constrain_choice,
        completed_by_measure: ct.is_some_and(|c| c.completed_by_measure),
        min_progress_measure: ct.map_or(1.0, |c| c.min_progress_measure.clamp(0.0, 1.0)),
        progress_weight: ct.map_or(1.0, |c| c.progress_weight.clamp(0.0, 1.0)),
        hide_lms_ui: r.hide_lms_ui.clone(),
    }
}
