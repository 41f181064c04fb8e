//! `GET /admin[?days=30|90]`: decisions as charts and tables, from the daily counts.

use crate::error::ApiError;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::service::console::ConsoleService;
use app::ErrorCode;
use app::console::ConsolePage;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

/// The ranges the overview offers.
const RANGES: [u32; 2] = [30, 90];

pub async fn overview(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let days = match params.take("days") {
        None => RANGES[0],
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|days| RANGES.contains(days))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("days must be 30 or 90, not {raw:?}"),
                )
            })?,
    };
    params.finish()?;
    let overview = console.overview_page(days).await?;
    Ok(render(ConsolePage::Overview { days, overview }))
}
