//! Signing and verifying the service's tokens (the SSAID and consent cookies) and receipts with
//! a ring of keys: the first key signs, every key verifies, so keys rotate without logging
//! anyone out of their choice.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use secrecy::{ExposeSecret, SecretSlice};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

use crate::domain::claims::{CONSENT_AUDIENCE, ISSUER, SSAID_AUDIENCE};

/// The only algorithm we sign with and the only one we accept: pinned on verify, so a token
/// claiming `none` or an asymmetric algorithm is refused.
const ALGORITHM: Algorithm = Algorithm::HS256;

/// The signing keys, in order: the first signs, all verify. A key taken out of the ring is
/// retired: tokens signed with it are refused.
pub struct KeyRing {
    keys: Vec<RingKey>,
}

struct RingKey {
    /// The `kid` tokens signed with it carry.
    id: String,
    secret: SecretSlice<u8>,
    /// A single key configured without an id (`signing_key`, `signing_key_file`) keeps the
    /// ids derived from its bytes that its tokens and receipts have always carried.
    derived_id: bool,
}

impl KeyRing {
    /// A ring of one key whose id is derived from its bytes.
    pub fn single(secret: SecretSlice<u8>) -> Self {
        Self {
            keys: vec![RingKey {
                id: key_id(secret.expose_secret()),
                secret,
                derived_id: true,
            }],
        }
    }

    /// Keys with explicit ids, the signing one first. Ids must be distinct and non-empty.
    pub fn new(keys: Vec<(String, SecretSlice<u8>)>) -> Result<Self, String> {
        if keys.is_empty() {
            return Err("a key ring needs at least one key".to_owned());
        }
        let mut seen = std::collections::HashSet::new();
        for (id, _) in &keys {
            let valid = !id.is_empty()
                && id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !valid {
                return Err(format!(
                    "key id {id:?} must be 1 to 64 letters, digits, '-', '_' or '.'"
                ));
            }
            if !seen.insert(id.clone()) {
                return Err(format!("key id {id:?} appears twice"));
            }
        }
        Ok(Self {
            keys: keys
                .into_iter()
                .map(|(id, secret)| RingKey {
                    id,
                    secret,
                    derived_id: false,
                })
                .collect(),
        })
    }

    /// A secret for another purpose, derived from the signing key.
    pub fn derive(&self, purpose: &str) -> SecretSlice<u8> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"zeccloud-consent derived key v1\0");
        hasher.update(purpose.as_bytes());
        hasher.update(b"\0");
        hasher.update(self.keys[0].secret.expose_secret());
        SecretSlice::from(hasher.finalize().to_vec())
    }

    /// The ids, the signing one first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.id.as_str())
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

struct HmacKey {
    kid: String,
    /// The first part of every token this key signs (the header names the key and never
    /// changes), with its dot: a token that starts with it is found without decoding.
    header_part: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl HmacKey {
    fn header(&self) -> Header {
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        header
    }
}

/// Signs with the ring's first key and verifies with whichever key a token names (`kid`).
pub struct TokenSigner {
    keys: Vec<HmacKey>,
    /// The checks for the cookies' audiences, built once (each holds sets it would allocate).
    validations: [(&'static str, Validation); 2],
    /// Tokens refused, by reason: `/metrics` shows them (a retired key still in use, forgeries).
    refused: Family<RefusalLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    reason: &'static str,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

/// Why a token was not trusted; logged, never shown to the visitor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("malformed token")]
    Malformed,
    #[error("signed with an unknown key")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("wrong issuer or audience")]
    WrongAudience,
    #[error("invalid claims: {0}")]
    InvalidClaims(String),
}

impl TokenRejection {
    /// A label for counters and answers.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::WrongAudience => "wrong_audience",
            Self::InvalidClaims(_) => "invalid_claims",
        }
    }

    /// Made by someone who does not hold our keys (or with a retired one), rather than worn
    /// out or garbled: what risk control counts as forged.
    pub fn is_forgery(&self) -> bool {
        matches!(self, Self::BadSignature | Self::UnknownKey)
    }
}

impl TokenSigner {
    /// A ring of one key, its id derived from the key, so two different keys never share one.
    pub fn new(key: &SecretSlice<u8>) -> Self {
        Self::ring(&KeyRing::single(key.clone()))
    }

