//! What may be requested now: `adl.nav.request_valid.*` answers and the table of contents.
//!
//! Each answer runs the Overall Sequencing Process (OP.1) on a copy of the state and looks at
//! whether something would be delivered, so the answers agree with what `navigate` does. The
//! player should report the SCO's latest run-time data first.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tree::Ix;
use super::{Engine, NavRequest, Status};

/// Beyond this many activities the TOC decides "enabled" from the navigation request checks
/// (NB.2.1, hidden from choice) only, keeping the TOC linear instead of quadratic.
pub const TOC_SIMULATION_LIMIT: usize = 300;

/// `adl.nav.request_valid.*` and the player's buttons.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidRequests {
    pub start: bool,
    pub resume_all: bool,
    #[serde(rename = "continue")]
    pub continue_: bool,
    pub previous: bool,
    pub exit: bool,
    pub exit_all: bool,
    pub suspend_all: bool,
    pub abandon: bool,
    pub abandon_all: bool,
    /// `choice.{target=ID}` per activity identifier, for the activities of the TOC.
    pub choice: BTreeMap<String, bool>,
}

/// One line of the table of contents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TocEntry {
    pub id: String,
    pub title: String,
    pub depth: usize,
    pub leaf: bool,
    /// `isvisible` and not hidden from choice.
    pub visible: bool,
    /// A choice of it would deliver something now.
    pub enabled: bool,
    pub current: bool,
    pub status: Status,
}

impl Engine {
    /// Whether `req` would succeed now: deliver an activity, or for a continue past the last
    /// activity end the course (ADL's conformance suite offers Continue there, CM-04b), or for
    /// the exits be accepted.
    pub fn request_valid(&self, req: &NavRequest) -> bool {
        let mut probe = self.clone();
        match probe.navigate(req.clone(), 0) {
            Err(_) => false,
            Ok(out) => match req {
                NavRequest::Exit
                | NavRequest::ExitAll
                | NavRequest::SuspendAll
                | NavRequest::Abandon
                | NavRequest::AbandonAll => true,
                NavRequest::Continue => out.deliver.is_some() || out.exception == Some(super::Exception("SB.2.1-1")),
                _ => out.deliver.is_some(),
            },
        }
    }

    /// `adl.nav.request_valid.choice.{target=ID}`.
    pub fn choice_valid(&self, id: &str) -> bool {
        self.request_valid(&NavRequest::Choice(id.to_owned()))
    }

    /// `adl.nav.request_valid.jump.{target=ID}`.
    pub fn jump_valid(&self, id: &str) -> bool {
        self.request_valid(&NavRequest::Jump(id.to_owned()))
    }

    /// Every request's validity now.
    pub fn valid_requests(&self) -> ValidRequests {
        let toc = self.toc();
        ValidRequests {
            start: self.request_valid(&NavRequest::Start),
            resume_all: self.request_valid(&NavRequest::ResumeAll),
            continue_: self.request_valid(&NavRequest::Continue),
            previous: self.request_valid(&NavRequest::Previous),
            exit: self.request_valid(&NavRequest::Exit),
            exit_all: self.request_valid(&NavRequest::ExitAll),
            suspend_all: self.request_valid(&NavRequest::SuspendAll),
            abandon: self.request_valid(&NavRequest::Abandon),
            abandon_all: self.request_valid(&NavRequest::AbandonAll),
            choice: toc.into_iter().filter(|e| e.visible).map(|e| (e.id, e.enabled)).collect(),
        }
    }

    /// The table of contents: available activities in tree order (the root first).
    pub fn toc(&self) -> Vec<TocEntry> {
        let simulate = self.def.activities.len() <= TOC_SIMULATION_LIMIT;
        let mut out = Vec::new();
        let mut stack: Vec<Ix> = vec![self.def.root()];
        while let Some(ix) = stack.pop() {
            let d = self.def.get(ix);
            let hidden = self.hidden_from_choice(ix).is_some();
            let enabled = !hidden
                && if simulate {
                    self.choice_valid(&d.id)
                } else {
                    self.navigation_request_process(&NavRequest::Choice(d.id.clone())).is_ok()
                };
            out.push(TocEntry {
                id: d.id.clone(),
                title: d.title.clone(),
                depth: d.depth,
                leaf: d.is_leaf(),
                visible: d.visible && !hidden,
                enabled,
                current: self.st.current == Some(ix),
                status: self.status_of(ix),
            });
            for &c in self.st.activities[ix].available.iter().rev() {
                stack.push(c);
            }
        }
        out
    }

    /// The player controls the current SCO asks to hide (`adlnav:hideLMSUI`).
    pub fn hidden_controls(&self) -> Vec<String> {
        self.st.current.map(|c| self.def.get(c).seq.hide_lms_ui.clone()).unwrap_or_default()
    }
}
