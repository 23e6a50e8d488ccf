//! Unit tests per process, and course-level scenarios. Trees are written as small SCORM 2004
//! manifests and read by Cairn's own importer, so the tests also cover the model's defaults.

mod choice;
mod flow;
mod objectives;
mod observe;
mod rollup;
mod rules;
mod scenarios;
mod scenarios_more;
mod scenarios_rollup;
mod selection;
mod tree_def;

use super::*;
use crate::package::{scorm, Limits};

pub(super) const NOW: i64 = 1_700_000_000_000_000;

/// A SCORM 2004 4th edition manifest around an organization's content (items and sequencing).
pub(super) fn manifest(org: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<manifest identifier="test" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss"
  xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3" xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3">
 <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
 <organizations default="org"><organization identifier="org"><title>Course</title>
{org}
 </organization></organizations>
 <resources><resource identifier="r" adlcp:scormType="sco" href="sco.html"/></resources>
</manifest>"#
    )
}

pub(super) fn def(org: &str) -> TreeDef {
    let parsed = scorm::parse("imsmanifest.xml", &manifest(org), &Limits::default()).expect("manifest parses");
    TreeDef::from_course(&parsed.course).expect("tree builds")
}

pub(super) fn engine(org: &str) -> Engine {
    Engine::new(def(org), 7)
}

/// A leaf item with optional extra content (sequencing, presentation).
pub(super) fn leaf(id: &str, inner: &str) -> String {
    format!(r#"<item identifier="{id}" identifierref="r"><title>{id}</title>{inner}</item>"#)
}

/// A cluster item: children and then its sequencing.
pub(super) fn cluster(id: &str, inner: &str) -> String {
    format!(r#"<item identifier="{id}"><title>{id}</title>{inner}</item>"#)
}

pub(super) fn seq(inner: &str) -> String {
    format!("<imsss:sequencing>{inner}</imsss:sequencing>")
}

pub(super) const FLOW: &str = r#"<imsss:controlMode flow="true"/>"#;

/// Navigates and answers the delivered activity (panics on a refused request).
pub(super) fn go(e: &mut Engine, req: NavRequest) -> Option<String> {
    e.navigate(req, NOW).expect("request accepted").deliver
}

pub(super) fn outcome(e: &mut Engine, req: NavRequest) -> Result<Outcome, Exception> {
    e.navigate(req, NOW)
}

#[allow(dead_code)]
pub(super) fn report(e: &mut Engine, id: &str, completion: &str, success: &str) {
    let r = RuntimeReport {
        completion_status: Some(completion.to_owned()),
        success_status: Some(success.to_owned()),
        ..RuntimeReport::default()
    };
    e.report_runtime(id, &r).expect("report accepted");
}

pub(super) fn report_with(e: &mut Engine, id: &str, r: RuntimeReport) {
    e.report_runtime(id, &r).expect("report accepted");
}

pub(super) fn choice(id: &str) -> NavRequest {
    NavRequest::Choice(id.to_owned())
}

/// Saves the state as JSON and restores it, as a suspend on one node and a resume on another.
pub(super) fn roundtrip(e: &Engine) -> Engine {
    let json = serde_json::to_string(&e.state()).expect("state serializes");
    let saved: SavedState = serde_json::from_str(&json).expect("state deserializes");
    Engine::restore(e.def().clone(), saved)
}

pub(super) fn st(e: &Engine, id: &str) -> Status {
    e.status(id).expect("activity exists")
}
