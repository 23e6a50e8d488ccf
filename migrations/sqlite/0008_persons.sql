-- Persons (issue 13): one learner, many identifiers. Each agent identifier (an IFI key, as in
-- `agents.key`) belongs to exactly one person; a person exists while it holds identifiers. Results
-- are kept per person (`results.learner_key` holds a person id from here on), so an assignment to any
-- of a learner's identifiers is satisfied by statements from any of them.
CREATE TABLE person_identifiers (
    ifi_key   TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    added_us  BIGINT NOT NULL
);
CREATE INDEX person_identifiers_person ON person_identifiers (person_id, ifi_key);

-- What a person is called, when an admin named them (optional: most persons are made by statements).
CREATE TABLE persons (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    updated_us BIGINT NOT NULL
);

-- Every identifier known so far becomes a person of its own.
INSERT INTO person_identifiers (ifi_key, person_id, added_us)
SELECT k, lower(hex(randomblob(16))), 0 FROM (
    SELECT key AS k FROM agents WHERE key LIKE 'Agent|%'
    UNION SELECT learner_key FROM assignments
    UNION SELECT learner_key FROM bookings
    UNION SELECT agent_key FROM launches
    UNION SELECT learner_key FROM result_facts
    UNION SELECT learner_key FROM results
);
UPDATE results SET learner_key = (SELECT person_id FROM person_identifiers WHERE ifi_key = results.learner_key);

-- Who was active in which week (weeks start on Monday, UTC), for the console's active learners per
-- week: one row per (week, actor identifier), written with the statements; counted per person.
CREATE TABLE learner_weeks (
    week_us BIGINT NOT NULL,
    ifi_key TEXT NOT NULL,
    PRIMARY KEY (week_us, ifi_key)
);
-- Statements stored before: their agents as actor or object (the index does not tell the two apart).
INSERT INTO learner_weeks (week_us, ifi_key)
SELECT DISTINCT ((s.stored_us - 345600000000) / 604800000000) * 604800000000 + 345600000000, d.key
FROM statement_index d JOIN statements s ON s.seq = d.seq
WHERE d.kind = 'A' AND d.key LIKE 'Agent|%';
