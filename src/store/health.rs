//! The PostgreSQL health probe (issue 17, finding 2). With the database down, every request used
//! to wait the pool's 30 s acquire timeout (the pool retries refused connections until then) and
//! then answered 500; service came back ~4 s after the database did (the pool's retry back-off).
//!
//! A background task keeps one connection of its own and pings it every second (at once when a
//! request meets a connection error). While it says the database is down, store calls get a short
//! try and then answer [`Outage::Down`] (503), calls already waiting are abandoned, and it retries
//! every 250 ms, so service resumes within about that of the database's return.

use std::future::Future;
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::Connection;
use tokio::sync::{watch, Notify};

use super::{Outage, Result, StoreError};

/// How often the probe pings while the database is up.
const UP_INTERVAL: Duration = Duration::from_secs(1);
/// How often it tries to reconnect while the database is down.
const DOWN_INTERVAL: Duration = Duration::from_millis(250);
/// Longest a ping or a connection attempt of the probe may take before it counts as failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a store call may try while the probe says the database is down: long enough for a
/// database that is back before the probe noticed, short enough that clients are not kept waiting.
const FAIL_FAST: Duration = Duration::from_millis(250);

/// Whether the database is reachable, as the probe last saw it.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    /// true: down.
    down: watch::Sender<bool>,
    /// A request met a connection error: probe now rather than at the next tick.
    suspect: Notify,
}

impl Health {
    /// Starts the probe; it ends when the last handle is dropped.
    pub fn start(opts: PgConnectOptions) -> Health {
        let inner = Arc::new(Inner { down: watch::Sender::new(false), suspect: Notify::new() });
        tokio::spawn(probe(Arc::downgrade(&inner), opts));
        Health { inner }
    }

    pub fn is_down(&self) -> bool {
        *self.inner.down.borrow()
    }

    /// Runs a store call under the probe's verdict (see the module documentation).
    pub async fn guard<T>(&self, op: impl Future<Output = Result<T>>) -> Result<T> {
        let mut rx = self.inner.down.subscribe();
        let out = if *rx.borrow_and_update() {
            tokio::time::timeout(FAIL_FAST, op).await.unwrap_or_else(|_| Err(down()))
        } else {
            tokio::select! {
                r = op => r,
                _ = rx.wait_for(|down| *down) => Err(down()),
            }
        };
        if matches!(&out, Err(e) if e.outage() == Some(Outage::Down)) {
            self.inner.suspect.notify_one();
        }
        out
    }
}

fn down() -> StoreError {
    StoreError::Outage { kind: Outage::Down, message: "PostgreSQL is unreachable (health probe)".into() }
}

async fn probe(inner: Weak<Inner>, opts: PgConnectOptions) {
    let mut conn: Option<PgConnection> = None;
    loop {
        let ok = check(&mut conn, &opts).await;
        let Some(health) = inner.upgrade() else { return };
        if ok == *health.down.borrow() {
            if ok {
                tracing::info!("PostgreSQL is reachable again");
            } else {
                tracing::warn!("PostgreSQL is unreachable; answering 503 until it is back");
            }
            health.down.send_replace(!ok);
        }
        let wait = if ok { UP_INTERVAL } else { DOWN_INTERVAL };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = health.suspect.notified() => {}
        }
    }
}

/// Pings the probe's connection; when that fails (a restarted server closed it), a fresh one
/// decides, so one stale connection never counts as an outage.
async fn check(conn: &mut Option<PgConnection>, opts: &PgConnectOptions) -> bool {
    if let Some(c) = conn.as_mut() {
        if matches!(tokio::time::timeout(PROBE_TIMEOUT, c.ping()).await, Ok(Ok(()))) {
            return true;
        }
        *conn = None;
    }
    let fresh = async {
        let mut c = PgConnection::connect_with(opts).await?;
        c.ping().await?;
        Ok::<_, sqlx::Error>(c)
    };
    match tokio::time::timeout(PROBE_TIMEOUT, fresh).await {
        Ok(Ok(c)) => {
            *conn = Some(c);
            true
        }
        _ => false,
    }
}