    pub fn ring(ring: &KeyRing) -> Self {
        Self {
            keys: ring
                .keys
                .iter()
                .map(|key| {
                    let secret = key.secret.expose_secret();
                    let mut hmac = HmacKey {
                        kid: key.id.clone(),
                        header_part: String::new(),
                        encoding: EncodingKey::from_secret(secret),
                        decoding: DecodingKey::from_secret(secret),
                    };
                    let token = jsonwebtoken::encode(&hmac.header(), &(), &hmac.encoding)
                        .expect("HMAC signing of a unit cannot fail");
                    hmac.header_part = token[..=token.find('.').unwrap_or(0)].to_owned();
                    hmac
                })
                .collect(),
            validations: [SSAID_AUDIENCE, CONSENT_AUDIENCE]
                .map(|audience| (audience, validation(audience))),
            refused: Family::default(),
        }
    }

    /// The counter of refused tokens, for the metrics registry.
    pub fn refusals(&self) -> Family<RefusalLabels, Counter> {
        self.refused.clone()
    }

    /// The id of the signing key.
    pub fn kid(&self) -> &str {
        &self.keys[0].kid
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        let signing = &self.keys[0];
        jsonwebtoken::encode(&signing.header(), claims, &signing.encoding)
            .expect("HMAC signing of serialisable claims cannot fail")
    }

    /// Whether a token names the signing key; one signed by another key of the ring is
    /// re-issued, so that a rotation completes on each visitor's next request.
    pub fn is_signed_by_current_key(&self, token: &str) -> bool {
        self.key_of(token)
            .is_ok_and(|key| std::ptr::eq(key, &self.keys[0]))
    }

    /// The ring's key a token names: by its header part as we write it, else (a token from
    /// another library version, or not ours) by decoding the header.
    fn key_of(&self, token: &str) -> Result<&HmacKey, TokenRejection> {
        if let Some(key) = self
            .keys
            .iter()
            .find(|key| token.starts_with(&key.header_part))
        {
            return Ok(key);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        self.keys
            .iter()
            .find(|key| header.kid.as_deref() == Some(key.kid.as_str()))
            .ok_or(TokenRejection::UnknownKey)
    }

    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<C, TokenRejection> {
        self.check(token, audience).inspect_err(|rejection| {
            self.refused
                .get_or_create(&RefusalLabels {
                    reason: rejection.as_str(),
                })
                .inc();
        })
    }

    fn check<C: DeserializeOwned>(&self, token: &str, audience: &str) -> Result<C, TokenRejection> {
        let key = self.key_of(token)?;
        let built;
        let validation = match self
            .validations
            .iter()
            .find(|(known, _)| *known == audience)
        {
            Some((_, validation)) => validation,
            None => {
                built = validation(audience);
                &built
            }
        };
        // Still checks everything, the header's algorithm included: the key was only found.
        jsonwebtoken::decode::<C>(token, &key.decoding, validation)
            .map(|data| data.claims)
            .map_err(|err| match err.into_kind() {
                ErrorKind::InvalidSignature => TokenRejection::BadSignature,
                ErrorKind::ExpiredSignature => TokenRejection::Expired,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => {
                    TokenRejection::WrongAudience
                }
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Utf8(_)
                | ErrorKind::InvalidAlgorithm => TokenRejection::Malformed,
                other => TokenRejection::InvalidClaims(format!("{other:?}")),
            })
    }
}

/// What a token for `audience` must hold: our issuer, that audience, the times, no leeway.
fn validation(audience: &str) -> Validation {
    let mut validation = Validation::new(ALGORITHM);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
    validation.leeway = 0;
    validation
}

struct Ed25519Key {
    kid: String,
    encoding: EncodingKey,
    public_key: [u8; 32],
}

/// The receipt keys as a JSON Web Key Set (RFC 7517), newest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"keys": [{
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    "kid": "receipt-2026-11",
    "alg": "EdDSA",
    "use": "sig"
}]}))]
pub struct Jwks {
    #[schema(min_items = 1)]
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Jwk {
    #[schema(pattern = "^OKP$")]
    pub kty: &'static str,
    #[schema(pattern = "^Ed25519$")]
    pub crv: &'static str,
    /// The public key, base64url without padding (32 bytes).
    #[schema(pattern = "^[A-Za-z0-9_-]{43}$")]
    pub x: String,
    /// What a receipt's `kid` names.
    pub kid: String,
    #[schema(pattern = "^EdDSA$")]
    pub alg: &'static str,
    #[serde(rename = "use")]
    #[schema(pattern = "^sig$")]
    pub use_: &'static str,
}

/// Signs consent receipts with Ed25519, so anyone holding our public keys (published as a JWKS)
/// can check a receipt without being able to forge one. Each key is derived from a key of the
/// ring: one secret to keep, and every instance derives the same keys. The first signs; every
/// one is published, so receipts signed before a rotation still verify.
pub struct ReceiptSigner {
    keys: Vec<Ed25519Key>,
}

impl fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptSigner")
            .field("kid", &self.kid())
            .finish_non_exhaustive()
    }
}

