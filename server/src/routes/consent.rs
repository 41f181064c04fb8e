//! `/api/v1/consent`: the visitor's decision as JSON for other clients, and its receipt.

use crate::error::{ApiError, AppJson};
use crate::http::response::receipt_download;
use crate::http::{AdminAuth, ConsentId, PublicBase, Unnamed, Visitor, for_visitors, with_cookies};
use crate::service::{ConsentService, RequestContext};
use crate::state::AppState;
use app::ErrorCode;
use app::domain::{
    ConsentAction, ConsentRequest, ConsentSource, CurrentConsent, PromptReason, StorageKey,
};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use http::StatusCode;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The JSON API. It knows the visitor by SSAID, like the pages.
pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/api/v1/consent", get(get_consent).post(post_consent))
        .route("/api/v1/consent/{id}/receipt", get(get_receipt))
        .route("/api/{*rest}", any(api_not_found));
    // Other clients may call the JSON API too: it requires `application/json`.
    for_visitors(api, state, Unnamed::Accept)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentResponse {
    /// The current policy version.
    pub policy_version: String,
    /// The standing decision, if the visitor has one: `{policy_version, categories, event_id,
    /// decided_at, action}`.
    #[schema(value_type = Option<Object>)]
    pub consent: Option<CurrentConsent>,
    /// Whether the banner should be shown, and why.
    pub needs_prompt: bool,
    /// `{reason: no_choice | notice_changed | expired | undecided}`.
    #[schema(value_type = Option<Object>)]
    pub prompt: Option<PromptReason>,
    /// Browser-storage keys the page must remove (refused categories).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub clear_storage: Vec<StorageKey>,
}

/// A decision (`app::domain::ConsentRequest`, described here: the `app` crate is shared with
/// the WASM bundle, which carries no utoipa).
#[derive(utoipa::ToSchema, serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // A shape for the document.
pub struct DecisionBody {
    /// The policy version the visitor was shown: the current one.
    #[schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$")]
    policy_version: String,
    action: DecisionAction,
    /// Each category's state; required for `custom`.
    categories: Option<BTreeMap<String, bool>>,
    /// The language the texts were shown in; the policy's default language when absent.
    language: Option<DecisionLanguage>,
    /// How long ago the visitor made the choice, when the page delivers it late (after
    /// retrying while the service could not save it). At most an hour.
    #[schema(minimum = 0, maximum = 3_600_000)]
    decided_ms_ago: Option<u64>,
}

#[derive(utoipa::ToSchema, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)] // A shape for the document.
pub enum DecisionAction {
    AcceptAll,
    RejectAll,
    Custom,
    Withdraw,
    Gpc,
}

#[derive(utoipa::ToSchema, serde::Deserialize)]
#[allow(dead_code)] // A shape for the document.
pub enum DecisionLanguage {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "zh-Hans")]
    ZhHans,
    #[serde(rename = "zh-Hant")]
    ZhHant,
    #[serde(rename = "ja")]
    Ja,
    #[serde(rename = "ko")]
    Ko,
}

#[utoipa::path(
    get,
    path = "/api/v1/consent",
    tag = "visitor",
    summary = "The visitor's standing decision and whether the banner must ask",
    responses((status = 200, description = "The standing decision", body = ConsentResponse))
)]
pub async fn get_consent(
    State(consent): State<Arc<ConsentService>>,
    context: RequestContext,
) -> Result<Response, ApiError> {
    let standing = consent.standing(&context).await?;
    let (policy_version, standing_now) = standing.value;
    let body = ConsentResponse {
        policy_version,
        needs_prompt: standing_now.prompt.is_some(),
        prompt: standing_now.prompt,
        consent: standing_now.current,
        clear_storage: Vec::new(),
    };
    Ok(with_cookies(
        Json(body).into_response(),
        standing.set_cookies,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/consent",
    tag = "visitor",
    summary = "Record a decision on the current policy version",
    request_body(content = DecisionBody, content_type = "application/json"),
    responses((status = 201, description = "Recorded; `Set-Cookie: zc_consent`", body = ConsentResponse))
)]
pub async fn post_consent(
    State(consent): State<Arc<ConsentService>>,
    context: RequestContext,
    AppJson(request): AppJson<ConsentRequest>,
) -> Result<Response, ApiError> {
    let source = if request.action == ConsentAction::Gpc {
        ConsentSource::Gpc
    } else {
        ConsentSource::Api
    };
    let recorded = consent.record(&context, request, source).await?;
    let body = ConsentResponse {
        policy_version: consent.policy_version(),
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
#[utoipa::path(
    get,
    path = "/api/v1/consent/{id}/receipt",
    tag = "visitor",
    summary = "The signed receipt of one decision (its visitor, or an admin)",
    params(("id" = String, Path, format = Uuid, description = "The consent id (a UUID)")),
    responses((status = 200, description = "The receipt and its compact JWS", body = Object)),
    security((), ("admin_token" = []))
)]
pub async fn get_receipt(
    State(consent): State<Arc<ConsentService>>,
    visitor: Visitor,
    admin: Option<AdminAuth>,
    PublicBase(base): PublicBase,
    ConsentId(id): ConsentId,
) -> Result<Response, ApiError> {
    let requester = admin.is_none().then_some(&visitor.issued.ssaid);
    let receipt = consent
        .receipt(id, requester, &base)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ConsentNotFound,
                "no consent record with this id belongs to you",
            )
        })?;
    Ok(receipt_download(id, receipt))
}

pub async fn api_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API endpoint")
}
