//! `GET /admin/export`: the form; with `from`, `to` and `format`, the file itself, streamed.

use crate::error::ApiError;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::http::response::export_download;
use crate::service::console::ConsoleService;
use crate::service::console::export::ExportRequest;
use app::console::ConsolePage;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

pub async fn export(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let from = params.take("from");
    let to = params.take("to");
    let format = params.take("format");
    params.finish()?;
    let (Some(from), Some(to), Some(format)) = (from, to, format) else {
        let days = console.export_days();
        let page = ConsolePage::Export {
            from: days.from.to_string(),
            to: days.to.to_string(),
        };
        return Ok(render(page));
    };
    tracing::info!(event = "console_export", %from, %to, %format);
    let request = ExportRequest::parse(&from, &to, &format)?;
    Ok(export_download(console.export(request)))
}
