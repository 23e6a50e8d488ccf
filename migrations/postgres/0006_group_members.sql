-- Issue 16: the `agent` filter matches statements whose actor or object is a Group (identified or
-- anonymous) listing the agent as a member (xAPI 1.0.3 Communication 2.1.3). Statements stored from
-- this version on are filed so when stored (xapi::statement::prepare); this files the ones stored
-- before: kind 'A' for each member of an actor/object Group (they had the 'a' row already), then the
-- same rows for every statement referring to them (StatementRef rule), transitively. Idempotent; only
-- bodies that name a `member` are parsed. Keys are spelled as xapi::agent::key spells them.
INSERT INTO statement_index (kind, key, seq)
SELECT 'A', k.key, k.seq FROM (
    SELECT g.seq AS seq, 'Agent|' || CASE
            WHEN m ->> 'mbox' IS NOT NULL THEN 'mbox:' || (m ->> 'mbox')
            WHEN m ->> 'mbox_sha1sum' IS NOT NULL THEN 'sha1:' || lower(m ->> 'mbox_sha1sum')
            WHEN m ->> 'openid' IS NOT NULL THEN 'openid:' || (m ->> 'openid')
            ELSE 'account:' || (m #>> '{account,homePage}') || '|' || (m #>> '{account,name}')
        END AS key
    FROM (SELECT seq, body::json -> 'actor' AS grp FROM statements WHERE body LIKE '%"member"%'
          UNION ALL
          SELECT seq, body::json -> 'object' FROM statements
          WHERE body LIKE '%"member"%' AND body::json #>> '{object,objectType}' = 'Group') g
    CROSS JOIN LATERAL json_array_elements(
        CASE WHEN json_typeof(g.grp -> 'member') = 'array' THEN g.grp -> 'member' ELSE '[]'::json END) m
) k WHERE k.key IS NOT NULL
ON CONFLICT DO NOTHING;

WITH RECURSIVE refs(referrer, target) AS (
    SELECT r.seq, t.seq FROM statements r JOIN statements t ON t.id = r.object_ref
    WHERE r.object_ref IS NOT NULL AND t.body LIKE '%"member"%'
    UNION
    SELECT r.seq, refs.target FROM refs JOIN statements t ON t.seq = refs.referrer
    JOIN statements r ON r.object_ref = t.id
)
INSERT INTO statement_index (kind, key, seq)
SELECT i.kind, i.key, refs.referrer FROM refs JOIN statement_index i ON i.seq = refs.target AND i.kind = 'A'
ON CONFLICT DO NOTHING;
