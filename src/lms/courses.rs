//! Course use cases: import a package (parse, extract into the content folder, record a new course
//! version) and read courses back. A refused import leaves nothing behind: the extraction happens in a
//! temporary folder that is only moved into place once the package is accepted, and removed otherwise.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::Lms;
use crate::lrs::error::Result;
use crate::lrs::LrsError;
use crate::package::{self, Course, Format, Node, Progress};
use crate::store::{CourseVersionRow, NewCourseVersion};

/// A course version as shown by the CLI and the admin API.
#[derive(Debug, Clone, Serialize)]
pub struct CourseView {
    /// The course IRI (stable across versions).
    pub id: String,
    pub title: String,
    pub format: String,
    pub version: i64,
    /// Id of this version; its files are served under `/content/<version_id>/`.
    pub version_id: String,
    pub content_base: String,
    pub imported_at: String,
    pub package_sha256: String,
    pub files: i64,
    pub bytes: i64,
    pub warnings: Vec<String>,
    pub course: Course,
}

/// A human label for a package format, e.g. "SCORM 2004 4th Edition".
pub fn format_label(f: &Format) -> String {
    use crate::package::Scorm2004Edition as E;
    match f {
        Format::Scorm12 => "SCORM 1.2",
        Format::Scorm2004 { edition: E::Second } => "SCORM 2004 2nd Edition",
        Format::Scorm2004 { edition: E::Third } => "SCORM 2004 3rd Edition",
        Format::Scorm2004 { edition: E::Fourth } => "SCORM 2004 4th Edition",
        Format::Cmi5 => "cmi5",
        Format::TinCan => "TinCan",
        Format::Aicc => "AICC",
    }
    .to_string()
}

/// The course IRI: the one asked for, else the package's own, else one derived from the package's
/// stable identifier, else a fresh one (such a package cannot be recognised when imported again).
fn course_iri(asked: Option<String>, course: &Course) -> Result<String> {
    if let Some(id) = asked {
        iri_string::types::IriStr::new(&id)
            .map_err(|_| LrsError::BadRequest(format!("course id must be an IRI, got {id:?}")))?;
        return Ok(id);
    }
    if let Some(id) = &course.id {
        return Ok(id.clone());
    }
    let kind = match course.format {
        Format::Scorm12 | Format::Scorm2004 { .. } => "scorm",
        Format::Aicc => "aicc",
        Format::Cmi5 => "cmi5",
        Format::TinCan => "tincan",
    };
    Ok(match &course.package_identifier {
        Some(pid) => format!("urn:cairn:{kind}:{}", crate::package::url::encode_unreserved(pid)),
        None => format!("urn:cairn:{kind}:{}", uuid::Uuid::new_v4()),
    })
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Leftovers of imports older than this are removed. An upload or an extraction in progress
/// touches its file or folder continuously and finishes in minutes (packages are at most 4 GiB), so
/// an hour never catches a live import, even one running on another node that shares the folder.
pub const STALE_IMPORT_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes `.upload-*` files and `.incoming-*` folders left in `content_dir` by interrupted imports
/// (a crash or a kill between upload and rename) once older than `older_than`; returns how many.
/// Errors are logged and skipped: a leftover that cannot be removed must not stop a start or import.
pub fn remove_stale_imports(content_dir: &Path, older_than: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(content_dir) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".incoming-") || name.starts_with(".upload-")) {
            continue;
        }
        let Ok(meta) = e.metadata() else { continue };
        let age = meta.modified().ok().and_then(|m| now.duration_since(m).ok()).unwrap_or_default();
        if age < older_than {
            continue;
        }
        let path = e.path();
        let result = if meta.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        match result {
            Ok(()) => {
                tracing::info!(path = %path.display(), "removed the leftover of an interrupted import");
                removed += 1;
            }
            Err(err) => tracing::warn!(path = %path.display(), error = %err, "cannot remove an import leftover"),
        }
    }
    removed
}

impl Lms {
    /// The folder holding every course version's files.
    pub fn content_dir(&self) -> &Path {
        &self.settings.content_dir
    }

