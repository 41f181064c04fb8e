//! `POST /embed/consent`: decisions made on other ZecCloud sites' pages.

use crate::error::ApiError;
use crate::http::{AppForm, with_cookies};
use crate::service::{ConsentService, RequestContext};
use app::ErrorCode;
use app::domain::{ConsentSource, CurrentConsent, DecisionForm, StorageKey, language};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The banner's form fields, plus where on the page the decision was made.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedDecision {
    policy_version: Option<String>,
    action: Option<String>,
    categories: Option<BTreeMap<String, String>>,
    language: Option<String>,
    /// `banner` or `preferences` (recorded as source `embed`), or `api` (source `api`).
    via: Option<String>,
    /// Set by the loader when it delivers a choice late, after the service could not save it.
    decided_ms_ago: Option<String>,
    /// Sent by the shared form markup; `via` says the same for the embed.
    #[serde(rename = "from")]
    _from: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Recorded {
    consent: CurrentConsent,
    clear_storage: Vec<StorageKey>,
}

/// Form-encoded like the banner's own forms, so no preflight; recorded with the page's origin.
/// Only allowed sites get here (`http::pages_only`, in the router).
#[utoipa::path(
    post,
    path = "/embed/consent",
    tag = "embed",
    summary = "A decision from the embedded banner (form-encoded, allowed origins only)",
    request_body(content = Object, content_type = "application/x-www-form-urlencoded"),
    responses((status = 201, description = "Recorded", body = Object))
)]
pub async fn record(
    State(consent): State<Arc<ConsentService>>,
    context: RequestContext,
    AppForm(form): AppForm<EmbedDecision>,
) -> Result<Response, ApiError> {
    let source = match form.via.as_deref() {
        Some("banner" | "preferences") => ConsentSource::Embed,
        Some("api") => ConsentSource::Api,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidVia,
                format!("via must be banner, preferences or api, not {other:?}"),
            ));
        }
    };
    let policy = consent.policies.cached().current().policy.clone();
    let decision = DecisionForm {
        policy_version: form.policy_version,
        action: form.action,
        categories: form.categories,
        // The host page's language, when it is one we write in.
        language: form
            .language
            .and_then(|l| language::supported(&l).map(str::to_owned)),
        decided_ms_ago: form.decided_ms_ago,
    };
    let request = decision.into_request(&policy)?;
    let recorded = consent.record(&context, request, source).await?;
    let response = (
        StatusCode::CREATED,
        Json(Recorded {
            consent: recorded.value.consent,
            clear_storage: recorded.value.clear_storage,
        }),
    )
        .into_response();
    Ok(with_cookies(response, recorded.set_cookies))
}
