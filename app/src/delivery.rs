//! A choice the service could not save (storage down, the instance draining, the network
//! gone) is kept and delivered again with back-off, saying how long ago it was made; the
//! banner closes meanwhile. After the last retry the banner comes back with the error. The
//! island (`enhance.rs`) does the waiting; this is the policy it follows.

use std::time::Duration;

/// The waits before each retry: about a minute in all, then the visitor is told.
const RETRY_DELAYS_MS: [u64; 6] = [1_000, 2_000, 4_000, 8_000, 16_000, 30_000];

/// Failures that trying again can cure; a refused choice (a stale version, a bad form) is not.
pub fn is_retryable(code: &str) -> bool {
    matches!(
        code,
        "storage_unavailable" | "shutting_down" | "network" | "request_failed"
    )
}

/// The wait before retry number `attempt` (from 0), or `None` once the retries are spent.
pub fn retry_delay(attempt: usize) -> Option<Duration> {
    RETRY_DELAYS_MS
        .get(attempt)
        .map(|&ms| Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_that_may_pass_are_retried_and_only_six_times() {
        for code in [
            "storage_unavailable",
            "shutting_down",
            "network",
            "request_failed",
        ] {
            assert!(is_retryable(code), "{code}");
        }
        for code in [
            "stale_policy_version",
            "missing_field",
            "internal",
            "rate_limited",
        ] {
            assert!(!is_retryable(code), "{code}");
        }
        let waits: Vec<u64> = (0..).map_while(retry_delay).map(|d| d.as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30]);
    }
}
