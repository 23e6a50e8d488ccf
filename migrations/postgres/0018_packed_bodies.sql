-- Statement bodies packed with zstd (see src/store/statements/packing.rs): `packed` holds the frame
-- and its dictionary's key, and `body` is left empty for such rows; rows stored before keep their text
-- in `body`. The bodies were the largest part of the store (`cairn bench size`).
ALTER TABLE statements ADD COLUMN packed BYTEA;

-- Dictionaries trained on the store's statements, by key (a hash of the bytes). Never changed or
-- removed: every packed body names the one it needs.
CREATE TABLE body_dictionaries (
    key        BIGINT PRIMARY KEY,
    dictionary BYTEA NOT NULL,
    created_us BIGINT NOT NULL
);
