-- Course summaries (issue 15) count a course's assignments, joined to their persons and results, in
-- the database. These indexes hold every column that join reads, so it can be answered from the
-- indexes (an index-only scan where the visibility map allows): the assignment's terms beside its
-- course and learner, and a result's brief columns beside its key (the table's rows hold the body).
DROP INDEX assignments_course;
CREATE INDEX assignments_course ON assignments (course_id, learner_key)
    INCLUDE (assigned_us, due_us, grace_days, recurrence_months, waived_us);
CREATE INDEX results_brief ON results (course_id, learner_key)
    INCLUDE (status, scaled, satisfied_free, satisfied_us);
