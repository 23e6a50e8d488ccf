//! The derivation rules: from a course definition and a learner's facts, the learner's result. Pure
//! functions, so the rules are tested directly and the incremental and rebuilt paths share them.
//! Each rule is stated in the README ("Derivation rules").

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use super::facts::{Fact, Score, Verb};
use super::rollup;
use crate::package::MoveOn;
use crate::sequencing::TreeDef;

/// How a component decides it is satisfied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rule {
    /// cmi5 AU: `moveOn` (default NotApplicable) and `masteryScore` (scaled).
    Cmi5 { move_on: MoveOn, mastery_score: Option<f64> },
    /// SCORM SCO (or AICC AU, which follows SCORM 1.2).
    Scorm {
        v12: bool,
        /// 1.2/AICC `masteryscore` (raw, 0–100), applied only when the SCO set no pass/fail itself.
        mastery_raw: Option<f64>,
        /// 2004 `completionThreshold` with `completedByMeasure`: the progress measure decides completion.
        min_progress: Option<f64>,
        /// 2004 primary objective with `satisfiedByMeasure`: the scaled score decides success.
        min_normalized_measure: Option<f64>,
    },
    /// Plain xAPI / TinCan activity: `completed`/`passed` statements or result.completion/success.
    Activity,
    /// A live session: satisfied by an `attended` statement.
    Session,
}

/// One part of a course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The activity IRI statements about this component use as their object.
    pub activity_id: String,
    pub title: String,
    pub required: bool,
    pub rule: Rule,
    /// The cmi5 blocks it sits in, outermost first (for block `satisfied` statements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<String>,
}

/// What results are derived against: the components, and the course-level activity whose own
/// `completed`/`passed` statements complete the whole course (TinCan and plain xAPI courses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CourseDef {
    pub id: String,
    pub title: String,
    pub course_activity: Option<String>,
    pub components: Vec<Component>,
    /// True for cmi5 courses: Cairn writes `satisfied` statements for AUs, blocks and the course.
    #[serde(default)]
    pub cmi5: bool,
    /// SCORM 2004: the activity tree as the course player sequences it. The course's completion,
    /// success and measure are then its rollup's (see [`super::rollup`]), not a rule of their own.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "shared_tree")]
    pub sequencing: Option<Arc<TreeDef>>,
}

/// The tree is read once per course and shared by every learner's derivation (it may be large).
mod shared_tree {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::sequencing::TreeDef;

