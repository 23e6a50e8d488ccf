-- statement_index keyed by small integers, in stored order within a key.
--
-- Each index row held its key's text (an agent identifier or an IRI, ~50 bytes), and a statement has
-- ~15 rows: the index was 1.2 KB of a statement's 5 KB on disk (`cairn bench size`). The text now lives
-- once in `index_keys`, and a row is (key id, stored, seq). Ordering rows by `stored` within a key
-- makes a filtered query with `since`/`until` one index range, where it scanned every row of the key
-- checking `stored` (verb + window: 330 ms at a million statements), and gives filtered queries the
-- stored order xAPI asks for. `statement_index_seq` still finds a statement's rows, for the
-- StatementRef rule and erasure.
CREATE TABLE index_keys (
    id   INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                    -- see statement_index in 0001
    key  TEXT NOT NULL
);
CREATE UNIQUE INDEX index_keys_kind_key ON index_keys (kind, key);
INSERT INTO index_keys (kind, key) SELECT DISTINCT kind, key FROM statement_index ORDER BY kind, key;

CREATE TABLE statement_keys (
    key_id    INTEGER NOT NULL,            -- index_keys.id
    stored_us INTEGER NOT NULL,            -- the statement's, so a key's rows are in stored order
    seq       INTEGER NOT NULL,
    PRIMARY KEY (key_id, stored_us, seq)
) WITHOUT ROWID;
INSERT INTO statement_keys (key_id, stored_us, seq)
    SELECT k.id, s.stored_us, i.seq FROM statement_index i
    JOIN index_keys k ON k.kind = i.kind AND k.key = i.key
    JOIN statements s ON s.seq = i.seq;

DROP TABLE statement_index;
ALTER TABLE statement_keys RENAME TO statement_index;
CREATE INDEX statement_index_seq ON statement_index (seq);
