//! Single sign-on's own data: sign-ins under way (between the redirect to the OpenID provider and its
//! callback) and the provider account linked to each console user.

use super::{ConsoleUserRow, Result, Store};

/// A sign-in under way. Taken (deleted) by its callback, so a `state` works once.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SsoLoginRow {
    pub state: String,
    pub browser_sha256: String,
    pub purpose: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_us: i64,
}

impl Store {
    /// Records a sign-in under way, and drops those begun before `expired_before_us` (abandoned at
    /// the provider), so the table holds only the last few minutes' sign-ins.
    pub async fn insert_sso_login(&self, row: &SsoLoginRow, expired_before_us: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.q("DELETE FROM sso_logins WHERE created_us < $1").bind(expired_before_us).execute().await?;
        conn.q("INSERT INTO sso_logins (state, browser_sha256, purpose, nonce, pkce_verifier, created_us) \
             VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&row.state)
            .bind(&row.browser_sha256)
            .bind(&row.purpose)
            .bind(&row.nonce)
            .bind(&row.pkce_verifier)
            .bind(row.created_us)
            .execute()
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes and answers the sign-in under way with this `state` (None when unknown or taken).
    pub async fn take_sso_login(&self, state: &str) -> Result<Option<SsoLoginRow>> {
        self.write()
            .q("DELETE FROM sso_logins WHERE state = $1 \
                RETURNING state, browser_sha256, purpose, nonce, pkce_verifier, created_us")
            .bind(state)
            .fetch_optional_as()
            .await
    }

    /// The console user linked to a provider account (`issuer sub`).
    pub async fn console_user_by_sso_subject(&self, subject: &str) -> Result<Option<ConsoleUserRow>> {
        self.read()
            .sql(format!("SELECT {} FROM console_users WHERE sso_subject = $1", super::console::USER_COLUMNS))
            .bind(subject)
            .fetch_optional_as()
            .await
    }

    /// Links a console user to a provider account, and sets the role the provider names (when it
    /// names one). False when another user is already linked to that account.
    pub async fn link_console_user_sso(&self, id: &str, subject: &str, role: Option<&str>) -> Result<bool> {
        let taken: Option<String> = self
            .write()
            .q("SELECT id FROM console_users WHERE sso_subject = $1 AND id <> $2")
            .bind(subject)
            .bind(id)
            .scalar_opt()
            .await?;
        if taken.is_some() {
            return Ok(false);
        }
        self.write()
            .q("UPDATE console_users SET sso_subject = $2, role = COALESCE($3, role) WHERE id = $1")
            .bind(id)
            .bind(subject)
            .bind(role.map(str::to_string))
            .execute()
            .await?;
        Ok(true)
    }
}
