//! Live sessions (the synchronous part of a course) and their bookings.

use serde::Serialize;

use super::{Result, Store};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SessionRow {
    pub id: String,
    pub course_id: String,
    pub activity_id: String,
    pub title: String,
    pub starts_us: i64,
    pub ends_us: i64,
    pub timezone: String,
    pub capacity: Option<i64>,
    pub location: Option<String>,
    pub join_url: Option<String>,
    pub created_us: i64,
    pub cancelled_us: Option<i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BookingRow {
    pub learner_key: String,
    pub learner: String,
    pub booked_us: i64,
    pub cancelled_us: Option<i64>,
    /// Set while the learner waits for a seat (since when).
    pub waitlisted_us: Option<i64>,
}

impl BookingRow {
    /// Whether this booking holds a seat.
    pub fn has_seat(&self) -> bool {
        self.cancelled_us.is_none() && self.waitlisted_us.is_none()
    }

    /// Whether this learner is waiting for a seat.
    pub fn waiting(&self) -> bool {
        self.cancelled_us.is_none() && self.waitlisted_us.is_some()
    }
}

/// What a booking attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookOutcome {
    Booked,
    AlreadyBooked,
    Full,
    /// Full, so the learner joined the waitlist at this position (1 = next seat).
    Waitlisted(i64),
}

/// What cancelling a booking did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cancelled {
    /// Whether there was an active booking or waitlist entry to cancel.
    pub cancelled: bool,
    /// The waiting learner who got the freed seat: `(key, agent JSON)`.
    pub promoted: Option<(String, String)>,
}

const COLUMNS: &str = "id, course_id, activity_id, title, starts_us, ends_us, timezone, capacity, location, join_url, \
     created_us, cancelled_us";

