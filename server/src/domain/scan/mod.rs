//! The tracker audit's rules: what a browser saw on a page in three profiles (no choice,
//! rejected, accepted) against the identifier registry. Pure: `server scan` (cli/scan.rs) drives
//! the browser and hands its observations here.

pub mod draft;
pub mod registry;

use app::domain::IdentifierKind;
use app::domain::identifier::name_matches;
use chrono::{DateTime, Utc};
use registry::Registry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The three fresh browser profiles a page is loaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Profile {
    /// The banner is showing: nothing chosen yet.
    NoChoice,
    /// The visitor chose "Reject all", then the page was loaded again.
    Rejected,
    /// The visitor chose "Accept all", then the page was loaded again.
    Accepted,
}

impl Profile {
    pub const ALL: [Self; 3] = [Self::NoChoice, Self::Rejected, Self::Accepted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoChoice => "no choice",
            Self::Rejected => "rejected",
            Self::Accepted => "accepted",
        }
    }
}

/// How the scanner made the profile's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceVia {
    /// The embed loader's JS API (`zcConsent.reject()` / `accept()`).
    Api,
    /// The service's own banner, by clicking its button.
    Banner,
    /// A preference center: every optional category ticked (accept) or none (reject), saved.
    Preferences,
}

/// A cookie as the browser held it at the end of a profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeenCookie {
    pub name: String,
    /// As the browser keeps it: `.zeccloud.com` for a domain cookie, the bare host for a
    /// host-only one.
    pub domain: String,
    pub path: String,
    /// Seconds it had left to live when read; absent for a session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_secs: Option<i64>,
    pub http_only: bool,
    pub secure: bool,
    /// The response (`Set-Cookie`) or script (`document.cookie`) that set it, when seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
}

impl SeenCookie {
    /// Host-only cookies carry no leading dot.
    pub fn host_only(&self) -> bool {
        !self.domain.starts_with('.')
    }
}

/// A `localStorage` or `sessionStorage` key of the page's origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenStorageKey {
    pub kind: IdentifierKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
}

/// A request to a host outside the page's site: host and path only (no query, which may
/// carry identifiers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeenRequest {
    pub host: String,
    pub path: String,
}

/// What one profile left behind.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileObservation {
    /// How the choice was made; absent for "no choice", and when the page offered no way to
    /// choose (no banner, no loader API): then the profile is not checked as a choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<ChoiceVia>,
    pub cookies: Vec<SeenCookie>,
    pub storage: Vec<SeenStorageKey>,
    pub third_party_requests: Vec<SeenRequest>,
}

/// One page in all three profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageObservation {
    pub url: String,
    /// The page's registrable domain (eTLD+1): what "third party" is measured against.
    pub site: String,
    pub no_choice: ProfileObservation,
    pub rejected: ProfileObservation,
    pub accepted: ProfileObservation,
}

impl PageObservation {
    pub fn profile(&self, profile: Profile) -> &ProfileObservation {
        match profile {
            Profile::NoChoice => &self.no_choice,
            Profile::Rejected => &self.rejected,
            Profile::Accepted => &self.accepted,
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    Identifier { kind: IdentifierKind, name: String },
    Host { host: String },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Identifier { kind, name } => write!(f, "{} {name}", kind.as_str()),
            Self::Host { host } => write!(f, "host {host}"),
        }
    }
}

/// The kinds of violation, in the order a report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Set, but the registry does not list it.
    NotDeclared,
    /// An optional identifier present before any choice.
    BeforeChoice,
    /// An optional identifier present after "Reject all".
    AfterRejection,
    /// Lives longer than declared (or persists when declared for the session).
    LongerThanDeclared,
    /// Set on a wider domain than declared.
    WiderDomain,
    /// A host outside the page's site contacted before any choice.
    ThirdPartyBeforeChoice,
    /// A host outside the page's site contacted after "Reject all".
    ThirdPartyAfterRejection,
    /// A host outside the page's site that the registry names as no recipient.
    UndeclaredRecipient,
}

impl FindingKind {
    pub fn describe(self) -> &'static str {
        match self {
            Self::NotDeclared => "not declared in the registry",
            Self::BeforeChoice => "optional, present before a choice",
            Self::AfterRejection => "optional, present after a rejection",
            Self::LongerThanDeclared => "lives longer than declared",
            Self::WiderDomain => "domain wider than declared",
            Self::ThirdPartyBeforeChoice => "third party contacted before a choice",
            Self::ThirdPartyAfterRejection => "third party contacted after a rejection",
            Self::UndeclaredRecipient => "third party not declared as a recipient",
        }
    }
}

