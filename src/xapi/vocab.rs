//! The IRIs Cairn reads or writes, in one place: ADL's verbs, cmi5's categories, extensions and
//! activity types, and the xAPI SCORM profile's. Everything else refers to these names, so an IRI is
//! written once and a typo is a compile error.

/// Verbs of ADL's vocabulary (`http://adlnet.gov/expapi/verbs/…`) and of the ADL verbs cmi5 uses
/// (`https://w3id.org/xapi/adl/verbs/…`).
pub mod verbs {
    /// Statements with this verb void another statement (xAPI Data 2.3.2).
    pub const VOIDED: &str = "http://adlnet.gov/expapi/verbs/voided";
    pub const LAUNCHED: &str = "http://adlnet.gov/expapi/verbs/launched";
    pub const INITIALIZED: &str = "http://adlnet.gov/expapi/verbs/initialized";
    pub const RESUMED: &str = "http://adlnet.gov/expapi/verbs/resumed";
    pub const SUSPENDED: &str = "http://adlnet.gov/expapi/verbs/suspended";
    pub const TERMINATED: &str = "http://adlnet.gov/expapi/verbs/terminated";
    pub const COMPLETED: &str = "http://adlnet.gov/expapi/verbs/completed";
    pub const PASSED: &str = "http://adlnet.gov/expapi/verbs/passed";
    pub const FAILED: &str = "http://adlnet.gov/expapi/verbs/failed";
    pub const PROGRESSED: &str = "http://adlnet.gov/expapi/verbs/progressed";
    pub const ANSWERED: &str = "http://adlnet.gov/expapi/verbs/answered";
    pub const EXPERIENCED: &str = "http://adlnet.gov/expapi/verbs/experienced";
    pub const ATTENDED: &str = "http://adlnet.gov/expapi/verbs/attended";
    pub const REGISTERED: &str = "http://adlnet.gov/expapi/verbs/registered";
    pub const ABANDONED: &str = "https://w3id.org/xapi/adl/verbs/abandoned";
    pub const WAIVED: &str = "https://w3id.org/xapi/adl/verbs/waived";
    pub const SATISFIED: &str = "https://w3id.org/xapi/adl/verbs/satisfied";
}

/// cmi5 (AICC/CMI-5_Spec_Current, section 9).
pub mod cmi5 {
    pub const CATEGORY_CMI5: &str = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
    pub const CATEGORY_MOVEON: &str = "https://w3id.org/xapi/cmi5/context/categories/moveon";
    pub const EXT_SESSION: &str = "https://w3id.org/xapi/cmi5/context/extensions/sessionid";
    pub const EXT_MASTERY: &str = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore";
    pub const EXT_LAUNCH_MODE: &str = "https://w3id.org/xapi/cmi5/context/extensions/launchmode";
    pub const EXT_LAUNCH_URL: &str = "https://w3id.org/xapi/cmi5/context/extensions/launchurl";
    pub const EXT_MOVE_ON: &str = "https://w3id.org/xapi/cmi5/context/extensions/moveon";
    pub const EXT_LAUNCH_PARAMETERS: &str = "https://w3id.org/xapi/cmi5/context/extensions/launchparameters";
    pub const EXT_PROGRESS: &str = "https://w3id.org/xapi/cmi5/result/extensions/progress";
    /// Activity types of `satisfied` statements' objects: `…/activitytype/block` and `…/course`.
    pub const ACTIVITY_TYPE_BASE: &str = "https://w3id.org/xapi/cmi5/activitytype/";
}

/// ADL's xAPI SCORM profile.
pub mod scorm {
    /// The profile's category context activity.
    pub const PROFILE: &str = "https://w3id.org/xapi/scorm";
    pub const EXT_PROGRESS_MEASURE: &str = "https://w3id.org/xapi/scorm/result/extensions/progress_measure";
    pub const EXT_ATTEMPT_ID: &str = "https://w3id.org/xapi/scorm/context/extensions/attempt-id";
    /// The State document holding an attempt's CMI data.
    pub const ATTEMPT_STATE: &str = "https://w3id.org/xapi/scorm/attempt-state";
}
