-- Statements stored per day (UTC), for the console's overview chart: counted as statements are
-- written, so the chart reads a few hundred rows instead of counting a day's statements (a million
-- statements in a day took half a second to count). Each day has up to 16 rows (`slot`): a writing
-- transaction adds to one slot picked at random, so concurrent writers on PostgreSQL rarely wait on
-- the same row. The day's count is the sum of its slots.
CREATE TABLE statement_days (
    day_us BIGINT NOT NULL,     -- 00:00 UTC of the day, in microseconds
    slot   BIGINT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (day_us, slot)
);
INSERT INTO statement_days (day_us, slot, n)
SELECT (stored_us / 86400000000) * 86400000000, 0, COUNT(*) FROM statements
GROUP BY (stored_us / 86400000000) * 86400000000;
