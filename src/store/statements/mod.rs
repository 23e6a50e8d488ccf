//! Statements: the rows, their filter index (`statement_index`), attachments, and the reads the
//! Statement resource and results maintenance need. Writing is in `write`, the query builder in
//! `query`.

pub(in crate::store) mod keys;
pub(in crate::store) mod packing;
mod query;
mod write;

use std::sync::Arc;

pub(super) use write::{insert_in, Packed};

use super::dialect::{Row, Value};
use super::results::{FactRow, PackedFact};
use super::{Result, Store, StoreError};

/// A stored body that cannot be unpacked: the store is damaged, not the request.
fn damaged(what: &str, e: packing::Unpack) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("{what}: packed body unreadable: {e}")))
}

/// The packed forms of a batch's statement bodies and of its facts' bodies, each in the order of
/// its list (None: stored as text). Packed on the request's task: the SQLite writer is one task for
/// every request, and compression is CPU work.
#[derive(Debug, Default)]
pub(in crate::store) struct PackedBodies {
    statements: Vec<Option<Vec<u8>>>,
    facts: Vec<Option<Vec<u8>>>,
}

impl PackedBodies {
    /// Each statement of `batch` (the list these were packed from) with its packed body.
    pub fn pair_statements<'a>(&'a self, batch: &'a [NewStatement]) -> Vec<Packed<'a>> {
        batch.iter().enumerate().map(|(i, st)| (st, self.statements.get(i).and_then(|p| p.as_deref()))).collect()
    }

    /// Each fact of `facts` (the list these were packed from) with its packed body.
    pub fn pair_facts<'a>(&'a self, facts: &'a [FactRow]) -> Vec<PackedFact<'a>> {
        facts.iter().enumerate().map(|(i, f)| (f, self.facts.get(i).and_then(|p| p.as_deref()))).collect()
    }
}

/// A statement ready to insert: the body is final, the index rows are computed.
#[derive(Debug, Clone)]
pub struct NewStatement {
    pub id: String,
    pub stored_us: i64,
    pub is_voiding: bool,
    /// Target of a StatementRef object, if any.
    pub object_ref: Option<String>,
    /// Credential key that stores it.
    pub authority: String,
    pub body: String,
    /// `(kind, key)` rows; see the `statement_index` table.
    pub index: Vec<(char, String)>,
    pub attachments: Vec<String>,
    /// Activities with definitions seen in this statement, merged into the canonical table.
    pub activities: Vec<(String, serde_json::Value)>,
    /// Agents seen as actor/object, for the Agents resource: `(key, agent JSON)`.
    pub agents: Vec<(String, serde_json::Value)>,
    /// The actor's key when it is an Agent (active learners per week).
    pub actor: Option<String>,
}

/// An attachment body to store once per sha2.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub sha2: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// A statement as read back.
#[derive(Debug, Clone)]
pub struct StoredStatement {
    pub seq: i64,
    pub id: String,
    pub stored_us: i64,
    pub is_voiding: bool,
    pub voided: bool,
    pub body: String,
    pub attachments: Vec<String>,
}

/// A statements query after parameter parsing. Filters are `(kind, key)` pairs of `statement_index`.
#[derive(Debug, Clone, Default)]
pub struct StatementQuery {
    pub filters: Vec<(char, String)>,
    /// A filter matched by any of several keys of one kind (a person's identifiers).
    pub any_agent: Option<(char, Vec<String>)>,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    /// Only statements stored by this credential (`statements/read/mine`).
    pub authority: Option<String>,
    pub ascending: bool,
    /// Rows to fetch (the caller asks for one more than it returns to know whether to page).
    pub limit: i64,
    /// Keyset cursor: the last `seq` returned by the previous page, and its `stored_us` when the
    /// query is in stored order (see [`StatementQuery::in_stored_order`]).
    pub after_seq: Option<i64>,
    pub after_stored_us: Option<i64>,
    /// Snapshot bound: rows with a larger `seq` arrived after the query began and are excluded.
    pub max_seq: i64,
    /// Stop reading rows once their bodies add up to more than this many bytes (the row that
    /// crosses it, and at least two rows, are returned, so the caller knows more exist). Rows are
    /// streamed, so a page of large statements never sits in memory beyond this bound plus one row.
    pub max_bytes: Option<usize>,
}

