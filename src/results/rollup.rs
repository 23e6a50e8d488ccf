//! SCORM 2004: a course's completion, success and measure come from the sequencer's rollup, the
//! same code the course player runs ([`crate::sequencing`]), so the player and the results never
//! read a course two ways. The learner's facts about the course's SCOs are replayed in time order
//! into an engine ([`Engine::observe`]): `initialized` and `resumed` begin or resume a SCO's
//! attempt, what a statement reports (completion, success, scaled score, progress) is the SCO's
//! run-time report, and `terminated` / `suspended` end its session as the player's next request
//! would (End Attempt's defaults for what the SCO left unreported, exit and post-condition rules).
//! The course activity's rolled-up status after each fact says when the course completed.
//!
//! A pure function of the facts (their order is fixed by time, then verb, then statement id), so
//! incremental derivation equals a rebuild. What statements do not carry, the replay cannot know:
//! see docs/player.md ("Rollup and derived results").

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::facts::{Fact, Verb};
use super::ids::module_activity_id;
use crate::sequencing::{registration_seed, Engine, Observed, RuntimeReport, Status, TreeDef};

/// What the rollup says of a learner's course after replaying their facts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Replay {
    /// When the course activity first rolled up completed.
    pub completed_at: Option<i64>,
    /// The course activity's status after the last fact.
    pub course: Status,
    /// The course's measure when it first completed, and the highest it reached.
    pub measure_at_completion: Option<f64>,
    pub best_measure: Option<f64>,
    /// Per SCO (by its activity IRI): when it first completed, and its status after the last fact.
    pub leaves: BTreeMap<String, (Option<i64>, Status)>,
}

/// Where a fact's events fall among those of the same instant: a session begins before what it
/// reports, which comes before its end (the run-time sends them in that order, often within one
/// millisecond).
fn rank(v: Verb) -> u8 {
    match v {
        Verb::Initialized | Verb::Resumed => 0,
        Verb::Terminated | Verb::Suspended => 2,
        _ => 1,
    }
}

/// What one fact says happened to its SCO, as the run-time's reports and session events.
fn events(f: &Fact) -> Vec<Observed> {
    let mut out = Vec::new();
    match f.verb {
        Verb::Initialized => out.push(Observed::Began),
        Verb::Resumed => out.push(Observed::Resumed),
        _ => {}
    }
    let report = RuntimeReport {
        completion_status: f.completion.map(|c| if c { "completed" } else { "incomplete" }.to_string()),
        success_status: f.success.map(|s| if s { "passed" } else { "failed" }.to_string()),
        score_scaled: f.score.scaled,
        score_raw: f.score.raw,
        score_min: f.score.min,
        score_max: f.score.max,
        progress_measure: f.progress,
        ..RuntimeReport::default()
    };
    if report != RuntimeReport::default() {
        out.push(Observed::Set(report));
    }
    let session_time_us = f.duration_s.filter(|d| d.is_finite() && *d >= 0.0).map(|d| (d * 1e6) as i64);
    match f.verb {
        Verb::Terminated => out.push(Observed::Ended { suspended: false, session_time_us }),
        Verb::Suspended => out.push(Observed::Ended { suspended: true, session_time_us }),
        _ => {}
    }
    out
}

/// Replays `facts` (a learner's, about `course_id`'s activities; any order) through the course's
/// activity tree. Facts about anything but a SCO of the tree change nothing here.
pub fn replay(tree: &Arc<TreeDef>, course_id: &str, facts: &[&Fact]) -> Replay {
    let leaf_of: HashMap<String, &str> = tree
        .activities
        .iter()
        .filter(|a| a.is_leaf())
        .map(|a| (module_activity_id(course_id, &a.id), a.id.as_str()))
        .collect();
    let mut ordered: Vec<(&Fact, &str)> =
        facts.iter().filter_map(|f| leaf_of.get(&f.activity_id).map(|id| (*f, *id))).collect();
    ordered.sort_by(|(a, _), (b, _)| {
        (a.at_us, rank(a.verb), &a.statement_id).cmp(&(b.at_us, rank(b.verb), &b.statement_id))
    });
    // Selection and randomization draw as the player did for the registration the learner's first
    // statement names (the player's registration, when they used it; SCOs launched alone have no
    // draw to match).
    let seed = ordered.iter().find_map(|(f, _)| f.registration.as_deref()).map_or(0, registration_seed);
    let mut engine = Engine::new(tree.clone(), seed);
    let mut out = Replay::default();
    let mut first_done: BTreeMap<&str, i64> = BTreeMap::new();
    for (f, leaf) in ordered {
        for e in events(f) {
            engine.observe(leaf, &e, f.at_us);
        }
        if !first_done.contains_key(leaf) && engine.status(leaf).is_some_and(|s| s.completed == Some(true)) {
            first_done.insert(leaf, f.at_us);
        }
        let course = engine.course_status();
        if let Some(m) = course.measure {
            out.best_measure = Some(out.best_measure.map_or(m, |b: f64| b.max(m)));
        }
        if out.completed_at.is_none() && course.completed == Some(true) {
            out.completed_at = Some(f.at_us);
            out.measure_at_completion = course.measure;
        }
    }
    out.course = engine.course_status();
    for (iri, leaf) in leaf_of {
        if let Some(status) = engine.status(leaf) {
            out.leaves.insert(iri, (first_done.get(leaf).copied(), status));
        }
    }
    out
}
