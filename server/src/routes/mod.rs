//! The HTTP surface. Each module has its own `router()` with its own layers (identity, CORS,
//! body limits); [`router`] merges them and adds what every route shares.

pub mod admin;
pub mod consent;
pub mod console;
pub mod embed;
pub mod log;
pub mod matomo;
pub mod observations;
pub mod openapi;
pub mod ops;
pub mod pages;
pub mod policy;
pub mod rights;
pub mod ssaid;

use crate::error::ApiError;
use crate::http::limit_body;
use crate::infra::config::Settings;
use crate::state::AppState;
use axum::Router;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderValue, header};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Every route of the service.
pub fn router(state: AppState, settings: &Settings) -> Router {
    // Visitor requests are small; the admin API and the Matomo gate set larger limits of their
    // own, outside this one.
    let visitor_facing = Router::new()
        .merge(policy::router())
        .merge(log::router())
        .merge(consent::router(&state))
        .merge(rights::router(&state))
        .merge(embed::router(&state))
        .merge(observations::router(&state))
        .merge(pages::router(&state));
    let router = Router::new()
        .route(
            "/api/openapi.json",
            get(crate::routes::openapi::openapi_json),
        )
        .route("/api/docs", get(crate::routes::openapi::reference_page))
        .merge(admin::router())
        .merge(console::router(&state))
        .merge(ssaid::router())
        .merge(matomo::router(&state, settings.matomo.max_body_bytes))
        .merge(limit_body(visitor_facing, settings.max_body_bytes));
    every_answer(router, settings).with_state(state)
}

/// What every answer goes through, whatever the route.
///
/// One `ServiceBuilder` stack, applied once: each `Router::layer` call boxes every route again,
/// and a request then went through one boxed future per layer (moving each into the next:
/// about a tenth of the CPU of the Matomo gate's drop path).
pub fn every_answer<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    settings: &Settings,
) -> Router<S> {
    // No content sniffing, no full URLs in other sites' Referer, and browsers keep to https
    // once they have seen it (only where cookies are Secure, so a plain-http development setup
    // is not locked out).
    let strict_transport_security = settings.cookie_secure.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        )
    });
    // Outermost first.
    router.layer(
        ServiceBuilder::new()
            // The path only: query strings carry tracking hits' identifiers.
            .layer(
                TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
                }),
            )
            .map_response(crate::error::json_for_layer_rejections)
            .layer(TimeoutLayer::with_status_code(
                http::StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(settings.request_timeout_secs),
            ))
            .layer(CompressionLayer::new())
            .option_layer(strict_transport_security)
            .layer(SetResponseHeaderLayer::if_not_present(
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            // A bug in one request answers 500 in the API's format (with the headers every
            // answer has) instead of resetting the connection; the panic is logged with the
            // answer.
            .layer(CatchPanicLayer::custom(answer_panic)),
    )
}

fn answer_panic(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    ApiError::internal(format!("panic: {message}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_is_answered_as_json_500_without_details() {
        async fn broken() -> &'static str {
            panic!("secret detail");
        }
        let router = every_answer(
            Router::new().route("/broken", get(broken)),
            &Settings::default(),
        );
        let request = http::Request::get("/broken")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = router.oneshot(request).await.unwrap();
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("secret detail"));
    }
}