impl StatementQuery {
    /// Filtered queries and time windows are answered in `(stored, seq)` order straight off an
    /// index (`statement_index` for a filter, `stored` for a window alone), so a page costs its own
    /// rows wherever it lies (sorting a window's `seq`s cost 75 ms at a million statements). Stored
    /// order is the order xAPI asks for; only the unfiltered, unbounded query reads by `seq` (the
    /// order rows were committed in), which stands for it.
    pub fn in_stored_order(&self) -> bool {
        !self.filters.is_empty() || self.since_us.is_some() || self.until_us.is_some()
    }
}

/// Statements `s` found by id: through `statement_ids i` (migration 0023), which on PostgreSQL is the
/// only index of ids, and gives the `stored_us` that finds the row's month partition.
pub(in crate::store) const BY_ID: &str =
    "statement_ids i JOIN statements s ON s.seq = i.seq AND s.stored_us = i.stored_us";

/// The columns [`from_row`] reads, of `statements s`.
pub(in crate::store) const COLUMNS: &str =
    "s.seq, s.id, s.stored_us, s.is_voiding, s.voided, s.body, s.packed, s.attachments";

/// A statement row as read: its body still packed when it was stored packed (see [`packing`]);
/// [`Store::unpacked`] finishes it.
pub(in crate::store) struct RawStatement {
    statement: StoredStatement,
    packed: Option<Vec<u8>>,
}

impl RawStatement {
    /// The body's length once unpacked (for page byte budgets), without unpacking it.
    fn body_len(&self) -> usize {
        match &self.packed {
            Some(p) => packing::unpacked_len(p),
            None => self.statement.body.len(),
        }
    }
}

pub(in crate::store) fn from_row(r: &Row) -> sqlx::Result<RawStatement> {
    let attachments: Option<String> = r.get("attachments")?;
    Ok(RawStatement {
        statement: StoredStatement {
            seq: r.get("seq")?,
            id: r.get("id")?,
            stored_us: r.get("stored_us")?,
            is_voiding: r.get("is_voiding")?,
            voided: r.get("voided")?,
            body: r.get("body")?,
            attachments: attachments.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default(),
        },
        packed: r.get("packed")?,
    })
}

impl Store {
    /// Stores a batch in one transaction: all or nothing. A concurrent insert of one of the ids gives
    /// [`super::StoreError::DuplicateStatement`] and stores nothing.
    /// The batch is shared (`Arc`), not copied, with the SQLite group-commit writer task.
    /// `facts` are results-maintenance rows committed in the same transaction.
    pub async fn insert_statements(
        &self,
        batch: Arc<[NewStatement]>,
        attachments: &[NewAttachment],
        facts: Arc<[FactRow]>,
    ) -> Result<()> {
        let packed = Arc::new(PackedBodies {
            statements: self.pack(batch.iter().map(|st| st.body.as_str())),
            facts: self.pack(facts.iter().map(|f| f.body.as_str())),
        });
        let n = batch.len();
        match self {
            // Grouped with other requests by the writer task (one commit and fsync for many).
            Store::Sqlite(s) => s.insert_statements(batch, packed, attachments, facts).await?,
            // Each request commits on its own: PostgreSQL already shares one WAL flush among the
            // commits of concurrent transactions, and nodes sharing the database could not share one
            // writer anyway.
            Store::Postgres(s) => {
                if let Some(latest) = batch.iter().map(|st| st.stored_us).max() {
                    s.cover(latest).await?;
                }
                let keys: Vec<(char, &str)> =
                    batch.iter().flat_map(|st| st.index.iter().map(|(kind, key)| (*kind, key.as_str()))).collect();
                keys::preregister(&s.pool, &s.health, &keys).await?;
                let mut tx = self.begin_write().await?;
                let (rows, facts) = (packed.pair_statements(&batch), packed.pair_facts(&facts));
                insert_in(&mut tx.conn(), &rows, attachments, &facts).await?;
                tx.commit().await?
            }
        }
        self.after_stored(n);
        Ok(())
    }

