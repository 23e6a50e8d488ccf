//! Package import: SCORM 1.2, SCORM 2004 (2nd–4th ed.), cmi5, TinCan and AICC
//! packages turned into one [`Course`] model.
//!
//! Pure parsing and extraction: no HTTP, no SQL. Storage and routes call
//! [`import_file`] (a zip, or a bare `cmi5.xml`, told apart by content) and
//! persist the returned [`Imported`].
//!
//! # API
//! - [`import_zip`]`(zip_path, dest_dir, &limits, &mut progress) -> Result<Imported, PackageError>`:
//!   vets the zip (paths, links, encryption, duplicates, sizes), detects the
//!   format from the package itself, parses the manifest, checks launch files,
//!   then streams every file into `dest_dir`. The caller creates `dest_dir`
//!   empty and deletes it when an error is returned.
//! - [`import_file`]`(path, dest_dir, &limits, &mut progress)`: the same for an
//!   upload of unknown kind: a file opening as XML is read as a bare `cmi5.xml`,
//!   anything else as a zip.
//! - [`parse_cmi5_xml`]`(xml) -> Result<Course, PackageError>`: a course
//!   structure without a zip; AU URLs must then be absolute.
//! - [`Limits`]: entry count, per-file and total uncompressed bytes, manifest
//!   size and XML depth. Real bytes are counted while extracting.
//! - [`Course`] / [`Node`] / [`Module`] / [`CompletionRules`] in [`model`]:
//!   serde-serialisable; launch URLs are relative to the package root (with
//!   SCORM `parameters` applied) or absolute.
//!
//! Formats are recognised by file name at the package root (after descending
//! through single wrapping folders) and by XML namespace, never by prefix.
//! cmi5 wins over SCORM over TinCan over AICC when a package carries several.

pub mod aicc;
pub mod cmi5;
pub mod error;
mod imsss;
pub mod model;
pub mod scorm;
pub mod tincan;
pub mod url;
mod xml;
mod zipread;

#[cfg(test)]
mod tests;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use error::{Location, PackageError};
pub use model::*;
pub use zipread::{content_type, StoredFile};

use zipread::PackageZip;

/// Bounds on what a package may make us read or write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub max_entries: usize,
    /// Uncompressed bytes of one file.
    pub max_file_bytes: u64,
    /// Uncompressed bytes of all files together.
    pub max_total_bytes: u64,
    /// Bytes of one manifest (`imsmanifest.xml`, `cmi5.xml`, AICC files), held in memory.
    pub max_manifest_bytes: u64,
    pub max_xml_depth: usize,
    /// Largest uncompressed/compressed ratio of one entry, and of the whole package, once it
    /// expands past `ratio_min_bytes`. Text and markup deflate 3–10×, and the most repetitive real
    /// files (blank bitmaps, padded JSON) stay under ~50×, while a bomb is 1,000× and more.
    pub max_ratio: u64,
    /// Below this many uncompressed bytes any ratio is allowed: small files of one repeated byte
    /// are common and harmless.
    pub ratio_min_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 20_000,
            max_file_bytes: 2 << 30,
            max_total_bytes: 4 << 30,
            max_manifest_bytes: 16 << 20,
            max_xml_depth: 64,
            max_ratio: 100,
            ratio_min_bytes: 1 << 20,
        }
    }
}

/// Extraction progress, reported after each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub files_done: usize,
    pub files_total: usize,
    pub bytes_done: u64,
}

/// A successfully imported package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub course: Course,
    pub files: Vec<StoredFile>,
    /// Every warning of the import (also in `course.warnings`).
    pub warnings: Vec<String>,
}

/// What a format parser hands back before files are checked.
pub struct Parsed {
    pub course: Course,
    /// Files the manifest lists besides launch files; absent ones only warn.
    pub listed_files: Vec<String>,
    /// Manifest file name, for messages.
    pub manifest: String,
}

/// Which manifest was found at the package root.
enum Detected {
    Scorm(String),
    Cmi5(String),
    TinCan(String),
    Aicc(String),
}

