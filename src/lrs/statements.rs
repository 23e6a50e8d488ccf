//! Statement use cases: store one or a batch (conflicts, voiding, attachments, all-or-nothing),
//! fetch one, and query with `more` paging over a stable snapshot.

use crate::xapi::view::View;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::auth::{Principal, ReadScope};
use super::error::Result;
use super::seams::Observation;
use super::{Lrs, LrsError};
use crate::store::{FactRow, NewAttachment, NewStatement, StatementQuery, StoreError, StoredStatement};
use crate::xapi::attachments::{self, AttachmentPayload};
use crate::xapi::format::{self, Format};
use crate::xapi::multipart::Part;
use crate::xapi::statement::{self, kind, StoreContext};
use crate::xapi::{agent, compare, langmap, timestamp, Version};

/// The parameters of GET /statements, parsed and checked.
#[derive(Debug, Clone, Default)]
pub struct QueryParams {
    pub statement_id: Option<String>,
    pub voided_statement_id: Option<String>,
    pub agent: Option<String>,
    pub verb: Option<String>,
    pub activity: Option<String>,
    pub registration: Option<String>,
    pub related_activities: bool,
    pub related_agents: bool,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    pub limit: usize,
    pub format: Option<Format>,
    pub attachments: bool,
    pub ascending: bool,
    pub cursor: Option<Cursor>,
    /// The version the request was served under: statements are answered in its form
    /// ([`format::for_version`]). None serves them as stored.
    pub version: Option<Version>,
    /// Statements about any of these agents (one person's identifiers: Cairn's `/api` person
    /// filter; the xAPI `agent` parameter keeps its exact-match meaning and never sets this).
    pub agents_any: Vec<String>,
}

/// Where a `more` link continues: after `last_seq`, within the snapshot that ended at `max_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub last_seq: i64,
    pub max_seq: i64,
    /// The last row's `stored_us`, for queries answered in stored order.
    pub last_stored_us: Option<i64>,
}

impl Cursor {
    /// An opaque token; stateless, so a `more` link from one node works on any other.
    pub fn encode(&self) -> String {
        let text = match self.last_stored_us {
            Some(stored) => format!("{}.{}.{stored}", self.last_seq, self.max_seq),
            None => format!("{}.{}", self.last_seq, self.max_seq),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let mut parts = text.split('.');
        let last_seq = parts.next()?.parse().ok()?;
        let max_seq = parts.next()?.parse().ok()?;
        let last_stored_us = match parts.next() {
            Some(s) => Some(s.parse().ok()?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Cursor { last_seq, max_seq, last_stored_us })
    }
}

/// Parameter names GET /statements accepts (plus our `cursor`). `method` is not among them: the
/// 1.0.3 alternate request syntax consumes it before routing, so anywhere else it is an error.
const QUERY_PARAMS: [&str; 15] = [
    "statementId",
    "voidedStatementId",
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
    "cursor",
];

fn bad(msg: impl Into<String>) -> LrsError {
    LrsError::BadRequest(msg.into())
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(format!("parameter {name} must be true or false, got {v:?}"))),
    }
}

fn parse_uuid(name: &str, v: &str) -> Result<String> {
    uuid::Uuid::parse_str(v)
        .ok()
        .filter(|_| v.len() == 36)
        .map(|u| u.hyphenated().to_string())
        .ok_or_else(|| bad(format!("parameter {name} must be a UUID, got {v:?}")))
}

fn parse_iri(name: &str, v: &str) -> Result<String> {
    iri_string::types::IriStr::new(v)
        .map(|_| v.to_string())
        .map_err(|_| bad(format!("parameter {name} must be an IRI, got {v:?}")))
}

fn parse_time(name: &str, v: &str) -> Result<i64> {
    let t = timestamp::parse_timestamp(v).map_err(|e| bad(format!("parameter {name}: {e}")))?;
    Ok((t.unix_timestamp_nanos() / 1000) as i64)
}