impl ReceiptSigner {
    pub fn derive(key: &SecretSlice<u8>) -> Self {
        Self::ring(&KeyRing::single(key.clone()))
    }

    pub fn ring(ring: &KeyRing) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use sha2::{Digest, Sha256};
        let keys = ring
            .keys
            .iter()
            .map(|key| {
                let mut hasher = Sha256::new();
                hasher.update(b"zeccloud-consent receipt signing key v1\0");
                hasher.update(key.secret.expose_secret());
                let seed: [u8; 32] = hasher.finalize().into();
                let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
                let der = signing
                    .to_pkcs8_der()
                    .expect("an Ed25519 key always encodes as PKCS#8");
                let public_key = signing.verifying_key().to_bytes();
                let kid = if key.derived_id {
                    format!("receipt-{}", key_id(&public_key))
                } else {
                    format!("receipt-{}", key.id)
                };
                Ed25519Key {
                    kid,
                    encoding: EncodingKey::from_ed_der(der.as_bytes()),
                    public_key,
                }
            })
            .collect();
        Self { keys }
    }

    pub fn kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// A compact JWS (`alg: EdDSA`) whose payload is the receipt.
    pub fn sign<C: Serialize>(&self, receipt: &C) -> String {
        let signing = &self.keys[0];
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(signing.kid.clone());
        header.typ = Some("consent-receipt+jwt".to_owned());
        jsonwebtoken::encode(&header, receipt, &signing.encoding)
            .expect("Ed25519 signing of serialisable claims cannot fail")
    }

    /// Every public key of the ring as a JSON Web Key Set, served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Jwks {
        use base64::Engine;
        let keys = self
            .keys
            .iter()
            .map(|key| Jwk {
                kty: "OKP",
                crv: "Ed25519",
                x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.public_key),
                kid: key.kid.clone(),
                alg: "EdDSA",
                use_: "sig",
            })
            .collect();
        Jwks { keys }
    }
}

