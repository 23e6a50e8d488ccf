//! The one course model every package format is turned into.
//!
//! The model keeps what launching and result computation need, in the
//! format's own terms where the formats disagree (e.g. a SCORM 1.2 mastery
//! score is a raw 0–100 value, a cmi5 one is scaled 0–1), so the results
//! engine never has to re-read a manifest.

use serde::{Deserialize, Serialize};

/// Package family and, for SCORM 2004, the edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Format {
    Scorm12,
    Scorm2004 { edition: Scorm2004Edition },
    Cmi5,
    TinCan,
    Aicc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scorm2004Edition {
    /// `CAM 1.3`
    Second,
    /// `2004 3rd Edition`
    Third,
    /// `2004 4th Edition`
    Fourth,
}

/// A text in one language (cmi5 `langstring`, TinCan `lang`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangString {
    pub lang: String,
    pub text: String,
}

/// A parsed package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Course {
    /// IRI when the format defines one (cmi5 course id, TinCan course activity id).
    pub id: Option<String>,
    /// The package's own stable identifier when it has one but no IRI (SCORM manifest `identifier`,
    /// AICC `Course_ID`): re-importing a new release of the same package then updates one course.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_identifier: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_langs: Vec<LangString>,
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description_langs: Vec<LangString>,
    pub format: Format,
    /// `schemaversion` (SCORM), `Version` (AICC) as written.
    pub schema_version: Option<String>,
    /// SCORM organization identifier of `root`.
    pub organization_id: Option<String>,
    /// The default organization's (or course's) tree.
    pub root: Vec<Node>,
    /// SCORM organizations other than the default one, kept so an LMS can offer them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_organizations: Vec<Organization>,
    /// cmi5 course-level objectives (AUs and blocks refer to them by id).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<CourseObjective>,
    /// SCORM `adlcp:location` metadata files, relative to the package root.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata_files: Vec<String>,
    /// Things that were tolerated but deserve the uploader's attention.
    pub warnings: Vec<String>,
    /// SCORM 2004: the organization's own `imsss:sequencing` (the root activity's), when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_rules: Option<CompletionRules>,
    /// SCORM 2004 `adlseq:objectivesGlobalToSystem` of the default organization (CAM default true):
    /// false scopes global objectives to this course.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objectives_global_to_system: Option<bool>,
}

impl Course {
    /// All modules of the default tree, depth first, in launch order.
    pub fn modules(&self) -> Vec<&Module> {
        fn walk<'a>(nodes: &'a [Node], out: &mut Vec<&'a Module>) {
            for n in nodes {
                match n {
                    Node::Block(b) => walk(&b.children, out),
                    Node::Module(m) => out.push(m),
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: String,
    pub title: String,
    pub root: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseObjective {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// A node of the course tree: a container or something launchable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    Block(Block),
    Module(Module),
}

/// A container: SCORM cluster item, cmi5 block, AICC block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Block {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_langs: Vec<LangString>,
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description_langs: Vec<LangString>,
    /// SCORM `isvisible`.
    pub visible: bool,
    pub rules: CompletionRules,
    pub children: Vec<Node>,
}

/// Something launchable: SCORM item with a resource, cmi5 AU, TinCan activity, AICC AU.
///
/// Results are tracked per module id (a SCORM resource may serve several items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Item identifier, AU id (IRI), activity id or AICC system id; opaque.
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub title_langs: Vec<LangString>,
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description_langs: Vec<LangString>,
    /// Relative to the package root with SCORM parameters applied, or absolute.
    pub launch_url: String,
    pub launch_is_absolute: bool,
    /// SCORM resource identifier.
    pub resource_id: Option<String>,
    pub scorm_type: Option<ScormType>,
    /// SCORM `isvisible`.
    pub visible: bool,
    /// Data handed to the content at launch: SCORM `datafromlms`/`dataFromLMS`,
    /// cmi5 `launchParameters`, AICC `Core_Vendor`.
    pub launch_data: Option<String>,
    /// AICC `Web_Launch` parameters, to append to the launch URL's query.
    pub web_launch: Option<String>,
    pub launch_method: Option<LaunchMethod>,
    pub entitlement_key: Option<String>,
    pub activity_type: Option<String>,
    /// SCORM 1.2 `adlcp:prerequisites` expression (and its type), kept verbatim.
    pub prerequisites: Option<String>,
    pub rules: CompletionRules,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScormType {
    Sco,
    Asset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaunchMethod {
    AnyWindow,
    OwnWindow,
}

/// cmi5 `moveOn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MoveOn {
    Passed,
    Completed,
    CompletedAndPassed,
    CompletedOrPassed,
    NotApplicable,
}

/// Mastery score in the scale its format compares it against.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scale", content = "value", rename_all = "snake_case")]
pub enum MasteryScore {
    /// SCORM 1.2 / AICC: compared with the raw score, 0–100.
    Raw(f64),
    /// cmi5: compared with the scaled score, 0–1.
    Scaled(f64),
}

/// Everything the results engine needs to decide completion and success.
///
/// Fields a format does not define stay `None`/empty. SCORM 2004 sequencing
/// fields are kept as data; this module does not run the sequencer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionRules {
    pub mastery_score: Option<MasteryScore>,
    pub move_on: Option<MoveOn>,
    /// SCORM 1.2 `maxtimeallowed`, AICC `Max_Time_Allowed`, SCORM 2004 `attemptAbsoluteDurationLimit`.
    pub max_time_allowed: Option<String>,
    pub time_limit_action: Option<String>,
    pub completion_threshold: Option<CompletionThreshold>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<Objective>,
    /// cmi5 objective references (ids of `Course::objectives`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objective_refs: Vec<String>,
    pub attempt_limit: Option<u32>,
    pub control_mode: Option<ControlMode>,
    pub delivery_controls: Option<DeliveryControls>,
    pub rollup: Option<Rollup>,
    pub rollup_considerations: Option<RollupConsiderations>,
    /// `IDRef` of an `imsss:sequencingCollection` entry that was merged in.
    pub sequencing_ref: Option<String>,
    /// `imsss:sequencingRules`; `None` when the item has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequencing_rules: Option<SequencingRules>,
    /// `imsss:randomizationControls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub randomization: Option<RandomizationControls>,
    /// `adlseq:constrainedChoiceConsiderations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constrained_choice: Option<ConstrainedChoice>,
    /// `adlseq:objectives` (4th edition map extensions); `None` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adl_objectives: Option<Vec<AdlObjective>>,
    /// `adlnav:hideLMSUI` values (`continue`, `previous`, `exit`, `exitAll`, `abandon`, `abandonAll`,
    /// `suspendAll`): player controls the content asks to hide.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hide_lms_ui: Vec<String>,
}

/// SCORM 2004 `adlcp:completionThreshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompletionThreshold {
    pub completed_by_measure: bool,
    pub min_progress_measure: f64,
    pub progress_weight: f64,
}

/// SCORM 2004 objective (primary or not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub id: Option<String>,
    pub primary: bool,
    pub satisfied_by_measure: bool,
    pub min_normalized_measure: f64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maps: Vec<ObjectiveMap>,
}