    /// Imports a package (a zip, or a cmi5 course structure XML file alone) as a new version of its course.
    pub async fn import_package(
        &self,
        zip: &Path,
        course_id: Option<String>,
        progress: Box<dyn FnMut(Progress) + Send>,
    ) -> Result<CourseView> {
        let version_id = uuid::Uuid::now_v7().to_string();
        let content = self.settings.content_dir.clone();
        let staging = content.join(format!(".incoming-{version_id}"));
        let final_dir = content.join(&version_id);
        let zip_path = zip.to_path_buf();
        let limits = self.settings.package_limits.clone();
        let staging2 = staging.clone();
        let parsed = tokio::task::spawn_blocking(move || -> Result<(package::Imported, String)> {
            let mut progress = progress;
            if let Some(parent) = staging2.parent() {
                remove_stale_imports(parent, STALE_IMPORT_AGE);
            }
            std::fs::create_dir_all(&staging2)
                .map_err(|e| LrsError::BadRequest(format!("cannot create {}: {e}", staging2.display())))?;
            let sha = sha256_file(&zip_path)
                .map_err(|e| LrsError::BadRequest(format!("cannot read {}: {e}", zip_path.display())))?;
            let imported = package::import_file(&zip_path, &staging2, &limits, &mut *progress)
                .map_err(|e| LrsError::BadRequest(e.to_string()))?;
            Ok((imported, sha))
        })
        .await
        .map_err(|e| LrsError::BadRequest(format!("import task failed: {e}")))
        .and_then(|r| r);
        let (imported, sha) = match parsed {
            Ok(p) => p,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let course_id = match course_iri(course_id, &imported.course) {
            Ok(id) => id,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let mut course = imported.course;
        for w in imported.warnings {
            if !course.warnings.contains(&w) {
                course.warnings.push(w);
            }
        }
        let total: u64 = imported.files.iter().map(|f| f.size).sum();
        let body = serde_json::to_string(&course).map_err(|e| LrsError::BadRequest(format!("course model: {e}")))?;
        if let Err(e) = std::fs::rename(&staging, &final_dir) {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(LrsError::BadRequest(format!("cannot move package files into place: {e}")));
        }
        let row = NewCourseVersion {
            id: version_id.clone(),
            course_id: course_id.clone(),
            title: course.title.clone(),
            format: format_label(&course.format),
            imported_us: crate::now_us(),
            package_sha256: sha,
            file_count: imported.files.len() as i64,
            total_bytes: total as i64,
            body,
        };
        if let Err(e) = self.store.insert_course_version(&row).await {
            let _ = std::fs::remove_dir_all(&final_dir);
            return Err(e.into());
        }
        self.register_package_course(&course_id, &course).await?;
        let stored = self
            .store
            .course_version(&version_id)
            .await?
            .ok_or_else(|| LrsError::NotFound("course version vanished".into()))?;
        view(&stored)
    }

    /// The latest version of every course.
    pub async fn courses(&self) -> Result<Vec<CourseView>> {
        self.store.latest_course_versions().await?.iter().map(view).collect()
    }

    /// The latest version of one course, or a given version (`version` number).
    pub async fn course(&self, id: &str, version: Option<i64>) -> Result<CourseView> {
        let versions = self.store.course_versions(id).await?;
        let row = match version {
            Some(n) => versions.iter().find(|v| v.version == n),
            None => versions.first(),
        };
        row.map(view).ok_or_else(|| LrsError::NotFound(format!("no course {id}")))?
    }

    /// Where a course version's file lives, if the version exists. `rel` must already be a safe
    /// relative path (see `http::content`).
    pub async fn content_path(&self, version_id: &str, rel: &Path) -> Result<Option<PathBuf>> {
        if self.store.course_version(version_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.settings.content_dir.join(version_id).join(rel)))
    }
}

fn view(row: &CourseVersionRow) -> Result<CourseView> {
    let course: Course = serde_json::from_str(&row.body)
        .map_err(|e| LrsError::BadRequest(format!("stored course is unreadable: {e}")))?;
    Ok(CourseView {
        id: row.course_id.clone(),
        title: course.title.clone(),
        format: format_label(&course.format),
        version: row.version,
        version_id: row.id.clone(),
        content_base: format!("/content/{}/", row.id),
        imported_at: crate::xapi::timestamp::format_us(row.imported_us),
        package_sha256: row.package_sha256.clone(),
        files: row.file_count,
        bytes: row.total_bytes,
        warnings: course.warnings.clone(),
        course,
    })
}

/// A printable tree of the course: blocks and modules with launch URLs and completion rules.
pub fn render_tree(v: &CourseView) -> String {
    let mut out = format!(
        "{}\n  id:      {}\n  format:  {}\n  version: {} ({})\n",
        v.title, v.id, v.format, v.version, v.version_id
    );
    fn rules(r: &package::CompletionRules) -> String {
        let mut parts = Vec::new();
        let j = serde_json::to_value(r).unwrap_or(Value::Null);
        for k in ["move_on", "mastery_score", "completion_threshold", "time_limit_action", "max_time_allowed"] {
            if let Some(x) = j.get(k).filter(|x| !x.is_null()) {
                parts.push(format!("{k}={}", x.to_string().trim_matches('"')));
            }
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" [{}]", parts.join(", "))
        }
    }
    fn walk(nodes: &[Node], depth: usize, base: &str, out: &mut String) {
        for n in nodes {
            let pad = "  ".repeat(depth + 1);
            match n {
                Node::Block(b) => {
                    out.push_str(&format!("{pad}+ {} ({}){}\n", b.title, b.id, rules(&b.rules)));
                    walk(&b.children, depth + 1, base, out);
                }
                Node::Module(m) => {
                    let url = if m.launch_is_absolute || m.launch_url.is_empty() {
                        m.launch_url.clone()
                    } else {
                        format!("{base}{}", m.launch_url)
                    };
                    out.push_str(&format!("{pad}- {} ({}) -> {}{}\n", m.title, m.id, url, rules(&m.rules)));
                }
            }
        }
    }
    walk(&v.course.root, 0, &v.content_base, &mut out);
    for w in &v.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    out
}

/// The JSON form of a course list entry.
pub fn summary_json(v: &CourseView) -> Value {
    json!({"id": v.id, "title": v.title, "format": v.format, "version": v.version, "version_id": v.version_id, "imported_at": v.imported_at})
}
