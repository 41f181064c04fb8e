//! The yardstick for `scripts/http-bench`: the smallest axum server, on the same runtime and
//! machine, so the service's paths are measured as a share of what axum alone can do.
//! `/layered` answers the same behind the layers every answer of the service goes through
//! (`server::routes::every_answer`: tracing, timeout, compression, security headers, panic
//! catching), to tell what those cost from what a path itself costs.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3900".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    let hello = || async { "Hello, World!" };
    let layered = server::routes::every_answer(
        Router::new().route("/layered", get(hello)),
        &server::infra::config::Settings::default(),
    );
    axum::serve(
        listener,
        Router::new().route("/", get(hello)).merge(layered),
    )
    .await
}
