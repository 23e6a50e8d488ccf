//! Facts: what one statement says about a learner's progress on one activity, extracted once when the
//! statement is stored. Results are derived from facts (never by rescanning statements), and a voided
//! statement's facts are simply deleted.

use crate::xapi::view::View;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::xapi::{duration, timestamp};

/// The verbs results care about (ADL, cmi5 and the ADL SCORM profile use these IRIs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    Launched,
    Initialized,
    Completed,
    Passed,
    Failed,
    Scored,
    Attended,
    Registered,
    Waived,
    Satisfied,
    Terminated,
    Suspended,
    Resumed,
    Abandoned,
    Progressed,
    Other,
}

impl Verb {
    pub fn from_iri(iri: &str) -> Verb {
        let last = iri.rsplit('/').next().unwrap_or("");
        let adl =
            iri.starts_with("http://adlnet.gov/expapi/verbs/") || iri.starts_with("https://w3id.org/xapi/adl/verbs/");
        if !adl {
            return Verb::Other;
        }
        match last {
            "launched" => Verb::Launched,
            "initialized" => Verb::Initialized,
            "completed" => Verb::Completed,
            "passed" => Verb::Passed,
            "failed" => Verb::Failed,
            "scored" => Verb::Scored,
            "attended" => Verb::Attended,
            "registered" => Verb::Registered,
            "waived" => Verb::Waived,
            "satisfied" => Verb::Satisfied,
            "terminated" => Verb::Terminated,
            "suspended" => Verb::Suspended,
            "resumed" => Verb::Resumed,
            "abandoned" => Verb::Abandoned,
            "progressed" => Verb::Progressed,
            _ => Verb::Other,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Launched => "launched",
            Verb::Initialized => "initialized",
            Verb::Completed => "completed",
            Verb::Passed => "passed",
            Verb::Failed => "failed",
            Verb::Scored => "scored",
            Verb::Attended => "attended",
            Verb::Registered => "registered",
            Verb::Waived => "waived",
            Verb::Satisfied => "satisfied",
            Verb::Terminated => "terminated",
            Verb::Suspended => "suspended",
            Verb::Resumed => "resumed",
            Verb::Abandoned => "abandoned",
            Verb::Progressed => "progressed",
            Verb::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Verb {
        Verb::from_iri(&format!("http://adlnet.gov/expapi/verbs/{s}"))
    }
}

/// A score as reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub scaled: Option<f64>,
    pub raw: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl Score {
    pub fn is_empty(&self) -> bool {
        self.scaled.is_none() && self.raw.is_none()
    }
}

/// One statement's meaning for one learner and activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub statement_id: String,
    pub learner_key: String,
    /// The statement's object (an Activity id).
    pub activity_id: String,
    /// `context.contextActivities.parent` and `grouping` ids: the statement also concerns these.
    pub context_ids: Vec<String>,
    pub registration: Option<String>,
    pub verb: Verb,
    pub completion: Option<bool>,
    pub success: Option<bool>,
    pub score: Score,
    pub duration_s: Option<f64>,
    /// Progress 0..1 (cmi5 progress extension, SCORM progress measure).
    pub progress: Option<f64>,
    pub session_id: Option<String>,
    /// cmi5 launch mode (Normal, Browse, Review), carried by `launched` statements.
    pub launch_mode: Option<String>,
    /// When it happened: the statement's timestamp, clamped to its stored time so a client clock in the
    /// future cannot fake punctuality.
    pub at_us: i64,
    /// Set when the statement came through a launch credential: what that launch may count toward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<LaunchScope>,
    /// Whether the statement is cmi5 defined (it carries the cmi5 category activity, cmi5 §9.6.2.1):
    /// only those count toward an AU's satisfaction (§7.1.3). Facts stored before this field existed
    /// read as defined, as they counted then; `cairn results rebuild` re-extracts them.
    #[serde(default = "defined_by_default", skip_serializing_if = "is_true")]
    pub cmi5_defined: bool,
}

fn defined_by_default() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// The reach of a statement sent with a launch credential. Content runs in the learner's browser, so
/// whatever it says can count only toward the course launched, and complete or score only activities
/// in the launched module's tree; anything else it mentions counts as activity at most.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaunchScope {
    pub course_id: String,
    /// The launch's activity tree, as facts name activities (cmi5 AUs by their publisher id too).
    pub roots: Vec<String>,
}

impl LaunchScope {
    /// The scope of a launch of `course_id` whose credential may write about the trees under `roots`.
    pub fn new(course_id: &str, roots: &[String]) -> LaunchScope {
        let mut all = roots.to_vec();
        all.extend(roots.iter().filter_map(|r| super::ids::cmi5_au_of(r)));
        LaunchScope { course_id: course_id.to_string(), roots: all }
    }
}

