//! `GET /admin/operations`: this instance's gate and risk counters over the last hours, and
//! the erasures carried through to Matomo.

use crate::error::ApiError;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::service::console::ConsoleService;
use app::console::ConsolePage;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

pub async fn operations(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    params: Params,
) -> Result<Response, ApiError> {
    params.finish()?;
    Ok(render(ConsolePage::Operations(console.operations().await?)))
}
