-- Time-window queries without filters are answered in (stored, seq) order straight off this index,
-- including the keyset condition of their `more` links; it replaces the index on stored_us alone.
-- (SQLite's index on stored_us already ends with the rowid, which is seq.)
CREATE INDEX statements_stored_seq ON statements (stored_us, seq);
DROP INDEX statements_stored;
