//! `GET` and `POST /api/v1/consent`: the visitor's decision as JSON, for other clients.

use crate::error::{ApiError, AppJson};
use crate::startup::AppState;
use crate::visitor::Visitor;
use app::domain::{ConsentRequest, ConsentSource, CurrentConsent};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ConsentResponse {
    /// The current policy version.
    pub policy_version: String,
    /// The standing decision, if the visitor has one.
    pub consent: Option<CurrentConsent>,
    /// Whether the banner should be shown (no decision on the current version).
    pub needs_prompt: bool,
}

pub async fn get_consent(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Json<ConsentResponse> {
    let consent = state.consent.current_consent(&headers);
    let policy_version = state.consent.policy.version.to_string();
    let needs_prompt = consent
        .as_ref()
        .is_none_or(|c| c.policy_version != policy_version);
    Json(ConsentResponse {
        policy_version,
        consent,
        needs_prompt,
    })
}

pub async fn post_consent(
    State(state): State<AppState>,
    visitor: Visitor,
    AppJson(request): AppJson<ConsentRequest>,
) -> Result<Response, ApiError> {
    let recorded = state
        .consent
        .record_for(&visitor, request, ConsentSource::Api)
        .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(ConsentResponse {
            policy_version: state.consent.policy.version.to_string(),
            consent: Some(recorded.consent),
            needs_prompt: false,
        }),
    )
        .into_response();
    for cookie in recorded.set_cookies {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn api_not_found() -> ApiError {
    ApiError::not_found()
}
