//! Course definitions: what an imported package's course, or a course defined through the API from
//! components, is derived against.

use super::results::LearnerCourse;
use serde::Deserialize;

use super::{bad, Lms};
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::results::course;
use crate::results::derive::{Component, CourseDef, Rule};

/// A course defined through the API (`PUT /api/courses/{id}`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefineCourse {
    pub title: String,
    pub components: Vec<DefineComponent>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DefineComponent {
    /// A module or AU of an imported course.
    Module {
        course: String,
        module: String,
        #[serde(default = "yes")]
        required: bool,
    },
    /// Any activity by IRI (plain xAPI completion rules).
    Activity {
        activity_id: String,
        #[serde(default)]
        title: Option<String>,
        #[serde(default = "yes")]
        required: bool,
    },
}

fn yes() -> bool {
    true
}

impl Lms {
    /// The definition results of a course are derived against.
    pub async fn course_def(&self, course_id: &str) -> Result<CourseDef> {
        let text = self
            .store
            .course_def(course_id)
            .await?
            .ok_or_else(|| LrsError::NotFound(format!("no course {course_id}")))?;
        serde_json::from_str(&text).map_err(|e| bad(format!("stored course definition is unreadable: {e}")))
    }

    pub(super) async fn save_course_def(&self, def: &CourseDef, defined: bool) -> Result<()> {
        let body = serde_json::to_string(def).map_err(|e| bad(e.to_string()))?;
        self.store.put_course_def(&def.id, &body, defined, &def.activity_ids()).await?;
        // Facts may already exist for these activities: derive every learner who has some.
        let learners = self.store.learners_of_course(&def.id).await?;
        let pairs: Vec<LearnerCourse> =
            learners.into_iter().map(|learner_key| LearnerCourse { learner_key, course_id: def.id.clone() }).collect();
        self.recompute_many(&pairs).await
    }

    /// Registers an imported course version's definition (replacing the previous version's).
    pub async fn register_package_course(&self, course_id: &str, course: &crate::package::Course) -> Result<()> {
        let mut def = course::from_package(course_id, course);
        // Sessions added to this course survive a new package version.
        if let Ok(old) = self.course_def(course_id).await {
            def.components.extend(old.components.into_iter().filter(|c| c.rule == Rule::Session));
        }
        self.save_course_def(&def, false).await
    }

    /// Defines (or redefines) a course from components: imported modules, activities by IRI.
    pub async fn define_course(&self, course_id: &str, req: DefineCourse) -> Result<CourseDef> {
        iri_string::types::IriStr::new(course_id)
            .map_err(|_| bad(format!("course id must be an IRI, got {course_id:?}")))?;
        let mut components = Vec::new();
        for c in req.components {
            match c {
                DefineComponent::Module { course, module, required } => {
                    let src = self.course_def(&course).await?;
                    let id = crate::results::ids::module_activity_id(&course, &module);
                    let mut comp = src
                        .components
                        .into_iter()
                        .find(|x| x.activity_id == id)
                        .ok_or_else(|| bad(format!("course {course} has no module {module}")))?;
                    comp.required = required;
                    comp.blocks.clear();
                    components.push(comp);
                }
                DefineComponent::Activity { activity_id, title, required } => {
                    iri_string::types::IriStr::new(&activity_id)
                        .map_err(|_| bad(format!("activity_id must be an IRI, got {activity_id:?}")))?;
                    components.push(Component {
                        title: title.unwrap_or_else(|| activity_id.clone()),
                        activity_id,
                        required,
                        rule: Rule::Activity,
                        blocks: vec![],
                    });
                }
            }
        }
        if let Ok(old) = self.course_def(course_id).await {
            components.extend(old.components.into_iter().filter(|c| c.rule == Rule::Session));
        }
        let def = CourseDef {
            id: course_id.to_string(),
            title: req.title,
            course_activity: None,
            components,
            cmi5: false,
            sequencing: None,
        };
        self.save_course_def(&def, true).await?;
        Ok(def)
    }
}
