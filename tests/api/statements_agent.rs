//! The `agent` filter and Groups (xAPI 1.0.3 Communication 2.1.3): a Group that lists the agent as a
//! member matches, anonymous or identified, as actor or object, and through StatementRef chains;
//! `related_agents=true` only widens where the filter looks. Both backends.

use reqwest::Method;
use serde_json::{json, Value};

use crate::both;
use crate::support::TestApp;

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).expect("encode")[2..].to_string()
}

fn agent(name: &str) -> Value {
    json!({"objectType": "Agent", "mbox": format!("mailto:{name}@example.com")})
}

fn stmt(actor: Value, object: Value) -> Value {
    json!({"actor": actor, "verb": {"id": "http://example.com/verbs/did"}, "object": object})
}

async fn put(app: &TestApp, id: &str, body: &Value) {
    let r = app.req(Method::PUT, &format!("/xapi/statements?statementId={id}")).json(body).send().await.expect("send");
    assert_eq!(r.status().as_u16(), 204, "{body}");
}

/// The ids a query with `agent=who` (and `extra`) returns, newest first.
async fn found(app: &TestApp, who: &Value, extra: &str) -> Vec<String> {
    let q = format!("/xapi/statements?agent={}{extra}", urlencode(&who.to_string()));
    let (status, r) = app.get_json(&q).await;
    assert_eq!(status, 200, "{q}: {r}");
    r["statements"].as_array().expect("statements").iter().map(|s| s["id"].as_str().unwrap_or("").to_string()).collect()
}

/// A Group actor or object lists the agent: `agent=` finds the statement, whether the Group is
/// anonymous or identified; the identified Group is still found by its own IFI; a member that only
/// appears in context (instructor/team) is found only with `related_agents=true`.
async fn agent_filter_matches_group_members(app: TestApp) {
    let tag = uuid();
    let (alice, bob) = (agent(&format!("alice-{tag}")), agent(&format!("bob-{tag}")));
    let anon = json!({"objectType": "Group", "member": [alice.clone(), bob.clone()]});
    let team =
        json!({"objectType": "Group", "mbox": format!("mailto:team-{tag}@example.com"), "member": [alice.clone()]});
    let act = json!({"objectType": "Activity", "id": "http://example.com/a/group"});
    let (s_anon, s_team, s_object, s_context, s_other) = (uuid(), uuid(), uuid(), uuid(), uuid());
    put(&app, &s_anon, &stmt(anon.clone(), act.clone())).await;
    put(&app, &s_team, &stmt(team.clone(), act.clone())).await;
    put(&app, &s_object, &stmt(agent(&format!("carol-{tag}")), anon.clone())).await;
    let mut in_context = stmt(agent(&format!("carol-{tag}")), act.clone());
    in_context["context"] = json!({"team": team.clone()});
    put(&app, &s_context, &in_context).await;
    put(&app, &s_other, &stmt(agent(&format!("dave-{tag}")), act.clone())).await;

    assert_eq!(found(&app, &alice, "").await, vec![s_object.clone(), s_team.clone(), s_anon.clone()]);
    assert_eq!(found(&app, &bob, "").await, vec![s_object.clone(), s_anon.clone()]);
    let team_id = json!({"objectType": "Group", "mbox": team["mbox"]});
    assert_eq!(found(&app, &team_id, "").await, vec![s_team.clone()]);
    assert_eq!(
        found(&app, &alice, "&related_agents=true").await,
        vec![s_context.clone(), s_object.clone(), s_team.clone(), s_anon.clone()]
    );
    // Alice as Agent is not the Group "team" itself: an identified Group with her IFI would differ.
    let alice_as_group = json!({"objectType": "Group", "mbox": alice["mbox"]});
    assert!(found(&app, &alice_as_group, "").await.is_empty());
}
both!(agent_filter_matches_group_members);

