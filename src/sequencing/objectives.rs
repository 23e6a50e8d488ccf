//! Local and global (shared) objectives: what sequencing reads of an objective goes through its
//! read maps, what it writes goes through its write maps (SN 4.2.1.2, 4.2.1.6 Objective Map;
//! 4th edition `adlseq:mapInfo` for completion, progress and raw score).

use super::tree::Ix;
use super::Engine;

impl Engine {
    /// Objective Satisfied Status of objective `o` of `ix` (`None`: unknown). A read map to a
    /// global objective whose status is known wins over the local status.
    pub(crate) fn obj_satisfied(&self, ix: Ix, o: usize) -> Option<bool> {
        let def = self.def.get(ix).seq.objectives.get(o)?;
        // Satisfied by measure: a known measure (possibly read from a global) decides, as in
        // ADL's reference implementation and RB.1.2a (measureSatisfactionIfActive included).
        let a = &self.def.get(ix).seq;
        if def.satisfied_by_measure && (!self.st.activities[ix].active || a.measure_satisfaction_if_active) {
            if let Some(m) = self.obj_measure(ix, o) {
                return Some(m >= def.min_measure);
            }
        }
        for m in def.maps.iter().filter(|m| m.read_satisfied) {
            if let Some(v) = self.st.globals.get(&m.target).and_then(|g| g.satisfied) {
                return Some(v);
            }
        }
        let s = self.st.activities[ix].objectives.get(o)?;
        s.progress_status.then_some(s.satisfied)
    }

    /// Objective Normalized Measure of objective `o` of `ix` (`None`: unknown).
    pub(crate) fn obj_measure(&self, ix: Ix, o: usize) -> Option<f64> {
        let def = self.def.get(ix).seq.objectives.get(o)?;
        for m in def.maps.iter().filter(|m| m.read_measure) {
            if let Some(v) = self.st.globals.get(&m.target).and_then(|g| g.measure) {
                return Some(v);
            }
        }
        let s = self.st.activities[ix].objectives.get(o)?;
        s.measure_status.then_some(s.measure)
    }

    /// Attempt Completion Status (`None`: unknown), read through the primary objective's 4th
    /// edition `readCompletionStatus` maps.
    pub(crate) fn completion(&self, ix: Ix) -> Option<bool> {
        if let Some(p) = self.def.get(ix).seq.objectives.first() {
            for m in p.maps.iter().filter(|m| m.read_completion) {
                if let Some(v) = self.st.globals.get(&m.target).and_then(|g| g.completed) {
                    return Some(v);
                }
            }
        }
        let a = &self.st.activities[ix];
        a.attempt_progress_status.then_some(a.completed)
    }

    /// Attempt Completion Amount (progress measure), through `readProgressMeasure` maps.
    pub(crate) fn progress_measure(&self, ix: Ix) -> Option<f64> {
        if let Some(p) = self.def.get(ix).seq.objectives.first() {
            for m in p.maps.iter().filter(|m| m.read_progress) {
                if let Some(v) = self.st.globals.get(&m.target).and_then(|g| g.progress_measure) {
                    return Some(v);
                }
            }
        }
        let a = &self.st.activities[ix];
        a.completion_amount_status.then_some(a.completion_amount)
    }

    /// Sets Objective Progress / Satisfied Status and writes it through write maps: an unknown
    /// status set by rollup or content is written too (ADL's reference implementation does; the
    /// OB-03b conformance case depends on it), a reset for a new attempt is not.
    pub(crate) fn set_obj_satisfied(&mut self, ix: Ix, o: usize, v: Option<bool>) {
        let Some(s) = self.st.activities[ix].objectives.get_mut(o) else { return };
        s.progress_status = v.is_some();
        s.satisfied = v.unwrap_or(false);
        for m in self.def.activities[ix].seq.objectives[o].maps.iter().filter(|m| m.write_satisfied) {
            let g = self.st.globals.entry(m.target.clone()).or_default();
            if g.satisfied != v {
                g.satisfied = v;
                self.st.changed_globals.insert(m.target.clone());
            }
        }
    }