/// One violation on one page, with the profiles it showed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub subject: Subject,
    pub profiles: Vec<Profile>,
    /// What was seen against what is declared, for a person to read.
    pub detail: String,
    /// Who set it (a response or script URL), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
}

impl Finding {
    /// The profiles it showed in, e.g. "no choice, rejected".
    pub fn profile_list(&self) -> String {
        let names: Vec<&str> = self.profiles.iter().map(|p| p.as_str()).collect();
        names.join(", ")
    }

    /// What was seen, and who set it when known.
    pub fn detail_with_setter(&self) -> String {
        match &self.set_by {
            Some(by) => format!("{}; set by {by}", self.detail),
            None => self.detail.clone(),
        }
    }
}

/// A declared identifier that no profile of any page showed: a hint, not a violation (it
/// may be set only on pages not scanned, or after a login).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeverSeen {
    pub category: String,
    pub kind: IdentifierKind,
    pub name: String,
}

/// The whole report: what `--json` writes and `--record` keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanReport {
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub start_urls: Vec<String>,
    /// Where the registry came from, and its policy version.
    pub registry_source: String,
    pub registry_version: String,
    pub pages: Vec<PageReport>,
    /// Linked pages that could not be scanned (start pages that cannot end the scan).
    pub skipped: Vec<Skipped>,
    /// Declared identifiers no page showed: hints, not violations.
    pub never_seen: Vec<NeverSeen>,
    pub violations: usize,
    /// Registry entries for the undeclared identifiers, as policy TOML (`--draft`).
    pub draft: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageReport {
    pub url: String,
    pub findings: Vec<Finding>,
    pub observed: PageObservation,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub url: String,
    pub reason: String,
}

/// Seconds of slack on a lifetime: the browser reads a cookie's expiry an instant after it
/// was set.
const LIFETIME_SLACK_SECS: i64 = 60;

