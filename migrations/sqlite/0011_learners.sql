-- The learner's side (issue 18, `/learn`): sign-in links, learner sessions and each learner's
-- settings. Kept apart from the console's tables: a learner session is never a console session.

-- A single-use sign-in link an admin or an integration issued for a person. Only the SHA-256 of
-- its token is kept, so a copy of the database signs nobody in.
CREATE TABLE learner_links (
    token_sha256 TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL,
    created_by   TEXT NOT NULL,            -- who issued it (credential key, `cli`)
    created_us   BIGINT NOT NULL,
    expires_us   BIGINT NOT NULL,
    used_us      BIGINT                    -- set once, when it signed someone in
);
CREATE INDEX learner_links_person ON learner_links (person_id);

-- A signed-in learner's browser (cookie `cairn_learn`): the digest of its token, its CSRF token,
-- idle and absolute expiry as the console's.
CREATE TABLE learner_sessions (
    token_sha256 TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL,
    csrf         TEXT NOT NULL,
    created_us   BIGINT NOT NULL,
    seen_us      BIGINT NOT NULL,
    ended_us     BIGINT
);
CREATE INDEX learner_sessions_person ON learner_sessions (person_id);

-- What a learner chose on `/learn`: the time zone their dates are shown in (IANA name).
CREATE TABLE learner_settings (
    person_id  TEXT PRIMARY KEY,
    timezone   TEXT NOT NULL,
    updated_us BIGINT NOT NULL
);
