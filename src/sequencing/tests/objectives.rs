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

/// 4th edition `adlseq:mapInfo` raw, minimum and maximum scores (SN 4th ed. 3.10.2.1; what ADL's
/// SX-11 packages exercise): a SCO writes its objective's scores to a global, another SCO's objective
/// reads them into `cmi.objectives.n.score.*` at launch; a map that does not read them leaves the
/// reader's own; the state keeps them across a save and restore.
#[test]
fn raw_min_and_max_scores_are_shared_through_adlseq_maps() {
    let writer = r#"<imsss:objectives><imsss:primaryObjective objectiveID="w"/><imsss:objective objectiveID="o1"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="o1"><adlseq:mapInfo targetObjectiveID="g-score" writeRawScore="true" writeMinScore="true" writeMaxScore="true"/></adlseq:objective><adlseq:objective objectiveID="w"><adlseq:mapInfo targetObjectiveID="g-primary" writeRawScore="true"/></adlseq:objective></adlseq:objectives>"#;
    let reader = r#"<imsss:objectives><imsss:primaryObjective objectiveID="r"/><imsss:objective objectiveID="o1"/><imsss:objective objectiveID="own"/><imsss:objective objectiveID="prim"/></imsss:objectives><adlseq:objectives><adlseq:objective objectiveID="o1"><adlseq:mapInfo targetObjectiveID="g-score"/></adlseq:objective><adlseq:objective objectiveID="own"><adlseq:mapInfo targetObjectiveID="g-score" readRawScore="false" readMinScore="false" readMaxScore="false"/></adlseq:objective><adlseq:objective objectiveID="prim"><adlseq:mapInfo targetObjectiveID="g-primary"/></adlseq:objective></adlseq:objectives>"#;
    let mut e = engine(&format!("{}{}{}", leaf("writer", &seq(writer)), leaf("reader", &seq(reader)), seq(FLOW)));
    go(&mut e, NavRequest::Start);
    report_with(
        &mut e,
        "writer",
        RuntimeReport {
            score_raw: Some(42.0),
            objectives: vec![ObjectiveReport {
                id: "o1".into(),
                score_raw: Some(7.0),
                score_min: Some(0.0),
                score_max: Some(10.0),
                ..Default::default()
            }],
            ..Default::default()
        },
    );
    let g = e.state().globals.get("g-score").cloned().expect("written");
    assert_eq!((g.raw_score, g.min_score, g.max_score), (Some(7.0), Some(0.0), Some(10.0)));
    assert_eq!(e.state().globals.get("g-primary").and_then(|g| g.raw_score), Some(42.0));
    // Saved and restored (another node): the scores are part of the state.
    let json = serde_json::to_string(&e.state()).expect("save");
    let mut e = Engine::restore(e.def().clone(), serde_json::from_str(&json).expect("restore"));
    assert_eq!(go(&mut e, NavRequest::Continue).as_deref(), Some("reader"));
    let init = e.runtime_init("reader").expect("init");
    let of = |id: &str| init.objectives.iter().find(|o| o.id == id).cloned().expect("objective");
    assert_eq!((of("o1").score_raw, of("o1").score_min, of("o1").score_max), (Some(7.0), Some(0.0), Some(10.0)));
    assert_eq!((of("own").score_raw, of("own").score_min, of("own").score_max), (None, None, None));
    assert_eq!(of("prim").score_raw, Some(42.0));
    // The reader's own report does not write back (no write maps), and a new value stays local.
    report_with(
        &mut e,
        "reader",
        RuntimeReport {
            objectives: vec![ObjectiveReport { id: "own".into(), score_raw: Some(3.0), ..Default::default() }],
            ..Default::default()
        },
    );
    assert_eq!(e.state().globals.get("g-score").and_then(|g| g.raw_score), Some(7.0));
    let init = e.runtime_init("reader").expect("init");
    assert_eq!(init.objectives.iter().find(|o| o.id == "own").and_then(|o| o.score_raw), Some(3.0));
}

/// The primary objective is reported twice when it has an identifier: as `cmi.score.*` /
/// `cmi.success_status` and as its `cmi.objectives.n` entry, which the run-time initialised from the
/// state (a resumed attempt's earlier score). What the SCO set on `cmi.score` wins; the entry counts
/// only for what `cmi.score` left unset.
#[test]
fn the_primary_objectives_cmi_score_wins_over_its_objectives_entry() {
    let mut e = engine(&format!(
        "{}{}{}",
        leaf("quiz", &seq(r#"<imsss:objectives><imsss:primaryObjective objectiveID="quiz-obj"/></imsss:objectives>"#)),
        leaf("end", ""),
        seq(FLOW)
    ));
    go(&mut e, NavRequest::Start);
    let echo = ObjectiveReport {
        id: "quiz-obj".into(),
        score_scaled: Some(0.5),
        success_status: Some("failed".into()),
        ..Default::default()
    };
    report_with(
        &mut e,
        "quiz",
        RuntimeReport {
            score_scaled: Some(0.8),
            success_status: Some("passed".into()),
            objectives: vec![echo.clone()],
            ..Default::default()
        },
    );
    assert_eq!(st(&e, "quiz").measure, Some(0.8));
    assert_eq!(st(&e, "quiz").satisfied, Some(true));
    // Set only through the entry, it counts.
    let mut e2 = engine(&format!(
        "{}{}{}",
        leaf("quiz", &seq(r#"<imsss:objectives><imsss:primaryObjective objectiveID="quiz-obj"/></imsss:objectives>"#)),
        leaf("end", ""),
        seq(FLOW)
    ));
    go(&mut e2, NavRequest::Start);
    report_with(&mut e2, "quiz", RuntimeReport { objectives: vec![echo], ..Default::default() });
    assert_eq!(st(&e2, "quiz").measure, Some(0.5));
    assert_eq!(st(&e2, "quiz").satisfied, Some(false));
}
