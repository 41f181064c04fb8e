//! The settings' sections that are tables of their own: `[rate_limits]`, `[[services]]`,
//! `[matomo]`, `[log]` and `[observations]`, each with its defaults and its checks.

use super::{ConfigError, never_serialize_secret};
use crate::domain::tracking::WithoutConsent;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How many decisions and new visitors one client network (an IPv4 address, an IPv6 /64) may
/// bring: a steady rate per minute plus a burst. The Matomo gate is never limited.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Decisions (every state-changing request of the banner, the embed and the API).
    pub decisions_per_minute: u32,
    pub decisions_burst: u32,
    /// Requests without a valid SSAID, each of which is issued one.
    pub new_visitors_per_minute: u32,
    pub new_visitors_burst: u32,
    /// Console sign-in attempts (right or wrong): a token cannot be guessed at speed.
    pub sign_in_per_minute: u32,
    pub sign_in_burst: u32,
    /// Reports of undeclared identifiers (`POST /api/v1/observations`): a budget of their
    /// own, so that reports never spend what a visitor's decision needs.
    pub observations_per_minute: u32,
    pub observations_burst: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self {
            decisions_per_minute: 30,
            decisions_burst: 20,
            // Generous: many visitors may share one address behind a NAT, and an SSAID costs
            // no storage until its visitor decides.
            new_visitors_per_minute: 600,
            new_visitors_burst: 300,
            sign_in_per_minute: 5,
            sign_in_burst: 5,
            // A page view reports at most once, and only when sampled: a network over this is
            // not browsing.
            observations_per_minute: 60,
            observations_burst: 30,
        }
    }
}

impl RateLimitSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let all = [
            self.decisions_per_minute,
            self.decisions_burst,
            self.new_visitors_per_minute,
            self.new_visitors_burst,
            self.sign_in_per_minute,
            self.sign_in_burst,
            self.observations_per_minute,
            self.observations_burst,
        ];
        if all.contains(&0) {
            return Err(ConfigError::Invalid(
                "rate_limits: every rate and burst must be above 0".to_owned(),
            ));
        }
        Ok(())
    }
}

/// A back end allowed to assess SSAIDs, and its bearer token.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    /// Recorded with each assessment it asks for.
    pub name: String,
    /// At least 24 characters; kept in memory as a digest only.
    #[serde(skip_serializing)]
    pub token: SecretString,
}

impl std::fmt::Debug for ServiceEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceEntry")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The gate in front of Matomo's tracking endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatomoSettings {
    /// Matomo's tracking endpoint (`https://matomo.example/matomo.php`); the gate answers 404
    /// when unset.
    pub upstream_url: Option<String>,
    /// `drop` or `anonymous`: what happens to a hit without consent.
    pub without_consent: WithoutConsent,
    /// The policy category whose consent lets hits through.
    pub category: String,
    /// Matomo token with write access, needed for `cip` (the visitor's truncated address).
    #[serde(serialize_with = "never_serialize_secret")]
    pub token_auth: Option<SecretString>,
    /// Bytes of the visitor's address zeroed before it is sent as `cip` (0–4).
    pub cip_mask_bytes: u8,
    /// Time limit for one forward, in milliseconds.
    pub timeout_ms: u64,
    /// Requests to Matomo under way at once. Hits that come meanwhile wait, and leave
    /// together as one bulk request when one ends; beyond 200 waiting hits per forward they
    /// are shed (and counted).
    pub max_in_flight: usize,
    /// Custom dimension ids that identify a person: removed from anonymous hits.
    pub personal_dimensions: Vec<u32>,
    /// Largest tracking request body (bulk requests), in bytes.
    pub max_body_bytes: usize,
    /// Matomo's Reporting API (`https://matomo.example/index.php`), to carry erasures through
    /// (`PrivacyManager.findDataSubjects` / `deleteDataSubjects`); off when unset.
    pub api_url: Option<String>,
    /// A token whose user has admin access to `site_ids`; sent in POST bodies only.
    #[serde(serialize_with = "never_serialize_secret")]
    pub api_token: Option<SecretString>,
    /// The Matomo sites an erasure searches.
    pub site_ids: Vec<u32>,
    /// First wait before a failed erasure job is tried again, in seconds; doubles each time.
    pub erasure_retry_secs: u64,
    /// Attempts before a job is marked `failed` for a human to look at.
    pub erasure_max_attempts: u32,
}

