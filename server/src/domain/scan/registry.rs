//! The identifier registry in the form a machine checks pages against: every declared cookie
//! and storage key with its category, longest lifetime and domain, and every declared
//! recipient host. `GET /api/v1/registry` serves it; `server scan` reads it from there or builds
//! it from a policy file.

use app::domain::identifier::{HOST_ONLY, PARENT_DOMAIN, name_matches};
use app::domain::{IdentifierKind, Lifetime, Policy};
use serde::{Deserialize, Serialize};

/// The registry of one policy version, as one deployment applies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "version": "2026-12-07",
    "parent_domain": "zeccloud.com",
    "identifiers": [{
        "category": "analytics", "required": false, "name": "_pk_id.*", "kind": "cookie",
        "duration": "13mo", "max_age_secs": 34_732_800, "domain": "parent", "path": "/"
    }],
    "recipients": [{ "host": "consent.zeccloud.com", "category": "analytics", "required": false }]
}))]
pub struct Registry {
    /// The policy version the registry comes from.
    pub version: String,
    /// What `parent` means: the shared parent domain of ZecCloud's sites. Absent when the
    /// deployment sets no parent-domain cookies; then `parent` is the scanned page's own
    /// registrable domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_domain: Option<String>,
    pub identifiers: Vec<DeclaredIdentifier>,
    /// The hosts the registry names as destinations of external transmissions.
    pub recipients: Vec<DeclaredRecipient>,
}

/// One declared cookie or storage key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclaredIdentifier {
    #[schema(pattern = "^[a-z][a-z0-9_]{0,31}$", example = "analytics")]
    pub category: String,
    /// Whether the category is `necessary`: allowed before any choice and after a rejection.
    pub required: bool,
    /// The exact name, or a prefix followed by `*`.
    #[schema(example = "_pk_id.*")]
    pub name: String,
    pub kind: IdentifierKind,
    /// As the policy writes it: `session`, or a count and a unit (`30min`, `12h`, `365d`,
    /// `13mo`, `30y`).
    #[schema(value_type = String, example = "13mo")]
    pub duration: Lifetime,
    /// The longest lifetime a page may give it, in seconds (months counted as 31 days, years
    /// as 366); absent for a session identifier, which must not outlive the browser session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_secs: Option<i64>,
    /// `host` (only the site that sets it), `parent` (the shared parent domain) or a domain.
    #[schema(example = "parent")]
    pub domain: String,
    #[schema(example = "/")]
    pub path: String,
}

/// One declared recipient host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeclaredRecipient {
    #[schema(example = "matomo.zeccloud.com")]
    pub host: String,
    pub category: String,
    /// Whether it is a destination of a necessary identifier: contacting it needs no choice.
    pub required: bool,
}

/// The longest lifetime a declaration allows, in seconds: the longest a month or a year can
/// be, so that a cookie set for exactly the declared period always passes.
pub fn max_age_secs(lifetime: Lifetime) -> Option<i64> {
    const DAY: i64 = 86_400;
    let n = |count: u32| i64::from(count);
    match lifetime {
        Lifetime::Session => None,
        Lifetime::Minutes(count) => Some(n(count) * 60),
        Lifetime::Hours(count) => Some(n(count) * 3_600),
        Lifetime::Days(count) => Some(n(count) * DAY),
        Lifetime::Months(count) => Some(n(count) * 31 * DAY),
        Lifetime::Years(count) => Some(n(count) * 366 * DAY),
    }
}

/// The shortest lifetime in the policy's units that covers an observed one: what a draft
/// entry declares, so that the page it was seen on passes once the entry is published.
pub fn covering_lifetime(observed_secs: Option<i64>) -> Lifetime {
    let Some(secs) = observed_secs else {
        return Lifetime::Session;
    };
    let secs = secs.max(1);
    let up = |unit: i64| u32::try_from((secs + unit - 1) / unit).unwrap_or(u32::MAX);
    if secs <= 2 * 3_600 {
        Lifetime::Minutes(up(60))
    } else if secs <= 2 * 86_400 {
        Lifetime::Hours(up(3_600))
    } else if secs <= 90 * 86_400 {
        Lifetime::Days(up(86_400))
    } else {
        Lifetime::Months(up(31 * 86_400))
    }
}

