//! SCORM 1.2 and SCORM 2004 (2nd–4th edition) `imsmanifest.xml`.
//!
//! Elements are matched by namespace URI, never by prefix, because authoring
//! tools bind whatever prefixes they like. Real manifests are sloppy, so the
//! parser tolerates what LMSs tolerate and refuses only what cannot be launched.

use std::collections::{HashMap, HashSet};

use roxmltree::{Document, Node as XNode};

use super::error::PackageError;
use super::model::*;
use super::url;
use super::xml::{self, attr_any, child, child_any, children, loc, text};
use super::{Limits, Parsed};

pub const CP12: &str = "http://www.imsproject.org/xsd/imscp_rootv1p1p2";
pub const CP2004: &str = "http://www.imsglobal.org/xsd/imscp_v1p1";
pub const ADLCP12: &str = "http://www.adlnet.org/xsd/adlcp_rootv1p2";
pub const ADLCP13: &str = "http://www.adlnet.org/xsd/adlcp_v1p3";
pub const IMSSS: &str = "http://www.imsglobal.org/xsd/imsss";
pub const ADLSEQ: &str = "http://www.adlnet.org/xsd/adlseq_v1p3";
pub const ADLNAV: &str = "http://www.adlnet.org/xsd/adlnav_v1p3";
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// Either ADL content-packaging namespace: tools mix them up, the meaning is the same.
const ADLCP: [&str; 2] = [ADLCP12, ADLCP13];

/// A resource with its `xml:base` chain already applied.
struct Resource<'a, 'i> {
    node: XNode<'a, 'i>,
    /// Launch URL before parameters; `None` when the resource has no `href`.
    href: Option<String>,
    scorm_type: ScormType,
}

struct Ctx<'a, 'i> {
    file: &'a str,
    doc: &'a Document<'i>,
    cp: &'a str,
    is2004: bool,
    warnings: Vec<String>,
    /// Keyed by identifier, whitespace collapsed (`xml::id_attr`), as are the references looked up.
    resources: HashMap<String, Resource<'a, 'i>>,
    submanifests: HashMap<String, XNode<'a, 'i>>,
    collection: HashMap<String, XNode<'a, 'i>>,
    item_ids: HashSet<String>,
    listed: Vec<String>,
}

/// Parses `imsmanifest.xml` text. `file` is its name, for messages.
pub fn parse(file: &str, text_in: &str, limits: &Limits) -> Result<Parsed, PackageError> {
    let doc = xml::parse(file, text_in, limits)?;
    let root = doc.root_element();
    if root.tag_name().name() != "manifest" {
        return Err(PackageError::manifest(
            loc(file, &doc, root),
            format!("root element is <{}>, expected <manifest>", root.tag_name().name()),
        ));
    }
    let cp = root.tag_name().namespace().unwrap_or("");
    let mut warnings = Vec::new();
    if cp != CP12 && cp != CP2004 {
        warnings.push(format!(
            "{file}: <manifest> is in namespace {cp:?}, not an IMS content packaging namespace; read it anyway"
        ));
    }

    let schema_version = child(root, cp, "metadata").and_then(|m| child(m, cp, "schemaversion")).and_then(text);
    let format = detect_format(&doc, cp, schema_version.as_deref(), file, &mut warnings);
    let is2004 = matches!(format, Format::Scorm2004 { .. });

    let mut ctx = Ctx {
        file,
        doc: &doc,
        cp,
        is2004,
        warnings,
        resources: HashMap::new(),
        submanifests: HashMap::new(),
        collection: HashMap::new(),
        item_ids: HashSet::new(),
        listed: Vec::new(),
    };
    ctx.collect_manifest(root, &[])?;
    if let Some(coll) = child(root, IMSSS, "sequencingCollection") {
        for s in children(coll, IMSSS, "sequencing") {
            if let Some(id) = xml::id_attr(s, "ID") {
                ctx.collection.insert(id, s);
            }
        }
    }
    let metadata_files = ctx.collect_locations(root);

    let (org_id, org_title, tree, others) = ctx.organizations(root)?;
    if tree.is_empty() {
        return Err(PackageError::manifest(
            loc(file, &doc, root),
            "the manifest has no launchable item and no SCO resource",
        ));
    }
    let title = org_title
        .filter(|t| !t.is_empty())
        .or_else(|| manifest_title(root, cp))
        .or_else(|| org_id.clone())
        .unwrap_or_else(|| "Untitled course".to_owned());
    let (organization_rules, objectives_global_to_system) = ctx.organization_rules(root, org_id.as_deref())?;
    let course = Course {
        id: None,
        package_identifier: root.attribute("identifier").map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned),
        title,
        title_langs: Vec::new(),
        description: None,
        description_langs: Vec::new(),
        format,
        schema_version,
        organization_id: org_id,
        root: tree,
        other_organizations: others,
        objectives: Vec::new(),
        metadata_files,
        warnings: std::mem::take(&mut ctx.warnings),
        organization_rules,
        objectives_global_to_system,
    };
    Ok(Parsed { course, listed_files: ctx.listed, manifest: file.to_owned() })
}

