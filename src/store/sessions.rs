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
}

/// What a booking attempt did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookOutcome {
    Booked,
    AlreadyBooked,
    Full,
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

    /// Books a seat if the session has room, counting and inserting under one lock so two nodes can
    /// never overbook.
    pub async fn book(
        &self,
        session_id: &str,
        learner_key: &str,
        learner: &str,
        capacity: Option<i64>,
        at_us: i64,
    ) -> Result<BookOutcome> {
        let mut tx = self.begin_write().await?;
        let mut conn = tx.conn();
        conn.lock_key(&format!("session\u{1f}{session_id}")).await?;
        let existing: Option<Option<i64>> = conn
            .q("SELECT cancelled_us FROM bookings WHERE session_id = $1 AND learner_key = $2")
            .bind(session_id)
            .bind(learner_key)
            .scalar_opt()
            .await?;
        if let Some(None) = existing {
            return Ok(BookOutcome::AlreadyBooked);
        }
        let taken: i64 = conn
            .q("SELECT COUNT(*) FROM bookings WHERE session_id = $1 AND cancelled_us IS NULL")
            .bind(session_id)
            .scalar()
            .await?;
        if capacity.is_some_and(|c| taken >= c) {
            return Ok(BookOutcome::Full);
        }
        conn.q("INSERT INTO bookings (session_id, learner_key, learner, booked_us, cancelled_us) \
                VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (session_id, learner_key) DO UPDATE SET \
                booked_us = excluded.booked_us, cancelled_us = NULL, learner = excluded.learner")
            .bind(session_id)
            .bind(learner_key)
            .bind(learner)
            .bind(at_us)
            .execute()
            .await?;
        tx.commit().await?;
        Ok(BookOutcome::Booked)
    }

    pub async fn cancel_booking(&self, session_id: &str, learner_key: &str, at_us: i64) -> Result<bool> {
        let n = self
            .write()
            .q("UPDATE bookings SET cancelled_us = $3 WHERE session_id = $1 AND learner_key = $2 AND cancelled_us IS NULL")
            .bind(session_id)
            .bind(learner_key)
            .bind(at_us)
            .execute()
            .await?;
        Ok(n > 0)
    }

    /// One learner's bookings: `(session id, booking)`, newest first.
    pub async fn bookings_of_learner(&self, learner_key: &str) -> Result<Vec<(String, BookingRow)>> {
        let rows = self
            .read()
            .q("SELECT session_id, learner_key, learner, booked_us, cancelled_us FROM bookings WHERE learner_key = $1 \
                ORDER BY booked_us DESC LIMIT 200")
            .bind(learner_key)
            .fetch_all()
            .await?;
        Ok(rows.iter().map(|r| Ok((r.get("session_id")?, r.decode()?))).collect::<sqlx::Result<_>>()?)
    }

    pub async fn bookings(&self, session_id: &str) -> Result<Vec<BookingRow>> {
        self.read()
            .q("SELECT learner_key, learner, booked_us, cancelled_us FROM bookings WHERE session_id = $1 ORDER BY booked_us")
            .bind(session_id)
            .fetch_all_as()
            .await
    }
}
