//! `/api/v1/consent`: the visitor's decision as JSON for other clients, and its receipt.

use crate::error::{ApiError, AppJson};
use crate::routes::admin::AdminAuth;
use crate::service::RequestContext;
use crate::startup::AppState;
use crate::visitor::Visitor;
use app::domain::{ConsentRequest, ConsentSource, CurrentConsent, PromptReason, StorageKey};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct ConsentResponse {
    /// The current policy version.
    pub policy_version: String,
    /// The standing decision, if the visitor has one.
    pub consent: Option<CurrentConsent>,
    /// Whether the banner should be shown, and why.
    pub needs_prompt: bool,
    pub prompt: Option<PromptReason>,
    /// Browser-storage keys the page must remove (refused categories).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clear_storage: Vec<StorageKey>,
}

/// The response with `Set-Cookie` headers appended.
pub fn with_cookies(mut response: Response, cookies: Vec<http::HeaderValue>) -> Response {
    for cookie in cookies {
        response
            .headers_mut()
            .append(http::header::SET_COOKIE, cookie);
    }
    response
}

pub async fn get_consent(
    State(state): State<AppState>,
    context: RequestContext,
    uri: http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let language = app::domain::language::from_request(&uri, &headers);
    let status = state
        .consent
        .status_for(&headers, language, Some(&context))
        .await?;
    let body = ConsentResponse {
        policy_version: status.value.policy.version.clone(),
        needs_prompt: status.value.needs_prompt(),
        prompt: status.value.prompt,
        consent: status.value.current,
        clear_storage: Vec::new(),
    };
    Ok(with_cookies(Json(body).into_response(), status.set_cookies))
}

pub async fn post_consent(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    AppJson(request): AppJson<ConsentRequest>,
) -> Result<Response, ApiError> {
    let source = if request.action == app::domain::ConsentAction::Gpc {
        ConsentSource::Gpc
    } else {
        ConsentSource::Api
    };
    let recorded = state
        .consent
        .record_for(&context, request, source, &headers)
        .await?;
    let body = ConsentResponse {
        policy_version: state.consent.policy_version(),
        consent: Some(recorded.value.consent),
        needs_prompt: false,
        prompt: None,
        clear_storage: recorded.value.clear_storage,
    };
    Ok(with_cookies(
        (StatusCode::CREATED, Json(body)).into_response(),
        recorded.set_cookies,
    ))
}

/// `GET /api/v1/consent/{id}/receipt`: the signed receipt of one decision, for the visitor who
/// made it or an admin; anyone else gets 404, as for an unknown id.
pub async fn get_receipt(
    State(state): State<AppState>,
    visitor: Visitor,
    admin: Option<AdminAuth>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_consent_id",
            format!("{id:?} is not a consent id (a UUID)"),
        )
    })?;
    let requester = admin.is_none().then(|| visitor.ssaid.as_str());
    let base_url = crate::routes::base_url(&headers);
    let receipt = state
        .consent
        .receipt(id, requester, &base_url)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "consent_not_found",
                "no consent record with this id belongs to you",
            )
        })?;
    let filename = format!("attachment; filename=\"consent-receipt-{id}.json\"");
    let mut response = Json(receipt).into_response();
    response.headers_mut().insert(
        http::header::CONTENT_DISPOSITION,
        http::HeaderValue::from_str(&filename).expect("a UUID is a valid header value"),
    );
    Ok(response)
}

pub async fn api_not_found() -> ApiError {
    ApiError::not_found()
}
