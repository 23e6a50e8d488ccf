-- What the console's counts and charts and the results filters read of a result, as columns beside
-- its JSON body: a course summary over 10,000 learners parsed 10,000 bodies (each with every
-- component's state) to count statuses. Kept by the one function that writes results.
ALTER TABLE results ADD COLUMN status TEXT;
ALTER TABLE results ADD COLUMN scaled REAL;
ALTER TABLE results ADD COLUMN time_spent_s REAL;
ALTER TABLE results ADD COLUMN satisfied_us TEXT;            -- JSON array of the satisfaction times
ALTER TABLE results ADD COLUMN satisfied_free BOOLEAN;       -- satisfied without any statement

UPDATE results SET
    status = json_extract(body, '$.derived.status'),
    scaled = json_extract(body, '$.derived.score.scaled'),
    time_spent_s = COALESCE(json_extract(body, '$.derived.time_spent_s'), 0),
    satisfied_us = COALESCE(json_extract(body, '$.derived.satisfied_at_us'), '[]'),
    satisfied_free = COALESCE(json_extract(body, '$.derived.satisfied_without_activity'), 0);