/// The LOM title, when a manifest carries inline metadata and no organization title.
fn manifest_title(root: XNode<'_, '_>, cp: &str) -> Option<String> {
    let md = child(root, cp, "metadata")?;
    md.descendants().find(|n| n.is_element() && n.tag_name().name() == "title").and_then(text)
}

fn uses_ns(doc: &Document<'_>, ns: &str) -> bool {
    doc.descendants().any(|n| {
        n.is_element() && (n.tag_name().namespace() == Some(ns) || n.attributes().any(|a| a.namespace() == Some(ns)))
    })
}

/// Family from namespaces; edition from `schemaversion`, inferred (with a
/// warning) when it is missing or unknown.
fn detect_format(doc: &Document<'_>, cp: &str, sv: Option<&str>, file: &str, warnings: &mut Vec<String>) -> Format {
    let sv_l = sv.map(|s| s.trim().to_ascii_lowercase());
    let sv_edition = sv_l.as_deref().and_then(|s| {
        if s.contains("4th") {
            Some(Some(Scorm2004Edition::Fourth))
        } else if s.contains("3rd") {
            Some(Some(Scorm2004Edition::Third))
        } else if s.contains("1.3") || s.contains("2nd") {
            Some(Some(Scorm2004Edition::Second))
        } else if s == "1.2" {
            Some(None)
        } else {
            None
        }
    });
    if let (Some(s), None) = (sv, sv_edition) {
        warnings.push(format!("{file}: unknown schemaversion {s:?}; the SCORM version was inferred from namespaces"));
    }
    let ns2004 = [ADLCP13, IMSSS, ADLSEQ, ADLNAV].iter().any(|ns| uses_ns(doc, ns));
    let ns12 = cp == CP12 || uses_ns(doc, ADLCP12);
    let is2004 = if ns2004 {
        true
    } else if ns12 {
        false
    } else {
        match sv_edition {
            Some(e) => e.is_some(),
            None => cp == CP2004,
        }
    };
    if !is2004 {
        if let Some(Some(_)) = sv_edition {
            warnings.push(format!(
                "{file}: schemaversion says SCORM 2004 but the namespaces are SCORM 1.2; read as SCORM 1.2"
            ));
        }
        if sv.is_none() {
            warnings.push(format!("{file}: no schemaversion; SCORM 1.2 inferred from namespaces"));
        }
        return Format::Scorm12;
    }
    let edition = match sv_edition {
        Some(Some(e)) => e,
        Some(None) => {
            warnings.push(format!(
                "{file}: schemaversion says 1.2 but SCORM 2004 namespaces are used; read as SCORM 2004 3rd Edition"
            ));
            Scorm2004Edition::Third
        }
        None => {
            let fourth = doc.descendants().any(|n| {
                n.is_element()
                    && ((n.tag_name().name() == "completionThreshold"
                        && n.tag_name().namespace() == Some(ADLCP13)
                        && (n.has_attribute("completedByMeasure") || n.has_attribute("minProgressMeasure")))
                        || (n.tag_name().name() == "data" && n.tag_name().namespace() == Some(ADLCP13)))
            });
            let e = if fourth { Scorm2004Edition::Fourth } else { Scorm2004Edition::Third };
            warnings.push(format!("{file}: no schemaversion; SCORM 2004 {e:?} edition inferred from namespaces"));
            e
        }
    };
    Format::Scorm2004 { edition }
}

