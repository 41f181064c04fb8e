//! `/admin/policies`: the published versions and a diff between two of them; an uploaded
//! policy file previewed against the current version, then published on confirmation.

use crate::error::ApiError;
use crate::http::AppForm;
use crate::http::console::{ConsoleSession, render};
use crate::http::query::Params;
use crate::service::console::{ConsoleService, PolicyOutcome};
use app::ErrorCode;
use app::console::{ConsolePage, PoliciesPage};
use axum::extract::multipart::MultipartError;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use std::sync::Arc;

/// `GET /admin/policies[?from=V&to=V]`: the versions, and the diff between two of them.
pub async fn policies(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let diff = params.take("from").zip(params.take("to"));
    params.finish()?;
    let (page, outcome) = console.policies(diff).await;
    Ok(answer(page, outcome))
}

/// `POST /admin/policies/preview` (multipart: `file`, `material`): checks the file as the
/// command line does and compares it with the current version; publishes nothing.
pub async fn preview(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let mut source = None;
    let mut material = false;
    let unreadable = |err: MultipartError| ApiError::new(ErrorCode::BadRequest, err.body_text());
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => {
                let bytes = field.bytes().await.map_err(unreadable)?;
                source = Some(String::from_utf8(bytes.to_vec()).map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidEncoding,
                        "the policy file must be UTF-8 text",
                    )
                })?);
            }
            Some("material") => material = field.text().await.map_err(unreadable)? == "true",
            other => {
                return Err(ApiError::new(
                    ErrorCode::UnknownField,
                    format!("unknown form field {:?}", other.unwrap_or_default()),
                ));
            }
        }
    }
    let source = source
        .filter(|source| !source.trim().is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "choose a policy file to upload"))?;
    let (page, outcome) = console.preview_policy(source, material).await;
    Ok(answer(page, outcome))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishForm {
    source: String,
    material: Option<String>,
}

/// `POST /admin/policies/publish` (`source`, `material`): publishes with the same checks as
/// the command line and the admin API (201 new, 200 already published, 409, 422).
pub async fn publish(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    AppForm(form): AppForm<PublishForm>,
) -> Result<Response, ApiError> {
    let material = form.material.as_deref() == Some("true");
    let (page, outcome) = console.publish_policy(&form.source, material).await?;
    let response = answer(page, outcome);
    tracing::info!(
        event = "console_policy_publish",
        status = response.status().as_u16()
    );
    Ok(response)
}

/// The policies page, with the status of what it came to.
fn answer(page: PoliciesPage, outcome: PolicyOutcome) -> Response {
    let status = match outcome {
        PolicyOutcome::Shown | PolicyOutcome::Unchanged => StatusCode::OK,
        PolicyOutcome::Published => StatusCode::CREATED,
        PolicyOutcome::UnknownVersion => StatusCode::NOT_FOUND,
        PolicyOutcome::Conflict => StatusCode::CONFLICT,
        PolicyOutcome::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, render(ConsolePage::Policies(page))).into_response()
}
