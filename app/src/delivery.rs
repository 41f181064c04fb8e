//! A choice the service could not save (storage down, the instance draining, the network
//! gone) is kept and delivered again with back-off, saying how long ago it was made; the
//! banner closes meanwhile. After the last retry the banner comes back with the error. The
//! island (`enhance.rs`) does the waiting; this is the policy it follows.

use crate::ErrorCode;
use crate::error_code::client;
use rules::RETRY_DELAYS_MS;
use std::time::Duration;

/// The retry schedule and the storage-clearing rule, which the embed loader follows too:
/// `server/build.rs` writes them into it from this one file.
pub mod rules;

// Constants, so the WASM carries these two codes and not `ErrorCode`'s whole table.
const STORAGE_UNAVAILABLE: &str = ErrorCode::StorageUnavailable.as_str();
const SHUTTING_DOWN: &str = ErrorCode::ShuttingDown.as_str();

/// The service could not save the choice for now (its storage is down, or it is draining): its
/// own failure, not the choice's.
pub fn is_unavailable(code: &str) -> bool {
    matches!(code, STORAGE_UNAVAILABLE | SHUTTING_DOWN)
}

/// Failures that trying again can cure: the service's being unavailable, and the client's not
/// reaching it; a refused choice (a stale version, a bad form) is not.
pub fn is_retryable(code: &str) -> bool {
    matches!(
        code,
        STORAGE_UNAVAILABLE | SHUTTING_DOWN | client::NETWORK | client::REQUEST_FAILED
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
            ErrorCode::StorageUnavailable.as_str(),
            ErrorCode::ShuttingDown.as_str(),
            client::NETWORK,
            client::REQUEST_FAILED,
        ] {
            assert!(is_retryable(code), "{code}");
        }
        for code in [
            ErrorCode::StalePolicyVersion,
            ErrorCode::MissingField,
            ErrorCode::Internal,
            ErrorCode::RateLimited,
        ] {
            assert!(!is_retryable(code.as_str()), "{code}");
        }
        let waits: Vec<u64> = (0..).map_while(retry_delay).map(|d| d.as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30]);
    }

    /// The storage kinds are the service's names for them: what `clear_storage` answers with.
    #[test]
    fn the_storage_kinds_are_named_as_the_service_names_them() {
        use crate::domain::IdentifierKind;
        for (kind, name) in [
            (IdentifierKind::LocalStorage, rules::LOCAL_STORAGE),
            (IdentifierKind::SessionStorage, rules::SESSION_STORAGE),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
    }
}
