-- Course summaries (issue 15) count one row per thing counted: each assignment, and each result
-- no assignment reaches, with the status, score and compliance the summary gives it. Every write
-- that changes one (results, assignments, waivers, persons' identifiers, erasure, rebuilds) replaces
-- its rows in the same transaction, so a summary reads one index range of a small table instead of
-- joining assignments, persons and results. Compliance that changes with time is kept as the instant
-- it changes at (`at_us`), compared with the time of asking when the summary is read.
CREATE TABLE summary_items (
    course_id  TEXT NOT NULL,
    item       TEXT NOT NULL,   -- 'a:' || assignment id, or 'p:' || person id (a result without assignment)
    status     TEXT,            -- as counted (a waiver applied); NULL: a result without brief columns
    scaled     REAL,
    compliance TEXT,            -- waived, on_time, late, due, renew_on_time, renew_late; NULL: no assignment
    at_us      BIGINT,          -- due: pending until then; renew_*: expiring 30 days before, expired from then
    PRIMARY KEY (course_id, item)
) WITHOUT ROWID;
CREATE INDEX summary_items_item ON summary_items (item);

-- The rows of a store that existed before this migration are filled in by `Store::migrate` right after
-- it, from Rust: a recurring completion's expiry is calendar months (`compliance::profile_of`), which
-- SQL would have to repeat in two dialects. This row says that is still to do.
CREATE TABLE summary_items_pending (id BIGINT PRIMARY KEY);
INSERT INTO summary_items_pending (id) VALUES (1);
