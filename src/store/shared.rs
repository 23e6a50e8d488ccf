//! The store methods both backends share, written once. SQLite and PostgreSQL accept the same SQL text
//! (see `query.rs`), so the only differences — connecting, opening a write transaction and locking a
//! document — live in each backend's module, and this macro stamps the rest into both. Each backend
//! module defines `Db` and `DbRow` aliases, `NUMBERED_PARAMS` (see `query::param`) and
//! `begin_write`/`lock_key` before invoking it.

/// Row decoders and binding helpers, generated per backend.
macro_rules! shared_helpers {
    () => {
fn credential_from_row(r: &DbRow) -> sqlx::Result<CredentialRow> {
            let scopes: String = r.try_get("scopes")?;
            Ok(CredentialRow {
                key: r.try_get("key")?,
                name: r.try_get("name")?,
                secret_hash: r.try_get("secret_hash")?,
                scopes: scopes.split_whitespace().map(str::to_string).collect(),
                created_us: r.try_get("created_us")?,
                revoked_us: r.try_get("revoked_us")?,
            })
        }

        fn statement_from_row(r: &DbRow) -> sqlx::Result<StoredStatement> {
            let attachments: Option<String> = r.try_get("attachments")?;
            Ok(StoredStatement {
                seq: r.try_get("seq")?,
                id: r.try_get("id")?,
                stored_us: r.try_get("stored_us")?,
                is_voiding: r.try_get("is_voiding")?,
                voided: r.try_get("voided")?,
                body: r.try_get("body")?,
                attachments: attachments.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default(),
            })
        }

        fn is_unique_violation(e: &sqlx::Error) -> bool {
            matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
        }
type DbArgs = <Db as sqlx::Database>::Arguments;
        type DbConn = <Db as sqlx::Database>::Connection;

        /// Runs `inner`, a `SELECT k, v …` of two text columns with `binds` as its parameters, and
        /// returns its rows as pairs, fetched as one aggregated row (see the backend's `pairs_json`).
        async fn fetch_pairs<'c, E>(ex: E, inner: &str, binds: &[&str]) -> Result<Vec<(String, String)>>
        where
            E: sqlx::Executor<'c, Database = Db>,
        {
            let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(pairs_json(inner)));
            for b in binds {
                q = q.bind(*b);
            }
            let text = q.fetch_one(ex).await?;
            serde_json::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
        }

        /// One multi-row statement per chunk: `prefix VALUES-rows suffix`, `width` text-or-number
        /// parameters a row, bound by `bind_row`. Keeps write paths to a few round trips per request.
        async fn insert_rows<T>(
            conn: &mut DbConn,
            prefix: &str,
            suffix: &str,
            width: usize,
            rows: &[T],
            bind_row: impl for<'q> Fn(sqlx::query::Query<'q, Db, DbArgs>, &'q T) -> sqlx::query::Query<'q, Db, DbArgs>,
        ) -> Result<()> {
            for chunk in rows.chunks(query::ROWS_PER_INSERT) {
                let sql = format!("{prefix} {} {suffix}", query::value_rows(chunk.len(), width, NUMBERED_PARAMS));
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for r in chunk {
                    q = bind_row(q, r);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Binds a document key's columns in table order; `with_id` adds `doc_id`.
        fn bind_key<'q, Q: Bindable<'q>>(q: Q, key: &'q DocumentKey, with_id: bool) -> Q {
            let q = q.bind_str(key.kind).bind_str(&key.activity_id).bind_str(&key.agent_key).bind_str(&key.registration);
            if with_id {
                q.bind_str(&key.doc_id)
            } else {
                q
            }
        }

        /// The two sqlx query kinds we bind document keys to.
        trait Bindable<'q> {
            fn bind_str(self, v: &'q str) -> Self;
        }
        impl<'q> Bindable<'q> for sqlx::query::Query<'q, Db, DbArgs> {
            fn bind_str(self, v: &'q str) -> Self {
                self.bind(v)
            }
        }
        impl<'q, O> Bindable<'q> for sqlx::query::QueryScalar<'q, Db, O, DbArgs> {
            fn bind_str(self, v: &'q str) -> Self {
                self.bind(v)
            }
        }

        fn document_from_row(r: &DbRow) -> sqlx::Result<Document> {
            Ok(Document {
                content_type: r.try_get("content_type")?,
                body: r.try_get("body")?,
                etag: r.try_get("etag")?,
                updated_us: r.try_get("updated_us")?,
            })
        }

        fn launch_from_row(r: &DbRow) -> sqlx::Result<LaunchRow> {
            Ok(LaunchRow {
                id: r.try_get("id")?,
                course_id: r.try_get("course_id")?,
                version_id: r.try_get("version_id")?,
                module_id: r.try_get("module_id")?,
                activity_id: r.try_get("activity_id")?,
                format: r.try_get("format")?,
                actor: r.try_get("actor")?,
                agent_key: r.try_get("agent_key")?,
                registration: r.try_get("registration")?,
                launch_mode: r.try_get("launch_mode")?,
                session_id: r.try_get("session_id")?,
                secret_sha256: r.try_get("secret_sha256")?,
                fetch_sha256: r.try_get("fetch_sha256")?,
                fetch_used: r.try_get("fetch_used")?,
                state: r.try_get("state")?,
                created_us: r.try_get("created_us")?,
                expires_us: r.try_get("expires_us")?,
                last_activity_us: r.try_get("last_activity_us")?,
            })
        }

    };
}

