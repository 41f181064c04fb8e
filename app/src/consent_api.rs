//! Server functions the banner calls, both from the hydrated page and as plain HTML forms.

#[cfg(feature = "ssr")]
use crate::domain::ConsentAction;
use crate::domain::{ConsentStatus, RecordedChoice};
use leptos::prelude::*;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An error the banner can show: a machine-readable code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct UiError {
    pub code: String,
    pub message: String,
}

impl UiError {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let code = match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => "network",
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => "bad_request",
            _ => "request_failed",
        };
        Self {
            code: code.to_owned(),
            message: format!("Your choice could not be saved ({value}). Please try again."),
        }
    }
}

/// The visitor's standing decision, why the banner must ask, and the current policy.
#[server(prefix = "/_sf", endpoint = "consent_status")]
pub async fn get_consent_status() -> Result<ConsentStatus, UiError> {
    let (backend, parts) = ssr::backend_and_request()?;
    let status = backend.status(&parts).await.map_err(ssr::ui_error)?;
    // With Sec-GPC the status records the GPC default, whose cookie the page response carries.
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        for cookie in status.set_cookies {
            response.append_header(http::header::SET_COOKIE, cookie);
        }
    }
    Ok(status.value)
}

/// Where a form was submitted from: the preference center or the banner.
pub const FROM_PREFERENCES: &str = "preferences";

/// Records a decision. `categories` holds the ticked checkboxes (`categories[NAME]=on`); for a
/// custom choice every optional category that is not ticked is refused, as the form showed it.
/// `language` is the language the texts were shown in; `from` is [`FROM_PREFERENCES`] for the
/// preference center.
///
/// The fields are optional and checked here rather than by the decoder, whose failures would be
/// answered as server errors: a bad form is the client's error and gets a 400 with its reason.
#[server(prefix = "/_sf", endpoint = "record_consent")]
pub async fn record_consent(
    policy_version: Option<String>,
    action: Option<String>,
    categories: Option<BTreeMap<String, String>>,
    language: Option<String>,
    from: Option<String>,
) -> Result<RecordedChoice, UiError> {
    use crate::backend::BackendError;
    use crate::domain::{ConsentRequest, ConsentSource};
    use http::StatusCode;

    let (backend, parts) = ssr::backend_and_request()?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let fail = |status: StatusCode, error: UiError| {
        response.set_status(status);
        Err(error)
    };
    let (Some(policy_version), Some(action)) = (policy_version, action) else {
        return fail(
            StatusCode::BAD_REQUEST,
            UiError::new("missing_field", "policy_version and action are required"),
        );
    };
    let Some(action) = ConsentAction::parse(&action) else {
        return fail(
            StatusCode::BAD_REQUEST,
            UiError::new(
                "invalid_action",
                "action must be accept_all, reject_all, custom, withdraw or gpc",
            ),
        );
    };
    let submitted_without_js = ssr::accepts_html(&parts);
    let source = if action == ConsentAction::Gpc {
        ConsentSource::Gpc
    } else if submitted_without_js {
        ConsentSource::NoJsForm
    } else if from.as_deref() == Some(FROM_PREFERENCES) {
        ConsentSource::PreferenceCenter
    } else {
        ConsentSource::Banner
    };
    let ticked = categories.unwrap_or_default().into_keys().collect();
    let mut request = ConsentRequest::from_form(&backend.policy(), policy_version, action, ticked);
    request.language = language;
    match backend.record(&parts, request, source).await {
        Ok(recorded) => {
            for cookie in recorded.set_cookies {
                response.append_header(http::header::SET_COOKIE, cookie);
            }
            if submitted_without_js && !parts.headers.contains_key(http::header::REFERER) {
                // leptos_axum sends a plain form back to its Referer; without one, go home.
                leptos_axum::redirect("/");
            }
            Ok(recorded.value)
        }
        Err(err) => {
            let status = match err {
                // The same statuses as the JSON API: a stale version is a conflict.
                BackendError::Invalid(crate::domain::DecisionError::StalePolicyVersion {
                    ..
                }) => StatusCode::CONFLICT,
                BackendError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                BackendError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            };
            fail(status, ssr::ui_error(err))
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::UiError;
    use crate::backend::{BackendError, SharedBackend};
    use http::request::Parts;
    use leptos::prelude::use_context;

    pub(super) fn backend_and_request() -> Result<(SharedBackend, Parts), UiError> {
        let missing = || UiError {
            code: "internal".to_owned(),
            message: "The consent service is not available.".to_owned(),
        };
        let backend = use_context::<SharedBackend>().ok_or_else(missing)?;
        let parts = use_context::<Parts>().ok_or_else(missing)?;
        Ok((backend, parts))
    }

    /// A plain form POST from a browser asks for HTML; the hydrated page's client asks for JSON.
    pub(super) fn accepts_html(parts: &Parts) -> bool {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    }

    pub(super) fn ui_error(err: BackendError) -> UiError {
        let code = match &err {
            BackendError::Invalid(invalid) => invalid.code(),
            BackendError::Internal => "internal",
        };
        UiError {
            code: code.to_owned(),
            message: err.to_string(),
        }
    }
}
