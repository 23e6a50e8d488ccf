//! The statements query: the first filter drives the scan through `statement_index` (`(kind, key,
//! seq)` primary key, so rows come out already in `seq` order), the others are probed with EXISTS on
//! the same key. Without filters the scan runs over `statements.seq`, or over `stored` for a time
//! window (see [`StatementQuery::in_stored_order`]).

use super::{StatementQuery, COLUMNS};

/// A value to bind, in placeholder order.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Int(i64),
    Text(String),
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
    let order_col;
    let mut filters = q.filters.iter();
    if let Some((kind, key)) = filters.next() {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let v = ph(Bind::Text(key.clone()), &mut binds);
        sql.push_str(&format!(
            "statement_index d JOIN statements s ON s.seq = d.seq WHERE d.kind = {k} AND d.key = {v}"
        ));
        order_col = "d.seq";
    } else {
        sql.push_str("statements s WHERE 1 = 1");
        order_col = "s.seq";
    }
    sql.push_str(" AND s.voided = FALSE");
    let m = ph(Bind::Int(q.max_seq), &mut binds);
    sql.push_str(&format!(" AND {order_col} <= {m}"));
    let op = if q.ascending { ">" } else { "<" };
    match (q.after_seq, q.after_stored_us) {
        (Some(after), Some(stored)) if stored_order => {
            let st = ph(Bind::Int(stored), &mut binds);
            let a = ph(Bind::Int(after), &mut binds);
            sql.push_str(&format!(" AND (s.stored_us, s.seq) {op} ({st}, {a})"));
        }
        (Some(after), _) => {
            let a = ph(Bind::Int(after), &mut binds);
            sql.push_str(&format!(" AND {order_col} {op} {a}"));
        }
        (None, _) => {}
    }
    if let Some(since) = q.since_us {
        let p = ph(Bind::Int(since), &mut binds);
        sql.push_str(&format!(" AND s.stored_us > {p}"));
    }
    if let Some(until) = q.until_us {
        let p = ph(Bind::Int(until), &mut binds);
        sql.push_str(&format!(" AND s.stored_us <= {p}"));
    }
    if let Some(auth) = &q.authority {
        let p = ph(Bind::Text(auth.clone()), &mut binds);
        sql.push_str(&format!(" AND s.authority = {p}"));
    }
    if let Some((kind, keys)) = &q.any_agent {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let list: Vec<String> = keys.iter().map(|key| ph(Bind::Text(key.clone()), &mut binds)).collect();
        sql.push_str(&format!(
            " AND s.seq IN (SELECT e.seq FROM statement_index e WHERE e.kind = {k} AND e.key IN ({}))",
            list.join(", ")
        ));
    }
    for (kind, key) in filters {
        let k = ph(Bind::Text(kind.to_string()), &mut binds);
        let v = ph(Bind::Text(key.clone()), &mut binds);
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM statement_index e WHERE e.kind = {k} AND e.key = {v} AND e.seq = s.seq)"
        ));
    }
    let dir = if q.ascending { "ASC" } else { "DESC" };
    let l = ph(Bind::Int(q.limit), &mut binds);
    if stored_order {
        sql.push_str(&format!(" ORDER BY s.stored_us {dir}, s.seq {dir} LIMIT {l}"));
    } else {
        sql.push_str(&format!(" ORDER BY {order_col} {dir} LIMIT {l}"));
    }
    (sql, binds)
}
