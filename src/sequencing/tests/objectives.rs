//! Local and global objectives: read/write maps for satisfied status and measure, 4th edition
//! completion/progress maps, and their storage with the state.

use super::*;

const WRITE_G: &str = r#"<imsss:objectives><imsss:primaryObjective objectiveID="p"><imsss:mapInfo targetObjectiveID="g" readSatisfiedStatus="false" readNormalizedMeasure="false" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/></imsss:primaryObjective></imsss:objectives>"#;
const READ_G: &str = r#"<imsss:objectives><imsss:primaryObjective objectiveID="q"><imsss:mapInfo targetObjectiveID="g"/></imsss:primaryObjective></imsss:objectives>"#;
const SKIP_IF_SATISFIED: &str = r#"<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions><imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>"#;

/// A pretest writes a shared objective; the lesson it covers reads it and is skipped when
/// the pretest was passed.
fn pretest() -> Engine {
    engine(&format!(
        "{}{}{}{}",
        leaf("pretest", &seq(WRITE_G)),
        leaf("lesson", &seq(&format!("{SKIP_IF_SATISFIED}{READ_G}"))),
        leaf("end", ""),
        seq(FLOW)
    ))
}

#[test]
fn a_passed_pretest_skips_the_lesson_through_a_global_objective() {
    let mut e = pretest();
    go(&mut e, NavRequest::Start);
    report_with(
        &mut e,
        "pretest",
        RuntimeReport { success_status: Some("passed".into()), score_scaled: Some(0.9), ..Default::default() },
    );
    assert_eq!(e.state().globals.get("g").and_then(|g| g.satisfied), Some(true));
    // The lesson reads the global: satisfied before it was ever attempted.
    assert_eq!(st(&e, "lesson").satisfied, Some(true));
    assert_eq!(st(&e, "lesson").measure, Some(0.9));
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("end"));
}

#[test]
fn a_failed_pretest_delivers_the_lesson() {
    let mut e = pretest();
    go(&mut e, NavRequest::Start);
    report(&mut e, "pretest", "completed", "failed");
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("lesson"));
}

#[test]
fn read_only_maps_do_not_write() {
    let mut e = pretest();
    go(&mut e, NavRequest::Start);
    report(&mut e, "pretest", "completed", "failed");
    go(&mut e, NavRequest::Continue);
    report(&mut e, "lesson", "completed", "passed");
    // The lesson's map reads only: the global keeps the pretest's result, and it wins on read.
    assert_eq!(e.state().globals.get("g").and_then(|g| g.satisfied), Some(false));
    assert_eq!(st(&e, "lesson").satisfied, Some(false));
}

#[test]
fn globals_survive_a_new_attempt_and_the_json_state() {
    let mut e = pretest();
    go(&mut e, NavRequest::Start);
    report(&mut e, "pretest", "completed", "passed");
    outcome(&mut e, NavRequest::ExitAll).expect("accepted");
    let mut e = roundtrip(&e);
    assert_eq!(go(&mut e, NavRequest::Start).as_deref(), Some("pretest"));
    // The pretest's own status was reset for the new attempt; the global was not.
    assert_eq!(st(&e, "pretest").satisfied, None);
    assert_eq!(st(&e, "lesson").satisfied, Some(true));
}

#[test]
fn completion_and_progress_maps_of_the_4th_edition() {
    let writer = r#"<imsss:objectives><imsss:primaryObjective objectiveID="p"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="p"><adlseq:mapInfo targetObjectiveID="shared" writeCompletionStatus="true" writeProgressMeasure="true"/></adlseq:objective></adlseq:objectives>"#;
    let reader = r#"<imsss:objectives><imsss:primaryObjective objectiveID="q"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="q"><adlseq:mapInfo targetObjectiveID="shared"/></adlseq:objective></adlseq:objectives>"#;
    let mut e = engine(&format!("{}{}", leaf("a", &seq(writer)), leaf("b", &seq(reader))));
    go(&mut e, choice("a"));
    report_with(
        &mut e,
        "a",
        RuntimeReport {
            completion_status: Some("completed".into()),
            progress_measure: Some(1.0),
            ..Default::default()
        },
    );
    assert_eq!(st(&e, "b").completed, Some(true));
    assert_eq!(st(&e, "b").progress_measure, Some(1.0));
    // Satisfied status is not shared by these maps.
    report(&mut e, "a", "completed", "passed");
    assert_eq!(st(&e, "b").satisfied, None);
}