    pub fn serialize<S: Serializer>(tree: &Option<Arc<TreeDef>>, s: S) -> Result<S::Ok, S::Error> {
        tree.as_deref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Arc<TreeDef>>, D::Error> {
        Ok(Option::<TreeDef>::deserialize(d)?.map(Arc::new))
    }
}

impl CourseDef {
    /// Every activity whose statements concern this course.
    pub fn activity_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.components.iter().map(|c| c.activity_id.clone()).collect();
        ids.extend(self.course_activity.clone());
        ids.sort();
        ids.dedup();
        ids
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotStarted,
    InProgress,
    Completed,
    Passed,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotStarted => "not_started",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
            Status::Passed => "passed",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::NotStarted, Status::InProgress, Status::Completed, Status::Passed, Status::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The status counted for an assignment: a waived one counts as satisfied (completed, unless
    /// already completed or passed).
    pub fn as_assigned(self, waived: bool) -> Status {
        match (waived, self) {
            (true, Status::NotStarted | Status::InProgress | Status::Failed) => Status::Completed,
            (_, s) => s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentState {
    pub activity_id: String,
    pub title: String,
    pub required: bool,
    pub status: Status,
    pub satisfied: bool,
    pub satisfied_at_us: Option<i64>,
    pub score: Option<f64>,
}

/// A learner's derived result for one course.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    pub status: Status,
    pub score: Option<Score>,
    pub first_score: Option<f64>,
    pub best_score: Option<f64>,
    pub time_spent_s: f64,
    /// Successive times the course became satisfied: the first is the completion; later ones come from
    /// activity after an earlier satisfaction (re-certification cycles).
    pub satisfied_at_us: Vec<i64>,
    /// The course counts as satisfied without any statement (every component NotApplicable).
    pub satisfied_without_activity: bool,
    pub attendance: BTreeMap<String, bool>,
    pub components: Vec<ComponentState>,
    pub last_activity_us: Option<i64>,
}

/// `Some(Some(t))` satisfied at `t`, `Some(None)` satisfied with no time (NotApplicable), `None` not yet.
type Satisfaction = Option<Option<i64>>;

fn earliest<'a>(facts: impl Iterator<Item = &'a Fact>) -> Option<i64> {
    facts.map(|f| f.at_us).min()
}

struct ComponentEval {
    satisfied: Satisfaction,
    success: Option<bool>,
    any: bool,
}

/// Evaluates one component over facts whose object is its activity.
fn eval_component(c: &Component, facts: &[&Fact]) -> ComponentEval {
    let any = !facts.is_empty();
    match &c.rule {
        Rule::Activity => {
            let done = earliest(facts.iter().copied().filter(|f| {
                matches!(f.verb, Verb::Completed | Verb::Passed)
                    || f.completion == Some(true)
                    || f.success == Some(true)
            }));
            let success = success_of(facts);
            ComponentEval { satisfied: done.map(Some), success, any }
        }
        Rule::Session => {
            let attended = earliest(facts.iter().copied().filter(|f| f.verb == Verb::Attended));
            ComponentEval { satisfied: attended.map(Some), success: None, any }
        }
        Rule::Cmi5 { move_on, .. } => {
            // Only cmi5 defined statements count (§7.1.3), and never a pass/fail that contradicts the
            // masteryScore (§9.3.4-5; the LMS voids those, see `to_void`).
            let counted: Vec<&Fact> =
                facts.iter().copied().filter(|f| f.cmi5_defined && !conflicts_with_mastery(&c.rule, f)).collect();
            let first = |v: Verb| earliest(counted.iter().copied().filter(|f| f.verb == v));
            let (waived, completed, passed) = (first(Verb::Waived), first(Verb::Completed), first(Verb::Passed));
            let failed = counted.iter().any(|f| f.verb == Verb::Failed);
            // Once passed, a later failed never un-satisfies.
            let success = if passed.is_some() {
                Some(true)
            } else if failed {
                Some(false)
            } else {
                None
            };
            let by_rule: Satisfaction = match move_on {
                MoveOn::NotApplicable => Some(None),
                MoveOn::Completed => completed.map(Some),
                MoveOn::Passed => passed.map(Some),
                MoveOn::CompletedAndPassed => match (completed, passed) {
                    (Some(a), Some(b)) => Some(Some(a.max(b))),
                    _ => None,
                },
                MoveOn::CompletedOrPassed => match (completed, passed) {
                    (Some(a), Some(b)) => Some(Some(a.min(b))),
                    (Some(a), None) | (None, Some(a)) => Some(Some(a)),
                    _ => None,
                },
            };
            // An AU satisfied from the start (NotApplicable) has no time of its own: a later `waived`
            // must not give it one (§9.6.1: moveOn is evaluated at registration).
            let satisfied = match (waived, by_rule) {
                (_, Some(None)) => Some(None),
                (Some(w), Some(Some(t))) => Some(Some(w.min(t))),
                (Some(w), None) => Some(Some(w)),
                (None, s) => s,
            };
            ComponentEval { satisfied, success, any }
        }
        Rule::Scorm { v12, mastery_raw, min_progress, min_normalized_measure } => {
            // Success: reported pass/fail, else 1.2 mastery score on the raw score, and in 2004 the
            // primary objective's measure when satisfiedByMeasure (overriding what was reported).
            let reported: Vec<&Fact> = facts.iter().copied().filter(|f| f.success.is_some()).collect();
            let mut success_at: Option<(bool, i64)> =
                reported.iter().min_by_key(|f| f.at_us).map(|f| (f.success == Some(true), f.at_us));
            if let Some(first_pass) = earliest(reported.iter().copied().filter(|f| f.success == Some(true))) {
                success_at = Some((true, first_pass));
            }
            if let (true, None, Some(m)) = (*v12, success_at, mastery_raw) {
                if let Some(f) = facts.iter().filter(|f| f.score.raw.is_some()).max_by_key(|f| f.at_us) {
                    success_at = Some((f.score.raw.unwrap_or(0.0) >= *m, f.at_us));
                }
            }
            if let (false, Some(m)) = (*v12, min_normalized_measure) {
                success_at = facts
                    .iter()
                    .filter(|f| f.score.scaled.is_some())
                    .max_by_key(|f| f.at_us)
                    .map(|f| (f.score.scaled.unwrap_or(0.0) >= *m, f.at_us));
            }
            let mut completed =
                earliest(facts.iter().copied().filter(|f| f.completion == Some(true) || f.verb == Verb::Completed));
            if *v12 {
                // In 1.2 passed implies completed, and content that never sets a status is completed on exit.
                if let Some((true, t)) = success_at {
                    completed = Some(completed.map_or(t, |c| c.min(t)));
                }
                let no_status = facts.iter().all(|f| f.completion.is_none() && f.success.is_none());
                if completed.is_none() && no_status {
                    completed = earliest(facts.iter().copied().filter(|f| f.verb == Verb::Terminated));
                }
            } else if let Some(min) = min_progress {
                // completionThreshold with a progress measure overrides the reported status.
                completed = earliest(facts.iter().copied().filter(|f| f.progress.is_some_and(|p| p >= *min)));
            }
            ComponentEval { satisfied: completed.map(Some), success: success_at.map(|(s, _)| s), any }
        }
    }
}

/// A `passed` below the AU's masteryScore or a `failed` at or above it (scaled scores; cmi5
/// §9.3.4-5). The launch credential refuses these; from trusted clients they are stored, count for
/// nothing (not even the score) and, when cmi5 defined, are voided by the LMS (§6.3).
pub fn conflicts_with_mastery(rule: &Rule, f: &Fact) -> bool {
    let Rule::Cmi5 { mastery_score: Some(m), .. } = rule else { return false };
    match (f.verb, f.score.scaled) {
        (Verb::Passed, Some(s)) => s < *m,
        (Verb::Failed, Some(s)) => s >= *m,
        _ => false,
    }
}

/// The statements the LMS must void for a learner of a cmi5 course (§6.3: it must void the statements
/// it accepts that conflict with §9): cmi5 defined pass/fail that contradict the AU's masteryScore.
pub fn to_void(course: &CourseDef, facts: &[Fact]) -> Vec<String> {
    let mut ids: Vec<String> = facts
        .iter()
        .filter(|f| f.cmi5_defined)
        .filter(|f| {
            course.components.iter().any(|c| c.activity_id == f.activity_id && conflicts_with_mastery(&c.rule, f))
        })
        .map(|f| f.statement_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

fn success_of(facts: &[&Fact]) -> Option<bool> {
    if facts.iter().any(|f| f.success == Some(true)) {
        Some(true)
    } else if facts.iter().any(|f| f.success == Some(false)) {
        Some(false)
    } else {
        None
    }
}

/// Whether a component's satisfaction is the rollup's (a SCO of a sequenced course) rather than its
/// own rule's.
fn rolled_up(course: &CourseDef, c: &Component) -> bool {
    course.sequencing.is_some() && matches!(c.rule, Rule::Scorm { .. })
}

/// When the course became satisfied considering only `facts`. A sequenced course's SCOs count
/// through the rollup (the course activity completed), its other components (live sessions) by
/// their own rules.
/// `replayed`: the rollup over `facts`, when already computed.
fn course_satisfaction(
    course: &CourseDef,
    tree: Option<&Arc<TreeDef>>,
    replayed: Option<&rollup::Replay>,
    facts: &[&Fact],
) -> Satisfaction {
    if let Some(tree) = tree {
        let completed_at = match replayed {
            Some(r) => r.completed_at,
            None => rollup::replay(tree, &course.id, facts).completed_at,
        };
        let mut latest = completed_at?;
        for c in course.components.iter().filter(|c| c.required && !rolled_up(course, c)) {
            let own: Vec<&Fact> = facts.iter().copied().filter(|f| f.activity_id == c.activity_id).collect();
            match eval_component(c, &own).satisfied {
                Some(Some(t)) => latest = latest.max(t),
                Some(None) => {}
                None => return None,
            }
        }
        return Some(Some(latest));
    }
    // A cmi5 course is satisfied by its AUs only: a statement about the course activity is no cmi5
    // defined statement (their object is an AU, §9.4).
    let by_course = course.course_activity.as_ref().filter(|_| !course.cmi5).and_then(|ca| {
        earliest(facts.iter().copied().filter(|f| {
            &f.activity_id == ca
                && (matches!(f.verb, Verb::Completed | Verb::Passed)
                    || f.completion == Some(true)
                    || f.success == Some(true))
        }))
    });
    let required: Vec<&Component> = course.components.iter().filter(|c| c.required).collect();
    let by_components: Satisfaction = if required.is_empty()
        || required.iter().all(|c| Some(c.activity_id.as_str()) == course.course_activity.as_deref())
    {
        None
    } else {
        let mut latest: Option<i64> = None;
        let mut all = true;
        for c in &required {
            let own: Vec<&Fact> = facts.iter().copied().filter(|f| f.activity_id == c.activity_id).collect();
            match eval_component(c, &own).satisfied {
                Some(Some(t)) => latest = Some(latest.map_or(t, |l: i64| l.max(t))),
                Some(None) => {}
                None => all = false,
            }
        }
        all.then_some(latest)
    };
    match (by_course, by_components) {
        (Some(a), Some(Some(b))) => Some(Some(a.min(b))),
        (Some(a), _) => Some(Some(a)),
        (None, s) => s,
    }
}

/// Derives a learner's result for `course` from their facts (any order; voided ones already removed).
pub fn derive(course: &CourseDef, facts: &[Fact]) -> Derived {
    let ids_owned = course.activity_ids();
    let ids: HashSet<&str> = ids_owned.iter().map(String::as_str).collect();
    // Browse and Review launches never count: drop every fact of such a cmi5 session.
    let excluded: HashSet<&str> = facts
        .iter()
        .filter(|f| f.verb == Verb::Launched && matches!(f.launch_mode.as_deref(), Some("Browse") | Some("Review")))
        .filter_map(|f| f.session_id.as_deref())
        .collect();
    let relevant: Vec<&Fact> = facts
        .iter()
        .filter(|f| ids.contains(f.activity_id.as_str()) || f.context_ids.iter().any(|c| ids.contains(c.as_str())))
        .filter(|f| f.session_id.as_deref().is_none_or(|s| !excluded.contains(s)))
        .filter(|f| f.verb != Verb::Satisfied)
        .collect();
    let on_object: Vec<&Fact> = relevant.iter().copied().filter(|f| ids.contains(f.activity_id.as_str())).collect();

    // Successive satisfactions: after each one, only later activity can satisfy the course again.
    let mut satisfied_at = Vec::new();
    let mut without_activity = false;
    let mut from = i64::MIN;
    let tree = course.sequencing.as_ref();
    // A sequenced course: its SCOs, completion, success and measure as the rollup has them after
    // every fact (the player's view of the same statements). The first window is every fact.
    let replayed = tree.map(|t| rollup::replay(t, &course.id, &on_object));
    loop {
        let window: Vec<&Fact> = on_object.iter().copied().filter(|f| f.at_us > from).collect();
        let whole = replayed.as_ref().filter(|_| from == i64::MIN);
        match course_satisfaction(course, tree, whole, &window) {
            Some(Some(t)) if satisfied_at.len() < 1000 => {
                satisfied_at.push(t);
                from = t;
            }
            Some(None) => {
                without_activity = satisfied_at.is_empty();
                break;
            }
            _ => break,
        }
    }

    let mut components = Vec::new();
    let mut attendance = BTreeMap::new();
    let mut scored: Vec<(Option<f64>, Option<f64>, Option<f64>)> = Vec::new(); // latest, first, best
    let mut any_failed = false;
    let mut success_known = Vec::new();
    // What counts toward a component's score: not a pass/fail contradicting its masteryScore.
    let scoring = |c: &Component| -> Vec<&Fact> {
        on_object
            .iter()
            .copied()
            .filter(|f| f.activity_id == c.activity_id && !conflicts_with_mastery(&c.rule, f))
            .collect()
    };
    for c in &course.components {
        let own: Vec<&Fact> = on_object.iter().copied().filter(|f| f.activity_id == c.activity_id).collect();
        let leaf = replayed.as_ref().filter(|_| rolled_up(course, c)).and_then(|r| r.leaves.get(&c.activity_id));
        let ev = match leaf {
            Some((done_at, st)) => ComponentEval {
                // Completed once is completed (the course's own completion is kept the same way).
                satisfied: done_at.map(Some).or((st.completed == Some(true)).then_some(None)),
                success: st.satisfied,
                any: !own.is_empty() || st.attempted,
            },
            None => eval_component(c, &own),
        };
        let satisfied = ev.satisfied.is_some();
        let status = match (satisfied, ev.success) {
            (_, Some(true)) => Status::Passed,
            (false, Some(false)) => Status::Failed,
            (true, _) => Status::Completed,
            (false, None) if ev.any => Status::InProgress,
            _ => Status::NotStarted,
        };
        if c.required {
            // A sequenced course's SCOs fail it only through the rollup (below).
            any_failed |= status == Status::Failed && leaf.is_none();
            if let Some(s) = ev.success {
                success_known.push(s);
            }
        }
        if c.rule == Rule::Session {
            attendance.insert(c.activity_id.clone(), satisfied);
        }
        let (latest, first, best) = score_stats(&scoring(c));
        if latest.is_some() {
            scored.push((latest.and_then(|s| s.scaled), first, best));
        }
        components.push(ComponentState {
            activity_id: c.activity_id.clone(),
            title: c.title.clone(),
            required: c.required,
            status,
            satisfied,
            satisfied_at_us: ev.satisfied.flatten(),
            score: match leaf {
                Some((_, st)) => st.measure,
                None => latest.and_then(|s| s.scaled),
            },
        });
    }

    // Course-level statements (TinCan/plain xAPI) give the score and success directly.
    let course_facts: Vec<&Fact> = course
        .course_activity
        .as_ref()
        .filter(|_| !course.cmi5)
        .map(|ca| on_object.iter().copied().filter(|f| &f.activity_id == ca).collect())
        .unwrap_or_default();
    let course_success = success_of(&course_facts);
    let (course_latest, course_first, course_best) = score_stats(&course_facts);
    let (score, first_score, best_score) = if course_latest.is_some() {
        (course_latest, course_first, course_best)
    } else {
        let mean = |xs: Vec<f64>| (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64);
        let latest = mean(scored.iter().filter_map(|s| s.0).collect());
        let single_raw =
            if scored.len() == 1 { course.components.iter().find_map(|c| score_stats(&scoring(c)).0) } else { None };
        (
            single_raw.or(latest.map(|s| Score { scaled: Some(s), ..Default::default() })),
            mean(scored.iter().filter_map(|s| s.1).collect()),
            mean(scored.iter().filter_map(|s| s.2).collect()),
        )
    };

    let satisfied = !satisfied_at.is_empty() || without_activity;
    let mut passed = course_success == Some(true) || (!success_known.is_empty() && success_known.iter().all(|s| *s));
    let (mut score, mut first_score, mut best_score) = (score, first_score, best_score);
    if let Some(r) = &replayed {
        // The rollup decides: passed when the course activity is satisfied, failed (before it
        // completes) when it is not, and its measure is the course's score.
        passed = r.course.satisfied == Some(true);
        any_failed |= r.course.satisfied == Some(false);
        if let Some(m) = r.course.measure {
            // A one-SCO course keeps the SCO's raw score beside the measure.
            let same = score.filter(|s| s.scaled == Some(m));
            score = Some(Score { scaled: Some(m), ..same.unwrap_or_default() });
            first_score = r.measure_at_completion.or(Some(m));
            best_score = r.best_measure.or(Some(m));
        }
    }
    let status = if satisfied {
        if passed {
            Status::Passed
        } else {
            Status::Completed
        }
    } else if any_failed || course_success == Some(false) {
        Status::Failed
    } else if !relevant.is_empty() {
        Status::InProgress
    } else {
        Status::NotStarted
    };
    Derived {
        status,
        score,
        first_score,
        best_score,
        // Folded from +0.0: `Sum` for floats starts at -0.0, which JSON and CSV would show as `-0`.
        time_spent_s: relevant.iter().filter_map(|f| f.duration_s).fold(0.0, |a, b| a + b),
        satisfied_at_us: satisfied_at,
        satisfied_without_activity: without_activity,
        attendance,
        components,
        last_activity_us: relevant.iter().map(|f| f.at_us).max(),
    }
}

/// Latest score, first-attempt scaled score and best scaled score among facts.
fn score_stats(facts: &[&Fact]) -> (Option<Score>, Option<f64>, Option<f64>) {
    let mut with_score: Vec<&&Fact> = facts.iter().filter(|f| !f.score.is_empty()).collect();
    with_score.sort_by_key(|f| f.at_us);
    let latest = with_score.last().map(|f| f.score);
    let first = with_score.first().and_then(|f| f.score.scaled);
    let best = with_score
        .iter()
        .filter_map(|f| f.score.scaled)
        .fold(None, |m: Option<f64>, s| Some(m.map_or(s, |m| m.max(s))));
    (latest, first, best)
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: &str = "Agent|mbox:mailto:a@example.com";

    fn fact(activity: &str, verb: Verb, at: i64) -> Fact {
        Fact {
            statement_id: format!("s{at}"),
            learner_key: L.into(),
            activity_id: activity.into(),
            context_ids: vec![],
            registration: None,
            verb,
            completion: if verb == Verb::Completed { Some(true) } else { None },
            success: match verb {
                Verb::Passed => Some(true),
                Verb::Failed => Some(false),
                _ => None,
            },
            score: Score::default(),
            duration_s: None,
            progress: None,
            session_id: None,
            launch_mode: None,
            at_us: at,
            launch: None,
            cmi5_defined: true,
        }
    }

    fn scored(mut f: Fact, scaled: f64) -> Fact {
        f.score.scaled = Some(scaled);
        f.score.raw = Some(scaled * 100.0);
        f
    }

    fn cmi5(move_on: MoveOn) -> CourseDef {
        CourseDef {
            id: "http://c".into(),
            title: "C".into(),
            course_activity: Some("http://c".into()),
            components: vec![Component {
                activity_id: "http://au1".into(),
                title: "AU".into(),
                required: true,
                rule: Rule::Cmi5 { move_on, mastery_score: Some(0.8) },
                blocks: vec![],
            }],
            cmi5: true,
            sequencing: None,
        }
    }

    #[test]
    fn cmi5_move_on_rules() {
        let completed = fact("http://au1", Verb::Completed, 10);
        let passed = scored(fact("http://au1", Verb::Passed, 20), 0.9);
        let d = derive(&cmi5(MoveOn::Completed), std::slice::from_ref(&completed));
        assert_eq!((d.status, d.satisfied_at_us.clone()), (Status::Completed, vec![10]));
        assert!(derive(&cmi5(MoveOn::Passed), std::slice::from_ref(&completed)).satisfied_at_us.is_empty());
        let d = derive(&cmi5(MoveOn::CompletedAndPassed), &[completed.clone(), passed.clone()]);
        assert_eq!((d.status, d.satisfied_at_us.clone()), (Status::Passed, vec![20]));
        let d = derive(&cmi5(MoveOn::CompletedOrPassed), std::slice::from_ref(&passed));
        assert_eq!(d.satisfied_at_us, vec![20]);
        // NotApplicable is satisfied without any statement.
        let d = derive(&cmi5(MoveOn::NotApplicable), &[]);
        assert!(d.satisfied_without_activity);
        assert_eq!(d.status, Status::Completed);
    }

    #[test]
    fn cmi5_passed_below_mastery_does_not_count_and_failed_never_unsatisfies() {
        let low = scored(fact("http://au1", Verb::Passed, 10), 0.5);
        assert!(derive(&cmi5(MoveOn::Passed), &[low]).satisfied_at_us.is_empty());
        let pass = scored(fact("http://au1", Verb::Passed, 10), 0.9);
        let fail = scored(fact("http://au1", Verb::Failed, 20), 0.1);
        let d = derive(&cmi5(MoveOn::Passed), &[pass, fail]);
        assert_eq!(d.status, Status::Passed);
        assert_eq!(d.satisfied_at_us, vec![10]);
        assert_eq!(d.best_score, Some(0.9));
        assert_eq!(d.first_score, Some(0.9));
    }

    #[test]
    fn cmi5_waived_satisfies() {
        let d = derive(&cmi5(MoveOn::CompletedAndPassed), &[fact("http://au1", Verb::Waived, 5)]);
        assert_eq!(d.satisfied_at_us, vec![5]);
    }

    #[test]
    fn cmi5_allowed_statements_never_satisfy() {
        let mut allowed = fact("http://au1", Verb::Completed, 5);
        allowed.cmi5_defined = false;
        let d = derive(&cmi5(MoveOn::Completed), &[allowed]);
        assert_eq!((d.status, d.satisfied_at_us.len()), (Status::InProgress, 0));
    }

    #[test]
    fn waived_gives_a_not_applicable_au_no_time() {
        let d = derive(&cmi5(MoveOn::NotApplicable), &[fact("http://au1", Verb::Waived, 5)]);
        assert!(d.satisfied_without_activity && d.satisfied_at_us.is_empty(), "{d:?}");
    }

    #[test]
    fn conflicting_pass_fail_counts_for_nothing() {
        let low_pass = scored(fact("http://au1", Verb::Passed, 5), 0.5);
        let high_fail = scored(fact("http://au1", Verb::Failed, 6), 0.9);
        let c = cmi5(MoveOn::Passed);
        let d = derive(&c, &[low_pass.clone(), high_fail.clone()]);
        assert_eq!((d.status, d.score, d.best_score), (Status::InProgress, None, None));
        assert_eq!(to_void(&c, &[low_pass, high_fail]), vec!["s5".to_string(), "s6".to_string()]);
        assert!(to_void(&c, &[scored(fact("http://au1", Verb::Passed, 7), 0.8)]).is_empty());
    }

    #[test]
    fn no_time_spent_is_positive_zero() {
        let d = derive(&cmi5(MoveOn::Completed), &[]);
        assert!(d.time_spent_s == 0.0 && d.time_spent_s.is_sign_positive());
    }

    #[test]
    fn browse_and_review_launches_never_count() {
        let mut launched = fact("http://au1", Verb::Launched, 1);
        launched.session_id = Some("s".into());
        launched.launch_mode = Some("Browse".into());
        let mut done = fact("http://au1", Verb::Completed, 2);
        done.session_id = Some("s".into());
        let d = derive(&cmi5(MoveOn::Completed), &[launched, done]);
        assert_eq!(d.status, Status::NotStarted);
    }

    fn scorm(
        v12: bool,
        mastery_raw: Option<f64>,
        min_progress: Option<f64>,
        min_normalized_measure: Option<f64>,
    ) -> CourseDef {
        CourseDef {
            id: "urn:c".into(),
            title: "S".into(),
            course_activity: None,
            components: vec![
                Component {
                    activity_id: "urn:c/a".into(),
                    title: "A".into(),
                    required: true,
                    rule: Rule::Scorm { v12, mastery_raw, min_progress, min_normalized_measure },
                    blocks: vec![],
                },
                Component {
                    activity_id: "urn:c/b".into(),
                    title: "B".into(),
                    required: true,
                    rule: Rule::Scorm { v12, mastery_raw, min_progress, min_normalized_measure },
                    blocks: vec![],
                },
            ],
            cmi5: false,
            sequencing: None,
        }
    }

    #[test]
    fn scorm_course_completes_when_every_sco_does_and_scores_average() {
        let c = scorm(false, None, None, None);
        let d = derive(&c, &[scored(fact("urn:c/a", Verb::Completed, 1), 0.6)]);
        assert_eq!(d.status, Status::InProgress);
        let d = derive(
            &c,
            &[scored(fact("urn:c/a", Verb::Completed, 1), 0.6), scored(fact("urn:c/b", Verb::Completed, 3), 0.8)],
        );
        assert_eq!(d.status, Status::Completed);
        assert_eq!(d.satisfied_at_us, vec![3]);
        assert!((d.score.unwrap().scaled.unwrap() - 0.7).abs() < 1e-9);
    }

    #[test]
    fn scorm12_masteryscore_applies_only_without_reported_pass_fail() {
        let c = scorm(true, Some(70.0), None, None);
        let mut a = fact("urn:c/a", Verb::Scored, 1);
        a.score.raw = Some(75.0);
        let mut b = fact("urn:c/b", Verb::Failed, 2);
        b.score.raw = Some(90.0);
        let d = derive(&c, &[a, b]);
        assert_eq!(d.components[0].status, Status::Passed, "mastery score decides when the SCO said nothing");
        assert_eq!(d.components[1].status, Status::Failed, "the SCO's own failed stands");
    }

    #[test]
    fn scorm12_exit_without_status_is_completed() {
        let c = scorm(true, None, None, None);
        let d = derive(&c, &[fact("urn:c/a", Verb::Terminated, 1), fact("urn:c/b", Verb::Terminated, 2)]);
        assert_eq!(d.status, Status::Completed);
    }

    #[test]
    fn scorm2004_progress_measure_overrides_reported_completion() {
        let c = scorm(false, None, Some(0.8), None);
        let mut low = fact("urn:c/a", Verb::Completed, 1);
        low.progress = Some(0.5);
        let d = derive(&c, &[low]);
        assert_eq!(d.components[0].status, Status::InProgress);
        let mut high = fact("urn:c/a", Verb::Progressed, 2);
        high.progress = Some(0.9);
        assert!(derive(&c, &[high]).components[0].satisfied);
    }

    #[test]
    fn scorm2004_satisfied_by_measure_decides_success_only_with_a_scaled_score() {
        let c = scorm(false, None, None, Some(0.6));
        let d = derive(&c, &[scored(fact("urn:c/a", Verb::Passed, 1), 0.5)]);
        assert_eq!(d.components[0].status, Status::Failed, "measure below the threshold overrides passed");
        let d = derive(&c, &[fact("urn:c/a", Verb::Passed, 1)]);
        assert_eq!(d.components[0].status, Status::InProgress, "no scaled score: success unknown");
    }

    #[test]
    fn untracked_components_do_not_count() {
        let mut c = scorm(false, None, None, None);
        c.components[1].required = false;
        let d = derive(&c, &[fact("urn:c/a", Verb::Completed, 1)]);
        assert_eq!(d.status, Status::Completed);
    }

    #[test]
    fn plain_xapi_course_activity_completes_the_course() {
        let c = CourseDef {
            id: "http://t".into(),
            title: "T".into(),
            course_activity: Some("http://t".into()),
            components: vec![Component {
                activity_id: "http://t".into(),
                title: "T".into(),
                required: true,
                rule: Rule::Activity,
                blocks: vec![],
            }],
            cmi5: false,
            sequencing: None,
        };
        let d = derive(&c, &[scored(fact("http://t", Verb::Passed, 7), 0.75)]);
        assert_eq!(d.status, Status::Passed);
        assert_eq!(d.satisfied_at_us, vec![7]);
        assert_eq!(d.score.unwrap().scaled, Some(0.75));
        // Each later completion is a new satisfaction (re-certification cycles).
        let d = derive(&c, &[fact("http://t", Verb::Completed, 7), fact("http://t", Verb::Completed, 9)]);
        assert_eq!(d.satisfied_at_us, vec![7, 9]);
    }

    #[test]
    fn blended_course_needs_the_session_too() {
        let c = CourseDef {
            id: "http://b".into(),
            title: "B".into(),
            course_activity: None,
            components: vec![
                Component {
                    activity_id: "http://m".into(),
                    title: "M".into(),
                    required: true,
                    rule: Rule::Activity,
                    blocks: vec![],
                },
                Component {
                    activity_id: "urn:s".into(),
                    title: "S".into(),
                    required: true,
                    rule: Rule::Session,
                    blocks: vec![],
                },
            ],
            cmi5: false,
            sequencing: None,
        };
        let d = derive(&c, &[fact("http://m", Verb::Completed, 1)]);
        assert_eq!(d.status, Status::InProgress);
        assert_eq!(d.attendance.get("urn:s"), Some(&false));
        let d = derive(&c, &[fact("http://m", Verb::Completed, 1), fact("urn:s", Verb::Attended, 5)]);
        assert_eq!(d.status, Status::Completed);
        assert_eq!(d.satisfied_at_us, vec![5]);
        assert_eq!(d.attendance.get("urn:s"), Some(&true));
    }
}
