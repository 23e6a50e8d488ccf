//! cmi5 course structure (`cmi5.xml`, cmi5 spec section 13).

use std::collections::HashSet;

use iri_string::types::IriStr;
use roxmltree::{Document, Node as XNode};

use super::error::PackageError;
use super::model::*;
use super::scorm::blank_module;
use super::url;
use super::xml::{self, child, children, loc, text};
use super::{Limits, Parsed};

pub const CMI5_NS: &str = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd";

/// Query parameters the LMS adds at launch; an AU URL that already uses one
/// could not be launched unambiguously (cmi5 §8.1).
const RESERVED_PARAMS: [&str; 5] = ["endpoint", "fetch", "actor", "registration", "activityId"];

/// One step of an XSD sequence: element names allowed there, min and max occurrences.
type Slot = (&'static [&'static str], usize, usize);
const MANY: usize = usize::MAX;
const LANG_TEXT: &[Slot] = &[(&["langstring"], 1, MANY)];
const ROOT_SEQ: &[Slot] = &[(&["course"], 1, 1), (&["objectives"], 0, 1), (&["au", "block"], 1, MANY)];
const COURSE_SEQ: &[Slot] = &[(&["title"], 1, 1), (&["description"], 1, 1), (&["customExtensions"], 0, 1)];
const OBJECTIVE_SEQ: &[Slot] = &[(&["title"], 1, 1), (&["description"], 1, 1)];
const BLOCK_SEQ: &[Slot] =
    &[(&["title"], 1, 1), (&["description"], 1, 1), (&["objectives"], 0, 1), (&["au", "block"], 1, MANY)];
const AU_SEQ: &[Slot] = &[
    (&["title"], 1, 1),
    (&["description"], 1, 1),
    (&["objectives"], 0, 1),
    (&["url"], 1, 1),
    (&["launchParameters"], 0, 1),
    (&["entitlementKey"], 0, 1),
];

struct Ctx<'a, 'i> {
    file: &'a str,
    doc: &'a Document<'i>,
    ns: &'a str,
    in_zip: bool,
    ids: HashSet<String>,
    objective_ids: HashSet<String>,
    warnings: Vec<String>,
    au_count: usize,
}

/// Parses a course structure. `in_zip` is false for a bare `cmi5.xml`, where
/// relative AU URLs have nothing to resolve against and are refused.
pub fn parse(file: &str, text_in: &str, limits: &Limits, in_zip: bool) -> Result<Parsed, PackageError> {
    let doc = xml::parse(file, text_in, limits)?;
    let root = doc.root_element();
    if root.tag_name().name() != "courseStructure" {
        return Err(PackageError::manifest(
            loc(file, &doc, root),
            format!("root element is <{}>, expected <courseStructure>", root.tag_name().name()),
        ));
    }
    let ns = root.tag_name().namespace().unwrap_or("");
    let mut warnings = Vec::new();
    if ns != CMI5_NS {
        warnings
            .push(format!("{file}: <courseStructure> is in namespace {ns:?}, not the cmi5 namespace; read it anyway"));
    }
    let mut ctx =
        Ctx { file, doc: &doc, ns, in_zip, ids: HashSet::new(), objective_ids: HashSet::new(), warnings, au_count: 0 };
    ctx.check_sequence(root, ROOT_SEQ)?;
    let Some(course_el) = child(root, ns, "course") else {
        return Err(ctx.err(root, "missing <course> element"));
    };
    ctx.check_sequence(course_el, COURSE_SEQ)?;
    let course_id = ctx.iri_id(course_el, "course")?;
    let (title, title_langs) = ctx.langs(course_el, "title")?;
    let (description, description_langs) = ctx.langs(course_el, "description")?;
    let title = title.unwrap_or_else(|| {
        ctx.warnings.push(format!("{file}: the course has no title; its id is shown instead"));
        course_id.clone()
    });

    let mut objectives = Vec::new();
    if let Some(objs) = child(root, ns, "objectives") {
        ctx.check_sequence(objs, &[(&["objective"], 1, MANY)])?;
        for o in children(objs, ns, "objective") {
            ctx.check_sequence(o, OBJECTIVE_SEQ)?;
            let id = ctx.iri_id(o, "objective")?;
            let (t, _) = ctx.langs(o, "title")?;
            let (d, _) = ctx.langs(o, "description")?;
            ctx.objective_ids.insert(id.clone());
            objectives.push(CourseObjective { title: t.unwrap_or_else(|| id.clone()), id, description: d });
        }
    }
    let tree = ctx.members(root)?;
    if ctx.au_count == 0 {
        return Err(ctx.err(root, "the course structure has no <au>"));
    }
    let course = Course {
        id: Some(course_id),
        package_identifier: None,
        title,
        title_langs,
        description,
        description_langs,
        format: Format::Cmi5,
        schema_version: None,
        organization_id: None,
        root: tree,
        other_organizations: Vec::new(),
        objectives,
        metadata_files: Vec::new(),
        warnings: std::mem::take(&mut ctx.warnings),
        organization_rules: None,
        objectives_global_to_system: None,
    };
    Ok(Parsed { course, listed_files: Vec::new(), manifest: file.to_owned() })
}

