//! AICC course files: `.crs` (INI-like course description), `.au` (CSV of
//! assignable units), `.des` (CSV of titles) and `.cst` (CSV course structure).
//!
//! Column names and section names are matched ignoring case and order, as the
//! AICC CMI001 guidelines allow; system ids are case-insensitive too.

use std::collections::{HashMap, HashSet};

use super::error::{Location, PackageError};
use super::model::*;
use super::scorm::blank_module;
use super::url;
use super::Parsed;

/// The AICC files of one course: `(file name, text)`.
#[derive(Debug, Default, Clone)]
pub struct AiccFiles {
    pub crs: (String, String),
    pub au: Option<(String, String)>,
    pub des: Option<(String, String)>,
    pub cst: Option<(String, String)>,
}

/// A parsed CSV row with its 1-based line number.
struct Row {
    line: u32,
    fields: Vec<String>,
}

/// Minimal RFC 4180 reader: quoted fields, doubled quotes, CR/LF line ends.
fn csv(text: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line: u32 = 1;
    let mut row_line = 1;
    let mut chars = text.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' => {
                in_quotes = true;
                any = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field).trim().to_owned());
                any = true;
            }
            '\r' => {}
            '\n' => {
                if any || !field.trim().is_empty() {
                    fields.push(std::mem::take(&mut field).trim().to_owned());
                    rows.push(Row { line: row_line, fields: std::mem::take(&mut fields) });
                }
                field.clear();
                any = false;
                line += 1;
                row_line = line;
            }
            _ => field.push(c),
        }
    }
    if any || !field.trim().is_empty() {
        fields.push(field.trim().to_owned());
        rows.push(Row { line: row_line, fields });
    }
    rows
}

/// A CSV table keyed by lower-cased header names.
struct Table {
    file: String,
    cols: HashMap<String, usize>,
    rows: Vec<Row>,
}

impl Table {
    fn new(file: &str, text: &str) -> Result<Table, PackageError> {
        let mut rows = csv(text);
        if rows.is_empty() {
            return Err(PackageError::manifest(Location::file(file), "the file is empty"));
        }
        let header = rows.remove(0);
        let cols = header.fields.iter().enumerate().map(|(i, h)| (h.trim().to_ascii_lowercase(), i)).collect();
        Ok(Table { file: file.to_owned(), cols, rows })
    }

    fn get<'r>(&self, row: &'r Row, col: &str) -> Option<&'r str> {
        let i = *self.cols.get(col)?;
        row.fields.get(i).map(String::as_str).filter(|s| !s.is_empty())
    }

    fn require_col(&self, col: &str) -> Result<(), PackageError> {
        if self.cols.contains_key(col) {
            Ok(())
        } else {
            Err(PackageError::manifest(Location::at(&self.file, 1, 1), format!("the header has no {col:?} column")))
        }
    }
}

/// `[Section]` → (key → value), plus raw lines for free-text sections.
fn ini(text: &str) -> HashMap<String, (HashMap<String, String>, Vec<String>)> {
    let mut out: HashMap<String, (HashMap<String, String>, Vec<String>)> = HashMap::new();
    let mut current = String::new();
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') && t.len() >= 2 {
            current = t[1..t.len() - 1].trim().to_ascii_lowercase();
            out.entry(current.clone()).or_default();
            continue;
        }
        if t.is_empty() || t.starts_with(';') {
            continue;
        }
        let entry = out.entry(current.clone()).or_default();
        entry.1.push(t.to_owned());
        if let Some((k, v)) = t.split_once('=') {
            entry.0.insert(k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_owned());
        }
    }
    out
}

