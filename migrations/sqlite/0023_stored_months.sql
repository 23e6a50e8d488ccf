-- PostgreSQL partitions statements by stored month (its 0023) and keeps statement ids unique in a
-- table of their own, `statement_ids`, which is also how a statement is found by id. SQLite keeps one
-- table, whose `id` column is unique; this view gives queries the same name on both backends.
CREATE VIEW statement_ids AS SELECT id, seq, stored_us FROM statements;
