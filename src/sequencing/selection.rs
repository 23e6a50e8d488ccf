//! Selection and randomization: Select Children Process (SR.1) and Randomize Children Process
//! (SR.2), driven by the state's seeded random source.

use super::tree::{Ix, Timing};
use super::Engine;

impl Engine {
    /// Applies selection then randomization to every cluster of a new tree.
    pub(crate) fn initial_selection(&mut self) {
        for ix in 0..self.def.activities.len() {
            if !self.def.get(ix).is_leaf() {
                self.select_children(ix);
                self.randomize_children(ix);
            }
        }
    }

    /// Select Children Process (SR.1): keeps `selectCount` children, chosen at random, in their
    /// original order. Only before the first attempt (timing `once`; `onEachNewAttempt` is
    /// undefined for selection in the SN book and treated the same).
    pub(crate) fn select_children(&mut self, ix: Ix) {
        let d = &self.def.get(ix).seq;
        let a = &self.st.activities[ix];
        if self.def.get(ix).is_leaf() || a.active || a.suspended || a.progress_status {
            return;
        }
        let Some(count) = d.select_count else { return };
        if d.selection_timing == Timing::Never {
            return;
        }
        let all = self.def.get(ix).children.clone();
        let count = (count as usize).min(all.len());
        let mut pool: Vec<usize> = (0..all.len()).collect();
        let mut chosen = Vec::with_capacity(count);
        for _ in 0..count {
            let k = self.st.random_below(pool.len());
            chosen.push(pool.swap_remove(k));
        }
        chosen.sort_unstable();
        self.st.activities[ix].available = chosen.into_iter().map(|i| all[i]).collect();
    }

    /// Randomize Children Process (SR.2): shuffles the available children (Fisher–Yates).
    pub(crate) fn randomize_children(&mut self, ix: Ix) {
        let d = &self.def.get(ix).seq;
        let a = &self.st.activities[ix];
        if self.def.get(ix).is_leaf() || a.active || a.suspended || !d.reorder_children {
            return;
        }
        match d.randomization_timing {
            Timing::Never => return,
            Timing::Once if a.progress_status => return,
            _ => {}
        }
        let mut list = self.st.activities[ix].available.clone();
        for i in (1..list.len()).rev() {
            let j = self.st.random_below(i + 1);
            list.swap(i, j);
        }
        self.st.activities[ix].available = list;
    }

    /// At the end of a cluster's attempt, `onEachNewAttempt` randomization prepares the next one
    /// (done here rather than mid-traversal, so a flow never sees the order change under it).
    pub(crate) fn randomize_for_new_attempt(&mut self, ix: Ix) {
        if self.def.get(ix).seq.randomization_timing == Timing::OnEachNewAttempt {
            self.randomize_children(ix);
        }
    }
}
