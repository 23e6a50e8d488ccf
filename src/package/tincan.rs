//! TinCan packages (`tincan.xml`): launchable activities and the course activity id.

use iri_string::types::IriStr;

use super::error::PackageError;
use super::model::*;
use super::scorm::blank_module;
use super::url;
use super::xml::{self, child, children, loc, text};
use super::{Limits, Parsed};

pub const TINCAN_NS: &str = "http://projecttincan.com/tincan.xsd";
const COURSE_TYPE: &str = "http://adlnet.gov/expapi/activities/course";

/// The activity that stands for the whole course: id, title, description, title and description langs.
type CourseActivity = (String, String, Option<String>, Vec<LangString>, Vec<LangString>);

/// Parses `tincan.xml`. Each activity with a `<launch>` becomes a module;
/// the course activity (type `course`, else the first launchable one) gives
/// the course id and title.
pub fn parse(file: &str, text_in: &str, limits: &Limits) -> Result<Parsed, PackageError> {
    let doc = xml::parse(file, text_in, limits)?;
    let root = doc.root_element();
    let err = |n: roxmltree::Node<'_, '_>, m: String| PackageError::manifest(loc(file, &doc, n), m);
    if root.tag_name().name() != "tincan" {
        return Err(err(root, format!("root element is <{}>, expected <tincan>", root.tag_name().name())));
    }
    let ns = root.tag_name().namespace().unwrap_or("");
    let mut warnings = Vec::new();
    if ns != TINCAN_NS {
        warnings.push(format!("{file}: <tincan> is in namespace {ns:?}, not {TINCAN_NS}; read it anyway"));
    }
    let Some(acts) = child(root, ns, "activities") else {
        return Err(err(root, "missing <activities>".into()));
    };
    let langs = |n: roxmltree::Node<'_, '_>, name: &str| -> (Option<String>, Vec<LangString>) {
        let list: Vec<LangString> = children(n, ns, name)
            .filter_map(|e| {
                Some(LangString { lang: e.attribute("lang").unwrap_or("und").trim().to_owned(), text: text(e)? })
            })
            .collect();
        let main = list
            .iter()
            .find(|l| l.lang.to_ascii_lowercase().starts_with("en"))
            .or_else(|| list.first())
            .map(|l| l.text.clone());
        (main, list)
    };
    let mut modules = Vec::new();
    let mut course: Option<CourseActivity> = None;
    let mut course_typed = false;
    let mut ids = std::collections::HashSet::new();
    for a in children(acts, ns, "activity") {
        let Some(id) = a.attribute("id").map(str::trim) else {
            return Err(err(a, "activity without id".into()));
        };
        if IriStr::new(id).is_err() {
            return Err(err(a, format!("activity id {id:?} is not an IRI")));
        }
        let ty = a.attribute("type").map(str::trim).unwrap_or("");
        let (name, name_langs) = langs(a, "name");
        let (desc, desc_langs) = langs(a, "description");
        let Some(launch) = child(a, ns, "launch").and_then(text) else {
            if ty == COURSE_TYPE && !course_typed {
                course_typed = true;
                course = Some((id.to_owned(), name.unwrap_or_else(|| id.to_owned()), desc, name_langs, desc_langs));
            }
            continue;
        };
        if !ids.insert(id.to_owned()) {
            return Err(err(a, format!("activity id {id:?} is used more than once")));
        }
        let absolute = url::is_absolute(&launch);
        let launch_url = if absolute {
            launch
        } else {
            url::normalize_url(launch.trim_start_matches('/'))
                .filter(|u| !url::path_part(u).is_empty())
                .ok_or_else(|| err(a, format!("launch {launch:?} points outside the package")))?
        };
        let title = name.clone().unwrap_or_else(|| id.to_owned());
        if course.is_none() || (ty == COURSE_TYPE && !course_typed) {
            course_typed = ty == COURSE_TYPE;
            course = Some((id.to_owned(), title.clone(), desc.clone(), name_langs.clone(), desc_langs.clone()));
        }
        let mut m = blank_module(id, &title);
        m.title_langs = name_langs;
        m.description = desc;
        m.description_langs = desc_langs;
        m.launch_url = launch_url;
        m.launch_is_absolute = absolute;
        m.activity_type = (!ty.is_empty()).then(|| ty.to_owned());
        modules.push(Node::Module(m));
    }
    if modules.is_empty() {
        return Err(err(acts, "no activity has a <launch> file".into()));
    }
    let Some((id, title, description, title_langs, description_langs)) = course else {
        return Err(err(acts, "no course activity".into()));
    };
    Ok(Parsed {
        course: Course {
            id: Some(id),
            package_identifier: None,
            title,
            title_langs,
            description,
            description_langs,
            format: Format::TinCan,
            schema_version: None,
            organization_id: None,
            root: modules,
            other_organizations: Vec::new(),
            objectives: Vec::new(),
            metadata_files: Vec::new(),
            warnings,
            organization_rules: None,
            objectives_global_to_system: None,
        },
        listed_files: Vec::new(),
        manifest: file.to_owned(),
    })
}
