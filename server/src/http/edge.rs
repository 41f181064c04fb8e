//! The HTTP edge's settings: how this deployment's requests are read (trusted proxies, the
//! public URL) and who may call it (embedding sites, the admin and the back ends). The state
//! holds them; the extractors read requests with them.

use super::console_session::SessionKeys;
use crate::domain::network::TrustedProxies;
use crate::domain::origin::OriginAllowlist;
use crate::infra::geoip::GeoIp;
use app::domain::{CountrySource, Location, Region};
use axum::extract::ConnectInfo;
use http::{Extensions, HeaderMap, HeaderName};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// How this deployment's requests are read and who may call it: settings of the HTTP edge.
pub struct Edge {
    /// The proxies whose `X-Forwarded-For` is read; nobody's when empty.
    pub trusted_proxies: TrustedProxies,
    /// The service's public base URL, when configured; otherwise the request's Host.
    pub public_url: Option<String>,
    /// Sites allowed to embed the banner and call the service with the visitor's cookies.
    pub embed_origins: OriginAllowlist,
    /// The admin API's bearer token; the admin API is off without one.
    pub admin_token: Option<SecretString>,
    /// The back ends that may assess SSAIDs; the assessment API is off without any.
    pub services: Vec<ServiceCredential>,
    /// The console's session keys, derived from the admin token; the console is off without.
    pub console_sessions: Option<Arc<SessionKeys>>,
    /// Where a request's country is read from.
    pub country: CountryLookup,
}

/// How a request's country is found: an edge header sent by a trusted proxy, else the GeoIP
/// database, else nothing.
#[derive(Debug, Clone, Default)]
pub struct CountryLookup {
    /// `country_header`: believed only from a trusted proxy, like `X-Forwarded-For`.
    pub header: Option<HeaderName>,
    /// `geoip_database`, looked up with the visitor's address.
    pub geoip: Option<Arc<GeoIp>>,
}

/// Where the request comes from: the trusted edge header's country (it may carry a
/// subdivision), else the GeoIP database's for the visitor's address, else unknown.
pub fn location_of(headers: &HeaderMap, extensions: &Extensions, edge: &Edge) -> Location {
    let Some(peer) = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
    else {
        return Location::UNKNOWN;
    };
    if let Some(name) = &edge.country.header
        && edge.trusted_proxies.trusts(peer)
        && let Some(region) = headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(Region::from_edge)
    {
        return Location {
            region: Some(region),
            source: CountrySource::Header,
        };
    }
    if let Some(geoip) = &edge.country.geoip
        && let Some(ip) = client_ip_of(headers, extensions, &edge.trusted_proxies)
        && let Some(region) = geoip.country(ip).as_deref().and_then(Region::from_edge)
    {
        return Location {
            region: Some(region),
            source: CountrySource::Geoip,
        };
    }
    Location::UNKNOWN
}

/// A ZecCloud back end allowed to assess SSAIDs, with the digest of its token: the token
/// itself is not kept.
#[derive(Clone)]
pub struct ServiceCredential {
    pub name: String,
    digest: [u8; 32],
}

impl ServiceCredential {
    pub fn new(name: String, token: &str) -> Self {
        Self {
            name,
            digest: Sha256::digest(token.as_bytes()).into(),
        }
    }

    /// SHA-256 of the token, to compare with a presented token's.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }
}

impl std::fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceCredential")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The visitor's address: the peer's, or the one a trusted proxy forwarded for it.
pub fn client_ip_of(
    headers: &HeaderMap,
    extensions: &Extensions,
    proxies: &TrustedProxies,
) -> Option<IpAddr> {
    let peer = extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    let forwarded_for = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok());
    Some(proxies.visitor_address(peer, forwarded_for))
}
