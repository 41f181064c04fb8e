//! The service's one clock. Everything that records or compares a time reads it here, so a
//! test can run the service "as of" a date (expiry, retention) without waiting for one.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock.
    fixed: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `at` until moved with [`Clock::set`] or [`Clock::advance`].
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self {
            fixed: Some(Arc::new(Mutex::new(truncate(at)))),
        }
    }

    /// Now, to the microsecond: the precision both engines store, so what is written reads
    /// back equal.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.fixed {
            Some(at) => *at.lock().expect("clock lock"),
            None => truncate(Utc::now()),
        }
    }

    /// Moves a fixed clock (and every copy of it) to `at`; the system clock cannot be set.
    pub fn set(&self, at: DateTime<Utc>) {
        let fixed = self.fixed.as_ref().expect("only a fixed clock can be set");
        *fixed.lock().expect("clock lock") = truncate(at);
    }

    pub fn advance(&self, by: TimeDelta) {
        self.set(self.now() + by);
    }
}

fn truncate(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_is_kept_to_the_microsecond() {
        let now = Clock::system().now();
        assert_eq!(now.timestamp_subsec_nanos() % 1_000, 0);
        assert!((Utc::now() - now).num_seconds().abs() < 5);
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told_and_copies_follow() {
        let start = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let clock = Clock::fixed(start);
        let copy = clock.clone();
        assert_eq!(clock.now().to_rfc3339(), "2026-01-02T03:04:05.123456+00:00");
        assert_eq!(clock.now(), copy.now());
        copy.advance(TimeDelta::days(400));
        assert_eq!(clock.now().to_rfc3339(), "2027-02-06T03:04:05.123456+00:00");
    }
}
