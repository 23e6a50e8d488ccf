//! Documents: the State, Activity Profile and Agent Profile resources, one table keyed by kind,
//! activity, agent, registration and document id. The xAPI rules (preconditions, merging) are the
//! caller's; the store makes each read-decide-write atomic.

use super::dialect::{Conn, Row, Q};
use super::{Result, Store};

/// A stored document (State, Activity Profile, Agent Profile).
#[derive(Debug, Clone)]
pub struct Document {
    pub content_type: String,
    pub body: Vec<u8>,
    pub etag: String,
    pub updated_us: i64,
}

/// A `registration` value meaning "any registration" in document listings and bulk deletes (a real
/// registration is a UUID, so it can never collide).
pub const ANY_REGISTRATION: &str = "*";

/// Which document and where: the primary key of the `documents` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentKey {
    pub kind: &'static str,
    pub activity_id: String,
    pub agent_key: String,
    pub registration: String,
    pub doc_id: String,
}

impl DocumentKey {
    /// A name for locking this document.
    pub fn lock_name(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}\u{1f}{}\u{1f}{}",
            self.kind, self.activity_id, self.agent_key, self.registration, self.doc_id
        )
    }
}

/// What [`Store::modify_document`] should do with the document.
#[derive(Debug, Clone)]
pub enum DocumentChange {
    Keep,
    Put(Document),
    Delete,
}

const WHERE_KEY: &str = "kind = $1 AND activity_id = $2 AND agent_key = $3 AND registration = $4 AND doc_id = $5";
/// Every document under a key's activity/agent, in one registration or (`*`) all of them.
const WHERE_PLACE: &str = "kind = $1 AND activity_id = $2 AND agent_key = $3 AND ($4 = '*' OR registration = $4)";

/// Binds a document key's columns in table order; `with_id` adds `doc_id`.
fn bind_key<'c>(q: Q<'c>, key: &DocumentKey, with_id: bool) -> Q<'c> {
    let q = q.bind(key.kind).bind(&key.activity_id).bind(&key.agent_key).bind(&key.registration);
    if with_id {
        q.bind(&key.doc_id)
    } else {
        q
    }
}

fn from_row(r: &Row) -> sqlx::Result<Document> {
    Ok(Document {
        content_type: r.get("content_type")?,
        body: r.get("body")?,
        etag: r.get("etag")?,
        updated_us: r.get("updated_us")?,
    })
}

fn select_sql() -> String {
    format!("SELECT content_type, body, etag, updated_us FROM documents WHERE {WHERE_KEY}")
}

/// Reads a document and applies `decide` to it on the caller's write connection.
pub(super) async fn modify_in<T>(
    conn: &mut Conn<'_>,
    key: &DocumentKey,
    decide: impl FnOnce(Option<Document>) -> (DocumentChange, T),
) -> Result<T> {
    let row = bind_key(conn.sql(select_sql()), key, true).fetch_optional().await?;
    let current = row.as_ref().map(from_row).transpose()?;
    let (change, out) = decide(current);
    match change {
        DocumentChange::Keep => {}
        DocumentChange::Put(doc) => {
            let q = conn.q(
                "INSERT INTO documents (kind, activity_id, agent_key, registration, doc_id, content_type, body, etag, \
                 updated_us) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (kind, activity_id, agent_key, registration, doc_id) DO UPDATE SET \
                 content_type = excluded.content_type, body = excluded.body, etag = excluded.etag, \
                 updated_us = excluded.updated_us",
            );
            bind_key(q, key, true)
                .bind(&doc.content_type)
                .bind(&doc.body)
                .bind(&doc.etag)
                .bind(doc.updated_us)
                .execute()
                .await?;
        }
        DocumentChange::Delete => {
            bind_key(conn.sql(format!("DELETE FROM documents WHERE {WHERE_KEY}")), key, true).execute().await?;
        }
    }
    Ok(out)
}

impl Store {
    pub async fn document(&self, key: &DocumentKey) -> Result<Option<Document>> {
        let row = bind_key(self.read().sql(select_sql()), key, true).fetch_optional().await?;
        Ok(row.as_ref().map(from_row).transpose()?)
    }

    /// Ids of the documents under a key's activity/agent/registration (its `doc_id` is ignored),
    /// optionally only those updated after `since_us`.
    pub async fn document_ids(&self, key: &DocumentKey, since_us: Option<i64>) -> Result<Vec<String>> {
        let sql = format!(
            "SELECT doc_id FROM documents WHERE {WHERE_PLACE} AND updated_us > $5 GROUP BY doc_id ORDER BY doc_id"
        );
        bind_key(self.read().sql(sql), key, false).bind(since_us.unwrap_or(i64::MIN)).scalars().await
    }

    /// Reads a document and applies `decide` to it inside one transaction (row-locked on PostgreSQL,
    /// the single writer on SQLite), so concurrent writers never lose an update. The decision (the xAPI
    /// rules: preconditions, merging) is the caller's; the store only makes it atomic.
    pub async fn modify_document<T, F>(&self, key: &DocumentKey, decide: F) -> Result<T>
    where
        F: FnOnce(Option<Document>) -> (DocumentChange, T) + Send + 'static,
        T: Send + 'static,
    {
        match self {
            // Grouped with other writes by the writer task (one commit and fsync for many).
            Store::Sqlite(s) => s.modify_document(key, decide).await,
            Store::Postgres(_) => {
                let mut tx = self.begin_write().await?;
                let mut conn = tx.conn();
                conn.lock_key(&key.lock_name()).await?;
                let out = modify_in(&mut conn, key, decide).await?;
                tx.commit().await?;
                Ok(out)
            }
        }
    }

    /// Deletes every document under a key's activity/agent/registration (State DELETE without stateId).
    pub async fn delete_documents(&self, key: &DocumentKey) -> Result<()> {
        bind_key(self.write().sql(format!("DELETE FROM documents WHERE {WHERE_PLACE}")), key, false).execute().await?;
        Ok(())
    }
}