fn key_id(secret: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(secret);
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TerminalType;
    use crate::domain::claims::{SSAID_AUDIENCE, Ssaid, SsaidClaims};
    use base64::Engine as _;

    fn signer(byte: u8) -> TokenSigner {
        TokenSigner::new(&SecretSlice::from(vec![byte; 32]))
    }

    fn ring(keys: &[(&str, u8)]) -> KeyRing {
        KeyRing::new(
            keys.iter()
                .map(|(id, byte)| ((*id).to_owned(), SecretSlice::from(vec![*byte; 32])))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn the_first_key_signs_and_every_key_verifies() {
        let rotating = TokenSigner::ring(&ring(&[("new", 2), ("old", 1)]));
        let old = TokenSigner::ring(&ring(&[("old", 1)]));
        let token = old.sign(&claims(60));
        assert_eq!(
            rotating.verify::<SsaidClaims>(&token, SSAID_AUDIENCE),
            Ok(claims(60))
        );
        assert!(!rotating.is_signed_by_current_key(&token));
        let resigned = rotating.sign(&claims(60));
        assert_eq!(
            jsonwebtoken::decode_header(&resigned)
                .unwrap()
                .kid
                .as_deref(),
            Some("new")
        );
        assert!(rotating.is_signed_by_current_key(&resigned));
        // Once "old" is retired its tokens are refused, and counted.
        let retired = TokenSigner::ring(&ring(&[("new", 2)]));
        assert_eq!(
            retired.verify::<SsaidClaims>(&token, SSAID_AUDIENCE),
            Err(TokenRejection::UnknownKey)
        );
        assert_eq!(
            retired
                .refusals()
                .get_or_create(&RefusalLabels {
                    reason: "unknown_key"
                })
                .get(),
            1
        );
    }

    #[test]
    fn a_key_id_that_names_another_key_does_not_verify() {
        // Same id, other bytes: the signature, not the id, decides.
        let mine = TokenSigner::ring(&ring(&[("2026-11", 1)]));
        let theirs = TokenSigner::ring(&ring(&[("2026-11", 9)]));
        assert_eq!(
            mine.verify::<SsaidClaims>(&theirs.sign(&claims(60)), SSAID_AUDIENCE),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn rings_refuse_duplicate_or_odd_ids() {
        let key = || SecretSlice::from(vec![1u8; 32]);
        assert!(KeyRing::new(vec![]).is_err());
        assert!(KeyRing::new(vec![("a".into(), key()), ("a".into(), key())]).is_err());
        for bad in ["", "has space", "quote\"", &"x".repeat(65)] {
            assert!(
                KeyRing::new(vec![(bad.to_owned(), key())]).is_err(),
                "{bad:?}"
            );
        }
        let ring = KeyRing::new(vec![
            ("2026-11".into(), key()),
            ("2026-05.b_1".into(), key()),
        ]);
        assert_eq!(
            ring.unwrap().ids().collect::<Vec<_>>(),
            ["2026-11", "2026-05.b_1"]
        );
    }

    #[test]
    fn receipts_are_signed_by_the_first_key_and_every_key_is_published() {
        let receipts = ReceiptSigner::ring(&ring(&[("new", 2), ("old", 1)]));
        assert_eq!(receipts.kid(), "receipt-new");
        let jwks = serde_json::to_value(receipts.jwks()).unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, ["receipt-new", "receipt-old"]);
        // A single configured key keeps the ids its tokens and receipts always had.
        let single = SecretSlice::from(vec![1u8; 32]);
        assert_eq!(TokenSigner::new(&single).kid(), key_id(&[1u8; 32]));
        assert!(ReceiptSigner::derive(&single).kid().starts_with("receipt-"));
    }

    #[test]
    fn a_key_is_found_by_its_header_as_written_or_by_decoding_it() {
        let rotating = TokenSigner::ring(&ring(&[("new", 2), ("old", 1)]));
        let claims = claims(60);
        // Headers written some other way (a field more, as another library version might)
        // still name their key: found by decoding, and verified just the same.
        for (kid, byte, current) in [("new", 2, true), ("old", 1, false)] {
            let mut header = Header::new(ALGORITHM);
            header.kid = Some(kid.to_owned());
            header.cty = Some("zc".to_owned());
            let key = EncodingKey::from_secret(&[byte; 32]);
            let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
            assert_eq!(
                rotating.verify::<SsaidClaims>(&token, SSAID_AUDIENCE),
                Ok(claims.clone())
            );
            assert_eq!(rotating.is_signed_by_current_key(&token), current);
        }
        // Our own header with another key's signature is still refused.
        let ours = rotating.sign(&claims);
        let (head, _) = ours.rsplit_once('.').unwrap();
        let foreign = signer(9).sign(&claims);
        let forged = format!("{head}.{}", foreign.rsplit_once('.').unwrap().1);
        assert_eq!(
            rotating.verify::<SsaidClaims>(&forged, SSAID_AUDIENCE),
            Err(TokenRejection::BadSignature)
        );
        // A header naming `alg: none` never reaches a key's header part, and is refused.
        let none = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(r#"{"alg":"none","kid":"new"}"#),
            ours.split('.').nth(1).unwrap()
        );
        assert_eq!(
            rotating.verify::<SsaidClaims>(&none, SSAID_AUDIENCE),
            Err(TokenRejection::Malformed)
        );
        assert_eq!(
            rotating.verify::<SsaidClaims>("not a token", SSAID_AUDIENCE),
            Err(TokenRejection::Malformed)
        );
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn claims(exp_offset: i64) -> SsaidClaims {
        let mut claims = SsaidClaims::new(
            Ssaid::from_random_bytes([3; 16]),
            TerminalType::Mobile,
            now(),
            3600,
        );
        claims.exp = now() + exp_offset;
        claims
    }

    #[test]
    fn round_trip() {
        let signer = signer(1);
        let token = signer.sign(&claims(60));
        let back: SsaidClaims = signer.verify(&token, SSAID_AUDIENCE).unwrap();
        assert_eq!(back, claims(60));
    }

    #[test]
    fn header_names_algorithm_and_key() {
        let signer = signer(1);
        let header = jsonwebtoken::decode_header(signer.sign(&claims(60))).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.kid.as_deref(), Some(signer.kid()));
        assert_eq!(signer.kid().len(), 12);
        assert_ne!(signer.kid(), self::signer(2).kid());
    }

    #[test]
    fn foreign_key_is_refused() {
        let token = signer(2).sign(&claims(60));
        assert_eq!(
            signer(1).verify::<SsaidClaims>(&token, SSAID_AUDIENCE),
            Err(TokenRejection::UnknownKey)
        );
    }

    #[test]
    fn foreign_key_reusing_our_kid_is_refused() {
        let ours = signer(1);
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(ours.kid().to_owned());
        let forged =
            jsonwebtoken::encode(&header, &claims(60), &EncodingKey::from_secret(&[9; 32]))
                .unwrap();
        assert_eq!(
            ours.verify::<SsaidClaims>(&forged, SSAID_AUDIENCE),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn tampered_payload_is_refused() {
        let signer = signer(1);
        let token = signer.sign(&claims(60));
        let other = signer.sign(&SsaidClaims::new(
            Ssaid::from_random_bytes([4; 16]),
            TerminalType::Mobile,
            now(),
            60,
        ));
        let parts: Vec<&str> = token.split('.').collect();
        let other_parts: Vec<&str> = other.split('.').collect();
        let spliced = format!("{}.{}.{}", parts[0], other_parts[1], parts[2]);
        assert_eq!(
            signer.verify::<SsaidClaims>(&spliced, SSAID_AUDIENCE),
            Err(TokenRejection::BadSignature)
        );
    }

    #[test]
    fn expired_is_refused() {
        let signer = signer(1);
        let token = signer.sign(&claims(-1));
        assert_eq!(
            signer.verify::<SsaidClaims>(&token, SSAID_AUDIENCE),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn other_audience_is_refused() {
        let signer = signer(1);
        let token = signer.sign(&claims(60));
        assert_eq!(
            signer.verify::<SsaidClaims>(&token, "zc_consent"),
            Err(TokenRejection::WrongAudience)
        );
    }

    #[test]
    fn unsigned_and_garbage_tokens_are_refused() {
        let signer = signer(1);
        let token = signer.sign(&claims(60));
        let payload = token.split('.').nth(1).unwrap();
        let none_header = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            format!(r#"{{"alg":"none","kid":"{}"}}"#, signer.kid()),
        );
        let unsigned = format!("{none_header}.{payload}.");
        assert!(
            signer
                .verify::<SsaidClaims>(&unsigned, SSAID_AUDIENCE)
                .is_err()
        );
        assert_eq!(
            signer.verify::<SsaidClaims>("not-a-token", SSAID_AUDIENCE),
            Err(TokenRejection::Malformed)
        );
    }

    #[test]
    fn receipts_verify_with_the_published_key_only() {
        let signer = ReceiptSigner::derive(&SecretSlice::from(vec![1; 32]));
        let again = ReceiptSigner::derive(&SecretSlice::from(vec![1; 32]));
        assert_eq!(
            signer.kid(),
            again.kid(),
            "every instance derives the same key"
        );
        let receipt = serde_json::json!({ "record_id": "r1", "iss": ISSUER });
        let jws = signer.sign(&receipt);

        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(serde_json::to_value(signer.jwks()).unwrap()).unwrap();
        let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let back = jsonwebtoken::decode::<serde_json::Value>(&jws, &key, &validation).unwrap();
        assert_eq!(back.claims, receipt);

        let other = ReceiptSigner::derive(&SecretSlice::from(vec![2; 32]));
        let jwks: jsonwebtoken::jwk::JwkSet =
            serde_json::from_value(serde_json::to_value(other.jwks()).unwrap()).unwrap();
        let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
        assert!(jsonwebtoken::decode::<serde_json::Value>(&jws, &key, &validation).is_err());
        assert!(!format!("{signer:?}").contains("encoding"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let shown = format!("{:?}", signer(0x41));
        assert!(!shown.contains("AAAA") && !shown.contains("65, 65"));
    }
}
