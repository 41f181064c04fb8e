//! What a leaf of the consent log holds: the kind of record, when it was logged, and a salted
//! commitment to the record — never the record itself, so a leaf carries no personal data and
//! outlives the record it commits to (docs/consent-log.md, "Leaves").

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tlog_tiles::Hash;

/// The first line of every leaf: the format's name and version.
pub const LEAF_FORMAT: &str = "zeccloud-consent-log/v1";

/// Bytes of random salt a record's commitment starts with.
pub const SALT_BYTES: usize = 16;

/// The kinds of record the log holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeafKind {
    /// A consent decision (`consent_events`).
    Consent,
    /// A published policy version (`policy_versions`).
    Policy,
    /// Records deleted through erasure or the retention purge (`log_deletions`).
    Deletion,
}

impl LeafKind {
    pub const ALL: [Self; 3] = [Self::Consent, Self::Policy, Self::Deletion];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::Policy => "policy",
            Self::Deletion => "deletion",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// A leaf as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub kind: LeafKind,
    /// When the record came to be (a decision's `created_at`, a version's `published_at`, a
    /// deletion's `deleted_at`), to the microsecond: both engines keep that much.
    pub logged_at: DateTime<Utc>,
    /// SHA-256 of the record's salt and canonical bytes ([`commitment`]).
    pub commitment: [u8; 32],
}

impl Leaf {
    /// The leaf's data, the bytes its hash is taken over: four lines.
    pub fn data(&self) -> String {
        format!(
            "{LEAF_FORMAT}\n{}\n{}\n{}\n",
            self.kind.as_str(),
            timestamp(self.logged_at),
            hex(&self.commitment)
        )
    }

    /// SHA-256(0x00 ‖ data), RFC 9162 §2.1.1.
    pub fn hash(&self) -> Hash {
        super::tree::leaf_hash(self.data().as_bytes())
    }
}

/// A record's commitment: SHA-256(salt ‖ record). Without its salt, a leaf cannot be matched to
/// a record someone guesses or kept, which is what makes an erasure final.
pub fn commitment(salt: &[u8], record: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(record);
    hasher.finalize().into()
}

/// A new random salt, as stored beside its record (hex).
pub fn new_salt() -> String {
    let mut bytes = [0u8; SALT_BYTES];
    rand::fill(&mut bytes[..]);
    hex(&bytes)
}

/// A stored salt's bytes; an absent or malformed one is empty (records written before the log
/// by a release without it: see docs/consent-log.md).
pub fn salt_bytes(stored: Option<&str>) -> Vec<u8> {
    stored.and_then(unhex).unwrap_or_default()
}

/// Times as the log writes them: RFC 3339, UTC, microseconds.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A time cut to what the log keeps (microseconds), as both engines store it.
pub fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

/// Lower-case hex, without a `format!` per byte: a decision writes three of these, and the
/// formatting machinery was a measurable share of its CPU.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 * bytes.len());
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// The canonical bytes of a consent decision: its columns as a JSON object in this order,
/// compact. The network prefix is left out: it is cleared after its retention (§04) while the
/// decision stays.
#[derive(Debug, Serialize)]
pub struct DecisionRecord<'a> {
    pub id: String,
    pub ssaid: &'a str,
    pub policy_version: String,
    pub policy_hash: &'a str,
    pub banner_text_hash: &'a str,
    pub language: &'a str,
    pub categories: &'a BTreeMap<String, bool>,
    pub action: &'a str,
    pub source: &'a str,
    pub created_at: String,
    pub made_at: Option<String>,
    pub ua_class: &'a str,
    pub origin: Option<&'a str>,
    pub jurisdiction: Option<&'a str>,
    pub regime: Option<&'a str>,
    pub country: Option<&'a str>,
    pub country_source: Option<&'a str>,
}

/// The canonical bytes of a published policy version. Public and never erased, so unsalted.
#[derive(Debug, Serialize)]
pub struct PolicyRecord<'a> {
    pub version: &'a str,
    pub hash: &'a str,
    pub material: bool,
    pub published_at: String,
    pub source: &'a str,
}

