//! What a refusal takes away: every cookie and browser-storage key the registry lists for the
//! refused categories. Pure: the caller passes the cookie names the browser sent and turns the
//! answer into `Set-Cookie` expiries.

use super::decision::StorageKey;
use super::identifier::{HOST_ONLY, IdentifierKind, PARENT_DOMAIN};
use super::policy::Policy;

/// One cookie to expire. A cookie is only replaced by one with the same name, domain and
/// path, so each domain it may live on gets its own expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieExpiry {
    pub name: String,
    /// `None`: the host-only cookie.
    pub domain: Option<String>,
    pub path: String,
}

/// What the answer to a refusal must remove.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expiries {
    pub cookies: Vec<CookieExpiry>,
    /// For the page to remove from localStorage / sessionStorage.
    pub storage: Vec<StorageKey>,
}

/// The cookies and storage keys of the `refused` categories. Each cookie is expired host-only
/// and on every domain the registry lists it for (`parent` is `parent_domain`, when one is
/// configured). Pattern names (Matomo's `_pk_id.*`) expire each matching cookie in `sent`.
pub fn expiries(
    policy: &Policy,
    refused: &[&str],
    sent: &[String],
    parent_domain: Option<&str>,
) -> Expiries {
    let mut out = Expiries::default();
    for identifier in policy.identifiers_of(refused.iter().copied()) {
        if identifier.kind != IdentifierKind::Cookie {
            out.storage.push(StorageKey {
                kind: identifier.kind,
                name: identifier.name.clone(),
            });
            continue;
        }
        let names: Vec<&str> = if identifier.is_pattern() {
            sent.iter()
                .map(String::as_str)
                .filter(|name| identifier.matches(name))
                .collect()
        } else {
            vec![identifier.name.as_str()]
        };
        let mut domains: Vec<Option<&str>> = vec![None];
        match identifier.domain.as_str() {
            HOST_ONLY => {}
            PARENT_DOMAIN => domains.extend(parent_domain.map(Some)),
            other => domains.push(Some(other)),
        }
        for name in names {
            for domain in &domains {
                out.cookies.push(CookieExpiry {
                    name: name.to_owned(),
                    domain: domain.map(str::to_owned),
                    path: identifier.path.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::identifier::{Identifier, Lifetime};
    use crate::domain::policy::tests::sample_policy;
    use std::collections::BTreeMap;

    fn expiry(name: &str, domain: Option<&str>) -> CookieExpiry {
        CookieExpiry {
            name: name.to_owned(),
            domain: domain.map(str::to_owned),
            path: "/".to_owned(),
        }
    }

    fn identifier(name: &str, kind: IdentifierKind, domain: &str) -> Identifier {
        Identifier {
            name: name.to_owned(),
            kind,
            provider: "ZecCloud".to_owned(),
            duration: Lifetime::Days(1),
            domain: domain.to_owned(),
            path: "/".to_owned(),
            third_party_access: false,
            purpose: BTreeMap::from([("en".to_owned(), "x".to_owned())]),
            transmissions: Vec::new(),
        }
    }

    #[test]
    fn pattern_cookies_expire_what_the_browser_sent_on_every_domain() {
        let policy = sample_policy();
        let sent = [
            "analytics_cookie.1.ab".to_owned(),
            "other".to_owned(),
            "analytics_cookie.2.cd".to_owned(),
        ];
        let out = expiries(&policy, &["analytics"], &sent, Some("zeccloud.com"));
        assert_eq!(
            out.cookies,
            [
                expiry("analytics_cookie.1.ab", None),
                expiry("analytics_cookie.1.ab", Some("zeccloud.com")),
                expiry("analytics_cookie.2.cd", None),
                expiry("analytics_cookie.2.cd", Some("zeccloud.com")),
            ]
        );
        assert!(out.storage.is_empty());
    }

    #[test]
    fn without_a_parent_domain_only_the_host_cookie_expires() {
        let policy = sample_policy();
        let sent = ["preferences_cookie".to_owned()];
        let out = expiries(&policy, &["preferences"], &sent, None);
        assert_eq!(out.cookies, [expiry("preferences_cookie", None)]);
    }

    #[test]
    fn exact_names_expire_unsent_and_storage_keys_go_to_the_page() {
        let mut policy = sample_policy();
        let analytics = policy
            .categories
            .iter_mut()
            .find(|category| category.id.as_str() == "analytics")
            .unwrap();
        analytics.identifiers = vec![
            identifier("mtm_consent", IdentifierKind::Cookie, "docs.zeccloud.com"),
            identifier("zc.seen", IdentifierKind::LocalStorage, HOST_ONLY),
            identifier("tab*", IdentifierKind::SessionStorage, HOST_ONLY),
        ];
        let out = expiries(&policy, &["analytics"], &[], Some("zeccloud.com"));
        assert_eq!(
            out.cookies,
            [
                expiry("mtm_consent", None),
                expiry("mtm_consent", Some("docs.zeccloud.com")),
            ]
        );
        assert_eq!(
            out.storage,
            [
                StorageKey {
                    kind: IdentifierKind::LocalStorage,
                    name: "zc.seen".to_owned(),
                },
                StorageKey {
                    kind: IdentifierKind::SessionStorage,
                    name: "tab*".to_owned(),
                },
            ]
        );
    }

    #[test]
    fn nothing_refused_nothing_expired() {
        let out = expiries(
            &sample_policy(),
            &[],
            &["x".to_owned()],
            Some("zeccloud.com"),
        );
        assert_eq!(out, Expiries::default());
    }
}
