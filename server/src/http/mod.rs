//! The HTTP edge: everything that reads a request — headers, cookies, the peer address — lives
//! here and hands the consent core typed values ([`RequestContext`], [`Visitor`], …). Nothing
//! below this layer sees a `HeaderMap`.
//!
//! [`RequestContext`]: crate::service::RequestContext

pub mod admin;
pub mod body_limit;
pub mod consent_id;
pub mod console;
pub mod console_session;
pub mod context;
pub mod edge;
pub mod embed_assets;
pub mod form;
pub mod language;
pub mod not_saved;
pub mod origin;
pub mod page_cache;
pub mod pages;
pub mod query;
pub mod rate_limit;
pub mod response;
pub mod serve;
pub mod visitor;

pub use crate::service::Visitor;
pub use admin::{AdminAuth, CallingService};
pub use body_limit::{body_limits, limit_body};
pub use consent_id::ConsentId;
pub use context::{HitSender, PublicBase};
pub use edge::{Edge, ServiceCredential};
pub use form::AppForm;
pub use origin::{
    Unnamed, check_origin, check_own_page, embed_cors, for_visitor_reads, for_visitors,
};
pub use response::with_cookies;
pub use visitor::ensure_ssaid;

use http::HeaderMap;

/// `scheme://host` the service is reached at, without a trailing slash: the configured public
/// URL, else the request's Host (and `X-Forwarded-Proto`). For absolute links in receipts and
/// fragments, and to recognise the service's own origin.
pub fn public_base_url(edge: &Edge, headers: &HeaderMap) -> String {
    if let Some(public) = &edge.public_url {
        return public.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|proto| matches!(*proto, "http" | "https"))
        .unwrap_or("http");
    format!("{scheme}://{host}")
}

/// A header's value as text, when it is text.
fn header_text(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::origin::OriginAllowlist;

    fn edge(public_url: Option<&str>) -> Edge {
        Edge {
            trusted_proxies: Default::default(),
            country: Default::default(),
            public_url: public_url.map(str::to_owned),
            embed_origins: OriginAllowlist::default(),
            admin_token: None,
            services: Vec::new(),
            console_sessions: None,
        }
    }

    #[test]
    fn public_base_prefers_the_configured_url() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "consent.internal:3000".parse().unwrap());
        assert_eq!(
            public_base_url(&edge(None), &headers),
            "http://consent.internal:3000"
        );
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(
            public_base_url(&edge(None), &headers),
            "https://consent.internal:3000"
        );
        headers.insert("x-forwarded-proto", "gopher".parse().unwrap());
        assert_eq!(
            public_base_url(&edge(None), &headers),
            "http://consent.internal:3000"
        );
        assert_eq!(
            public_base_url(&edge(Some("https://consent.zeccloud.com/")), &headers),
            "https://consent.zeccloud.com"
        );
    }
}
