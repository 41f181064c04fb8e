//! Which pages may call the service with the visitor's cookies: its own, and the sites in
//! `embed_origins`.

use super::public_base_url;
use super::visitor::{ensure_ssaid, private_to_the_visitor};
use crate::error::ApiError;
use crate::http::edge::Edge;
use crate::state::AppState;
use app::ErrorCode;
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::IntoResponse;
use http::HeaderMap;
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};

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

/// Who may send a state-changing request without naming its page at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unnamed {
    /// Only browsers post here (forms, the loader): a request that names no page is refused.
    Refuse,
    /// Other clients may call too (the JSON API, which already requires `application/json`).
    Accept,
}

/// CORS for the service's routes that other ZecCloud sites call with the visitor's cookies
/// (the embed, the Matomo gate): answered, with credentials, for the allowed origins only.
pub fn embed_cors(state: &AppState) -> CorsLayer {
    let edge = Arc::clone(&state.edge);
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| edge.embed_origins.allows(origin))
        }))
        .allow_credentials(true)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([http::header::CONTENT_TYPE])
}

/// Whether a state-changing request comes from the service's own pages or an allowed
/// embedding site, as the browser tells it: `Sec-Fetch-Site: same-origin`, else the `Origin`
/// (or, without one, the `Referer`) must be the service's own or allowed. A page on any other
/// site (or a sibling subdomain not in `embed_origins`) is refused, so it cannot decide for the
/// visitor by submitting a form or firing a no-cors request.
pub fn check_source(edge: &Edge, headers: &HeaderMap, unnamed: Unnamed) -> Result<(), ApiError> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-site") == Some("same-origin") {
        return Ok(());
    }
    let page = named_page(headers);
    let refused = |named: &str| {
        ApiError::new(
            ErrorCode::OriginNotAllowed,
            format!(
                "{named} may not make decisions for the visitor: only the service's own pages and embed_origins may"
            ),
        )
    };
    match page {
        Some(page)
            if page == public_base_url(edge, headers) || edge.embed_origins.allows(&page) =>
        {
            Ok(())
        }
        Some(page) => Err(refused(&page)),
        // A browser always names the page of a cross-site request; only other clients do not.
        None if unnamed == Unnamed::Accept && text("sec-fetch-site").is_none() => Ok(()),
        None => Err(refused("a request that names no page")),
    }
}

/// Whether a state-changing request comes from one of the service's own pages, as the browser
/// tells it (`Sec-Fetch-Site: same-origin`, else the `Origin` or the `Referer`'s origin). For
/// the console's forms: no embedding site, and no client that names no page.
pub fn check_own_page(edge: &Edge, headers: &HeaderMap) -> Result<(), ApiError> {
    let same_origin = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site == "same-origin");
    if same_origin {
        return Ok(());
    }
    match named_page(headers) {
        Some(page) if page == public_base_url(edge, headers) => Ok(()),
        other => Err(ApiError::new(
            ErrorCode::OriginNotAllowed,
            format!(
                "{} may not submit the console's forms: only the console's own pages may",
                other.as_deref().unwrap_or("a request that names no page")
            ),
        )),
    }
}

/// The longest origin recorded with a decision: a scheme, a host name (253 at most) and a port.
const LONGEST_RECORDED_ORIGIN: usize = 300;

/// The site a decision came from, as it is stored with the decision: the request's `Origin`
/// only when it is the service's own or an allowed embedding origin. A client that is not a
/// browser may send any text there (`Sec-Fetch-Site: same-origin` passes [`check_source`]);
/// stored raw, it reached the audit export and the console's list of embedding sites.
pub fn recorded_origin(edge: &Edge, headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(http::header::ORIGIN)?.to_str().ok()?;
    let plain = origin.len() <= LONGEST_RECORDED_ORIGIN
        && origin
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-:/[]".contains(&byte));
    (plain && (origin == public_base_url(edge, headers) || edge.embed_origins.allows(origin)))
        .then(|| origin.to_owned())
}

/// The page a browser says a request comes from: its `Origin` (not `null`), else the origin of
/// its `Referer`.
fn named_page(headers: &HeaderMap) -> Option<String> {
    let text = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    text(http::header::ORIGIN)
        .filter(|origin| *origin != "null")
        .map(str::to_owned)
        .or_else(|| text(http::header::REFERER).and_then(origin_of))
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty()).then(|| format!("{scheme}://{authority}"))
}

