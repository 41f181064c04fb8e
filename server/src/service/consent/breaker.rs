//! Decisions fail fast while storage is known to be unreachable. Without this every decision
//! during an outage would wait out the pool's connection wait (0.7 s on PostgreSQL) before its
//! 503; with it, one decision at a time tries storage again (the probe) once the last failure
//! is `open_for` old, and the others are answered at once.

use crate::storage::StorageError;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct StorageBreaker {
    open_for: Duration,
    /// Until when decisions are refused without trying storage; `None`: storage answered last.
    open_until: Mutex<Option<Instant>>,
}

impl StorageBreaker {
    pub fn new(open_for: Duration) -> Self {
        Self {
            open_for,
            open_until: Mutex::new(None),
        }
    }

    /// Whether this call may try storage. Once the wait is over, the first caller becomes the
    /// probe and the wait starts again for everyone else.
    pub fn allow(&self) -> bool {
        let mut open_until = self.open_until.lock().expect("breaker lock");
        match *open_until {
            None => true,
            Some(until) if Instant::now() >= until => {
                *open_until = Some(Instant::now() + self.open_for);
                true
            }
            Some(_) => false,
        }
    }

    /// Records what storage answered: unreachable opens the breaker, anything else closes it.
    pub fn observe<T>(&self, result: &Result<T, StorageError>) {
        let mut open_until = self.open_until.lock().expect("breaker lock");
        *open_until = match result {
            Err(err) if err.is_unavailable() => Some(Instant::now() + self.open_for),
            _ => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable() -> Result<(), StorageError> {
        Err(StorageError::Database(sqlx::Error::PoolTimedOut))
    }

    #[test]
    fn an_outage_is_answered_at_once_and_one_probe_at_a_time_tries_again() {
        let breaker = StorageBreaker::new(Duration::from_millis(50));
        assert!(breaker.allow() && breaker.allow(), "closed: everyone tries");
        breaker.observe(&unreachable());
        assert!(!breaker.allow(), "open: answered without waiting");
        std::thread::sleep(Duration::from_millis(60));
        assert!(breaker.allow(), "the first caller after the wait probes");
        assert!(!breaker.allow(), "the others still do not wait");
        breaker.observe(&Ok(()));
        assert!(
            breaker.allow() && breaker.allow(),
            "storage answered: closed again"
        );
    }

    #[test]
    fn only_unreachable_storage_opens_it() {
        let breaker = StorageBreaker::new(Duration::from_secs(60));
        breaker.observe::<()>(&Err(StorageError::Corrupt("a bad row".into())));
        assert!(breaker.allow());
    }
}
