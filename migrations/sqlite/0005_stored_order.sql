-- The same index as PostgreSQL's 0005, under the same name, so both backends define the same schema
-- (tests/api/migrations.rs). SQLite needs no second column: every index entry ends with the rowid,
-- which is seq, so (stored_us) here is (stored_us, seq) already, without storing seq twice.
CREATE INDEX statements_stored_seq ON statements (stored_us);
DROP INDEX statements_stored;
