//! One source of truth: what the player's rollup says about the course and what the derivation
//! rules say from the same SCOs' statements agree (see docs/player.md, "Rollup and derived results").

use serde_json::json;

use super::*;
use crate::package::{scorm, Limits};
use crate::results::derive::{derive, Status};
use crate::results::{course::from_package, facts, ids::module_activity_id};
use crate::xapi::view::View;

const COURSE: &str = "https://example.com/courses/agree";

/// Three SCOs under the default sequencing of SCORM 2004 (flow on; default rollup rules).
fn course() -> Course {
    let items: String = ["a", "b", "c"]
        .iter()
        .map(|id| format!(r#"<item identifier="{id}" identifierref="r"><title>{id}</title></item>"#))
        .collect();
    let xml = format!(
        r#"<?xml version="1.0"?>
<manifest identifier="agree" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss">
 <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
 <organizations default="org"><organization identifier="org"><title>Course</title>{items}
  <imsss:sequencing><imsss:controlMode flow="true"/></imsss:sequencing>
 </organization></organizations>
 <resources><resource identifier="r" adlcp:scormType="sco" href="sco.html"/></resources>
</manifest>"#
    );
    scorm::parse("imsmanifest.xml", &xml, &Limits::default()).expect("manifest").course
}

/// The statements Cairn's run-time sends for a SCO that set these (ADL's xAPI SCORM profile), as
/// facts.
fn facts_of(sco: &str, completed: bool, passed: bool, score: f64, at: i64) -> Vec<facts::Fact> {
    let object = module_activity_id(COURSE, sco);
    let statement = |n: i64, verb: &str, result: Value| {
        json!({"id": uuid::Uuid::from_u128((at * 10 + n) as u128).to_string(),
               "actor": {"mbox": "mailto:ann@example.com"},
               "verb": {"id": format!("http://adlnet.gov/expapi/verbs/{verb}")},
               "object": {"id": object}, "result": result,
               "timestamp": crate::xapi::timestamp::format_us(at * 1_000_000 + n),
               "stored": crate::xapi::timestamp::format_us(at * 1_000_000 + n)})
    };
    let mut out = vec![statement(0, "initialized", json!({}))];
    if completed {
        out.push(statement(1, "completed", json!({"completion": true})));
    }
    out.push(statement(
        2,
        if passed { "passed" } else { "failed" },
        json!({"success": passed, "score": {"scaled": score}}),
    ));
    out.push(statement(3, "scored", json!({"score": {"scaled": score}})));
    out.push(statement(
        4,
        "terminated",
        json!({"completion": completed, "success": passed, "score": {"scaled": score}}),
    ));
    out.iter().flat_map(|s| facts::extract(&View::of(s), None)).collect()
}

/// Every combination of completion and success over three SCOs that report both (64 courses):
/// the course is completed by rollup exactly when the derivation satisfies it; once complete it is
/// passed by rollup (every SCO satisfied) exactly when it derives `passed`, else `completed`;
/// before that, a rollup of "not satisfied" derives `failed` when a failed SCO is incomplete and
/// `in_progress` otherwise; and the rolled-up measure is the derived score.
#[test]
fn rollup_and_derived_results_agree_when_scos_report_their_outcomes() {
    let course = course();
    let def = Arc::new(TreeDef::from_course(&course).expect("tree"));
    let rules = from_package(COURSE, &course);
    let scos = ["a", "b", "c"];
    for mask in 0..64u32 {
        let outcome = |i: usize| (mask >> (2 * i) & 1 == 1, mask >> (2 * i + 1) & 1 == 1);
        let mut e = Engine::new(def.clone(), 1);
        let mut facts = Vec::new();
        let mut out = e.navigate(NavRequest::Start, 0).expect("start");
        for (i, sco) in scos.iter().enumerate() {
            assert_eq!(out.deliver.as_deref(), Some(*sco));
            let (completed, passed) = outcome(i);
            let score = 0.5 + 0.1 * i as f64;
            let report = RuntimeReport {
                completion_status: Some(if completed { "completed" } else { "incomplete" }.into()),
                success_status: Some(if passed { "passed" } else { "failed" }.into()),
                score_scaled: Some(score),
                ..Default::default()
            };
            e.report_runtime(sco, &report).expect("report");
            facts.extend(facts_of(sco, completed, passed, score, 1_000 + i as i64));
            out = e.navigate(NavRequest::Continue, 0).expect("continue");
        }
        assert!(out.end_session, "continue past the last SCO ends the course");
        let rollup = e.course_status();
        let derived = derive(&rules, &facts);
        let all_completed = (0..3).all(|i| outcome(i).0);
        let all_passed = (0..3).all(|i| outcome(i).1);
        let case = format!("mask {mask:06b}: rollup {rollup:?}, derived {:?}", derived.status);
        assert_eq!(rollup.completed, Some(all_completed), "{case}");
        assert_eq!(rollup.satisfied, Some(all_passed), "{case}");
        // Complete: passed exactly when the rollup satisfied the course. Not yet complete: the
        // rollup already says "not satisfied" when any SCO failed, while the derivation says
        // `failed` only when a failed SCO is also incomplete (a completed SCO counts as done even
        // when it failed), else `in_progress`: the one place they read differently.
        let incomplete_failure = (0..3).any(|i| !outcome(i).0 && !outcome(i).1);
        let expected = match (rollup.completed, rollup.satisfied) {
            (Some(true), Some(true)) => Status::Passed,
            (Some(true), _) => Status::Completed,
            (_, Some(false)) if incomplete_failure => Status::Failed,
            _ => Status::InProgress,
        };
        assert_eq!(derived.status, expected, "{case}");
        let measure = rollup.measure.expect("measure");
        let score = derived.score.and_then(|s| s.scaled).expect("score");
        assert!((measure - score).abs() < 1e-9, "{case}: measure {measure}, score {score}");
    }
}
