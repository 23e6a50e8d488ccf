//! The backend Dialect: everything in which SQLite and PostgreSQL differ, in one place, so that each
//! resource module writes its SQL and its Rust once.
//!
//! sqlx has no dynamic driver with the types we need (`sqlx::Any` lacks several), and code generic over
//! `sqlx::Database` drowns in trait bounds. Instead these thin enums hold the concrete sqlx values of
//! one backend or the other: [`Q`] is a query bound for either, [`Row`] a row of either, [`Conn`] a
//! connection inside a write transaction, [`Tx`] that transaction. Binding and decoding are generic
//! over the Rust types both drivers know ([`Value`], [`Column`]), so a resource module never matches
//! on the backend. What does differ lives here as methods: parameter style, JSON aggregation of many
//! rows into one, sequence reservation, index-row inserts and named locks.
//!
//! Every PostgreSQL call runs under the health probe's guard (see `health`), so a down database
//! answers 503 quickly wherever the call comes from.

use futures_util::TryStreamExt;
use sqlx::postgres::{PgArguments, PgConnection, PgPool, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{AssertSqlSafe, ColumnIndex, Decode, Encode, Postgres, Row as _, SqlSafeStr, Sqlite, Type};

use super::health::Health;
use super::{Result, StoreError};

/// A Rust value both drivers can bind.
pub(super) trait Value:
    for<'t> Encode<'t, Sqlite> + Type<Sqlite> + for<'t> Encode<'t, Postgres> + Type<Postgres>
{
}
impl<T> Value for T where T: for<'t> Encode<'t, Sqlite> + Type<Sqlite> + for<'t> Encode<'t, Postgres> + Type<Postgres> {}

/// A Rust value both drivers can decode a column into.
pub(super) trait Column:
    for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres>
{
}
impl<T> Column for T where T: for<'r> Decode<'r, Sqlite> + Type<Sqlite> + for<'r> Decode<'r, Postgres> + Type<Postgres> {}

/// A column named or numbered, for either backend's rows.
pub(super) trait Index: ColumnIndex<SqliteRow> + ColumnIndex<PgRow> {}
impl<T> Index for T where T: ColumnIndex<SqliteRow> + ColumnIndex<PgRow> {}

/// Which backend; for the SQL text that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Placeholder number `i` (1-based): `$i` where parameters must be numbered (PostgreSQL), plain `?`
    /// otherwise. SQLite looks a numbered parameter's name up by walking a list, so binding the
    /// thousands of parameters of a multi-row insert by number costs quadratic time there (it showed
    /// as `sqlite3_bind_parameter_name` at the top of the insert profile); anonymous `?` bind in order.
    /// Short statements use `$N` on both (SQLite accepts it).
    pub fn param(self, i: usize) -> String {
        match self {
            Backend::Postgres => format!("${i}"),
            Backend::Sqlite => "?".to_string(),
        }
    }

    /// `n` placeholders from number `first`, comma-separated, for an `IN (…)` list.
    pub fn param_list(self, first: usize, n: usize) -> String {
        (first..first + n).map(|i| self.param(i)).collect::<Vec<_>>().join(", ")
    }

    /// `n` rows of `width` parameters each, numbered from 1, for a multi-row `VALUES` list.
    pub fn value_rows(self, n: usize, width: usize) -> String {
        (0..n).map(|i| format!("({})", self.param_list(width * i + 1, width))).collect::<Vec<_>>().join(", ")
    }

    /// `prefix VALUES-rows suffix`: a multi-row statement of `n` rows of `width` parameters.
    pub fn rows_sql(self, prefix: &str, suffix: &str, n: usize, width: usize) -> String {
        format!("{prefix} {} {suffix}", self.value_rows(n, width))
    }

    /// A BLOB/BYTEA expression as hexadecimal text.
    pub fn hex(self, expr: &str) -> String {
        match self {
            Backend::Sqlite => format!("hex({expr})"),
            Backend::Postgres => format!("encode({expr}, 'hex')"),
        }
    }

    /// `SELECT k, v …` as one row holding a JSON array of `[k, v]` pairs. sqlx hands each result row
    /// from SQLite's worker thread to the async task on its own (two thread wake-ups a row: the top
    /// of the ingest profile), so reads of many small rows on hot paths come back aggregated; on
    /// PostgreSQL it simply saves per-row protocol overhead.
    pub fn pairs_json(self, inner: &str) -> String {
        match self {
            Backend::Sqlite => format!("SELECT json_group_array(json_array(k, v)) FROM ({inner})"),
            Backend::Postgres => {
                format!("SELECT coalesce(json_agg(json_build_array(k, v)), '[]')::text FROM ({inner}) AS t")
            }
        }
    }
}

