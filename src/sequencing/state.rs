//! The tracking state of one registration (SN 4.2): serializable, so a suspended attempt can be
//! resumed on another node, and keyed by activity identifier when stored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::tree::{Ix, TreeDef};

/// Objective tracking status (SN 4.2.1.2), plus what 4th edition maps may share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveState {
    /// Objective Progress Status: whether `satisfied` is known.
    pub progress_status: bool,
    pub satisfied: bool,
    /// Objective Measure Status: whether `measure` is known.
    pub measure_status: bool,
    pub measure: f64,
    /// Completion and progress of a non-primary objective (`cmi.objectives.n`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_measure: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
}

/// Activity and attempt state (SN 4.2.1.3, 4.2.1.4, 4.2.1.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityState {
    pub active: bool,
    pub suspended: bool,
    /// Activity Progress Status: the activity has been attempted (tracked).
    pub progress_status: bool,
    pub attempt_count: u32,
    /// Attempt Progress Status: whether `completed` is known.
    pub attempt_progress_status: bool,
    pub completed: bool,
    /// Attempt Completion Amount Status: whether `completion_amount` is known.
    pub completion_amount_status: bool,
    pub completion_amount: f64,
    /// Microseconds the learner spent in the current attempt / in all attempts (session times).
    pub attempt_experienced_us: i64,
    pub activity_experienced_us: i64,
    pub attempt_started_us: Option<i64>,
    /// Parallel to the definition's objectives.
    pub objectives: Vec<ObjectiveState>,
    /// Available Children after selection and randomization (indices).
    pub available: Vec<Ix>,
    /// Whether the content itself reported the primary objective / completion in this attempt.
    pub satisfied_set_by_content: bool,
    pub completion_set_by_content: bool,
    /// The current delivery resumed a suspended attempt (`cmi.entry` = `resume`).
    pub resumed: bool,
}

/// A global (shared) objective.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GlobalObjective {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub satisfied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measure: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_measure: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_score: Option<f64>,
}

/// The tracking state of one registration.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeState {
    pub activities: Vec<ActivityState>,
    pub current: Option<Ix>,
    pub suspended: Option<Ix>,
    pub globals: BTreeMap<String, GlobalObjective>,
    /// SplitMix64 state for selection and randomization.
    pub rng: u64,
    /// Whether the session was ended (by exit all, the end of the course, …).
    pub ended: bool,
    /// Global objectives written since the last rollup finished (not stored): activities that
    /// read them roll up too.
    pub changed_globals: std::collections::BTreeSet<String>,
}

impl TreeState {
    pub fn new(def: &TreeDef, seed: u64) -> TreeState {
        let activities = def
            .activities
            .iter()
            .map(|a| ActivityState {
                objectives: vec![ObjectiveState::default(); a.seq.objectives.len()],
                available: a.children.clone(),
                ..ActivityState::default()
            })
            .collect();
        TreeState {
            activities,
            current: None,
            suspended: None,
            globals: BTreeMap::new(),
            rng: seed,
            ended: false,
            changed_globals: Default::default(),
        }
    }

    /// SplitMix64: small, deterministic and serializable.
    pub fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniformly chosen index below `n` (n > 0).
    pub fn random_below(&mut self, n: usize) -> usize {
        (self.next_random() % (n as u64)) as usize
    }
}

/// The stored form: activities keyed by identifier, so a state stays readable when the package
/// is re-imported with activities added or removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedState {
    pub version: u32,
    pub current: Option<String>,
    pub suspended: Option<String>,
    pub activities: BTreeMap<String, SavedActivity>,
    #[serde(default)]
    pub globals: BTreeMap<String, GlobalObjective>,
    pub rng: u64,
    #[serde(default)]
    pub ended: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedActivity {
    #[serde(flatten)]
    pub state: ActivityState,
    /// Available children by identifier (replaces `state.available`).
    pub available_ids: Vec<String>,
}

impl TreeState {
    pub fn save(&self, def: &TreeDef) -> SavedState {
        let activities = def
            .activities
            .iter()
            .zip(&self.activities)
            .map(|(d, s)| {
                let mut state = s.clone();
                let available_ids = state.available.iter().map(|&c| def.activities[c].id.clone()).collect();
                state.available = Vec::new();
                (d.id.clone(), SavedActivity { state, available_ids })
            })
            .collect();
        SavedState {
            version: 1,
            current: self.current.map(|c| def.activities[c].id.clone()),
            suspended: self.suspended.map(|c| def.activities[c].id.clone()),
            activities,
            globals: self.globals.clone(),
            rng: self.rng,
            ended: self.ended,
        }
    }

    /// Restores a saved state; activities the state does not know start fresh, and indices are
    /// checked against the tree so a stale or forged state cannot point outside it.
    pub fn restore(def: &TreeDef, saved: SavedState) -> TreeState {
        let mut st = TreeState::new(def, saved.rng);
        let mut saved = saved;
        for (ix, d) in def.activities.iter().enumerate() {
            if let Some(sa) = saved.activities.remove(&d.id) {
                let mut s = sa.state;
                s.objectives.resize(d.seq.objectives.len(), ObjectiveState::default());
                let mut avail: Vec<Ix> = Vec::new();
                for id in &sa.available_ids {
                    // Only this activity's children, each once: a forged list cannot loop a flow.
                    if let Some(c) = d.children.iter().copied().find(|&c| &def.activities[c].id == id) {
                        if !avail.contains(&c) {
                            avail.push(c);
                        }
                    }
                }
                s.available = if avail.is_empty() { d.children.clone() } else { avail };
                st.activities[ix] = s;
            }
        }
        st.current = saved.current.as_deref().and_then(|id| def.find(id));
        st.suspended = saved.suspended.as_deref().and_then(|id| def.find(id));
        st.globals = saved.globals;
        st.ended = saved.ended;
        st
    }
}
