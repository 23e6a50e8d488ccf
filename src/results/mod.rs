//! Derived results: from the statement stream, per learner and course, completion, success, score,
//! time, live-session attendance and deadline compliance. Pure rules live here (no HTTP, no SQL):
//! - [`facts`]: what one statement says (extracted once, at ingest);
//! - [`derive`]: the derivation rules per course kind (cmi5, SCORM, plain xAPI, live sessions);
//! - [`compliance`]: due dates, grace, recurrence and the compliance words;
//! - [`course`]: turning an imported package into the definition the rules run against;
//! - [`rollup`]: SCORM 2004 courses, whose completion, success and measure are the sequencer's rollup;
//! - [`ids`]: the activity ids Cairn gives modules (a leaf: no cycle among these modules).
//!
//! The orchestration (maintaining results incrementally as statements arrive, rebuilding, assignments,
//! sessions) is in `lms::results`.

pub mod compliance;
pub mod course;
pub mod derive;
pub mod facts;
pub mod ids;
pub mod rollup;
