//! Signing and verifying the service's tokens (the SSAID and consent cookies) with one HMAC key.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretSlice};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;

use crate::domain::claims::ISSUER;

/// The only algorithm we sign with and the only one we accept: pinned on verify, so a token
/// claiming `none` or an asymmetric algorithm is refused.
const ALGORITHM: Algorithm = Algorithm::HS256;

/// An HMAC key and its id (`kid`), so keys can rotate later.
pub struct TokenSigner {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
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

impl TokenSigner {
    /// The key id is derived from the key, so two different keys never share a `kid`.
    pub fn new(key: &SecretSlice<u8>) -> Self {
        let secret = key.expose_secret();
        Self {
            kid: key_id(secret),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        let mut header = Header::new(ALGORITHM);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding)
            .expect("HMAC signing of serialisable claims cannot fail")
    }

    pub fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        audience: &str,
    ) -> Result<C, TokenRejection> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenRejection::Malformed)?;
        if header.kid.as_deref() != Some(self.kid.as_str()) {
            return Err(TokenRejection::UnknownKey);
        }
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        validation.leeway = 0;
        jsonwebtoken::decode::<C>(token, &self.decoding, &validation)
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

/// Signs consent receipts with Ed25519, so anyone holding our public key (published as a JWKS)
/// can check a receipt without being able to forge one. The key is derived from the token
/// signing key: one secret to keep, and every instance derives the same key.
pub struct ReceiptSigner {
    kid: String,
    encoding: EncodingKey,
    public_key: [u8; 32],
}

impl fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl ReceiptSigner {
    pub fn derive(key: &SecretSlice<u8>) -> Self {
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(b"zeccloud-consent receipt signing key v1\0");
        hasher.update(key.expose_secret());
        let seed: [u8; 32] = hasher.finalize().into();
        let signing = ed25519_dalek::SigningKey::from_bytes(&seed);
        let der = signing
            .to_pkcs8_der()
            .expect("an Ed25519 key always encodes as PKCS#8");
        let public_key = signing.verifying_key().to_bytes();
        Self {
            kid: format!("receipt-{}", key_id(&public_key)),
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            public_key,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS (`alg: EdDSA`) whose payload is the receipt.
    pub fn sign<C: Serialize>(&self, receipt: &C) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("consent-receipt+jwt".to_owned());
        jsonwebtoken::encode(&header, receipt, &self.encoding)
            .expect("Ed25519 signing of serialisable claims cannot fail")
    }

    /// The public key as a JSON Web Key Set, served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> serde_json::Value {
        use base64::Engine;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.public_key);
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "x": x,
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }]
        })
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

    fn signer(byte: u8) -> TokenSigner {
        TokenSigner::new(&SecretSlice::from(vec![byte; 32]))
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

        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(signer.jwks()).unwrap();
        let key = DecodingKey::from_jwk(&jwks.keys[0]).unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        let back = jsonwebtoken::decode::<serde_json::Value>(&jws, &key, &validation).unwrap();
        assert_eq!(back.claims, receipt);

        let other = ReceiptSigner::derive(&SecretSlice::from(vec![2; 32]));
        let jwks: jsonwebtoken::jwk::JwkSet = serde_json::from_value(other.jwks()).unwrap();
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