/// `imsss:mapInfo`: links a local objective to a shared global one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectiveMap {
    pub target_objective_id: String,
    pub read_satisfied_status: bool,
    pub read_normalized_measure: bool,
    pub write_satisfied_status: bool,
    pub write_normalized_measure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlMode {
    pub choice: bool,
    pub choice_exit: bool,
    pub flow: bool,
    pub forward_only: bool,
    pub use_current_attempt_objective_info: bool,
    pub use_current_attempt_progress_info: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryControls {
    pub tracked: bool,
    pub completion_set_by_content: bool,
    pub objective_set_by_content: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub rollup_objective_satisfied: bool,
    pub rollup_progress_completion: bool,
    pub objective_measure_weight: f64,
    pub rules: Vec<RollupRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollupRule {
    /// `all`, `any`, `none`, `atLeastCount`, `atLeastPercent`.
    pub child_activity_set: String,
    pub minimum_count: u32,
    pub minimum_percent: f64,
    /// `all` or `any`.
    pub condition_combination: String,
    pub conditions: Vec<RollupCondition>,
    /// `satisfied`, `notSatisfied`, `completed`, `incomplete`.
    pub action: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupCondition {
    pub condition: String,
    pub negated: bool,
}

/// `adlseq:rollupConsiderations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupConsiderations {
    pub required_for_satisfied: String,
    pub required_for_not_satisfied: String,
    pub required_for_completed: String,
    pub required_for_incomplete: String,
    pub measure_satisfaction_if_active: bool,
}

/// `imsss:sequencingRules`: pre-, exit- and post-condition rules, in document order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SequencingRules {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pre: Vec<SequencingRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exit: Vec<SequencingRule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post: Vec<SequencingRule>,
}

/// One `preConditionRule`, `exitConditionRule` or `postConditionRule`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequencingRule {
    /// `all` or `any` (CAM default `all`).
    pub condition_combination: String,
    pub conditions: Vec<RuleCondition>,
    /// e.g. `skip`, `disabled`, `hiddenFromChoice`, `stopForwardTraversal`, `exit`, `exitParent`,
    /// `exitAll`, `retry`, `retryAll`, `continue`, `previous`, as written.
    pub action: String,
}

/// `imsss:ruleCondition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCondition {
    /// e.g. `satisfied`, `objectiveMeasureGreaterThan`, `attemptLimitExceeded`, `always`, as written.
    pub condition: String,
    /// `operator="not"`.
    pub negated: bool,
    /// `referencedObjective`: an objective id of the same activity; `None` means the primary one.
    pub referenced_objective: Option<String>,
    /// `measureThreshold`, -1 to 1 (CAM default 0).
    pub measure_threshold: f64,
}

/// `imsss:randomizationControls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomizationControls {
    /// `never`, `once` or `onEachNewAttempt`.
    pub randomization_timing: String,
    pub select_count: Option<u32>,
    pub reorder_children: bool,
    /// `never`, `once` or `onEachNewAttempt`.
    pub selection_timing: String,
}

/// `adlseq:constrainedChoiceConsiderations`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstrainedChoice {
    pub prevent_activation: bool,
    pub constrain_choice: bool,
}

/// `adlseq:objective` (4th edition): extra global maps for an `imsss` objective of the same id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdlObjective {
    pub objective_id: String,
    pub maps: Vec<AdlObjectiveMap>,
}

/// `adlseq:mapInfo`: scores, completion and progress shared through a global objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdlObjectiveMap {
    pub target_objective_id: String,
    pub read_raw_score: bool,
    pub read_min_score: bool,
    pub read_max_score: bool,
    pub read_completion_status: bool,
    pub read_progress_measure: bool,
    pub write_raw_score: bool,
    pub write_min_score: bool,
    pub write_max_score: bool,
    pub write_completion_status: bool,
    pub write_progress_measure: bool,
}
