//! Termination: TB.2.1, TB.2.2, TB.2.3, End Attempt (UP.4) and Terminate Descendent Attempts
//! (UP.3).

use super::rules::RuleKind;
use super::tree::{Ix, RuleAction};
use super::{Engine, Exception, SeqReq, TermReq};

impl Engine {
    /// Termination Request Process (TB.2.3). Returns the sequencing request that replaces the
    /// pending one, if any.
    pub(crate) fn termination_request_process(&mut self, req: TermReq, now: i64) -> Result<Option<SeqReq>, Exception> {
        let Some(mut current) = self.st.current else {
            return Err(Exception("TB.2.3-1"));
        };
        if matches!(req, TermReq::Exit | TermReq::Abandon) && !self.st.activities[current].active {
            return Err(Exception("TB.2.3-2"));
        }
        match req {
            TermReq::Exit => {
                self.end_attempt(current, now);
                self.sequencing_exit_action_rules();
                loop {
                    current = self.st.current.unwrap_or(current);
                    let (term, seq) = self.sequencing_post_condition_rules();
                    match term {
                        Some(TermReq::ExitAll) => return self.exit_all(now, seq),
                        Some(_) => {
                            // Exit parent.
                            let Some(parent) = self.def.parent(current) else {
                                return Err(Exception("TB.2.3-4"));
                            };
                            self.st.current = Some(parent);
                            self.end_attempt(parent, now);
                            continue;
                        }
                        None => {}
                    }
                    if current == self.def.root() && seq != Some(SeqReq::Retry) {
                        return Ok(Some(SeqReq::Exit));
                    }
                    return Ok(seq);
                }
            }
            TermReq::ExitAll => self.exit_all(now, None),
            TermReq::SuspendAll => {
                let a = &self.st.activities[current];
                let target = if a.active || a.suspended {
                    self.overall_rollup(current);
                    current
                } else {
                    match self.def.parent(current) {
                        Some(p) => p,
                        None => return Err(Exception("TB.2.3-3")),
                    }
                };
                self.st.suspended = Some(target);
                for ix in self.def.path_from_root(target) {
                    let a = &mut self.st.activities[ix];
                    a.active = false;
                    a.suspended = true;
                }
                self.st.current = Some(self.def.root());
                Ok(Some(SeqReq::Exit))
            }
            TermReq::Abandon => {
                self.st.activities[current].active = false;
                Ok(None)
            }
            TermReq::AbandonAll => {
                for ix in self.def.path_from_root(current) {
                    self.st.activities[ix].active = false;
                }
                self.st.current = Some(self.def.root());
                Ok(Some(SeqReq::Exit))
            }
        }
    }

    /// TB.2.3 step 4 (exit all): ends every attempt and makes the root current. A retry from a
    /// `retryAll` post-condition survives as the sequencing request.
    fn exit_all(&mut self, now: i64, seq: Option<SeqReq>) -> Result<Option<SeqReq>, Exception> {
        let root = self.def.root();
        if let Some(c) = self.st.current {
            if self.st.activities[c].active {
                self.end_attempt(c, now);
            }
        }
        self.terminate_descendent_attempts(root, now);
        self.end_attempt(root, now);
        self.st.current = Some(root);
        Ok(Some(if seq == Some(SeqReq::Retry) { SeqReq::Retry } else { SeqReq::Exit }))
    }

    /// Sequencing Exit Action Rules Subprocess (TB.2.1): the highest ancestor of the current
    /// activity whose exit rule fires ends, with everything below it.
    pub(crate) fn sequencing_exit_action_rules(&mut self) {
        let Some(current) = self.st.current else { return };
        let mut path = self.def.path_from_root(current);
        path.pop();
        let target =
            path.into_iter().find(|&a| self.sequencing_rules_check(a, RuleKind::Exit, &[RuleAction::Exit]).is_some());
        if let Some(t) = target {
            self.terminate_descendent_attempts(t, 0);
            self.end_attempt(t, 0);
            self.st.current = Some(t);
        }
    }

    /// Sequencing Post Condition Rules Subprocess (TB.2.2): (termination request, sequencing
    /// request) from the current activity's post-condition rules.
    pub(crate) fn sequencing_post_condition_rules(&self) -> (Option<TermReq>, Option<SeqReq>) {
        let Some(current) = self.st.current else { return (None, None) };
        if self.st.activities[current].suspended {
            return (None, None);
        }
        let actions = [
            RuleAction::ExitParent,
            RuleAction::ExitAll,
            RuleAction::Retry,
            RuleAction::RetryAll,
            RuleAction::Continue,
            RuleAction::Previous,
        ];
        match self.sequencing_rules_check(current, RuleKind::Post, &actions) {
            Some(RuleAction::Retry) => (None, Some(SeqReq::Retry)),
            Some(RuleAction::Continue) => (None, Some(SeqReq::Continue)),
            Some(RuleAction::Previous) => (None, Some(SeqReq::Previous)),
            Some(RuleAction::ExitParent) => (Some(TermReq::Exit), None),
            Some(RuleAction::ExitAll) => (Some(TermReq::ExitAll), None),
            Some(RuleAction::RetryAll) => (Some(TermReq::ExitAll), Some(SeqReq::Retry)),
            _ => (None, None),
        }
    }

    /// End Attempt Process (UP.4): a tracked leaf the content did not report on gets the default
    /// completed/satisfied status; a cluster is suspended when a child is; then rollup.
    pub(crate) fn end_attempt(&mut self, ix: Ix, now: i64) {
        if self.def.get(ix).is_leaf() {
            let d = &self.def.get(ix).seq;
            let a = &self.st.activities[ix];
            let tracked = d.tracked && !a.suspended;
            // Defaults only for what the content left alone (a reported `unknown` counts as said).
            let complete =
                tracked && !d.completion_set_by_content && !a.completion_set_by_content && !a.attempt_progress_status;
            let satisfy = tracked
                && !d.objective_set_by_content
                && !a.satisfied_set_by_content
                && !a.objectives[0].progress_status;
            if complete {
                self.set_completion(ix, Some(true));
            }
            if satisfy {
                self.set_obj_satisfied(ix, 0, Some(true));
            }
        } else {
            let any = self.def.get(ix).children.iter().any(|&c| self.st.activities[c].suspended);
            self.st.activities[ix].suspended = any;
        }
        let a = &mut self.st.activities[ix];
        if let Some(start) = a.attempt_started_us.take() {
            if now > start && a.attempt_experienced_us == 0 {
                a.attempt_experienced_us = now - start;
            }
        }
        a.active = false;
        self.overall_rollup(ix);
        if !self.st.activities[ix].suspended {
            self.randomize_for_new_attempt(ix);
        }
    }

    /// Terminate Descendent Attempts Process (UP.3): ends the attempts between the current
    /// activity and its common ancestor with `ix` (both exclusive).
    pub(crate) fn terminate_descendent_attempts(&mut self, ix: Ix, now: i64) {
        let Some(current) = self.st.current else { return };
        let common = self.def.common_ancestor(current, ix);
        let mut a = self.def.parent(current);
        if current != common {
            // The current activity itself has already ended (or is ended by the caller).
            while let Some(x) = a {
                if x == common {
                    break;
                }
                self.end_attempt(x, now);
                a = self.def.parent(x);
            }
        }
    }
}
