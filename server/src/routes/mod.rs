//! The HTTP surface. Each module has its own `router()` with its own layers (identity, CORS,
//! body limits); [`router`] merges them and adds what every route shares.

pub mod admin;
pub mod consent;
pub mod embed;
pub mod health;
pub mod matomo;
pub mod pages;
pub mod policy;

use crate::config::Settings;
use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use http::{HeaderValue, header};
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Every route of the service.
pub fn router(state: AppState, settings: &Settings) -> Router {
    // Visitor requests are small; the admin API and the Matomo gate set larger limits of their
    // own, outside this one.
    let visitor_facing = Router::new()
        .merge(health::router())
        .merge(policy::router())
        .merge(consent::router(&state))
        .merge(embed::router(&state))
        .merge(pages::router(&state));
    let router = Router::new()
        .merge(admin::router())
        .merge(matomo::router(&state, settings.matomo.max_body_bytes))
        .merge(limit_body(visitor_facing, settings.max_body_bytes))
        // For every answer: no content sniffing, no full URLs in other sites' Referer, and
        // browsers keep to https once they have seen it (only where cookies are Secure, so a
        // plain-http development setup is not locked out).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ));
    let router = if settings.cookie_secure {
        router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    };
    router
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.request_timeout_secs),
        ))
        .layer(axum::middleware::map_response(
            crate::error::json_for_layer_rejections,
        ))
        // The path only: query strings carry tracking hits' identifiers.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
            }),
        )
        .with_state(state)
}

/// Limits request bodies to `bytes`, for extractors (`DefaultBodyLimit`) and streamed bodies
/// alike.
pub fn limit_body<S: Clone + Send + Sync + 'static>(router: Router<S>, bytes: usize) -> Router<S> {
    router
        .layer(DefaultBodyLimit::max(bytes))
        .layer(RequestBodyLimitLayer::new(bytes))
}

/// The response with `Set-Cookie` headers appended.
pub fn with_cookies(mut response: Response, cookies: Vec<http::HeaderValue>) -> Response {
    for cookie in cookies {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, cookie);
    }
    response
}
