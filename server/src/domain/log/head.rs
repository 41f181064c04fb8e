//! Signed tree heads as C2SP checkpoints (c2sp.org/tlog-checkpoint) in a C2SP signed note
//! (c2sp.org/signed-note) with an Ed25519 key, so Go's `sumdb/note` and the transparency-dev
//! witnesses read them as they are. One extension line carries the time the head was made.
//!
//! ```text
//! consent.zeccloud.com/log
//! 18
//! 3q2+7w…=
//! timestamp 2026-12-08T01:02:03.123Z
//!
//! — consent.zeccloud.com/log Ab3x…
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use tlog_tiles::Hash;

/// The C2SP signature type byte of Ed25519 keys.
const ED25519_TYPE: u8 = 0x01;

/// A tree head: what a checkpoint says.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeHead {
    /// The log's name (its origin line): which log this head is of.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// When the head was made, to the millisecond.
    pub timestamp: DateTime<Utc>,
}

/// A head and the signed note that carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedHead {
    pub head: TreeHead,
    /// The signing key's id (hex of its four bytes).
    pub key_id: String,
    /// The whole note: the checkpoint, a blank line, the signature line.
    pub note: String,
}

/// Why a note was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("not a signed checkpoint: {0}")]
    Malformed(&'static str),
    #[error("no signature by a known key")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
}

impl TreeHead {
    /// The checkpoint text, the bytes that are signed.
    pub fn checkpoint(&self) -> String {
        format!(
            "{}\n{}\n{}\ntimestamp {}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root.0),
            self.timestamp.to_rfc3339_opts(SecondsFormat::Millis, true)
        )
    }

    /// Parses a checkpoint's text.
    pub fn parse_checkpoint(text: &str) -> Result<Self, HeadError> {
        let mut lines = text
            .strip_suffix('\n')
            .ok_or(HeadError::Malformed("no final newline"))?
            .split('\n');
        let origin = lines
            .next()
            .filter(|origin| !origin.is_empty())
            .ok_or(HeadError::Malformed("no origin"))?;
        let size = lines
            .next()
            .filter(|size| *size == "0" || !size.starts_with('0'))
            .and_then(|size| size.parse::<u64>().ok())
            .ok_or(HeadError::Malformed("bad tree size"))?;
        let root = lines
            .next()
            .and_then(|root| Hash::parse_hash(root).ok())
            .ok_or(HeadError::Malformed("bad root hash"))?;
        let timestamp = lines
            .next()
            .and_then(|line| line.strip_prefix("timestamp "))
            .and_then(|at| DateTime::parse_from_rfc3339(at).ok())
            .ok_or(HeadError::Malformed("bad timestamp line"))?
            .with_timezone(&Utc);
        if lines.next().is_some() {
            return Err(HeadError::Malformed("unexpected lines"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            timestamp,
        })
    }
}

/// The log's signing key and its name (the log's origin).
pub struct LogSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("name", &self.name)
            .field("key_id", &self.verifier().key_id_hex())
            .finish_non_exhaustive()
    }
}

impl LogSigner {
    /// A signer from the key's 32-byte seed.
    pub fn new(name: &str, seed: &[u8; 32]) -> Self {
        Self {
            name: name.to_owned(),
            key: SigningKey::from_bytes(seed),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public half, as verifiers take it.
    pub fn verifier(&self) -> LogVerifier {
        LogVerifier::new(&self.name, self.key.verifying_key())
    }

    /// Signs a head: the checkpoint, a blank line, one signature line.
    pub fn sign(&self, head: TreeHead) -> SignedHead {
        let text = head.checkpoint();
        let signature = self.key.sign(text.as_bytes());
        let verifier = self.verifier();
        let mut signed = verifier.key_id.to_vec();
        signed.extend_from_slice(&signature.to_bytes());
        let note = format!(
            "{text}\n\u{2014} {} {}\n",
            self.name,
            STANDARD.encode(signed)
        );
        SignedHead {
            head,
            key_id: verifier.key_id_hex(),
            note,
        }
    }
}

/// A public key that signs heads, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerifier {
    pub name: String,
    pub key_id: [u8; 4],
    pub key: VerifyingKey,
}

impl LogVerifier {
    pub fn new(name: &str, key: VerifyingKey) -> Self {
        // c2sp.org/signed-note: SHA-256(name ‖ "\n" ‖ type ‖ public key), first four bytes.
        let mut hasher = Sha256::new();
        hasher.update(name.as_bytes());
        hasher.update(b"\n");
        hasher.update([ED25519_TYPE]);
        hasher.update(key.as_bytes());
        let digest = hasher.finalize();
        Self {
            name: name.to_owned(),
            key_id: [digest[0], digest[1], digest[2], digest[3]],
            key,
        }
    }

    pub fn key_id_hex(&self) -> String {
        super::leaf::hex(&self.key_id)
    }

    /// The verifier key string of Go's `sumdb/note`: `name+keyid+base64(type ‖ key)`.
    pub fn verifier_key(&self) -> String {
        let mut typed = vec![ED25519_TYPE];
        typed.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            self.key_id_hex(),
            STANDARD.encode(typed)
        )
    }