    /// The statements with these ids (voided or not).
    pub async fn statements_by_id(&self, ids: &[String]) -> Result<Vec<StoredStatement>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ex = self.read();
        let sql = format!("SELECT {COLUMNS} FROM {BY_ID} WHERE i.id IN ({})", ex.backend().param_list(1, ids.len()));
        let mut q = ex.sql(sql);
        for id in ids {
            q = q.bind(id);
        }
        let rows = q.fetch_all().await?;
        self.unpacked(rows.iter().map(from_row).collect::<sqlx::Result<_>>()?).await
    }

    pub async fn query_statements(&self, sq: &StatementQuery) -> Result<Vec<StoredStatement>> {
        let (sql, binds) = query::statements_query(sq);
        let mut q = self.read().sql(sql);
        for b in binds {
            q = match b {
                query::Bind::Int(i) => q.bind(i),
                query::Bind::Text(t) => q.bind(t),
            };
        }
        let Some(max_bytes) = sq.max_bytes else {
            let rows = q.fetch_all().await?;
            return self.unpacked(rows.iter().map(from_row).collect::<sqlx::Result<_>>()?).await;
        };
        let (mut out, mut bytes) = (Vec::new(), 0usize);
        q.for_each(|row| {
            let s = from_row(&row)?;
            bytes = bytes.saturating_add(s.body_len());
            out.push(s);
            // Past the budget, and one row beyond the first: the caller can tell there is more even
            // when a single statement fills the page.
            Ok(!(bytes > max_bytes && out.len() >= 2))
        })
        .await?;
        self.unpacked(out).await
    }

    /// The newest `seq`, the snapshot bound for a new query.
    pub async fn max_seq(&self) -> Result<i64> {
        let v: Option<i64> = self.read().q("SELECT MAX(seq) FROM statements").scalar().await?;
        Ok(v.unwrap_or(0))
    }

    /// Statements stored on each of `days` days from `from_us` (a UTC day boundary), from the counts
    /// kept per day as statements are written (`statement_days`), not by counting statements.
    pub async fn statements_per_day(&self, from_us: i64, days: i64) -> Result<Vec<i64>> {
        const DAY_US: i64 = 86_400_000_000;
        let rows = self
            .read()
            .q("SELECT (day_us - $1) / 86400000000 AS d, CAST(SUM(n) AS BIGINT) AS n FROM statement_days \
                WHERE day_us >= $1 AND day_us < $2 GROUP BY day_us")
            .bind(from_us)
            .bind(from_us + days * DAY_US)
            .fetch_all()
            .await?;
        let mut out = vec![0i64; days.max(0) as usize];
        for r in rows {
            let (d, n): (i64, i64) = (r.get("d")?, r.get("n")?);
            if let Some(slot) = usize::try_from(d).ok().and_then(|d| out.get_mut(d)) {
                *slot = n;
            }
        }
        Ok(out)
    }

    /// Live (not voided, not voiding) statements after `after_seq`, in order.
    pub async fn statement_page(&self, after_seq: i64, limit: i64) -> Result<Vec<StoredStatement>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM statements s WHERE s.seq > $1 AND s.voided = FALSE AND s.is_voiding = FALSE \
             ORDER BY s.seq LIMIT $2"
        );
        let rows = self.read().sql(sql).bind(after_seq).bind(limit).fetch_all().await?;
        self.unpacked(rows.iter().map(from_row).collect::<sqlx::Result<_>>()?).await
    }

    /// Rows with their bodies unpacked, loading any dictionary this process has not seen yet (one
    /// another node trained, or this store's after a restart).
    pub(in crate::store) async fn unpacked(&self, rows: Vec<RawStatement>) -> Result<Vec<StoredStatement>> {
        let mut out = Vec::with_capacity(rows.len());
        for RawStatement { mut statement, packed } in rows {
            if let Some(packed) = packed {
                statement.body = self.unpack(|| format!("statement {}", statement.id), &packed).await?;
            }
            out.push(statement);
        }
        Ok(out)
    }

    /// A packed body unpacked, loading its dictionary first when this process has not seen it yet.
    /// `what` names the body in the error.
    pub(in crate::store) async fn unpack(&self, what: impl FnOnce() -> String, packed: &[u8]) -> Result<String> {
        match packing::unpack(packed) {
            Ok(body) => Ok(body),
            Err(packing::Unpack::Missing(key)) => {
                self.load_dictionary(key).await?;
                packing::unpack(packed).map_err(|e| damaged(&what(), e))
            }
            Err(e) => Err(damaged(&what(), e)),
        }
    }

    async fn load_dictionary(&self, key: i64) -> Result<Arc<packing::Dictionary>> {
        let bytes: Option<Vec<u8>> =
            self.read().q("SELECT dictionary FROM body_dictionaries WHERE key = $1").bind(key).scalar_opt().await?;
        let bytes = bytes.ok_or_else(|| {
            StoreError::Database(sqlx::Error::Protocol(format!("body dictionary {key} is not in the store")))
        })?;
        let d = packing::Dictionary::load(&bytes).ok_or_else(|| {
            StoreError::Database(sqlx::Error::Protocol(format!("body dictionary {key} does not load")))
        })?;
        Ok(packing::remember(d))
    }

    /// This store's dictionary state (the writers' current dictionary).
    fn bodies(&self) -> &packing::Bodies {
        match self {
            Store::Sqlite(s) => &s.bodies,
            Store::Postgres(s) => &s.bodies,
        }
    }

    /// Bodies (of statements, of results facts) packed with the current dictionary, in order (None:
    /// stored as text).
    pub(in crate::store) fn pack<'a>(&self, bodies: impl Iterator<Item = &'a str>) -> Vec<Option<Vec<u8>>> {
        let d = self.bodies().current();
        bodies.map(|body| packing::pack(body, d.as_deref())).collect()
    }

    /// After `n` statements were stored: now and then, adopt the store's dictionary or, once there
    /// are enough statements and none, train one on the latest (in the background: training takes a
    /// fraction of a second of CPU). Nodes sharing a database may each train one; every node reads
    /// any of them by key, and each packs with the one it adopted.
    fn after_stored(&self, n: usize) {
        if !self.bodies().stored(n) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.find_or_train_dictionary().await {
                tracing::warn!("body dictionary: {e}");
            }
            store.bodies().looked();
        });
    }

    async fn find_or_train_dictionary(&self) -> Result<()> {
        let newest: Option<i64> = self
            .read()
            .q("SELECT key FROM body_dictionaries ORDER BY created_us DESC, key LIMIT 1")
            .scalar_opt()
            .await?;
        if let Some(key) = newest {
            let d = match packing::known(key) {
                Some(d) => d,
                None => self.load_dictionary(key).await?,
            };
            self.bodies().adopt(d);
            return Ok(());
        }
        let last = self.max_seq().await?;
        if last < packing::TRAIN_ON {
            return Ok(());
        }
        let samples: Vec<String> = self
            .statement_page(last - packing::TRAIN_ON, packing::TRAIN_ON)
            .await?
            .into_iter()
            .map(|s| s.body)
            .collect();
        let trained =
            tokio::task::spawn_blocking(move || zstd::dict::from_samples(&samples, packing::DICTIONARY_BYTES)).await;
        let bytes = match trained {
            Ok(Ok(bytes)) => bytes,
            // Too few or too uniform samples: try again later.
            Ok(Err(e)) => return Err(StoreError::Database(sqlx::Error::Protocol(format!("training: {e}")))),
            Err(e) => return Err(StoreError::Database(sqlx::Error::Protocol(format!("training task: {e}")))),
        };
        let d = packing::Dictionary::load(&bytes)
            .ok_or_else(|| StoreError::Database(sqlx::Error::Protocol("trained dictionary does not load".into())))?;
        let mut tx = self.begin_write().await?;
        tx.conn()
            .q("INSERT INTO body_dictionaries (key, dictionary, created_us) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING")
            .bind(d.key)
            .bind(bytes)
            .bind(crate::now_us())
            .execute()
            .await?;
        tx.commit().await?;
        self.bodies().adopt(packing::remember(d));
        Ok(())
    }

    pub async fn attachments(&self, sha2s: &[String]) -> Result<Vec<NewAttachment>> {
        if sha2s.is_empty() {
            return Ok(Vec::new());
        }
        let ex = self.read();
        let sql = format!(
            "SELECT sha2, content_type, body FROM attachments WHERE sha2 IN ({})",
            ex.backend().param_list(1, sha2s.len())
        );
        let rows = bind_all(ex.sql(sql), sha2s).fetch_all().await?;
        rows.iter()
            .map(|r| {
                Ok(NewAttachment { sha2: r.get("sha2")?, content_type: r.get("content_type")?, body: r.get("body")? })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
}

/// Binds every value of `values`, in order.
fn bind_all<'c, T: Value + Copy>(
    mut q: super::dialect::Q<'c>,
    values: impl IntoIterator<Item = T>,
) -> super::dialect::Q<'c> {
    for v in values {
        q = q.bind(v);
    }
    q
}
