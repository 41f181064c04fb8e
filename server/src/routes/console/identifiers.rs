//! `GET /admin/identifiers`: the undeclared identifiers embedding pages reported; and
//! `GET /admin/identifiers/draft?kind=…&name=…`: a registry entry to start from for one;
//! `GET /admin/scans/{id}`: a stored tracker scan (`server scan --record`).

use crate::error::ApiError;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::service::observations::{Observations, draft_entry};
use app::ErrorCode;
use app::console::ConsolePage;
use app::domain::IdentifierKind;
use axum::extract::{Path, State};
use axum::response::Response;
use std::sync::Arc;

pub async fn identifiers(
    State(observations): State<Arc<Observations>>,
    _session: ConsoleSession,
    params: Params,
) -> Result<Response, ApiError> {
    params.finish()?;
    Ok(render(ConsolePage::Identifiers(observations.page().await?)))
}

/// `GET /admin/scans/{id}`: one stored tracker scan.
pub async fn scan(
    State(observations): State<Arc<Observations>>,
    _session: ConsoleSession,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    params.finish()?;
    let not_found = || ApiError::new(ErrorCode::NotFound, "no stored scan has this id");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let page = observations.scan_page(id).await?.ok_or_else(not_found)?;
    Ok(render(ConsolePage::Scan(page)))
}

pub async fn draft(_session: ConsoleSession, mut params: Params) -> Result<Response, ApiError> {
    let invalid = |message: String| ApiError::new(ErrorCode::InvalidParameter, message);
    let raw_kind = params.take("kind").unwrap_or_default();
    let kind = IdentifierKind::parse(&raw_kind).ok_or_else(|| {
        invalid(format!(
            "kind must be cookie, local_storage or session_storage, not {raw_kind:?}"
        ))
    })?;
    let name = params.take("name").unwrap_or_default();
    // Only what a report could name: the entry must be one the registry accepts.
    if !crate::domain::observations::is_reportable_name(&name) {
        return Err(invalid(
            "name must be a cookie name: 1 to 128 token characters".to_owned(),
        ));
    }
    params.finish()?;
    Ok(render(ConsolePage::IdentifierDraft {
        kind: kind.as_str().to_owned(),
        toml: draft_entry(kind, &name),
        name,
    }))
}