impl Registry {
    /// The registry of `policy` as a deployment applies it: `parent_domain` is its cookie
    /// domain, and `renamed` maps a declared name to the one this deployment really sets (the
    /// SSAID is `zc_ssaid`, not `__Host-zc_ssaid`, on plain-http test deployments).
    pub fn from_policy(
        policy: &Policy,
        parent_domain: Option<&str>,
        renamed: &[(&str, &str)],
    ) -> Self {
        let mut identifiers = Vec::new();
        let mut recipients: Vec<DeclaredRecipient> = Vec::new();
        for category in &policy.categories {
            let required = category.required();
            for identifier in &category.identifiers {
                let name = renamed
                    .iter()
                    .find(|(declared, _)| *declared == identifier.name)
                    .map_or(identifier.name.as_str(), |(_, actual)| actual);
                identifiers.push(DeclaredIdentifier {
                    category: category.id.as_str().to_owned(),
                    required,
                    name: name.to_owned(),
                    kind: identifier.kind,
                    duration: identifier.duration,
                    max_age_secs: max_age_secs(identifier.duration),
                    domain: identifier.domain.clone(),
                    path: identifier.path.clone(),
                });
                for transmission in &identifier.transmissions {
                    let known = recipients.iter_mut().find(|r| {
                        r.host == transmission.destination && r.category == category.id.as_str()
                    });
                    if known.is_none() {
                        recipients.push(DeclaredRecipient {
                            host: transmission.destination.clone(),
                            category: category.id.as_str().to_owned(),
                            required,
                        });
                    }
                }
            }
        }
        Self {
            version: policy.version.to_string(),
            parent_domain: parent_domain.map(|d| d.trim_start_matches('.').to_owned()),
            identifiers,
            recipients,
        }
    }

    /// The declaration a concrete name of a kind falls under, if any.
    pub fn declaration(&self, kind: IdentifierKind, name: &str) -> Option<&DeclaredIdentifier> {
        self.identifiers
            .iter()
            .find(|d| d.kind == kind && name_matches(&d.name, name))
    }

    /// Whether a host is a declared recipient, and whether only as one of a necessary
    /// identifier (`Some(true)`: contacting it needs no choice).
    pub fn recipient(&self, host: &str) -> Option<bool> {
        let mut found = None;
        for recipient in self.recipients.iter().filter(|r| r.host == host) {
            found = Some(found.unwrap_or(false) || recipient.required);
        }
        found
    }

    /// The domain a declaration allows, for a page on `page_site` (its registrable domain):
    /// `None` for host-only.
    pub fn allowed_domain<'a>(
        &'a self,
        declared: &'a DeclaredIdentifier,
        page_site: &'a str,
    ) -> Option<&'a str> {
        match declared.domain.as_str() {
            HOST_ONLY => None,
            PARENT_DOMAIN => Some(self.parent_domain.as_deref().unwrap_or(page_site)),
            other => Some(other.trim_start_matches('.')),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_becomes_a_registry_with_its_recipients() {
        let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
        let registry = Registry::from_policy(
            &policy,
            Some(".zeccloud.com"),
            &[("__Host-zc_ssaid", "zc_ssaid")],
        );
        assert_eq!(registry.parent_domain.as_deref(), Some("zeccloud.com"));
        let pk = registry
            .declaration(IdentifierKind::Cookie, "_pk_id.1.a4f2")
            .unwrap();
        assert_eq!(
            (pk.category.as_str(), pk.required, pk.max_age_secs),
            ("analytics", false, Some(13 * 31 * 86_400))
        );
        assert!(
            registry
                .declaration(IdentifierKind::Cookie, "zc_ssaid")
                .is_some()
        );
        assert!(
            registry
                .declaration(IdentifierKind::Cookie, "__Host-zc_ssaid")
                .is_none()
        );
        // A cookie's name is not a storage key's.
        assert!(
            registry
                .declaration(IdentifierKind::LocalStorage, "zc_consent")
                .is_none()
        );
        let session = registry
            .declaration(IdentifierKind::Cookie, "zc_session")
            .unwrap();
        assert_eq!(session.max_age_secs, None);
        // consent.zeccloud.com receives necessary identifiers, so it needs no choice.
        assert_eq!(registry.recipient("consent.zeccloud.com"), Some(true));
        assert_eq!(registry.recipient("tracker.example"), None);
    }

    #[test]
    fn a_covering_lifetime_is_never_shorter_than_what_was_seen() {
        for secs in [
            1,
            59,
            60,
            61,
            3_600,
            7_200,
            7_201,
            86_400,
            172_800,
            172_801,
            2_592_000,
            7_776_000,
            7_776_001,
            34_000_000,
            946_080_000,
        ] {
            let covering = covering_lifetime(Some(secs));
            assert!(
                max_age_secs(covering).unwrap() >= secs,
                "{secs} s -> {covering}"
            );
        }
        assert_eq!(covering_lifetime(Some(1_800)), Lifetime::Minutes(30));
        assert_eq!(covering_lifetime(Some(30 * 86_400 - 5)), Lifetime::Days(30));
        assert_eq!(covering_lifetime(Some(393 * 86_400)), Lifetime::Months(13));
        assert_eq!(covering_lifetime(None), Lifetime::Session);
    }
}
