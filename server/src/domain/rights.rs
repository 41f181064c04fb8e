//! The visitor's rights (notice §07): what an erasure leaves behind as evidence, and the
//! keyed pseudonyms that let the service recognise a subject without keeping the SSAID.

use super::Ssaid;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Who asked for an erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErasureChannel {
    /// The visitor, from the preference center or `POST /api/v1/me/erase`.
    SelfService,
    /// Privacy staff answering a ticket.
    Staff { ticket: Option<String> },
}

impl ErasureChannel {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::SelfService => "self_service",
            Self::Staff { .. } => "staff",
        }
    }

    pub fn ticket(&self) -> Option<&str> {
        match self {
            Self::Staff { ticket } => ticket.as_deref(),
            Self::SelfService => None,
        }
    }
}

/// Evidence that an erasure was handled, without the erased data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ErasureRecord {
    /// The erasure's reference (its job in `GET /api/v1/admin/matomo-erasures`).
    pub id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// `self_service` (the visitor) or `staff` (a ticket).
    #[schema(pattern = "^(self_service|staff)$")]
    pub channel: &'static str,
    pub ticket: Option<String>,
    /// A keyed hash of the SSAID: recognises a repeated request, cannot be read back.
    pub subject_hash: String,
    /// Rows deleted, per table.
    pub deleted: BTreeMap<String, u64>,
    /// What happened on Matomo's side: `not_configured`, or its job's state (`pending` until
    /// the worker has deleted the visitor there).
    pub matomo: String,
}

/// A ticket reference as staff type it: short, printable, no control characters.
pub fn parse_ticket(raw: &str) -> Option<String> {
    let ticket = raw.trim();
    (!ticket.is_empty() && ticket.chars().count() <= 64 && ticket.chars().all(|c| !c.is_control()))
        .then(|| ticket.to_owned())
}

/// Keyed hashes of an SSAID. `purpose` separates them: the erasure record's hash and Matomo's
/// visitor id never match each other, and neither can be computed without the key.
pub fn keyed_hash(key: &[u8], purpose: &str, ssaid: &Ssaid) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    // HMAC would do the same here; a length-prefixed hash keeps to the crates we have.
    let mut hasher = Sha256::new();
    hasher.update((key.len() as u64).to_be_bytes());
    hasher.update(key);
    hasher.update((purpose.len() as u64).to_be_bytes());
    hasher.update(purpose.as_bytes());
    hasher.update(ssaid.as_str().as_bytes());
    hasher.finalize().into()
}

/// The erasure record's subject hash: hex.
pub fn subject_hash(key: &[u8], ssaid: &Ssaid) -> String {
    hex(&keyed_hash(key, "erasure-subject", ssaid))
}

/// Matomo's visitor id (`cid`) for an SSAID: 16 hex characters, the same for every hit of one
/// browser, so its visits can be found and deleted again; nobody else can link it back.
pub fn matomo_visitor_id(key: &[u8], ssaid: &Ssaid) -> String {
    hex(&keyed_hash(key, "matomo-visitor-id", ssaid)[..8])
}

/// What ties a consent cookie to the SSAID it was given with (the `bnd` claim): 24 hex
/// characters, keyed, so the cookie tells its reader nothing the SSAID cookie beside it does not,
/// and nobody without the key can make a cookie that binds to another visitor's SSAID.
pub fn consent_binding(key: &[u8], ssaid: &Ssaid) -> String {
    hex(&keyed_hash(key, "consent-binding", ssaid)[..12])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_keyed_and_separate() {
        let ssaid = Ssaid::from_random_bytes([1; 16]);
        let visitor_id = matomo_visitor_id(b"key", &ssaid);
        assert_eq!(visitor_id.len(), 16);
        assert!(visitor_id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(visitor_id, matomo_visitor_id(b"key", &ssaid));
        assert_ne!(visitor_id, matomo_visitor_id(b"other key", &ssaid));
        assert_ne!(
            visitor_id,
            matomo_visitor_id(b"key", &Ssaid::from_random_bytes([2; 16]))
        );
        assert!(!subject_hash(b"key", &ssaid).starts_with(&visitor_id));
        assert_eq!(subject_hash(b"key", &ssaid).len(), 64);
        let binding = consent_binding(b"key", &ssaid);
        assert_eq!(binding.len(), 24);
        assert!(!binding.starts_with(&visitor_id));
        assert_ne!(
            binding,
            consent_binding(b"key", &Ssaid::from_random_bytes([2; 16]))
        );
    }

    #[test]
    fn tickets_are_short_printable_text() {
        assert_eq!(
            parse_ticket(" ZC-2026-1123 "),
            Some("ZC-2026-1123".to_owned())
        );
        assert_eq!(parse_ticket(""), None);
        assert_eq!(parse_ticket("a\nb"), None);
        assert_eq!(parse_ticket(&"x".repeat(65)), None);
    }
}