#[test]
fn non_primary_objectives_are_written_from_cmi_objectives() {
    let obj = r#"<imsss:objectives><imsss:primaryObjective/><imsss:objective objectiveID="o1"><imsss:mapInfo targetObjectiveID="g1" writeSatisfiedStatus="true"/></imsss:objective></imsss:objectives>"#;
    let mut e = engine(&leaf("a", &seq(obj)));
    go(&mut e, choice("a"));
    let mut r = RuntimeReport::default();
    r.objectives.push(ObjectiveReport { id: "o1".into(), success_status: Some("passed".into()), ..Default::default() });
    r.objectives.push(ObjectiveReport {
        id: "unknown".into(),
        success_status: Some("failed".into()),
        ..Default::default()
    });
    report_with(&mut e, "a", r);
    assert_eq!(e.state().globals.get("g1").and_then(|g| g.satisfied), Some(true));
    assert_eq!(st(&e, "a").satisfied, None);
}

#[test]
fn objectives_global_to_system_is_exposed() {
    let e = engine(&leaf("a", ""));
    assert!(e.def().objectives_global_to_system);
}

#[test]
fn reports_for_other_activities_are_refused() {
    let mut e = pretest();
    go(&mut e, NavRequest::Start);
    assert_eq!(e.report_runtime("lesson", &RuntimeReport::default()), Err(Exception("RT-2")));
    assert_eq!(e.report_runtime("nope", &RuntimeReport::default()), Err(Exception("RT-1")));
    // Out-of-range values are ignored.
    report_with(&mut e, "pretest", RuntimeReport { score_scaled: Some(7.0), ..Default::default() });
    assert_eq!(st(&e, "pretest").measure, None);
}

#[test]
fn runtime_init_reads_shared_objectives_and_entry() {
    let obj = r#"<imsss:objectives><imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.7</imsss:minNormalizedMeasure><imsss:mapInfo targetObjectiveID="g"/></imsss:primaryObjective><imsss:objective objectiveID="o1"/></imsss:objectives>"#;
    let mut e = engine(&format!(
        "{}{}{}",
        leaf("w", &seq(WRITE_G)),
        leaf(
            "a",
            &format!(r#"{}<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.5"/>"#, seq(obj))
        ),
        seq(FLOW)
    ));
    go(&mut e, NavRequest::Start);
    report_with(&mut e, "w", RuntimeReport { score_scaled: Some(0.8), ..Default::default() });
    go(&mut e, NavRequest::Continue);
    let init = e.runtime_init("a").expect("init");
    assert_eq!(init.entry, "ab-initio");
    assert_eq!(init.scaled_passing_score, Some(0.7));
    assert_eq!(init.completion_threshold, Some(0.5));
    assert_eq!(init.objectives.len(), 2);
    assert_eq!((init.objectives[0].id.as_str(), init.objectives[0].score_scaled), ("p", Some(0.8)));
    assert_eq!(init.objectives[0].satisfied, Some(true));
    assert_eq!(init.objectives[1].satisfied, None);
    report_with(&mut e, "a", RuntimeReport { exit: Some("suspend".into()), ..Default::default() });
    outcome(&mut e, NavRequest::SuspendAll).expect("accepted");
    go(&mut e, NavRequest::ResumeAll);
    assert_eq!(e.runtime_init("a").expect("init").entry, "resume");
}
