//! Serving imported package files at `/content/<version_id>/<path>`: a stable URL per course version
//! that a browser can launch. Only files inside that version's folder are reachable: every path
//! segment is checked (no `..`, `.`, backslashes, NUL or empty segments, after percent-decoding), the
//! resolved path must stay under the version folder, directories are never listed, and every answer
//! says `nosniff` so package content cannot be reinterpreted as another type.

use std::path::{Component, PathBuf};

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::http::error::{ApiError, ApiResult};
use crate::lms::Lms;
use crate::package::content_type;

/// A package-relative path made only of normal segments, or None.
pub fn safe_relative(path: &str) -> Option<PathBuf> {
    if path.is_empty() || path.contains('\\') || path.contains('\0') || path.starts_with('/') {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return None;
        }
        out.push(seg);
    }
    // Belt and braces: what the OS would make of it must be plain names too.
    out.components().all(|c| matches!(c, Component::Normal(_))).then_some(out)
}

/// GET /content/{version_id}/{*path}
pub async fn serve(
    State(lms): State<Lms>,
    Path((version, path)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let not_found = || ApiError::NotFound("no such file".into());
    let version = uuid::Uuid::parse_str(&version).map_err(|_| not_found())?.hyphenated().to_string();
    let rel = safe_relative(&path).ok_or_else(not_found)?;
    let file = lms.content_path(&version, &rel).await?.ok_or_else(not_found)?;
    let root = lms.content_dir().join(&version);
    let (Ok(real), Ok(real_root)) = (std::fs::canonicalize(&file), std::fs::canonicalize(&root)) else {
        return Err(not_found());
    };
    if !real.starts_with(&real_root) || !real.is_file() {
        return Err(not_found());
    }
    let mut resp = match ServeFile::new(&real).oneshot(req).await {
        Ok(r) => r.into_response(),
        Err(_) => return Err(not_found()),
    };
    let ok = resp.status().is_success();
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let (true, Ok(v)) = (ok, HeaderValue::from_str(content_type(&rel.to_string_lossy()))) {
        h.insert(header::CONTENT_TYPE, v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_odd_segments_are_refused() {
        for bad in ["../x", "a/../../b", "/etc/passwd", "a\\..\\b", "a//b", "./a", "a/.", "", "a\0b"] {
            assert!(safe_relative(bad).is_none(), "{bad:?}");
        }
        assert_eq!(safe_relative("sco1/index.html"), Some(PathBuf::from("sco1/index.html")));
        assert!(safe_relative("My Course/a b.html").is_some());
    }
}