/// Where a query runs: a pool (each query on its own, autocommit) or a connection inside a transaction.
pub(super) enum Exec<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PgPool(&'c PgPool, &'c Health),
    Pg(&'c mut PgConnection, &'c Health),
}

impl<'c> Exec<'c> {
    pub fn backend(&self) -> Backend {
        match self {
            Exec::SqlitePool(_) | Exec::Sqlite(_) => Backend::Sqlite,
            Exec::PgPool(..) | Exec::Pg(..) => Backend::Postgres,
        }
    }

    /// A query on this executor; bind its parameters with [`Q::bind`], in placeholder order.
    pub fn q(self, sql: impl SqlSafeStr) -> Q<'c> {
        match self {
            Exec::SqlitePool(_) | Exec::Sqlite(_) => Q { exec: self, query: Bound::Sqlite(sqlx::query(sql)) },
            Exec::PgPool(..) | Exec::Pg(..) => Q { exec: self, query: Bound::Pg(sqlx::query(sql)) },
        }
    }

    /// [`Exec::q`] for SQL text built at run time (placeholders only, never values).
    pub fn sql(self, sql: String) -> Q<'c> {
        self.q(AssertSqlSafe(sql))
    }
}

enum Bound {
    Sqlite(sqlx::query::Query<'static, Sqlite, SqliteArguments>),
    Pg(sqlx::query::Query<'static, Postgres, PgArguments>),
}

/// A query with its parameters, bound for one backend, and where it will run.
#[must_use = "a query does nothing until executed"]
pub(super) struct Q<'c> {
    exec: Exec<'c>,
    query: Bound,
}

/// Runs `$op` (a sqlx query method) on the query's executor, mapping rows with `$map`; PostgreSQL
/// calls under the health guard.
macro_rules! run {
    ($self:ident, $op:ident, $map:expr) => {{
        let Q { exec, query } = $self;
        match (exec, query) {
            (Exec::SqlitePool(p), Bound::Sqlite(q)) => Ok($map(q.$op(p).await?)),
            (Exec::Sqlite(c), Bound::Sqlite(q)) => Ok($map(q.$op(&mut *c).await?)),
            (Exec::PgPool(p, h), Bound::Pg(q)) => h.guard(async { Ok($map(q.$op(p).await?)) }).await,
            (Exec::Pg(c, h), Bound::Pg(q)) => h.guard(async { Ok($map(q.$op(&mut *c).await?)) }).await,
            _ => Err(mismatch()),
        }
    }};
}

fn mismatch() -> StoreError {
    StoreError::Database(sqlx::Error::Protocol("a query bound for one backend ran on the other".into()))
}

impl<'c> Q<'c> {
    /// Binds the next parameter.
    pub fn bind<T: Value>(self, value: T) -> Self {
        let query = match self.query {
            Bound::Sqlite(q) => Bound::Sqlite(q.bind(value)),
            Bound::Pg(q) => Bound::Pg(q.bind(value)),
        };
        Q { exec: self.exec, query }
    }

    /// Runs it; the number of rows affected.
    pub async fn execute(self) -> Result<u64> {
        use sqlx::postgres::PgQueryResult;
        use sqlx::sqlite::SqliteQueryResult;
        let Q { exec, query } = self;
        match (exec, query) {
            (Exec::SqlitePool(p), Bound::Sqlite(q)) => Ok(SqliteQueryResult::rows_affected(&q.execute(p).await?)),
            (Exec::Sqlite(c), Bound::Sqlite(q)) => Ok(SqliteQueryResult::rows_affected(&q.execute(&mut *c).await?)),
            (Exec::PgPool(p, h), Bound::Pg(q)) => {
                h.guard(async { Ok(PgQueryResult::rows_affected(&q.execute(p).await?)) }).await
            }
            (Exec::Pg(c, h), Bound::Pg(q)) => {
                h.guard(async { Ok(PgQueryResult::rows_affected(&q.execute(&mut *c).await?)) }).await
            }
            _ => Err(mismatch()),
        }
    }

    pub async fn fetch_all(self) -> Result<Vec<Row>> {
        run!(self, fetch_all, |rows: Vec<_>| rows.into_iter().map(Row::from).collect::<Vec<Row>>())
    }