impl Fact {
    /// This fact as it counts toward `course_id`'s results: dropped when it came from a launch of
    /// another course; when its object is outside the launch's tree (a question, a slide, or another
    /// module named by the content), kept only through its context, so it can show activity but can
    /// never complete, pass or score anything.
    pub fn for_course(mut self, course_id: &str) -> Option<Fact> {
        if let Some(scope) = &self.launch {
            if scope.course_id != course_id {
                return None;
            }
            if !crate::xapi::activity::in_tree(&scope.roots, &self.activity_id) {
                self.activity_id = String::new();
            }
        }
        Some(self)
    }
}

use crate::xapi::vocab::cmi5::{
    CATEGORY_CMI5 as CMI5_CATEGORY, EXT_LAUNCH_MODE as CMI5_LAUNCH_MODE, EXT_PROGRESS as CMI5_PROGRESS,
    EXT_SESSION as CMI5_SESSION,
};
use crate::xapi::vocab::scorm::EXT_PROGRESS_MEASURE as SCORM_PROGRESS;

fn us_of(ts: Option<&str>) -> Option<i64> {
    ts.and_then(|t| timestamp::parse_timestamp(t).ok()).map(|t| (t.unix_timestamp_nanos() / 1000) as i64)
}

/// The facts of a stored statement (its view of the body as stored, so `stored` is set). Voiding statements,
/// statements whose actor is not an identified agent and whose object is not an Activity give none.
pub fn extract(stmt: &View, launch: Option<&LaunchScope>) -> Vec<Fact> {
    if stmt.verb.is_empty() || stmt.verb == crate::xapi::VOIDED_VERB || stmt.actor_is_group {
        return Vec::new();
    }
    let Some(learner_key) = stmt.actor_key.clone() else { return Vec::new() };
    let Some(activity_id) = stmt.activity_id() else { return Vec::new() };
    // A cmi5 AU runs under the activity id Cairn generated for it; its results are kept under the AU id.
    let au = super::ids::cmi5_au_of(activity_id);
    let activity_id = au.as_deref().unwrap_or(activity_id);
    let Some(stored_us) = us_of(stmt.stored) else { return Vec::new() };
    let at_us = us_of(stmt.timestamp).map(|t| t.min(stored_us)).unwrap_or(stored_us);
    let verb = Verb::from_iri(stmt.verb);
    let mut completion = stmt.completion;
    let mut success = stmt.success;
    match verb {
        Verb::Completed => completion = Some(true),
        Verb::Passed => success = Some(true),
        Verb::Failed => success = Some(false),
        _ => {}
    }
    let mut context_ids: Vec<String> = Vec::new();
    for id in stmt.context_activities.parent.iter().chain(&stmt.context_activities.grouping) {
        if *id != activity_id && !context_ids.iter().any(|x| x == id) {
            context_ids.push(id.to_string());
        }
    }
    let progress = stmt
        .result_extension(CMI5_PROGRESS)
        .and_then(Value::as_f64)
        .map(|p| p / 100.0)
        .or_else(|| stmt.result_extension(SCORM_PROGRESS).and_then(Value::as_f64));
    let ext_str = |k: &str| stmt.context_extension(k).and_then(Value::as_str).map(str::to_string);
    vec![Fact {
        statement_id: stmt.id.unwrap_or_default().to_string(),
        learner_key,
        activity_id: activity_id.to_string(),
        context_ids,
        registration: stmt.registration.clone(),
        verb,
        completion,
        success,
        score: Score { scaled: stmt.score.scaled, raw: stmt.score.raw, min: stmt.score.min, max: stmt.score.max },
        duration_s: stmt.duration.and_then(|d| duration::parse_duration(d).ok()),
        progress,
        session_id: ext_str(CMI5_SESSION),
        launch_mode: ext_str(CMI5_LAUNCH_MODE),
        at_us,
        launch: launch.cloned(),
        cmi5_defined: stmt.context_activities.category.contains(&CMI5_CATEGORY),
    }]
}

#[cfg(test)]
mod tests {
    /// `extract` of a statement given as JSON.
    fn extract_json(s: &Value, launch: Option<&LaunchScope>) -> Vec<Fact> {
        extract(&View::of(s), launch)
    }

    use super::*;
    use serde_json::json;

