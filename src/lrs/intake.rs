//! Statements in flight: a budget of request bytes shared by every statements request between
//! parsing and commit.
//!
//! A parsed batch costs about ten times its JSON (`serde_json::Value` keeping key order), and its
//! rows, facts and SQL parameters exist beside it until the commit; SQLite's statement journal
//! holds the pages a group of requests changes until its commit too. Four batches of 1,000 at once
//! (the bench's batch phase) took the process to 300–370 MiB, a heap profile (heaptrack) put ~76 MB
//! of that in the handlers' parsed batches, ~20 MB in their rows and ~36 MB in SQLite's in-memory
//! journal of the group that wrote them. Admitting at most [`BUDGET_BYTES`] of request JSON at once
//! bounds all three; requests beyond it wait (after their body is read, so a slow upload holds
//! nothing), and single statements and batches of 100 from dozens of clients never wait at all.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Default request JSON admitted at once (`--statements-in-flight-bytes`): two batches of 1,000 typical statements (1.6 KB each), so the
/// writer always has the next batch ready while one is written, or one request of any size.
pub const BUDGET_BYTES: usize = 4 << 20;

/// Budget unit: a KiB (semaphore permits are counted in `u32`).
const UNIT: usize = 1024;

/// The shared budget.
#[derive(Clone)]
pub struct Intake {
    free: Arc<Semaphore>,
    /// The whole budget, in units.
    units: usize,
}

/// A request's share of the budget, given back when dropped.
pub struct Admitted(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

impl Intake {
    /// A budget of `bytes` (at least one unit).
    pub fn new(bytes: usize) -> Intake {
        let units = bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        Intake { free: Arc::new(Semaphore::new(units)), units }
    }

    /// Waits until `bytes` of request JSON fit in the budget. A request larger than the whole
    /// budget takes all of it, so it runs alone rather than never.
    pub async fn admit(&self, bytes: usize) -> Admitted {
        let units = bytes.div_ceil(UNIT).clamp(1, self.units);
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        // The semaphore is never closed, so acquiring does not fail; if it did, admitting beats refusing.
        Admitted(self.free.clone().acquire_many_owned(units).await.ok())
    }

    /// Bytes free in the budget now (for tests).
    pub fn available_bytes(&self) -> usize {
        self.free.available_permits() * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_beyond_the_budget_wait_and_a_huge_one_runs_alone() {
        let intake = Intake::new(BUDGET_BYTES);
        let a = intake.admit(BUDGET_BYTES / 2).await;
        let b = intake.admit(BUDGET_BYTES / 2).await;
        assert_eq!(intake.available_bytes(), 0);
        // A third has to wait for one of them.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), intake.admit(1)).await;
        assert!(waiting.is_err(), "admitted beyond the budget");
        drop(a);
        let c = tokio::time::timeout(std::time::Duration::from_secs(5), intake.admit(1000)).await;
        assert!(c.is_ok(), "not admitted after a share was given back");
        drop((b, c));
        // Larger than the whole budget: admitted once everything else is done, not refused forever.
        let huge = tokio::time::timeout(std::time::Duration::from_secs(5), intake.admit(BUDGET_BYTES * 4)).await;
        assert!(huge.is_ok());
        assert_eq!(intake.available_bytes(), 0);
        drop(huge);
        assert_eq!(intake.available_bytes(), BUDGET_BYTES);
    }
}
