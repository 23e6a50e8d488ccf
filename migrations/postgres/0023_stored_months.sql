-- Statements and their index rows partitioned by stored month (issue 15: scale-out past one
-- machine's disk). A month's statements are one table of their own: it can live in another
-- tablespace, and `cairn store archive --before` detaches the months before a date as whole tables,
-- with no row-by-row delete. Queries carry `stored_us` wherever they know it, so that PostgreSQL reads
-- only the months a query spans: a filtered query reads `statement_index` newest month first and
-- stops at its page, and a row found there is read from its own month's `statements`.
--
-- A partitioned table cannot hold a unique index without the partition key, so the statement ids
-- are kept unique by `statement_ids` (one row per statement: id -> seq and stored_us), which is also
-- how a statement is found by id. SQLite keeps one table and has a view of the same name.
--
-- Existing rows become the first partition of each table (see its bound below); the store adds the
-- following months as they come (src/store/partitions.rs).

CREATE TABLE statement_ids (
    id        TEXT PRIMARY KEY,            -- statements.id
    seq       BIGINT NOT NULL,
    stored_us BIGINT NOT NULL
);
INSERT INTO statement_ids (id, seq, stored_us) SELECT id, seq, stored_us FROM statements;

-- statements: the existing table keeps its rows, indexes and sequence, under other names.
ALTER TABLE statements RENAME TO statements_first;
ALTER TABLE statements_first DROP CONSTRAINT statements_id_key;
ALTER TABLE statements_first DROP CONSTRAINT statements_pkey;
ALTER TABLE statements_first ADD CONSTRAINT statements_first_pkey PRIMARY KEY (seq, stored_us);
ALTER INDEX statements_stored_seq RENAME TO statements_first_stored_seq;
ALTER INDEX statements_object_ref RENAME TO statements_first_object_ref;
CREATE TABLE statements (LIKE statements_first INCLUDING DEFAULTS) PARTITION BY RANGE (stored_us);
ALTER TABLE statements ADD CONSTRAINT statements_pkey PRIMARY KEY (seq, stored_us);
ALTER SEQUENCE statements_seq_seq OWNED BY statements.seq;
CREATE INDEX statements_stored_seq ON statements (stored_us, seq);
CREATE INDEX statements_object_ref ON statements (object_ref) WHERE object_ref IS NOT NULL;

-- statement_index likewise; its primary key already holds stored_us.
ALTER TABLE statement_index RENAME TO statement_index_first;
ALTER TABLE statement_index_first RENAME CONSTRAINT statement_index_pkey TO statement_index_first_pkey;
ALTER INDEX statement_index_seq RENAME TO statement_index_first_seq;
CREATE TABLE statement_index (
    key_id    BIGINT NOT NULL,             -- index_keys.id, or a pair's number (0022)
    stored_us BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    CONSTRAINT statement_index_pkey PRIMARY KEY (key_id, stored_us, seq)
) PARTITION BY RANGE (stored_us);
CREATE INDEX statement_index_seq ON statement_index (seq);

-- The first partition holds every row stored so far: it ends where the month after the newest
-- `stored` (or after now) begins. An empty store's ends where the current month begins, so that
-- every month from now on is a partition of its own. Attaching checks every row against the bound
-- (one scan) and adopts the matching indexes.
DO $$
DECLARE
    newest BIGINT := (SELECT max(stored_us) FROM statements_first);
    now_us BIGINT := (extract(epoch FROM now()) * 1000000)::BIGINT;
    month TIMESTAMP := date_trunc('month', to_timestamp(greatest(newest, now_us) / 1000000.0) AT TIME ZONE 'UTC');
    bound BIGINT := (extract(epoch FROM
        CASE WHEN newest IS NULL THEN month ELSE month + INTERVAL '1 month' END) * 1000000)::BIGINT;
BEGIN
    EXECUTE format('ALTER TABLE statements ATTACH PARTITION statements_first FOR VALUES FROM (MINVALUE) TO (%s)', bound);
    EXECUTE format('ALTER TABLE statement_index ATTACH PARTITION statement_index_first FOR VALUES FROM (MINVALUE) TO (%s)', bound);
END $$;