/// The `Store` methods, generated inside each backend's `impl`.
macro_rules! shared_methods {
    () => {
        pub async fn insert_credential(&self, c: &CredentialRow) -> Result<()> {
            sqlx::query(query::INSERT_CREDENTIAL)
                .bind(&c.key)
                .bind(&c.name)
                .bind(&c.secret_hash)
                .bind(c.scopes.join(" "))
                .bind(c.created_us)
                .bind(c.revoked_us)
                .execute(&self.write)
                .await?;
            Ok(())
        }

        pub async fn credential(&self, key: &str) -> Result<Option<CredentialRow>> {
            let row = sqlx::query(query::SELECT_CREDENTIAL).bind(key).fetch_optional(&self.read).await?;
            Ok(row.map(|r| credential_from_row(&r)).transpose()?)
        }

        pub async fn credentials(&self) -> Result<Vec<CredentialRow>> {
            let rows = sqlx::query(query::SELECT_CREDENTIALS).fetch_all(&self.read).await?;
            Ok(rows.iter().map(credential_from_row).collect::<sqlx::Result<_>>()?)
        }

        pub async fn revoke_credential(&self, key: &str, now_us: i64) -> Result<bool> {
            let r = sqlx::query(query::REVOKE_CREDENTIAL).bind(key).bind(now_us).execute(&self.write).await?;
            Ok(r.rows_affected() > 0)
        }

        pub async fn credential_count(&self) -> Result<i64> {
            Ok(sqlx::query_scalar(query::COUNT_CREDENTIALS).fetch_one(&self.read).await?)
        }

        /// Stores a batch in its own transaction (the PostgreSQL path; SQLite groups requests first).
        pub async fn insert_statements_direct(
            &self,
            batch: &[NewStatement],
            attachments: &[NewAttachment],
            facts: &[FactRow],
        ) -> Result<()> {
            let mut tx = self.begin_write().await?;
            Self::insert_statements_in(&mut tx, batch, attachments, facts).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Writes a batch inside the caller's transaction, set-based: every row and its own index rows
        /// go in with a few multi-row INSERTs (no round trip per statement), then the few statements
        /// that involve StatementRefs get the rules that depend on other rows. Doing those after all
        /// rows are in makes the outcome independent of order within the batch: a target sent later in
        /// the same batch is already there. `facts` (results maintenance) commit with the statements
        /// they come from, so results can always be re-derived from what is stored.
        async fn insert_statements_in(
            conn: &mut DbConn,
            batch: &[NewStatement],
            attachments: &[NewAttachment],
            facts: &[FactRow],
        ) -> Result<()> {
            // Asked before the insert: afterwards the batch's own StatementRefs would answer too.
            let referenced = Self::any_referrer(conn, batch).await?;
            let seqs = Self::insert_rows(conn, batch).await?;
            Self::apply_statement_refs(conn, batch, &seqs, referenced).await?;
            Self::insert_fact_rows(conn, facts).await?;
            Self::drop_voided_facts(conn, batch, referenced).await?;
            Self::merge_activities_and_agents(conn, batch).await?;
            for a in attachments {
                sqlx::query(query::INSERT_ATTACHMENT)
                    .bind(&a.sha2)
                    .bind(&a.content_type)
                    .bind(&a.body)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        /// Whether a stored statement refers (StatementRef) to one of the batch's ids.
        async fn any_referrer(conn: &mut DbConn, batch: &[NewStatement]) -> Result<bool> {
            for chunk in batch.chunks(query::ROWS_PER_INSERT) {
                let sql = format!(
                    "SELECT 1 FROM statements WHERE object_ref IN ({}) LIMIT 1",
                    query::param_list(NUMBERED_PARAMS, 1, chunk.len())
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for st in chunk {
                    q = q.bind(&st.id);
                }
                if q.fetch_optional(&mut *conn).await?.is_some() {
                    return Ok(true);
                }
            }
            Ok(false)
        }

        /// The statement rows (not yet voided) and each one's own index rows; returns `seq` by id.
        async fn insert_rows(conn: &mut DbConn, batch: &[NewStatement]) -> Result<std::collections::HashMap<String, i64>> {
            let mut seqs: std::collections::HashMap<String, i64> =
                std::collections::HashMap::with_capacity(batch.len());
            let mut next_seq = reserve_seqs(conn, batch.len()).await?;
            for chunk in batch.chunks(query::ROWS_PER_INSERT) {
                let sql = query::insert_statements(chunk.len(), NUMBERED_PARAMS, next_seq.is_some());
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for st in chunk {
                    if let Some(seq) = next_seq.as_mut() {
                        q = q.bind(*seq);
                        seqs.insert(st.id.clone(), *seq);
                        *seq += 1;
                    }
                    let attachments_json = (!st.attachments.is_empty())
                        .then(|| serde_json::Value::from(st.attachments.clone()).to_string());
                    q = q
                        .bind(&st.id)
                        .bind(st.stored_us)
                        .bind(st.is_voiding)
                        .bind(&st.object_ref)
                        .bind(&st.authority)
                        .bind(&st.body)
                        .bind(attachments_json);
                }
                let rows = match q.fetch_all(&mut *conn).await {
                    Ok(rows) => rows,
                    // Which id collided is not reported by the database; the caller only retries.
                    Err(e) if is_unique_violation(&e) => {
                        return Err(StoreError::DuplicateStatement(
                            chunk.first().map(|s| s.id.clone()).unwrap_or_default(),
                        ))
                    }
                    Err(e) => return Err(e.into()),
                };
                for r in rows {
                    seqs.insert(r.try_get("id")?, r.try_get("seq")?);
                }
            }
            let mut index: Vec<(String, &str, i64)> = Vec::new();
            for st in batch {
                let seq = *seqs.get(&st.id).ok_or_else(|| {
                    StoreError::Database(sqlx::Error::Protocol(format!("no seq returned for statement {}", st.id)))
                })?;
                index.extend(st.index.iter().map(|(kind, key)| (kind.to_string(), key.as_str(), seq)));
            }
            insert_index_rows(conn, &index).await?;
            Ok(seqs)
        }

        /// Voided statements count for no result: drop the facts of this batch's voiding targets and,
        /// when stored statements referenced the batch, of batch statements that arrived voided.
        async fn drop_voided_facts(conn: &mut DbConn, batch: &[NewStatement], referenced: bool) -> Result<()> {
            let targets: Vec<&str> =
                batch.iter().filter(|st| st.is_voiding).filter_map(|st| st.object_ref.as_deref()).collect();
            let arrived: Vec<&str> =
                if referenced { batch.iter().map(|st| st.id.as_str()).collect() } else { Vec::new() };
            Self::execute_for_ids(conn, "DELETE FROM result_facts WHERE statement_id IN", "", &targets).await?;
            let only_voided = "AND statement_id IN (SELECT id FROM statements WHERE voided)";
            Self::execute_for_ids(conn, "DELETE FROM result_facts WHERE statement_id IN", only_voided, &arrived).await
        }

        /// Runs `before (ids…) after` for the ids, a chunk of them per statement.
        async fn execute_for_ids(conn: &mut DbConn, before: &str, after: &str, ids: &[&str]) -> Result<()> {
            for chunk in ids.chunks(query::ROWS_PER_INSERT) {
                let sql = format!("{before} ({}) {after}", query::param_list(NUMBERED_PARAMS, 1, chunk.len()));
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// The rules that tie statements together, once every row of the batch is in:
        /// - a voiding statement voids its target (stored or in this batch);
        /// - a statement whose object is a StatementRef matches its target's filters too, and so,
        ///   transitively, do statements referencing it;
        /// - when stored statements already referenced ids of this batch (`referenced`), those
        ///   targets arrive voided if a voiding statement was among them, and lend their index rows.
        async fn apply_statement_refs(
            conn: &mut DbConn,
            batch: &[NewStatement],
            seqs: &std::collections::HashMap<String, i64>,
            referenced: bool,
        ) -> Result<()> {
            let targets: Vec<&str> =
                batch.iter().filter(|st| st.is_voiding).filter_map(|st| st.object_ref.as_deref()).collect();
            Self::execute_for_ids(conn, "UPDATE statements SET voided = TRUE WHERE is_voiding = FALSE AND id IN", "", &targets)
                .await?;
            for st in batch.iter().filter(|st| st.object_ref.is_some()) {
                let (Some(target), Some(&seq)) = (&st.object_ref, seqs.get(&st.id)) else { continue };
                let target_seq: Option<i64> =
                    sqlx::query_scalar(query::SEQ_OF).bind(target).fetch_optional(&mut *conn).await?;
                if let Some(target_seq) = target_seq {
                    Self::propagate_index(conn, target_seq, vec![(seq, st.id.clone())]).await?;
                }
            }
            if referenced {
                for st in batch {
                    let Some(&seq) = seqs.get(&st.id) else { continue };
                    let referrers = sqlx::query(query::REFERRERS).bind(&st.id).fetch_all(&mut *conn).await?;
                    let mut voided = false;
                    let mut first = Vec::with_capacity(referrers.len());
                    for r in &referrers {
                        voided |= r.try_get::<bool, _>("is_voiding")?;
                        first.push((r.try_get("seq")?, r.try_get("id")?));
                    }
                    if voided {
                        sqlx::query(query::VOID_TARGET).bind(&st.id).execute(&mut *conn).await?;
                    }
                    Self::propagate_index(conn, seq, first).await?;
                }
            }
            Ok(())
        }

        /// Canonical activity definitions and seen agents, merged once per key in key order, so two
        /// concurrent batches touch rows in the same order (no deadlock on PostgreSQL). Rows are read
        /// with one query per kind and only the ones whose merged value changed are written.
        async fn merge_activities_and_agents(conn: &mut DbConn, batch: &[NewStatement]) -> Result<()> {
            let activities = super::merged_activities(batch);
            let ids: Vec<&str> = activities.iter().map(|(id, _)| *id).collect();
            let old = Self::bodies_by_key(conn, "SELECT id AS k, definition AS v FROM activities WHERE id IN", &ids)
                .await?;
            let mut changed: Vec<(&str, String)> = Vec::new();
            for (id, def) in &activities {
                let prev = old.get(*id).map(String::as_str);
                let merged = activity::merge_definition(prev, def);
                if prev != Some(merged.as_str()) {
                    changed.push((id, merged));
                }
            }
            Self::upsert_pairs(conn, query::UPSERT_ACTIVITIES_PREFIX, query::UPSERT_ACTIVITIES_SUFFIX, &changed)
                .await?;
            let agents = super::merged_agents(batch);
            let keys: Vec<&str> = agents.iter().map(|(k, _)| *k).collect();
            let old = Self::bodies_by_key(conn, "SELECT key AS k, body AS v FROM agents WHERE key IN", &keys).await?;
            let mut changed: Vec<(&str, String)> = Vec::new();
            for (key, seen) in &agents {
                if let Some(merged) = agent::merge_seen(old.get(*key).map(String::as_str), seen) {
                    changed.push((key, merged));
                }
            }
            Self::upsert_pairs(conn, query::UPSERT_AGENTS_PREFIX, query::UPSERT_AGENTS_SUFFIX, &changed).await?;
            Ok(())
        }

        /// `k -> v` for the keys found by `select_prefix (…)`.
        async fn bodies_by_key(
            conn: &mut DbConn,
            select_prefix: &str,
            keys: &[&str],
        ) -> Result<std::collections::HashMap<String, String>> {
            let mut out = std::collections::HashMap::with_capacity(keys.len());
            for chunk in keys.chunks(query::ROWS_PER_INSERT) {
                let sql = format!("{select_prefix} ({})", query::param_list(NUMBERED_PARAMS, 1, chunk.len()));
                out.extend(fetch_pairs(&mut *conn, &sql, chunk).await?);
            }
            Ok(out)
        }

        /// One multi-row upsert per chunk of `(key, value)` pairs, in the given (key) order.
        async fn upsert_pairs(conn: &mut DbConn, prefix: &str, suffix: &str, pairs: &[(&str, String)]) -> Result<()> {
            for chunk in pairs.chunks(query::ROWS_PER_INSERT) {
                let sql = format!("{prefix} {} {suffix}", query::pair_rows(chunk.len(), NUMBERED_PARAMS));
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (k, v) in chunk {
                    q = q.bind(*k).bind(v.as_str());
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// The StatementRef filter rule for a target that arrived after statements referencing it:
        /// each referrer gets the target's index rows, and so, transitively, do statements referencing
        /// a referrer. `seen` stops reference cycles (ids are client-chosen, so A→B→A can exist).
        async fn propagate_index(tx: &mut DbConn, target_seq: i64, referrers: Vec<(i64, String)>) -> Result<()> {
            let mut seen = std::collections::HashSet::from([target_seq]);
            let mut queue: Vec<(i64, (i64, String))> = referrers.into_iter().map(|r| (target_seq, r)).collect();
            while let Some((from_seq, (seq, id))) = queue.pop() {
                if !seen.insert(seq) {
                    continue;
                }
                sqlx::query(query::COPY_INDEX).bind(from_seq).bind(seq).execute(&mut *tx).await?;
                let next = sqlx::query(query::REFERRERS).bind(&id).fetch_all(&mut *tx).await?;
                for r in next {
                    queue.push((seq, (r.try_get("seq")?, r.try_get("id")?)));
                }
            }
            Ok(())
        }

        pub async fn statements_by_id(&self, ids: &[String]) -> Result<Vec<StoredStatement>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT {} FROM statements s WHERE s.id IN ({})",
                query::STATEMENT_COLUMNS,
                query::placeholders(1, ids.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in ids {
                q = q.bind(id);
            }
            let rows = q.fetch_all(&self.read).await?;
            Ok(rows.iter().map(statement_from_row).collect::<sqlx::Result<_>>()?)
        }

        pub async fn query_statements(&self, sq: &StatementQuery) -> Result<Vec<StoredStatement>> {
            let (sql, binds) = query::statements_query(sq);
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for b in binds {
                q = match b {
                    Bind::Int(i) => q.bind(i),
                    Bind::Text(t) => q.bind(t),
                };
            }
            let Some(max_bytes) = sq.max_bytes else {
                let rows = q.fetch_all(&self.read).await?;
                return Ok(rows.iter().map(statement_from_row).collect::<sqlx::Result<_>>()?);
            };
            use futures_util::TryStreamExt;
            let mut stream = q.fetch(&self.read);
            let (mut out, mut bytes) = (Vec::new(), 0usize);
            while let Some(row) = stream.try_next().await? {
                let s = statement_from_row(&row)?;
                bytes = bytes.saturating_add(s.body.len());
                out.push(s);
                // Past the budget, and one row beyond the first: the caller can tell there is more
                // even when a single statement fills the page.
                if bytes > max_bytes && out.len() >= 2 {
                    break;
                }
            }
            Ok(out)
        }

        pub async fn max_seq(&self) -> Result<i64> {
            let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM statements").fetch_one(&self.read).await?;
            Ok(v.unwrap_or(0))
        }

        pub async fn attachments(&self, sha2s: &[String]) -> Result<Vec<NewAttachment>> {
            if sha2s.is_empty() {
                return Ok(Vec::new());
            }
            let sql = format!(
                "SELECT sha2, content_type, body FROM attachments WHERE sha2 IN ({})",
                query::placeholders(1, sha2s.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for s in sha2s {
                q = q.bind(s);
            }
            let rows = q.fetch_all(&self.read).await?;
            rows.iter()
                .map(|r| {
                    Ok(NewAttachment {
                        sha2: r.try_get("sha2")?,
                        content_type: r.try_get("content_type")?,
                        body: r.try_get("body")?,
                    })
                })
                .collect::<sqlx::Result<_>>()
                .map_err(Into::into)
        }

        pub async fn activity(&self, id: &str) -> Result<Option<serde_json::Value>> {
            let v: Option<String> =
                sqlx::query_scalar(query::SELECT_ACTIVITY).bind(id).fetch_optional(&self.read).await?;
            Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
        }

        pub async fn agent(&self, key: &str) -> Result<Option<serde_json::Value>> {
            let v: Option<String> =
                sqlx::query_scalar(query::SELECT_AGENT).bind(key).fetch_optional(&self.read).await?;
            Ok(v.and_then(|s| serde_json::from_str(&s).ok()))
        }

        pub async fn document(&self, key: &DocumentKey) -> Result<Option<Document>> {
            let row = bind_key(sqlx::query(query::SELECT_DOCUMENT), key, true).fetch_optional(&self.read).await?;
            Ok(row.map(|r| document_from_row(&r)).transpose()?)
        }

        pub async fn document_ids(&self, key: &DocumentKey, since_us: Option<i64>) -> Result<Vec<String>> {
            let ids = bind_key(sqlx::query_scalar(query::SELECT_DOCUMENT_IDS), key, false)
                .bind(since_us.unwrap_or(i64::MIN))
                .fetch_all(&self.read)
                .await?;
            Ok(ids)
        }

        /// Reads a document and applies `decide` to it on the caller's write connection.
        async fn modify_document_in<T>(
            conn: &mut DbConn,
            key: &DocumentKey,
            decide: impl FnOnce(Option<Document>) -> (DocumentChange, T),
        ) -> Result<T> {
            let row = bind_key(sqlx::query(query::SELECT_DOCUMENT), key, true).fetch_optional(&mut *conn).await?;
            let current = row.map(|r| document_from_row(&r)).transpose()?;
            let (change, out) = decide(current);
            match change {
                DocumentChange::Keep => {}
                DocumentChange::Put(doc) => {
                    bind_key(sqlx::query(query::UPSERT_DOCUMENT), key, true)
                        .bind(&doc.content_type)
                        .bind(&doc.body)
                        .bind(&doc.etag)
                        .bind(doc.updated_us)
                        .execute(&mut *conn)
                        .await?;
                }
                DocumentChange::Delete => {
                    bind_key(sqlx::query(query::DELETE_DOCUMENT), key, true).execute(&mut *conn).await?;
                }
            }
            Ok(out)
        }

        pub async fn delete_documents(&self, key: &DocumentKey) -> Result<()> {
            bind_key(sqlx::query(query::DELETE_DOCUMENTS), key, false).execute(&self.write).await?;
            Ok(())
        }

        pub async fn insert_course_version(&self, v: &NewCourseVersion) -> Result<i64> {
            let mut tx = self.begin_write().await?;
            let version: i64 = sqlx::query_scalar(query::UPSERT_COURSE)
                .bind(&v.course_id)
                .bind(&v.title)
                .bind(&v.format)
                .bind(v.imported_us)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query(query::INSERT_COURSE_VERSION)
                .bind(&v.id)
                .bind(&v.course_id)
                .bind(version)
                .bind(v.imported_us)
                .bind(&v.package_sha256)
                .bind(v.file_count)
                .bind(v.total_bytes)
                .bind(&v.body)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(version)
        }

        pub async fn latest_course_versions(&self) -> Result<Vec<CourseVersionRow>> {
            let rows = sqlx::query(query::SELECT_LATEST_VERSIONS).fetch_all(&self.read).await?;
            Ok(rows.iter().map(CourseVersionRow::from_row).collect::<sqlx::Result<_>>()?)
        }

        pub async fn course_versions(&self, course_id: &str) -> Result<Vec<CourseVersionRow>> {
            let rows = sqlx::query(query::SELECT_COURSE_VERSIONS).bind(course_id).fetch_all(&self.read).await?;
            Ok(rows.iter().map(CourseVersionRow::from_row).collect::<sqlx::Result<_>>()?)
        }

        pub async fn course_version(&self, version_id: &str) -> Result<Option<CourseVersionRow>> {
            let row = sqlx::query(query::SELECT_COURSE_VERSION).bind(version_id).fetch_optional(&self.read).await?;
            Ok(row.map(|r| CourseVersionRow::from_row(&r)).transpose()?)
        }

        pub async fn insert_launch(&self, l: &LaunchRow) -> Result<()> {
            sqlx::query(query::INSERT_LAUNCH)
                .bind(&l.id)
                .bind(&l.course_id)
                .bind(&l.version_id)
                .bind(&l.module_id)
                .bind(&l.activity_id)
                .bind(&l.format)
                .bind(&l.actor)
                .bind(&l.agent_key)
                .bind(&l.registration)
                .bind(&l.launch_mode)
                .bind(&l.session_id)
                .bind(&l.secret_sha256)
                .bind(&l.fetch_sha256)
                .bind(l.fetch_used)
                .bind(&l.state)
                .bind(l.created_us)
                .bind(l.expires_us)
                .bind(l.last_activity_us)
                .execute(&self.write)
                .await?;
            Ok(())
        }

        pub async fn launch(&self, id: &str) -> Result<Option<LaunchRow>> {
            let row = sqlx::query(AssertSqlSafe(query::select_launch())).bind(id).fetch_optional(&self.read).await?;
            Ok(row.map(|r| launch_from_row(&r)).transpose()?)
        }

        pub async fn launches_of(&self, agent_key: &str, course_id: &str, module_id: &str) -> Result<Vec<LaunchRow>> {
            let rows = sqlx::query(AssertSqlSafe(query::select_launches_of()))
                .bind(agent_key)
                .bind(course_id)
                .bind(module_id)
                .fetch_all(&self.read)
                .await?;
            Ok(rows.iter().map(launch_from_row).collect::<sqlx::Result<_>>()?)
        }

        pub async fn set_launch_state(&self, id: &str, from: &str, to: &str, at_us: i64) -> Result<bool> {
            let r = sqlx::query(query::SET_LAUNCH_STATE)
                .bind(id)
                .bind(from)
                .bind(to)
                .bind(at_us)
                .execute(&self.write)
                .await?;
            Ok(r.rows_affected() == 1)
        }

        pub async fn touch_launch(&self, id: &str, at_us: i64) -> Result<()> {
            sqlx::query(query::TOUCH_LAUNCH).bind(id).bind(at_us).execute(&self.write).await?;
            Ok(())
        }

        pub async fn issue_launch_secret(
            &self,
            id: &str,
            secret_sha256: &str,
            via_fetch: bool,
            now_us: i64,
        ) -> Result<bool> {
            let r = if via_fetch {
                sqlx::query(query::FETCH_LAUNCH_SECRET)
                    .bind(id)
                    .bind(secret_sha256)
                    .bind(now_us)
                    .execute(&self.write)
                    .await?
            } else {
                sqlx::query(query::ISSUE_LAUNCH_SECRET).bind(id).bind(secret_sha256).execute(&self.write).await?
            };
            Ok(r.rows_affected() == 1)
        }

    pub async fn insert_facts(&self, facts: &[FactRow]) -> Result<()> {
        if facts.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::insert_fact_rows(&mut tx, facts).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_fact_rows(conn: &mut DbConn, facts: &[FactRow]) -> Result<()> {
        insert_rows(conn, query::INSERT_FACTS_PREFIX, query::INSERT_FACTS_SUFFIX, 4, facts, |q, f| {
            q.bind(&f.statement_id).bind(&f.linked).bind(&f.learner_key).bind(&f.body)
        })
        .await
    }

    /// Result rows upserted in chunks; a (course, learner) given twice keeps its last body (one
    /// statement may not update a row twice on PostgreSQL).
    async fn upsert_result_rows(conn: &mut DbConn, rows: &[(String, String, String)], now: i64) -> Result<()> {
        let mut last: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
        for (i, (c, l, _)) in rows.iter().enumerate() {
            last.insert((c.as_str(), l.as_str()), i);
        }
        let unique: Vec<&(String, String, String)> =
            rows.iter().enumerate().filter(|(i, (c, l, _))| last.get(&(c.as_str(), l.as_str())) == Some(i)).map(|(_, r)| r).collect();
        insert_rows(conn, query::UPSERT_RESULTS_PREFIX, query::UPSERT_RESULTS_SUFFIX, 4, &unique, |q, r| {
            q.bind(&r.0).bind(&r.1).bind(&r.2).bind(now)
        })
        .await
    }

    pub async fn course_links(&self, activities: &[String]) -> Result<Vec<(String, String)>> {
        self.read_pairs_in("SELECT activity_id AS k, course_id AS v FROM course_activities WHERE activity_id IN", activities)
            .await
    }

    /// `select_prefix (keys…)` on the read pool, a chunk of keys per query, as `(k, v)` pairs.
    async fn read_pairs_in(&self, select_prefix: &str, keys: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(query::ROWS_PER_INSERT) {
            let sql = format!("{select_prefix} ({})", query::param_list(NUMBERED_PARAMS, 1, chunk.len()));
            let binds: Vec<&str> = chunk.iter().map(String::as_str).collect();
            out.extend(fetch_pairs(&self.read, &sql, &binds).await?);
        }
        Ok(out)
    }

    pub async fn facts_of_learners(&self, learners: &[String], activities: &[String]) -> Result<Vec<(String, String)>> {
        if learners.is_empty() || activities.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT learner_key AS k, statement_id, body AS v FROM result_facts \
             WHERE learner_key IN ({}) AND linked IN ({})",
            query::param_list(NUMBERED_PARAMS, 1, learners.len()),
            query::param_list(NUMBERED_PARAMS, learners.len() + 1, activities.len())
        );
        let binds: Vec<&str> = learners.iter().chain(activities).map(String::as_str).collect();
        fetch_pairs(&self.read, &sql, &binds).await
    }

    pub async fn results_of(&self, course_id: &str, learners: &[String]) -> Result<Vec<(String, String)>> {
        if learners.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT learner_key AS k, body AS v FROM results WHERE course_id = {} AND learner_key IN ({})",
            query::param(NUMBERED_PARAMS, 1),
            query::param_list(NUMBERED_PARAMS, 2, learners.len())
        );
        let binds: Vec<&str> = std::iter::once(course_id).chain(learners.iter().map(String::as_str)).collect();
        fetch_pairs(&self.read, &sql, &binds).await
    }

    pub async fn fact_links_of(&self, statement_ids: &[String]) -> Result<Vec<(String, String)>> {
        self.read_pairs_in("SELECT learner_key AS k, linked AS v FROM result_facts WHERE statement_id IN", statement_ids)
            .await
    }

    pub async fn put_course_def(&self, course_id: &str, body: &str, defined: bool, activities: &[String]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(query::UPSERT_COURSE_DEF)
            .bind(course_id)
            .bind(body)
            .bind(defined)
            .bind(crate::now_us())
            .execute(&mut *tx)
            .await?;
        sqlx::query(query::DELETE_COURSE_ACTIVITIES).bind(course_id).execute(&mut *tx).await?;
        for a in activities {
            sqlx::query(query::INSERT_COURSE_ACTIVITY).bind(a).bind(course_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn course_def(&self, course_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(query::SELECT_COURSE_DEF).bind(course_id).fetch_optional(&self.read).await?)
    }

    pub async fn course_defs(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(query::SELECT_COURSE_DEFS).fetch_all(&self.read).await?)
    }


    pub async fn put_result(&self, course_id: &str, learner_key: &str, body: &str) -> Result<()> {
        sqlx::query(query::UPSERT_RESULT)
            .bind(course_id)
            .bind(learner_key)
            .bind(body)
            .bind(crate::now_us())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn put_results(&self, rows: &[(String, String, String)]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        Self::upsert_result_rows(&mut tx, rows, crate::now_us()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn results_of_course(&self, course_id: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(query::SELECT_RESULTS_OF_COURSE).bind(course_id).fetch_all(&self.read).await?;
        rows.iter().map(|r| Ok((r.try_get("learner_key")?, r.try_get("body")?))).collect::<sqlx::Result<_>>().map_err(Into::into)
    }

    pub async fn results_of_learner(&self, learner_key: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(query::SELECT_RESULTS_OF_LEARNER).bind(learner_key).fetch_all(&self.read).await?;
        rows.iter().map(|r| Ok((r.try_get("course_id")?, r.try_get("body")?))).collect::<sqlx::Result<_>>().map_err(Into::into)
    }

    pub async fn result(&self, course_id: &str, learner_key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(query::SELECT_RESULT).bind(course_id).bind(learner_key).fetch_optional(&self.read).await?)
    }

    pub async fn learners_of_course(&self, course_id: &str) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(query::SELECT_LEARNERS_OF_COURSE).bind(course_id).fetch_all(&self.read).await?)
    }

    pub async fn clear_derived(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(query::CLEAR_FACTS).execute(&mut *tx).await?;
        sqlx::query(query::CLEAR_RESULTS).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn statement_page(&self, after_seq: i64, limit: i64) -> Result<Vec<StoredStatement>> {
        let rows = sqlx::query(query::SELECT_STATEMENT_PAGE).bind(after_seq).bind(limit).fetch_all(&self.read).await?;
        Ok(rows.iter().map(statement_from_row).collect::<sqlx::Result<_>>()?)
    }

    pub async fn insert_assignments(&self, rows: &[AssignmentRow]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for a in rows {
            sqlx::query(query::INSERT_ASSIGNMENT)
                .bind(&a.id)
                .bind(&a.course_id)
                .bind(&a.learner_key)
                .bind(&a.learner)
                .bind(a.assigned_us)
                .bind(a.due_us)
                .bind(a.grace_days)
                .bind(a.recurrence_months)
                .bind(&a.registration)
                .bind(&a.group_key)
                .bind(a.waived_us)
                .bind(&a.waived_reason)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn assignments(&self, course_id: Option<&str>, learner_key: Option<&str>) -> Result<Vec<AssignmentRow>> {
        let sql = format!(
            "SELECT {} FROM assignments WHERE ($1 = '' OR course_id = $1) AND ($2 = '' OR learner_key = $2) ORDER BY assigned_us, id",
            query::ASSIGNMENT_COLUMNS
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(course_id.unwrap_or(""))
            .bind(learner_key.unwrap_or(""))
            .fetch_all(&self.read)
            .await?;
        Ok(rows.iter().map(AssignmentRow::from_row).collect::<sqlx::Result<_>>()?)
    }

    pub async fn assignment(&self, id: &str) -> Result<Option<AssignmentRow>> {
        let sql = format!("SELECT {} FROM assignments WHERE id = $1", query::ASSIGNMENT_COLUMNS);
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.read).await?;
        Ok(row.map(|r| AssignmentRow::from_row(&r)).transpose()?)
    }

    pub async fn waive_assignment(&self, id: &str, at_us: i64, reason: Option<&str>) -> Result<bool> {
        let r = sqlx::query(query::WAIVE_ASSIGNMENT).bind(id).bind(at_us).bind(reason).execute(&self.write).await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        sqlx::query(query::INSERT_SESSION)
            .bind(&s.id)
            .bind(&s.course_id)
            .bind(&s.activity_id)
            .bind(&s.title)
            .bind(s.starts_us)
            .bind(s.ends_us)
            .bind(&s.timezone)
            .bind(s.capacity)
            .bind(&s.location)
            .bind(&s.join_url)
            .bind(s.created_us)
            .bind(s.cancelled_us)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn sessions(&self, course_id: Option<&str>) -> Result<Vec<SessionRow>> {
        let sql = format!(
            "SELECT {} FROM sessions WHERE ($1 = '' OR course_id = $1) ORDER BY starts_us, id",
            query::SESSION_COLUMNS
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(course_id.unwrap_or("")).fetch_all(&self.read).await?;
        Ok(rows.iter().map(SessionRow::from_row).collect::<sqlx::Result<_>>()?)
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        let sql = format!("SELECT {} FROM sessions WHERE id = $1", query::SESSION_COLUMNS);
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.read).await?;
        Ok(row.map(|r| SessionRow::from_row(&r)).transpose()?)
    }

    pub async fn cancel_session(&self, id: &str, at_us: i64) -> Result<bool> {
        let r = sqlx::query(query::CANCEL_SESSION).bind(id).bind(at_us).execute(&self.write).await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn book(&self, session_id: &str, learner_key: &str, learner: &str, capacity: Option<i64>, at_us: i64) -> Result<BookOutcome> {
        let mut tx = self.begin_write().await?;
        Self::lock_key(&mut tx, &format!("session\u{1f}{session_id}")).await?;
        let existing: Option<Option<i64>> =
            sqlx::query_scalar(query::SELECT_BOOKING).bind(session_id).bind(learner_key).fetch_optional(&mut *tx).await?;
        if let Some(None) = existing {
            return Ok(BookOutcome::AlreadyBooked);
        }
        let taken: i64 = sqlx::query_scalar(query::COUNT_BOOKINGS).bind(session_id).fetch_one(&mut *tx).await?;
        if capacity.is_some_and(|c| taken >= c) {
            return Ok(BookOutcome::Full);
        }
        sqlx::query(query::UPSERT_BOOKING).bind(session_id).bind(learner_key).bind(learner).bind(at_us).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(BookOutcome::Booked)
    }

    pub async fn cancel_booking(&self, session_id: &str, learner_key: &str, at_us: i64) -> Result<bool> {
        let r = sqlx::query(query::CANCEL_BOOKING).bind(session_id).bind(learner_key).bind(at_us).execute(&self.write).await?;
        Ok(r.rows_affected() > 0)
    }

    pub async fn bookings(&self, session_id: &str) -> Result<Vec<BookingRow>> {
        let rows = sqlx::query(query::SELECT_BOOKINGS).bind(session_id).fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                Ok(BookingRow {
                    learner_key: r.try_get("learner_key")?,
                    learner: r.try_get("learner")?,
                    booked_us: r.try_get("booked_us")?,
                    cancelled_us: r.try_get("cancelled_us")?,
                })
            })
            .collect::<sqlx::Result<_>>()
            .map_err(Into::into)
    }
    };
}

pub(crate) use shared_helpers;
pub(crate) use shared_methods;
