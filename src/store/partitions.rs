//! PostgreSQL: `statements` and `statement_index` are partitioned by stored month (migration 0023).
//! A month's partition must exist before a statement stored in it arrives, so the store keeps the
//! month after the current one ready: a write whose `stored` reaches the last prepared month first
//! adds the next one ([`PgStore::cover`]). That happens once a month on each node, under an advisory
//! lock, so nodes sharing the database add each month once; adding an empty partition does not block
//! writers or readers of the others (`ATTACH PARTITION` takes a lock that only conflicts with other
//! schema changes, not with inserts or queries).
//!
//! Months are calendar months in UTC, bounded by microseconds since the epoch like `stored_us`.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{Date, Month, OffsetDateTime, Time};

use super::postgres::PgStore;
use super::{Result, StoreError};

/// The advisory lock of partition changes ("cairnmon").
const PARTITIONS_LOCK: i64 = 0x6361_6972_6e6d_6f6e;

/// The tables partitioned by month, each partition named `<table>_<yyyy>_<mm>`.
const TABLES: [&str; 2] = ["statements", "statement_index"];

/// What this process knows is prepared: partitions cover every `stored_us` below this.
#[derive(Debug, Default)]
pub(super) struct Prepared(AtomicI64);

/// The first microsecond of the month holding `us` (UTC).
pub fn month_start(us: i64) -> i64 {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let first = Date::from_calendar_date(t.year(), t.month(), 1).unwrap_or(t.date());
    micros(first)
}

/// The first microsecond of the month after the one holding `us` (UTC).
pub fn next_month_start(us: i64) -> i64 {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (year, month) =
        if t.month() == Month::December { (t.year() + 1, Month::January) } else { (t.year(), t.month().next()) };
    micros(Date::from_calendar_date(year, month, 1).unwrap_or(t.date()))
}

fn micros(d: Date) -> i64 {
    (d.with_time(Time::MIDNIGHT).assume_utc().unix_timestamp_nanos() / 1_000) as i64
}

/// A month partition's name: `statements_2026_12` for December 2026.
fn partition_name(table: &str, month_start_us: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(i128::from(month_start_us) * 1_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{table}_{:04}_{:02}", t.year(), u8::from(t.month()))
}

/// The upper bound of a partition from PostgreSQL's text of it (`pg_get_expr(relpartbound, …)`):
/// `FOR VALUES FROM (…) TO ('1798761600000000')`; `MAXVALUE` as `i64::MAX`.
fn upper_bound(text: &str) -> Option<i64> {
    let to = text.rsplit_once(" TO (")?.1;
    let value = to.trim_end().strip_suffix(')')?.trim().trim_matches('\'');
    if value.eq_ignore_ascii_case("MAXVALUE") {
        return Some(i64::MAX);
    }
    value.parse().ok()
}

impl PgStore {
    /// Makes sure partitions exist for a statement stored at `stored_us` and for the month after its
    /// month. Cheap when they do (one atomic load).
    pub(super) async fn cover(&self, stored_us: i64) -> Result<()> {
        // Prepared up to the end of next month: nothing to do until the month before that bound.
        let until = next_month_start(next_month_start(stored_us));
        if until <= self.months.0.load(Ordering::Relaxed) {
            return Ok(());
        }
        let covered = self.health.guard(add_months(&self.pool, until)).await?;
        self.months.0.fetch_max(covered, Ordering::Relaxed);
        Ok(())
    }
}

/// Adds month partitions to each table until its partitions reach `until` (a month start), in one
/// transaction under the partitions lock; returns the bound every table now reaches.
async fn add_months(pool: &sqlx::PgPool, until: i64) -> Result<i64> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(PARTITIONS_LOCK).execute(&mut *tx).await?;
    let mut reached = i64::MAX;
    for table in TABLES {
        let parts = partitions_of(&mut *tx, table).await?;
        let mut from = parts.iter().map(|p| p.until_us).max().unwrap_or_else(|| month_start(crate::now_us()));
        while from < until {
            let to = next_month_start(from);
            let name = partition_name(table, from);
            // Created apart, then attached: `CREATE TABLE … PARTITION OF` would lock the parent
            // against every reader and writer for the moment it takes.
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS); \
                 ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})"
            )))
            .execute(&mut *tx)
            .await?;
            from = to;
        }
        reached = reached.min(from);
    }
    tx.commit().await?;
    Ok(reached)
}

/// The schema archived months are moved to: out of the store's queries, in one place to dump.
pub const ARCHIVE_SCHEMA: &str = "cairn_archive";

