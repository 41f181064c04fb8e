//! One error type for the HTTP API: a status and `{"error": {"code", "message"}}`.
//! Server-side failures are logged in full and answered with a generic message.

use app::backend::BackendError;
use app::domain::DecisionError;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;
use std::fmt::Display;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// Logs the cause and hides it from the client.
    pub fn internal(cause: impl Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the consent service failed; please try again",
        )
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<DecisionError> for ApiError {
    fn from(err: DecisionError) -> Self {
        let status = match err {
            DecisionError::StalePolicyVersion { .. } => StatusCode::CONFLICT,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::new(status, err.code(), err.to_string())
    }
}

impl From<BackendError> for ApiError {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::Invalid(invalid) => invalid.into(),
            // The backend has logged the cause already.
            BackendError::Internal => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                err.to_string(),
            ),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(err) => {
                Self::new(StatusCode::BAD_REQUEST, "malformed_json", err.body_text())
            }
            JsonRejection::JsonDataError(err) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_body",
                err.body_text(),
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is larger than this endpoint accepts",
            ),
            other => Self::new(other.status(), "bad_request", other.body_text()),
        }
    }
}

/// Rewrites the bare 408 and 413 answers of the timeout and body-limit layers into the API's
/// JSON error format, so every rejection reads the same.
pub async fn json_for_layer_rejections(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !is_json => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this service accepts",
        )
        .into_response(),
        StatusCode::REQUEST_TIMEOUT if !is_json => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            "the request took too long",
        )
        .into_response(),
        _ => response,
    }
}

/// `axum::Json` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn internal_errors_hide_their_cause() {
        let response = ApiError::internal("secret database password in message").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(!text.contains("password"), "{text}");
        assert!(text.contains(r#""code":"internal""#), "{text}");
    }

    #[test]
    fn stale_version_is_a_conflict() {
        let err: ApiError = DecisionError::StalePolicyVersion {
            given: "a".into(),
            current: "b".into(),
        }
        .into();
        assert_eq!(err.status(), StatusCode::CONFLICT);
        let err: ApiError = DecisionError::UnknownCategory("x".into()).into();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
