//! Course definitions for the rules: an imported package's modules become components with the rule of
//! their format, and every module gets the activity IRI its statements use.

use crate::package::{self, Course, Format, MasteryScore, MoveOn, Node, ScormType};

use super::derive::{Component, CourseDef, Rule};
use super::ids::module_activity_id;

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
    let sequencing = matches!(course.format, Format::Scorm2004 { .. }).then(|| sequencing_of(course)).flatten();
    CourseDef { id: course_id.to_string(), title: course.title.clone(), course_activity, components, cmi5, sequencing }
}

/// The activity tree the derivation rolls up: the player's, except that assets are untracked.
/// An asset never calls the run-time, so no statement shows it was visited; the player's End
/// Attempt counts a visited asset completed and satisfied, which the derivation cannot see.
fn sequencing_of(course: &Course) -> Option<std::sync::Arc<crate::sequencing::TreeDef>> {
    // A tree the player cannot build either (too large, too deep) leaves the fixed rule in place.
    let mut tree = crate::sequencing::TreeDef::from_course(course).ok()?;
    let assets: std::collections::HashSet<&str> =
        course.modules().into_iter().filter(|m| m.scorm_type != Some(ScormType::Sco)).map(|m| m.id.as_str()).collect();
    for a in tree.activities.iter_mut().filter(|a| a.is_leaf() && assets.contains(&a.id.as_str())) {
        a.seq.tracked = false;
    }
    Some(std::sync::Arc::new(tree))
}

#[cfg(test)]
mod tests {
    use super::*;

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
