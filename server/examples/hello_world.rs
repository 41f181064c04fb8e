//! The yardstick for `scripts/http-bench`: the smallest axum server, on the same runtime and
//! machine, so the service's paths are measured as a share of what axum alone can do.

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3900".to_owned());
    let listener = tokio::net::TcpListener::bind(&address).await?;
    axum::serve(
        listener,
        Router::new().route("/", get(|| async { "Hello, World!" })),
    )
    .await
}
