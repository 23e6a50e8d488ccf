//! Sequencing request processes (SB.2.12 and SB.2.5 to SB.2.13 but choice) and the flow
//! subprocesses (SB.2.1 to SB.2.3).

use super::rules::RuleKind;
use super::tree::{Ix, RuleAction};
use super::{fail, Direction, Engine, SeqFail, SeqReq, SeqResult};

/// Result of a flow traversal: the activity reached (or where it stopped) and the direction.
pub(crate) type Flow = Result<(Ix, Direction), SeqFail>;

fn end_session(code: &'static str) -> SeqFail {
    SeqFail { exception: super::Exception(code), end_session: true }
}

impl Engine {
    /// Sequencing Request Process (SB.2.12).
    pub(crate) fn sequencing_request_process(&mut self, req: SeqReq) -> Result<SeqResult, SeqFail> {
        match req {
            SeqReq::Start => self.start_sequencing_request(),
            SeqReq::ResumeAll => self.resume_all_sequencing_request(),
            SeqReq::Exit => self.exit_sequencing_request(),
            SeqReq::Retry => self.retry_sequencing_request(),
            SeqReq::Continue => self.continue_sequencing_request(),
            SeqReq::Previous => self.previous_sequencing_request(),
            SeqReq::Choice(t) => self.choice_sequencing_request(t),
            SeqReq::Jump(t) => self.jump_sequencing_request(t),
        }
    }

    /// Start Sequencing Request Process (SB.2.5).
    fn start_sequencing_request(&mut self) -> Result<SeqResult, SeqFail> {
        if self.st.current.is_some() {
            return fail("SB.2.5-1");
        }
        let root = self.def.root();
        if self.def.get(root).is_leaf() {
            return Ok(SeqResult::Deliver(root));
        }
        let (ix, _) = self.flow_subprocess(root, Direction::Forward, true)?;
        Ok(SeqResult::Deliver(ix))
    }

    /// Resume All Sequencing Request Process (SB.2.6).
    fn resume_all_sequencing_request(&mut self) -> Result<SeqResult, SeqFail> {
        if self.st.current.is_some() {
            return fail("SB.2.6-1");
        }
        match self.st.suspended {
            None => fail("SB.2.6-2"),
            Some(s) => Ok(SeqResult::Deliver(s)),
        }
    }

    /// Continue Sequencing Request Process (SB.2.7).
    fn continue_sequencing_request(&mut self) -> Result<SeqResult, SeqFail> {
        let Some(current) = self.st.current else { return fail("SB.2.7-1") };
        if let Some(p) = self.def.parent(current) {
            if !self.def.get(p).seq.flow {
                return fail("SB.2.7-2");
            }
        }
        let (ix, _) = self.flow_subprocess(current, Direction::Forward, false)?;
        Ok(SeqResult::Deliver(ix))
    }

    /// Previous Sequencing Request Process (SB.2.8).
    fn previous_sequencing_request(&mut self) -> Result<SeqResult, SeqFail> {
        let Some(current) = self.st.current else { return fail("SB.2.8-1") };
        if let Some(p) = self.def.parent(current) {
            if !self.def.get(p).seq.flow {
                return fail("SB.2.8-2");
            }
        }
        let (ix, _) = self.flow_subprocess(current, Direction::Backward, false)?;
        Ok(SeqResult::Deliver(ix))
    }

    /// Exit Sequencing Request Process (SB.2.11): exiting the root ends the session.
    fn exit_sequencing_request(&mut self) -> Result<SeqResult, SeqFail> {
        let Some(current) = self.st.current else { return fail("SB.2.11-1") };
        if self.st.activities[current].active {
            return fail("SB.2.11-2");
        }
        if current == self.def.root() {
            return Ok(SeqResult::EndSession);
        }
        Ok(SeqResult::Nothing)
    }

    /// Retry Sequencing Request Process (SB.2.10).
    fn retry_sequencing_request(&mut self) -> Result<SeqResult, SeqFail> {
        let Some(current) = self.st.current else { return fail("SB.2.10-1") };
        let a = &self.st.activities[current];
        if a.active || a.suspended {
            return fail("SB.2.10-2");
        }
        if self.def.get(current).is_leaf() {
            return Ok(SeqResult::Deliver(current));
        }
        match self.flow_subprocess(current, Direction::Forward, true) {
            Ok((ix, _)) => Ok(SeqResult::Deliver(ix)),
            Err(_) => fail("SB.2.10-3"),
        }
    }

    /// Jump Sequencing Request Process (SB.2.13, 4th edition): no rule is checked but delivery's.
    fn jump_sequencing_request(&mut self, target: Ix) -> Result<SeqResult, SeqFail> {
        if self.st.current.is_none() {
            return fail("SB.2.13-1");
        }
        Ok(SeqResult::Deliver(target))
    }

    /// The available children of an activity's parent, and the activity's place among them.
    fn siblings(&self, ix: Ix) -> Option<(&[Ix], usize)> {
        let p = self.def.parent(ix)?;
        let list = &self.st.activities[p].available;
        let at = list.iter().position(|&c| c == ix)?;
        Some((list, at))
    }

