//! One error type for every HTTP answer: an [`ErrorCode`] (which fixes the status) and a
//! message, as `{"error": {"code", "message"}}`. Each layer's error converts into it here, in
//! one place. A failure of the service itself is logged once, when its response is made, and
//! answered with a generic message.

use crate::service::console::export::InvalidExport;
use crate::service::policies::PublishError;
use crate::storage::StorageError;
use app::ErrorCode;
use app::backend::BackendError;
use app::domain::{DecisionError, FormError};
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use std::fmt::Display;

const INTERNAL_MESSAGE: &str = "the consent service failed; please try again";

/// Every error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {
    "code": "stale_policy_version",
    "message": "policy version \"2026-03-25\" is not the current version \"2026-12-07\"; reload the page and decide again"
}}))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable; it fixes the status (the operation's responses list the codes of each).
    pub code: ErrorCode,
    /// For people; never details of a server error.
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    /// What went wrong inside the service: logged, never answered.
    cause: Option<String>,
    /// When to ask again, for an answer that is not final yet.
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
            retry_after: None,
        }
    }

    /// A failure of the service itself: the cause goes to the log, the client gets a generic
    /// message.
    pub fn internal(cause: impl Display) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: INTERNAL_MESSAGE.to_owned(),
            cause: Some(cause.to_string()),
            retry_after: None,
        }
    }

    /// Keeps what went wrong inside the service, for the log line a 5xx answer gets.
    pub fn caused_by(mut self, cause: impl Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// Answers with `Retry-After: secs`.
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn status(&self) -> StatusCode {
        status_of(self.code)
    }
}

pub fn status_of(code: ErrorCode) -> StatusCode {
    StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(
                code = self.code.as_str(),
                error = self.cause.as_deref().unwrap_or(&self.message),
                "request failed"
            );
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
        }
        // Storage down, an instance draining: worth trying again, not at once.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(app::RETRY_AFTER_SECS),
            );
        }
        response
    }
}

impl From<DecisionError> for ApiError {
    fn from(err: DecisionError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}

impl From<FormError> for ApiError {
    fn from(err: FormError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}

impl From<BackendError> for ApiError {
    fn from(err: BackendError) -> Self {
        match err {
            BackendError::Invalid(invalid) => invalid.into(),
            BackendError::Internal(cause) => Self::internal(cause),
            unavailable @ BackendError::Unavailable(_) => {
                let message = unavailable.to_string();
                let BackendError::Unavailable(cause) = unavailable else {
                    unreachable!("matched above")
                };
                Self::new(ErrorCode::StorageUnavailable, message).caused_by(cause)
            }
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        if err.is_unavailable() {
            Self::new(
                ErrorCode::StorageUnavailable,
                "storage cannot be reached right now; nothing was saved: try again shortly",
            )
            .caused_by(err)
        } else {
            Self::internal(err)
        }
    }
}

impl From<StorageError> for BackendError {
    fn from(err: StorageError) -> Self {
        if err.is_unavailable() {
            Self::Unavailable(err.to_string())
        } else {
            Self::internal(err)
        }
    }
}

impl From<PublishError> for ApiError {
    fn from(err: PublishError) -> Self {
        match err {
            PublishError::Invalid(invalid) => {
                Self::new(ErrorCode::InvalidPolicy, invalid.to_string())
            }
            conflict @ PublishError::Conflict { .. } => {
                Self::new(ErrorCode::VersionAlreadyPublished, conflict.to_string())
            }
            PublishError::Storage(storage) => storage.into(),
        }
    }
}

impl From<InvalidExport> for ApiError {
    fn from(err: InvalidExport) -> Self {
        Self::new(ErrorCode::InvalidParameter, err.0)
    }
}

impl From<crate::domain::tracking::HitError> for ApiError {
    fn from(err: crate::domain::tracking::HitError) -> Self {
        Self::new(err.code(), err.to_string())
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => Self::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(err) => {
                Self::new(ErrorCode::MalformedJson, err.body_text())
            }
            JsonRejection::JsonDataError(err) => Self::new(ErrorCode::InvalidBody, err.body_text()),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => Self::new(
                ErrorCode::PayloadTooLarge,
                "the request body is larger than this endpoint accepts",
            ),
            other => Self::new(ErrorCode::BadRequest, other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::new(ErrorCode::InvalidQuery, rejection.body_text())
    }
}

/// Rewrites the bare 408 and 413 answers of the timeout and body-limit layers into the API's
/// JSON error format, so every rejection reads the same.
pub fn json_for_layer_rejections<B>(response: http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let is_json = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let error = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE if !is_json => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "the request body is larger than this service accepts",
        ),
        StatusCode::REQUEST_TIMEOUT if !is_json => {
            ApiError::new(ErrorCode::Timeout, "the request took too long")
        }
        _ => return response.map(axum::body::Body::new),
    };
    // The body is replaced, not the answer: the headers the layers inside added (CORS, so that
    // an embedding site's script can read the rejection) stay.
    let mut rewritten = error.into_response();
    let headers = response.headers();
    for name in headers.keys() {
        if *name == http::header::CONTENT_TYPE
            || *name == http::header::CONTENT_LENGTH
            || rewritten.headers().contains_key(name)
        {
            continue;
        }
        for value in headers.get_all(name) {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

/// `axum::Json` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct AppJson<T>(pub T);

/// `axum::extract::Query` whose rejections answer in the API's error format.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

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
    fn decision_errors_map_to_one_status_each() {
        let err: ApiError = DecisionError::StalePolicyVersion {
            given: "a".into(),
            current: "b".into(),
        }
        .into();
        assert_eq!(err.status(), StatusCode::CONFLICT);
        let err: ApiError = DecisionError::UnknownCategory("x".into()).into();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let err: ApiError = BackendError::Invalid(DecisionError::NecessaryRefused).into();
        assert_eq!(err.code(), ErrorCode::NecessaryRefused);
    }

    #[test]
    fn every_code_has_a_valid_status() {
        for code in ErrorCode::ALL {
            assert_eq!(status_of(*code).as_u16(), code.status(), "{code}");
        }
    }
}
