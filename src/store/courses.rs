//! Courses and their imported versions (the parsed course model of each package, as JSON).

use super::{Result, Store};

/// One imported version of a course; `body` is the parsed course model as JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CourseVersionRow {
    pub id: String,
    pub course_id: String,
    pub version: i64,
    pub imported_us: i64,
    pub package_sha256: String,
    pub file_count: i64,
    pub total_bytes: i64,
    pub body: String,
}

/// A course version to record; the store assigns its version number.
#[derive(Debug, Clone)]
pub struct NewCourseVersion {
    pub id: String,
    pub course_id: String,
    pub title: String,
    pub format: String,
    pub imported_us: i64,
    pub package_sha256: String,
    pub file_count: i64,
    pub total_bytes: i64,
    pub body: String,
}

const VERSION_COLUMNS: &str = "v.id, v.course_id, v.version, v.imported_us, v.package_sha256, v.file_count, \
     v.total_bytes, v.body";

impl Store {
    /// Records an imported course version (creating the course, or bumping its latest version, in the
    /// same transaction); returns the version number.
    pub async fn insert_course_version(&self, v: &NewCourseVersion) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        let version: i64 = conn
            .q("INSERT INTO courses (id, title, format, latest_version, created_us, updated_us) \
                VALUES ($1, $2, $3, 1, $4, $4) \
                ON CONFLICT (id) DO UPDATE SET title = excluded.title, format = excluded.format, \
                latest_version = courses.latest_version + 1, updated_us = excluded.updated_us \
                RETURNING latest_version")
            .bind(&v.course_id)
            .bind(&v.title)
            .bind(&v.format)
            .bind(v.imported_us)
            .scalar()
            .await?;
        conn.q("INSERT INTO course_versions \
                (id, course_id, version, imported_us, package_sha256, file_count, total_bytes, body) \
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&v.id)
            .bind(&v.course_id)
            .bind(version)
            .bind(v.imported_us)
            .bind(&v.package_sha256)
            .bind(v.file_count)
            .bind(v.total_bytes)
            .bind(&v.body)
            .execute()
            .await?;
        tx.commit().await?;
        Ok(version)
    }

    /// The latest version of every course.
    pub async fn latest_course_versions(&self) -> Result<Vec<CourseVersionRow>> {
        let sql = format!(
            "SELECT {VERSION_COLUMNS} FROM courses c JOIN course_versions v \
             ON v.course_id = c.id AND v.version = c.latest_version ORDER BY c.id"
        );
        self.read().sql(sql).fetch_all_as().await
    }

    /// Every version of one course, newest first.
    pub async fn course_versions(&self, course_id: &str) -> Result<Vec<CourseVersionRow>> {
        let sql =
            format!("SELECT {VERSION_COLUMNS} FROM course_versions v WHERE v.course_id = $1 ORDER BY v.version DESC");
        self.read().sql(sql).bind(course_id).fetch_all_as().await
    }

    pub async fn course_version(&self, version_id: &str) -> Result<Option<CourseVersionRow>> {
        let sql = format!("SELECT {VERSION_COLUMNS} FROM course_versions v WHERE v.id = $1");
        self.read().sql(sql).bind(version_id).fetch_optional_as().await
    }
}
