//! `GET /admin/proof?q=CONSENT_ID|SSAID`: a visitor's decisions with every proof field, and
//! each decision's signed receipt as a download.

use crate::error::ApiError;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::http::response::receipt_download;
use crate::http::{ConsentId, PublicBase};
use crate::service::ConsentService;
use crate::service::console::ConsoleService;
use app::ErrorCode;
use app::console::ConsolePage;
use axum::extract::State;
use axum::response::Response;
use std::sync::Arc;

pub async fn proof(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let query = params.take("q").unwrap_or_default();
    params.finish()?;
    let outcome = console.proof(&query).await?;
    Ok(render(ConsolePage::Proof { query, outcome }))
}

/// `GET /admin/proof/{id}/receipt`: the decision's signed receipt, as a download.
pub async fn receipt(
    State(consent): State<Arc<ConsentService>>,
    _session: ConsoleSession,
    PublicBase(base): PublicBase,
    ConsentId(id): ConsentId,
) -> Result<Response, ApiError> {
    let receipt = consent
        .receipt(id, None, &base)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ConsentNotFound, "no decision has this id"))?;
    Ok(receipt_download(id, receipt))
}
