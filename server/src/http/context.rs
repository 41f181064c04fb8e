//! Extractors that read what the consent core needs from a request, once.

use super::edge::{Edge, client_ip_of, location_of};
use super::{header_text, language, public_base_url};
use crate::domain::claims::{CONSENT_AUDIENCE, SSAID_AUDIENCE};
use crate::domain::network::TrustedProxies;
use crate::domain::{ConsentClaims, Ssaid, SsaidClaims};
use crate::infra::cookies::{self, CONSENT_COOKIE};
use crate::service::matomo_gate::VisitorHeaders;
use crate::service::{ConsentService, RequestContext, Visitor};
use crate::state::AppState;
use app::domain::language::LANGUAGE_COOKIE;
use app::domain::{CurrentConsent, Location};
use axum::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;
use std::convert::Infallible;
use std::net::IpAddr;

impl RequestContext {
    /// Everything the consent core may need, read from the request as the edge settings say.
    pub fn read(parts: &Parts, edge: &Edge, consent: &ConsentService) -> Self {
        let headers = &parts.headers;
        Self {
            visitor: parts.extensions.get::<Visitor>().cloned(),
            consent: trusted_consent(headers, consent, visitor_ssaid(parts, consent).as_ref()),
            language: language::of_request(&parts.uri, headers),
            chosen_language: language::explicit_choice(&parts.uri),
            remembered_language: cookies::read(headers, LANGUAGE_COOKIE),
            gpc: gpc_requested(headers),
            network: client_ip(parts, &edge.trusted_proxies),
            user_agent: header_text(headers, http::header::USER_AGENT).map(str::to_owned),
            cookie_names: cookies::names(headers),
            origin: super::origin::recorded_origin(edge, headers),
            location: location_of(headers, &parts.extensions, edge),
        }
    }
}

/// An extractor that cannot fail: `$read` builds it from the request parts and the state.
macro_rules! read_from_parts {
    ($type:ty, |$parts:ident, $state:ident| $read:expr) => {
        impl FromRequestParts<AppState> for $type {
            type Rejection = Infallible;

            async fn from_request_parts(
                $parts: &mut Parts,
                $state: &AppState,
            ) -> Result<Self, Infallible> {
                Ok($read)
            }
        }
    };
}

read_from_parts!(RequestContext, |parts, state| Self::read(
    parts,
    &state.edge,
    &state.consent
));

/// The standing decision of a consent cookie we signed, given with the SSAID the browser
/// presents (`ssaid`, verified) and not revoked (erased, or withdrawn by a later choice); any
/// other cookie is ignored (and logged), so the visitor is asked again. Every reader of the
/// consent cookie goes through here, so none can forget the binding.
pub fn trusted_consent(
    headers: &HeaderMap,
    consent: &ConsentService,
    ssaid: Option<&Ssaid>,
) -> Option<CurrentConsent> {
    let token = cookies::read(headers, CONSENT_COOKIE)?;
    match consent
        .tokens
        .verify::<ConsentClaims>(&token, CONSENT_AUDIENCE)
    {
        Ok(claims) if consent.revoked.contains(&claims.eid) => {
            tracing::info!(
                event = "consent_cookie_revoked",
                "ignoring a revoked consent cookie"
            );
            None
        }
        Ok(claims)
            if !ssaid.is_some_and(|ssaid| claims.is_bound_to(&consent.consent_binding(ssaid))) =>
        {
            // Another browser's cookie (planted through the parent domain), one made before
            // bindings existed, or one without a valid SSAID beside it.
            tracing::info!(
                event = "consent_cookie_unbound",
                "ignoring a consent cookie not given with this SSAID"
            );
            None
        }
        Ok(claims) => Some(claims.into_current()),
        Err(reason) => {
            tracing::info!(event = "consent_cookie_rejected", %reason, "ignoring untrusted consent cookie");
            None
        }
    }
}

/// The SSAID the consent cookie must be bound to: the SSAID middleware's visitor where it ran
/// (pages, server functions, the API), else the SSAID cookie the browser presents, verified
/// but never issued (the not-found page shows the banner too, and issues nothing).
fn visitor_ssaid(parts: &Parts, consent: &ConsentService) -> Option<Ssaid> {
    match parts.extensions.get::<Visitor>() {
        Some(visitor) => Some(visitor.issued.ssaid.clone()),
        None => presented_ssaid(&parts.headers, consent),
    }
}

