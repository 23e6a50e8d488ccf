-- The course player's leftovers (issue 19).
--
-- Global objectives shared across courses (SCORM 2004 `objectivesGlobalToSystem`) are a learner's, and
-- a learner is a person with any number of identifiers: they were kept per identifier, so a pretest
-- passed under one identifier did not count for a course played under another. Kept per person now.
-- A person whose identifiers had several rows keeps the most recently written one.
CREATE TABLE player_person_globals (
    person_id      TEXT PRIMARY KEY,
    globals        TEXT NOT NULL,        -- JSON: objective id -> shared values
    revision       BIGINT NOT NULL,      -- every write names the revision it read (compare-and-set)
    updated_us     BIGINT NOT NULL
);
INSERT INTO player_person_globals (person_id, globals, revision, updated_us)
SELECT pi.person_id, g.globals, 0, g.updated_us
FROM player_globals g JOIN person_identifiers pi ON pi.ifi_key = g.agent_key
WHERE NOT EXISTS (
    SELECT 1 FROM player_globals g2 JOIN person_identifiers p2 ON p2.ifi_key = g2.agent_key
    WHERE p2.person_id = pi.person_id
      AND (g2.updated_us > g.updated_us OR (g2.updated_us = g.updated_us AND g2.agent_key > g.agent_key))
);
DROP TABLE player_globals;

-- Expired player sessions are removed (at start and whenever a player opens): the index finds them.
CREATE INDEX player_sessions_expiry ON player_sessions (expires_us);
