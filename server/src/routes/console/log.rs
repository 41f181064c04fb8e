//! `/admin/log`: the consent log's name and keys, its latest signed head, the history of heads
//! and the last whole-log check; `POST /admin/log/verify` runs that check now.

use crate::error::ApiError;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::service::console::ConsoleService;
use app::console::{ConsolePage, LOG_PATH};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// `GET /admin/log`
pub async fn log(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    params: Params,
) -> Result<Response, ApiError> {
    params.finish()?;
    Ok(render(ConsolePage::Log(console.log_page().await?)))
}

/// `POST /admin/log/verify`: checks the whole log (seconds on a large one: an operator's
/// action, holding no lock), records the result and goes back to the page that shows it.
pub async fn verify(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
) -> Result<Response, ApiError> {
    let report = console.verify_log().await?;
    if report.is_clean() {
        tracing::info!(
            event = "console_log_verified",
            leaves = report.leaves,
            heads = report.heads,
            clean = true
        );
    } else {
        tracing::warn!(
            event = "console_log_verified",
            leaves = report.leaves,
            heads = report.heads,
            clean = false,
            problems = report.problems.len(),
            first_problem = %report.problems[0],
        );
    }
    Ok(Redirect::to(LOG_PATH).into_response())
}