/// One month of statements as PostgreSQL holds it: a partition of `statements` (and its
/// `statement_index` twin), or one moved to [`ARCHIVE_SCHEMA`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StoredMonth {
    /// The `statements` partition: `statements_2026_12`, or `statements_first` for the rows stored
    /// before the store was partitioned (migration 0023), whose range has no lower bound.
    pub table: String,
    /// Its range of `stored` (microseconds since the epoch): `from_us` (None: no lower bound) up to
    /// but not including `until_us`. None for a table listed from the archive (its range went with
    /// the detach); what `archive_months` returns keeps the ranges it archived.
    pub from_us: Option<i64>,
    pub until_us: Option<i64>,
    /// Statements in it.
    pub statements: i64,
    /// Bytes on disk of both tables, their indexes included.
    pub bytes: i64,
    pub archived: bool,
}

/// The lower and upper bound of a partition from PostgreSQL's text of it; `MINVALUE` as None.
fn bounds(text: &str) -> Option<(Option<i64>, i64)> {
    let from = text.split_once("FROM (")?.1.split_once(')')?.0.trim().trim_matches('\'');
    let from = if from.eq_ignore_ascii_case("MINVALUE") { None } else { Some(from.parse().ok()?) };
    Some((from, upper_bound(text)?))
}

/// The `statement_index` twin of a `statements` month table.
fn index_twin(table: &str) -> String {
    format!("statement_index{}", table.strip_prefix("statements").unwrap_or_default())
}

impl super::Store {
    fn postgres_for(&self, what: &str) -> Result<&PgStore> {
        match self {
            super::Store::Postgres(s) => Ok(s),
            super::Store::Sqlite(_) => Err(StoreError::NotPossible(format!(
                "{what} needs PostgreSQL: SQLite keeps every month of statements in one table"
            ))),
        }
    }

    /// The months of statements, oldest first, then the archived ones (PostgreSQL).
    pub async fn stored_months(&self) -> Result<Vec<StoredMonth>> {
        let s = self.postgres_for("listing months")?;
        s.health.guard(list_months(&s.pool)).await
    }

    /// Moves every month that ends on or before `before_us` (a month start, before the current month)
    /// out of the store into [`ARCHIVE_SCHEMA`]: its `statements` and `statement_index` partitions
    /// are detached without blocking readers or writers (`DETACH PARTITION … CONCURRENTLY`), then
    /// its ids leave `statement_ids` in slices. The LRS no longer returns those statements and their
    /// ids may be used again; results already derived from them, and their results facts, stay, so
    /// that `cairn results rebuild` still counts them. Returns the months archived by this call.
    ///
    /// Safe to run again after an interruption: it finishes what an earlier run began (ids of
    /// archived tables still in `statement_ids`).
    pub async fn archive_months(&self, before_us: i64) -> Result<Vec<StoredMonth>> {
        let s = self.postgres_for("archiving months")?;
        if before_us != month_start(before_us) {
            return Err(StoreError::NotPossible("months are archived whole: give the first day of a month".into()));
        }
        if before_us > month_start(crate::now_us()) {
            return Err(StoreError::NotPossible(
                "the current month cannot be archived: statements are still being stored in it".into(),
            ));
        }
        s.health.guard(archive(&s.pool, before_us)).await
    }
}

/// A partition of a table partitioned by month: its name and range (`from_us` None: no lower bound).
struct Partition {
    table: String,
    from_us: Option<i64>,
    until_us: i64,
}

/// The partitions of `parent`, in the store's schema.
async fn partitions_of<'c, E: sqlx::PgExecutor<'c>>(ex: E, parent: &str) -> Result<Vec<Partition>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass($1)",
    )
    .bind(parent)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(table, bound)| match bounds(&bound) {
            Some((from_us, until_us)) => Ok(Partition { table, from_us, until_us }),
            None => Err(StoreError::Database(sqlx::Error::Protocol(format!(
                "cannot read the range of {parent}'s partition {table}: {bound}"
            )))),
        })
        .collect()
}

/// The `statements` tables in [`ARCHIVE_SCHEMA`].
async fn archived_tables<'c, E: sqlx::PgExecutor<'c>>(ex: E) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 'statements\\_%'",
    )
    .bind(ARCHIVE_SCHEMA)
    .fetch_all(ex)
    .await?)
}

/// A month table with its statements counted and its bytes (its `statement_index` twin's too):
/// a live partition with its range, or an archived table (`range` None).
async fn measured(pool: &sqlx::PgPool, table: String, range: Option<(Option<i64>, i64)>) -> Result<StoredMonth> {
    let archived = range.is_none();
    let name = |t: &str| if archived { format!("{ARCHIVE_SCHEMA}.{t}") } else { t.to_string() };
    let (statements, bytes): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT (SELECT count(*) FROM {table}), \
         pg_total_relation_size('{table}') + coalesce(pg_total_relation_size(to_regclass('{twin}')), 0)",
        table = name(&table),
        twin = name(&index_twin(&table)),
    )))
    .fetch_one(pool)
    .await?;
    let (from_us, until_us) = range.map_or((None, None), |(from, until)| (from, Some(until)));
    Ok(StoredMonth { table, from_us, until_us, statements, bytes, archived })
}

