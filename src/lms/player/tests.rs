//! One source of truth: what the player's rollup says about a SCORM 2004 course and what the results
//! derive from the statements of the same sessions agree, step by step, whatever the course's
//! sequencing definition says (see docs/player.md, "Rollup and derived results").

use serde_json::json;

use super::*;
use crate::package::{scorm, Limits};
use crate::results::derive::{derive, CourseDef, Status};
use crate::results::{course::from_package, facts, ids::module_activity_id};
use crate::sequencing::Outcome;
use crate::xapi::view::View;

const COURSE: &str = "https://example.com/courses/agree";

/// A SCORM 2004 course around an organization's content (items, then the root's sequencing).
fn course_of(org: &str) -> Course {
    let xml = format!(
        r#"<?xml version="1.0"?>
<manifest identifier="agree" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
 <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
 <organizations default="org"><organization identifier="org"><title>Course</title>{org}
 </organization></organizations>
 <resources><resource identifier="r" adlcp:scormType="sco" href="sco.html"/></resources>
</manifest>"#
    );
    scorm::parse("imsmanifest.xml", &xml, &Limits::default()).expect("manifest").course
}

fn item(id: &str, sequencing: &str) -> String {
    let seq = if sequencing.is_empty() {
        String::new()
    } else {
        format!("<imsss:sequencing>{sequencing}</imsss:sequencing>")
    };
    format!(r#"<item identifier="{id}" identifierref="r"><title>{id}</title>{seq}</item>"#)
}

fn root_seq(inner: &str) -> String {
    format!(r#"<imsss:sequencing><imsss:controlMode choice="true" flow="true"/>{inner}</imsss:sequencing>"#)
}

/// Three SCOs under the default sequencing of SCORM 2004 (flow on; default rollup rules).
fn default_course() -> String {
    format!("{}{}{}{}", item("a", ""), item("b", ""), item("c", ""), root_seq(""))
}

/// What a SCO sets in one session (`cmi.completion_status`, `cmi.success_status`, `cmi.score.scaled`).
#[derive(Debug, Clone, Copy, Default)]
struct Set {
    completion: Option<&'static str>,
    success: Option<&'static str>,
    score: Option<f64>,
    /// `cmi.progress_measure`.
    progress: Option<f64>,
}

fn set(completed: bool, passed: bool, score: f64) -> Set {
    Set {
        completion: Some(if completed { "completed" } else { "incomplete" }),
        success: Some(if passed { "passed" } else { "failed" }),
        score: Some(score),
        progress: None,
    }
}

const PROGRESS: &str = crate::xapi::vocab::scorm::EXT_PROGRESS_MEASURE;

/// One learner in the player, seen twice: by the sequencer (navigation requests and the SCOs'
/// reports, as the player feeds it) and by the derivation (the statements Cairn's run-time sends
/// for the same sessions, as facts).
struct Learner {
    engine: Engine,
    rules: CourseDef,
    facts: Vec<facts::Fact>,
    clock: i64,
    ever_completed: bool,
    registration: String,
}

const REGISTRATION: &str = "5f0c4b0e-8d7a-4c2e-9a51-3b7d2e1f0a99";

impl Learner {
    fn new(org: &str) -> Learner {
        Learner::in_registration(org, REGISTRATION)
    }

    /// The player seeds a registration's selection and randomisation with its id.
    fn in_registration(org: &str, registration: &str) -> Learner {
        let course = course_of(org);
        let rules = from_package(COURSE, &course);
        assert!(rules.sequencing.is_some(), "a SCORM 2004 course derives through its rollup");
        let def = Arc::new(TreeDef::from_course(&course).expect("tree"));
        Learner {
            engine: Engine::new(def, crate::sequencing::registration_seed(registration)),
            rules,
            facts: Vec::new(),
            clock: 1_000_000,
            ever_completed: false,
            registration: registration.to_string(),
        }
    }

    fn nav(&mut self, req: NavRequest) -> Outcome {
        self.clock += 1_000;
        self.engine.navigate(req, self.clock).expect("navigation")
    }

    /// A statement of the ADL xAPI SCORM profile about `sco`, as the run-time sends it.
    fn statement(&mut self, sco: &str, verb: &str, result: Value) {
        self.clock += 1_000;
        let n = self.facts.len() as u128 + 1;
        let s = json!({"id": uuid::Uuid::from_u128(n).to_string(), "actor": {"mbox": "mailto:ann@example.com"},
            "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
            "object": {"id": module_activity_id(COURSE, sco)}, "result": result,
            "context": {"registration": self.registration},
            "timestamp": crate::xapi::timestamp::format_us(self.clock),
            "stored": crate::xapi::timestamp::format_us(self.clock)});
        self.facts.extend(facts::extract(&View::of(&s), None));
    }

    /// The delivered SCO runs one session: it initializes (or resumes, as `cmi.entry` says), sets
    /// `s`, and terminates with `exit`. The run-time sends the statements of what changed and of the
    /// end, and reports the same values to the sequencer at Terminate.
    fn session(&mut self, sco: &str, s: Set, exit: &str) {
        assert_eq!(self.engine.current(), Some(sco), "the player delivers {sco}");
        let entry = self.engine.runtime_init(sco).expect("init").entry;
        self.statement(sco, if entry == "resume" { "resumed" } else { "initialized" }, json!({}));
        let mut outcome = json!({});
        if let Some(c) = s.completion.filter(|c| *c == "completed" || *c == "incomplete") {
            outcome["completion"] = json!(c == "completed");
        }
        if let Some(x) = s.success.filter(|x| *x == "passed" || *x == "failed") {
            outcome["success"] = json!(x == "passed");
        }
        if let Some(score) = s.score {
            outcome["score"] = json!({"scaled": score});
        }
        if outcome["completion"] == true {
            self.statement(sco, "completed", json!({"completion": true}));
        }
        if let Some(ok) = outcome.get("success").and_then(Value::as_bool) {
            let mut r = json!({"success": ok});
            if let Some(sc) = outcome.get("score") {
                r["score"] = sc.clone();
            }
            self.statement(sco, if ok { "passed" } else { "failed" }, r);
        }
        if let Some(sc) = outcome.get("score").cloned() {
            self.statement(sco, "scored", json!({"score": sc}));
        }
        if let Some(p) = s.progress {
            outcome["extensions"] = json!({PROGRESS: p});
            self.statement(sco, "progressed", json!({"extensions": {PROGRESS: p}}));
        }
        let report = RuntimeReport {
            completion_status: s.completion.map(str::to_string),
            success_status: s.success.map(str::to_string),
            score_scaled: s.score,
            progress_measure: s.progress,
            exit: Some(exit.to_string()),
            session_time_us: Some(1_000_000),
            ..Default::default()
        };
        self.engine.report_runtime(sco, &report).expect("report");
        outcome["duration"] = json!("PT1S");
        self.statement(sco, if exit == "suspend" { "suspended" } else { "terminated" }, outcome);
    }

    /// The course's rollup and its derived result agree: completed (once, as results keep a
    /// completion) and satisfied give `passed`, completed otherwise `completed`; not completed and
    /// not satisfied give `failed`; else `in_progress`. The measure is the score.
    fn agree(&mut self, step: &str) -> Status {
        let rollup = self.engine.course_status();
        self.ever_completed |= rollup.completed == Some(true);
        let d = derive(&self.rules, &self.facts);
        let expected = match (self.ever_completed, rollup.satisfied) {
            (true, Some(true)) => Status::Passed,
            (true, _) => Status::Completed,
            (false, Some(false)) => Status::Failed,
            _ if self.facts.is_empty() => Status::NotStarted,
            _ => Status::InProgress,
        };
        let case = format!("{step}: rollup {rollup:?}, derived {:?} {:?}", d.status, d.score);
        assert_eq!(d.status, expected, "{case}");
        assert_eq!(!d.satisfied_at_us.is_empty(), self.ever_completed, "{case}");
        let score = d.score.and_then(|s| s.scaled);
        match (rollup.measure, score) {
            (Some(m), Some(s)) => assert!((m - s).abs() < 1e-9, "{case}"),
            (m, s) => assert_eq!(m, s, "{case}"),
        }
        d.status
    }
}

/// Every combination of completion and success over three SCOs that report both (64 courses),
/// checked after every step: a completed-but-failed SCO before the course completes, a failed and
/// incomplete one, and every SCO completed read the same by the rollup and the derivation.
fn every_outcome_agrees(org: &str, mut check: impl FnMut(u32, &Learner, Status)) {
    for mask in 0..64u32 {
        let outcome = |i: usize| (mask >> (2 * i) & 1 == 1, mask >> (2 * i + 1) & 1 == 1);
        let mut l = Learner::new(org);
        l.agree(&format!("mask {mask:06b} before start"));
        let mut out = l.nav(NavRequest::Start);
        for (i, sco) in ["a", "b", "c"].iter().enumerate() {
            assert_eq!(out.deliver.as_deref(), Some(*sco));
            let (completed, passed) = outcome(i);
            l.session(sco, set(completed, passed, 0.5 + 0.1 * i as f64), "");
            l.agree(&format!("mask {mask:06b} after {sco} terminated"));
            out = l.nav(NavRequest::Continue);
            l.agree(&format!("mask {mask:06b} after continue from {sco}"));
        }
        assert!(out.end_session, "continue past the last SCO ends the course");
        let status = l.agree(&format!("mask {mask:06b} at the end"));
        check(mask, &l, status);
    }
}

#[test]
fn rollup_and_derived_results_agree_when_scos_report_their_outcomes() {
    every_outcome_agrees(&default_course(), |mask, l, status| {
        let all = |bit: u32| (0..3).all(|i| mask >> (2 * i + bit) & 1 == 1);
        let rollup = l.engine.course_status();
        assert_eq!(rollup.completed, Some(all(0)), "mask {mask:06b}");
        assert_eq!(rollup.satisfied, Some(all(1)), "mask {mask:06b}");
        if all(0) {
            assert_eq!(status, if all(1) { Status::Passed } else { Status::Completed });
        } else if !all(1) {
            // Not complete and a SCO failed: both say failed, whether that SCO completed or not.
            assert_eq!(status, Status::Failed, "mask {mask:06b}");
        }
    });
}

/// Authored rollup rules replace the defaults: the course is satisfied when any SCO is, not
/// satisfied when none is, completed when at least two are, incomplete otherwise.
#[test]
fn rollup_and_derived_results_agree_under_authored_rollup_rules() {
    let rule = |set: &str, extra: &str, cond: &str, action: &str| {
        format!(
            r#"<imsss:rollupRule childActivitySet="{set}" {extra}><imsss:rollupConditions><imsss:rollupCondition condition="{cond}"/></imsss:rollupConditions><imsss:rollupAction action="{action}"/></imsss:rollupRule>"#
        )
    };
    let rules = format!(
        "<imsss:rollupRules>{}{}{}{}</imsss:rollupRules>",
        rule("any", "", "satisfied", "satisfied"),
        rule("none", "", "satisfied", "notSatisfied"),
        rule("atLeastCount", r#"minimumCount="2""#, "completed", "completed"),
        rule("all", "", "activityProgressKnown", "incomplete"),
    );
    let org = format!("{}{}{}{}", item("a", ""), item("b", ""), item("c", ""), root_seq(&rules));
    every_outcome_agrees(&org, |mask, l, status| {
        let count = |bit: u32| (0..3).filter(|i| mask >> (2 * i + bit) & 1 == 1).count();
        let rollup = l.engine.course_status();
        assert_eq!(rollup.satisfied, Some(count(1) > 0), "mask {mask:06b}");
        if count(0) >= 2 {
            let expected = if count(1) > 0 { Status::Passed } else { Status::Completed };
            assert_eq!(status, expected, "mask {mask:06b}: two of three complete the course");
        }
    });
}

/// Objective weights and `satisfiedByMeasure` on the course: its measure is the weighted mean of
/// the SCOs' scores (the weight-0 SCO counts for nothing) and it is satisfied from 0.6 on, whatever
/// the SCOs' own success.
#[test]
fn rollup_and_derived_results_agree_with_weights_and_satisfied_by_measure() {
    let weight = |w: &str| format!(r#"<imsss:rollupRules objectiveMeasureWeight="{w}"/>"#);
    let by_measure = r#"<imsss:objectives><imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure></imsss:primaryObjective></imsss:objectives>"#;
    let org = format!(
        "{}{}{}{}",
        item("a", &weight("1")),
        item("b", &weight("0.5")),
        item("c", &weight("0")),
        root_seq(by_measure)
    );
    for (sa, sb) in [(0.9, 0.1), (0.3, 0.9), (0.6, 0.6), (1.0, 0.0)] {
        let mut l = Learner::new(&org);
        l.nav(NavRequest::Start);
        l.session("a", set(true, false, sa), "");
        l.agree("after a");
        l.nav(NavRequest::Continue);
        l.agree("after continue from a");
        l.session("b", set(true, true, sb), "");
        l.nav(NavRequest::Continue);
        l.agree("after b");
        l.session("c", set(true, false, 0.0), "");
        l.nav(NavRequest::Continue);
        let status = l.agree("at the end");
        let measure = (sa + 0.5 * sb) / 1.5;
        let d = derive(&l.rules, &l.facts);
        let score = d.score.and_then(|s| s.scaled).expect("score");
        assert!((score - measure).abs() < 1e-9, "{sa} {sb}: {score} != {measure}");
        assert_eq!(status, if measure >= 0.6 { Status::Passed } else { Status::Completed }, "{sa} {sb}");
    }
}

/// A SCO that reports nothing is completed and satisfied when its attempt ends (SN End Attempt,
/// UP.4): its `terminated` statement ends the attempt for the derivation as the player's next
/// request does for the rollup. One that is suspended keeps its attempt open until resumed.
#[test]
fn a_sco_that_reports_nothing_is_completed_and_satisfied_when_its_attempt_ends() {
    let mut l = Learner::new(&default_course());
    l.nav(NavRequest::Start);
    l.session("a", Set::default(), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.agree("a said nothing"), Status::InProgress);
    let a = l.engine.status("a").expect("a");
    assert_eq!((a.completed, a.satisfied), (Some(true), Some(true)));
    let d = derive(&l.rules, &l.facts);
    assert_eq!(d.components[0].status, Status::Passed, "{:?}", d.components[0]);
    // b suspends silently: nothing is defaulted while its attempt is open.
    l.session("b", Set::default(), "suspend");
    l.nav(NavRequest::SuspendAll);
    l.agree("b suspended");
    assert_eq!(l.engine.status("b").expect("b").completed, None);
    assert_eq!(derive(&l.rules, &l.facts).components[1].status, Status::InProgress);
    let out = l.nav(NavRequest::ResumeAll);
    assert_eq!(out.deliver.as_deref(), Some("b"));
    l.session("b", Set { score: Some(0.7), ..Set::default() }, "");
    l.nav(NavRequest::Continue);
    l.agree("b resumed and ended");
    l.session("c", set(true, true, 0.8), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.agree("c passed"), Status::Passed);
}

/// A completed-but-failed SCO before the course completes: with the other SCOs unknown the course's
/// success is unknown (in progress); once every SCO's success is known, not satisfied (failed),
/// though the failed SCO completed; the course completing afterwards makes it `completed`.
#[test]
fn a_completed_but_failed_sco_reads_the_same_before_the_course_completes() {
    let mut l = Learner::new(&default_course());
    l.nav(NavRequest::Start);
    l.session("a", set(true, false, 0.4), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.agree("a completed, failed"), Status::InProgress);
    l.session("b", set(true, true, 0.9), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.agree("b passed"), Status::InProgress);
    l.session("c", set(false, true, 0.9), "suspend");
    l.nav(NavRequest::SuspendAll);
    assert_eq!(l.agree("c incomplete, passed: every success known"), Status::Failed);
    l.nav(NavRequest::ResumeAll);
    l.session("c", set(true, true, 0.9), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.agree("c completed"), Status::Completed);
}

/// Selection (`selectCount`) draws per registration: the derivation draws as the player did for the
/// registration its statements name, so the SCOs it rolls up are the ones the learner was given
/// (with another draw, a course of two selected SCOs out of four would never complete).
#[test]
fn selection_draws_as_the_players_registration() {
    let pick = r#"<imsss:randomizationControls selectCount="2" selectionTiming="once"/>"#;
    let org = format!("{}{}{}{}{}", item("a", ""), item("b", ""), item("c", ""), item("d", ""), root_seq(pick));
    let mut delivered = std::collections::BTreeSet::new();
    for n in 0..12u128 {
        let registration = uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1111_2222_3333_0000 + n * 7919).to_string();
        let mut l = Learner::in_registration(&org, &registration);
        let mut out = l.nav(NavRequest::Start);
        let mut given = Vec::new();
        while let Some(sco) = out.deliver.clone() {
            given.push(sco.clone());
            l.session(&sco, set(true, true, 0.8), "");
            l.agree(&format!("{registration}: after {sco}"));
            out = l.nav(NavRequest::Continue);
        }
        assert_eq!(given.len(), 2, "{registration}: two of four are selected");
        assert_eq!(l.agree(&format!("{registration}: at the end")), Status::Passed, "{registration}");
        delivered.insert(given);
    }
    assert!(delivered.len() > 1, "different registrations draw differently: {delivered:?}");
}

/// Progress rolls up too: a module (cluster) completed by measure when its SCOs' progress, weighted
/// (`progressWeight`), reaches 0.45, the course completing with it; the run-time reports
/// `cmi.progress_measure` in its statements (`progressed`, and the result of `terminated`).
#[test]
fn rollup_and_derived_results_agree_on_completion_by_progress() {
    let leaf = |id: &str, extra: &str| {
        format!(r#"<item identifier="{id}" identifierref="r"><title>{id}</title>{extra}</item>"#)
    };
    let module = format!(
        r#"<item identifier="m"><title>m</title>{}{}{}<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.45"/><imsss:sequencing><imsss:controlMode flow="true"/></imsss:sequencing></item>"#,
        leaf("a", ""),
        leaf("b", r#"<adlcp:completionThreshold progressWeight="0.5"/>"#),
        leaf("c", "")
    );
    let org = format!("{module}{}", root_seq(""));
    let mut l = Learner::new(&org);
    assert_eq!(l.nav(NavRequest::Start).deliver.as_deref(), Some("a"));
    let progress = |p: f64| Set { progress: Some(p), success: Some("passed"), ..Set::default() };
    l.session("a", progress(0.5), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.agree("a half done: 0.2"), Status::InProgress);
    assert_eq!(l.engine.status("m").and_then(|s| s.completed), Some(false));
    l.session("b", progress(1.0), "");
    l.nav(NavRequest::Continue);
    l.agree("b done: 0.4");
    l.session("c", progress(0.5), "");
    l.nav(NavRequest::Continue);
    assert_eq!(l.engine.status("m").and_then(|s| s.completed), Some(true), "0.6 of the module");
    assert_eq!(l.agree("c half done: 0.6"), Status::Passed);
}
