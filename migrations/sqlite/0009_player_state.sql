-- The course player (issue 19): the sequencing state of each registration a learner plays a course in,
-- and the player sessions (each opening of the player, with its own short-lived credential).
--
-- The state is JSON (the SCORM 2004 activity tree's tracking state, `sequencing::SavedState`, or the
-- SCORM 1.2 / cmi5 player's own), kept here rather than in a node's memory so that a learner who
-- suspends can resume on another day and another node. `revision` makes every write a compare-and-set:
-- two nodes (or two tabs) navigating at once cannot lose each other's changes.
CREATE TABLE player_states (
    registration   TEXT PRIMARY KEY,     -- UUID: the course attempt every launch of the player uses
    course_id      TEXT NOT NULL,
    version_id     TEXT NOT NULL REFERENCES course_versions (id),
    format         TEXT NOT NULL,        -- scorm2004 | scorm12 | cmi5
    actor          TEXT NOT NULL,        -- the learner, xAPI agent JSON
    agent_key      TEXT NOT NULL,
    state          TEXT NOT NULL,        -- JSON
    current_launch TEXT,                 -- the launch of the module being delivered, if any
    revision       BIGINT NOT NULL,
    created_us     BIGINT NOT NULL,
    updated_us     BIGINT NOT NULL
);
CREATE INDEX player_states_learner_course ON player_states (agent_key, course_id, updated_us);

-- One opening of the player. Its credential (key = id, only a SHA-256 of the secret kept) reaches the
-- player's own endpoints on the content origin and nothing else: it is not a credential for /xapi or /api.
CREATE TABLE player_sessions (
    id             TEXT PRIMARY KEY,     -- UUID
    registration   TEXT NOT NULL REFERENCES player_states (registration),
    secret_sha256  TEXT NOT NULL,
    created_us     BIGINT NOT NULL,
    expires_us     BIGINT NOT NULL
);
CREATE INDEX player_sessions_registration ON player_sessions (registration);

-- A learner's global objectives shared across courses (SCORM 2004 `objectivesGlobalToSystem`, the
-- default): what one course's SCOs write through their objective maps, another course reads. JSON map
-- of objective id to its shared values, written compare-and-set on `revision`.
CREATE TABLE player_globals (
    agent_key      TEXT PRIMARY KEY,
    globals        TEXT NOT NULL,
    revision       BIGINT NOT NULL,
    updated_us     BIGINT NOT NULL
);
