-- A statement's fact body once, and a small link row per activity it concerns: the body was stored
-- once per link (object, parent and grouping activities: three to four times in the bench data set),
-- which made result_facts the largest part of the store, more than the statements themselves
-- (2.9 KB of 6.6 KB per statement, `cairn bench size`). Links are keyed by learner and activity, the
-- way results maintenance reads them; the body by statement.
CREATE TABLE result_fact_links (
    learner_key  TEXT NOT NULL,
    linked       TEXT NOT NULL,
    statement_id TEXT NOT NULL,
    PRIMARY KEY (learner_key, linked, statement_id)
) WITHOUT ROWID;
INSERT INTO result_fact_links (learner_key, linked, statement_id)
    SELECT learner_key, linked, statement_id FROM result_facts;

CREATE TABLE result_fact_bodies (
    statement_id TEXT PRIMARY KEY,
    learner_key  TEXT NOT NULL,
    body         TEXT NOT NULL             -- the Fact (JSON)
);
INSERT INTO result_fact_bodies (statement_id, learner_key, body)
    SELECT statement_id, MIN(learner_key), MIN(body) FROM result_facts GROUP BY statement_id;

DROP TABLE result_facts;
ALTER TABLE result_fact_bodies RENAME TO result_facts;
