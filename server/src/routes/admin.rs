//! The admin API (`/api/v1/admin/…`): bearer-token protected, off unless `admin_token` is set.

use crate::error::ApiError;
use crate::policies::{PublishError, Published};
use crate::routes::policy::VersionInfo;
use crate::startup::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

/// Proof that the request carried the admin token.
#[derive(Debug, Clone, Copy)]
pub struct AdminAuth;

fn presented_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn token_matches(presented: &str, expected: &str) -> bool {
    Sha256::digest(presented.as_bytes()) == Sha256::digest(expected.as_bytes())
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(expected) = &state.admin_token else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "admin_disabled",
                "the admin API is off: set admin_token to enable it",
            ));
        };
        match presented_token(parts) {
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the admin token as Authorization: Bearer TOKEN",
            )),
            Some(token) if token_matches(token, expected.expose_secret()) => Ok(AdminAuth),
            Some(_) => {
                tracing::warn!(event = "admin_token_rejected", "wrong admin token");
                Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "invalid_token",
                    "the admin token is not valid",
                ))
            }
        }
    }
}

/// For endpoints open to visitors that admins may use more widely: no `Authorization`
/// header means "not an admin"; a wrong token is still refused.
impl OptionalFromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        if presented_token(parts).is_none() {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// `material=true|false` (default false) from the query string.
fn material_flag(query: Option<&str>) -> Result<bool, ApiError> {
    let mut material = false;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, "true"));
        if key != "material" {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "unknown_parameter",
                format!("unknown query parameter {key:?}; only \"material\" is accepted"),
            ));
        }
        material = match value {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_parameter",
                    format!("material must be true or false, not {other:?}"),
                ));
            }
        };
    }
    Ok(material)
}

/// `POST /api/v1/admin/policies[?material=true]` with the policy TOML as the body.
/// 201 for a new version, 200 when the same content is already published under it,
/// 409 when different content is, 422 when the file is not a valid policy.
pub async fn publish_policy(
    State(state): State<AppState>,
    _admin: AdminAuth,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let material = material_flag(query.as_deref())?;
    let source = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_encoding",
            "the policy file must be UTF-8 text",
        )
    })?;
    let published = state
        .consent
        .policies
        .publish(source, material)
        .await
        .map_err(|err| match err {
            PublishError::Invalid(invalid) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_policy",
                invalid.to_string(),
            ),
            conflict @ PublishError::Conflict { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "version_already_published",
                conflict.to_string(),
            ),
            PublishError::Storage(storage) => ApiError::internal(storage),
        })?;
    let status = match published {
        Published::New(_) => StatusCode::CREATED,
        Published::Unchanged(_) => StatusCode::OK,
    };
    let mut info = VersionInfo::from(published.record());
    info.unchanged = matches!(published, Published::Unchanged(_));
    Ok((status, Json(info)).into_response())
}

/// `GET /api/v1/admin/policies`: every published version, oldest first.
pub async fn list_policies(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Json<Vec<VersionInfo>> {
    let snapshot = state.consent.policies.current().await;
    Json(snapshot.records().map(VersionInfo::from).collect())
}

/// `GET /metrics`: the operator's counters (the Matomo gate's so far), for Prometheus.
pub async fn metrics(_: AdminAuth, State(state): State<AppState>) -> Response {
    (
        [(
            http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn material_flag_parses_strictly() {
        assert!(!material_flag(None).unwrap());
        assert!(material_flag(Some("material=true")).unwrap());
        assert!(material_flag(Some("material")).unwrap());
        assert!(!material_flag(Some("material=0")).unwrap());
        assert!(material_flag(Some("material=yes")).is_err());
        assert!(material_flag(Some("materiel=true")).is_err());
    }

    #[test]
    fn token_comparison() {
        assert!(token_matches("secret-admin-token", "secret-admin-token"));
        assert!(!token_matches("secret-admin-tokeX", "secret-admin-token"));
    }
}
