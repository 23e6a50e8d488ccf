-- Launches of course modules (SCORM SCOs, cmi5 AUs, TinCan activities) for one learner; see src/lrs/launch.rs.
-- Each launch is also a short-lived credential: its key is the launch id, its secret is random and long, so a
-- SHA-256 of it is stored (argon2's slowness protects guessable passwords, which these are not).
CREATE TABLE launches (
    id             TEXT PRIMARY KEY,     -- UUID; the key of the launch credential
    course_id      TEXT NOT NULL,
    version_id     TEXT NOT NULL REFERENCES course_versions (id),
    module_id      TEXT NOT NULL,
    activity_id    TEXT NOT NULL,        -- the module's xAPI activity id: root of the credential's activity tree
    format         TEXT NOT NULL,        -- scorm12 | scorm2004 | cmi5 | tincan
    actor          TEXT NOT NULL,        -- the learner, xAPI agent JSON
    agent_key      TEXT NOT NULL,
    registration   TEXT NOT NULL,        -- UUID
    launch_mode    TEXT NOT NULL,        -- Normal | Browse | Review
    session_id     TEXT NOT NULL,        -- cmi5 session id (a UUID)
    secret_sha256  TEXT,                 -- NULL until the secret is issued (cmi5: by the fetch URL)
    fetch_sha256   TEXT,                 -- cmi5: hash of the one-time fetch token
    fetch_used     BOOLEAN NOT NULL DEFAULT FALSE,
    state          TEXT NOT NULL,        -- launched | initialized | suspended | terminated | abandoned
    created_us     BIGINT NOT NULL,
    expires_us     BIGINT NOT NULL,
    last_activity_us BIGINT NOT NULL     -- last statement of the session (abandoned duration)
);
CREATE INDEX launches_learner_module ON launches (agent_key, course_id, module_id, created_us);