/// The browser's SSAID cookie, when it is one we signed.
fn presented_ssaid(headers: &HeaderMap, consent: &ConsentService) -> Option<Ssaid> {
    let token = cookies::read(headers, consent.cookies.ssaid_name())?;
    consent
        .tokens
        .verify::<SsaidClaims>(&token, SSAID_AUDIENCE)
        .ok()
        .map(|claims| claims.sub)
}

/// `Sec-GPC: 1`: the browser's Global Privacy Control signal.
fn gpc_requested(headers: &HeaderMap) -> bool {
    headers
        .get("sec-gpc")
        .is_some_and(|value| value.as_bytes().trim_ascii() == b"1")
}

/// The visitor's address: the connection's peer (when the server was started with connect
/// info), or behind a trusted proxy the first untrusted `X-Forwarded-For` hop from the right.
pub fn client_ip(parts: &Parts, proxies: &TrustedProxies) -> Option<IpAddr> {
    client_ip_of(&parts.headers, &parts.extensions, proxies)
}

/// The sender of a tracking hit, as the Matomo gate needs it: the trusted consent, GPC, and
/// what a forward may carry of the visitor's request.
pub struct HitSender {
    pub consent: Option<CurrentConsent>,
    pub gpc: bool,
    pub headers: VisitorHeaders,
    /// The visitor's SSAID, verified: read only when a consent cookie was sent (the drop path
    /// of a cookieless hit verifies nothing), and present only beside a trusted consent.
    pub ssaid: Option<Ssaid>,
    /// Where the visitor is: picks the regime the hit is decided under.
    pub location: Location,
}

impl HitSender {
    fn read(parts: &Parts, edge: &Edge, consent: &ConsentService) -> Self {
        let text = |name| header_text(&parts.headers, name).map(str::to_owned);
        // Not behind the SSAID middleware (no SSAID is issued to a tracking hit): the consent
        // cookie is honoured only beside the SSAID it was given with.
        let ssaid = cookies::read(&parts.headers, CONSENT_COOKIE)
            .and_then(|_| presented_ssaid(&parts.headers, consent));
        let trusted = trusted_consent(&parts.headers, consent, ssaid.as_ref());
        Self {
            gpc: gpc_requested(&parts.headers),
            headers: VisitorHeaders {
                user_agent: text(http::header::USER_AGENT),
                accept_language: text(http::header::ACCEPT_LANGUAGE),
                ip: client_ip(parts, &edge.trusted_proxies),
                visitor_id: None,
            },
            ssaid: trusted.is_some().then_some(ssaid).flatten(),
            consent: trusted,
            location: location_of(&parts.headers, &parts.extensions, edge),
        }
    }
}

read_from_parts!(HitSender, |parts, state| Self::read(
    parts,
    &state.edge,
    &state.consent
));

/// The service's public base URL for this request (see [`public_base_url`]).
#[derive(Debug, Clone)]
pub struct PublicBase(pub String);

read_from_parts!(PublicBase, |parts, state| Self(public_base_url(
    &state.edge,
    &parts.headers
)));

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;

    fn parts(headers: &[(&str, &str)], peer: Option<&str>) -> Parts {
        let mut request = http::Request::builder().uri("/");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (mut parts, ()) = request.body(()).unwrap().into_parts();
        if let Some(peer) = peer {
            parts
                .extensions
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        }
        parts
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(["10.0.0.0/8"]).unwrap();
        let request = parts(
            &[
                ("x-forwarded-for", "198.51.100.1"),
                ("x-forwarded-for", "203.0.113.9, 10.0.0.1"),
            ],
            Some("10.0.0.2:5000"),
        );
        assert_eq!(
            client_ip(&request, &proxies),
            Some("203.0.113.9".parse().unwrap())
        );
        assert_eq!(
            client_ip(&request, &TrustedProxies::default()),
            Some("10.0.0.2".parse().unwrap())
        );
        assert_eq!(client_ip(&parts(&[], None), &proxies), None);
    }

    #[test]
    fn gpc_is_exactly_one() {
        assert!(gpc_requested(&parts(&[("sec-gpc", "1")], None).headers));
        assert!(gpc_requested(&parts(&[("sec-gpc", " 1 ")], None).headers));
        assert!(!gpc_requested(&parts(&[("sec-gpc", "0")], None).headers));
        assert!(!gpc_requested(&parts(&[], None).headers));
    }
}
