//! Delivery: Delivery Request Process (DB.1.1), Content Delivery Environment Process (DB.2) and
//! Clear Suspended Activity Subprocess (DB.2.1); and what the content reports back.

use serde::Serialize;

use super::tree::Ix;
use super::{Engine, Exception, RuntimeReport};

/// What the run-time initialises a SCO's data model with when it is launched (RTE 4.2):
/// `cmi.entry`, `cmi.scaled_passing_score`, `cmi.completion_threshold`, and `cmi.objectives.n`
/// with what the activity's objectives read (through their maps) now.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuntimeInit {
    /// `ab-initio`, `resume` or empty.
    pub entry: &'static str,
    pub scaled_passing_score: Option<f64>,
    pub completion_threshold: Option<f64>,
    /// The primary objective first when it has an identifier.
    pub objectives: Vec<ObjectiveInit>,
}

/// One `cmi.objectives.n` entry at launch (`None`: unknown).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ObjectiveInit {
    pub id: String,
    pub satisfied: Option<bool>,
    pub score_scaled: Option<f64>,
    pub completed: Option<bool>,
    pub progress_measure: Option<f64>,
    /// `cmi.objectives.n.score.raw`, `.min`, `.max`, read through 4th edition maps.
    pub score_raw: Option<f64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
}

impl Engine {
    /// Delivery Request Process (DB.1.1): only a leaf whose path passes Check Activity.
    pub(crate) fn delivery_request_process(&self, ix: Ix) -> Result<(), Exception> {
        if !self.def.get(ix).is_leaf() {
            return Err(Exception("DB.1.1-1"));
        }
        if self.def.path_from_root(ix).into_iter().any(|a| self.check_activity(a)) {
            return Err(Exception("DB.1.1-3"));
        }
        Ok(())
    }

    /// Content Delivery Environment Process (DB.2): starts or resumes the attempts on the path
    /// to the delivered activity and makes it current.
    pub(crate) fn content_delivery_environment_process(&mut self, ix: Ix, now: i64) -> Result<(), Exception> {
        if let Some(c) = self.st.current {
            if self.st.activities[c].active {
                return Err(Exception("DB.2-1"));
            }
        }
        if self.st.suspended != Some(ix) {
            self.clear_suspended_activity(ix);
        }
        self.terminate_descendent_attempts(ix, now);
        for a in self.def.path_from_root(ix) {
            if self.st.activities[a].active {
                continue;
            }
            if self.def.get(a).seq.tracked {
                if self.st.activities[a].suspended {
                    self.st.activities[a].suspended = false;
                    self.st.activities[a].resumed = true;
                } else {
                    self.st.activities[a].resumed = false;
                    self.st.activities[a].attempt_count = self.st.activities[a].attempt_count.saturating_add(1);
                    if self.st.activities[a].attempt_count == 1 {
                        self.st.activities[a].progress_status = true;
                    }
                    self.reset_attempt_tracking(a);
                    self.forget_descendants_tracking(a);
                    self.st.activities[a].attempt_started_us = Some(now);
                }
            }
            self.st.activities[a].active = true;
        }
        self.st.current = Some(ix);
        self.st.suspended = None;
        Ok(())
    }

    /// Clear Suspended Activity Subprocess (DB.2.1): delivering elsewhere forgets the suspension
    /// on the way from the suspended activity up to the common ancestor.
    pub(crate) fn clear_suspended_activity(&mut self, ix: Ix) {
        let Some(s) = self.st.suspended else { return };
        let common = self.def.common_ancestor(ix, s);
        let mut a = Some(s);
        while let Some(x) = a {
            // A leaf, or a cluster none of whose children stays suspended.
            if !self.def.get(x).children.iter().any(|&c| self.st.activities[c].suspended) {
                self.st.activities[x].suspended = false;
            }
            if x == common {
                break;
            }
            a = self.def.parent(x);
        }
        self.st.suspended = None;
    }

