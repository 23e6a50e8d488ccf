//! Safe, streaming reading of a package zip.
//!
//! Every entry is vetted from the central directory before anything is
//! written (paths, links, encryption, duplicates, counts, declared sizes);
//! while extracting, actual bytes are counted because headers can lie.
//! Only one entry is decompressed at a time through a fixed buffer, so memory
//! stays bounded whatever the package size.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::{CompressionMethod, ZipArchive};

use super::error::PackageError;
use super::{Limits, Progress};

/// A file written to the destination directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Relative to the package root, `/`-separated.
    pub path: String,
    pub size: u64,
    pub content_type: String,
    /// Lower-case hex SHA-256 of the content.
    pub sha256: String,
}

struct Entry {
    index: usize,
    /// Full normalised name inside the zip.
    name: String,
    is_dir: bool,
    /// Uncompressed size the headers declare; real bytes may not exceed it.
    declared: u64,
}

/// An opened, vetted package zip.
pub struct PackageZip {
    archive: ZipArchive<BufReader<File>>,
    entries: Vec<Entry>,
    /// Folder chain the package sits in (`""` or `"a/b/"`).
    prefix: String,
    /// Relative (to `prefix`) file name → index into `entries`.
    files: BTreeMap<String, usize>,
    /// Lower-cased relative name → relative name, for forgiving lookups.
    lower: HashMap<String, String>,
}

/// Names whose presence marks a package root.
fn is_manifest_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    l == "imsmanifest.xml" || l == "cmi5.xml" || l == "tincan.xml" || l.ends_with(".crs")
}

/// Normalises an entry name and refuses anything that could escape `dest_dir`.
fn clean_name(raw: &[u8]) -> Result<(String, bool), PackageError> {
    let name =
        std::str::from_utf8(raw).map_err(|_| PackageError::NonUtf8Name(String::from_utf8_lossy(raw).into_owned()))?;
    let name = name.replace('\\', "/");
    let unsafe_path = |reason| PackageError::UnsafePath { name: name.clone(), reason };
    if name.contains('\0') || name.chars().any(|c| c.is_control()) {
        return Err(unsafe_path("control character in name"));
    }
    if name.starts_with('/') {
        return Err(unsafe_path("absolute path"));
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err(unsafe_path("absolute path with a drive letter"));
    }
    let mut parts = Vec::new();
    for seg in name.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(unsafe_path("parent directory (..) component")),
            s => parts.push(s),
        }
    }
    if parts.is_empty() {
        return Err(unsafe_path("empty name"));
    }
    Ok((parts.join("/"), name.ends_with('/')))
}

fn is_ignored(name: &str) -> bool {
    name.split('/').next() == Some("__MACOSX") || name.rsplit('/').next() == Some(".DS_Store")
}

fn zip_err(e: zip::result::ZipError) -> PackageError {
    PackageError::Zip(e.to_string())
}

