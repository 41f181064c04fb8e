//! `/healthz`, for load balancers.

use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::Storage;
use app::ErrorCode;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::Arc;

/// No visitor identity: no SSAID is issued to health checks.
pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// Liveness and storage reachability.
pub async fn healthz(State(storage): State<Arc<dyn Storage>>) -> Result<Json<Value>, ApiError> {
    storage.ping().await.map_err(|err| {
        ApiError::new(ErrorCode::StorageUnavailable, "storage is unreachable").caused_by(err)
    })?;
    Ok(Json(json!({ "status": "ok" })))
}
