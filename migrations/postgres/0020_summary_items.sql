-- Course summaries (issue 15) count one row per thing counted: each assignment, and each result
-- no assignment reaches, with the status, score and compliance the summary gives it. Every write
-- that changes one (results, assignments, waivers, persons' identifiers, erasure, rebuilds) replaces
-- its rows in the same transaction, with the counts below, so a summary reads a few dozen rows instead
-- of joining assignments, persons and results. Compliance that changes with time is kept as the instant
-- it changes at (`at_us`), compared with the time of asking when the summary is read.
CREATE TABLE summary_items (
    course_id  TEXT NOT NULL,
    item       TEXT NOT NULL,   -- 'a:' || assignment id, or 'p:' || person id (a result without assignment)
    status     TEXT,            -- as counted (a waiver applied); NULL: a result without brief columns
    scaled     DOUBLE PRECISION,
    compliance TEXT,            -- waived, on_time, late, due, renew_on_time, renew_late; NULL: no assignment
    at_us      BIGINT,          -- due: pending until then; renew_*: expiring 30 days before, expired from then
    PRIMARY KEY (course_id, item)
);
CREATE INDEX summary_items_item ON summary_items (item);

-- What a summary reads: the items counted, kept by the same writes from the items they replace (each
-- adds what its new items add and takes off what its old ones added). Statuses and compliance
-- categories (part 's' and 'c'; a status '' is a result without brief columns; the categories are
-- as in `compliance` above), scores, and the instants time-dependent compliance changes at, so that
-- the time of asking splits them with a range sum (pending from overdue, expiring and expired).
CREATE TABLE summary_counts (
    course_id TEXT NOT NULL,
    part      TEXT NOT NULL,
    label     TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (course_id, part, label)
);
CREATE TABLE summary_scores (
    course_id TEXT NOT NULL,
    scaled    DOUBLE PRECISION NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (course_id, scaled)
);
CREATE TABLE summary_instants (
    course_id  TEXT NOT NULL,
    compliance TEXT NOT NULL,
    at_us      BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (course_id, compliance, at_us)
);

-- The rows of a store that existed before this migration are filled in by `Store::migrate` right after
-- it, from Rust: a recurring completion's expiry is calendar months (`compliance::profile_of`), which
-- SQL would have to repeat in two dialects. This row says that is still to do.
CREATE TABLE summary_items_pending (id BIGINT PRIMARY KEY);
INSERT INTO summary_items_pending (id) VALUES (1);
