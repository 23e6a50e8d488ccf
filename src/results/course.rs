//! Course definitions for the rules: an imported package's modules become components with the rule of
//! their format, and every module gets the activity IRI its statements use.

use crate::package::url::encode_unreserved;
use crate::package::{self, Course, Format, MasteryScore, MoveOn, Node, ScormType};

use super::derive::{Component, CourseDef, Rule};

/// The activity IRI of a module: its own id when that is an IRI (cmi5 AUs, TinCan activities),
/// otherwise the course IRI plus the module identifier (SCORM items, AICC AUs), so statements from
/// Cairn's run-time and from other players agree on it.
pub fn module_activity_id(course_id: &str, module_id: &str) -> String {
    if is_absolute_iri(module_id) {
        return module_id.to_string();
    }
    format!("{}/{}", course_id.trim_end_matches('/'), encode_unreserved(module_id))
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
    let enc = activity_id.strip_prefix(CMI5_AU_PREFIX)?.as_bytes();
    let mut out = Vec::with_capacity(enc.len());
    let mut i = 0;
    while i < enc.len() {
        if enc[i] == b'%' {
            let hex = std::str::from_utf8(enc.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(enc[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn is_absolute_iri(s: &str) -> bool {
    iri_string::types::IriStr::new(s).is_ok()
}

/// The definition an imported course is derived against.
pub fn from_package(course_id: &str, course: &Course) -> CourseDef {
    let mut components = Vec::new();
    let v12 = matches!(course.format, Format::Scorm12 | Format::Aicc);
    fn walk(nodes: &[Node], blocks: &[String], out: &mut Vec<(Vec<String>, package::Module)>) {
        for n in nodes {
            match n {
                Node::Block(b) => {
                    let mut inner = blocks.to_vec();
                    inner.push(b.id.clone());
                    walk(&b.children, &inner, out)
                }
                Node::Module(m) => out.push((blocks.to_vec(), m.clone())),
            }
        }
    }
    let mut modules = Vec::new();
    walk(&course.root, &[], &mut modules);
    let (course_activity, cmi5) = match course.format {
        Format::Cmi5 => (Some(course_id.to_string()), true),
        Format::TinCan => (Some(course.id.clone().unwrap_or_else(|| course_id.to_string())), false),
        _ => (None, false),
    };
    for (blocks, m) in modules {
        let rules = &m.rules;
        let (rule, required) = match course.format {
            Format::Cmi5 => (
                Rule::Cmi5 {
                    move_on: rules.move_on.unwrap_or(MoveOn::NotApplicable),
                    mastery_score: match rules.mastery_score {
                        Some(MasteryScore::Scaled(s)) => Some(s),
                        _ => None,
                    },
                },
                true,
            ),
            // A TinCan package is completed through its course activity; its other activities are parts.
            Format::TinCan => (Rule::Activity, false),
            Format::Scorm12 | Format::Scorm2004 { .. } | Format::Aicc => {
                let tracked = rules.delivery_controls.as_ref().is_none_or(|d| d.tracked);
                // Assets report nothing, so only SCOs (and AICC AUs) count towards completion.
                let is_sco = course.format == Format::Aicc || m.scorm_type == Some(ScormType::Sco);
                let primary = rules.objectives.iter().find(|o| o.primary);
                (
                    Rule::Scorm {
                        v12,
                        mastery_raw: match rules.mastery_score {
                            Some(MasteryScore::Raw(r)) => Some(r),
                            _ => None,
                        },
                        min_progress: rules
                            .completion_threshold
                            .as_ref()
                            .filter(|c| c.completed_by_measure)
                            .map(|c| c.min_progress_measure),
                        min_normalized_measure: primary
                            .filter(|o| o.satisfied_by_measure)
                            .map(|o| o.min_normalized_measure),
                    },
                    tracked && is_sco,
                )
            }
        };
        components.push(Component {
            activity_id: module_activity_id(course_id, &m.id),
            title: m.title.clone(),
            required,
            rule,
            blocks: blocks.iter().map(|b| module_activity_id(course_id, b)).collect(),
        });
    }
    if course.format == Format::TinCan {
        if let Some(ca) = &course_activity {
            components.retain(|c| &c.activity_id != ca);
            components.insert(
                0,
                Component {
                    activity_id: ca.clone(),
                    title: course.title.clone(),
                    required: true,
                    rule: Rule::Activity,
                    blocks: vec![],
                },
            );
        }
    }
    CourseDef { id: course_id.to_string(), title: course.title.clone(), course_activity, components, cmi5 }
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
    }

    #[test]
    fn cmi5_course_components_follow_move_on() {
        let xml =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/packages/cmi5-blocks/cmi5.xml"))
                .unwrap();
        let xml = xml
            .replace("au/index.html", "https://example.com/au/index.html")
            .replace("au/two.html", "https://example.com/au/two.html");
        let course = crate::package::parse_cmi5_xml(&xml).unwrap();
        let def = from_package("https://example.com/courses/c1", &course);
        assert!(def.cmi5);
        assert_eq!(def.course_activity.as_deref(), Some("https://example.com/courses/c1"));
        let quiz = def.components.iter().find(|c| c.activity_id == "https://example.com/aus/quiz").unwrap();
        assert_eq!(quiz.rule, Rule::Cmi5 { move_on: MoveOn::CompletedAndPassed, mastery_score: Some(0.8) });
        assert_eq!(quiz.blocks, vec!["https://example.com/blocks/b1".to_string()]);
        let remote = def.components.iter().find(|c| c.activity_id == "https://example.com/aus/remote").unwrap();
        assert_eq!(
            remote.blocks,
            vec!["https://example.com/blocks/b1".to_string(), "https://example.com/blocks/b2".to_string()]
        );
    }
}