    /// Reads a verifier key string (`name+keyid+base64(type ‖ key)`).
    pub fn parse(text: &str) -> Result<Self, HeadError> {
        let bad = HeadError::Malformed("bad verifier key");
        // From the left, as Go's `note.NewVerifier`: a name has no '+', base64 may.
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad);
        };
        let typed = STANDARD.decode(key).map_err(|_| bad.clone())?;
        let (Some(&ED25519_TYPE), Ok(raw)) = (typed.first(), <[u8; 32]>::try_from(&typed[1..]))
        else {
            return Err(bad);
        };
        let key = VerifyingKey::from_bytes(&raw).map_err(|_| bad.clone())?;
        let verifier = Self::new(name, key);
        if verifier.key_id_hex() != id {
            return Err(bad);
        }
        Ok(verifier)
    }

    /// Checks a signed note against this key and reads its head.
    pub fn open(&self, note: &str) -> Result<SignedHead, HeadError> {
        open(note, std::slice::from_ref(self))
    }
}

/// Checks a signed note against any of `keys` (one of them must have signed it) and reads its
/// head.
pub fn open(note: &str, keys: &[LogVerifier]) -> Result<SignedHead, HeadError> {
    let (text, signatures) = note
        .split_once("\n\n")
        .ok_or(HeadError::Malformed("no blank line before the signatures"))?;
    let text = format!("{text}\n");
    let head = TreeHead::parse_checkpoint(&text)?;
    for line in signatures.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return Err(HeadError::Malformed("bad signature line"));
        };
        let Some((name, encoded)) = rest.rsplit_once(' ') else {
            return Err(HeadError::Malformed("bad signature line"));
        };
        let Ok(signed) = STANDARD.decode(encoded) else {
            return Err(HeadError::Malformed("bad signature encoding"));
        };
        if signed.len() != 4 + 64 {
            continue;
        }
        let Some(verifier) = keys
            .iter()
            .find(|key| key.name == name && key.key_id[..] == signed[..4])
        else {
            continue;
        };
        let signature = Signature::from_slice(&signed[4..]).map_err(|_| HeadError::BadSignature)?;
        verifier
            .key
            .verify(text.as_bytes(), &signature)
            .map_err(|_| HeadError::BadSignature)?;
        return Ok(SignedHead {
            head,
            key_id: verifier.key_id_hex(),
            note: note.to_owned(),
        });
    }
    Err(HeadError::UnknownKey)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn head() -> TreeHead {
        TreeHead {
            origin: "consent.example/log".to_owned(),
            size: 18,
            root: Hash([7; 32]),
            timestamp: Utc.with_ymd_and_hms(2026, 12, 8, 1, 2, 3).unwrap()
                + chrono::TimeDelta::milliseconds(45),
        }
    }

    #[test]
    fn a_signed_head_is_a_c2sp_note_that_opens_with_its_key() {
        let signer = LogSigner::new("consent.example/log", &[1; 32]);
        let signed = signer.sign(head());
        let (text, signature) = signed.note.split_once("\n\n").unwrap();
        assert_eq!(
            text,
            "consent.example/log\n18\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\ntimestamp 2026-12-08T01:02:03.045Z"
        );
        assert!(signature.starts_with("\u{2014} consent.example/log "));
        assert!(signature.ends_with('\n'));
        let opened = signer.verifier().open(&signed.note).unwrap();
        assert_eq!(opened.head, head());
        assert_eq!(opened.key_id, signer.verifier().key_id_hex());
    }

    #[test]
    fn a_changed_byte_or_another_key_is_refused() {
        let signer = LogSigner::new("consent.example/log", &[1; 32]);
        let signed = signer.sign(head());
        let forged = signed.note.replacen("\n18\n", "\n19\n", 1);
        assert_eq!(
            signer.verifier().open(&forged),
            Err(HeadError::BadSignature)
        );
        let other = LogSigner::new("consent.example/log", &[2; 32]);
        assert_eq!(
            other.verifier().open(&signed.note),
            Err(HeadError::UnknownKey)
        );
        // Either key of a rotation opens what it signed.
        let keys = [other.verifier(), signer.verifier()];
        assert!(open(&signed.note, &keys).is_ok());
    }

    #[test]
    fn verifier_keys_whose_base64_has_a_plus_read_back() {
        // [11; 32]'s public key is `Za+…` in base64.
        let verifier = LogSigner::new("zeccloud-consent/log", &[11; 32]).verifier();
        let text = verifier.verifier_key();
        assert_eq!(text.matches('+').count(), 3, "{text}");
        assert_eq!(LogVerifier::parse(&text), Ok(verifier));
    }

    #[test]
    fn verifier_keys_read_back_and_bad_ones_are_refused() {
        let verifier = LogSigner::new("consent.example/log", &[3; 32]).verifier();
        let text = verifier.verifier_key();
        assert!(text.starts_with("consent.example/log+"));
        assert_eq!(LogVerifier::parse(&text), Ok(verifier.clone()));
        let wrong_id = text.replacen(&verifier.key_id_hex(), "00000000", 1);
        assert!(LogVerifier::parse(&wrong_id).is_err());
        assert!(LogVerifier::parse("nonsense").is_err());
    }

    #[test]
    fn checkpoints_read_back_and_malformed_ones_are_refused() {
        let text = head().checkpoint();
        assert_eq!(TreeHead::parse_checkpoint(&text), Ok(head()));
        for bad in [
            text.trim_end().to_owned(),
            text.replacen("\n18\n", "\n018\n", 1),
            text.replacen("timestamp", "time", 1),
            format!("{text}extra\n"),
        ] {
            assert!(TreeHead::parse_checkpoint(&bad).is_err(), "{bad:?}");
        }
    }
}
