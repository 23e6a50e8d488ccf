//! The learner's side: sign-in links (only a digest of each token), learner sessions (only a digest
//! of each cookie's token) and each learner's settings. Apart from the console's tables, so that no
//! query can mistake one kind of session for the other.

use super::{Result, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LearnerSessionRow {
    pub token_sha256: String,
    pub person_id: String,
    pub csrf: String,
    pub created_us: i64,
    pub seen_us: i64,
    pub ended_us: Option<i64>,
}

const SESSION_COLUMNS: &str = "token_sha256, person_id, csrf, created_us, seen_us, ended_us";

impl Store {
    pub async fn insert_learner_link(
        &self,
        token_sha256: &str,
        person_id: &str,
        created_by: &str,
        created_us: i64,
        expires_us: i64,
    ) -> Result<()> {
        self.write()
            .q("INSERT INTO learner_links (token_sha256, person_id, created_by, created_us, expires_us, used_us) \
                VALUES ($1, $2, $3, $4, $5, NULL)")
            .bind(token_sha256)
            .bind(person_id)
            .bind(created_by)
            .bind(created_us)
            .bind(expires_us)
            .execute()
            .await?;
        Ok(())
    }

    /// Whether a link is still usable (unused, unexpired), without using it: the page a GET shows.
    pub async fn learner_link_usable(&self, token_sha256: &str, now_us: i64) -> Result<bool> {
        let n: i64 = self
            .read()
            .q("SELECT COUNT(*) FROM learner_links WHERE token_sha256 = $1 AND used_us IS NULL AND expires_us > $2")
            .bind(token_sha256)
            .bind(now_us)
            .scalar()
            .await?;
        Ok(n > 0)
    }

    /// Uses a link: marks it used and answers its person, in one statement, so of two requests
    /// racing with the same token (on any nodes) exactly one gets the person.
    pub async fn use_learner_link(&self, token_sha256: &str, now_us: i64) -> Result<Option<String>> {
        self.write()
            .q("UPDATE learner_links SET used_us = $2 WHERE token_sha256 = $1 AND used_us IS NULL \
                AND expires_us > $2 RETURNING person_id")
            .bind(token_sha256)
            .bind(now_us)
            .scalar_opt()
            .await
    }

    pub async fn insert_learner_session(&self, s: &LearnerSessionRow) -> Result<()> {
        self.write()
            .sql(format!("INSERT INTO learner_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&s.token_sha256)
            .bind(&s.person_id)
            .bind(&s.csrf)
            .bind(s.created_us)
            .bind(s.seen_us)
            .bind(s.ended_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn learner_session(&self, token_sha256: &str) -> Result<Option<LearnerSessionRow>> {
        self.read()
            .sql(format!("SELECT {SESSION_COLUMNS} FROM learner_sessions WHERE token_sha256 = $1"))
            .bind(token_sha256)
            .fetch_optional_as()
            .await
    }

    /// Records activity on a session (for the idle expiry).
    pub async fn touch_learner_session(&self, token_sha256: &str, at_us: i64) -> Result<()> {
        self.write()
            .q("UPDATE learner_sessions SET seen_us = $2 WHERE token_sha256 = $1 AND ended_us IS NULL")
            .bind(token_sha256)
            .bind(at_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn end_learner_session(&self, token_sha256: &str, at_us: i64) -> Result<()> {
        self.write()
            .q("UPDATE learner_sessions SET ended_us = $2 WHERE token_sha256 = $1 AND ended_us IS NULL")
            .bind(token_sha256)
            .bind(at_us)
            .execute()
            .await?;
        Ok(())
    }

    /// The learner's chosen time zone, if any.
    pub async fn learner_timezone(&self, person_id: &str) -> Result<Option<String>> {
        self.read().q("SELECT timezone FROM learner_settings WHERE person_id = $1").bind(person_id).scalar_opt().await
    }

    /// Sets the learner's zone; with `replace` false, only when they have none yet.
    pub async fn set_learner_timezone(&self, person_id: &str, timezone: &str, at_us: i64, replace: bool) -> Result<()> {
        let conflict = if replace {
            "ON CONFLICT (person_id) DO UPDATE SET timezone = excluded.timezone, updated_us = excluded.updated_us"
        } else {
            "ON CONFLICT (person_id) DO NOTHING"
        };
        self.write()
            .sql(format!(
                "INSERT INTO learner_settings (person_id, timezone, updated_us) VALUES ($1, $2, $3) {conflict}"
            ))
            .bind(person_id)
            .bind(timezone)
            .bind(at_us)
            .execute()
            .await?;
        Ok(())
    }

    /// Removes a person's links, sessions and settings (erasure: nothing of theirs stays behind).
    pub async fn erase_learner_side(&self, person_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        for table in ["learner_links", "learner_sessions", "learner_settings"] {
            conn.sql(format!("DELETE FROM {table} WHERE person_id = $1")).bind(person_id).execute().await?;
        }
        tx.commit().await
    }
}