impl<'a, 'i> Ctx<'a, 'i> {
    fn err(&self, node: XNode<'_, '_>, msg: impl Into<String>) -> PackageError {
        PackageError::manifest(loc(self.file, self.doc, node), msg)
    }

    /// The `id` attribute: required, an absolute IRI, unique in the course.
    fn iri_id(&mut self, node: XNode<'_, '_>, what: &str) -> Result<String, PackageError> {
        let Some(raw) = node.attribute("id") else {
            return Err(self.err(node, format!("{what} has no id")));
        };
        let id = raw.trim();
        if IriStr::new(id).is_err() {
            return Err(self.err(node, format!("{what} id {id:?} is not an IRI")));
        }
        if !self.ids.insert(id.to_owned()) {
            return Err(self.err(node, format!("id {id:?} is used more than once")));
        }
        Ok(id.to_owned())
    }

    /// Checks element order and counts against the course structure XSD
    /// (spec 13.2.0.0-1 requires refusing invalid structures). Elements in
    /// other namespaces are extensions the XSD allows, so they are skipped.
    fn check_sequence(&self, node: XNode<'_, '_>, slots: &[Slot]) -> Result<(), PackageError> {
        let parent = node.tag_name().name();
        let names = |s: &Slot| s.0.join("> or <");
        let mut si = 0;
        let mut count = 0;
        for c in node.children().filter(|n| n.is_element() && n.tag_name().namespace().unwrap_or("") == self.ns) {
            let name = c.tag_name().name();
            loop {
                let Some(slot) = slots.get(si) else {
                    return Err(self.err(c, format!("unexpected <{name}> in <{parent}>")));
                };
                if slot.0.contains(&name) && count < slot.2 {
                    count += 1;
                    break;
                }
                if count < slot.1 {
                    return Err(
                        self.err(c, format!("<{name}> found where <{}> is expected in <{parent}>", names(slot)))
                    );
                }
                si += 1;
                count = 0;
            }
        }
        for slot in slots.iter().skip(si) {
            if count < slot.1 {
                return Err(self.err(node, format!("<{parent}> lacks <{}>", names(slot))));
            }
            count = 0;
        }
        Ok(())
    }

    /// Language strings of a `title`/`description` child; the English (or
    /// first) one becomes the plain text.
    fn langs(&self, node: XNode<'_, '_>, name: &str) -> Result<(Option<String>, Vec<LangString>), PackageError> {
        let Some(el) = child(node, self.ns, name) else {
            return Ok((None, Vec::new()));
        };
        self.check_sequence(el, LANG_TEXT)?;
        let list: Vec<LangString> = children(el, self.ns, "langstring")
            .filter_map(|ls| {
                Some(LangString { lang: ls.attribute("lang").unwrap_or("und").trim().to_owned(), text: text(ls)? })
            })
            .collect();
        let main = list
            .iter()
            .find(|l| l.lang.to_ascii_lowercase().starts_with("en"))
            .or_else(|| list.first())
            .map(|l| l.text.clone())
            .or_else(|| text(el));
        Ok((main, list))
    }

    fn objective_refs(&self, node: XNode<'_, '_>) -> Result<Vec<String>, PackageError> {
        let mut out = Vec::new();
        if let Some(objs) = child(node, self.ns, "objectives") {
            for o in children(objs, self.ns, "objective") {
                let Some(r) = o.attribute("idref").map(str::trim) else {
                    return Err(self.err(o, "objective reference without idref"));
                };
                if !self.objective_ids.contains(r) {
                    return Err(self.err(o, format!("objective {r:?} is not declared in the course's <objectives>")));
                }
                out.push(r.to_owned());
            }
        }
        Ok(out)
    }

    /// Blocks and AUs under `parent`, in document order.
    fn members(&mut self, parent: XNode<'a, 'i>) -> Result<Vec<Node>, PackageError> {
        let mut out = Vec::new();
        let ns = self.ns;
        for n in parent.children().filter(|n| n.is_element() && n.tag_name().namespace().unwrap_or("") == ns) {
            match n.tag_name().name() {
                "au" => out.push(Node::Module(self.au(n)?)),
                "block" => out.push(Node::Block(self.block(n)?)),
                _ => {}
            }
        }
        Ok(out)
    }

