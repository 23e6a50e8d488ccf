//! The statements query: the rarest filter drives the scan through `statement_index` (`(key_id,
//! stored_us, seq)` primary key, so rows come out already in stored order and a time window is a
//! range), the others are probed on the same key; `agent` with `verb` is one key, their pair.
//! Without filters the scan runs over `statements.seq`, or over `stored` for a time window (see
//! [`StatementQuery::in_stored_order`]).

use super::{keys, StatementQuery, COLUMNS};

/// A value to bind, in placeholder order.
#[derive(Debug, Clone)]
pub(super) enum Bind {
    Int(i64),
    Text(String),
}

/// One filter of the query: a key, or an agent and a verb asked together, which are one pair key
/// (see `keys::PAIR_SPAN`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Filter<'a> {
    Key(char, &'a str),
    Pair { agent: &'a str, verb: &'a str },
}

impl<'a> Filter<'a> {
    /// The query's filters, with `agent` and `verb` merged into their pair.
    fn of(q: &'a StatementQuery) -> Vec<Filter<'a>> {
        let find = |kind: char| q.filters.iter().find(|(k, _)| *k == kind).map(|(_, key)| key.as_str());
        let pair = find('A').zip(find('V'));
        let mut out: Vec<Filter<'a>> = q
            .filters
            .iter()
            .filter(|(kind, _)| pair.is_none() || !matches!(kind, 'A' | 'V'))
            .map(|(kind, key)| Filter::Key(*kind, key))
            .collect();
        if let Some((agent, verb)) = pair {
            out.push(Filter::Pair { agent, verb });
        }
        out.sort_by_key(Filter::rarity);
        out
    }

    /// Which filter drives the scan: the kind whose keys usually match the fewest statements (a
    /// registration is one attempt; an agent's statements with one verb are fewer than its
    /// statements; a verb is shared by most statements). The others are probed.
    fn rarity(&self) -> u8 {
        match self {
            Filter::Key('R', _) => 0,
            Filter::Pair { .. } => 1,
            Filter::Key('A', _) => 2,
            Filter::Key('C', _) => 3,
            Filter::Key('a', _) => 4,
            Filter::Key('c', _) => 5,
            Filter::Key(..) => 6,
        }
    }

    /// The SQL giving this filter's key number, its parameters added to `binds`.
    fn id_sql(&self, binds: &mut Vec<Bind>) -> String {
        let mut ph = |b: Bind| {
            binds.push(b);
            format!("${}", binds.len())
        };
        match self {
            Filter::Key(kind, key) => {
                let k = ph(Bind::Text(kind.to_string()));
                let v = ph(Bind::Text(key.to_string()));
                keys::id_sql(&k, &v)
            }
            Filter::Pair { agent, verb } => {
                let a = ph(Bind::Text(agent.to_string()));
                let v = ph(Bind::Text(verb.to_string()));
                keys::pair_id_sql(&a, &v)
            }
        }
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
    let mut filters = Filter::of(q).into_iter();
    // The table whose (stored_us, seq) the conditions and the order use: the driving index rows,
    // so that a window and a cursor are a range of the index.
    let t = if let Some(driver) = filters.next() {
        let id = driver.id_sql(&mut binds);
        sql.push_str(&format!(
            "statement_index d JOIN statements s ON s.seq = d.seq AND s.stored_us = d.stored_us WHERE d.key_id = {id}"
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
    for probe in filters {
        let id = probe.id_sql(&mut binds);
        sql.push_str(&format!(
            " AND (SELECT 1 FROM statement_index e WHERE e.key_id = {id} \
             AND e.stored_us = {t}.stored_us AND e.seq = {t}.seq) IS NOT NULL"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn query(filters: &[(char, &str)]) -> StatementQuery {
        StatementQuery { filters: filters.iter().map(|(k, v)| (*k, v.to_string())).collect(), ..Default::default() }
    }

    #[test]
    fn agent_and_verb_become_their_pair_which_drives_unless_a_registration_is_asked() {
        let q = query(&[('V', "v"), ('C', "c"), ('A', "a")]);
        assert_eq!(Filter::of(&q), vec![Filter::Pair { agent: "a", verb: "v" }, Filter::Key('C', "c")]);
        let q = query(&[('V', "v"), ('R', "r"), ('A', "a")]);
        assert_eq!(Filter::of(&q), vec![Filter::Key('R', "r"), Filter::Pair { agent: "a", verb: "v" }]);
    }

    #[test]
    fn a_related_agent_or_a_lone_verb_stays_a_key() {
        let q = query(&[('V', "v"), ('a', "a")]);
        assert_eq!(Filter::of(&q), vec![Filter::Key('a', "a"), Filter::Key('V', "v")]);
        let q = query(&[('V', "v")]);
        assert_eq!(Filter::of(&q), vec![Filter::Key('V', "v")]);
    }

    #[test]
    fn the_pair_is_one_probe_of_the_index() {
        let (sql, binds) = statements_query(&query(&[('A', "a"), ('V', "v")]));
        assert_eq!(sql.matches("statement_index").count(), 1, "{sql}");
        assert!(sql.contains("a.kind = 'A' AND a.key = $1 AND v.kind = 'V' AND v.key = $2"), "{sql}");
        assert!(matches!(&binds[..2], [Bind::Text(a), Bind::Text(v)] if a == "a" && v == "v"));
    }
}
