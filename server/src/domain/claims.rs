use app::domain::{ConsentAction, CurrentConsent, Decision};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use super::TerminalType;

/// Who issues our tokens; checked on every verification.
pub const ISSUER: &str = "zeccloud-consent";
/// Audience of the SSAID token, so a consent token can never pass as an SSAID and back.
pub const SSAID_AUDIENCE: &str = "zc_ssaid";
pub const CONSENT_AUDIENCE: &str = "zc_consent";

/// The server-issued client identifier of notice §01: 128 random bits, base64url.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ssaid(String);

#[derive(Debug, thiserror::Error)]
#[error("not an SSAID")]
pub struct InvalidSsaid;

impl Ssaid {
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn parse(raw: &str) -> Result<Self, InvalidSsaid> {
        match URL_SAFE_NO_PAD.decode(raw) {
            Ok(bytes) if bytes.len() == 16 => Ok(Self(raw.to_owned())),
            _ => Err(InvalidSsaid),
        }
    }
}

app::text_newtype!(Ssaid, InvalidSsaid);

// Pseudonymous, but still personal data: keep it out of logs by default.
impl fmt::Debug for Ssaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssaid({}…)", &self.0[..4])
    }
}

/// The claims inside the `zc_ssaid` cookie. They carry everything stored with an SSAID (its
/// issue time and terminal type), so the row is written only when a decision needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsaidClaims {
    pub iss: String,
    pub aud: String,
    pub sub: Ssaid,
    pub iat: i64,
    pub exp: i64,
    /// Tokens issued before this claim existed were stored with their type at issue.
    #[serde(default)]
    pub tt: TerminalType,
}

impl SsaidClaims {
    pub fn new(ssaid: Ssaid, terminal_type: TerminalType, now: i64, lifetime_secs: i64) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            aud: SSAID_AUDIENCE.to_owned(),
            sub: ssaid,
            iat: now,
            exp: now + lifetime_secs,
            tt: terminal_type,
        }
    }
}

/// The claims inside the `zc_consent` cookie, which pages may read: the policy version, each
/// category's state and the event id, signed so the server can trust it without a lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentClaims {
    pub iss: String,
    pub aud: String,
    /// Policy version the decision was made on.
    pub ver: String,
    /// Category name -> granted.
    pub cats: BTreeMap<String, bool>,
    /// The consent event id (proof of consent).
    pub eid: String,
    /// How the decision was made; cookies issued before this claim existed were explicit.
    #[serde(default = "explicit_action")]
    pub act: ConsentAction,
    /// The keyed hash of the SSAID the choice was made with (`rights::consent_binding`): a
    /// cookie planted in another browser does not match that browser's SSAID. Cookies made
    /// before this claim existed have none and are not honoured (see [`Self::is_bound_to`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bnd: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

fn explicit_action() -> ConsentAction {
    ConsentAction::Custom
}

impl ConsentClaims {
    pub fn new(
        decision: &Decision,
        event_id: String,
        binding: String,
        now: i64,
        lifetime_secs: i64,
    ) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            aud: CONSENT_AUDIENCE.to_owned(),
            ver: decision.policy_version.clone(),
            cats: decision.category_states(),
            eid: event_id,
            act: decision.action,
            bnd: Some(binding),
            iat: now,
            exp: now + lifetime_secs,
        }
    }

    /// Whether the choice was made with the SSAID whose binding is `binding`. A cookie
    /// without a binding (made before bindings existed) is not: whoever could set cookies on
    /// the parent domain could otherwise plant one in any browser. Its visitor is asked once
    /// more, which is the safe side of a choice that cannot be tied to them.
    pub fn is_bound_to(&self, binding: &str) -> bool {
        self.bnd.as_deref() == Some(binding)
    }

    pub fn into_current(self) -> CurrentConsent {
        CurrentConsent {
            policy_version: self.ver,
            categories: self.cats,
            event_id: self.eid,
            decided_at: self.iat,
            action: self.act,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::{CategoryId, ConsentAction};

    #[test]
    fn ssaid_is_22_chars_of_base64url() {
        let ssaid = Ssaid::from_random_bytes([0xfb; 16]);
        assert_eq!(ssaid.as_str().len(), 22);
        assert!(
            ssaid
                .as_str()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(Ssaid::parse(ssaid.as_str()).unwrap(), ssaid);
    }

    #[test]
    fn ssaid_parse_rejects_other_shapes() {
        for bad in ["", "short", "!!!!!!!!!!!!!!!!!!!!!!", &"A".repeat(30)] {
            assert!(Ssaid::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ssaid_debug_hides_most_of_it() {
        let ssaid = Ssaid::from_random_bytes([7; 16]);
        let shown = format!("{ssaid:?}");
        assert!(!shown.contains(ssaid.as_str()));
    }

    #[test]
    fn ssaid_claims_carry_lifetime() {
        let claims = SsaidClaims::new(
            Ssaid::from_random_bytes([1; 16]),
            TerminalType::Desktop,
            1_000,
            60,
        );
        assert_eq!((claims.iat, claims.exp), (1_000, 1_060));
        assert_eq!(claims.aud, SSAID_AUDIENCE);
        assert_eq!(claims.iss, ISSUER);
    }

    #[test]
    fn consent_claims_mirror_the_decision() {
        let decision = Decision {
            policy_version: "v1".into(),
            action: ConsentAction::Custom,
            categories: BTreeMap::from([
                (CategoryId::parse("necessary").unwrap(), true),
                (CategoryId::parse("analytics").unwrap(), false),
            ]),
            decided_ms_ago: 0,
        };
        let claims = ConsentClaims::new(&decision, "event-1".into(), "b1".into(), 50, 10);
        assert_eq!(claims.aud, CONSENT_AUDIENCE);
        assert!(claims.is_bound_to("b1"));
        assert!(!claims.is_bound_to("b2"));
        let unbound = ConsentClaims {
            bnd: None,
            ..claims.clone()
        };
        assert!(!unbound.is_bound_to("b1"));
        assert_eq!(claims.exp, 60);
        let current = claims.into_current();
        assert_eq!(current.policy_version, "v1");
        assert_eq!(current.event_id, "event-1");
        assert_eq!(current.decided_at, 50);
        assert_eq!(
            current.categories,
            BTreeMap::from([("analytics".into(), false), ("necessary".into(), true)])
        );
    }
}
