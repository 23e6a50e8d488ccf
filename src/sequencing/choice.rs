//! Choice: Choice Sequencing Request Process (SB.2.9) and its subprocesses (SB.2.4, SB.2.9.1,
//! SB.2.9.2).

use super::rules::RuleKind;
use super::tree::{Ix, RuleAction};
use super::{fail, Direction, Engine, SeqFail, SeqResult};

impl Engine {
    /// Whether `ix` is available: every ancestor lists it (through the path) among its available
    /// children (selection may have left it out).
    pub(crate) fn is_available(&self, ix: Ix) -> bool {
        let path = self.def.path_from_root(ix);
        path.windows(2).all(|w| self.st.activities[w[0]].available.contains(&w[1]))
    }

    /// Whether `a` comes before `b` in a pre-order traversal (by definition order).
    fn before(&self, a: Ix, b: Ix) -> bool {
        a < b
    }

    /// Whether choosing `ix` is hidden by a `hiddenFromChoice` rule on it or an ancestor, or it is
    /// not available (SB.2.9 step 3).
    pub(crate) fn hidden_from_choice(&self, ix: Ix) -> Option<&'static str> {
        for a in self.def.path_from_root(ix) {
            if let Some(p) = self.def.parent(a) {
                if !self.st.activities[p].available.contains(&a) {
                    return Some("SB.2.9-2");
                }
            }
            if self.sequencing_rules_check(a, RuleKind::Pre, &[RuleAction::HiddenFromChoice]).is_some() {
                return Some("SB.2.9-3");
            }
        }
        None
    }

    /// Choice Sequencing Request Process (SB.2.9).
    pub(crate) fn choice_sequencing_request(&mut self, target: Ix) -> Result<SeqResult, SeqFail> {
        if let Some(code) = self.hidden_from_choice(target) {
            return fail(code);
        }
        if let Some(p) = self.def.parent(target) {
            if !self.def.get(p).seq.choice {
                return fail("SB.2.9-4");
            }
        }
        let root = self.def.root();
        let current = self.st.current;
        let common = match current {
            Some(c) => self.def.common_ancestor(c, target),
            None => root,
        };
        match current {
            Some(c) if c == target => {}
            Some(c) if self.def.parent(c).is_some() && self.def.parent(c) == self.def.parent(target) => {
                // Step 6.2: a sibling of the current activity.
                let Some(p) = self.def.parent(c) else { return fail("SB.2.9-5") };
                let list = self.st.activities[p].available.clone();
                let (Some(ci), Some(ti)) = (list.iter().position(|&x| x == c), list.iter().position(|&x| x == target))
                else {
                    return fail("SB.2.9-5");
                };
                // From the current activity to the target, exclusive of the target (as ADL's
                // reference implementation reads the SN book: a target may stop traversal past
                // itself, not to itself).
                let (dir, span): (Direction, Vec<Ix>) = if ti > ci {
                    (Direction::Forward, list[ci..ti].to_vec())
                } else {
                    (Direction::Backward, list[ti + 1..=ci].iter().rev().copied().collect())
                };
                for a in span {
                    self.choice_activity_traversal(a, dir)?;
                }
            }
            Some(c) if common == c => {
                self.choice_descend(c, target, common)?;
            }
            None => self.choice_descend(root, target, common)?,
            Some(c) if common == target => {
                // Step 6.4: the target is an ancestor of the current activity.
                let mut a = c;
                while a != target {
                    if !self.def.get(a).seq.choice_exit {
                        return fail("SB.2.9-7");
                    }
                    let Some(p) = self.def.parent(a) else { break };
                    a = p;
                }
            }
            Some(c) => {
                // Step 6.5: somewhere else in the tree.
                let mut up = Vec::new();
                let mut a = c;
                while a != common {
                    up.push(a);
                    let Some(p) = self.def.parent(a) else { break };
                    a = p;
                }
                if up.is_empty() {
                    return fail("SB.2.9-5");
                }
                let mut constrained = None;
                for &a in &up {
                    if !self.def.get(a).seq.choice_exit {
                        return fail("SB.2.9-7");
                    }
                    if constrained.is_none() && self.def.get(a).seq.constrain_choice {
                        constrained = Some(a);
                    }
                }
                if let Some(k) = constrained {
                    let dir = if self.before(k, target) { Direction::Forward } else { Direction::Backward };
                    let consider = self.choice_flow_subprocess(k, dir);
                    if !self.def.is_ancestor_or_self(consider, target) && target != k {
                        return fail("SB.2.9-8");
                    }
                }
                let mut down: Vec<Ix> =
                    self.def.path_from_root(target).into_iter().skip_while(|&x| x != common).collect();
                if down.pop().is_none() {
                    return fail("SB.2.9-5");
                }
                let forward = self.before(c, target);
                for a in down {
                    if forward {
                        self.choice_activity_traversal(a, Direction::Forward)?;
                    }
                    let st = &self.st.activities[a];
                    if !st.active && a != common && self.def.get(a).seq.prevent_activation {
                        return fail("SB.2.9-6");
                    }
                }
            }
        }
        if self.def.get(target).is_leaf() {
            return Ok(SeqResult::Deliver(target));
        }
        match self.flow_subprocess(target, Direction::Forward, true) {
            Ok((ix, _)) => Ok(SeqResult::Deliver(ix)),
            Err(_) => {
                // Step 9: nothing to deliver below the target; it becomes current, ended.
                self.terminate_descendent_attempts(common, 0);
                self.end_attempt(common, 0);
                self.st.current = Some(target);
                fail("SB.2.9-9")
            }
        }
    }

    /// SB.2.9 step 6.3: the target is below `from` (the current activity or the root).
    fn choice_descend(&self, from: Ix, target: Ix, common: Ix) -> Result<(), SeqFail> {
        // From `from` down to the target's parent: the target's own rules do not stop a choice of it.
        let mut down: Vec<Ix> = self.def.path_from_root(target).into_iter().skip_while(|&x| x != from).collect();
        if down.pop().is_none() {
            return fail("SB.2.9-5");
        }
        for a in down {
            self.choice_activity_traversal(a, Direction::Forward)?;
            let st = &self.st.activities[a];
            if !st.active && a != common && self.def.get(a).seq.prevent_activation {
                return fail("SB.2.9-6");
            }
        }
        Ok(())
    }

    /// Choice Activity Traversal Subprocess (SB.2.4): stop forward traversal and forward-only.
    pub(crate) fn choice_activity_traversal(&self, ix: Ix, dir: Direction) -> Result<(), SeqFail> {
        match dir {
            Direction::Forward => {
                if self.sequencing_rules_check(ix, RuleKind::Pre, &[RuleAction::StopForwardTraversal]).is_some() {
                    return fail("SB.2.4-1");
                }
                Ok(())
            }
            Direction::Backward => match self.def.parent(ix) {
                Some(p) if self.def.get(p).seq.forward_only => fail("SB.2.4-2"),
                Some(_) => Ok(()),
                None => fail("SB.2.4-3"),
            },
        }
    }

    /// Choice Flow Subprocess (SB.2.9.1): the activity a constrained choice may reach.
    fn choice_flow_subprocess(&self, ix: Ix, dir: Direction) -> Ix {
        self.choice_flow_tree_traversal(ix, dir, 0).unwrap_or(ix)
    }

    /// Choice Flow Tree Traversal Subprocess (SB.2.9.2): the next sibling (or an ancestor's) in
    /// `dir`, without descending.
    fn choice_flow_tree_traversal(&self, ix: Ix, dir: Direction, depth: usize) -> Option<Ix> {
        if depth > super::tree::MAX_DEPTH + 1 {
            return None;
        }
        let p = self.def.parent(ix)?;
        let list = &self.st.activities[p].available;
        let at = list.iter().position(|&c| c == ix)?;
        match dir {
            Direction::Forward => {
                if ix == self.last_activity() {
                    return None;
                }
                if at + 1 == list.len() {
                    return self.choice_flow_tree_traversal(p, dir, depth + 1);
                }
                Some(list[at + 1])
            }
            Direction::Backward => {
                if at == 0 {
                    return self.choice_flow_tree_traversal(p, dir, depth + 1);
                }
                Some(list[at - 1])
            }
        }
    }
}