    pub async fn fetch_optional(self) -> Result<Option<Row>> {
        run!(self, fetch_optional, |row: Option<_>| row.map(Row::from))
    }

    pub async fn fetch_one(self) -> Result<Row> {
        run!(self, fetch_one, Row::from)
    }

    /// The first column of the one row.
    pub async fn scalar<T: Column>(self) -> Result<T> {
        Ok(self.fetch_one().await?.get(0)?)
    }

    /// The first column of the row, if there is one.
    pub async fn scalar_opt<T: Column>(self) -> Result<Option<T>> {
        Ok(self.fetch_optional().await?.map(|r| r.get(0)).transpose()?)
    }

    /// The first column of every row.
    pub async fn scalars<T: Column>(self) -> Result<Vec<T>> {
        Ok(self.fetch_all().await?.iter().map(|r| r.get(0)).collect::<sqlx::Result<_>>()?)
    }

    /// Every row decoded with `T`'s `sqlx::FromRow` (derived for both backends).
    pub async fn fetch_all_as<T>(self) -> Result<Vec<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        Ok(self.fetch_all().await?.iter().map(Row::decode).collect::<sqlx::Result<_>>()?)
    }

    pub async fn fetch_optional_as<T>(self) -> Result<Option<T>>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        Ok(self.fetch_optional().await?.as_ref().map(Row::decode).transpose()?)
    }

    /// Streams the rows to `each` until it answers false: a large result never sits in memory whole.
    pub async fn for_each(self, mut each: impl FnMut(Row) -> Result<bool>) -> Result<()> {
        async fn drain<S, R>(mut rows: S, each: &mut impl FnMut(Row) -> Result<bool>) -> Result<()>
        where
            S: futures_util::Stream<Item = sqlx::Result<R>> + Unpin,
            Row: From<R>,
        {
            while let Some(r) = rows.try_next().await? {
                if !each(Row::from(r))? {
                    break;
                }
            }
            Ok(())
        }
        let Q { exec, query } = self;
        match (exec, query) {
            (Exec::SqlitePool(p), Bound::Sqlite(q)) => drain(q.fetch(p), &mut each).await,
            (Exec::Sqlite(c), Bound::Sqlite(q)) => drain(q.fetch(&mut *c), &mut each).await,
            (Exec::PgPool(p, h), Bound::Pg(q)) => h.guard(drain(q.fetch(p), &mut each)).await,
            (Exec::Pg(c, h), Bound::Pg(q)) => h.guard(drain(q.fetch(&mut *c), &mut each)).await,
            _ => Err(mismatch()),
        }
    }

    /// Runs `SELECT k, v …` (two text columns) as one aggregated row (see [`Backend::pairs_json`]);
    /// the query's parameters are bound after this call.
    pub fn pairs(exec: Exec<'c>, inner: &str) -> PairsQ<'c> {
        let backend = exec.backend();
        PairsQ(exec.sql(backend.pairs_json(inner)))
    }
}

/// A [`Q::pairs`] query: bind its parameters, then [`PairsQ::fetch`].
pub(super) struct PairsQ<'c>(Q<'c>);

impl<'c> PairsQ<'c> {
    pub fn bind<T: Value>(self, value: T) -> Self {
        PairsQ(self.0.bind(value))
    }

    pub async fn fetch(self) -> Result<Vec<(String, String)>> {
        let text: String = self.0.scalar().await?;
        serde_json::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
    }
}

/// A row of either backend.
pub(super) enum Row {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

impl From<SqliteRow> for Row {
    fn from(r: SqliteRow) -> Self {
        Row::Sqlite(r)
    }
}

impl From<PgRow> for Row {
    fn from(r: PgRow) -> Self {
        Row::Pg(r)
    }
}

impl Row {
    /// One column, by name or number.
    pub fn get<T: Column, I: Index>(&self, col: I) -> sqlx::Result<T> {
        match self {
            Row::Sqlite(r) => r.try_get(col),
            Row::Pg(r) => r.try_get(col),
        }
    }

    /// The whole row as `T` (a `#[derive(sqlx::FromRow)]` struct).
    pub fn decode<T>(&self) -> sqlx::Result<T>
    where
        T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        match self {
            Row::Sqlite(r) => T::from_row(r),
            Row::Pg(r) => T::from_row(r),
        }
    }
}

