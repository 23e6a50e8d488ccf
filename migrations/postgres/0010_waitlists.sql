-- Waitlists (issue 14/18): a booking made when a session is full waits, in order, for a seat. A row
-- with `waitlisted_us` set holds no seat; cancelling a seat gives it to the longest-waiting learner.
ALTER TABLE bookings ADD COLUMN waitlisted_us BIGINT;
