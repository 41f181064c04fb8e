//! Settings from an optional TOML file and the environment (`ZC_*`, plus `DATABASE_URL`).
//! Every setting is documented in `consent.sample.toml` at the repository root.

use crate::domain::retention::RetentionSettings;
use crate::domain::risk::RiskThresholds;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// The config file read when `ZC_CONFIG` does not name another one; optional.
mod keys;
mod sections;

pub use keys::KeyEntry;
pub use sections::{
    LogSettings, MatomoSettings, ObservationSettings, RateLimitSettings, ServiceEntry,
};

pub const DEFAULT_CONFIG_FILE: &str = "consent.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The operations listener: `/healthz` (readiness, liveness) and `/metrics`. Loopback by
    /// default, so only the host (or a sidecar) reaches them; the public listener has neither.
    pub ops_listen: SocketAddr,
    /// When set, `/metrics` on the operations listener wants it as a bearer token.
    #[serde(serialize_with = "never_serialize_secret")]
    pub ops_token: Option<SecretString>,
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// Where cargo-leptos put the site (`pkg/` with the CSS, JS and WASM).
    pub site_root: PathBuf,
    /// A consent policy TOML file; the embedded default policy when unset.
    pub policy_file: Option<PathBuf>,
    /// Base64 of the token signing key (at least 32 bytes). When unset, `signing_key_file` is
    /// read, or generated with mode 0600 on first start.
    #[serde(serialize_with = "never_serialize_secret")]
    pub signing_key: Option<SecretString>,
    pub signing_key_file: PathBuf,
    /// Base64 of at least 32 random bytes behind the SSAID's keyed pseudonyms (Matomo's visitor
    /// id, erasure records). Unset: derived from the signing key, which then must not rotate;
    /// set it before the first rotation.
    #[serde(serialize_with = "never_serialize_secret")]
    pub pseudonym_key: Option<SecretString>,
    /// A key ring for rotation, instead of `signing_key`: the first key signs, all verify.
    /// `ZC_SIGNING_KEYS='[{id="2026-11",key="…"}]'`; `server keys generate` prints an entry.
    pub signing_keys: Vec<KeyEntry>,
    /// Send cookies with `Secure`. Switch off only for plain-http development.
    pub cookie_secure: bool,
    /// Domain attribute of the consent cookie (e.g. `zeccloud.com`); host-only when unset.
    pub cookie_domain: Option<String>,
    pub ssaid_lifetime_days: u32,
    /// How long a choice holds before the banner asks again, in days; a refusal (no optional
    /// category granted) holds for `refusal_expiry_days`.
    pub consent_expiry_days: u32,
    pub refusal_expiry_days: u32,
    /// How often each instance rereads the published policy versions, in seconds, so a
    /// version published through another instance or the CLI reaches every instance.
    pub policy_refresh_secs: u64,
    /// Bearer token for the admin API (`/api/v1/admin/…`); the admin API is off when unset.
    #[serde(serialize_with = "never_serialize_secret")]
    pub admin_token: Option<SecretString>,
    /// How long a console sign-in lasts, in minutes.
    pub admin_session_minutes: u32,
    /// The reverse proxies in front of the service (addresses or CIDR networks): only a
    /// connection from one of them has its `X-Forwarded-For` read, right to left. Empty: the
    /// connection's peer is the visitor.
    pub trusted_proxies: Vec<String>,
    /// An edge header with the visitor's ISO 3166-1 alpha-2 country (`cf-ipcountry`,
    /// `x-vercel-ip-country`, `cloudfront-viewer-country`), believed only on connections from
    /// `trusted_proxies`; lower-cased when read.
    #[serde(default, deserialize_with = "lower_case")]
    pub country_header: Option<String>,
    /// A MaxMind-format country database (GeoLite2-Country, DB-IP Country Lite), reread when
    /// the file changes; consulted when `country_header` gave no country.
    pub geoip_database: Option<PathBuf>,
    /// The controller named on consent receipts.
    pub controller_name: String,
    pub controller_contact: String,
    /// The controller's postal address, on receipts; unset: receipts say `null`.
    pub controller_address: Option<String>,
    /// Where consent records are stored: the ZecCloud data-center regions (ISO 3166-1
    /// alpha-2) the database and its replicas and backups live in, named on receipts.
    pub record_locations: Vec<String>,
    /// Sites that may embed the banner (`/embed.js`) and call the service with the visitor's
    /// cookies: exact origins or `https://*.zeccloud.com` patterns. Empty: no embedding.
    pub embed_origins: Vec<String>,
    /// Public base URL of this service (e.g. `https://consent.zeccloud.com`): what receipts,
    /// links and the embed loader name. Required with `Secure` cookies (production), so that
    /// no request's `Host` chooses what is signed; plain-http development takes the Host.
    pub public_url: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    pub request_timeout_secs: u64,
    /// A client must send its request headers within this many seconds (slow-header clients
    /// are disconnected).
    pub header_read_timeout_secs: u64,
    /// Connections open at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// On SIGTERM: how long to wait for requests and Matomo forwards in flight, in seconds.
    pub shutdown_timeout_secs: u64,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// ZecCloud back ends that may ask about SSAIDs (`POST /api/v1/ssaid/assess`), each with
    /// its own bearer token: `[[services]]` in the file, or
    /// `ZC_SERVICES='[{name="console",token="…"}]'`. None: the assessment API is off.
    pub services: Vec<ServiceEntry>,
    /// How long sightings of SSAIDs and the per-network counters are kept, in days (§04).
    pub sightings_retention_days: u32,
    /// How long the rest is kept (§04): `[retention]` in the file.
    pub retention: RetentionSettings,
    /// Where risk signals turn `elevated` and `high`: `[risk]` in the file.
    pub risk: RiskThresholds,
    /// Limits per client network: `[rate_limits]` in the file, `ZC_RATE_LIMITS__<NAME>` in the
    /// environment.
    pub rate_limits: RateLimitSettings,
    /// The Matomo gate (`/matomo.php`): `[matomo]` in the file, `ZC_MATOMO__<NAME>` in the
    /// environment.
    pub matomo: MatomoSettings,
    /// The consent log (docs/consent-log.md): `[log]` in the file, `ZC_LOG__<NAME>` in the
    /// environment.
    pub log: LogSettings,
    /// Passive reports of undeclared identifiers by the embed loader: `[observations]` in the
    /// file, `ZC_OBSERVATIONS__<NAME>` in the environment.
    pub observations: ObservationSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Header names are case-insensitive; one spelling keeps comparisons and logs plain.