fn xml_base<'a>(n: XNode<'a, '_>) -> &'a str {
    n.attribute((XML_NS, "base")).unwrap_or("")
}

impl<'a, 'i> Ctx<'a, 'i> {
    fn err(&self, node: XNode<'_, '_>, msg: impl Into<String>) -> PackageError {
        PackageError::manifest(loc(self.file, self.doc, node), msg)
    }

    /// Registers the resources of a manifest and, recursively, its sub-manifests.
    fn collect_manifest(&mut self, manifest: XNode<'a, 'i>, outer: &[&'a str]) -> Result<(), PackageError> {
        let mut bases = outer.to_vec();
        bases.push(xml_base(manifest));
        if let Some(res_list) = child(manifest, self.cp, "resources") {
            let mut rbases = bases.clone();
            rbases.push(xml_base(res_list));
            for r in children(res_list, self.cp, "resource") {
                let Some(id) = xml::id_attr(r, "identifier").filter(|i| !i.is_empty()) else {
                    self.warnings.push(format!("{}: a resource has no identifier and was ignored", self.file));
                    continue;
                };
                let mut own = rbases.clone();
                own.push(xml_base(r));
                let href = match r.attribute("href").map(str::trim).filter(|h| !h.is_empty()) {
                    Some(h) => Some(self.resolve(r, &own, h)?),
                    None => None,
                };
                let scorm_type = match attr_any(r, &ADLCP, "scormtype").map(str::trim) {
                    None => ScormType::Asset,
                    Some(v) if v.eq_ignore_ascii_case("sco") => ScormType::Sco,
                    Some(v) if v.eq_ignore_ascii_case("asset") => ScormType::Asset,
                    Some(v) => {
                        self.warnings
                            .push(format!("{}: resource {id:?} has scormType {v:?}; treated as asset", self.file));
                        ScormType::Asset
                    }
                };
                for f in children(r, self.cp, "file") {
                    if let Some(h) = f.attribute("href") {
                        let joined = url::join_bases(&own, h.trim());
                        if !url::is_absolute(&joined) {
                            if let Some(p) = url::normalize_path(url::path_part(&joined)) {
                                self.listed.push(p);
                            }
                        }
                    }
                }
                for d in children(r, self.cp, "dependency") {
                    if let Some(dep) = xml::id_attr(d, "identifierref") {
                        if !res_list_contains(res_list, self.cp, &dep) {
                            self.warnings.push(format!(
                                "{}: resource {id:?} depends on {dep:?}, which is not in the manifest",
                                self.file
                            ));
                        }
                    }
                }
                if self.resources.contains_key(&id) {
                    self.warnings.push(format!(
                        "{}: resource identifier {id:?} is used twice; the first one is used",
                        self.file
                    ));
                    continue;
                }
                self.resources.insert(id, Resource { node: r, href, scorm_type });
            }
        }
        for sub in children(manifest, self.cp, "manifest") {
            if let Some(id) = xml::id_attr(sub, "identifier") {
                self.submanifests.insert(id, sub);
            }
            self.collect_manifest(sub, &bases)?;
        }
        Ok(())
    }

    /// Applies the base chain to an href and checks it stays in the package.
    fn resolve(&self, node: XNode<'_, '_>, bases: &[&str], href: &str) -> Result<String, PackageError> {
        let joined = url::join_bases(bases, href);
        if url::is_absolute(&joined) {
            return Ok(joined);
        }
        let joined = joined.trim_start_matches('/');
        url::normalize_url(joined).ok_or_else(|| self.err(node, format!("href {joined:?} points outside the package")))
    }

    /// `adlcp:location` metadata files anywhere in the manifest.
    fn collect_locations(&mut self, root: XNode<'a, 'i>) -> Vec<String> {
        let base = xml_base(root);
        let mut out = Vec::new();
        for n in root.descendants().filter(|n| {
            n.is_element()
                && n.tag_name().name() == "location"
                && n.tag_name().namespace().is_some_and(|ns| ADLCP.contains(&ns))
        }) {
            if let Some(t) = text(n) {
                let joined = url::join_bases(&[base], &t);
                match url::normalize_path(&joined) {
                    Some(p) if !url::is_absolute(&joined) => {
                        self.listed.push(p.clone());
                        out.push(p);
                    }
                    _ => self.warnings.push(format!("{}: metadata location {t:?} is outside the package", self.file)),
                }
            }
        }
        out
    }

    /// SCORM 2004: the default organization's own sequencing (the root activity's) and its
    /// `adlseq:objectivesGlobalToSystem`.
    fn organization_rules(
        &mut self,
        manifest: XNode<'a, 'i>,
        org_id: Option<&str>,
    ) -> Result<(Option<CompletionRules>, Option<bool>), PackageError> {
        let org = child(manifest, self.cp, "organizations").and_then(|o| {
            children(o, self.cp, "organization").find(|o| xml::id_attr(*o, "identifier").as_deref() == org_id)
        });
        let Some(org) = org.filter(|_| self.is2004) else {
            return Ok((None, None));
        };
        let global = match org.attribute((ADLSEQ, "objectivesGlobalToSystem")) {
            Some(_) => Some(xml::bool_attr_ns(self.file, self.doc, org, ADLSEQ, "objectivesGlobalToSystem", true)?),
            None => None,
        };
        let rules = if child(org, IMSSS, "sequencing").is_some() { Some(self.rules(org)?) } else { None };
        Ok((rules, global))
    }

    #[allow(clippy::type_complexity)]
    fn organizations(
        &mut self,
        manifest: XNode<'a, 'i>,
    ) -> Result<(Option<String>, Option<String>, Vec<Node>, Vec<Organization>), PackageError> {
        let orgs_el = child(manifest, self.cp, "organizations");
        let orgs: Vec<XNode<'a, 'i>> =
            orgs_el.map(|o| children(o, self.cp, "organization").collect()).unwrap_or_default();
        if orgs.is_empty() {
            return Ok((None, None, self.items_from_resources(manifest), Vec::new()));
        }
        let default = orgs_el.and_then(|o| xml::id_attr(o, "default"));
        let di = match default.as_deref() {
            Some(d) => match orgs.iter().position(|o| xml::id_attr(*o, "identifier").as_deref() == Some(d)) {
                Some(i) => i,
                None => {
                    self.warnings.push(format!(
                        "{}: default organization {d:?} does not exist; the first organization is used",
                        self.file
                    ));
                    0
                }
            },
            None => 0,
        };
        let mut main = None;
        let mut others = Vec::new();
        for (i, o) in orgs.iter().enumerate() {
            let id = xml::id_attr(*o, "identifier").unwrap_or_default();
            let title = child(*o, self.cp, "title").and_then(text);
            let tree = self.items(*o, 0)?;
            if i == di {
                main = Some((id, title, tree));
            } else {
                others.push(Organization { title: title.unwrap_or_else(|| id.clone()), id, root: tree });
            }
        }
        let Some((id, title, tree)) = main else {
            return Err(self.err(manifest, "no organization could be read"));
        };
        Ok((Some(id), title, tree, others))
    }

    /// `<organizations/>` empty: every SCO resource becomes one item, as LMSs do.
    fn items_from_resources(&mut self, manifest: XNode<'a, 'i>) -> Vec<Node> {
        let mut list: Vec<(&str, &Resource<'_, '_>)> =
            self.resources.iter().filter(|(_, r)| r.href.is_some()).map(|(k, v)| (k.as_str(), v)).collect();
        list.sort_by_key(|(_, r)| r.node.range().start);
        // Only resources of the top-level manifest, in document order.
        list.retain(|(_, r)| r.node.ancestors().filter(|a| a.has_tag_name((self.cp, "manifest"))).count() == 1);
        let scos: Vec<_> = list.iter().filter(|(_, r)| r.scorm_type == ScormType::Sco).copied().collect();
        let chosen = if scos.is_empty() { list } else { scos };
        let out: Vec<Node> = chosen
            .into_iter()
            .map(|(id, r)| {
                let mut m = blank_module(id, id);
                m.launch_url = r.href.clone().unwrap_or_default();
                m.launch_is_absolute = url::is_absolute(&m.launch_url);
                m.resource_id = Some(id.to_owned());
                m.scorm_type = Some(r.scorm_type);
                Node::Module(m)
            })
            .collect();
        let _ = manifest;
        if !out.is_empty() {
            self.warnings.push(format!("{}: no organization; one item was made per resource", self.file));
        }
        out
    }

    fn items(&mut self, parent: XNode<'a, 'i>, depth: usize) -> Result<Vec<Node>, PackageError> {
        let mut out = Vec::new();
        for (n, item) in children(parent, self.cp, "item").enumerate() {
            out.push(self.item(item, n, depth)?);
        }
        Ok(out)
    }

    fn unique_id(&mut self, item: XNode<'_, '_>, n: usize) -> String {
        let raw = xml::id_attr(item, "identifier").filter(|i| !i.is_empty()).unwrap_or_else(|| {
            self.warnings.push(format!("{}: an item has no identifier; one was generated", self.file));
            format!("item-{}-{n}", item.range().start)
        });
        if self.item_ids.insert(raw.clone()) {
            return raw;
        }
        let mut k = 2;
        loop {
            let cand = format!("{raw}#{k}");
            if self.item_ids.insert(cand.clone()) {
                self.warnings.push(format!(
                    "{}: item identifier {raw:?} is used more than once; renamed {cand:?} for tracking",
                    self.file
                ));
                return cand;
            }
            k += 1;
        }
    }

    fn item(&mut self, item: XNode<'a, 'i>, n: usize, depth: usize) -> Result<Node, PackageError> {
        let id = self.unique_id(item, n);
        let title = child(item, self.cp, "title").and_then(text).unwrap_or_else(|| id.clone());
        let visible = xml::bool_attr(self.file, self.doc, item, "isvisible", true)?;
        let rules = self.rules(item)?;
        let has_children = child(item, self.cp, "item").is_some();
        let idref = xml::id_attr(item, "identifierref").filter(|s| !s.is_empty());
        let idref = idref.as_deref();
        let block = |id: String, title: String, rules: CompletionRules, children: Vec<Node>| {
            Node::Block(Block {
                id,
                title,
                title_langs: Vec::new(),
                description: None,
                description_langs: Vec::new(),
                visible,
                rules,
                children,
            })
        };

        if has_children || idref.is_none() {
            let mut children_nodes = self.items(item, depth + 1)?;
            let mut rules = rules;
            if let Some(r) = idref {
                if let Some(sub) = self.submanifests.get(r).copied() {
                    children_nodes.extend(self.submanifest_items(sub, depth)?);
                } else if !self.is2004 && self.resources.get(r).is_some_and(|res| res.href.is_some()) {
                    // SCORM 1.2 LMSs (Moodle among them) launch such a parent, and eXe Learning
                    // exports them: its resource stays launchable, as the block's first module, which
                    // carries the item's own rules. SCORM 2004 forbids a resource on a cluster.
                    let own = self.module(item, &id, &title, visible, std::mem::take(&mut rules), r)?;
                    children_nodes.insert(0, Node::Module(own));
                } else {
                    self.warnings.push(format!(
                        "{}: item {id:?} has child items and a resource; the resource is ignored",
                        self.file
                    ));
                }
            } else if !has_children {
                self.warnings.push(format!("{}: item {id:?} has no resource and no children", self.file));
            }
            return Ok(block(id, title, rules, children_nodes));
        }
        let Some(r) = idref else {
            return Err(self.err(item, "item without resource"));
        };
        if let Some(sub) = self.submanifests.get(r).copied() {
            let kids = self.submanifest_items(sub, depth)?;
            return Ok(block(id, title, rules, kids));
        }
        Ok(Node::Module(self.module(item, &id, &title, visible, rules, r)?))
    }

    /// The launchable module of an item that names resource `r`.
    fn module(
        &self,
        item: XNode<'a, 'i>,
        id: &str,
        title: &str,
        visible: bool,
        rules: CompletionRules,
        r: &str,
    ) -> Result<Module, PackageError> {
        let Some(res) = self.resources.get(r) else {
            return Err(self.err(item, format!("item {id:?} refers to resource {r:?}, which is not in the manifest")));
        };
        let Some(href) = res.href.clone() else {
            return Err(self.err(res.node, format!("resource {r:?} has no href, so item {id:?} cannot be launched")));
        };
        let scorm_type = res.scorm_type;
        let launch_url = match item.attribute("parameters") {
            Some(p) => url::apply_parameters(&href, p),
            None => href,
        };
        let mut m = blank_module(id, title);
        m.launch_is_absolute = url::is_absolute(&launch_url);
        m.launch_url = launch_url;
        m.resource_id = Some(r.to_owned());
        m.scorm_type = Some(scorm_type);
        m.visible = visible;
        m.rules = rules;
        m.launch_data = child_any(item, &ADLCP, "datafromlms").and_then(text);
        m.prerequisites = child_any(item, &ADLCP, "prerequisites").and_then(text);
        Ok(m)
    }

    /// Items of a referenced sub-manifest's default organization.
    fn submanifest_items(&mut self, sub: XNode<'a, 'i>, depth: usize) -> Result<Vec<Node>, PackageError> {
        if depth > 32 {
            return Err(self.err(sub, "sub-manifest references nest too deeply"));
        }
        let (_, _, tree, _) = self.organizations(sub)?;
        Ok(tree)
    }

    /// Tracking rules of an item: SCORM 1.2 adlcp elements or SCORM 2004 sequencing.
    fn rules(&mut self, item: XNode<'a, 'i>) -> Result<CompletionRules, PackageError> {
        let mut r = CompletionRules::default();
        if let Some(ms) = child_any(item, &ADLCP, "masteryscore") {
            match text(ms).as_deref().map(xml::parse_f64) {
                Some(Some(v)) if (0.0..=100.0).contains(&v) => r.mastery_score = Some(MasteryScore::Raw(v)),
                Some(_) => self.warnings.push(format!(
                    "{}: masteryscore {:?} is not a number from 0 to 100 and was ignored",
                    self.file,
                    text(ms).unwrap_or_default()
                )),
                None => {}
            }
        }
        r.max_time_allowed = child_any(item, &ADLCP, "maxtimeallowed").and_then(text);
        r.time_limit_action = child_any(item, &ADLCP, "timelimitaction").and_then(text);
        if let Some(ct) = child(item, ADLCP13, "completionThreshold") {
            r.completion_threshold = Some(self.completion_threshold(ct)?);
        }
        if self.is2004 {
            r.hide_lms_ui = super::imsss::hide_lms_ui(item);
            if let Some(seq) = child(item, IMSSS, "sequencing") {
                if let Some(idref) = xml::id_attr(seq, "IDRef") {
                    match self.collection.get(&idref).copied() {
                        Some(shared) => self.apply_sequencing(shared, &mut r)?,
                        None => self.warnings.push(format!(
                            "{}: sequencing IDRef {idref:?} is not in the sequencingCollection",
                            self.file
                        )),
                    }
                    r.sequencing_ref = Some(idref);
                }
                self.apply_sequencing(seq, &mut r)?;
            }
        }
        Ok(r)
    }

    fn completion_threshold(&self, ct: XNode<'_, '_>) -> Result<CompletionThreshold, PackageError> {
        let f = self.file;
        let d = self.doc;
        // 3rd edition: the value is the element text and the LMS compares progress against it.
        if let Some(t) = text(ct) {
            let v = xml::parse_f64(&t)
                .filter(|v| (0.0..=1.0).contains(v))
                .ok_or_else(|| self.err(ct, format!("completionThreshold {t:?} is not a number from 0 to 1")))?;
            return Ok(CompletionThreshold {
                completed_by_measure: true,
                min_progress_measure: v,
                progress_weight: 1.0,
            });
        }
        Ok(CompletionThreshold {
            completed_by_measure: xml::bool_attr(f, d, ct, "completedByMeasure", false)?,
            min_progress_measure: xml::f64_attr(f, d, ct, "minProgressMeasure", 1.0)?,
            progress_weight: xml::f64_attr(f, d, ct, "progressWeight", 1.0)?,
        })
    }

    /// Overlays what an `imsss:sequencing` element defines onto `r`
    /// (a shared collection entry first, then the item's own element).
    fn apply_sequencing(&mut self, seq: XNode<'_, '_>, r: &mut CompletionRules) -> Result<(), PackageError> {
        let (f, d) = (self.file, self.doc);
        super::imsss::apply(f, d, seq, r)?;
        if let Some(cm) = child(seq, IMSSS, "controlMode") {
            r.control_mode = Some(ControlMode {
                choice: xml::bool_attr(f, d, cm, "choice", true)?,
                choice_exit: xml::bool_attr(f, d, cm, "choiceExit", true)?,
                flow: xml::bool_attr(f, d, cm, "flow", false)?,
                forward_only: xml::bool_attr(f, d, cm, "forwardOnly", false)?,
                use_current_attempt_objective_info: xml::bool_attr(f, d, cm, "useCurrentAttemptObjectiveInfo", true)?,
                use_current_attempt_progress_info: xml::bool_attr(f, d, cm, "useCurrentAttemptProgressInfo", true)?,
            });
        }
        if let Some(lc) = child(seq, IMSSS, "limitConditions") {
            if let Some(a) = lc.attribute("attemptLimit") {
                r.attempt_limit =
                    Some(a.trim().parse().map_err(|_| self.err(lc, format!("attemptLimit {a:?} is not a count")))?);
            }
            if let Some(a) = lc.attribute("attemptAbsoluteDurationLimit") {
                r.max_time_allowed = Some(a.trim().to_owned());
            }
        }
        if let Some(rr) = child(seq, IMSSS, "rollupRules") {
            let mut rules = Vec::new();
            for rule in children(rr, IMSSS, "rollupRule") {
                let conds = child(rule, IMSSS, "rollupConditions");
                let conditions = conds
                    .map(|c| {
                        children(c, IMSSS, "rollupCondition")
                            .filter_map(|rc| {
                                Some(RollupCondition {
                                    condition: rc.attribute("condition")?.trim().to_owned(),
                                    negated: rc.attribute("operator").map(str::trim) == Some("not"),
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let Some(action) = child(rule, IMSSS, "rollupAction").and_then(|a| a.attribute("action")) else {
                    return Err(self.err(rule, "rollupRule without a rollupAction"));
                };
                rules.push(RollupRule {
                    child_activity_set: rule.attribute("childActivitySet").unwrap_or("all").trim().to_owned(),
                    minimum_count: match rule.attribute("minimumCount") {
                        Some(v) => v
                            .trim()
                            .parse()
                            .map_err(|_| self.err(rule, format!("minimumCount {v:?} is not a count")))?,
                        None => 0,
                    },
                    minimum_percent: xml::f64_attr(f, d, rule, "minimumPercent", 0.0)?,
                    condition_combination: conds
                        .and_then(|c| c.attribute("conditionCombination"))
                        .unwrap_or("any")
                        .trim()
                        .to_owned(),
                    conditions,
                    action: action.trim().to_owned(),
                });
            }
            r.rollup = Some(Rollup {
                rollup_objective_satisfied: xml::bool_attr(f, d, rr, "rollupObjectiveSatisfied", true)?,
                rollup_progress_completion: xml::bool_attr(f, d, rr, "rollupProgressCompletion", true)?,
                objective_measure_weight: xml::f64_attr(f, d, rr, "objectiveMeasureWeight", 1.0)?,
                rules,
            });
        }
        if let Some(objs) = child(seq, IMSSS, "objectives") {
            let mut list = Vec::new();
            for o in objs.children().filter(|n| n.is_element() && n.tag_name().namespace() == Some(IMSSS)) {
                let primary = match o.tag_name().name() {
                    "primaryObjective" => true,
                    "objective" => false,
                    _ => continue,
                };
                let id = xml::id_attr(o, "objectiveID");
                if !primary && id.is_none() {
                    return Err(self.err(o, "objective without objectiveID"));
                }
                let mnm = match child(o, IMSSS, "minNormalizedMeasure").and_then(text) {
                    Some(t) => xml::parse_f64(&t).filter(|v| (-1.0..=1.0).contains(v)).ok_or_else(|| {
                        self.err(o, format!("minNormalizedMeasure {t:?} is not a number from -1 to 1"))
                    })?,
                    None => 1.0,
                };
                let mut maps = Vec::new();
                for mi in children(o, IMSSS, "mapInfo") {
                    let Some(target) = xml::id_attr(mi, "targetObjectiveID") else {
                        return Err(self.err(mi, "mapInfo without targetObjectiveID"));
                    };
                    maps.push(ObjectiveMap {
                        target_objective_id: target,
                        read_satisfied_status: xml::bool_attr(f, d, mi, "readSatisfiedStatus", true)?,
                        read_normalized_measure: xml::bool_attr(f, d, mi, "readNormalizedMeasure", true)?,
                        write_satisfied_status: xml::bool_attr(f, d, mi, "writeSatisfiedStatus", false)?,
                        write_normalized_measure: xml::bool_attr(f, d, mi, "writeNormalizedMeasure", false)?,
                    });
                }
                list.push(Objective {
                    id,
                    primary,
                    satisfied_by_measure: xml::bool_attr(f, d, o, "satisfiedByMeasure", false)?,
                    min_normalized_measure: mnm,
                    maps,
                });
            }
            r.objectives = list;
        }
        if let Some(dc) = child(seq, IMSSS, "deliveryControls") {
            r.delivery_controls = Some(DeliveryControls {
                tracked: xml::bool_attr(f, d, dc, "tracked", true)?,
                completion_set_by_content: xml::bool_attr(f, d, dc, "completionSetByContent", false)?,
                objective_set_by_content: xml::bool_attr(f, d, dc, "objectiveSetByContent", false)?,
            });
        }
        if let Some(rc) = child(seq, ADLSEQ, "rollupConsiderations") {
            let s = |n: &str| rc.attribute(n).unwrap_or("always").trim().to_owned();
            r.rollup_considerations = Some(RollupConsiderations {
                required_for_satisfied: s("requiredForSatisfied"),
                required_for_not_satisfied: s("requiredForNotSatisfied"),
                required_for_completed: s("requiredForCompleted"),
                required_for_incomplete: s("requiredForIncomplete"),
                measure_satisfaction_if_active: xml::bool_attr(f, d, rc, "measureSatisfactionIfActive", true)?,
            });
        }
        Ok(())
    }
}

fn res_list_contains(res_list: XNode<'_, '_>, cp: &str, id: &str) -> bool {
    children(res_list, cp, "resource").any(|r| xml::id_attr(r, "identifier").as_deref() == Some(id))
}

/// A module with every optional field empty.
pub(crate) fn blank_module(id: &str, title: &str) -> Module {
    Module {
        id: id.to_owned(),
        title: title.to_owned(),
        title_langs: Vec::new(),
        description: None,
        description_langs: Vec::new(),
        launch_url: String::new(),
        launch_is_absolute: false,
        resource_id: None,
        scorm_type: None,
        visible: true,
        launch_data: None,
        web_launch: None,
        launch_method: None,
        entitlement_key: None,
        activity_type: None,
        prerequisites: None,
        rules: CompletionRules::default(),
    }
}
