-- The console (issue 14): its users, their signed-in sessions, and the audit log of admin actions.

CREATE TABLE console_users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,   -- lower-cased
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,          -- admin, instructor or analyst
    password_hash TEXT,                   -- argon2id; NULL: single sign-on only
    created_us    BIGINT NOT NULL,
    disabled_us   BIGINT
);

-- A signed-in browser. Only a SHA-256 of the cookie's token is kept, so a copy of the database
-- signs nobody in.
CREATE TABLE console_sessions (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,           -- a console user's id, or `credential:KEY` (bootstrap)
    csrf         TEXT NOT NULL,
    created_us   BIGINT NOT NULL,
    seen_us      BIGINT NOT NULL,
    ended_us     BIGINT
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at_us  BIGINT NOT NULL,
    actor  TEXT NOT NULL,                 -- who: a user's email or `credential:KEY`
    action TEXT NOT NULL,                 -- e.g. user.add, credential.revoke
    target TEXT NOT NULL,
    detail TEXT NOT NULL                  -- JSON
);
CREATE INDEX audit_log_at ON audit_log (at_us);

-- The console's learner page lists a learner's bookings.
CREATE INDEX bookings_learner ON bookings (learner_key);