    fn block(&mut self, b: XNode<'a, 'i>) -> Result<Block, PackageError> {
        self.check_sequence(b, BLOCK_SEQ)?;
        let id = self.iri_id(b, "block")?;
        let (title, title_langs) = self.langs(b, "title")?;
        let (description, description_langs) = self.langs(b, "description")?;
        let rules = CompletionRules { objective_refs: self.objective_refs(b)?, ..CompletionRules::default() };
        let children_nodes = self.members(b)?;
        if children_nodes.is_empty() {
            self.warnings.push(format!("{}: block {id:?} contains no AU or block", self.file));
        }
        Ok(Block {
            title: title.unwrap_or_else(|| id.clone()),
            id,
            title_langs,
            description,
            description_langs,
            visible: true,
            rules,
            children: children_nodes,
        })
    }

    fn au(&mut self, a: XNode<'a, 'i>) -> Result<Module, PackageError> {
        self.check_sequence(a, AU_SEQ)?;
        let id = self.iri_id(a, "AU")?;
        self.au_count += 1;
        let (title, title_langs) = self.langs(a, "title")?;
        let (description, description_langs) = self.langs(a, "description")?;
        let move_on = match a.attribute("moveOn").map(str::trim) {
            None => MoveOn::NotApplicable,
            Some("Passed") => MoveOn::Passed,
            Some("Completed") => MoveOn::Completed,
            Some("CompletedAndPassed") => MoveOn::CompletedAndPassed,
            Some("CompletedOrPassed") => MoveOn::CompletedOrPassed,
            Some("NotApplicable") => MoveOn::NotApplicable,
            Some(v) => return Err(self.err(a, format!("AU {id:?} has unknown moveOn {v:?}"))),
        };
        let mastery = match a.attribute("masteryScore") {
            None => None,
            Some(v) => match xml::parse_f64(v) {
                Some(f) if (0.0..=1.0).contains(&f) => Some(MasteryScore::Scaled(f)),
                _ => return Err(self.err(a, format!("AU {id:?} masteryScore {v:?} is not a decimal from 0 to 1"))),
            },
        };
        let launch_method = match a.attribute("launchMethod").map(str::trim) {
            None | Some("AnyWindow") => LaunchMethod::AnyWindow,
            Some("OwnWindow") => LaunchMethod::OwnWindow,
            Some(v) => return Err(self.err(a, format!("AU {id:?} has unknown launchMethod {v:?}"))),
        };
        let Some(url_el) = child(a, self.ns, "url") else {
            return Err(self.err(a, format!("AU {id:?} has no <url>")));
        };
        // URLs are often CDATA with surrounding newlines.
        let Some(raw_url) = text(url_el) else {
            return Err(self.err(url_el, format!("AU {id:?} has an empty <url>")));
        };
        for key in url::query_keys(&raw_url) {
            if RESERVED_PARAMS.contains(&key.as_str()) {
                return Err(self.err(
                    url_el,
                    format!("AU {id:?} URL already uses the launch parameter {key:?}, which the LMS must add"),
                ));
            }
        }
        let absolute = url::is_absolute(&raw_url);
        let launch_url = if absolute {
            if IriStr::new(&raw_url).is_err() {
                return Err(self.err(url_el, format!("AU {id:?} URL {raw_url:?} is not a valid URL")));
            }
            raw_url
        } else {
            if !self.in_zip {
                return Err(self.err(
                    url_el,
                    format!(
                        "AU {id:?} URL {raw_url:?} is relative: a course structure imported without its package \
                         must give absolute AU URLs (cmi5 §14), there being no files to resolve it against"
                    ),
                ));
            }
            url::normalize_url(raw_url.trim_start_matches('/'))
                .filter(|u| !url::path_part(u).is_empty())
                .ok_or_else(|| self.err(url_el, format!("AU {id:?} URL {raw_url:?} points outside the package")))?
        };
        let mut m = blank_module(&id, title.as_deref().unwrap_or(&id));
        m.title_langs = title_langs;
        m.description = description;
        m.description_langs = description_langs;
        m.launch_url = launch_url;
        m.launch_is_absolute = absolute;
        m.launch_method = Some(launch_method);
        m.launch_data = child(a, self.ns, "launchParameters").and_then(text);
        m.entitlement_key = child(a, self.ns, "entitlementKey").and_then(text);
        m.activity_type = a.attribute("activityType").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        m.rules = CompletionRules {
            mastery_score: mastery,
            move_on: Some(move_on),
            objective_refs: self.objective_refs(a)?,
            ..CompletionRules::default()
        };
        Ok(m)
    }
}
