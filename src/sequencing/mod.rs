//! SCORM 2004 4th Edition sequencing and navigation, and SCORM 1.2 multi-SCO navigation.
//!
//! A pure engine: no I/O, no clock (the caller passes `now`, microseconds since the epoch), no
//! async. It follows the pseudo-code of ADL's *SCORM 2004 4th Edition Sequencing and Navigation*
//! book process by process; each function names its process and id (OP.1, NB.2.1, TB.2.3,
//! SB.2.x, RB.1.x, UP.x, DB.x, SR.x) in its doc comment.
//!
//! # Using it
//! ```ignore
//! let def = Arc::new(TreeDef::from_course(&course)?); // once per course version, shared
//! let mut engine = Engine::new(def.clone(), seed);     // a new registration (seed: any u64)
//! let out = engine.navigate(NavRequest::Start, now)?;  // Ok(Outcome { deliver: Some("sco1"), .. })
//! // … the SCO runs; on Terminate (or on each commit) the player reports what it set:
//! engine.report_runtime("sco1", &RuntimeReport { completion_status: Some("completed".into()), .. })?;
//! let out = engine.navigate(NavRequest::Continue, now)?;  // adl.nav.request or the player's button
//! let json = serde_json::to_string(&engine.state())?;   // store per registration
//! let engine = Engine::restore(def, serde_json::from_str(&json)?); // on any node, later
//! engine.valid_requests();  // adl.nav.request_valid.* and the player's buttons
//! engine.toc();             // the table of contents: visible, enabled, status per activity
//! engine.course_status();   // the rolled-up completion/success/measure of the course
//! ```
//! A new session on a registration whose [`Engine::suspended_activity`] is set must begin with
//! `ResumeAll` (a `Start` would begin elsewhere and forget the suspension, as the SN book says).
//! `report_runtime` takes what the SCO set (at Terminate, or at each Commit); its `cmi.exit`
//! may imply a request ([`RuntimeReport::implied_request`]). [`Engine::hidden_controls`] lists
//! the player controls the current SCO hides (`adlnav:hideLMSUI`), and
//! [`Engine::runtime_init`] what to initialise the SCO's data model with (`cmi.entry`,
//! `cmi.scaled_passing_score`, `cmi.completion_threshold`, `cmi.objectives.n` from shared
//! objectives). After an `Abandon`/`AbandonAll` the player does not report what the SCO set: the
//! attempt is discarded. Report errors: `RT-1` unknown activity, `RT-2` not the current one.
//! `navigate` answers `Err(exception)` when the request is refused before anything changed
//! (NB.2.1 and TB.2.3 exceptions: the player just keeps the current SCO), and `Ok(outcome)`
//! otherwise; `outcome.exception` then tells why nothing was delivered after the current
//! attempt ended (e.g. `SB.2.1-1`, continue past the last activity, with `end_session`).
//!
//! Derived results replay a learner's statements through the same engine with
//! [`Engine::observe`] (a SCO's session began, resumed, reported, ended), so a course's result is
//! this rollup (`results::rollup`).
//!
//! The tree's state ([`SavedState`]) includes the global objectives. When
//! [`TreeDef::objectives_global_to_system`] is true they are meant to be shared by the learner's
//! other courses: the integrator may load them into / save them from `SavedState::globals`.
//!
//! # Limits and choices
//! - Trees are capped at [`tree::MAX_ACTIVITIES`] activities and [`tree::MAX_DEPTH`] levels.
//! - 4th edition `adlseq:mapInfo` maps share completion, progress measure and raw, minimum and
//!   maximum scores; [`Engine::runtime_init`] reads them into `cmi.objectives.n`.
//! - `attemptAbsoluteDurationLimit` (the only duration limit 4th edition's manifest carries) is
//!   enforced by the Limit Conditions Check and the `timeLimitExceeded` condition against the
//!   attempt's experienced duration: the session times the SCOs reported, summed per attempt (a
//!   suspended attempt's wall-clock time is never known). Available time ranges are optional in
//!   4th edition and not enforced; `outsideAvailableTimeRange` evaluates to false.
//! - Selection (`selectCount`) and randomization happen when the tree is created (timing `once`
//!   and `onEachNewAttempt`) and again at the end of each attempt of a cluster for
//!   `onEachNewAttempt`, never in the middle of a traversal. The random source is a seeded
//!   SplitMix64 kept in the state, so tests and resumed sessions are deterministic.
//! - A rollup rule whose contributing children bag is empty changes nothing.
//!
//! Where the SN book leaves room, the engine follows what ADL's conformance test suite expects
//! (each case is replayed in `tests/scenarios*.rs`):
//! - `useCurrentAttemptObjectiveInfo` / `useCurrentAttemptProgressInfo` (default true): when a
//!   cluster begins a new attempt, its descendants' local status from earlier attempts is
//!   forgotten (global objectives keep theirs) — CO-07a, RU-09, OB-09b; false keeps it — RU-06a.
//! - A choice may not leave an active activity whose `choiceExit` is false, the current leaf
//!   included, siblings too — CM-07a.
//! - `continue` from the last activity is a valid request: it ends the course — CM-04b.
//! - Statuses written through objective maps include unknown ones set by rollup or content
//!   (not the reset of a new attempt) — OB-03b.
//! - A status the content reported, even `unknown`, is not replaced by End Attempt's default —
//!   RU-19a. An objective satisfied by measure takes its status from its (possibly shared)
//!   measure — SX-03.
//!
//! SCORM 1.2 courses have no sequencing: [`scorm12`] offers flow and choice in manifest order with
//! `adlcp:prerequisites`.