/// Through StatementRefs: a statement referring to one whose actor Group lists the agent matches
/// `agent=`, whether the target was stored before or after it, and transitively; a Group inside a
/// SubStatement matches only with `related_agents=true`.
async fn agent_filter_follows_group_members_through_refs(app: TestApp) {
    let tag = uuid();
    let alice = agent(&format!("alice-{tag}"));
    let anon = json!({"objectType": "Group", "member": [alice.clone()]});
    let act = json!({"objectType": "Activity", "id": "http://example.com/a/group-ref"});
    let sref = |id: &str| json!({"objectType": "StatementRef", "id": id});
    let other = agent(&format!("other-{tag}"));
    let (target, early_ref, late_ref, second, late_target, sub) = (uuid(), uuid(), uuid(), uuid(), uuid(), uuid());
    put(&app, &target, &stmt(anon.clone(), act.clone())).await;
    put(&app, &late_ref, &stmt(other.clone(), sref(&target))).await;
    put(&app, &early_ref, &stmt(other.clone(), sref(&late_target))).await;
    put(&app, &second, &stmt(other.clone(), sref(&early_ref))).await;
    put(&app, &late_target, &stmt(anon.clone(), act.clone())).await;
    let substatement = json!({"objectType": "SubStatement", "actor": anon.clone(),
        "verb": {"id": "http://example.com/verbs/will"}, "object": act.clone()});
    put(&app, &sub, &stmt(other.clone(), substatement)).await;

    assert_eq!(
        found(&app, &alice, "").await,
        vec![late_target.clone(), second.clone(), early_ref.clone(), late_ref.clone(), target.clone()]
    );
    assert_eq!(
        found(&app, &alice, "&related_agents=true&ascending=true").await,
        vec![target, late_ref, early_ref, second, late_target, sub]
    );
}
both!(agent_filter_follows_group_members_through_refs);

/// Statements stored before Group members were filed for `agent=` (only their `related_agents`
/// rows exist) are found once migration 0006 has run; running it again changes nothing.
async fn migration_files_group_members_of_old_statements(app: TestApp) {
    let tag = uuid();
    let alice = agent(&format!("alice-{tag}"));
    let team = json!({"objectType": "Group", "account": {"homePage": "http://example.com", "name": tag},
        "member": [alice.clone(), {"mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01"}]});
    let act = json!({"objectType": "Activity", "id": "http://example.com/a/old"});
    let (s_actor, s_object, s_ref, s_ref2) = (uuid(), uuid(), uuid(), uuid());
    put(&app, &s_actor, &stmt(team.clone(), act.clone())).await;
    put(&app, &s_object, &stmt(agent(&format!("x-{tag}")), team.clone())).await;
    put(&app, &s_ref, &stmt(agent(&format!("x-{tag}")), json!({"objectType": "StatementRef", "id": s_actor}))).await;
    put(&app, &s_ref2, &stmt(agent(&format!("x-{tag}")), json!({"objectType": "StatementRef", "id": s_ref}))).await;
    let want = vec![s_ref2.clone(), s_ref.clone(), s_object.clone(), s_actor.clone()];
    assert_eq!(found(&app, &alice, "").await, want);
    let sha = json!({"mbox_sha1sum": "abcdef0123456789abcdef0123456789abcdef01"});
    assert_eq!(found(&app, &sha, "").await, want);

    // The index as it was before 0017 (text keys), rebuilt from the rows above, so that 0006 runs on
    // the layout it was written for; 0017 then brings it to today's.
    let old_layout = "CREATE TABLE old_index (kind TEXT NOT NULL, key TEXT NOT NULL, seq BIGINT NOT NULL, \
        PRIMARY KEY (kind, key, seq)); \
        INSERT INTO old_index SELECT k.kind, k.key, i.seq FROM statement_index i JOIN index_keys k ON k.id = i.key_id; \
        DROP TABLE statement_index; DROP TABLE index_keys; ALTER TABLE old_index RENAME TO statement_index; \
        CREATE INDEX statement_index_seq ON statement_index (seq);";
    // 0006 reads statement bodies as text, as they were stored before 0018 packed them.
    let mut as_text = String::new();
    for id in [&s_actor, &s_object, &s_ref, &s_ref2] {
        let (_, body) = app.get_json(&format!("/xapi/statements?statementId={id}")).await;
        let text = body.to_string().replace('\'', "''");
        as_text.push_str(&format!("UPDATE statements SET body = '{text}', packed = NULL WHERE id = '{id}';"));
    }
    let old_layout = format!("{as_text}{old_layout}");
    let forget = "DELETE FROM statement_index WHERE kind = 'A' AND key LIKE 'Agent|%'";
    let (backend, sql, to_keys) = if app.database_url.starts_with("sqlite") {
        (
            "sqlite",
            include_str!("../../migrations/sqlite/0006_group_members.sql"),
            include_str!("../../migrations/sqlite/0017_index_keys.sql"),
        )
    } else {
        (
            "postgres",
            include_str!("../../migrations/postgres/0006_group_members.sql"),
            include_str!("../../migrations/postgres/0017_index_keys.sql"),
        )
    };
    let run = |stmts: Vec<String>| {
        let url = app.database_url.clone();
        async move {
            if url.starts_with("sqlite") {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
                for s in stmts {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(s)).execute(&pool).await.expect("sql");
                }
            } else {
                let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
                for s in stmts {
                    sqlx::raw_sql(sqlx::AssertSqlSafe(s)).execute(&pool).await.expect("sql");
                }
            }
        }
    };
    // 0017 alone keeps what the index holds: with the members' rows forgotten, they are not found.
    run(vec![old_layout.to_string(), forget.to_string(), to_keys.to_string()]).await;
    assert!(found(&app, &alice, "").await.is_empty(), "{backend}: the old filing");
    // The actors' own rows went too; only members are restored, so look for the members.
    run(vec![old_layout.to_string(), sql.to_string(), to_keys.to_string()]).await;
    assert_eq!(found(&app, &alice, "").await, want, "{backend}");
    assert_eq!(found(&app, &sha, "").await, want, "{backend}");
    run(vec![old_layout.to_string(), sql.to_string(), to_keys.to_string()]).await;
    assert_eq!(found(&app, &alice, "").await, want, "{backend}: idempotent");
}
both!(migration_files_group_members_of_old_statements);