fn lower_case<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|name| name.to_ascii_lowercase()))
}

fn never_serialize_secret<S: serde::Serializer>(
    _: &Option<SecretString>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_none()
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
            ops_listen: SocketAddr::from(([127, 0, 0, 1], 9464)),
            ops_token: None,
            database_url: "sqlite://data/consent.db".to_owned(),
            site_root: PathBuf::from("target/site"),
            policy_file: None,
            signing_key: None,
            signing_key_file: PathBuf::from("data/signing.key"),
            signing_keys: Vec::new(),
            pseudonym_key: None,
            cookie_secure: true,
            cookie_domain: None,
            ssaid_lifetime_days: 365,
            consent_expiry_days: 365,
            refusal_expiry_days: 182,
            policy_refresh_secs: 30,
            admin_token: None,
            admin_session_minutes: 60,
            trusted_proxies: Vec::new(),
            country_header: None,
            geoip_database: None,
            controller_name: "ZecCloud".to_owned(),
            controller_contact:
                "Submit a ticket in the ZecCloud console (Data Protection Notice §07)".to_owned(),
            controller_address: None,
            // The data centers Data Protection Notice §09 names.
            record_locations: ["HK", "JP", "KR", "US"].map(str::to_owned).to_vec(),
            public_url: None,
            embed_origins: Vec::new(),
            max_body_bytes: 16 * 1024,
            request_timeout_secs: 10,
            header_read_timeout_secs: 10,
            max_connections: 10_000,
            shutdown_timeout_secs: 10,
            log_format: LogFormat::Text,
            services: Vec::new(),
            sightings_retention_days: 90,
            retention: RetentionSettings::default(),
            risk: RiskThresholds::default(),
            rate_limits: RateLimitSettings::default(),
            matomo: MatomoSettings::default(),
            log: LogSettings::default(),
            observations: ObservationSettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("signing key: {0}")]
    SigningKey(String),
}