mod choice;
mod delivery;
mod nav;
mod nav_valid;
mod objectives;
mod observe;
mod rollup;
mod rules;
pub mod scorm12;
mod selection;
#[allow(clippy::module_inception)]
mod sequencing;
pub mod state;
mod termination;
pub mod tree;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use delivery::{ObjectiveInit, RuntimeInit};
pub use nav_valid::{TocEntry, ValidRequests};
pub use observe::Observed;
pub use state::{SavedState, TreeState};
pub use tree::{TreeDef, TreeError};

use tree::Ix;

/// The seed of a registration's selection and randomisation: fixed per registration, so every node
/// draws the same, and a replay of the registration's statements draws what the learner saw.
pub fn registration_seed(registration: &str) -> u64 {
    uuid::Uuid::parse_str(registration).map(|u| u.as_u128() as u64).unwrap_or(0)
}

/// A navigation request (SN 4.4.2): from the player's controls or the SCO's `adl.nav.request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "request", content = "target")]
pub enum NavRequest {
    Start,
    ResumeAll,
    Continue,
    Previous,
    Forward,
    Backward,
    /// Target activity identifier.
    Choice(String),
    /// Target activity identifier (only from content).
    Jump(String),
    Exit,
    ExitAll,
    SuspendAll,
    Abandon,
    AbandonAll,
}

impl NavRequest {
    /// Parses an `adl.nav.request` value: `continue`, `{target=ID}choice`, `_none_`, …
    /// `Ok(None)` for `_none_`.
    pub fn parse_adl(value: &str) -> Result<Option<NavRequest>, Exception> {
        let v = value.trim();
        if let Some(rest) = v.strip_prefix("{target=") {
            let Some((target, verb)) = rest.split_once('}') else {
                return Err(Exception("NB.2.1-11"));
            };
            return match verb {
                "choice" => Ok(Some(NavRequest::Choice(target.to_owned()))),
                "jump" => Ok(Some(NavRequest::Jump(target.to_owned()))),
                _ => Err(Exception("NB.2.1-11")),
            };
        }
        Ok(Some(match v {
            "_none_" => return Ok(None),
            "start" => NavRequest::Start,
            "resumeAll" => NavRequest::ResumeAll,
            "continue" => NavRequest::Continue,
            "previous" => NavRequest::Previous,
            "exit" => NavRequest::Exit,
            "exitAll" => NavRequest::ExitAll,
            "suspendAll" => NavRequest::SuspendAll,
            "abandon" => NavRequest::Abandon,
            "abandonAll" => NavRequest::AbandonAll,
            _ => return Err(Exception("NB.2.1-13")),
        }))
    }
}