/// Why records were deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionReason {
    /// A visitor's erasure (§07).
    Erasure,
    /// The retention purge (§04).
    Retention,
}

impl DeletionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Erasure => "erasure",
            Self::Retention => "retention",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Erasure, Self::Retention]
            .into_iter()
            .find(|reason| reason.as_str() == raw)
    }
}

/// The canonical bytes of a deletion: which leaves lost their records, and why. Leaf indexes
/// only, so it holds nothing about the visitor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeletionRecord {
    pub id: String,
    pub reason: DeletionReason,
    pub deleted_at: String,
    /// The erasure's evidence (`erasures.id`), for an erasure.
    pub erasure_id: Option<String>,
    /// The leaves whose records were deleted, ascending.
    pub leaves: Vec<u64>,
}

/// The canonical bytes of a record: compact JSON of its fields in declaration order.
pub fn canonical<T: Serialize>(record: &T) -> Vec<u8> {
    serde_json::to_vec(record).expect("log records serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_leaf_is_four_lines_and_its_hash_is_rfc_9162s() {
        let leaf = Leaf {
            kind: LeafKind::Consent,
            logged_at: Utc.with_ymd_and_hms(2026, 12, 8, 1, 2, 3).unwrap()
                + chrono::TimeDelta::nanoseconds(123_456_789),
            commitment: [0xab; 32],
        };
        assert_eq!(
            leaf.data(),
            format!(
                "zeccloud-consent-log/v1\nconsent\n2026-12-08T01:02:03.123456Z\n{}\n",
                "ab".repeat(32)
            )
        );
        let mut expected = Sha256::new();
        expected.update([0u8]);
        expected.update(leaf.data().as_bytes());
        let expected: [u8; 32] = expected.finalize().into();
        assert_eq!(leaf.hash().0, expected);
    }

    #[test]
    fn the_commitment_depends_on_the_salt() {
        let record = br#"{"id":"x"}"#;
        assert_ne!(commitment(b"one", record), commitment(b"two", record));
        assert_eq!(
            commitment(b"", record),
            <[u8; 32]>::from(Sha256::digest(record))
        );
    }

    #[test]
    fn salts_are_random_hex_and_bad_ones_are_empty() {
        let salt = new_salt();
        assert_eq!(salt.len(), 2 * SALT_BYTES);
        assert_ne!(salt, new_salt());
        assert_eq!(salt_bytes(Some(&salt)).len(), SALT_BYTES);
        assert!(salt_bytes(None).is_empty());
        assert!(salt_bytes(Some("xyz")).is_empty());
        assert_eq!(unhex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(hex(&[0, 255, 16, 0xab]), "00ff10ab");
    }

    #[test]
    fn times_are_cut_to_microseconds() {
        let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()
            + chrono::TimeDelta::nanoseconds(1_234_567);
        assert_eq!(timestamp(at), "2026-01-02T03:04:05.001234Z");
        assert_eq!(timestamp(to_micros(at)), timestamp(at));
        assert_eq!(to_micros(at).timestamp_subsec_nanos(), 1_234_000);
    }

    #[test]
    fn kinds_and_reasons_read_back() {
        for kind in LeafKind::ALL {
            assert_eq!(LeafKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(LeafKind::parse("other"), None);
        assert_eq!(
            DeletionReason::parse("retention"),
            Some(DeletionReason::Retention)
        );
    }

    #[test]
    fn a_deletion_record_is_canonical_json() {
        let record = DeletionRecord {
            id: "d".to_owned(),
            reason: DeletionReason::Erasure,
            deleted_at: "2026-12-08T00:00:00.000000Z".to_owned(),
            erasure_id: Some("e".to_owned()),
            leaves: vec![3, 5],
        };
        assert_eq!(
            String::from_utf8(canonical(&record)).unwrap(),
            r#"{"id":"d","reason":"erasure","deleted_at":"2026-12-08T00:00:00.000000Z","erasure_id":"e","leaves":[3,5]}"#
        );
    }
}
