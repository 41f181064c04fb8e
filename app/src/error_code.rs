//! The service's one error vocabulary: every machine-readable code an answer can carry, with
//! its HTTP status. The JSON API, the embed routes, the Matomo gate and the banner's server
//! functions all answer from this table, and a test checks the README's error table against it.

use serde::{Deserialize, Serialize};

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $status:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            pub const ALL: &[Self] = &[$(Self::$variant),*];

            /// The code as clients see it. `const`, so code shared with the WASM can name a
            /// code without bringing the whole table along.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }

            /// The HTTP status every answer with this code has.
            pub fn status(self) -> u16 {
                match self {
                    $(Self::$variant => $status,)*
                }
            }
        }
    };
}

error_codes! {
    // The request itself.
    /// The body is not JSON.
    MalformedJson = "malformed_json", 400;
    /// JSON of the wrong shape.
    InvalidBody = "invalid_body", 422;
    UnsupportedMediaType = "unsupported_media_type", 415;
    PayloadTooLarge = "payload_too_large", 413;
    /// Any other malformed request.
    BadRequest = "bad_request", 400;
    InvalidQuery = "invalid_query", 400;
    UnknownParameter = "unknown_parameter", 400;
    InvalidParameter = "invalid_parameter", 400;
    /// A body that is not UTF-8 text.
    InvalidEncoding = "invalid_encoding", 400;
    MissingField = "missing_field", 400;
    UnknownField = "unknown_field", 400;
    InvalidAction = "invalid_action", 400;
    InvalidVia = "invalid_via", 400;
    /// `decided_ms_ago` that is not a whole number of milliseconds up to an hour.
    InvalidDecisionAge = "invalid_decision_age", 400;
    InvalidConsentId = "invalid_consent_id", 400;
    /// The erasure form without its confirmation box ticked.
    ErasureNotConfirmed = "erasure_not_confirmed", 422;
    /// A path that names an SSAID with something else.
    InvalidSubject = "invalid_subject", 400;
    /// A report of undeclared identifiers with no names, too many, or a name that is no
    /// cookie name (one that looks like a value, `name=value`, among them).
    InvalidObservation = "invalid_observation", 422;
    MethodNotAllowed = "method_not_allowed", 405;
    Timeout = "timeout", 408;

    // Decisions checked against the policy.
    UnknownCategory = "unknown_category", 422;
    MissingCategory = "missing_category", 422;
    NecessaryRefused = "necessary_refused", 422;
    ContradictsAction = "contradicts_action", 422;
    GpcWithCategories = "gpc_with_categories", 422;
    /// A `gpc` decision from a browser that did not send `Sec-GPC: 1`.
    GpcWithoutSignal = "gpc_without_signal", 422;
    /// An `acknowledge` decision where opt-in applies: taking note of a notice is no consent.
    AcknowledgeUnderOptIn = "acknowledge_under_opt_in", 422;
    /// The decision was made on a version that is no longer current (or never was).
    StalePolicyVersion = "stale_policy_version", 409;

    // Assessments.
    /// `ip` is not an IPv4 or IPv6 address.
    InvalidAddress = "invalid_address", 422;
    /// `event` is not a known kind nor short free text.
    InvalidEvent = "invalid_event", 422;

    // What is asked for does not exist, or not for this requester.
    NotFound = "not_found", 404;
    ConsentNotFound = "consent_not_found", 404;
    PolicyVersionNotFound = "policy_version_not_found", 404;

    // The consent log (docs/consent-log.md).
    /// No leaf for that decision (unknown, or not recorded).
    LogEntryNotFound = "log_entry_not_found", 404;
    /// `tree_size` names no signed head.
    LogHeadNotFound = "log_head_not_found", 404;
    /// The decision is logged after the latest signed head; `Retry-After` says when to ask.
    LogEntryNotYetSigned = "log_entry_not_yet_signed", 409;
    /// A consistency proof between sizes that are not `1 <= first <= second <= the head's`.
    InvalidLogRange = "invalid_log_range", 400;

    // Who may ask.
    Unauthorized = "unauthorized", 401;
    InvalidToken = "invalid_token", 401;
    AdminDisabled = "admin_disabled", 404;
    /// `POST /api/v1/ssaid/assess` while no `[[services]]` are configured.
    AssessmentDisabled = "assessment_disabled", 404;
    OriginNotAllowed = "origin_not_allowed", 403;
    /// Too many decisions, new visitors, admin token attempts or reports of undeclared
    /// identifiers from one client network;
    /// `Retry-After` says when.
    RateLimited = "rate_limited", 429;

    // Publishing policies.
    InvalidPolicy = "invalid_policy", 422;
    VersionAlreadyPublished = "version_already_published", 409;

    // Retention.
    /// Another instance holds the purge lock.
    PurgeBusy = "purge_busy", 409;

    // The Matomo gate.
    InvalidTrackingRequest = "invalid_tracking_request", 400;
    InvalidBulkJson = "invalid_bulk_json", 400;
    InvalidBulkRequest = "invalid_bulk_request", 400;
    MatomoGateDisabled = "matomo_gate_disabled", 404;

    // The service's own failures: details are logged, never answered.
    StorageUnavailable = "storage_unavailable", 503;
    ShuttingDown = "shutting_down", 503;
    Internal = "internal", 500;
}

/// The codes a client gives a failure that no answer explained. The service never answers
/// with them, so they are not [`ErrorCode`]s (nor in the README's table).
pub mod client {
    /// No answer came: the request failed on its way (offline, connection reset).
    pub const NETWORK: &str = "network";
    /// What came back was not an answer the client could read.
    pub const REQUEST_FAILED: &str = "request_failed";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_serialise_as_themselves() {
        let mut seen = std::collections::BTreeSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            assert_eq!(
                serde_json::to_string(code).unwrap(),
                format!("\"{}\"", code.as_str())
            );
            assert!((400..600).contains(&code.status()), "{code}");
        }
    }

    /// The README's table of error codes and statuses is the one in this file.
    #[test]
    fn the_readme_lists_every_code_with_its_status() {
        let readme = include_str!("../../README.md");
        let start = readme
            .find("<!-- error-codes")
            .expect("the README has the error table");
        let end = readme
            .find("<!-- /error-codes -->")
            .expect("the error table ends");
        let listed: std::collections::BTreeSet<(String, u16)> = readme[start..end]
            .lines()
            .filter_map(|line| {
                let mut cells = line.split('|').map(str::trim).skip(1);
                let code = cells.next()?.strip_prefix('`')?.strip_suffix('`')?;
                Some((code.to_owned(), cells.next()?.parse().ok()?))
            })
            .collect();
        let known: std::collections::BTreeSet<(String, u16)> = ErrorCode::ALL
            .iter()
            .map(|code| (code.as_str().to_owned(), code.status()))
            .collect();
        assert_eq!(
            listed, known,
            "README's error table and app::ErrorCode differ"
        );
    }
}
