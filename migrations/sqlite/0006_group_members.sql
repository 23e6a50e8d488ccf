-- Issue 16: the `agent` filter matches statements whose actor or object is a Group (identified or
-- anonymous) listing the agent as a member (xAPI 1.0.3 Communication 2.1.3). Statements stored from
-- this version on are filed so when stored (xapi::statement::prepare); this files the ones stored
-- before: kind 'A' for each member of an actor/object Group (they had the 'a' row already), then the
-- same rows for every statement referring to them (StatementRef rule), transitively. Idempotent; only
-- bodies that name a `member` are parsed. Keys are spelled as xapi::agent::key spells them.
INSERT OR IGNORE INTO statement_index (kind, key, seq)
SELECT 'A', k.key, k.seq FROM (
    SELECT g.seq AS seq, 'Agent|' || CASE
            WHEN json_extract(m.value, '$.mbox') IS NOT NULL THEN 'mbox:' || json_extract(m.value, '$.mbox')
            WHEN json_extract(m.value, '$.mbox_sha1sum') IS NOT NULL
                THEN 'sha1:' || lower(json_extract(m.value, '$.mbox_sha1sum'))
            WHEN json_extract(m.value, '$.openid') IS NOT NULL THEN 'openid:' || json_extract(m.value, '$.openid')
            ELSE 'account:' || json_extract(m.value, '$.account.homePage') || '|' || json_extract(m.value, '$.account.name')
        END AS key
    FROM (SELECT seq, json_extract(body, '$.actor') AS grp FROM statements WHERE body LIKE '%"member"%'
          UNION ALL
          SELECT seq, json_extract(body, '$.object') FROM statements
          WHERE body LIKE '%"member"%' AND json_extract(body, '$.object.objectType') = 'Group') g,
         json_each(g.grp, '$.member') m
    WHERE json_type(g.grp) = 'object' AND json_type(g.grp, '$.member') = 'array'
) k WHERE k.key IS NOT NULL;

INSERT OR IGNORE INTO statement_index (kind, key, seq)
WITH RECURSIVE refs(referrer, target) AS (
    SELECT r.seq, t.seq FROM statements r JOIN statements t ON t.id = r.object_ref
    WHERE r.object_ref IS NOT NULL AND t.body LIKE '%"member"%'
    UNION
    SELECT r.seq, refs.target FROM refs JOIN statements t ON t.seq = refs.referrer
    JOIN statements r ON r.object_ref = t.id
)
SELECT i.kind, i.key, refs.referrer FROM refs JOIN statement_index i ON i.seq = refs.target AND i.kind = 'A';