    fn stmt(verb: &str, extra: Value) -> Value {
        let mut s = json!({"id": "00000000-0000-4000-8000-000000000001", "actor": {"mbox": "mailto:a@example.com"},
            "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")}, "object": {"id": "http://example.com/c"},
            "timestamp": "2026-01-01T10:00:00Z", "stored": "2026-01-01T11:00:00.000Z"});
        if let (Some(o), Some(e)) = (s.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                o.insert(k.clone(), v.clone());
            }
        }
        s
    }

    #[test]
    fn completed_verb_sets_completion_and_keeps_score_and_duration() {
        let f = &extract_json(
            &stmt(
                "completed",
                json!({"result": {"score": {"scaled": 0.8, "raw": 80, "min": 0, "max": 100}, "duration": "PT1H"}}),
            ),
            None,
        )[0];
        assert_eq!(f.verb, Verb::Completed);
        assert_eq!(f.completion, Some(true));
        assert_eq!(f.score.scaled, Some(0.8));
        assert_eq!(f.duration_s, Some(3600.0));
        assert_eq!(f.learner_key, "Agent|mbox:mailto:a@example.com");
    }

    #[test]
    fn a_future_timestamp_is_clamped_to_stored() {
        let f = &extract_json(&stmt("passed", json!({"timestamp": "2030-01-01T00:00:00Z"})), None)[0];
        let stored = us_of(Some("2026-01-01T11:00:00.000Z")).unwrap();
        assert_eq!(f.at_us, stored);
        let f = &extract_json(&stmt("passed", json!({})), None)[0];
        assert!(f.at_us < stored);
    }

    #[test]
    fn voiding_group_and_non_activity_statements_give_no_facts() {
        assert!(extract_json(&stmt("voided", json!({})), None).is_empty());
        assert!(
            extract_json(&stmt("completed", json!({"actor": {"objectType": "Group", "member": []}})), None).is_empty()
        );
        assert!(extract_json(&stmt("completed", json!({"object": {"objectType": "StatementRef", "id": "x"}})), None)
            .is_empty());
    }

    #[test]
    fn cmi5_context_is_read() {
        let f = &extract_json(
            &stmt(
                "launched",
                json!({"context": {"registration": "AAAAAAAA-0000-4000-8000-000000000001",
                               "contextActivities": {"grouping": [{"id": "http://example.com/course"}]},
                               "extensions": {CMI5_SESSION: "s1", CMI5_LAUNCH_MODE: "Browse"}}}),
            ),
            None,
        )[0];
        assert_eq!(f.session_id.as_deref(), Some("s1"));
        assert_eq!(f.launch_mode.as_deref(), Some("Browse"));
        assert_eq!(f.registration.as_deref(), Some("aaaaaaaa-0000-4000-8000-000000000001"));
        assert_eq!(f.context_ids, vec!["http://example.com/course".to_string()]);
    }

    #[test]
    fn cmi5_defined_means_the_cmi5_category() {
        let cat = json!({"context": {"contextActivities": {"category": [{"id": CMI5_CATEGORY}]}}});
        assert!(extract_json(&stmt("completed", cat), None)[0].cmi5_defined);
        assert!(!extract_json(&stmt("completed", json!({})), None)[0].cmi5_defined);
        // Facts stored before the field existed read as defined.
        let mut old = serde_json::to_value(&extract_json(&stmt("completed", json!({})), None)[0]).unwrap();
        old.as_object_mut().unwrap().remove("cmi5_defined");
        assert!(serde_json::from_value::<Fact>(old).unwrap().cmi5_defined);
    }

    #[test]
    fn a_launch_fact_counts_only_toward_its_course_and_tree() {
        let scope = LaunchScope::new("http://example.com/a", &["http://example.com/a/m1".to_string()]);
        let forged = json!({"object": {"id": "http://example.com/b/m1"},
            "context": {"contextActivities": {"parent": [{"id": "http://example.com/a/m1"}]}}});
        let f = extract_json(&stmt("passed", forged), Some(&scope)).remove(0);
        assert!(f.clone().for_course("http://example.com/b").is_none(), "never counts outside the launched course");
        let inside = f.for_course("http://example.com/a").expect("counts in its own course");
        assert_eq!(inside.activity_id, "", "an object outside the tree completes nothing");
        assert_eq!(inside.context_ids, vec!["http://example.com/a/m1".to_string()]);
        let own = extract_json(&stmt("passed", json!({"object": {"id": "http://example.com/a/m1/q1"}})), Some(&scope));
        let own = own[0].clone().for_course("http://example.com/a").expect("own tree");
        assert_eq!(own.activity_id, "http://example.com/a/m1/q1");
        let trusted = extract_json(&stmt("passed", json!({})), None).remove(0);
        assert!(trusted.for_course("http://example.com/anything").is_some(), "trusted clients are not scoped");
    }
}