/// Parses an AICC course.
pub fn parse(files: &AiccFiles) -> Result<Parsed, PackageError> {
    let (crs_name, crs_text) = &files.crs;
    let crs = ini(crs_text);
    let course_sec = crs.get("course").map(|s| &s.0);
    let Some(course_sec) = course_sec else {
        return Err(PackageError::manifest(Location::file(crs_name), "no [Course] section"));
    };
    let course_id = course_sec.get("course_id").cloned().filter(|s| !s.is_empty());
    let title = course_sec
        .get("course_title")
        .cloned()
        .filter(|s| !s.is_empty())
        .or_else(|| course_id.clone())
        .unwrap_or_else(|| "Untitled course".to_owned());
    let description = crs.get("course_description").map(|s| s.1.join("\n")).filter(|s| !s.is_empty());
    let version = course_sec.get("version").cloned();
    let mut warnings = Vec::new();

    let Some((au_name, au_text)) = &files.au else {
        return Err(PackageError::manifest(
            Location::file(crs_name),
            "the AICC course has no .au file, so nothing can be launched",
        ));
    };
    let au = Table::new(au_name, au_text)?;
    au.require_col("system_id")?;
    au.require_col("file_name")?;

    let mut titles: HashMap<String, (String, Option<String>)> = HashMap::new();
    if let Some((des_name, des_text)) = &files.des {
        let des = Table::new(des_name, des_text)?;
        for r in &des.rows {
            if let Some(id) = des.get(r, "system_id") {
                titles.insert(
                    id.to_ascii_lowercase(),
                    (des.get(r, "title").unwrap_or(id).to_owned(), des.get(r, "description").map(str::to_owned)),
                );
            }
        }
    } else {
        warnings.push(format!("{crs_name}: no .des file; AU ids are used as titles"));
    }

    let mut aus: HashMap<String, Module> = HashMap::new();
    let mut order = Vec::new();
    for r in &au.rows {
        let loc = || Location::at(au_name, r.line, 1);
        let Some(id) = au.get(r, "system_id") else {
            return Err(PackageError::manifest(loc(), "AU row without System_ID"));
        };
        let key = id.to_ascii_lowercase();
        if aus.contains_key(&key) {
            return Err(PackageError::manifest(loc(), format!("AU {id:?} appears twice")));
        }
        let Some(file_name) = au.get(r, "file_name") else {
            return Err(PackageError::manifest(loc(), format!("AU {id:?} has no File_Name to launch")));
        };
        let absolute = url::is_absolute(file_name);
        let launch_url = if absolute {
            file_name.to_owned()
        } else {
            url::normalize_url(&file_name.replace('\\', "/")).filter(|u| !url::path_part(u).is_empty()).ok_or_else(
                || {
                    PackageError::manifest(
                        loc(),
                        format!("AU {id:?} File_Name {file_name:?} points outside the package"),
                    )
                },
            )?
        };
        let (title, desc) = titles.get(&key).cloned().unwrap_or_else(|| (id.to_owned(), None));
        let mut m = blank_module(id, &title);
        m.description = desc;
        m.launch_url = launch_url;
        m.launch_is_absolute = absolute;
        m.web_launch = au.get(r, "web_launch").map(str::to_owned);
        m.launch_data = au.get(r, "core_vendor").map(str::to_owned);
        m.activity_type = au.get(r, "type").map(str::to_owned);
        if let Some(ms) = au.get(r, "mastery_score") {
            match url_f64(ms) {
                Some(v) if (0.0..=100.0).contains(&v) => m.rules.mastery_score = Some(MasteryScore::Raw(v)),
                _ => warnings.push(format!("{au_name}, line {}: Mastery_Score {ms:?} ignored", r.line)),
            }
        }
        m.rules.max_time_allowed = au.get(r, "max_time_allowed").map(str::to_owned);
        m.rules.time_limit_action = au.get(r, "time_limit_action").map(str::to_owned);
        order.push(key.clone());
        aus.insert(key, m);
    }
    if aus.is_empty() {
        return Err(PackageError::manifest(Location::file(au_name), "no AU rows"));
    }

    let root = match &files.cst {
        Some((cst_name, cst_text)) => {
            let rows = csv(cst_text);
            // Header row: "block","member",…
            let mut blocks: HashMap<String, (u32, Vec<String>)> = HashMap::new();
            for r in rows.iter().skip(1) {
                let Some(b) = r.fields.first().filter(|s| !s.is_empty()) else {
                    continue;
                };
                let members = r.fields[1..].iter().filter(|s| !s.is_empty()).map(|s| s.to_ascii_lowercase());
                blocks.entry(b.to_ascii_lowercase()).or_insert((r.line, Vec::new())).1.extend(members);
            }
            if !blocks.contains_key("root") {
                return Err(PackageError::manifest(Location::file(cst_name), "no ROOT row in the course structure"));
            }
            let mut seen = HashSet::new();
            let mut used = HashSet::new();
            let tree = build(cst_name, "root", &blocks, &mut aus, &titles, &mut seen, &mut used, &mut warnings)?;
            let unused: Vec<_> = order.iter().filter(|k| !used.contains(*k)).cloned().collect();
            if !unused.is_empty() {
                warnings.push(format!("{cst_name}: AUs {unused:?} are not in the course structure"));
            }
            tree
        }
        None => order.iter().filter_map(|k| aus.remove(k)).map(Node::Module).collect(),
    };
    if root.is_empty() {
        return Err(PackageError::manifest(Location::file(crs_name), "the course structure has no AU"));
    }
    Ok(Parsed {
        course: Course {
            id: None,
            package_identifier: course_id.clone(),
            title,
            title_langs: Vec::new(),
            description,
            description_langs: Vec::new(),
            format: Format::Aicc,
            schema_version: version,
            organization_id: course_id,
            root,
            other_organizations: Vec::new(),
            objectives: Vec::new(),
            metadata_files: Vec::new(),
            warnings,
            organization_rules: None,
            objectives_global_to_system: None,
        },
        listed_files: Vec::new(),
        manifest: files.au.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
    })
}

fn url_f64(s: &str) -> Option<f64> {
    super::xml::parse_f64(s)
}

#[allow(clippy::too_many_arguments)]
fn build(
    file: &str,
    block: &str,
    blocks: &HashMap<String, (u32, Vec<String>)>,
    aus: &mut HashMap<String, Module>,
    titles: &HashMap<String, (String, Option<String>)>,
    seen: &mut HashSet<String>,
    used: &mut HashSet<String>,
    warnings: &mut Vec<String>,
) -> Result<Vec<Node>, PackageError> {
    if !seen.insert(block.to_owned()) {
        let line = blocks.get(block).map(|b| b.0).unwrap_or(1);
        return Err(PackageError::manifest(Location::at(file, line, 1), format!("block {block:?} contains itself")));
    }
    let mut out = Vec::new();
    let members = blocks.get(block).map(|b| b.1.clone()).unwrap_or_default();
    for m in members {
        if blocks.contains_key(&m) {
            let kids = build(file, &m, blocks, aus, titles, seen, used, warnings)?;
            let (title, description) = titles.get(&m).cloned().unwrap_or_else(|| (m.clone(), None));
            out.push(Node::Block(Block {
                id: m,
                title,
                title_langs: Vec::new(),
                description,
                description_langs: Vec::new(),
                visible: true,
                rules: CompletionRules::default(),
                children: kids,
            }));
        } else if let Some(module) = aus.remove(&m) {
            used.insert(m);
            out.push(Node::Module(module));
        } else if used.contains(&m) {
            warnings.push(format!("{file}: AU {m:?} appears in more than one block; kept at its first place"));
        } else {
            warnings.push(format!("{file}: member {m:?} is neither a block nor an AU and was ignored"));
        }
    }
    Ok(out)
}