impl Lrs {
    /// Parses an agent given as a parameter (JSON text), validating it as an Agent or identified Group.
    pub fn parse_agent_param(&self, name: &str, text: &str, version: Version) -> Result<(Value, String)> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad(format!("parameter {name} is not valid JSON: {e}")))?;
        self.validator.agent(&v, version).map_err(|e| bad(format!("parameter {name}: {e}")))?;
        let key =
            agent::key(&v).ok_or_else(|| bad(format!("parameter {name} must identify an Agent or Group (one IFI)")))?;
        Ok((v, key))
    }

    /// Parses and checks GET /statements parameters.
    pub fn parse_query(&self, params: &[(String, String)], version: Version) -> Result<QueryParams> {
        let mut seen = HashSet::new();
        let mut q = QueryParams { limit: 0, version: Some(version), ..Default::default() };
        for (k, v) in params {
            if !QUERY_PARAMS.contains(&k.as_str()) {
                return Err(bad(format!("unknown parameter {k:?} for GET statements")));
            }
            if !seen.insert(k.as_str()) {
                return Err(bad(format!("parameter {k} given more than once")));
            }
            match k.as_str() {
                "statementId" => q.statement_id = Some(parse_uuid(k, v)?),
                "voidedStatementId" => q.voided_statement_id = Some(parse_uuid(k, v)?),
                "agent" => q.agent = Some(self.parse_agent_param(k, v, version)?.1),
                "verb" => q.verb = Some(parse_iri(k, v)?),
                "activity" => q.activity = Some(parse_iri(k, v)?),
                "registration" => q.registration = Some(parse_uuid(k, v)?),
                "related_activities" => q.related_activities = parse_bool(k, v)?,
                "related_agents" => q.related_agents = parse_bool(k, v)?,
                "since" => q.since_us = Some(parse_time(k, v)?),
                "until" => q.until_us = Some(parse_time(k, v)?),
                "limit" => {
                    q.limit = v
                        .parse()
                        .map_err(|_| bad(format!("parameter limit must be a non-negative integer, got {v:?}")))?
                }
                "format" => {
                    q.format =
                        Some(Format::parse(v).ok_or_else(|| {
                            bad(format!("parameter format must be ids, exact or canonical, got {v:?}"))
                        })?)
                }
                "attachments" => q.attachments = parse_bool(k, v)?,
                "ascending" => q.ascending = parse_bool(k, v)?,
                "cursor" => {
                    q.cursor = Some(Cursor::decode(v).ok_or_else(|| bad("parameter cursor is not a valid more token"))?)
                }
                _ => {}
            }
        }
        if q.statement_id.is_some() || q.voided_statement_id.is_some() {
            if q.statement_id.is_some() && q.voided_statement_id.is_some() {
                return Err(bad("statementId and voidedStatementId cannot be used together"));
            }
            if let Some(extra) = params
                .iter()
                .map(|(k, _)| k.as_str())
                .find(|k| !matches!(*k, "statementId" | "voidedStatementId" | "attachments" | "format"))
            {
                return Err(bad(format!("parameter {extra} cannot be used with statementId or voidedStatementId")));
            }
        }
        Ok(q)
    }

    /// Parses a statements body (one statement or an array) after the streaming pre-pass has checked
    /// its size, element count, depth and duplicate keys, so no `Value` is ever built from input
    /// beyond [`crate::xapi::json::JsonLimits`].
    pub fn parse_statements_body(&self, text: &[u8]) -> Result<Value> {
        crate::xapi::json::check_statements(text, &self.config.json_limits)?;
        serde_json::from_slice(text).map_err(|e| bad(format!("body is not valid JSON: {e}")))
    }

    /// Stores statements (one or a batch, all-or-nothing) and returns their ids in order.
    /// `parts` are the attachment parts of a multipart request, if it was one.
    pub async fn store_statements(
        &self,
        who: &Principal,
        version: Version,
        statements: Vec<Value>,
        parts: Option<Vec<Part>>,
    ) -> Result<Vec<String>> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        let batch = statements.len() > 1;
        let views: Vec<View> = statements
            .iter()
            .enumerate()
            .map(|(i, s)| {
                self.validator
                    .statement(s, version)
                    .map_err(|e| LrsError::Invalid(if batch { e.in_batch(i) } else { e }))
            })
            .collect::<Result<_>>()?;
        // A restricted credential: its agent, registration and activity tree, then the guard (session rules).
        if let Some(r) = &who.restricted {
            for (i, s) in views.iter().enumerate() {
                r.check_statement(s)
                    .map_err(|e| LrsError::Forbidden(if batch { format!("statement {i}: {e}") } else { e }))?;
            }
            if let Some(h) = &self.hooks {
                h.check_statements(self, who, &views).await?;
            }
        }
        drop(views);
        let payloads = match parts {
            Some(parts) => attachments::match_parts(&statements, parts, version).map_err(|e| bad(e.to_string()))?,
            None => {
                attachments::check_no_parts(&statements).map_err(|e| bad(e.to_string()))?;
                Vec::new()
            }
        };
        // Ids given by the client: duplicates within one request are refused.
        let mut given: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for s in &statements {
            if let Some(id) = s.get("id").and_then(Value::as_str) {
                let id = id.to_ascii_lowercase();
                if !seen.insert(id.clone()) {
                    return Err(bad(format!("statement id {id} appears more than once in the batch")));
                }
                given.push(id);
            }
        }
        // `stored` is reported with millisecond precision, so it is kept at exactly that precision:
        // `since`/`until` compare against the value clients saw (a client resuming with
        // `since=<last stored>` must not get that statement again).
        let now = OffsetDateTime::now_utc();
        let stored_at = now.replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(now);
        let ctx = StoreContext { version, stored: stored_at, authority: &who.authority };
        let prepared: Vec<statement::Prepared> = statements
            .into_iter()
            .map(|s| match s {
                Value::Object(o) => Ok(statement::prepare(o, &ctx)),
                _ => Err(bad("a statement must be a JSON object")),
            })
            .collect::<Result<_>>()?;
        self.check_voiding(&prepared).await?;
        let ids: Vec<String> = prepared.iter().map(|p| p.id.clone()).collect();
        // The observer's rows go into the statements' own transaction.
        let targets: Vec<String> =
            prepared.iter().filter(|p| p.is_voiding).filter_map(|p| p.object_ref.clone()).collect();
        let Observation { rows: facts, touched } = match &self.hooks {
            Some(h) => {
                let stored = prepared.iter().filter(|p| !p.is_voiding).map(|p| View::of(&p.body)).collect();
                h.observe(self, who, stored, &targets).await?
            }
            None => Observation::default(),
        };
        // The parsed statements are dropped here: from now on each is its serialised row (a batch of
        // 1,000 held three copies before, for a comparison that nearly never happens).
        let client_timestamps: Vec<bool> = prepared.iter().map(|p| p.client_timestamp).collect();
        let all_rows: Arc<[NewStatement]> = prepared.into_iter().map(|p| into_row(p, &who.key, stored_at)).collect();
        let all_facts: Arc<[FactRow]> = facts.into();
        let atts: Vec<NewAttachment> = payloads
            .iter()
            .map(|a: &AttachmentPayload| NewAttachment {
                sha2: a.sha2.clone(),
                content_type: a.content_type.clone(),
                body: a.body.to_vec(),
            })
            .collect();

        // Up to two rounds: a concurrent writer may store one of our ids between the check and the insert.
        for _ in 0..2 {
            let existing = self.store.statements_by_id(&given).await?;
            let (rows, facts) = if existing.is_empty() {
                (all_rows.clone(), all_facts.clone())
            } else {
                let existing: HashMap<&str, &StoredStatement> = existing.iter().map(|s| (s.id.as_str(), s)).collect();
                for (row, &client_timestamp) in all_rows.iter().zip(&client_timestamps) {
                    if let Some(old) = existing.get(row.id.as_str()) {
                        let old_body: Value = serde_json::from_str(&old.body).unwrap_or(Value::Null);
                        let mut received: Value = serde_json::from_str(&row.body).unwrap_or(Value::Null);
                        statement::as_received(&mut received, client_timestamp);
                        if !compare::same_statement(&old_body, &received) {
                            return Err(LrsError::Conflict(format!(
                                "a different statement with id {} is already stored",
                                row.id
                            )));
                        }
                    }
                }
                // A re-sent statement is stored already, with its facts (or without them, if voided since).
                (
                    all_rows.iter().filter(|r| !existing.contains_key(r.id.as_str())).cloned().collect(),
                    all_facts.iter().filter(|f| !existing.contains_key(f.statement_id.as_str())).cloned().collect(),
                )
            };
            match self.store.insert_statements(rows, &atts, facts).await {
                Ok(()) => {
                    // The statements and the observer's rows are durable; what follows them cannot lose
                    // a statement, so a failure there is logged only.
                    if let Some(h) = &self.hooks {
                        if let Err(e) = h.committed(self, touched).await {
                            tracing::error!(error = %e, "following up stored statements");
                        }
                    }
                    return Ok(ids);
                }
                Err(StoreError::DuplicateStatement(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(LrsError::Conflict("statement ids were stored concurrently by another request; retry".into()))
    }

    /// A voiding statement may not target another voiding statement (in the store or the batch).
    async fn check_voiding(&self, prepared: &[statement::Prepared]) -> Result<()> {
        let voiding_in_batch: HashSet<&str> = prepared.iter().filter(|p| p.is_voiding).map(|p| p.id.as_str()).collect();
        let targets: Vec<String> =
            prepared.iter().filter(|p| p.is_voiding).filter_map(|p| p.object_ref.clone()).collect();
        for t in &targets {
            if voiding_in_batch.contains(t.as_str()) {
                return Err(bad(format!("statement {t} is a voiding statement and cannot be voided")));
            }
        }
        for s in self.store.statements_by_id(&targets).await? {
            if s.is_voiding {
                return Err(bad(format!("statement {} is a voiding statement and cannot be voided", s.id)));
            }
        }
        Ok(())
    }

    /// GET /statements?statementId= or voidedStatementId=.
    pub async fn statement(
        &self,
        who: &Principal,
        q: &QueryParams,
        prefs: &[String],
    ) -> Result<Option<(Value, StoredStatement)>> {
        let (id, want_voided) = match (&q.statement_id, &q.voided_statement_id) {
            (Some(id), _) => (id, false),
            (_, Some(id)) => (id, true),
            _ => return Ok(None),
        };
        let found = self.store.statements_by_id(std::slice::from_ref(id)).await?.into_iter().next();
        let Some(s) = found.filter(|s| s.voided == want_voided) else {
            return Err(LrsError::NotFound(format!(
                "no {}statement with id {id}",
                if want_voided { "voided " } else { "" }
            )));
        };
        if let ReadScope::Mine(key) = who.read_scope() {
            let body: Value = serde_json::from_str(&s.body).unwrap_or(Value::Null);
            if body.pointer("/authority/account/name").and_then(Value::as_str) != Some(key.as_str()) {
                return Err(LrsError::NotFound(format!("no statement with id {id}")));
            }
        }
        let mut v = self.render(&s, q.format.unwrap_or(Format::Exact), prefs).await?;
        if let Some(version) = q.version {
            format::for_version(&mut v, version);
        }
        Ok(Some((v, s)))
    }

    /// A query page: the statements and, when there may be more, the cursor for the next page.
    pub async fn query(
        &self,
        who: &Principal,
        q: &QueryParams,
        prefs: &[String],
    ) -> Result<(Vec<Value>, Vec<StoredStatement>, Option<Cursor>)> {
        let max = self.config.page_limit.max(1);
        let limit = if q.limit == 0 || q.limit > max { max } else { q.limit };
        let mut filters = Vec::new();
        if let Some(a) = &q.agent {
            filters.push((if q.related_agents { kind::AGENT_RELATED } else { kind::AGENT }, a.clone()));
        }
        if let Some(v) = &q.verb {
            filters.push((kind::VERB, v.clone()));
        }
        if let Some(a) = &q.activity {
            filters.push((if q.related_activities { kind::ACTIVITY_RELATED } else { kind::ACTIVITY }, a.clone()));
        }
        if let Some(r) = &q.registration {
            filters.push((kind::REGISTRATION, r.clone()));
        }
        let max_seq = match q.cursor {
            Some(c) => c.max_seq,
            None => self.store.max_seq().await?,
        };
        let any_agent = (!q.agents_any.is_empty())
            .then(|| (if q.related_agents { kind::AGENT_RELATED } else { kind::AGENT }, q.agents_any.clone()));
        let sq = StatementQuery {
            filters,
            any_agent,
            since_us: q.since_us,
            until_us: q.until_us,
            authority: match who.read_scope() {
                ReadScope::All => None,
                ReadScope::Mine(k) => Some(k),
            },
            ascending: q.ascending,
            limit: limit as i64 + 1,
            after_seq: q.cursor.map(|c| c.last_seq),
            after_stored_us: q.cursor.and_then(|c| c.last_stored_us),
            max_seq,
            max_bytes: Some(self.config.page_bytes),
        };
        let mut rows = self.store.query_statements(&sq).await?;
        let fmt = q.format.unwrap_or(Format::Exact);
        // The page ends at `limit` statements or before the statement that would take it past
        // `page_bytes`, whichever comes first, but always holds at least one statement.
        let mut out = Vec::with_capacity(rows.len().min(limit));
        let mut bytes = 0usize;
        for r in &rows {
            if out.len() == limit {
                break;
            }
            let mut v = self.render(r, fmt, prefs).await?;
            if let Some(version) = q.version {
                format::for_version(&mut v, version);
            }
            let size = rendered_len(r, &v, fmt);
            if !out.is_empty() && bytes.saturating_add(size) > self.config.page_bytes {
                break;
            }
            bytes = bytes.saturating_add(size);
            out.push(v);
        }
        // Rows left over, or a store that stopped reading at the byte budget (`canonical` may render
        // smaller than stored, so every row it returned may fit): the next page continues.
        let store_cut = rows.iter().map(|r| r.body.len()).fold(0usize, usize::saturating_add) > self.config.page_bytes;
        let more = if rows.len() > out.len() || (store_cut && rows.len() <= limit) {
            rows.truncate(out.len());
            let stored_order = sq.in_stored_order();
            rows.last().map(|r| Cursor {
                last_seq: r.seq,
                max_seq,
                last_stored_us: stored_order.then_some(r.stored_us),
            })
        } else {
            None
        };
        Ok((out, rows, more))
    }

    /// A stored statement in the requested format.
    async fn render(&self, s: &StoredStatement, fmt: Format, prefs: &[String]) -> Result<Value> {
        let mut v: Value = serde_json::from_str(&s.body)
            .map_err(|e| LrsError::Store(StoreError::Database(sqlx::Error::Decode(Box::new(e)))))?;
        match fmt {
            Format::Exact => {}
            Format::Ids => format::ids(&mut v),
            Format::Canonical => {
                let mut ids = Vec::new();
                collect_activity_ids(&v, &mut ids);
                let mut defs = HashMap::new();
                for id in ids {
                    if let Some(d) = self.store.activity(&id).await? {
                        defs.insert(id, d);
                    }
                }
                format::canonical(&mut v, prefs, &|id| defs.get(id).cloned());
            }
        }
        Ok(v)
    }

    /// The attachment payloads referenced by these statements (for `attachments=true`).
    pub async fn attachments_for(&self, rows: &[StoredStatement]) -> Result<Vec<NewAttachment>> {
        let mut sha2s: Vec<String> = rows.iter().flat_map(|r| r.attachments.iter().cloned()).collect();
        sha2s.sort();
        sha2s.dedup();
        Ok(self.store.attachments(&sha2s).await?)
    }

    /// The client's language preferences, best first, for the `canonical` format.
    pub fn languages(header: Option<&str>) -> Vec<String> {
        langmap::parse_accept_language(header)
    }
}

/// Bytes a rendered statement adds to a page. The stored text is exact for `exact` and an upper
/// bound for `ids`; `canonical` may add definitions, so it is measured without building a string.
fn rendered_len(row: &StoredStatement, v: &Value, fmt: Format) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    match fmt {
        Format::Exact | Format::Ids => row.body.len(),
        Format::Canonical => {
            let mut c = Count(0);
            let _ = serde_json::to_writer(&mut c, v);
            c.0
        }
    }
}

/// Activity ids a statement mentions (object, context activities, SubStatement's), for `canonical`.
fn collect_activity_ids(v: &Value, out: &mut Vec<String>) {
    if let Some(obj) = v.get("object") {
        match obj.get("objectType").and_then(Value::as_str) {
            None | Some("Activity") => out.extend(obj.get("id").and_then(Value::as_str).map(str::to_string)),
            Some("SubStatement") => collect_activity_ids(obj, out),
            _ => {}
        }
    }
    if let Some(ca) = v.pointer("/context/contextActivities").and_then(Value::as_object) {
        for list in ca.values() {
            for a in list.as_array().into_iter().flatten() {
                out.extend(a.get("id").and_then(Value::as_str).map(str::to_string));
            }
        }
    }
}

/// The store's row of a prepared statement, stored by the credential `authority_key` at `stored`.
/// Public for tools and tests that fill a store directly, as the LRS would.
pub fn into_row(p: statement::Prepared, authority_key: &str, stored: OffsetDateTime) -> NewStatement {
    let actor = p.body.get("actor").and_then(agent::key).filter(|k| k.starts_with("Agent|"));
    NewStatement {
        actor,
        body: p.body.to_string(),
        id: p.id,
        stored_us: (stored.unix_timestamp_nanos() / 1000) as i64,
        is_voiding: p.is_voiding,
        object_ref: p.object_ref,
        authority: authority_key.to_string(),
        index: p.index,
        attachments: p.attachments,
        activities: p.activities,
        agents: p.agents,
    }
}

/// The StatementResult object of a query response.
pub fn statement_result(statements: Vec<Value>, more: Option<String>) -> Value {
    let mut m = Map::new();
    m.insert("statements".into(), Value::Array(statements));
    m.insert("more".into(), json!(more.unwrap_or_default()));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn cursors_round_trip_with_and_without_stored_order() {
        for c in [
            Cursor { last_seq: 41, max_seq: 900, last_stored_us: None },
            Cursor { last_seq: 41, max_seq: 900, last_stored_us: Some(1_764_000_000_123_000) },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("MS4yLjMuNA"), None, "1.2.3.4 has a part too many");
    }
}
