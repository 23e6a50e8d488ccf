//! Credentials: HTTP Basic keys with their scopes; the secret is kept only as an argon2 hash.

use serde::Serialize;

use super::dialect::Row;
use super::{Result, Store};

/// A stored credential.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialRow {
    pub key: String,
    pub name: String,
    #[serde(skip)]
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub created_us: i64,
    pub revoked_us: Option<i64>,
}

const COLUMNS: &str = "key, name, secret_hash, scopes, created_us, revoked_us";

fn from_row(r: &Row) -> sqlx::Result<CredentialRow> {
    let scopes: String = r.get("scopes")?;
    Ok(CredentialRow {
        key: r.get("key")?,
        name: r.get("name")?,
        secret_hash: r.get("secret_hash")?,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        created_us: r.get("created_us")?,
        revoked_us: r.get("revoked_us")?,
    })
}

impl Store {
    pub async fn insert_credential(&self, c: &CredentialRow) -> Result<()> {
        self.write()
            .q("INSERT INTO credentials (key, name, secret_hash, scopes, created_us, revoked_us) \
                VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&c.key)
            .bind(&c.name)
            .bind(&c.secret_hash)
            .bind(c.scopes.join(" "))
            .bind(c.created_us)
            .bind(c.revoked_us)
            .execute()
            .await?;
        Ok(())
    }

    pub async fn credential(&self, key: &str) -> Result<Option<CredentialRow>> {
        let sql = format!("SELECT {COLUMNS} FROM credentials WHERE key = $1");
        let row = self.read().sql(sql).bind(key).fetch_optional().await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    pub async fn credentials(&self) -> Result<Vec<CredentialRow>> {
        let sql = format!("SELECT {COLUMNS} FROM credentials ORDER BY created_us, key");
        let rows = self.read().sql(sql).fetch_all().await?;
        Ok(rows.iter().map(from_row).collect::<sqlx::Result<_>>()?)
    }

    /// Marks a credential revoked; false when no active credential has that key.
    pub async fn revoke_credential(&self, key: &str, now_us: i64) -> Result<bool> {
        let n = self
            .write()
            .q("UPDATE credentials SET revoked_us = $2 WHERE key = $1 AND revoked_us IS NULL")
            .bind(key)
            .bind(now_us)
            .execute()
            .await?;
        Ok(n > 0)
    }

    pub async fn credential_count(&self) -> Result<i64> {
        self.read().q("SELECT COUNT(*) FROM credentials").scalar().await
    }
}