/// A write transaction. Dropped without [`Tx::commit`], it rolls back.
pub(super) enum Tx {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Pg(sqlx::Transaction<'static, Postgres>, Health),
}

impl Tx {
    /// The transaction's connection, for a run of queries.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Pg(t, h) => Conn::Pg(t, h),
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => Ok(t.commit().await?),
            Tx::Pg(t, h) => h.guard(async { Ok(t.commit().await?) }).await,
        }
    }
}

/// A connection inside a write transaction (or a savepoint of SQLite's group commit).
pub(super) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Pg(&'c mut PgConnection, &'c Health),
}

impl Conn<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Pg(..) => Backend::Postgres,
        }
    }

    /// The connection as an executor for one query; the connection is usable again afterwards.
    pub fn ex(&mut self) -> Exec<'_> {
        match self {
            Conn::Sqlite(c) => Exec::Sqlite(c),
            Conn::Pg(c, h) => Exec::Pg(c, h),
        }
    }

    pub fn q(&mut self, sql: impl SqlSafeStr) -> Q<'_> {
        self.ex().q(sql)
    }

    pub fn sql(&mut self, sql: String) -> Q<'_> {
        self.ex().sql(sql)
    }

    /// Serialises writers of one named thing (a document, a session's seats) until the transaction
    /// ends: an advisory lock on PostgreSQL, across every node sharing the database; nothing on
    /// SQLite, whose single write connection already serialises writers.
    pub async fn lock_key(&mut self, key: &str) -> Result<()> {
        match self {
            Conn::Sqlite(_) => Ok(()),
            Conn::Pg(..) => {
                self.q("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key).execute().await?;
                Ok(())
            }
        }
    }

    /// Like [`Conn::lock_key`], for many keys at once, taken in one global order (by a stable 64-bit
    /// hash computed here, so that the order is known before locking), so that two transactions
    /// locking overlapping sets never deadlock on each other. The hash is not `lock_key`'s: a name
    /// must always be locked through the same one of the two (today the course summaries use this one
    /// only).
    pub async fn lock_keys(&mut self, keys: &[String]) -> Result<()> {
        let Conn::Pg(c, h) = self else { return Ok(()) };
        let mut ids: Vec<i64> = keys.iter().map(|k| stable_hash(k)).collect();
        if ids.is_empty() {
            return Ok(());
        }
        ids.sort_unstable();
        ids.dedup();
        let locks = sqlx::query("SELECT pg_advisory_xact_lock(x) FROM unnest($1::bigint[]) AS t(x)").bind(ids);
        h.guard(async { Ok(locks.execute(&mut **c).await.map(|_| ())?) }).await
    }

    /// The first `seq` of `n` new statements when the store numbers them itself (SQLite), or None
    /// when the insert returns them (PostgreSQL, concurrently with other nodes). On SQLite this saves
    /// reading the numbers back row by row (see [`Backend::pairs_json`]); it is safe because the single
    /// write connection, inside `BEGIN IMMEDIATE`, is the only writer, and `sqlite_sequence` keeps
    /// AUTOINCREMENT's promise that a number is never reused.
    pub async fn reserve_seqs(&mut self) -> Result<Option<i64>> {
        match self {
            Conn::Pg(..) => Ok(None),
            Conn::Sqlite(_) => {
                let last: i64 = self
                    .q("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'statements'), 0), \
                                coalesce((SELECT max(seq) FROM statements), 0))")
                    .scalar()
                    .await?;
                Ok(Some(last + 1))
            }
        }
    }

    /// Inserts `(key_id, stored_us, seq)` rows of `statement_index`, skipping ones that exist.
    pub async fn insert_index_rows(&mut self, rows: &[(i64, i64, i64)]) -> Result<()> {
        self.insert_number_rows("statement_index (key_id, stored_us, seq)", rows).await
    }

    /// Inserts rows of three integers into `target` (a table and its three columns), skipping ones
    /// that exist: `statement_index` rows, results fact links.
    ///
    /// PostgreSQL: three arrays in one statement whose text never changes. A multi-row VALUES list has
    /// a new text for every row count (a batch of 100 statements gives ~1,500 index rows, a different
    /// number each time), and PostgreSQL parsed and planned each one, with its thousands of
    /// parameters, anew: a fixed cost per request that dominated batches of 100. SQLite: multi-row
    /// INSERTs of up to [`INDEX_ROWS_PER_INSERT`] rows with anonymous parameters.
    pub async fn insert_number_rows(&mut self, target: &'static str, rows: &[(i64, i64, i64)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Conn::Pg(c, h) => {
                let first: Vec<i64> = rows.iter().map(|r| r.0).collect();
                let second: Vec<i64> = rows.iter().map(|r| r.1).collect();
                let third: Vec<i64> = rows.iter().map(|r| r.2).collect();
                let sql = format!(
                    "INSERT INTO {target} SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) \
                     ON CONFLICT DO NOTHING"
                );
                let insert = sqlx::query(AssertSqlSafe(sql)).bind(first).bind(second).bind(third);
                h.guard(async { Ok(insert.execute(&mut **c).await?) }).await?;
            }
            Conn::Sqlite(_) => {
                for chunk in rows.chunks(INDEX_ROWS_PER_INSERT) {
                    let sql = format!(
                        "INSERT INTO {target} VALUES {} ON CONFLICT DO NOTHING",
                        Backend::Sqlite.value_rows(chunk.len(), 3)
                    );
                    let mut q = self.sql(sql);
                    for (a, b, c) in chunk {
                        q = q.bind(*a).bind(*b).bind(*c);
                    }
                    q.execute().await?;
                }
            }
        }
        Ok(())
    }

    /// One multi-row statement per chunk: `prefix VALUES-rows suffix`, `width` parameters a row,
    /// bound by `bind_row`. Keeps write paths to a few round trips per request.
    pub async fn insert_rows<T>(
        &mut self,
        prefix: &str,
        suffix: &str,
        width: usize,
        rows: &[T],
        bind_row: impl for<'q> Fn(Q<'q>, &T) -> Q<'q>,
    ) -> Result<()> {
        let backend = self.backend();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut q = self.sql(backend.rows_sql(prefix, suffix, chunk.len(), width));
            for r in chunk {
                q = bind_row(q, r);
            }
            q.execute().await?;
        }
        Ok(())
    }

    /// [`Conn::insert_rows`] for a statement that ends in `RETURNING …`: the returned rows of every
    /// chunk, in order.
    pub async fn insert_rows_returning<T>(
        &mut self,
        prefix: &str,
        suffix: &str,
        width: usize,
        rows: &[T],
        bind_row: impl for<'q> Fn(Q<'q>, &T) -> Q<'q>,
    ) -> Result<Vec<Row>> {
        let backend = self.backend();
        let mut out = Vec::new();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut q = self.sql(backend.rows_sql(prefix, suffix, chunk.len(), width));
            for r in chunk {
                q = bind_row(q, r);
            }
            out.extend(q.fetch_all().await?);
        }
        Ok(out)
    }

    /// Runs `before (ids…) after` for the ids, a chunk of them per statement.
    pub async fn execute_for_ids(&mut self, before: &str, after: &str, ids: &[&str]) -> Result<()> {
        let backend = self.backend();
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let mut q = self.sql(format!("{before} ({}) {after}", backend.param_list(1, chunk.len())));
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute().await?;
        }
        Ok(())
    }
}

