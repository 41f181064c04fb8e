use crate::error::ApiError;
use crate::startup::AppState;
use axum::Json;
use axum::extract::State;
use http::StatusCode;
use serde_json::{Value, json};

/// Liveness and storage reachability, for load balancers.
pub async fn healthz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.storage.ping().await {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(err) => {
            tracing::error!(error = %err, "health check: storage unreachable");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "storage is unreachable",
            ))
        }
    }
}
