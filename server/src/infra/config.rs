//! Settings from an optional TOML file and the environment (`ZC_*`, plus `DATABASE_URL`).
//! Every setting is documented in `consent.sample.toml` at the repository root.

use crate::domain::retention::RetentionSettings;
use crate::domain::risk::RiskThresholds;
use crate::domain::tracking::WithoutConsent;
use crate::infra::tokens::KeyRing;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The config file read when `ZC_CONFIG` does not name another one; optional.
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
    /// The controller named on consent receipts.
    pub controller_name: String,
    pub controller_contact: String,
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
}

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
        }
    }
}

impl RateLimitSettings {
    fn check(&self) -> Result<(), ConfigError> {
        let all = [
            self.decisions_per_minute,
            self.decisions_burst,
            self.new_visitors_per_minute,
            self.new_visitors_burst,
            self.sign_in_per_minute,
            self.sign_in_burst,
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

/// One key of the signing key ring.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The `kid` its tokens carry; never reuse one for another key.
    pub id: String,
    /// Base64 of at least 32 random bytes.
    #[serde(skip_serializing)]
    pub key: SecretString,
}

impl KeyEntry {
    /// A new random key as a `signing_keys` entry in TOML: `{ id = "…", key = "…" }`.
    pub fn generate(id: &str) -> Result<String, ConfigError> {
        use base64::Engine;
        let mut bytes = vec![0u8; MIN_KEY_BYTES];
        rand::fill(&mut bytes[..]);
        // The id rules are the ring's; checked here so a printed entry always loads.
        KeyRing::new(vec![(id.to_owned(), SecretSlice::from(bytes.clone()))])
            .map_err(ConfigError::SigningKey)?;
        let key = base64::engine::general_purpose::STANDARD.encode(&bytes);
        Ok(format!("{{ id = \"{id}\", key = \"{key}\" }}"))
    }
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("id", &self.id)
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
    /// Custom dimension ids and custom variable names that identify a person.
    pub personal_dimensions: Vec<u32>,
    pub personal_custom_variables: Vec<String>,
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
            personal_custom_variables: Vec::new(),
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
    fn check(&self) -> Result<(), ConfigError> {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
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
            controller_name: "ZecCloud".to_owned(),
            controller_contact:
                "Submit a ticket in the ZecCloud console (Data Protection Notice §07)".to_owned(),
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
        if self.sightings_retention_days == 0 {
            return Err(ConfigError::Invalid(
                "sightings_retention_days must be at least one day".to_owned(),
            ));
        }
        self.risk.check().map_err(ConfigError::Invalid)?;
        self.retention.check().map_err(ConfigError::Invalid)?;
        self.rate_limits.check()?;
        self.matomo.check()
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

    /// The key ring: `signing_keys`, else a ring of the one `signing_key` (or key file).
    pub fn load_key_ring(&self) -> Result<KeyRing, ConfigError> {
        if self.signing_keys.is_empty() {
            return Ok(KeyRing::single(self.load_signing_key()?));
        }
        if self.signing_key.is_some() {
            return Err(ConfigError::SigningKey(
                "set signing_keys or signing_key, not both".to_owned(),
            ));
        }
        let keys = self
            .signing_keys
            .iter()
            .map(|entry| {
                decode_key(entry.key.expose_secret())
                    .map(|key| (entry.id.clone(), key))
                    .map_err(|err| ConfigError::SigningKey(format!("key {:?}: {err}", entry.id)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        KeyRing::new(keys).map_err(ConfigError::SigningKey)
    }

    /// The pseudonym key: configured, else derived from the ring's signing key. A ring of
    /// several keys is a rotation, which would change a derived key (and with it every Matomo
    /// visitor id and erasure hash): it needs the key set.
    pub fn load_pseudonym_key(&self, ring: &KeyRing) -> Result<SecretSlice<u8>, ConfigError> {
        match &self.pseudonym_key {
            Some(encoded) => decode_key(encoded.expose_secret())
                .map_err(|err| ConfigError::SigningKey(format!("pseudonym_key: {err}"))),
            None if ring.ids().count() > 1 => Err(ConfigError::SigningKey(
                "pseudonym_key must be set when signing_keys holds more than one key; \
                 `server keys pseudonym`, run with the key in use before the rotation, prints it"
                    .to_owned(),
            )),
            None => Ok(ring.derive("pseudonyms")),
        }
    }

    /// The signing key: from the settings, else the key file, which is created on first start.
    pub fn load_signing_key(&self) -> Result<SecretSlice<u8>, ConfigError> {
        if let Some(encoded) = &self.signing_key {
            return decode_key(encoded.expose_secret());
        }
        let path = &self.signing_key_file;
        match fs::read_to_string(path) {
            Ok(encoded) => decode_key(encoded.trim()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => generate_key_file(path),
            Err(err) => Err(ConfigError::SigningKey(format!(
                "cannot read {}: {err}",
                path.display()
            ))),
        }
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

const MIN_KEY_BYTES: usize = 32;

fn decode_key(encoded: &str) -> Result<SecretSlice<u8>, ConfigError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| ConfigError::SigningKey("not valid base64".to_owned()))?;
    if bytes.len() < MIN_KEY_BYTES {
        return Err(ConfigError::SigningKey(format!(
            "must be at least {MIN_KEY_BYTES} bytes"
        )));
    }
    Ok(SecretSlice::from(bytes))
}

fn generate_key_file(path: &Path) -> Result<SecretSlice<u8>, ConfigError> {
    use base64::Engine;
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |what: &str, err: std::io::Error| {
        ConfigError::SigningKey(format!("cannot {what} {}: {err}", path.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| fail("create the folder of", e))?;
    }
    let mut bytes = vec![0u8; MIN_KEY_BYTES];
    rand::fill(&mut bytes[..]);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| fail("create", e))?;
    file.write_all(encoded.as_bytes())
        .map_err(|e| fail("write", e))?;
    tracing::info!(path = %path.display(), "generated a new token signing key");
    Ok(SecretSlice::from(bytes))
}

// The unit tests are beside this file, in tests.rs.
#[cfg(test)]
// figment's test jail fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests;