/// The visitor's identity (the SSAID middleware) for a router's routes, behind the guards for
/// state-changing requests: safe methods pass, the rest must be within the decision budget of
/// their client network and pass [`check_source`], so a refused request mints no SSAID and
/// writes nothing. Their answers are private to the visitor.
pub fn for_visitors(
    router: Router<AppState>,
    state: &AppState,
    unnamed: Unnamed,
) -> Router<AppState> {
    let guard = move |State(state): State<AppState>, request: Request, next: Next| async move {
        if request.method().is_safe() {
            return next.run(request).await;
        }
        match check_source(&state.edge, request.headers(), unnamed) {
            Ok(()) => next.run(request).await,
            Err(refused) => refused.into_response(),
        }
    };
    // Outermost first: the decision budget, then the source check, then identity; a request
    // refused by any of them mints nothing and writes nothing.
    // Route layers, and a 405 set after them: a method the route does not have is answered
    // outside the guards (no budget spent, no SSAID issued, no origin judged). Layers added
    // later (CORS) still wrap it.
    private_with_405(
        router
            .route_layer(from_fn_with_state(state.clone(), ensure_ssaid))
            .route_layer(from_fn_with_state(state.clone(), guard))
            .route_layer(state.limits.decisions.layer(Arc::clone(&state.metrics))),
    )
}

/// The visitor's identity for routes that only read (`GET`): the guards of [`for_visitors`]
/// would let every such request through untouched, so they are left out of a busy read's path.
/// A route that writes must use [`for_visitors`]; callers still check the origin themselves
/// where another site's page may call.
pub fn for_visitor_reads(router: Router<AppState>, state: &AppState) -> Router<AppState> {
    private_with_405(router.route_layer(from_fn_with_state(state.clone(), ensure_ssaid)))
}

/// A 405 for methods the routes lack, answered outside their route layers (no budget spent,
/// no SSAID issued), and answers private to the visitor.
fn private_with_405(router: Router<AppState>) -> Router<AppState> {
    router
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not accept that method",
            )
        })
        .layer(map_response(private_to_the_visitor))
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

    /// The service at consent.zeccloud.com, embedded by every ZecCloud subdomain.
    fn zeccloud_edge() -> Edge {
        Edge {
            trusted_proxies: Default::default(),
            country: Default::default(),
            public_url: Some("https://consent.zeccloud.com".to_owned()),
            embed_origins: OriginAllowlist::parse(["https://*.zeccloud.com"]).unwrap(),
            admin_token: None,
            services: Vec::new(),
            console_sessions: None,
        }
    }

    #[test]
    fn only_own_and_allowed_origins_are_recorded() {
        let edge = zeccloud_edge();
        let recorded = |origin: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                http::header::ORIGIN,
                http::HeaderValue::from_str(origin).unwrap(),
            );
            recorded_origin(&edge, &headers)
        };
        assert_eq!(
            recorded("https://consent.zeccloud.com").as_deref(),
            Some("https://consent.zeccloud.com")
        );
        assert_eq!(
            recorded("https://docs.zeccloud.com").as_deref(),
            Some("https://docs.zeccloud.com")
        );
        assert_eq!(recorded("https://evil.test"), None);
        assert_eq!(recorded("=HYPERLINK(\"https://evil.test\")"), None);
        assert_eq!(recorded("null"), None);
        let long = format!("https://{}.zeccloud.com", "a".repeat(300));
        assert_eq!(recorded(&long), None);
    }

    #[test]
    fn own_and_allowed_origins_pass_others_do_not() {
        let edge = zeccloud_edge();
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

    #[test]
    fn decisions_come_only_from_own_or_allowed_pages() {
        let edge = zeccloud_edge();
        let accepted = [
            headers(&[("sec-fetch-site", "same-origin")]),
            headers(&[("origin", "https://consent.zeccloud.com")]),
            headers(&[
                ("sec-fetch-site", "same-site"),
                ("origin", "https://docs.zeccloud.com"),
            ]),
            headers(&[(
                "referer",
                "https://consent.zeccloud.com/preferences?lang=ja",
            )]),
        ];
        for request in &accepted {
            for unnamed in [Unnamed::Refuse, Unnamed::Accept] {
                assert!(check_source(&edge, request, unnamed).is_ok(), "{request:?}");
            }
        }
        let refused = [
            headers(&[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.test"),
            ]),
            headers(&[("origin", "https://zeccloud.com.evil.test")]),
            headers(&[("referer", "https://evil.test/consent.zeccloud.com")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "cross-site"), ("origin", "null")]),
        ];
        for request in &refused {
            for unnamed in [Unnamed::Refuse, Unnamed::Accept] {
                let err = check_source(&edge, request, unnamed).unwrap_err();
                assert_eq!(err.code(), ErrorCode::OriginNotAllowed, "{request:?}");
            }
        }
        // A client that is not a browser names no page: only the JSON API takes it.
        let client = headers(&[]);
        assert!(check_source(&edge, &client, Unnamed::Accept).is_ok());
        assert!(check_source(&edge, &client, Unnamed::Refuse).is_err());
    }

    #[test]
    fn the_origin_of_a_referer() {
        assert_eq!(
            origin_of("https://a.b:8443/x?y#z").as_deref(),
            Some("https://a.b:8443")
        );
        assert_eq!(origin_of("http://a.b").as_deref(), Some("http://a.b"));
        assert_eq!(origin_of("not a url"), None);
        assert_eq!(origin_of("https:///path"), None);
    }
}
