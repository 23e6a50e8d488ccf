//! The activity ids Cairn gives modules, which launches, facts and course definitions must agree on.
//! A leaf module: the rules (`facts`, `course`) and the LMS use it, and it uses none of them.

use crate::package::url::encode_unreserved;

/// The activity IRI of a module: its own id when that is an IRI (cmi5 AUs, TinCan activities),
/// otherwise the course IRI plus the module identifier (SCORM items, AICC AUs), so statements from
/// Cairn's run-time and from other players agree on it.
pub fn module_activity_id(course_id: &str, module_id: &str) -> String {
    if is_absolute_iri(module_id) {
        return module_id.to_string();
    }
    format!("{}/{}", course_id.trim_end_matches('/'), encode_unreserved(module_id))
}

/// The activity id a module is launched under: a TinCan activity's own IRI; for a cmi5 AU one Cairn
/// generates, as cmi5 §8.1.5 requires; a SCORM item's is made under the course IRI, as ADL's xAPI SCORM
/// profile suggests (one IRI per SCO, stable across versions), and results derive from the same IRI.
pub fn launch_activity_id(course_iri: &str, format: &str, module_id: &str) -> String {
    match format {
        "cmi5" => cmi5_au_activity_id(module_id),
        "tincan" => module_id.to_string(),
        _ => module_activity_id(course_iri, module_id),
    }
}

const CMI5_AU_PREFIX: &str = "urn:cairn:cmi5-au:";

/// The activity id Cairn launches a cmi5 AU under. cmi5 §8.1.5 has the LMS generate it: never the
/// publisher's AU id, the same for every launch and registration. It is the AU id percent-encoded in a
/// Cairn URN, so results (kept per AU id, see [`cmi5_au_of`]) need no lookup table.
pub fn cmi5_au_activity_id(au_id: &str) -> String {
    format!("{CMI5_AU_PREFIX}{}", encode_unreserved(au_id))
}

/// The publisher's AU id behind an activity id made by [`cmi5_au_activity_id`].
pub fn cmi5_au_of(activity_id: &str) -> Option<String> {
    let enc = activity_id.strip_prefix(CMI5_AU_PREFIX)?;
    percent_encoding::percent_decode_str(enc).decode_utf8().ok().map(|s| s.into_owned())
}

/// The activity id of a cmi5 block in Cairn's `satisfied` statements: generated, never the
/// publisher's block id (§9.4), the same for every learner and registration.
pub fn cmi5_block_activity_id(block_id: &str) -> String {
    format!("urn:cairn:cmi5-block:{}", encode_unreserved(block_id))
}

/// The activity id of a cmi5 course in Cairn's `satisfied` statements (§9.4), like a block's.
pub fn cmi5_course_activity_id(course_id: &str) -> String {
    format!("urn:cairn:cmi5-course:{}", encode_unreserved(course_id))
}

fn is_absolute_iri(s: &str) -> bool {
    iri_string::types::IriStr::new(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_ids_become_iris() {
        assert_eq!(module_activity_id("urn:cairn:scorm:m1", "item_1"), "urn:cairn:scorm:m1/item_1");
        assert_eq!(module_activity_id("http://c/", "a b"), "http://c/a%20b");
        assert_eq!(module_activity_id("http://c", "https://au/1"), "https://au/1");
        let au = cmi5_au_activity_id("https://au/1?x=é");
        assert_eq!(au, "urn:cairn:cmi5-au:https%3A%2F%2Fau%2F1%3Fx%3D%C3%A9");
        assert!(iri_string::types::IriStr::new(&au).is_ok());
        assert_eq!(cmi5_au_of(&au).as_deref(), Some("https://au/1?x=é"));
        assert_eq!(cmi5_au_of("https://au/1"), None);
        assert_eq!(launch_activity_id("urn:c", "cmi5", "https://au/1"), cmi5_au_activity_id("https://au/1"));
        assert_eq!(launch_activity_id("urn:c", "tincan", "https://t/1"), "https://t/1");
        assert_eq!(launch_activity_id("urn:c", "scorm12", "item_1"), "urn:c/item_1");
    }
}
