//! The console's own data: its users, their signed-in sessions (only a digest of each cookie's token)
//! and the audit log of admin actions.

use serde::Serialize;

use super::{Result, Store};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConsoleUserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub created_us: i64,
    pub disabled_us: Option<i64>,
    /// The OpenID provider's account (`issuer sub`) this user signs in with, once linked.
    pub sso_subject: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsoleSessionRow {
    pub token_sha256: String,
    pub user_id: String,
    pub csrf: String,
    pub created_us: i64,
    pub seen_us: i64,
    pub ended_us: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at_us: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// JSON text.
    pub detail: String,
}

pub(super) const USER_COLUMNS: &str = "id, email, name, role, password_hash, created_us, disabled_us, sso_subject";
const SESSION_COLUMNS: &str = "token_sha256, user_id, csrf, created_us, seen_us, ended_us";

impl Store {
    /// Adds a console user; false when the email is taken.
    pub async fn insert_console_user(&self, u: &ConsoleUserRow) -> Result<bool> {
        let n = self
            .write()
            .sql(format!(
                "INSERT INTO console_users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (email) DO NOTHING"
            ))
            .bind(&u.id)
            .bind(&u.email)
            .bind(&u.name)
            .bind(&u.role)
            .bind(&u.password_hash)
            .bind(u.created_us)
            .bind(u.disabled_us)
            .bind(&u.sso_subject)
            .execute()
            .await?;
        Ok(n == 1)
    }

    pub async fn console_users(&self) -> Result<Vec<ConsoleUserRow>> {
        self.read().sql(format!("SELECT {USER_COLUMNS} FROM console_users ORDER BY email")).fetch_all_as().await
    }

    pub async fn console_user(&self, id: &str) -> Result<Option<ConsoleUserRow>> {
        self.read()
            .sql(format!("SELECT {USER_COLUMNS} FROM console_users WHERE id = $1"))
            .bind(id)
            .fetch_optional_as()
            .await
    }

    pub async fn console_user_by_email(&self, email: &str) -> Result<Option<ConsoleUserRow>> {
        self.read()
            .sql(format!("SELECT {USER_COLUMNS} FROM console_users WHERE email = $1"))
            .bind(email)
            .fetch_optional_as()
            .await
    }

    /// Disables a user and ends their sessions, in one transaction; false when no enabled user has that id.
    pub async fn disable_console_user(&self, id: &str, at_us: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        let n = conn
            .q("UPDATE console_users SET disabled_us = $2 WHERE id = $1 AND disabled_us IS NULL")
            .bind(id)
            .bind(at_us)
            .execute()
            .await?;
        conn.q("UPDATE console_sessions SET ended_us = $2 WHERE user_id = $1 AND ended_us IS NULL")
            .bind(id)
            .bind(at_us)
            .execute()
            .await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    pub async fn insert_console_session(&self, s: &ConsoleSessionRow) -> Result<()> {
        self.write()
            .sql(format!("INSERT INTO console_sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"))
            .bind(&s.token_sha256)
            .bind(&s.user_id)
            .bind(&s.csrf)
            .bind(s.created_us)
            .bind(s.seen_us)
            .bind(s.ended_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn console_session(&self, token_sha256: &str) -> Result<Option<ConsoleSessionRow>> {
        self.read()
            .sql(format!("SELECT {SESSION_COLUMNS} FROM console_sessions WHERE token_sha256 = $1"))
            .bind(token_sha256)
            .fetch_optional_as()
            .await
    }

    /// Records activity on a session (for the idle expiry).
    pub async fn touch_console_session(&self, token_sha256: &str, at_us: i64) -> Result<()> {
        self.write()
            .q("UPDATE console_sessions SET seen_us = $2 WHERE token_sha256 = $1 AND ended_us IS NULL")
            .bind(token_sha256)
            .bind(at_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn end_console_session(&self, token_sha256: &str, at_us: i64) -> Result<()> {
        self.write()
            .q("UPDATE console_sessions SET ended_us = $2 WHERE token_sha256 = $1 AND ended_us IS NULL")
            .bind(token_sha256)
            .bind(at_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn insert_audit(&self, actor: &str, action: &str, target: &str, detail: &str, at_us: i64) -> Result<()> {
        self.write()
            .q("INSERT INTO audit_log (at_us, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)")
            .bind(at_us)
            .bind(actor)
            .bind(action)
            .bind(target)
            .bind(detail)
            .execute()
            .await?;
        Ok(())
    }

    /// The newest audit entries before `before_seq` (all when None), newest first.
    pub async fn audit_log(&self, before_seq: Option<i64>, limit: i64) -> Result<Vec<AuditRow>> {
        self.read()
            .q("SELECT seq, at_us, actor, action, target, detail FROM audit_log WHERE seq < $1 ORDER BY seq DESC LIMIT $2")
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all_as()
            .await
    }
}