async fn list_months(pool: &sqlx::PgPool) -> Result<Vec<StoredMonth>> {
    let mut live = partitions_of(pool, "statements").await?;
    live.sort_by_key(|p| p.until_us);
    let mut out = Vec::with_capacity(live.len());
    for p in live {
        out.push(measured(pool, p.table, Some((p.from_us, p.until_us))).await?);
    }
    for table in archived_tables(pool).await? {
        out.push(measured(pool, table, None).await?);
    }
    Ok(out)
}

/// Ids deleted from `statement_ids` per transaction while archiving.
const IDS_PER_SLICE: i64 = 10_000;

async fn archive(pool: &sqlx::PgPool, before_us: i64) -> Result<Vec<StoredMonth>> {
    // One connection throughout: the session lock below is held by it.
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)").bind(PARTITIONS_LOCK).execute(&mut *conn).await?;
    let result = async {
        // Counted before they leave, for the caller's report and the audit log.
        let mut months = Vec::new();
        for p in partitions_of(pool, "statements").await? {
            if p.until_us <= before_us {
                months.push(measured(pool, p.table, Some((p.from_us, p.until_us))).await?);
            }
        }
        months.sort_by_key(|m| m.until_us);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {ARCHIVE_SCHEMA}")))
            .execute(&mut *conn)
            .await?;
        for m in &months {
            // The index rows first: for a moment a filtered query may find a row whose statement
            // is already gone, which the join to `statements` drops, never the other way round.
            for (parent, table) in [("statement_index", index_twin(&m.table)), ("statements", m.table.clone())] {
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "ALTER TABLE {parent} DETACH PARTITION {table} CONCURRENTLY"
                )))
                .execute(&mut *conn)
                .await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER TABLE {table} SET SCHEMA {ARCHIVE_SCHEMA}")))
                    .execute(&mut *conn)
                    .await?;
            }
        }
        forget_archived_ids(&mut conn).await?;
        Ok(months.into_iter().map(|m| StoredMonth { archived: true, ..m }).collect())
    }
    .await;
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(PARTITIONS_LOCK).execute(&mut *conn).await?;
    result
}

/// Deletes the `statement_ids` rows of every archived table's statements, a slice of `seq` at a
/// time (each its own transaction, so the LRS's writers are never held for long).
async fn forget_archived_ids(conn: &mut sqlx::PgConnection) -> Result<()> {
    let tables = archived_tables(&mut *conn).await?;
    for table in tables {
        let table = format!("{ARCHIVE_SCHEMA}.{table}");
        let (first, last): (Option<i64>, Option<i64>) =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT min(seq), max(seq) FROM {table}")))
                .fetch_one(&mut *conn)
                .await?;
        let (Some(mut from), Some(last)) = (first, last) else { continue };
        while from <= last {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM statement_ids i USING {table} t \
                 WHERE t.seq >= $1 AND t.seq < $2 AND i.id = t.id AND i.seq = t.seq"
            )))
            .bind(from)
            .bind(from + IDS_PER_SLICE)
            .execute(&mut *conn)
            .await?;
            from += IDS_PER_SLICE;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_calendar_months_in_utc() {
        // 2026-12-04T17:00:00Z
        let t = 1_796_403_600_000_000;
        assert_eq!(month_start(t), 1_796_083_200_000_000, "2026-12-01");
        assert_eq!(next_month_start(t), 1_798_761_600_000_000, "2027-01-01");
        assert_eq!(next_month_start(month_start(t)), next_month_start(t));
        assert_eq!(month_start(next_month_start(t)), next_month_start(t));
        assert_eq!(partition_name("statements", month_start(t)), "statements_2026_12");
        assert_eq!(partition_name("statement_index", next_month_start(t)), "statement_index_2027_01");
    }

    #[test]
    fn bounds_and_twins() {
        assert_eq!(bounds("FOR VALUES FROM (MINVALUE) TO ('20')"), Some((None, 20)));
        assert_eq!(bounds("FOR VALUES FROM ('10') TO ('20')"), Some((Some(10), 20)));
        assert_eq!(index_twin("statements_2026_12"), "statement_index_2026_12");
        assert_eq!(index_twin("statements_first"), "statement_index_first");
    }

    #[test]
    fn upper_bounds_are_read_from_postgres_text() {
        assert_eq!(upper_bound("FOR VALUES FROM (MINVALUE) TO ('1798761600000000')"), Some(1_798_761_600_000_000));
        assert_eq!(upper_bound("FOR VALUES FROM ('1') TO (MAXVALUE)"), Some(i64::MAX));
        assert_eq!(upper_bound("DEFAULT"), None);
    }
}
