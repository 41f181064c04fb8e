//! The console's sign-in session: the admin token is exchanged for a short-lived signed cookie
//! (an HS256 JWT). Its key is derived from the admin token, so every instance with the same
//! token accepts it, and changing the token signs everyone out. Each session has a random id
//! (`sid`), so that signing out can revoke that one session in storage, for every instance.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const AUDIENCE: &str = "zeccloud-consent-console";
/// Separates this key from any other use of the admin token.
const KEY_CONTEXT: &[u8] = b"zeccloud-consent console session v1\0";

#[derive(Debug, Serialize, Deserialize)]
struct SessionClaims {
    aud: String,
    iat: i64,
    exp: i64,
    sid: String,
}

/// A valid session: its id, and when it expires (until when a revocation must be kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: String,
    pub expires_at: DateTime<Utc>,
}

/// Issues and checks session tokens.
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: chrono::TimeDelta,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl SessionKeys {
    pub fn new(admin_token: &SecretString, lifetime: chrono::TimeDelta) -> Self {
        let key: [u8; 32] = Sha256::new()
            .chain_update(KEY_CONTEXT)
            .chain_update(admin_token.expose_secret().as_bytes())
            .finalize()
            .into();
        Self {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            lifetime,
        }
    }

    pub fn lifetime(&self) -> chrono::TimeDelta {
        self.lifetime
    }

    pub fn issue(&self, now: DateTime<Utc>) -> String {
        let claims = SessionClaims {
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: (now + self.lifetime).timestamp(),
            // 128 random bits: never guessed, never repeated.
            sid: format!("{:032x}", rand::random::<u128>()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HMAC signing of serialisable claims cannot fail")
    }

    /// The session `token` carries, if it is one of ours still valid at `now` (the service's
    /// clock, not the system's: tests run the service at fixed times). Whether it was signed
    /// out is storage's to say.
    pub fn session(&self, token: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["aud", "exp"]);
        let claims = jsonwebtoken::decode::<SessionClaims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        let current = claims.iat <= now.timestamp() + 60 && now.timestamp() < claims.exp;
        Some(Session {
            id: claims.sid,
            expires_at: DateTime::from_timestamp(claims.exp, 0)?,
        })
        .filter(|_| current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn keys(token: &str) -> SessionKeys {
        SessionKeys::new(&SecretString::from(token.to_owned()), TimeDelta::hours(1))
    }

    #[test]
    fn a_session_holds_for_its_lifetime_only() {
        let keys = keys("admin-token-0123456789");
        let now = Utc::now();
        let session = keys.issue(now);
        let held = keys.session(&session, now).expect("valid");
        assert_eq!(
            held.expires_at.timestamp(),
            (now + TimeDelta::hours(1)).timestamp()
        );
        assert!(
            keys.session(&session, now + TimeDelta::minutes(59))
                .is_some()
        );
        assert!(keys.session(&session, now + TimeDelta::hours(1)).is_none());
        // Issued "in the future" (a clock far behind) is not accepted either.
        assert!(keys.session(&session, now - TimeDelta::hours(2)).is_none());
    }

    #[test]
    fn every_session_has_its_own_id() {
        let keys = keys("admin-token-0123456789");
        let now = Utc::now();
        let first = keys.session(&keys.issue(now), now).unwrap();
        let second = keys.session(&keys.issue(now), now).unwrap();
        assert_eq!(first.id.len(), 32);
        assert_ne!(first.id, second.id);
    }

    #[test]
    fn a_session_without_an_id_is_refused() {
        let keys = keys("admin-token-0123456789");
        let now = Utc::now();
        #[derive(Serialize)]
        struct Older {
            aud: &'static str,
            iat: i64,
            exp: i64,
        }
        let older = Older {
            aud: AUDIENCE,
            iat: now.timestamp(),
            exp: now.timestamp() + 600,
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &older, &keys.encoding).unwrap();
        assert!(keys.session(&token, now).is_none());
    }

    #[test]
    fn another_admin_token_or_a_tampered_session_is_refused() {
        let now = Utc::now();
        let session = keys("admin-token-0123456789").issue(now);
        assert!(
            keys("admin-token-other-0123")
                .session(&session, now)
                .is_none()
        );
        let mut tampered = session.clone();
        tampered.pop();
        tampered.push(if session.ends_with('A') { 'B' } else { 'A' });
        assert!(
            keys("admin-token-0123456789")
                .session(&tampered, now)
                .is_none()
        );
        assert!(
            keys("admin-token-0123456789")
                .session("not a token", now)
                .is_none()
        );
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let debug = format!("{:?}", keys("admin-token-0123456789"));
        assert!(!debug.contains("admin-token"));
    }
}
