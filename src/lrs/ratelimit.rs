//! Limits on failed authentication (issue 11, finding 7: 2,000 guesses in 37 s, and their argon2
//! work delaying valid requests by seconds). Failures are counted per client address and per key
//! with a keyed GCRA limiter: [`FAILURE_BURST`] failures, then one more per [`FAILURE_PERIOD`].
//! A party over its budget is refused 429 before any argon2 work, until the limiter would admit
//! another failure. Only attempts that are not already known good count (see `lrs::auth`), so a
//! client whose credential was verified before keeps being served during a flood from its address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Failed attempts an address may make at once before being slowed down.
pub const FAILURE_BURST: u32 = 10;
/// Failed attempts a key may collect (from any address) before being slowed down: larger, because
/// a key's lockout also holds back its owner's first verification (not its cached ones).
pub const KEY_FAILURE_BURST: u32 = 20;
/// After the burst, one more failed attempt per period.
pub const FAILURE_PERIOD: Duration = Duration::from_secs(2);
/// How long a party with a failure is "suspect": its checks take the narrow argon2 lane.
const SUSPECT_FOR: Duration = Duration::from_secs(60);
/// Longest key kept as a limiter key (keys are client input).
const MAX_KEY_LEN: usize = 128;

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
enum Party {
    Addr(IpAddr),
    Key(String),
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

/// Failure accounting for all parties.
pub struct FailureLimits {
    by_addr: DefaultKeyedRateLimiter<Party>,
    by_key: DefaultKeyedRateLimiter<Party>,
    clock: DefaultClock,
    marks: Mutex<HashMap<Party, Mark>>,
}

impl Default for FailureLimits {
    fn default() -> Self {
        let quota = |burst: u32| {
            Quota::with_period(FAILURE_PERIOD)
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        FailureLimits {
            by_addr: DefaultKeyedRateLimiter::keyed(quota(FAILURE_BURST)),
            by_key: DefaultKeyedRateLimiter::keyed(quota(KEY_FAILURE_BURST)),
            clock: DefaultClock::default(),
            marks: Mutex::default(),
        }
    }
}

fn parties(addr: Option<IpAddr>, key: &str) -> impl Iterator<Item = Party> {
    let key: String = key.chars().take(MAX_KEY_LEN).collect();
    addr.map(Party::Addr).into_iter().chain(std::iter::once(Party::Key(key)))
}

impl FailureLimits {
    /// Err(how long to wait) when the address or the key is over its failure budget.
    pub fn check(&self, addr: Option<IpAddr>, key: &str) -> Result<(), Duration> {
        let Ok(marks) = self.marks.lock() else { return Ok(()) };
        let now = Instant::now();
        let wait = parties(addr, key)
            .filter_map(|p| marks.get(&p)?.blocked_until)
            .filter(|until| *until > now)
            .max()
            .map(|until| until - now);
        wait.map_or(Ok(()), Err)
    }

    /// Whether the address or key failed recently: its checks go to the narrow lane.
    pub fn suspect(&self, addr: Option<IpAddr>, key: &str) -> bool {
        let Ok(marks) = self.marks.lock() else { return false };
        parties(addr, key).any(|p| marks.get(&p).is_some_and(|m| m.last_failure.elapsed() < SUSPECT_FOR))
    }

    /// Records a failed attempt; a party whose budget it exhausts is blocked until the limiter would
    /// admit another.
    pub fn failed(&self, addr: Option<IpAddr>, key: &str) {
        let now = Instant::now();
        let Ok(mut marks) = self.marks.lock() else { return };
        if marks.len() > 100_000 {
            marks.retain(|_, m| m.last_failure.elapsed() < SUSPECT_FOR);
            self.by_addr.retain_recent();
            self.by_key.retain_recent();
        }
        for p in parties(addr, key) {
            let limiter = if matches!(p, Party::Addr(_)) { &self.by_addr } else { &self.by_key };
            let blocked_until = match limiter.check_key(&p) {
                Ok(()) => None,
                Err(not_until) => Some(now + not_until.wait_time_from(self.clock.now())),
            };
            let mark = marks.entry(p).or_insert(Mark { last_failure: now, blocked_until: None });
            mark.last_failure = now;
            if blocked_until.is_some() {
                mark.blocked_until = blocked_until;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_burst_and_others_are_not() {
        let limits = FailureLimits::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for i in 0..FAILURE_BURST {
            assert!(limits.check(Some(a), &format!("k{i}")).is_ok());
            limits.failed(Some(a), &format!("k{i}"));
        }
        limits.failed(Some(a), "another");
        let wait = limits.check(Some(a), "fresh").expect_err("blocked");
        assert!(wait > Duration::ZERO && wait <= FAILURE_PERIOD);
        assert!(limits.check(Some(b), "fresh").is_ok());
        assert!(limits.suspect(Some(a), "x") && !limits.suspect(Some(b), "x"));
    }
}
