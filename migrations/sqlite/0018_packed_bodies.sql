-- Statement bodies packed with zstd (see src/store/statements/packing.rs): `packed` holds the frame
-- and its dictionary's key, and `body` is left empty for such rows; rows stored before keep their text
-- in `body`. The bodies were the largest part of the store (`cairn bench size`).
ALTER TABLE statements ADD COLUMN packed BLOB;

-- Dictionaries trained on the store's statements, by key (a hash of the bytes). Never changed or
-- removed: every packed body names the one it needs.
CREATE TABLE body_dictionaries (
    key        INTEGER PRIMARY KEY,
    dictionary BLOB NOT NULL,
    created_us INTEGER NOT NULL
);
