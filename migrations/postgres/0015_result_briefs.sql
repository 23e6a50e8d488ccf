-- What the console's counts and charts and the results filters read of a result, as columns beside
-- its JSON body: a course summary over 10,000 learners parsed 10,000 bodies (each with every
-- component's state) to count statuses. Kept by the one function that writes results.
ALTER TABLE results ADD COLUMN status TEXT;
ALTER TABLE results ADD COLUMN scaled DOUBLE PRECISION;
ALTER TABLE results ADD COLUMN time_spent_s DOUBLE PRECISION;
ALTER TABLE results ADD COLUMN satisfied_us TEXT;            -- JSON array of the satisfaction times
ALTER TABLE results ADD COLUMN satisfied_free BOOLEAN;       -- satisfied without any statement

UPDATE results SET
    status = body::jsonb #>> '{derived,status}',
    scaled = (body::jsonb #>> '{derived,score,scaled}')::double precision,
    time_spent_s = COALESCE((body::jsonb #>> '{derived,time_spent_s}')::double precision, 0),
    satisfied_us = COALESCE((body::jsonb #> '{derived,satisfied_at_us}')::text, '[]'),
    satisfied_free = COALESCE((body::jsonb #>> '{derived,satisfied_without_activity}')::boolean, FALSE);
