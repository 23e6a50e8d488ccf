//! Replaying what a learner's statements say happened to each SCO, so that derived results come
//! from the same rollup as the course player's (`results::rollup`).
//!
//! The player drives the engine with navigation requests and the SCOs' reports; statements carry
//! no navigation request, only the SCO's side of it: a session began (`initialized`) or resumed
//! (`resumed`), what the SCO set, and how the session ended (`terminated`, `suspended`). Each of
//! these is mapped onto the process the player runs for it: a delivery (DB.2, which begins the
//! attempts on the SCO's path, ends those it leaves and forgets what earlier attempts recorded),
//! a run-time report, and the termination request that ends the SCO (TB.2.3 Exit: End Attempt,
//! exit action rules, post-condition rules). The sequencing request a termination leads to is not
//! followed: the next statement says where the learner went.

use super::tree::Ix;
use super::{Engine, RuntimeReport, TermReq};

/// What a statement about a SCO says happened to it.
#[derive(Debug, Clone, PartialEq)]
pub enum Observed {
    /// A new attempt began (`initialized`).
    Began,
    /// A suspended attempt continues (`resumed`).
    Resumed,
    /// What the SCO set (completion, success, score, progress), as of this statement.
    Set(RuntimeReport),
    /// The session ended: `terminated` ends the attempt, `suspended` (`cmi.exit` = `suspend`)
    /// keeps it open for a later resume.
    Ended { suspended: bool, session_time_us: Option<i64> },
}

impl Engine {
    /// Applies what a statement says happened to leaf `activity` (unknown activities and clusters
    /// are ignored: statements about them say nothing the sequencer tracks). Never fails: a
    /// statement arriving where the player would not have sent it (a report without a session, a
    /// SCO launched alone while another's session is open) is taken the way the run-time would
    /// have produced it.
    pub fn observe(&mut self, activity: &str, what: &Observed, now: i64) {
        let Some(ix) = self.def.find(activity) else { return };
        if !self.def.get(ix).is_leaf() {
            return;
        }
        match what {
            Observed::Began => self.observed_delivery(ix, false, now),
            Observed::Resumed => self.observed_delivery(ix, true, now),
            Observed::Set(report) => {
                self.ensure_delivered(ix, now);
                // Only the current leaf reports, which `ensure_delivered` made it.
                let _ = self.report_runtime(activity, report);
            }
            Observed::Ended { suspended, session_time_us } => {
                self.ensure_delivered(ix, now);
                if let Some(t) = session_time_us.filter(|t| *t >= 0) {
                    let a = &mut self.st.activities[ix];
                    a.attempt_experienced_us = a.attempt_experienced_us.saturating_add(t);
                    a.activity_experienced_us = a.activity_experienced_us.saturating_add(t);
                }
                self.st.activities[ix].suspended = *suspended;
                // TB.2.3 Exit, as the player's next request ends the SCO; it cannot be refused here
                // (the leaf is current and active).
                let _ = self.termination_request_process(TermReq::Exit, now);
            }
        }
    }

    /// The leaf's session as statements show it: when it is not the one running, it resumes (a
    /// report or an end without a session start in view continues the attempt rather than
    /// beginning one that would forget what it set).
    fn ensure_delivered(&mut self, ix: Ix, now: i64) {
        if self.st.current != Some(ix) || !self.st.activities[ix].active {
            self.observed_delivery(ix, true, now);
        }
    }

    /// DB.2 for a leaf a session began in. A leaf whose session never ended (its page closed
    /// without Terminate, or another SCO launched alone meanwhile) is abandoned first: nothing
    /// ends its attempt, as an abandon does not.
    fn observed_delivery(&mut self, ix: Ix, resume: bool, now: i64) {
        if let Some(c) = self.st.current {
            if self.st.activities[c].active {
                if c == ix && resume {
                    return;
                }
                self.st.activities[c].active = false;
            }
        }
        let a = &mut self.st.activities[ix];
        // A resumed attempt keeps what it recorded; a new one starts afresh (DB.2 decides by the
        // suspended flag).
        a.suspended = resume && a.attempt_count > 0;
        if self.content_delivery_environment_process(ix, now).is_ok() {
            self.st.ended = false;
        }
    }
}
