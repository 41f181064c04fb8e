//! Server functions the banner calls, both from the hydrated page and as plain HTML forms.

#[cfg(feature = "ssr")]
use crate::domain::ConsentAction;
use crate::domain::{ConsentStatus, RecordedChoice};
use crate::error_code::client;
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
    pub fn new(code: crate::ErrorCode, message: &str) -> Self {
        Self {
            code: code.as_str().to_owned(),
            message: message.to_owned(),
        }
    }
}

impl FromServerFnError for UiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        const BAD_REQUEST: &str = crate::ErrorCode::BadRequest.as_str();
        let code = match value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => client::NETWORK,
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => BAD_REQUEST,
            _ => client::REQUEST_FAILED,
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
    let backend = ssr::backend()?;
    let status = backend.status().await.map_err(ssr::ui_error)?;
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

/// What is stored under the visitor's SSAID, for the preference center's "Your data".
#[server(prefix = "/_sf", endpoint = "my_data")]
pub async fn get_my_data() -> Result<crate::domain::my_data::MyData, UiError> {
    let backend = ssr::backend()?;
    backend.my_data().await.map_err(ssr::ui_error)
}

/// Records a decision. `categories` holds the ticked checkboxes (`categories[NAME]=on`); for a
/// custom choice every optional category that is not ticked is refused, as the form showed it.
/// `language` is the language the texts were shown in; `from` is [`FROM_PREFERENCES`] for the
/// preference center; `decided_ms_ago` is set by the hydrated page when it delivers a choice
/// late, after the service could not save it.
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
    decided_ms_ago: Option<String>,
) -> Result<RecordedChoice, UiError> {
    use crate::ErrorCode;
    use crate::domain::{ConsentSource, DecisionForm};

    let backend = ssr::backend()?;
    let parts = ssr::request()?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    let fail = |error: UiError, code: ErrorCode| {
        ssr::set_status(&response, code);
        Err(error)
    };
    let form = DecisionForm {
        policy_version,
        action,
        categories,
        language,
        decided_ms_ago,
    };
    let request = match form.into_request(&backend.policy()) {
        Ok(request) => request,
        Err(invalid) => {
            return fail(
                UiError::new(invalid.code(), &invalid.to_string()),
                invalid.code(),
            );
        }
    };
    let action = request.action;
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
    match backend.record(request, source).await {
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
        // The same statuses as the JSON API: one table, `ErrorCode`.
        Err(err) => {
            let code = err.code();
            fail(ssr::ui_error(err), code)
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::UiError;
    use crate::ErrorCode;
    use crate::backend::{BackendError, SharedBackend};
    use http::request::Parts;
    use leptos::prelude::use_context;

    fn unavailable() -> UiError {
        UiError::new(ErrorCode::Internal, "The consent service is not available.")
    }

    /// The consent service, bound to this request by the server.
    pub(super) fn backend() -> Result<SharedBackend, UiError> {
        use_context::<SharedBackend>().ok_or_else(unavailable)
    }

    pub(super) fn request() -> Result<Parts, UiError> {
        use_context::<Parts>().ok_or_else(unavailable)
    }

    /// A plain form POST from a browser asks for HTML; the hydrated page's client asks for JSON.
    pub(super) fn accepts_html(parts: &Parts) -> bool {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"))
    }

    pub(super) fn set_status(response: &leptos_axum::ResponseOptions, code: ErrorCode) {
        let status = http::StatusCode::from_u16(code.status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
        if status == http::StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(crate::RETRY_AFTER_SECS),
            );
        }
    }

    /// The error as the banner shows it; a failure of the service itself is logged here, where
    /// its answer is made, and never shown.
    pub(super) fn ui_error(err: BackendError) -> UiError {
        match &err {
            BackendError::Internal(cause) => {
                tracing::error!(error = %cause, "consent service failed");
            }
            BackendError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "storage unavailable: a choice was not saved");
            }
            BackendError::Invalid(_) => {}
        }
        UiError::new(err.code(), &err.to_string())
    }
}
