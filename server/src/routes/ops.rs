//! The operations listener (`ops_listen`, loopback by default): readiness and liveness for load
//! balancers and orchestrators, and the counters for Prometheus. None of it is on the public
//! listener, so visitors and other sites see neither the counters nor the health of storage.

use crate::error::ApiError;
use crate::http::admin::token_matches;
use crate::infra::metrics::Metrics;
use crate::storage::StorageHealth;
use app::ErrorCode;
use axum::extract::{FromRef, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the operations endpoints read.
#[derive(Clone)]
pub struct OpsState {
    pub storage: Arc<dyn StorageHealth>,
    pub metrics: Arc<Metrics>,
    /// When set, `/metrics` wants it as a bearer token.
    pub token: Option<SecretString>,
    /// Set once shutdown began: not ready for new traffic, still alive.
    pub draining: Arc<AtomicBool>,
}

impl FromRef<OpsState> for Arc<dyn StorageHealth> {
    fn from_ref(state: &OpsState) -> Self {
        Arc::clone(&state.storage)
    }
}

pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(ready))
        .route("/healthz/ready", get(ready))
        .route("/healthz/live", get(live))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(state)
}

/// The process is up and answering.
async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// How long readiness waits for storage before reporting it unavailable.
const STORAGE_CHECK_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// Ready for traffic until shutdown begins. Storage is reported, not required: it is shared by
/// every instance, so an outage is all of theirs, and failing readiness on it would make the
/// balancer drop every instance at once, taking down the pages, the loader and the Matomo gate
/// that keep answering from cache (decisions answer 503 `storage_unavailable` meanwhile).
async fn ready(State(state): State<OpsState>) -> Result<Json<serde_json::Value>, ApiError> {
    if state.draining.load(Ordering::SeqCst) {
        return Err(ApiError::new(
            ErrorCode::ShuttingDown,
            "this instance is shutting down: send new traffic elsewhere",
        ));
    }
    // A balancer's check has its own short timeout (HAProxy: its check interval); waiting out
    // the pool's connection wait would fail the check, and with it every instance.
    let storage = match tokio::time::timeout(STORAGE_CHECK_WAIT, state.storage.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "readiness: storage is unreachable");
            "unavailable"
        }
        Err(_) => "unavailable",
    };
    Ok(Json(json!({ "status": "ok", "storage": storage })))
}

/// The counters in the OpenMetrics text format.
async fn metrics(State(state): State<OpsState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(expected) = &state.token {
        let presented = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        match presented {
            None => {
                return Err(ApiError::new(
                    ErrorCode::Unauthorized,
                    "send the ops token as Authorization: Bearer TOKEN",
                ));
            }
            Some(token) if !token_matches(token.trim(), expected.expose_secret()) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidToken,
                    "the ops token is not valid",
                ));
            }
            Some(_) => {}
        }
    }
    Ok((
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response())
}

async fn not_found() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "the operations listener serves /healthz, /healthz/ready, /healthz/live and /metrics",
    )
}
