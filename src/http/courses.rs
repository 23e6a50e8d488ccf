//! The admin API for courses (`/api/courses`, `admin` scope): import a package (the zip as the body, or
//! a `multipart/form-data` file field), list courses, show one. Documented in `docs/openapi.yaml`.

use std::path::PathBuf;

use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use super::error::{ApiError, ApiResult};
use super::extract::{header_str, Admin, QueryPairs};
use crate::lms::courses::summary_json;
use crate::lms::Lms;
use crate::lrs::LrsError;

/// Largest package accepted over HTTP.
pub const MAX_PACKAGE_BYTES: u64 = 4 << 30;

/// A temp file removed when dropped, so no upload outlives its request.
pub(crate) struct Upload(PathBuf);

impl Upload {
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }

    async fn create(lms: &Lms) -> ApiResult<(Upload, tokio::fs::File)> {
        tokio::fs::create_dir_all(lms.content_dir())
            .await
            .map_err(|e| ApiError::Lrs(LrsError::BadRequest(format!("content folder: {e}"))))?;
        let upload = Upload(lms.content_dir().join(format!(".upload-{}.zip", uuid::Uuid::new_v4())));
        let file = tokio::fs::File::create(&upload.0)
            .await
            .map_err(|e| ApiError::Lrs(LrsError::BadRequest(format!("cannot store upload: {e}"))))?;
        Ok((upload, file))
    }
}

/// Streams one multipart file field to a temp file, up to [`MAX_PACKAGE_BYTES`]; refuses an empty one.
pub(crate) async fn receive_file(lms: &Lms, mut field: axum::extract::multipart::Field<'_>) -> ApiResult<Upload> {
    let (upload, mut file) = Upload::create(lms).await?;
    let mut written = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))? {
        write_chunk(&mut file, &mut written, &chunk).await?;
    }
    file.flush().await.map_err(|e| ApiError::Lrs(LrsError::BadRequest(format!("cannot store upload: {e}"))))?;
    if written == 0 {
        return Err(ApiError::BadRequest("the uploaded file is empty".into()));
    }
    Ok(upload)
}

impl Drop for Upload {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn write_chunk(file: &mut tokio::fs::File, written: &mut u64, chunk: &[u8]) -> ApiResult<()> {
    *written += chunk.len() as u64;
    if *written > MAX_PACKAGE_BYTES {
        return Err(ApiError::TooLarge(MAX_PACKAGE_BYTES as usize));
    }
    file.write_all(chunk).await.map_err(|e| ApiError::Lrs(LrsError::BadRequest(format!("cannot store upload: {e}"))))
}

/// POST /api/courses[?course_id=IRI]
pub async fn import(State(lms): State<Lms>, _: Admin, q: QueryPairs, req: Request) -> ApiResult<Response> {
    let course_id = q.get("course_id").map(str::to_string);
    if let Some((k, _)) = q.0.iter().find(|(k, _)| k != "course_id") {
        return Err(ApiError::BadRequest(format!("unknown parameter {k:?}; POST /api/courses takes only course_id")));
    }
    let (upload, mut file) = Upload::create(&lms).await?;
    let mut written = 0u64;
    let ct = header_str(req.headers(), "content-type").unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(req, &lms)
            .await
            .map_err(|e| ApiError::BadRequest(format!("bad multipart/form-data body: {e}")))?;
        let mut found = false;
        while let Some(mut field) =
            form.next_field().await.map_err(|e| ApiError::BadRequest(format!("bad multipart/form-data body: {e}")))?
        {
            if field.file_name().is_none() && field.name() != Some("file") && field.name() != Some("package") {
                continue;
            }
            while let Some(chunk) =
                field.chunk().await.map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?
            {
                write_chunk(&mut file, &mut written, &chunk).await?;
            }
            found = true;
            break;
        }
        if !found {
            return Err(ApiError::BadRequest("multipart/form-data body has no file field (name it `file`)".into()));
        }
    } else {
        let mut stream = req.into_body().into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("reading the upload: {e}")))?;
            write_chunk(&mut file, &mut written, &chunk).await?;
        }
    }
    file.flush().await.map_err(|e| ApiError::Lrs(LrsError::BadRequest(format!("cannot store upload: {e}"))))?;
    drop(file);
    if written == 0 {
        return Err(ApiError::BadRequest(
            "empty body: send the package zip as the body or as a multipart/form-data file".into(),
        ));
    }
    let view = lms.import_package(&upload.0, course_id, Box::new(|_| {})).await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// GET /api/courses
pub async fn list(State(lms): State<Lms>, _: Admin) -> ApiResult<Response> {
    let items: Vec<_> = lms.courses().await?.iter().map(summary_json).collect();
    Ok(axum::Json(items).into_response())
}

/// GET /api/courses/{id}[?version=N]; the id is the course IRI (percent-encoded or not).
pub async fn show(State(lms): State<Lms>, _: Admin, Path(id): Path<String>, q: QueryPairs) -> ApiResult<Response> {
    if let Some(course) = id.strip_suffix("/summary") {
        return super::results::summary_of(&lms, course).await;
    }
    let version = match q.get("version") {
        Some(v) => {
            Some(v.parse::<i64>().map_err(|_| ApiError::BadRequest(format!("version must be a number, got {v:?}")))?)
        }
        None => None,
    };
    Ok(axum::Json(lms.course(&id, version).await?).into_response())
}
