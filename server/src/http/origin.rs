//! Which pages may call the service with the visitor's cookies: its own, and the sites in
//! `embed_origins`.

use super::public_base_url;
use crate::error::ApiError;
use crate::state::{AppState, Edge};
use app::ErrorCode;
use axum::extract::FromRequestParts;
use http::HeaderMap;
use http::request::Parts;

/// Cross-origin calls must come from an allowed site. `required`: the request must name its
/// origin at all (decisions do; a same-origin GET or an image request may not).
pub fn check_origin(edge: &Edge, headers: &HeaderMap, required: bool) -> Result<(), ApiError> {
    let origin = headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match origin {
        Some(origin)
            if origin == public_base_url(edge, headers) || edge.embed_origins.allows(origin) =>
        {
            Ok(())
        }
        None if !required => Ok(()),
        other => Err(ApiError::new(
            ErrorCode::OriginNotAllowed,
            format!(
                "{} may not use the consent service; ask for it to be added to embed_origins",
                other.unwrap_or("a request without an Origin header")
            ),
        )),
    }
}

/// A request that must name an allowed origin (its own or an embedding site's): decisions.
/// As an extractor it runs before the body is read.
pub struct AllowedOrigin;

impl FromRequestParts<AppState> for AllowedOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        check_origin(&state.edge, &parts.headers, true).map(|()| Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::origin::OriginAllowlist;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    http::HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    #[test]
    fn own_and_allowed_origins_pass_others_do_not() {
        let edge = Edge {
            trust_forwarded_for: false,
            public_url: Some("https://consent.zeccloud.com".to_owned()),
            embed_origins: OriginAllowlist::parse(["https://*.zeccloud.com"]).unwrap(),
            admin_token: None,
        };
        let own = headers(&[("origin", "https://consent.zeccloud.com")]);
        let sibling = headers(&[("origin", "https://docs.zeccloud.com")]);
        let foreign = headers(&[("origin", "https://evil.test")]);
        let none = headers(&[]);
        assert!(check_origin(&edge, &own, true).is_ok());
        assert!(check_origin(&edge, &sibling, true).is_ok());
        assert!(check_origin(&edge, &none, false).is_ok());
        for (request, required) in [(&foreign, false), (&foreign, true), (&none, true)] {
            let err = check_origin(&edge, request, required).unwrap_err();
            assert_eq!(err.code(), ErrorCode::OriginNotAllowed);
        }
    }
}
