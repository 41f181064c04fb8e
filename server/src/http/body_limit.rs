//! Request body limits, for extractors (`DefaultBodyLimit`) and streamed bodies alike: each
//! surface sets its own (visitor requests are small, policy files and tracking batches not).

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::limit::RequestBodyLimitLayer;

/// Limits request bodies to `bytes`.
pub fn limit_body<S: Clone + Send + Sync + 'static>(router: Router<S>, bytes: usize) -> Router<S> {
    router.layer(body_limits(bytes))
}

/// The layers of [`limit_body`], for a route module that adds its own to the same stack.
pub fn body_limits(
    bytes: usize,
) -> ServiceBuilder<Stack<DefaultBodyLimit, Stack<RequestBodyLimitLayer, Identity>>> {
    ServiceBuilder::new()
        .layer(RequestBodyLimitLayer::new(bytes))
        .layer(DefaultBodyLimit::max(bytes))
}