    /// The data model values to launch `activity` with (see [`RuntimeInit`]).
    pub fn runtime_init(&self, activity: &str) -> Option<RuntimeInit> {
        let ix = self.def.find(activity)?;
        let d = &self.def.get(ix).seq;
        let a = &self.st.activities[ix];
        let primary = &d.objectives[0];
        let objectives = d
            .objectives
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.id.is_empty())
            .map(|(i, o)| (i, o, self.obj_scores(ix, i)))
            .map(|(i, o, (score_raw, score_min, score_max))| ObjectiveInit {
                score_raw,
                score_min,
                score_max,
                id: o.id.clone(),
                satisfied: self.obj_satisfied(ix, i),
                score_scaled: self.obj_measure(ix, i),
                completed: self.obj_completion(ix, i),
                progress_measure: if i == 0 {
                    self.progress_measure(ix)
                } else {
                    let from_map = o
                        .maps
                        .iter()
                        .filter(|m| m.read_progress)
                        .find_map(|m| self.st.globals.get(&m.target).and_then(|g| g.progress_measure));
                    from_map.or(a.objectives.get(i).and_then(|s| s.progress_measure))
                },
            })
            .collect();
        Some(RuntimeInit {
            entry: if a.resumed {
                "resume"
            } else if a.active && a.attempt_count >= 1 {
                "ab-initio"
            } else {
                ""
            },
            scaled_passing_score: primary.satisfied_by_measure.then_some(primary.min_measure),
            completion_threshold: d.completed_by_measure.then_some(d.min_progress_measure),
            objectives,
        })
    }

    /// Records what the content set (RTE data model to tracking model, RTE 4.2 and SN 4.2.1),
    /// then rolls up. `completionThreshold` and `satisfiedByMeasure` decide when they apply.
    /// Reports for an activity that is not the current one are refused.
    pub fn report_runtime(&mut self, activity: &str, r: &RuntimeReport) -> Result<(), Exception> {
        let Some(ix) = self.def.find(activity) else { return Err(Exception("RT-1")) };
        if self.st.current != Some(ix) || !self.def.get(ix).is_leaf() {
            return Err(Exception("RT-2"));
        }
        if !self.def.get(ix).seq.tracked {
            return Ok(());
        }
        let seq = self.def.get(ix).seq.clone();
        let valid = |v: Option<f64>, lo: f64| v.filter(|x| x.is_finite() && (lo..=1.0).contains(x));
        let pm = valid(r.progress_measure, 0.0);
        if pm.is_some() {
            self.set_progress_measure(ix, pm);
        }
        let mut completion = match r.completion_status.as_deref() {
            Some("completed") => Some(Some(true)),
            Some("incomplete") | Some("not attempted") => Some(Some(false)),
            Some("unknown") => Some(None),
            _ => None,
        };
        if seq.completed_by_measure {
            if let Some(p) = pm.or_else(|| self.progress_measure(ix)) {
                completion = Some(Some(p >= seq.min_progress_measure));
            }
        }
        if let Some(c) = completion {
            self.set_completion(ix, c);
            // Even `unknown`: content that said something keeps End Attempt's defaults away.
            self.st.activities[ix].completion_set_by_content = true;
        }
        let score = valid(r.score_scaled, -1.0);
        if score.is_some() {
            self.set_obj_measure(ix, 0, score);
        }
        self.set_obj_scores(ix, 0, r.score_raw, r.score_min, r.score_max);
        let mut success = match r.success_status.as_deref() {
            Some("passed") => Some(Some(true)),
            Some("failed") => Some(Some(false)),
            Some("unknown") => Some(None),
            _ => None,
        };
        if seq.objectives[0].satisfied_by_measure {
            if let Some(m) = self.obj_measure(ix, 0) {
                success = Some(Some(m >= seq.objectives[0].min_measure));
            }
        }
        if let Some(s) = success {
            self.set_obj_satisfied(ix, 0, s);
            self.st.activities[ix].satisfied_set_by_content = true;
        }
        for o in &r.objectives {
            let Some(oi) = seq.objectives.iter().position(|d| !d.id.is_empty() && d.id == o.id) else { continue };
            // The primary objective is also `cmi.score`, `cmi.success_status`, … (RTE 4.2.17): what
            // the SCO set there wins over its `cmi.objectives.n` entry, which may only echo the
            // value the run-time initialised it with.
            let primary = oi == 0;
            if let Some(s) = valid(o.score_scaled, -1.0).filter(|_| !primary || score.is_none()) {
                self.set_obj_measure(ix, oi, Some(s));
            }
            if !primary || (r.score_raw.is_none() && r.score_min.is_none() && r.score_max.is_none()) {
                self.set_obj_scores(ix, oi, o.score_raw, o.score_min, o.score_max);
            }
            if primary && r.success_status.is_some() {
                continue;
            }
            let mut sat = match o.success_status.as_deref() {
                Some("passed") => Some(Some(true)),
                Some("failed") => Some(Some(false)),
                Some("unknown") => Some(None),
                _ => None,
            };
            if seq.objectives[oi].satisfied_by_measure {
                if let Some(m) = self.obj_measure(ix, oi) {
                    sat = Some(Some(m >= seq.objectives[oi].min_measure));
                }
            }
            if let Some(s) = sat {
                self.set_obj_satisfied(ix, oi, s);
            }
            let comp = match o.completion_status.as_deref() {
                Some("completed") => Some(Some(true)),
                Some("incomplete") | Some("not attempted") => Some(Some(false)),
                Some("unknown") => Some(None),
                _ => None,
            };
            self.set_obj_extra(ix, oi, comp, valid(o.progress_measure, 0.0));
        }
        if let Some(t) = r.session_time_us.filter(|t| *t >= 0) {
            let a = &mut self.st.activities[ix];
            a.attempt_experienced_us = a.attempt_experienced_us.saturating_add(t);
            a.activity_experienced_us = a.activity_experienced_us.saturating_add(t);
        }
        if let Some(e) = r.exit.as_deref() {
            self.st.activities[ix].suspended = e == "suspend";
        }
        self.overall_rollup(ix);
        Ok(())
    }
}
