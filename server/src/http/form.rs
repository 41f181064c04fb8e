//! `AppForm<T>`: a form-encoded body read the way the server functions read theirs
//! (`categories[NAME]=on` into a map, brackets percent-encoded or not), with the API's errors.

use crate::error::ApiError;
use app::ErrorCode;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

pub struct AppForm<T>(pub T);

/// Nesting depth for `a[b]=c` keys; non-strict, as browsers percent-encode the brackets.
fn config() -> serde_qs::Config {
    serde_qs::Config::new(5, false)
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                ApiError::new(
                    if rejection.status() == http::StatusCode::PAYLOAD_TOO_LARGE {
                        ErrorCode::PayloadTooLarge
                    } else {
                        ErrorCode::BadRequest
                    },
                    rejection.body_text(),
                )
            })?;
        decode(&body).map(AppForm)
    }
}

/// Decodes a form-encoded body as [`AppForm`] does. Public so that the fuzz targets (`fuzz/`)
/// run the very decoder the endpoints use, without a request around it.
pub fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    config().deserialize_bytes(body).map_err(|err| {
        let message = err.to_string();
        // serde's words for `deny_unknown_fields`.
        let code = if message.contains("unknown field") {
            ErrorCode::UnknownField
        } else {
            ErrorCode::BadRequest
        };
        ApiError::new(code, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Form {
        action: Option<String>,
        categories: Option<BTreeMap<String, String>>,
    }

    async fn parse(body: &'static str) -> Result<Form, ApiError> {
        let request = Request::builder()
            .method("POST")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap();
        AppForm::<Form>::from_request(request, &())
            .await
            .map(|f| f.0)
    }

    #[tokio::test]
    async fn bracketed_keys_become_a_map_encoded_or_not() {
        let form = parse("action=custom&categories%5Ba%5D=on&categories[b]=on")
            .await
            .unwrap();
        assert_eq!(form.action.as_deref(), Some("custom"));
        let ticked: Vec<_> = form.categories.unwrap().into_keys().collect();
        assert_eq!(ticked, ["a", "b"]);
    }

    #[tokio::test]
    async fn unknown_fields_are_named() {
        let err = parse("action=x&colour=red").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::UnknownField);
    }
}