impl Default for MatomoSettings {
    fn default() -> Self {
        Self {
            upstream_url: None,
            without_consent: WithoutConsent::Drop,
            category: "analytics".to_owned(),
            token_auth: None,
            cip_mask_bytes: 2,
            timeout_ms: 2_000,
            max_in_flight: 8,
            personal_dimensions: Vec::new(),
            max_body_bytes: 64 * 1024,
            api_url: None,
            api_token: None,
            site_ids: vec![1],
            erasure_retry_secs: 30,
            erasure_max_attempts: 20,
        }
    }
}

impl MatomoSettings {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        let invalid = |message: &str| Err(ConfigError::Invalid(format!("matomo.{message}")));
        if let Some(url) = &self.upstream_url {
            match reqwest::Url::parse(url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {}
                _ => return invalid("upstream_url must be an http(s) URL without a query"),
            }
        }
        if let Some(url) = &self.api_url {
            match reqwest::Url::parse(url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {}
                _ => return invalid("api_url must be an http(s) URL without a query"),
            }
            if self.api_token.is_none() || self.site_ids.is_empty() {
                return invalid("api_url needs api_token and at least one of site_ids");
            }
        }
        if self.erasure_retry_secs == 0 || self.erasure_max_attempts == 0 {
            return invalid("erasure_retry_secs and erasure_max_attempts must be above 0");
        }
        if self.max_in_flight > 65_536 {
            return invalid("max_in_flight must be at most 65536");
        }
        if self.cip_mask_bytes > 4 {
            return invalid("cip_mask_bytes must be between 0 and 4");
        }
        if self.timeout_ms == 0 || self.max_in_flight == 0 || self.max_body_bytes == 0 {
            return invalid("timeout_ms, max_in_flight and max_body_bytes must be above 0");
        }
        if self.category.trim().is_empty() {
            return invalid("category must name a policy category");
        }
        Ok(())
    }
}

/// The consent log (docs/consent-log.md): its signing key, its name and how often it signs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// Base64 of the log key's 32-byte Ed25519 seed. When unset, `key_file` is read, or
    /// generated with mode 0600 on first start. Every instance of one service needs the same.
    #[serde(serialize_with = "never_serialize_secret")]
    pub key: Option<SecretString>,
    pub key_file: std::path::PathBuf,
    /// The log's name, the first line of every head: by default the host of `public_url`
    /// followed by `/log` (`consent.zeccloud.com/log`), else `zeccloud-consent/log`.
    pub origin: Option<String>,
    /// A head is signed at most this often, in seconds, when the log has grown.
    pub head_interval_secs: u64,
    /// Verifier keys (`GET /api/v1/log/key`, `verifier_key`) of earlier log keys: heads they
    /// signed still verify, and `/api/v1/log/key` lists them. README: "Rotating the log key".
    pub retired_keys: Vec<String>,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            key: None,
            key_file: std::path::PathBuf::from("data/log.key"),
            origin: None,
            head_interval_secs: 5,
            retired_keys: Vec::new(),
        }
    }
}

impl LogSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.head_interval_secs == 0 || self.head_interval_secs > 3600 {
            return Err(ConfigError::Invalid(
                "log.head_interval_secs must be between 1 and 3600".to_owned(),
            ));
        }
        if let Some(origin) = &self.origin
            && (origin.is_empty() || origin.contains(char::is_whitespace) || origin.contains('+'))
        {
            return Err(ConfigError::Invalid(
                "log.origin must be a non-empty name without spaces or '+'".to_owned(),
            ));
        }
        for key in &self.retired_keys {
            crate::domain::log::LogVerifier::parse(key).map_err(|_| {
                ConfigError::Invalid(format!(
                    "log.retired_keys: {key:?} is not a verifier key (name+keyid+base64)"
                ))
            })?;
        }
        Ok(())
    }
}

/// Passive reports of undeclared identifiers (issue 31): how many page views' loaders report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ObservationSettings {
    /// The share of page views (0 to 1) whose embed loader reports the names of undeclared
    /// cookies and storage keys; 0: none does.
    pub sample_rate: f64,
}

impl Default for ObservationSettings {
    fn default() -> Self {
        // One page view in twenty: an identifier set on every page shows within a few dozen
        // views, at a twentieth of the requests.
        Self { sample_rate: 0.05 }
    }
}

impl ObservationSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        if (0.0..=1.0).contains(&self.sample_rate) {
            Ok(())
        } else {
            Err(ConfigError::Invalid(format!(
                "observations.sample_rate must be between 0 and 1, not {}",
                self.sample_rate
            )))
        }
    }
}