    /// The last activity of the tree in pre-order, over available children.
    pub(crate) fn last_activity(&self) -> Ix {
        let mut a = self.def.root();
        let mut guard = 0;
        while let Some(&last) = self.st.activities[a].available.last() {
            a = last;
            guard += 1;
            if guard > super::tree::MAX_DEPTH + 1 {
                break;
            }
        }
        a
    }

    /// Flow Tree Traversal Subprocess (SB.2.1): the next activity in pre-order in `dir`
    /// (bounded by the tree's depth through `depth`).
    pub(crate) fn flow_tree_traversal(
        &self,
        ix: Ix,
        dir: Direction,
        consider_children: bool,
        previous: Option<Direction>,
        depth: usize,
    ) -> Flow {
        if depth > super::tree::MAX_DEPTH * 2 + 2 {
            return fail("SB.2.1-2");
        }
        let (mut ix, mut dir, mut reversed) = (ix, dir, false);
        if previous == Some(Direction::Backward) {
            if let Some((list, at)) = self.siblings(ix) {
                if at + 1 == list.len() {
                    dir = Direction::Backward;
                    ix = list[0];
                    reversed = true;
                }
            }
        }
        let _ = reversed;
        let root = self.def.root();
        match dir {
            Direction::Forward => {
                if ix == self.last_activity() || (ix == root && !consider_children) {
                    return Err(end_session("SB.2.1-1"));
                }
                if self.def.get(ix).is_leaf() || !consider_children {
                    let Some((list, at)) = self.siblings(ix) else { return Err(end_session("SB.2.1-1")) };
                    if at + 1 == list.len() {
                        let Some(p) = self.def.parent(ix) else { return fail("SB.2.1-1") };
                        return self.flow_tree_traversal(p, Direction::Forward, false, None, depth + 1);
                    }
                    return Ok((list[at + 1], Direction::Forward));
                }
                match self.st.activities[ix].available.first() {
                    Some(&c) => Ok((c, Direction::Forward)),
                    None => fail("SB.2.1-2"),
                }
            }
            Direction::Backward => {
                if ix == root {
                    return fail("SB.2.1-3");
                }
                if self.def.get(ix).is_leaf() || !consider_children {
                    let Some((list, at)) = self.siblings(ix) else { return fail("SB.2.1-3") };
                    if at == 0 {
                        let Some(p) = self.def.parent(ix) else { return fail("SB.2.1-3") };
                        return self.flow_tree_traversal(p, Direction::Backward, false, None, depth + 1);
                    }
                    return Ok((list[at - 1], Direction::Backward));
                }
                let kids = &self.st.activities[ix].available;
                if kids.is_empty() {
                    return fail("SB.2.1-2");
                }
                if self.def.get(ix).seq.forward_only {
                    Ok((kids[0], Direction::Forward))
                } else {
                    Ok((kids[kids.len() - 1], Direction::Backward))
                }
            }
        }
    }

    /// Flow Activity Traversal Subprocess (SB.2.2): skips what pre-condition rules skip, refuses
    /// what Check Activity refuses, and descends into clusters. The SN book's recursion is a
    /// tail call, written as a loop so a long run of skipped activities cannot exhaust the stack.
    pub(crate) fn flow_activity_traversal(&self, ix: Ix, dir: Direction, previous: Option<Direction>) -> Flow {
        let (mut ix, mut dir, mut previous) = (ix, dir, previous);
        for _ in 0..=2 * super::tree::MAX_ACTIVITIES + 2 {
            if let Some(p) = self.def.parent(ix) {
                if !self.def.get(p).seq.flow {
                    return fail("SB.2.2-1");
                }
            }
            if self.sequencing_rules_check(ix, RuleKind::Pre, &[RuleAction::Skip]).is_some() {
                let (next, got_dir) = self.flow_tree_traversal(ix, dir, false, previous, 0)?;
                // SB.2.2 step 3.3: a backward traversal that stays backward forgets the
                // previous direction.
                if previous == Some(Direction::Backward) && got_dir == Direction::Backward {
                    previous = None;
                }
                (ix, dir) = (next, got_dir);
                continue;
            }
            if self.check_activity(ix) {
                return fail("SB.2.2-2");
            }
            if self.def.get(ix).is_leaf() {
                return Ok((ix, dir));
            }
            let (next, got_dir) = self.flow_tree_traversal(ix, dir, true, None, 0)?;
            if dir == Direction::Backward && got_dir == Direction::Forward {
                (ix, dir, previous) = (next, Direction::Forward, Some(Direction::Backward));
            } else {
                (ix, previous) = (next, None);
            }
        }
        fail("SB.2.2-2")
    }

    /// Flow Subprocess (SB.2.3): one step of tree traversal, then activity traversal.
    pub(crate) fn flow_subprocess(&self, ix: Ix, dir: Direction, consider_children: bool) -> Flow {
        let (next, got_dir) = self.flow_tree_traversal(ix, dir, consider_children, None, 0)?;
        self.flow_activity_traversal(next, got_dir, None)
    }
}