/// FNV-1a of a lock's name: the same on every node, unlike std's hasher.
fn stable_hash(key: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

/// Rows per multi-row insert and keys per `IN (…)` lookup: with up to 8 parameters a row, well under
/// SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
pub(super) const ROWS_PER_INSERT: usize = 500;

/// ` WHERE a = $1 AND b = $2` for the columns whose value is given (nothing when none is), and the
/// values to bind in order. Optional filters are written this way rather than as
/// `($1 = '' OR a = $1)`: SQLite plans a statement before its values are bound, so that form scans
/// the table instead of using the column's index.
pub(super) fn conditions<'a>(filters: &[(&str, Option<&'a str>)]) -> (String, Vec<&'a str>) {
    let mut parts = Vec::new();
    let mut values = Vec::new();
    for (column, value) in filters {
        if let Some(v) = value {
            values.push(*v);
            parts.push(format!("{column} = ${}", values.len()));
        }
    }
    let sql = if parts.is_empty() { String::new() } else { format!(" WHERE {}", parts.join(" AND ")) };
    (sql, values)
}
/// Index rows per multi-row insert on SQLite (3 parameters each).
pub(super) const INDEX_ROWS_PER_INSERT: usize = 2000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_rows_number_parameters_across_rows() {
        assert_eq!(Backend::Postgres.value_rows(2, 2), "($1, $2), ($3, $4)");
        assert_eq!(Backend::Sqlite.value_rows(2, 2), "(?, ?), (?, ?)");
    }
}
