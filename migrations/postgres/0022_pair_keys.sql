-- Pair rows for `agent` + `verb` (issue 15): a statement is also filed under each (agent, verb) pair
-- it has, an agent key of kind 'A' with its verb key, so that the query a learner's history is read by
-- is one index range. It was the agent's rows probed for the verb, a probe per statement of the
-- learner: p99 35 ms at 10 million statements (BENCHMARKS.md). A pair's number is made from its two
-- keys' numbers, -(agent × 2³² + verb), and is not in `index_keys` (src/store/statements/keys.rs).
--
-- Existing statements get theirs here, StatementRef referrers included: their rows already hold
-- their targets' agent and verb rows, and a pair is filed for each agent row with each verb row.
-- Nodes of an older version still running on the same database during a rolling upgrade file no
-- pairs: stop them before this migration runs.
INSERT INTO statement_index (key_id, stored_us, seq)
    SELECT -(a.key_id * 4294967296 + v.key_id), a.stored_us, a.seq
    FROM statement_index a JOIN index_keys ka ON ka.id = a.key_id AND ka.kind = 'A'
    JOIN statement_index v ON v.seq = a.seq JOIN index_keys kv ON kv.id = v.key_id AND kv.kind = 'V'
    WHERE a.key_id < 2147483648 AND v.key_id < 4294967296
    ON CONFLICT DO NOTHING;