/// Imports a package zip into `dest_dir`. See the module docs.
pub fn import_zip(
    zip_path: &Path,
    dest_dir: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported, PackageError> {
    let mut warnings = Vec::new();
    let mut zip = PackageZip::open(zip_path, limits, &mut warnings)?;
    let detected = detect(&zip, &mut warnings)?;
    let max = limits.max_manifest_bytes;
    let read_text = |zip: &mut PackageZip, name: &str, warnings: &mut Vec<String>| -> Result<String, PackageError> {
        let bytes = zip.read_small(name, max)?;
        xml::decode(name, &bytes, warnings)
    };
    let mut parsed = match detected {
        Detected::Scorm(name) => scorm::parse(&name, &read_text(&mut zip, &name, &mut warnings)?, limits)?,
        Detected::Cmi5(name) => cmi5::parse(&name, &read_text(&mut zip, &name, &mut warnings)?, limits, true)?,
        Detected::TinCan(name) => tincan::parse(&name, &read_text(&mut zip, &name, &mut warnings)?, limits)?,
        Detected::Aicc(crs) => {
            let mut files = aicc::AiccFiles::default();
            let stem = crs[..crs.len() - 4].to_owned();
            for (ext, slot) in [("au", &mut files.au), ("des", &mut files.des), ("cst", &mut files.cst)] {
                if let Some(name) = find_sibling(&zip, &stem, ext) {
                    let t = read_text(&mut zip, &name, &mut warnings)?;
                    *slot = Some((name, t));
                }
            }
            let t = read_text(&mut zip, &crs, &mut warnings)?;
            files.crs = (crs, t);
            aicc::parse(&files)?
        }
    };
    check_files(&zip, &mut parsed, &mut warnings)?;
    let files = zip.extract_all(dest_dir, limits, progress)?;
    let mut course = parsed.course;
    warnings.append(&mut course.warnings);
    course.warnings = warnings.clone();
    Ok(Imported { course, files, warnings })
}

/// Imports an uploaded file, whatever it is called or was declared as: told apart by its first bytes.
/// A file that opens as XML is a course structure alone (cmi5 §14 allows a `cmi5.xml` without a zip,
/// its AU URLs absolute) and is read as one, so its own faults are what the refusal names; anything
/// else goes to [`import_zip`], whose errors say why it is not a readable package.
pub fn import_file(
    path: &Path,
    dest_dir: &Path,
    limits: &Limits,
    progress: &mut dyn FnMut(Progress),
) -> Result<Imported, PackageError> {
    use std::io::Read;
    let mut head = [0u8; 64];
    let n = {
        let mut f = std::fs::File::open(path).map_err(|e| PackageError::io("opening the upload", e))?;
        let mut n = 0;
        while n < head.len() {
            match f.read(&mut head[n..]).map_err(|e| PackageError::io("reading the upload", e))? {
                0 => break,
                k => n += k,
            }
        }
        n
    };
    if !looks_like_xml(&head[..n]) {
        return import_zip(path, dest_dir, limits, progress);
    }
    let size = std::fs::metadata(path).map_err(|e| PackageError::io("reading the upload", e))?.len();
    if size > limits.max_manifest_bytes {
        return Err(PackageError::Limit(format!(
            "the course structure XML is {size} bytes, more than the {} a manifest may have",
            limits.max_manifest_bytes
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| PackageError::io("reading the upload", e))?;
    let course = bare_course_structure(&bytes, limits)?;
    progress(Progress { files_done: 0, files_total: 0, bytes_done: 0 });
    let warnings = course.warnings.clone();
    Ok(Imported { course, files: Vec::new(), warnings })
}

/// Whether a file opens as XML: an optional byte-order mark, whitespace, then `<` (in UTF-8 or UTF-16).
/// A zip opens with `PK`, so the two never meet.
fn looks_like_xml(head: &[u8]) -> bool {
    let (body, step) = match head {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (rest, 1),
        [0xFF, 0xFE, rest @ ..] => (rest, 2),
        [0xFE, 0xFF, rest @ ..] => (rest.get(1..).unwrap_or(&[]), 2),
        _ => (head, 1),
    };
    body.iter().step_by(step).find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// A course structure without its package: only a cmi5 `<courseStructure>` can stand alone.
fn bare_course_structure(bytes: &[u8], limits: &Limits) -> Result<Course, PackageError> {
    const NAME: &str = "cmi5.xml";
    let mut warnings = Vec::new();
    let text = xml::decode(NAME, bytes, &mut warnings)?;
    let doc = xml::parse(NAME, &text, limits)?;
    let root = doc.root_element().tag_name().name().to_owned();
    if root != "courseStructure" {
        return Err(PackageError::manifest(
            Location::file("the uploaded XML file"),
            format!(
                "its root element is <{root}>: an XML file alone is imported only as a cmi5 course structure \
                 (<courseStructure>, cmi5 §14); send other packages as the zip with their files"
            ),
        ));
    }
    drop(doc);
    let mut course = cmi5::parse(NAME, &text, limits, false)?.course;
    warnings.append(&mut course.warnings);
    course.warnings = warnings;
    Ok(course)
}

/// Parses a bare `cmi5.xml` (no package): every AU URL must be absolute.
pub fn parse_cmi5_xml(xml: &str) -> Result<Course, PackageError> {
    bare_course_structure(xml.as_bytes(), &Limits::default())
}

fn detect(zip: &PackageZip, warnings: &mut Vec<String>) -> Result<Detected, PackageError> {
    let top: Vec<&str> = zip.names().filter(|n| !n.contains('/')).collect();
    let find = |want: &str| top.iter().find(|n| n.eq_ignore_ascii_case(want)).map(|s| (*s).to_owned());
    let crs = top.iter().find(|n| n.len() > 4 && n.to_ascii_lowercase().ends_with(".crs")).map(|s| (*s).to_owned());
    let found = [
        find("cmi5.xml").map(Detected::Cmi5),
        find("imsmanifest.xml").map(Detected::Scorm),
        find("tincan.xml").map(Detected::TinCan),
        crs.map(Detected::Aicc),
    ];
    let mut found = found.into_iter().flatten();
    let first = found.next().ok_or(PackageError::UnknownFormat)?;
    let rest: Vec<&str> = found
        .map(|d| match d {
            Detected::Cmi5(_) => "cmi5",
            Detected::Scorm(_) => "SCORM",
            Detected::TinCan(_) => "TinCan",
            Detected::Aicc(_) => "AICC",
        })
        .collect();
    if !rest.is_empty() {
        warnings.push(format!("the package also carries {} manifest(s); they were ignored", rest.join(", ")));
    }
    Ok(first)
}

/// `<stem>.<ext>` ignoring case, else the only `*.ext` at the root.
fn find_sibling(zip: &PackageZip, stem: &str, ext: &str) -> Option<String> {
    let want = format!("{stem}.{ext}");
    let top: Vec<&str> = zip.names().filter(|n| !n.contains('/')).collect();
    if let Some(n) = top.iter().find(|n| n.eq_ignore_ascii_case(&want)) {
        return Some((*n).to_owned());
    }
    let suffix = format!(".{ext}");
    let mut same_ext = top.iter().filter(|n| n.to_ascii_lowercase().ends_with(&suffix));
    match (same_ext.next(), same_ext.next()) {
        (Some(n), None) => Some((*n).to_owned()),
        _ => None,
    }
}

/// Refuses a missing launch file; only warns about other listed files.
/// A launch path that matches a file only when case is ignored is rewritten
/// to the stored name, since the server will serve files case-sensitively.
fn check_files(zip: &PackageZip, parsed: &mut Parsed, warnings: &mut Vec<String>) -> Result<(), PackageError> {
    fn walk(
        nodes: &mut [Node],
        zip: &PackageZip,
        manifest: &str,
        warnings: &mut Vec<String>,
    ) -> Result<(), PackageError> {
        for n in nodes {
            match n {
                Node::Block(b) => walk(&mut b.children, zip, manifest, warnings)?,
                Node::Module(m) if !m.launch_is_absolute => {
                    let path = url::path_part(&m.launch_url).to_owned();
                    let decoded = url::percent_decode(&path);
                    if zip.contains(&decoded) || zip.contains(&path) {
                        continue;
                    }
                    match zip.find(&decoded).map(str::to_owned) {
                        Some(real) if !decoded.is_empty() => {
                            warnings.push(format!(
                                "launch file {path:?} of {:?} matches {real:?} only when case is ignored; {real:?} is used",
                                m.id
                            ));
                            let rest = m.launch_url[path.len()..].to_owned();
                            m.launch_url = format!("{}{rest}", real.replace(' ', "%20"));
                        }
                        _ => {
                            return Err(PackageError::MissingLaunchFile {
                                location: Location::file(manifest),
                                module: m.id.clone(),
                                path: decoded,
                            })
                        }
                    }
                }
                Node::Module(_) => {}
            }
        }
        Ok(())
    }
    let manifest = parsed.manifest.clone();
    walk(&mut parsed.course.root, zip, &manifest, warnings)?;
    for org in &mut parsed.course.other_organizations {
        walk(&mut org.root, zip, &manifest, warnings)?;
    }
    let mut seen = std::collections::HashSet::new();
    let mut missing = Vec::new();
    for f in &parsed.listed_files {
        if !seen.insert(f.as_str()) {
            continue;
        }
        let decoded = url::percent_decode(f);
        if zip.find(f).is_none() && zip.find(&decoded).is_none() {
            missing.push(f.as_str());
        }
    }
    const SHOWN: usize = 20;
    for f in missing.iter().take(SHOWN) {
        warnings.push(format!("{manifest} lists {f:?}, which is not in the package"));
    }
    if missing.len() > SHOWN {
        warnings.push(format!("… and {} more listed files are missing", missing.len() - SHOWN));
    }
    Ok(())
}
