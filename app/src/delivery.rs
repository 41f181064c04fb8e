//! A choice the service could not save (storage down, the instance draining, the network
//! gone) is kept and delivered again with back-off, saying how long ago it was made; the
//! banner closes meanwhile. After the last retry the banner comes back with the error.

use crate::browser::now_ms;
use crate::consent_api::RecordConsent;
use leptos::prelude::*;
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

/// Whether a choice is waiting to be delivered again.
#[derive(Clone, Copy)]
pub struct Delivery {
    pub pending: RwSignal<bool>,
}

/// A choice as the visitor made it, and when on the page's clock.
#[derive(Clone)]
struct Made {
    input: RecordConsent,
    at_ms: f64,
    /// Which choice this is: a retry scheduled for an earlier one is dropped.
    generation: u64,
    attempts: usize,
}

/// Watches `record`: keeps each new choice, and dispatches it again after a retryable failure.
pub fn keep_and_retry(record: ServerAction<RecordConsent>) -> Delivery {
    let pending = RwSignal::new(false);
    let made = StoredValue::new(None::<Made>);
    let generation = StoredValue::new(0_u64);
    Effect::new(move || {
        // A dispatch without an age is the visitor's own; ours carry one.
        if let Some(input) = record.input().get()
            && input.decided_ms_ago.is_none()
        {
            generation.update_value(|g| *g += 1);
            made.set_value(Some(Made {
                input,
                at_ms: now_ms(),
                generation: generation.get_value(),
                attempts: 0,
            }));
        }
    });
    Effect::new(move || match record.value().get() {
        Some(Ok(_)) => {
            pending.set(false);
            made.set_value(None);
        }
        Some(Err(error)) if is_retryable(&error.code) => {
            let Some(mut kept) = made.get_value() else {
                pending.set(false);
                return;
            };
            let Some(delay) = retry_delay(kept.attempts) else {
                pending.set(false);
                return;
            };
            kept.attempts += 1;
            made.set_value(Some(kept.clone()));
            pending.set(true);
            set_timeout(
                move || {
                    if generation.get_value() != kept.generation {
                        return;
                    }
                    let age = (now_ms() - kept.at_ms).max(1.0).round() as u64;
                    record.dispatch(RecordConsent {
                        decided_ms_ago: Some(age.to_string()),
                        ..kept.input
                    });
                },
                delay,
            );
        }
        Some(Err(_)) => pending.set(false),
        None => {}
    });
    Delivery { pending }
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