/// An SN exception code, e.g. `NB.2.1-2` or `SB.2.1-1` (the SN book's tables say what each means).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("sequencing exception {0}")]
pub struct Exception(pub &'static str);

/// What the player should do after a navigation request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// The activity (item identifier) to launch now.
    pub deliver: Option<String>,
    /// The sequencing session ended: close the player (the course's state is final or suspended).
    pub end_session: bool,
    /// Why nothing was delivered, when something went wrong after the current attempt ended.
    pub exception: Option<Exception>,
}

/// What a SCO reported through the run-time, in the data model's own terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeReport {
    /// `cmi.completion_status`: `completed`, `incomplete`, `not attempted`, `unknown`.
    pub completion_status: Option<String>,
    /// `cmi.success_status`: `passed`, `failed`, `unknown`.
    pub success_status: Option<String>,
    /// `cmi.score.scaled`, -1 to 1.
    pub score_scaled: Option<f64>,
    /// `cmi.score.raw`, `.min`, `.max`: shared through 4th edition `adlseq:mapInfo` maps.
    #[serde(default)]
    pub score_raw: Option<f64>,
    #[serde(default)]
    pub score_min: Option<f64>,
    #[serde(default)]
    pub score_max: Option<f64>,
    /// `cmi.progress_measure`, 0 to 1.
    pub progress_measure: Option<f64>,
    /// `cmi.exit`: `suspend` keeps the attempt open.
    pub exit: Option<String>,
    /// `cmi.session_time` in microseconds.
    pub session_time_us: Option<i64>,
    /// `cmi.objectives.n` entries.
    #[serde(default)]
    pub objectives: Vec<ObjectiveReport>,
}

impl RuntimeReport {
    /// The navigation request `cmi.exit` implies when the SCO set none (RTE 4.2.8): `time-out`
    /// and `logout` (deprecated) end the whole course with an exit all.
    pub fn implied_request(&self) -> Option<NavRequest> {
        match self.exit.as_deref() {
            Some("time-out") | Some("logout") => Some(NavRequest::ExitAll),
            _ => None,
        }
    }
}

/// One `cmi.objectives.n` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveReport {
    pub id: String,
    pub success_status: Option<String>,
    pub completion_status: Option<String>,
    pub score_scaled: Option<f64>,
    pub progress_measure: Option<f64>,
    #[serde(default)]
    pub score_raw: Option<f64>,
    #[serde(default)]
    pub score_min: Option<f64>,
    #[serde(default)]
    pub score_max: Option<f64>,
}

/// The rolled-up status of an activity, for the TOC, results and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Status {
    pub attempted: bool,
    pub attempt_count: u32,
    /// `None`: unknown.
    pub completed: Option<bool>,
    pub satisfied: Option<bool>,
    pub measure: Option<f64>,
    pub progress_measure: Option<f64>,
    pub active: bool,
    pub suspended: bool,
}

/// The sequencer of one registration: a tree definition and its tracking state.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Shared: one definition per course version serves every registration, and the
    /// request-validity probes clone engines cheaply.
    def: Arc<TreeDef>,
    st: TreeState,
}

impl Engine {
    /// A fresh registration. `seed` drives selection and randomization (SR.1, SR.2), which
    /// happen now for `once` timings.
    pub fn new(def: impl Into<Arc<TreeDef>>, seed: u64) -> Engine {
        let def = def.into();
        let st = TreeState::new(&def, seed);
        let mut e = Engine { def, st };
        e.initial_selection();
        e
    }

    /// A new attempt on the course (a new registration after the previous one ended) that keeps
    /// the global objectives the learner's earlier attempts wrote: everything else starts fresh.
    /// With `objectives_global_to_system` false pass this course's globals only.
    pub fn with_globals(
        def: impl Into<Arc<TreeDef>>,
        seed: u64,
        globals: std::collections::BTreeMap<String, state::GlobalObjective>,
    ) -> Engine {
        let mut e = Engine::new(def, seed);
        e.st.globals = globals;
        e
    }

    /// Restores a registration from its stored state.
    pub fn restore(def: impl Into<Arc<TreeDef>>, saved: SavedState) -> Engine {
        let def = def.into();
        let st = TreeState::restore(&def, saved);
        Engine { def, st }
    }