/// Every violation on one page, grouped by kind and subject, in a stable order.
pub fn check_page(page: &PageObservation, registry: &Registry) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    let mut add = |kind: FindingKind,
                   subject: Subject,
                   profile: Profile,
                   detail: String,
                   set_by: Option<&String>| {
        match findings
            .iter_mut()
            .find(|f| f.kind == kind && f.subject == subject)
        {
            Some(found) => {
                if !found.profiles.contains(&profile) {
                    found.profiles.push(profile);
                }
                if found.set_by.is_none() {
                    found.set_by = set_by.cloned();
                }
            }
            None => findings.push(Finding {
                kind,
                subject,
                profiles: vec![profile],
                detail,
                set_by: set_by.cloned(),
            }),
        }
    };
    for profile in Profile::ALL {
        let seen = page.profile(profile);
        // Without a choice made, the rejected and accepted profiles say nothing about choices.
        let choice_checked = profile == Profile::NoChoice || seen.choice.is_some();
        let optional_violation = match profile {
            Profile::NoChoice => Some(FindingKind::BeforeChoice),
            Profile::Rejected if choice_checked => Some(FindingKind::AfterRejection),
            _ => None,
        };
        for cookie in &seen.cookies {
            let subject = Subject::Identifier {
                kind: IdentifierKind::Cookie,
                name: cookie.name.clone(),
            };
            let Some(declared) = registry.declaration(IdentifierKind::Cookie, &cookie.name) else {
                add(
                    FindingKind::NotDeclared,
                    subject,
                    profile,
                    format!(
                        "cookie on {}{}, {}",
                        cookie.domain,
                        cookie.path,
                        describe_lifetime(cookie.lifetime_secs)
                    ),
                    cookie.set_by.as_ref(),
                );
                continue;
            };
            if let (false, Some(kind)) = (declared.required, optional_violation) {
                add(
                    kind,
                    subject.clone(),
                    profile,
                    format!("declared under {}", declared.category),
                    cookie.set_by.as_ref(),
                );
            }
            let too_long = match (cookie.lifetime_secs, declared.max_age_secs) {
                (Some(_), None) => true,
                (Some(seen), Some(max)) => seen > max + LIFETIME_SLACK_SECS,
                (None, _) => false,
            };
            if too_long {
                add(
                    FindingKind::LongerThanDeclared,
                    subject.clone(),
                    profile,
                    format!(
                        "{}, declared {}",
                        describe_lifetime(cookie.lifetime_secs),
                        declared.duration
                    ),
                    cookie.set_by.as_ref(),
                );
            }
            let allowed = registry.allowed_domain(declared, &page.site);
            let within = match allowed {
                None => cookie.host_only(),
                Some(allowed) => {
                    let domain = cookie.domain.trim_start_matches('.');
                    domain == allowed || domain.ends_with(&format!(".{allowed}"))
                }
            };
            if !within {
                add(
                    FindingKind::WiderDomain,
                    subject,
                    profile,
                    format!(
                        "set on {}, declared {}",
                        cookie.domain,
                        allowed.map_or_else(|| "host only".to_owned(), |d| format!(".{d}"))
                    ),
                    cookie.set_by.as_ref(),
                );
            }
        }
        for key in &seen.storage {
            let subject = Subject::Identifier {
                kind: key.kind,
                name: key.name.clone(),
            };
            match registry.declaration(key.kind, &key.name) {
                None => add(
                    FindingKind::NotDeclared,
                    subject,
                    profile,
                    format!("{} key of the page's origin", key.kind.as_str()),
                    key.set_by.as_ref(),
                ),
                Some(declared) => {
                    if let (false, Some(kind)) = (declared.required, optional_violation) {
                        add(
                            kind,
                            subject,
                            profile,
                            format!("declared under {}", declared.category),
                            key.set_by.as_ref(),
                        );
                    }
                }
            }
        }
        let hosts: BTreeSet<&str> = seen
            .third_party_requests
            .iter()
            .map(|r| r.host.as_str())
            .collect();
        for host in hosts {
            let paths: Vec<&str> = seen
                .third_party_requests
                .iter()
                .filter(|r| r.host == host)
                .map(|r| r.path.as_str())
                .take(3)
                .collect();
            let subject = Subject::Host {
                host: host.to_owned(),
            };
            let detail = format!("requested {}", paths.join(", "));
            let declared = registry.recipient(host);
            if declared.is_none() {
                add(
                    FindingKind::UndeclaredRecipient,
                    subject.clone(),
                    profile,
                    detail.clone(),
                    None,
                );
            }
            let needs_choice = declared != Some(true);
            let kind = match optional_violation {
                Some(FindingKind::BeforeChoice) => Some(FindingKind::ThirdPartyBeforeChoice),
                Some(FindingKind::AfterRejection) => Some(FindingKind::ThirdPartyAfterRejection),
                _ => None,
            };
            if let (true, Some(kind)) = (needs_choice, kind) {
                add(kind, subject, profile, detail, None);
            }
        }
    }
    for finding in &mut findings {
        finding.profiles.sort();
    }
    findings.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
    findings
}

/// The declared identifiers no page showed in any profile.
pub fn never_seen(pages: &[PageObservation], registry: &Registry) -> Vec<NeverSeen> {
    registry
        .identifiers
        .iter()
        .filter(|declared| {
            !pages.iter().any(|page| {
                Profile::ALL.iter().any(|&profile| {
                    let seen = page.profile(profile);
                    match declared.kind {
                        IdentifierKind::Cookie => seen
                            .cookies
                            .iter()
                            .any(|c| name_matches(&declared.name, &c.name)),
                        kind => seen
                            .storage
                            .iter()
                            .any(|k| k.kind == kind && name_matches(&declared.name, &k.name)),
                    }
                })
            })
        })
        .map(|declared| NeverSeen {
            category: declared.category.clone(),
            kind: declared.kind,
            name: declared.name.clone(),
        })
        .collect()
}

/// "session", or how long it had left, e.g. "expires in 29 d 23 h".
pub fn describe_lifetime(lifetime_secs: Option<i64>) -> String {
    match lifetime_secs {
        None => "session".to_owned(),
        Some(secs) if secs >= 86_400 => {
            format!("expires in {} d {} h", secs / 86_400, secs % 86_400 / 3_600)
        }
        Some(secs) if secs >= 3_600 => {
            format!("expires in {} h {} min", secs / 3_600, secs % 3_600 / 60)
        }
        Some(secs) => format!("expires in {} min", (secs.max(0) + 59) / 60),
    }
}

/// The registrable domain (eTLD+1) of a host, from the Public Suffix List; a host with no
/// listed suffix (an IP address, `localhost`) is its own site.
pub fn registrable_domain(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[') {
        return host;
    }
    match psl::domain_str(&host) {
        Some(domain) => domain.to_owned(),
        None => host,
    }
}

#[cfg(test)]
mod tests;
