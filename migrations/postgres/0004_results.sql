-- Derived results: facts extracted from statements, course definitions the rules run against,
-- assignments, live sessions and bookings, and the materialised result per learner and course.

-- One row per (statement, activity it concerns: its object, or a parent/grouping context activity).
CREATE TABLE result_facts (
    statement_id TEXT NOT NULL,
    linked       TEXT NOT NULL,
    learner_key  TEXT NOT NULL,
    body         TEXT NOT NULL,           -- the Fact (JSON)
    PRIMARY KEY (statement_id, linked)
);
CREATE INDEX result_facts_learner ON result_facts (learner_key, linked);

-- What results are derived against, per course (imported or defined through the API).
CREATE TABLE course_defs (
    course_id  TEXT PRIMARY KEY,
    body       TEXT NOT NULL,             -- CourseDef (JSON)
    defined    BOOLEAN NOT NULL,          -- defined through the API (not from a package)
    updated_us BIGINT NOT NULL
);
CREATE TABLE course_activities (
    activity_id TEXT NOT NULL,
    course_id   TEXT NOT NULL,
    PRIMARY KEY (activity_id, course_id)
);

CREATE TABLE assignments (
    id                TEXT PRIMARY KEY,
    course_id         TEXT NOT NULL,
    learner_key       TEXT NOT NULL,
    learner           TEXT NOT NULL,      -- the agent (JSON)
    assigned_us       BIGINT NOT NULL,
    due_us            BIGINT NOT NULL,
    grace_days        BIGINT NOT NULL,
    recurrence_months BIGINT,
    registration      TEXT NOT NULL,
    group_key         TEXT,
    waived_us         BIGINT,
    waived_reason     TEXT
);
CREATE INDEX assignments_course ON assignments (course_id, learner_key);
CREATE INDEX assignments_learner ON assignments (learner_key);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    course_id    TEXT NOT NULL,
    activity_id  TEXT NOT NULL,
    title        TEXT NOT NULL,
    starts_us    BIGINT NOT NULL,
    ends_us      BIGINT NOT NULL,
    timezone     TEXT NOT NULL,
    capacity     BIGINT,
    location     TEXT,
    join_url     TEXT,
    created_us   BIGINT NOT NULL,
    cancelled_us BIGINT
);
CREATE INDEX sessions_course ON sessions (course_id, starts_us);

CREATE TABLE bookings (
    session_id   TEXT NOT NULL,
    learner_key  TEXT NOT NULL,
    learner      TEXT NOT NULL,
    booked_us    BIGINT NOT NULL,
    cancelled_us BIGINT,
    PRIMARY KEY (session_id, learner_key)
);

CREATE TABLE results (
    course_id   TEXT NOT NULL,
    learner_key TEXT NOT NULL,
    body        TEXT NOT NULL,            -- Derived (JSON)
    updated_us  BIGINT NOT NULL,
    PRIMARY KEY (course_id, learner_key)
);
CREATE INDEX results_learner ON results (learner_key);