impl PackageZip {
    /// Opens and vets the archive, and finds the package root.
    pub fn open(path: &Path, limits: &Limits, warnings: &mut Vec<String>) -> Result<Self, PackageError> {
        let file = File::open(path).map_err(|e| PackageError::io(format!("opening {}", path.display()), e))?;
        let archive = ZipArchive::new(BufReader::new(file)).map_err(zip_err)?;
        if archive.len() > limits.max_entries {
            return Err(PackageError::Limit(format!(
                "{} entries, more than the {} allowed",
                archive.len(),
                limits.max_entries
            )));
        }
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        let mut declared_total: u64 = 0;
        let mut compressed_total: u64 = 0;
        for index in 0..archive.len() {
            let e = archive.by_index_data(index).map_err(zip_err)?;
            let (name, dir_by_name) = clean_name(e.name_raw())?;
            if e.is_symlink() {
                return Err(PackageError::Symlink(name));
            }
            if e.encrypted() {
                return Err(PackageError::Encrypted(name));
            }
            let is_dir = dir_by_name || e.is_dir();
            if is_ignored(&name) {
                continue;
            }
            if !is_dir {
                if !matches!(e.compression(), CompressionMethod::Stored | CompressionMethod::Deflated) {
                    return Err(PackageError::UnsupportedCompression {
                        name,
                        method: format!("{:?}", e.compression()),
                    });
                }
                if e.size() > limits.max_file_bytes {
                    return Err(PackageError::Limit(format!(
                        "{name:?} declares {} bytes, more than the {} allowed per file",
                        e.size(),
                        limits.max_file_bytes
                    )));
                }
                check_ratio(&name, e.size(), e.compressed_size(), limits)?;
                declared_total = declared_total.saturating_add(e.size());
                compressed_total = compressed_total.saturating_add(e.compressed_size());
                if declared_total > limits.max_total_bytes {
                    return Err(PackageError::Limit(format!(
                        "package declares more than the {} bytes allowed in total",
                        limits.max_total_bytes
                    )));
                }
                if !seen.insert(name.clone()) {
                    return Err(PackageError::DuplicateEntry(name));
                }
            }
            entries.push(Entry { index, name, is_dir, declared: if is_dir { 0 } else { e.size() } });
        }
        check_ratio("the package", declared_total, compressed_total, limits)?;
        // The zip crate keeps only one of two same-named entries; catch raw duplicates too.
        if archive.has_duplicate_names() {
            return Err(PackageError::DuplicateEntry("(same name twice in the central directory)".into()));
        }
        let prefix = find_root(&entries, warnings);
        let mut files = BTreeMap::new();
        let mut lower = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            if e.is_dir {
                continue;
            }
            if let Some(rel) = e.name.strip_prefix(prefix.as_str()) {
                lower.entry(rel.to_lowercase()).or_insert_with(|| rel.to_owned());
                files.insert(rel.to_owned(), i);
            }
        }
        Ok(PackageZip { archive, entries, prefix, files, lower })
    }

    /// Relative names of the package's files, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn contains(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    /// Exact name first, then ignoring case (packages authored on Windows
    /// often disagree with their own manifest about case).
    pub fn find(&self, rel: &str) -> Option<&str> {
        if let Some((k, _)) = self.files.get_key_value(rel) {
            return Some(k.as_str());
        }
        self.lower.get(&rel.to_lowercase()).map(String::as_str)
    }

    /// Reads a small file (a manifest) fully, refusing more than `max` bytes.
    pub fn read_small(&mut self, rel: &str, max: u64) -> Result<Vec<u8>, PackageError> {
        let Some(&i) = self.files.get(rel) else {
            return Err(PackageError::Zip(format!("{rel} vanished from the archive")));
        };
        let index = self.entries[i].index;
        let f = self.archive.by_index(index).map_err(zip_err)?;
        let mut buf = Vec::new();
        f.take(max.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|e| PackageError::Zip(format!("reading {rel}: {e}")))?;
        if buf.len() as u64 > max {
            return Err(PackageError::Limit(format!("{rel} is larger than the {max} bytes allowed for a manifest")));
        }
        Ok(buf)
    }

    /// Writes every file under the package root into `dest_dir`, counting real bytes.
    pub fn extract_all(
        &mut self,
        dest_dir: &Path,
        limits: &Limits,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Vec<StoredFile>, PackageError> {
        let files_total = self.files.len();
        let mut stored = Vec::with_capacity(files_total);
        let mut total: u64 = 0;
        let mut buf = vec![0u8; 64 * 1024];
        for e in &self.entries {
            let Some(rel) = e.name.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            if rel.is_empty() {
                continue;
            }
            let target = dest_dir.join(rel);
            if e.is_dir {
                std::fs::create_dir_all(&target)
                    .map_err(|err| PackageError::io(format!("creating folder {rel}"), err))?;
                continue;
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|err| PackageError::io(format!("creating folder for {rel}"), err))?;
            }
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .map_err(|err| PackageError::io(format!("creating {rel}"), err))?;
            let mut f = self.archive.by_index(e.index).map_err(zip_err)?;
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            loop {
                let n = f.read(&mut buf).map_err(|err| PackageError::Zip(format!("reading {rel}: {err}")))?;
                if n == 0 {
                    break;
                }
                size += n as u64;
                total += n as u64;
                if size > e.declared {
                    return Err(PackageError::Limit(format!(
                        "{rel} expands past the {} bytes its zip header declares",
                        e.declared
                    )));
                }
                if size > limits.max_file_bytes {
                    return Err(PackageError::Limit(format!(
                        "{rel} expands past the {} bytes allowed per file",
                        limits.max_file_bytes
                    )));
                }
                if total > limits.max_total_bytes {
                    return Err(PackageError::Limit(format!(
                        "package expands past the {} bytes allowed in total",
                        limits.max_total_bytes
                    )));
                }
                hasher.update(&buf[..n]);
                out.write_all(&buf[..n]).map_err(|err| PackageError::io(format!("writing {rel}"), err))?;
            }
            stored.push(StoredFile {
                path: rel.to_owned(),
                size,
                content_type: content_type(rel).to_owned(),
                sha256: hex::encode(hasher.finalize()),
            });
            progress(Progress { files_done: stored.len(), files_total, bytes_done: total });
        }
        Ok(stored)
    }
}

/// Refuses a zip bomb: more than `max_ratio` times expansion once past `ratio_min_bytes`.
fn check_ratio(what: &str, size: u64, compressed: u64, limits: &Limits) -> Result<(), PackageError> {
    if size > limits.ratio_min_bytes && size / compressed.max(1) > limits.max_ratio {
        return Err(PackageError::Limit(format!(
            "{what:?} would expand {}× ({size} bytes from {compressed}), more than the {}× compression ratio allowed",
            size / compressed.max(1),
            limits.max_ratio
        )));
    }
    Ok(())
}

/// Descends through a chain of single top-level folders until a manifest
/// appears, because many tools zip the folder rather than its contents.
/// Without a manifest anywhere on the chain the top level is kept, so the
/// "no manifest" error describes the package as uploaded.
fn find_root(entries: &[Entry], warnings: &mut Vec<String>) -> String {
    let mut prefix = String::new();
    loop {
        let mut top: Option<&str> = None;
        let mut single = true;
        for e in entries.iter().filter(|e| !e.is_dir) {
            let Some(rel) = e.name.strip_prefix(prefix.as_str()) else {
                continue;
            };
            match rel.split_once('/') {
                None => {
                    if is_manifest_name(rel) {
                        if !prefix.is_empty() {
                            warnings.push(format!(
                                "package content sits inside the folder {prefix:?}; it was used as the package root"
                            ));
                        }
                        return prefix;
                    }
                    single = false;
                }
                Some((first, _)) => match top {
                    None => top = Some(first),
                    Some(t) if t == first => {}
                    Some(_) => single = false,
                },
            }
        }
        match top {
            Some(t) if single => prefix = format!("{prefix}{t}/"),
            _ => return String::new(),
        }
    }
}

/// Content type from the extension; packages are served as static files.
pub fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "xml" | "xsd" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "csv" => "text/csv",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "eot" => "application/vnd.ms-fontobject",
        "pdf" => "application/pdf",
        "swf" => "application/x-shockwave-flash",
        "vtt" => "text/vtt",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}
