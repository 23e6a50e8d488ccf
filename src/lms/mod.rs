//! The learning-management side: courses and their packages, launches and their run-time policy, cmi5
//! session rules, results maintenance, assignments, live sessions and reports. It plugs into the xAPI
//! core's two seams ([`crate::lrs::seams::Hooks`]) and writes its own statements (cmi5 `satisfied`,
//! `launched`, bookings, attendance) through the core's public API like any client. The pure rules it
//! applies live in [`crate::results`] (derivation) and [`crate::package`] (import).
//!
//! - [`courses`]: package import and course versions;
//! - [`launch`]: launches, their restricted credentials and the SCORM session states;
//! - [`player`]: the course player: sequencing state per registration, navigation, delivery;
//! - [`cmi5`]: what cmi5 asks of the LMS around an AU's session;
//! - [`results`]: results maintenance (incremental, rebuild, cmi5 `satisfied`);
//! - [`definitions`]: what each course is derived against;
//! - [`assignments`], [`sessions`]: who must complete what by when; live sessions and attendance;
//! - [`reports`]: results rows, CSV and course summaries for analysts;
//! - [`zones`]: IANA time zones (live sessions are scheduled in one; learners read times in theirs);
//! - [`hooks`]: the guard and observer the core calls.

pub mod assignments;
pub mod cmi5;
pub mod courses;
pub mod definitions;
mod hooks;
pub mod launch;
pub mod persons;
pub mod player;
pub mod reports;
pub mod results;
pub mod sessions;
pub mod zones;

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;

use crate::lrs::error::Result;
use crate::lrs::{Lrs, LrsError};

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
    /// How long a learner's sign-in link stays usable (`/learn`): long enough to open a mail,
    /// short enough that an old mail signs nobody in.
    pub learner_link_ttl: std::time::Duration,
}

/// The default of [`LmsConfig::learner_link_ttl`]: 15 minutes.
pub const LEARNER_LINK_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

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

    /// A principal Cairn writes its own statements as, named `key` in their `authority`.
    fn own_principal(&self, key: &str) -> crate::lrs::auth::Principal {
        crate::lrs::auth::Principal {
            key: key.into(),
            name: "Cairn".into(),
            scopes: vec!["all".into()],
            authority: serde_json::json!({"objectType": "Agent", "name": "Cairn", "account": {"homePage": self.config.public_url, "name": key}}),
            restricted: None,
        }
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

fn bad(m: impl Into<String>) -> LrsError {
    LrsError::BadRequest(m.into())
}

/// An RFC 3339 time given as `name`, in the store's microseconds.
fn parse_ts(name: &str, v: &str) -> Result<i64> {
    let t = crate::xapi::timestamp::parse_timestamp(v).map_err(|e| bad(format!("{name}: {e}")))?;
    Ok((t.unix_timestamp_nanos() / 1000) as i64)
}