/// `agent` + `verb` is answered from pair rows (migration 0022): each filter is met by the statement
/// or by the statement its StatementRef targets, whichever arrived first, as with either filter
/// alone. With the pair rows gone the query finds nothing (so it reads them); 0022 files them again
/// for stored statements, and running it twice changes nothing.
async fn agent_with_verb_is_one_pair_key_through_refs_and_the_migration(app: TestApp) {
    let tag = uuid();
    let (alice, bob) = (agent(&format!("alice-{tag}")), agent(&format!("bob-{tag}")));
    let act = json!({"objectType": "Activity", "id": "http://example.com/a/pairs"});
    let did = "http://example.com/verbs/did";
    let tried = "http://example.com/verbs/tried";
    let with =
        |actor: &Value, verb: &str, object: Value| json!({"actor": actor, "verb": {"id": verb}, "object": object});
    let [s1, s2, s3, s4, s5] = [uuid(), uuid(), uuid(), uuid(), uuid()];
    let sref = |id: &str| json!({"objectType": "StatementRef", "id": id});
    put(&app, &s1, &with(&alice, did, act.clone())).await;
    put(&app, &s2, &with(&alice, tried, act.clone())).await;
    put(&app, &s3, &with(&bob, tried, sref(&s1))).await;
    // A referrer stored before its target.
    put(&app, &s4, &with(&alice, tried, sref(&s5))).await;
    put(&app, &s5, &with(&bob, did, act.clone())).await;
    let verb = |v: &str| format!("&verb={}", urlencode(v));
    let expect = [
        (&alice, did, vec![&s4, &s3, &s1]),
        (&alice, tried, vec![&s4, &s3, &s2]),
        (&bob, did, vec![&s5, &s4, &s3]),
        (&bob, tried, vec![&s4, &s3]),
    ];
    let check = |label: &'static str| {
        let (app, expect, verb) = (&app, &expect, &verb);
        async move {
            for (who, v, want) in expect {
                let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
                assert_eq!(found(app, who, &verb(v)).await, want, "{label}: {who} {v}");
                let reversed: Vec<String> = want.iter().rev().cloned().collect();
                assert_eq!(found(app, who, &format!("{}&ascending=true", verb(v))).await, reversed, "{label}");
            }
        }
    };
    check("as written").await;

    let run = |stmts: Vec<&'static str>| {
        let url = app.database_url.clone();
        async move {
            if url.starts_with("sqlite") {
                let pool = sqlx::SqlitePool::connect(&url).await.expect("sqlite");
                for s in stmts {
                    sqlx::raw_sql(s).execute(&pool).await.expect("sql");
                }
            } else {
                let pool = sqlx::PgPool::connect(&url).await.expect("postgres");
                for s in stmts {
                    sqlx::raw_sql(s).execute(&pool).await.expect("sql");
                }
            }
        }
    };
    let migration = if app.database_url.starts_with("sqlite") {
        include_str!("../../migrations/sqlite/0022_pair_keys.sql")
    } else {
        include_str!("../../migrations/postgres/0022_pair_keys.sql")
    };
    run(vec!["DELETE FROM statement_index WHERE key_id < 0"]).await;
    assert!(found(&app, &alice, &verb(did)).await.is_empty(), "the query reads the pair rows");
    assert_eq!(found(&app, &alice, "").await.len(), 4, "the agent alone does not");
    run(vec![migration]).await;
    check("migrated").await;
    run(vec![migration]).await;
    check("migrated twice").await;
}
both!(agent_with_verb_is_one_pair_key_through_refs_and_the_migration);
