//! The statements query: the rarest filter drives the scan through `statement_index` (`(key_id,
//! stored_us, seq)` primary key, so rows come out already in stored order and a time window is a
//! range), the others are probed on the same key. Without filters the scan runs over
//! `statements.seq`, or over `stored` for a time window (see [`StatementQuery::in_stored_order`]).

use super::{keys, StatementQuery, COLUMNS};

/// A value to bind, in placeholder order.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Int(i64),
    Text(String),
}

/// Which filter drives the scan: the kind whose keys usually match the fewest statements (a
/// registration is one attempt; a verb is shared by most statements). The others are probed.
fn rarity(kind: char) -> u8 {
    match kind {
        'R' => 0,
        'A' => 1,
        'C' => 2,
        'a' => 3,
        'c' => 4,
        _ => 5,
    }
}

/// Builds the statements query and its parameters.
pub(super) fn statements_query(q: &StatementQuery) -> (String, Vec<Bind>) {
    let mut binds: Vec<Bind> = Vec::new();
    let ph = |b: Bind, binds: &mut Vec<Bind>| {
        binds.push(b);
        format!("${}", binds.len())
    };
    let stored_order = q.in_stored_order();
    let mut sql = format!("SELECT {COLUMNS} FROM ");
    let mut filters: Vec<&(char, String)> = q.filters.iter().collect();
    filters.sort_by_key(|(kind, _)| rarity(*kind));
    let mut filters = filters.into_iter();
    // The table whose (stored_us, seq) the conditions and the order use: the driving index rows,
    // so that a window and a cursor are a range of the index.
    let t = if let Some((kind, key)) = filters.next() {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let v = ph(Bind::Text(key.clone()), &mut binds);
        sql.push_str(&format!(
            "statement_index d JOIN statements s ON s.seq = d.seq WHERE d.key_id = {}",
            keys::id_sql(&k, &v)
        ));
        "d"
    } else {
        sql.push_str("statements s WHERE 1 = 1");
        "s"
    };
    sql.push_str(" AND s.voided = FALSE");
    let m = ph(Bind::Int(q.max_seq), &mut binds);
    sql.push_str(&format!(" AND {t}.seq <= {m}"));
    let op = if q.ascending { ">" } else { "<" };
    match (q.after_seq, q.after_stored_us) {
        (Some(after), Some(stored)) if stored_order => {
            let st = ph(Bind::Int(stored), &mut binds);
            let a = ph(Bind::Int(after), &mut binds);
            sql.push_str(&format!(" AND ({t}.stored_us, {t}.seq) {op} ({st}, {a})"));
        }
        (Some(after), _) => {
            let a = ph(Bind::Int(after), &mut binds);
            sql.push_str(&format!(" AND {t}.seq {op} {a}"));
        }
        (None, _) => {}
    }
    if let Some(since) = q.since_us {
        let p = ph(Bind::Int(since), &mut binds);
        sql.push_str(&format!(" AND {t}.stored_us > {p}"));
    }
    if let Some(until) = q.until_us {
        let p = ph(Bind::Int(until), &mut binds);
        sql.push_str(&format!(" AND {t}.stored_us <= {p}"));
    }
    if let Some(auth) = &q.authority {
        let p = ph(Bind::Text(auth.clone()), &mut binds);
        sql.push_str(&format!(" AND s.authority = {p}"));
    }
    if let Some((kind, keys)) = &q.any_agent {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let list: Vec<String> = keys.iter().map(|key| ph(Bind::Text(key.clone()), &mut binds)).collect();
        sql.push_str(&format!(
            " AND s.seq IN (SELECT e.seq FROM statement_index e WHERE e.key_id IN \
             (SELECT id FROM index_keys WHERE kind = {k} AND key IN ({})))",
            list.join(", ")
        ));
    }
    // Each other filter is probed per driving row, as a scalar subquery on the primary key (one row
    // at most), not `EXISTS`: PostgreSQL turns `EXISTS` into a semi-join, and not knowing the key
    // numbers when it plans (they are subqueries) it chose a merge join that read every row of the
    // probed key, e.g. all 56,656 rows of a verb for an agent's 64 (`agent` + `verb`: 18 ms at
    // 200,000 statements, growing with the store; probed: 0.7 ms). SQLite probes either way.
    for (kind, key) in filters {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let v = ph(Bind::Text(key.clone()), &mut binds);
        sql.push_str(&format!(
            " AND (SELECT 1 FROM statement_index e WHERE e.key_id = {} \
             AND e.stored_us = {t}.stored_us AND e.seq = {t}.seq) IS NOT NULL",
            keys::id_sql(&k, &v)
        ));
    }
    let dir = if q.ascending { "ASC" } else { "DESC" };
    let l = ph(Bind::Int(q.limit), &mut binds);
    if stored_order {
        sql.push_str(&format!(" ORDER BY {t}.stored_us {dir}, {t}.seq {dir} LIMIT {l}"));
    } else {
        sql.push_str(&format!(" ORDER BY {t}.seq {dir} LIMIT {l}"));
    }
    (sql, binds)
}