impl From<figment::Error> for ConfigError {
    fn from(err: figment::Error) -> Self {
        Self::Invalid(err.to_string())
    }
}

impl Settings {
    /// Defaults, then the TOML file (`ZC_CONFIG`, else `consent.toml` if present), then
    /// `ZC_*` variables and `DATABASE_URL`. cargo-leptos's `LEPTOS_SITE_ADDR` and
    /// `LEPTOS_SITE_ROOT` are honoured so `cargo leptos serve` works unchanged.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("ZC_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        if std::env::var_os("ZC_CONFIG").is_some() && !file.exists() {
            return Err(ConfigError::Invalid(format!(
                "config file {} does not exist",
                file.display()
            )));
        }
        let figment = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(
                Env::raw()
                    .only(&["LEPTOS_SITE_ADDR"])
                    .map(|_| "listen".into()),
            )
            .merge(
                Env::raw()
                    .only(&["LEPTOS_SITE_ROOT"])
                    .map(|_| "site_root".into()),
            )
            // Unknown ZC_ variables are refused like unknown file keys: a typo must not pass.
            .merge(Env::prefixed("ZC_").ignore(&["CONFIG"]).split("__"))
            .merge(Env::raw().only(&["DATABASE_URL"]));
        let settings: Settings = figment.extract()?;
        settings.check()?;
        Ok(settings)
    }

    /// Refuses settings the service cannot run with, naming the setting.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(self.database_url.starts_with("sqlite:") || self.database_url.starts_with("postgres"))
        {
            return Err(ConfigError::Invalid(
                "database_url must start with sqlite:// or postgres://".to_owned(),
            ));
        }
        if self.ssaid_lifetime_days == 0
            || self.consent_expiry_days == 0
            || self.refusal_expiry_days == 0
        {
            return Err(ConfigError::Invalid(
                "lifetimes and expiry periods must be at least one day".to_owned(),
            ));
        }
        crate::domain::network::TrustedProxies::parse(
            self.trusted_proxies.iter().map(String::as_str),
        )
        .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        self.check_country_header()?;
        crate::domain::origin::OriginAllowlist::parse(
            self.embed_origins.iter().map(String::as_str),
        )
        .map_err(|err| ConfigError::Invalid(err.to_string()))?;
        if self.refusal_expiry_days > self.consent_expiry_days {
            return Err(ConfigError::Invalid(
                "refusal_expiry_days cannot exceed consent_expiry_days".to_owned(),
            ));
        }
        if let Some(token) = &self.admin_token
            && token.expose_secret().len() < 16
        {
            return Err(ConfigError::Invalid(
                "admin_token must be at least 16 characters".to_owned(),
            ));
        }
        if let Some(token) = &self.ops_token
            && token.expose_secret().len() < 16
        {
            return Err(ConfigError::Invalid(
                "ops_token must be at least 16 characters".to_owned(),
            ));
        }
        if !(1..=24 * 60).contains(&self.admin_session_minutes) {
            return Err(ConfigError::Invalid(
                "admin_session_minutes must be between 1 and 1440 (a day)".to_owned(),
            ));
        }
        match &self.public_url {
            Some(url) => check_public_url(url)?,
            None if self.cookie_secure => {
                return Err(ConfigError::Invalid(
                    "public_url is required with Secure cookies (production): receipts and the \
                     embed loader must name the service, not whatever Host a request sent"
                        .to_owned(),
                ));
            }
            None => {}
        }
        if self.request_timeout_secs == 0
            || self.header_read_timeout_secs == 0
            || self.max_connections == 0
        {
            return Err(ConfigError::Invalid(
                "request_timeout_secs, header_read_timeout_secs and max_connections must be above 0"
                    .to_owned(),
            ));
        }
        self.check_services()?;
        self.check_receipt_facts()?;
        if self.sightings_retention_days == 0 {
            return Err(ConfigError::Invalid(
                "sightings_retention_days must be at least one day".to_owned(),
            ));
        }
        self.risk.check().map_err(ConfigError::Invalid)?;
        self.retention.check().map_err(ConfigError::Invalid)?;
        self.rate_limits.check()?;
        self.log.check()?;
        self.observations.check()?;
        self.matomo.check()
    }

    /// What receipts state about the controller and the record must be something.
    fn check_receipt_facts(&self) -> Result<(), ConfigError> {
        if self.record_locations.is_empty() {
            return Err(ConfigError::Invalid(
                "record_locations must name at least one region".to_owned(),
            ));
        }
        for location in &self.record_locations {
            let is_country =
                location.len() == 2 && location.bytes().all(|b| b.is_ascii_uppercase());
            if !is_country {
                return Err(ConfigError::Invalid(format!(
                    "record_locations: {location:?} is not an ISO 3166-1 alpha-2 code such as \"JP\""
                )));
            }
        }
        if self
            .controller_address
            .as_ref()
            .is_some_and(|address| address.trim().is_empty())
        {
            return Err(ConfigError::Invalid(
                "controller_address must not be blank: leave it out instead".to_owned(),
            ));
        }
        Ok(())
    }

    fn check_country_header(&self) -> Result<(), ConfigError> {
        let Some(name) = &self.country_header else {
            return Ok(());
        };
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ConfigError::Invalid(format!(
                "country_header {name:?} is not an HTTP header name"
            )));
        }
        // Any client can send the header: it is believed only from a trusted proxy, so with
        // none listed it would never be read, and the operator believes countries are known.
        if self.trusted_proxies.is_empty() {
            return Err(ConfigError::Invalid(format!(
                "country_header {name:?} is read only from trusted_proxies, and none are \
                 listed: add the proxies that set it, or remove country_header"
            )));
        }
        Ok(())
    }

    fn check_services(&self) -> Result<(), ConfigError> {
        let mut names = std::collections::HashSet::new();
        let mut tokens = std::collections::HashSet::new();
        for service in &self.services {
            let name_ok = !service.name.is_empty()
                && service.name.len() <= 64
                && service
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !name_ok {
                return Err(ConfigError::Invalid(format!(
                    "services: name {:?} must be 1 to 64 letters, digits, '-', '_' or '.'",
                    service.name
                )));
            }
            if !names.insert(service.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "services: {:?} is listed twice",
                    service.name
                )));
            }
            let token = service.token.expose_secret();
            if token.len() < 24 {
                return Err(ConfigError::Invalid(format!(
                    "services: the token of {:?} must be at least 24 characters",
                    service.name
                )));
            }
            if !tokens.insert(token) {
                return Err(ConfigError::Invalid(
                    "services: two services share a token".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

/// `scheme://host[:port]`, nothing more: the service answers at the root of its origin.
fn check_public_url(url: &str) -> Result<(), ConfigError> {
    let valid = reqwest::Url::parse(url).is_ok_and(|parsed| {
        matches!(parsed.scheme(), "http" | "https")
            && parsed.host().is_some()
            && parsed.path() == "/"
            && parsed.query().is_none()
            && parsed.fragment().is_none()
            && parsed.username().is_empty()
    });
    if valid {
        Ok(())
    } else {
        Err(ConfigError::Invalid(format!(
            "public_url {url:?} must be an origin such as https://consent.zeccloud.com"
        )))
    }
}

// The unit tests are beside this file, in tests.rs.
#[cfg(test)]
// figment's test jail fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests;
