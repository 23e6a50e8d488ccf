//! The learning-management side: courses and their packages, launches and their run-time policy, cmi5
//! session rules, results maintenance, assignments, live sessions and reports. It plugs into the xAPI
//! core's two seams ([`crate::lrs::seams::Hooks`]) and writes its own statements (cmi5 `satisfied`,
//! `launched`, bookings, attendance) through the core's public API like any client. The pure rules it
//! applies live in [`crate::results`] (derivation) and [`crate::package`] (import).
//!
//! - [`courses`]: package import and course versions;
//! - [`launch`]: launches, their restricted credentials and the SCORM session states;
//! - [`cmi5`]: what cmi5 asks of the LMS around an AU's session;
//! - [`results`]: results maintenance, course definitions, assignments, sessions and reports;
//! - [`hooks`]: the guard and observer the core calls.

pub mod cmi5;
pub mod courses;
mod hooks;
pub mod launch;
pub mod results;

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use crate::lrs::Lrs;

/// Settings of the learning-management side.
#[derive(Debug, Clone)]
pub struct LmsConfig {
    /// The content origin's address: launch pages, the run-time and package files are served there
    /// and nowhere else, so package content (third-party code) never runs on the API origin.
    pub content_url: String,
    /// Where imported packages' files live: one folder per course version.
    pub content_dir: PathBuf,
    /// Bounds on what a package may make us extract.
    pub package_limits: crate::package::Limits,
    /// Keep derived results current as statements arrive (on by default; off only to measure what
    /// that maintenance costs, after which `rebuild_results` brings results up to date).
    pub maintain_results: bool,
}

/// The learning-management side over one xAPI core. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Lms {
    core: Lrs,
    pub settings: Arc<LmsConfig>,
}

impl Lms {
    /// Plugs the learning-management side into `core` (its guard and observer) and answers it. The
    /// core handed back carries the hooks, so every copy of it used from now on applies them.
    pub fn new(mut core: Lrs, settings: LmsConfig) -> Lms {
        let settings = Arc::new(settings);
        core.hooks = Some(Arc::new(hooks::LmsHooks { settings: settings.clone() }));
        Lms { core, settings }
    }

    /// The xAPI core this side works through.
    pub fn core(&self) -> &Lrs {
        &self.core
    }

    /// The learning-management side of a core the hooks were installed in (see [`hooks`]).
    fn of(core: &Lrs, settings: &Arc<LmsConfig>) -> Lms {
        Lms { core: core.clone(), settings: settings.clone() }
    }
}

/// The LMS uses the core's public API (store, validator, statements) as its own; it never reaches
/// the other way.
impl Deref for Lms {
    type Target = Lrs;
    fn deref(&self) -> &Lrs {
        &self.core
    }
}