impl Store {
    pub async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        let sql =
            format!("INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)");
        self.write()
            .sql(sql)
            .bind(&s.id)
            .bind(&s.course_id)
            .bind(&s.activity_id)
            .bind(&s.title)
            .bind(s.starts_us)
            .bind(s.ends_us)
            .bind(&s.timezone)
            .bind(s.capacity)
            .bind(&s.location)
            .bind(&s.join_url)
            .bind(s.created_us)
            .bind(s.cancelled_us)
            .execute()
            .await?;
        Ok(())
    }

    /// Sessions, optionally of one course, by start time.
    pub async fn sessions(&self, course_id: Option<&str>) -> Result<Vec<SessionRow>> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE ($1 = '' OR course_id = $1) ORDER BY starts_us, id");
        self.read().sql(sql).bind(course_id.unwrap_or("")).fetch_all_as().await
    }

    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        self.read().sql(format!("SELECT {COLUMNS} FROM sessions WHERE id = $1")).bind(id).fetch_optional_as().await
    }

    pub async fn cancel_session(&self, id: &str, at_us: i64) -> Result<bool> {
        let n = self
            .write()
            .q("UPDATE sessions SET cancelled_us = $2 WHERE id = $1 AND cancelled_us IS NULL")
            .bind(id)
            .bind(at_us)
            .execute()
            .await?;
        Ok(n > 0)
    }

    /// Books a seat if the session has room, else (when `waitlist`) puts the learner on its waitlist,
    /// counting and inserting under one lock so two nodes can never overbook.
    pub async fn book(
        &self,
        session_id: &str,
        learner_key: &str,
        learner: &str,
        capacity: Option<i64>,
        waitlist: bool,
        at_us: i64,
    ) -> Result<BookOutcome> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.lock_key(&format!("session\u{1f}{session_id}")).await?;
        let existing = conn
            .q("SELECT cancelled_us, waitlisted_us FROM bookings WHERE session_id = $1 AND learner_key = $2")
            .bind(session_id)
            .bind(learner_key)
            .fetch_optional()
            .await?;
        if let Some(r) = existing {
            let (cancelled, waiting): (Option<i64>, Option<i64>) = (r.get(0)?, r.get(1)?);
            match (cancelled, waiting) {
                (None, None) => return Ok(BookOutcome::AlreadyBooked),
                (None, Some(since)) => {
                    return Ok(BookOutcome::Waitlisted(position(&mut conn, session_id, since).await?))
                }
                _ => {}
            }
        }
        let taken: i64 = conn
            .q("SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND cancelled_us IS NULL AND waitlisted_us IS NULL")
            .bind(session_id)
            .scalar()
            .await?;
        let full = capacity.is_some_and(|c| taken >= c);
        if full && !waitlist {
            return Ok(BookOutcome::Full);
        }
        conn.q("INSERT INTO bookings (session_id, learner_key, learner, booked_us, cancelled_us, waitlisted_us) \
                VALUES ($1, $2, $3, $4, NULL, $5) ON CONFLICT (session_id, learner_key) DO UPDATE SET \
                booked_us = excluded.booked_us, cancelled_us = NULL, learner = excluded.learner, \
                waitlisted_us = excluded.waitlisted_us")
            .bind(session_id)
            .bind(learner_key)
            .bind(learner)
            .bind(at_us)
            .bind(full.then_some(at_us))
            .execute()
            .await?;
        let outcome = if full {
            BookOutcome::Waitlisted(position(&mut conn, session_id, at_us).await?)
        } else {
            BookOutcome::Booked
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Cancels a learner's seat or waitlist entry; a freed seat goes to the longest-waiting learner,
    /// under the same lock as booking.
    pub async fn cancel_booking(&self, session_id: &str, learner_key: &str, at_us: i64) -> Result<Cancelled> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.lock_key(&format!("session\u{1f}{session_id}")).await?;
        let held: Option<Option<i64>> = conn
            .q("SELECT waitlisted_us FROM bookings WHERE session_id = $1 AND learner_key = $2 AND cancelled_us IS NULL")
            .bind(session_id)
            .bind(learner_key)
            .scalar_opt()
            .await?;
        let Some(waiting) = held else { return Ok(Cancelled::default()) };
        conn.q("UPDATE bookings SET cancelled_us = $3 WHERE session_id = $1 AND learner_key = $2")
            .bind(session_id)
            .bind(learner_key)
            .bind(at_us)
            .execute()
            .await?;
        let mut promoted = None;
        if waiting.is_none() {
            let next = conn
                .q("SELECT learner_key, learner FROM bookings WHERE session_id = $1 AND cancelled_us IS NULL \
                    AND waitlisted_us IS NOT NULL ORDER BY waitlisted_us, learner_key LIMIT 1")
                .bind(session_id)
                .fetch_optional()
                .await?;
            if let Some(r) = next {
                let (key, agent): (String, String) = (r.get(0)?, r.get(1)?);
                conn.q("UPDATE bookings SET waitlisted_us = NULL, booked_us = $3 WHERE session_id = $1 AND learner_key = $2")
                    .bind(session_id)
                    .bind(&key)
                    .bind(at_us)
                    .execute()
                    .await?;
                promoted = Some((key, agent));
            }
        }
        tx.commit().await?;
        Ok(Cancelled { cancelled: true, promoted })
    }

    /// One learner's bookings: `(session id, booking)`, newest first.
    pub async fn bookings_of_learner(&self, learner_key: &str) -> Result<Vec<(String, BookingRow)>> {
        let rows = self
            .read()
            .q("SELECT session_id, learner_key, learner, booked_us, cancelled_us, waitlisted_us FROM bookings \
                WHERE learner_key = $1 ORDER BY booked_us DESC LIMIT 200")
            .bind(learner_key)
            .fetch_all()
            .await?;
        Ok(rows.iter().map(|r| Ok((r.get("session_id")?, r.decode()?))).collect::<sqlx::Result<_>>()?)
    }

    pub async fn bookings(&self, session_id: &str) -> Result<Vec<BookingRow>> {
        self.read()
            .q("SELECT learner_key, learner, booked_us, cancelled_us, waitlisted_us FROM bookings WHERE session_id = $1 \
                ORDER BY booked_us")
            .bind(session_id)
            .fetch_all_as()
            .await
    }
}

/// A waiting learner's place in line: 1 for the next seat.
async fn position(conn: &mut super::dialect::Conn<'_>, session_id: &str, since_us: i64) -> Result<i64> {
    conn.q("SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND cancelled_us IS NULL \
            AND waitlisted_us IS NOT NULL AND waitlisted_us <= $2")
        .bind(session_id)
        .bind(since_us)
        .scalar()
        .await
}
