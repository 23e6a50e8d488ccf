-- Results facts by number (issue 15: bytes per statement). A link row was (learner key, activity id,
-- statement id) as text, ~4 per statement, and a fact body ~600 bytes of JSON; on PostgreSQL, which has
-- no index-organised tables, the links and their primary key were 1.2 KB of a statement's 3.7 KB and
-- the bodies 0.8 KB (`cairn bench size`). Now a link is (learner, activity, seq): the learner and the
-- activity by their numbers in the statements' key dictionary (`index_keys`, kinds 'a' and 'c', the
-- ones a statement is found by anywhere), the statement by its `seq`; a body is keyed by `seq` and
-- packed like statement bodies (`packed`, see src/store/statements/packing.rs), `body` left empty.
--
-- Existing rows are rewritten here, except that their bodies stay text (SQL cannot pack them):
-- readers take either form, and `cairn results rebuild` packs them. Facts of statements no longer
-- stored (none should exist) are dropped.
INSERT INTO index_keys (kind, key) SELECT DISTINCT 'a', learner_key FROM result_facts ORDER BY 2 ON CONFLICT DO NOTHING;
INSERT INTO index_keys (kind, key) SELECT DISTINCT 'c', linked FROM result_fact_links ORDER BY 2 ON CONFLICT DO NOTHING;

CREATE TABLE fact_bodies (
    seq        BIGINT PRIMARY KEY,         -- statements.seq of the statement the fact is from
    learner_id BIGINT NOT NULL,            -- index_keys.id of ('a', learner key)
    body       TEXT NOT NULL,              -- the Fact (JSON), or '' when packed
    packed     BYTEA
);
INSERT INTO fact_bodies (seq, learner_id, body)
    SELECT s.seq, k.id, f.body FROM result_facts f
    JOIN statements s ON s.id = f.statement_id
    JOIN index_keys k ON k.kind = 'a' AND k.key = f.learner_key;

CREATE TABLE fact_links (
    learner_id  BIGINT NOT NULL,           -- index_keys.id of ('a', learner key)
    activity_id BIGINT NOT NULL,           -- index_keys.id of ('c', activity id)
    seq         BIGINT NOT NULL,           -- result_facts.seq
    PRIMARY KEY (learner_id, activity_id, seq)
);
INSERT INTO fact_links (learner_id, activity_id, seq)
    SELECT lk.id, ak.id, s.seq FROM result_fact_links l
    JOIN statements s ON s.id = l.statement_id
    JOIN index_keys lk ON lk.kind = 'a' AND lk.key = l.learner_key
    JOIN index_keys ak ON ak.kind = 'c' AND ak.key = l.linked;

DROP TABLE result_fact_links;
DROP TABLE result_facts;
ALTER TABLE fact_bodies RENAME TO result_facts;
ALTER TABLE result_facts RENAME CONSTRAINT fact_bodies_pkey TO result_facts_pkey;
ALTER TABLE fact_links RENAME TO result_fact_links;
ALTER TABLE result_fact_links RENAME CONSTRAINT fact_links_pkey TO result_fact_links_pkey;