    /// The state to store (serialize it with serde).
    pub fn state(&self) -> SavedState {
        self.st.save(&self.def)
    }

    pub fn def(&self) -> &TreeDef {
        &self.def
    }

    /// The activity being delivered, if any.
    pub fn current(&self) -> Option<&str> {
        self.st.current.map(|c| self.def.get(c).id.as_str())
    }

    /// The activity a suspend all left, if any (a `ResumeAll` is then the way in).
    pub fn suspended_activity(&self) -> Option<&str> {
        self.st.suspended.map(|c| self.def.get(c).id.as_str())
    }

    /// Whether the sequencing session has ended (nothing is delivered until a new start).
    pub fn session_ended(&self) -> bool {
        self.st.ended
    }

    /// Status of an activity (by identifier), reading shared objectives through their maps.
    pub fn status(&self, id: &str) -> Option<Status> {
        let ix = self.def.find(id)?;
        Some(self.status_of(ix))
    }

    /// Status of the whole course (the root activity).
    pub fn course_status(&self) -> Status {
        self.status_of(self.def.root())
    }

    fn status_of(&self, ix: Ix) -> Status {
        let a = &self.st.activities[ix];
        Status {
            attempted: a.progress_status,
            attempt_count: a.attempt_count,
            completed: self.completion(ix),
            satisfied: self.obj_satisfied(ix, 0),
            measure: self.obj_measure(ix, 0),
            progress_measure: self.progress_measure(ix),
            active: a.active,
            suspended: a.suspended,
        }
    }

    /// Overall Sequencing Process (OP.1): navigation, termination, sequencing and delivery.
    pub fn navigate(&mut self, req: NavRequest, now: i64) -> Result<Outcome, Exception> {
        let (term, seq) = self.navigation_request_process(&req)?;
        let mut seq = seq;
        if let Some(t) = term {
            if let Some(s) = self.termination_request_process(t, now)? {
                seq = Some(s);
            }
        }
        let mut out = Outcome::default();
        let Some(seq) = seq else {
            return Ok(out);
        };
        match self.sequencing_request_process(seq) {
            Err(e) => {
                out.exception = Some(e.exception);
                if e.end_session {
                    // SB.2.1-1 ends the attempts still open before the session ends.
                    self.terminate_descendent_attempts(self.def.root(), now);
                    self.end_session();
                    out.end_session = true;
                }
                Ok(out)
            }
            Ok(SeqResult::EndSession) => {
                self.end_session();
                out.end_session = true;
                Ok(out)
            }
            Ok(SeqResult::Nothing) => Ok(out),
            Ok(SeqResult::Deliver(ix)) => match self.delivery_request_process(ix) {
                Err(e) => {
                    out.exception = Some(e);
                    Ok(out)
                }
                Ok(()) => {
                    self.content_delivery_environment_process(ix, now)?;
                    self.st.ended = false;
                    out.deliver = Some(self.def.get(ix).id.clone());
                    Ok(out)
                }
            },
        }
    }
}

impl Engine {
    /// The sequencing session ends: the next one begins without a current activity (so it can
    /// only start or resume all), as after closing the player.
    fn end_session(&mut self) {
        self.st.current = None;
        self.st.ended = true;
    }
}

/// A termination request (SN 4.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermReq {
    Exit,
    ExitAll,
    SuspendAll,
    Abandon,
    AbandonAll,
}

/// A sequencing request (SN 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqReq {
    Start,
    ResumeAll,
    Continue,
    Previous,
    Choice(Ix),
    Jump(Ix),
    Exit,
    Retry,
}

/// What a sequencing request process identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeqResult {
    Deliver(Ix),
    EndSession,
    Nothing,
}

/// A sequencing request process's exception, with the end-of-session flag some carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SeqFail {
    pub exception: Exception,
    pub end_session: bool,
}

impl From<Exception> for SeqFail {
    fn from(exception: Exception) -> SeqFail {
        SeqFail { exception, end_session: false }
    }
}

pub(crate) fn fail<T>(code: &'static str) -> Result<T, SeqFail> {
    Err(SeqFail { exception: Exception(code), end_session: false })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Forward,
    Backward,
}
