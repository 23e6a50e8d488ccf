//! Errors raised while importing a package.
//!
//! Every refusal names the file and, where the XML parser can tell, the line,
//! because the person uploading a package has to fix it in an authoring tool.

use std::fmt;

/// Where in a package a problem sits: a file, and a 1-based line and column when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Location { file: file.into(), line: None, column: None }
    }

    pub fn at(file: impl Into<String>, line: u32, column: u32) -> Self {
        Location { file: file.into(), line: Some(line), column: Some(column) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ", line {line}")?;
            if let Some(col) = self.column {
                write!(f, ", column {col}")?;
            }
        }
        Ok(())
    }
}

/// Why a package was refused.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("I/O error ({context}): {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("not a readable zip archive: {0}")]
    Zip(String),
    #[error("zip entry {name:?} has an unsafe path: {reason}")]
    UnsafePath { name: String, reason: &'static str },
    #[error("zip entry {0:?} is a symbolic link; links are refused because they can point outside the package")]
    Symlink(String),
    #[error("zip entry {0:?} is encrypted; encrypted packages cannot be served")]
    Encrypted(String),
    #[error("zip entry {0:?} appears more than once")]
    DuplicateEntry(String),
    #[error("zip entry name is not valid UTF-8 ({0}); re-create the zip with UTF-8 file names")]
    NonUtf8Name(String),
    #[error("zip entry {name:?} uses an unsupported compression method ({method})")]
    UnsupportedCompression { name: String, method: String },
    #[error("package exceeds a limit: {0}")]
    Limit(String),
    #[error("no supported package manifest found: expected imsmanifest.xml (SCORM), cmi5.xml (cmi5), tincan.xml (TinCan) or a .crs file (AICC) at the package root")]
    UnknownFormat,
    #[error("{location}: {message}")]
    Manifest { location: Location, message: String },
    #[error("{location}: launch file {path:?} for {module:?} is not in the package")]
    MissingLaunchFile { location: Location, module: String, path: String },
}

impl PackageError {
    /// Shorthand for a format-rule violation in a manifest file.
    pub fn manifest(location: Location, message: impl Into<String>) -> Self {
        PackageError::Manifest { location, message: message.into() }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        PackageError::Io { context: context.into(), source }
    }
}