    /// Sets Objective Measure Status / Normalized Measure and writes it through write maps.
    pub(crate) fn set_obj_measure(&mut self, ix: Ix, o: usize, v: Option<f64>) {
        let Some(s) = self.st.activities[ix].objectives.get_mut(o) else { return };
        s.measure_status = v.is_some();
        s.measure = v.unwrap_or(0.0);
        for m in self.def.activities[ix].seq.objectives[o].maps.iter().filter(|m| m.write_measure) {
            let g = self.st.globals.entry(m.target.clone()).or_default();
            if g.measure != v {
                g.measure = v;
                self.st.changed_globals.insert(m.target.clone());
            }
        }
    }

    /// Completion status of objective `o` (4th edition): the activity's for the primary one, else
    /// the objective's own, read through `readCompletionStatus` maps.
    pub(crate) fn obj_completion(&self, ix: Ix, o: usize) -> Option<bool> {
        if o == 0 {
            return self.completion(ix);
        }
        let def = self.def.get(ix).seq.objectives.get(o)?;
        for m in def.maps.iter().filter(|m| m.read_completion) {
            if let Some(v) = self.st.globals.get(&m.target).and_then(|g| g.completed) {
                return Some(v);
            }
        }
        self.st.activities[ix].objectives.get(o)?.completion
    }

    /// Sets Attempt Progress / Completion Status; `writeCompletionStatus` maps of the primary
    /// objective share it.
    pub(crate) fn set_completion(&mut self, ix: Ix, v: Option<bool>) {
        let a = &mut self.st.activities[ix];
        a.attempt_progress_status = v.is_some();
        a.completed = v.unwrap_or(false);
        if let (Some(v), Some(p)) = (v, self.def.activities[ix].seq.objectives.first()) {
            for m in p.maps.iter().filter(|m| m.write_completion) {
                let g = self.st.globals.entry(m.target.clone()).or_default();
                if g.completed != Some(v) {
                    g.completed = Some(v);
                    self.st.changed_globals.insert(m.target.clone());
                }
            }
        }
    }

    /// Sets Attempt Completion Amount; `writeProgressMeasure` maps share it.
    pub(crate) fn set_progress_measure(&mut self, ix: Ix, v: Option<f64>) {
        let a = &mut self.st.activities[ix];
        a.completion_amount_status = v.is_some();
        a.completion_amount = v.unwrap_or(0.0);
        if let (Some(v), Some(p)) = (v, self.def.activities[ix].seq.objectives.first()) {
            for m in p.maps.iter().filter(|m| m.write_progress) {
                let g = self.st.globals.entry(m.target.clone()).or_default();
                if g.progress_measure != Some(v) {
                    g.progress_measure = Some(v);
                    self.st.changed_globals.insert(m.target.clone());
                }
            }
        }
    }

    /// Non-primary objective completion and progress (`cmi.objectives.n`), with their 4th edition
    /// write maps. `completion`: `None` when not reported, `Some(None)` when reported `unknown`,
    /// which is written through the maps too (SX-11b: a reader then sees `unknown`).
    pub(crate) fn set_obj_extra(&mut self, ix: Ix, o: usize, completion: Option<Option<bool>>, progress: Option<f64>) {
        let Some(s) = self.st.activities[ix].objectives.get_mut(o) else { return };
        if let Some(c) = completion {
            s.completion = c;
        }
        if progress.is_some() {
            s.progress_measure = progress;
        }
        for m in &self.def.activities[ix].seq.objectives[o].maps {
            let g = self.st.globals.entry(m.target.clone()).or_default();
            let before = (g.completed, g.progress_measure);
            if let (true, Some(c)) = (m.write_completion, completion) {
                g.completed = c;
            }
            if m.write_progress && progress.is_some() {
                g.progress_measure = progress;
            }
            if before != (g.completed, g.progress_measure) {
                self.st.changed_globals.insert(m.target.clone());
            }
        }
    }

