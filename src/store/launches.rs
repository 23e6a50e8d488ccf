//! Launches: one per start of a course module by a learner. A launch is also a credential (its key
//! is the id); only SHA-256 digests of its secrets are kept.

use serde::Serialize;

use super::{Result, Store};

/// A launch of one course module for one learner (see `lms::launch`).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LaunchRow {
    pub id: String,
    pub course_id: String,
    pub version_id: String,
    pub module_id: String,
    /// The module's xAPI activity id, root of the activity tree the credential may write about.
    pub activity_id: String,
    /// `scorm12`, `scorm2004`, `cmi5` or `tincan`.
    pub format: String,
    /// The learner, xAPI agent JSON text.
    pub actor: String,
    pub agent_key: String,
    pub registration: String,
    /// `Normal`, `Browse` or `Review`.
    pub launch_mode: String,
    pub session_id: String,
    #[serde(skip)]
    pub secret_sha256: Option<String>,
    #[serde(skip)]
    pub fetch_sha256: Option<String>,
    pub fetch_used: bool,
    /// `launched`, `initialized`, `suspended`, `terminated`, `abandoned` or `revoked`.
    pub state: String,
    pub created_us: i64,
    pub expires_us: i64,
    pub last_activity_us: i64,
}

pub(super) const COLUMNS: &str =
    "id, course_id, version_id, module_id, activity_id, format, actor, agent_key, registration, \
     launch_mode, session_id, secret_sha256, fetch_sha256, fetch_used, state, created_us, expires_us, last_activity_us";

impl Store {
    pub async fn insert_launch(&self, l: &LaunchRow) -> Result<()> {
        let sql = format!(
            "INSERT INTO launches ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        );
        self.write()
            .sql(sql)
            .bind(&l.id)
            .bind(&l.course_id)
            .bind(&l.version_id)
            .bind(&l.module_id)
            .bind(&l.activity_id)
            .bind(&l.format)
            .bind(&l.actor)
            .bind(&l.agent_key)
            .bind(&l.registration)
            .bind(&l.launch_mode)
            .bind(&l.session_id)
            .bind(&l.secret_sha256)
            .bind(&l.fetch_sha256)
            .bind(l.fetch_used)
            .bind(&l.state)
            .bind(l.created_us)
            .bind(l.expires_us)
            .bind(l.last_activity_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn launch(&self, id: &str) -> Result<Option<LaunchRow>> {
        self.read().sql(format!("SELECT {COLUMNS} FROM launches WHERE id = $1")).bind(id).fetch_optional_as().await
    }

    /// A learner's recent launches of one module (of any module when `module_id` is empty), newest first.
    pub async fn launches_of(&self, agent_key: &str, course_id: &str, module_id: &str) -> Result<Vec<LaunchRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM launches WHERE agent_key = $1 AND course_id = $2 AND ($3 = '' OR module_id = $3) \
             ORDER BY created_us DESC LIMIT 20"
        );
        self.read().sql(sql).bind(agent_key).bind(course_id).bind(module_id).fetch_all_as().await
    }

    /// Moves a launch from state `from` to `to` (compare-and-set, so two requests cannot both make the
    /// same transition); false when it was not in `from`.
    pub async fn set_launch_state(&self, id: &str, from: &str, to: &str, at_us: i64) -> Result<bool> {
        let n = self
            .write()
            .q("UPDATE launches SET state = $3, last_activity_us = $4 WHERE id = $1 AND state = $2")
            .bind(id)
            .bind(from)
            .bind(to)
            .bind(at_us)
            .execute()
            .await?;
        Ok(n == 1)
    }

    /// Records that the session was active at `at_us` (the end of an abandoned session's duration).
    pub async fn touch_launch(&self, id: &str, at_us: i64) -> Result<()> {
        self.write()
            .q("UPDATE launches SET last_activity_us = $2 WHERE id = $1")
            .bind(id)
            .bind(at_us)
            .execute()
            .await?;
        Ok(())
    }

    /// Stores the launch credential's secret hash. With `via_fetch` this is the cmi5 fetch: it succeeds
    /// only once, and only before the launch expires.
    pub async fn issue_launch_secret(
        &self,
        id: &str,
        secret_sha256: &str,
        via_fetch: bool,
        now_us: i64,
    ) -> Result<bool> {
        let n = if via_fetch {
            self.write()
                .q("UPDATE launches SET secret_sha256 = $2, fetch_used = TRUE \
                    WHERE id = $1 AND fetch_used = FALSE AND expires_us > $3")
                .bind(id)
                .bind(secret_sha256)
                .bind(now_us)
                .execute()
                .await?
        } else {
            self.write()
                .q("UPDATE launches SET secret_sha256 = $2 WHERE id = $1")
                .bind(id)
                .bind(secret_sha256)
                .execute()
                .await?
        };
        Ok(n == 1)
    }
}
