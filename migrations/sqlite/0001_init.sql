-- Cairn store, SQLite flavour. Filtered fields are real indexed columns or rows of statement_index,
-- never JSON paths, so queries stay index-driven at millions of statements.

CREATE TABLE credentials (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes      TEXT NOT NULL,            -- space-separated scope names
    created_us  INTEGER NOT NULL,
    revoked_us  INTEGER
);

CREATE TABLE statements (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- insertion order: the order of `stored`
    id          TEXT NOT NULL UNIQUE,              -- lower-case hyphenated UUID
    stored_us   INTEGER NOT NULL,                  -- microseconds since the Unix epoch
    is_voiding  INTEGER NOT NULL,                  -- verb is adl:voided
    voided      INTEGER NOT NULL DEFAULT 0,        -- a voiding statement targets this one
    object_ref  TEXT,                              -- StatementRef target id, when the object is one
    authority   TEXT NOT NULL,                     -- credential key that stored it (statements/read/mine)
    body        TEXT NOT NULL,                     -- the statement as stored (exact format)
    attachments TEXT                               -- JSON array of attachment sha2s, NULL when none
);
CREATE INDEX statements_stored ON statements (stored_us);
CREATE INDEX statements_object_ref ON statements (object_ref) WHERE object_ref IS NOT NULL;

-- One row per (kind, key) a statement can be found by. Kinds:
--   A agent as actor/object, a agent anywhere (related_agents), V verb, C activity as object,
--   c activity anywhere (related_activities), R registration.
-- A statement whose object is a StatementRef also carries its target's rows (filter rule for StatementRefs).
CREATE TABLE statement_index (
    kind TEXT NOT NULL,
    key  TEXT NOT NULL,
    seq  INTEGER NOT NULL,
    PRIMARY KEY (kind, key, seq)
) WITHOUT ROWID;
CREATE INDEX statement_index_seq ON statement_index (seq);

CREATE TABLE attachments (
    sha2         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL
);

-- State, activity profile and agent profile documents share one table.
CREATE TABLE documents (
    kind         TEXT NOT NULL,                -- 'state' | 'activity_profile' | 'agent_profile'
    activity_id  TEXT NOT NULL DEFAULT '',
    agent_key    TEXT NOT NULL DEFAULT '',
    registration TEXT NOT NULL DEFAULT '',
    doc_id       TEXT NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    etag         TEXT NOT NULL,
    updated_us   INTEGER NOT NULL,
    PRIMARY KEY (kind, activity_id, agent_key, registration, doc_id)
);

-- The LRS's canonical activity definitions, merged from statements.
CREATE TABLE activities (
    id         TEXT PRIMARY KEY,
    definition TEXT NOT NULL
);

-- What the LRS has seen of each agent, for GET /agents (Person objects).
CREATE TABLE agents (
    key  TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