    /// Raw, minimum and maximum scores of objective `o` (`cmi.score.*` for the primary,
    /// `cmi.objectives.n.score.*`), with their 4th edition `writeRawScore` / `writeMinScore` /
    /// `writeMaxScore` maps. Only values the content reported change anything.
    pub(crate) fn set_obj_scores(&mut self, ix: Ix, o: usize, raw: Option<f64>, min: Option<f64>, max: Option<f64>) {
        let Some(s) = self.st.activities[ix].objectives.get_mut(o) else { return };
        let finite = |v: Option<f64>| v.filter(|x| x.is_finite());
        let (raw, min, max) = (finite(raw), finite(min), finite(max));
        if raw.is_none() && min.is_none() && max.is_none() {
            return;
        }
        s.raw_score = raw.or(s.raw_score);
        s.min_score = min.or(s.min_score);
        s.max_score = max.or(s.max_score);
        for m in &self.def.activities[ix].seq.objectives[o].maps {
            let g = self.st.globals.entry(m.target.clone()).or_default();
            let before = (g.raw_score, g.min_score, g.max_score);
            if m.write_raw && raw.is_some() {
                g.raw_score = raw;
            }
            if m.write_min && min.is_some() {
                g.min_score = min;
            }
            if m.write_max && max.is_some() {
                g.max_score = max;
            }
            if before != (g.raw_score, g.min_score, g.max_score) {
                self.st.changed_globals.insert(m.target.clone());
            }
        }
    }

    /// Raw, minimum and maximum scores of objective `o`, each read through its `read*Score` maps
    /// (a known global value wins over the local one, as for the other shared values).
    pub(crate) fn obj_scores(&self, ix: Ix, o: usize) -> (Option<f64>, Option<f64>, Option<f64>) {
        let Some(def) = self.def.get(ix).seq.objectives.get(o) else { return (None, None, None) };
        let local = self.st.activities[ix].objectives.get(o);
        let read = |on: fn(&super::tree::MapDef) -> bool, of: fn(&super::state::GlobalObjective) -> Option<f64>| {
            def.maps.iter().filter(|m| on(m)).find_map(|m| self.st.globals.get(&m.target).and_then(of))
        };
        (
            read(|m| m.read_raw, |g| g.raw_score).or(local.and_then(|s| s.raw_score)),
            read(|m| m.read_min, |g| g.min_score).or(local.and_then(|s| s.min_score)),
            read(|m| m.read_max, |g| g.max_score).or(local.and_then(|s| s.max_score)),
        )
    }

    /// `useCurrentAttemptObjectiveInfo` / `useCurrentAttemptProgressInfo`: when a cluster begins a
    /// new attempt, what its descendants recorded in earlier attempts no longer counts (ADL's
    /// reference implementation marks it "dirty"; here it is forgotten, globals excepted).
    pub(crate) fn forget_descendants_tracking(&mut self, ix: Ix) {
        let mut stack = vec![ix];
        while let Some(p) = stack.pop() {
            let (obj, pro) = {
                let d = &self.def.get(p).seq;
                (d.use_current_attempt_objective_info, d.use_current_attempt_progress_info)
            };
            for &c in &self.def.get(p).children {
                let a = &mut self.st.activities[c];
                if a.suspended {
                    continue;
                }
                if obj {
                    for o in &mut a.objectives {
                        *o = Default::default();
                    }
                    a.satisfied_set_by_content = false;
                }
                if pro {
                    a.attempt_progress_status = false;
                    a.completed = false;
                    a.completion_amount_status = false;
                    a.completion_amount = 0.0;
                    a.completion_set_by_content = false;
                }
                if obj || pro {
                    stack.push(c);
                }
            }
        }
    }

    /// Resets an activity's objective and attempt progress information for a new attempt (DB.2
    /// step 5: "initialize objective progress information and attempt progress information").
    /// Global objectives keep their values: other activities may rely on them.
    pub(crate) fn reset_attempt_tracking(&mut self, ix: Ix) {
        let a = &mut self.st.activities[ix];
        for o in &mut a.objectives {
            *o = Default::default();
        }
        a.attempt_progress_status = false;
        a.completed = false;
        a.completion_amount_status = false;
        a.completion_amount = 0.0;
        a.attempt_experienced_us = 0;
        a.satisfied_set_by_content = false;
        a.completion_set_by_content = false;
    }
}
