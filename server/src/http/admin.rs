//! Who may use the admin API (the bearer `admin_token`) and the assessment API (a configured
//! back end's token), compared as digests without timing leaks. Attempts at the admin token
//! share the console sign-in's budget per network and its delay for a wrong token.

use crate::error::ApiError;
use crate::state::AppState;
use app::ErrorCode;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a wrong admin token waits for its answer, at the console's sign-in and on the API.
pub const WRONG_TOKEN_DELAY: Duration = Duration::from_secs(1);

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
pub(crate) fn token_matches(presented: &str, expected: &str) -> bool {
    Sha256::digest(presented.as_bytes()) == Sha256::digest(expected.as_bytes())
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(expected) = &state.edge.admin_token else {
            return Err(ApiError::new(
                ErrorCode::AdminDisabled,
                "the admin API is off: set admin_token to enable it",
            )
            .into_response());
        };
        let Some(token) = presented_token(parts) else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "send the admin token as Authorization: Bearer TOKEN",
            )
            .into_response());
        };
        let right = token_matches(token, expected.expose_secret());
        let limits = &state.limits;
        let network = limits.sign_in.network_of(&parts.headers, &parts.extensions);
        if !right {
            limits.wrong_admin_tokens.record(network);
        }
        // Checked before the answer says whether the token was right, so that over budget a
        // right guess looks like a wrong one.
        if limits.wrong_admin_tokens.is_listed(network)
            && let Some(too_many) = limits.sign_in.spend(network, &state.metrics)
        {
            tracing::warn!(
                event = "admin_token_rate_limited",
                %network,
                "admin token attempts over the sign-in budget"
            );
            return Err(too_many);
        }
        if right {
            return Ok(AdminAuth);
        }
        tracing::warn!(event = "admin_token_rejected", %network, "wrong admin token");
        tokio::time::sleep(WRONG_TOKEN_DELAY).await;
        Err(ApiError::new(ErrorCode::InvalidToken, "the admin token is not valid").into_response())
    }
}

/// For endpoints open to visitors that admins may use more widely: no `Authorization`
/// header means "not an admin"; a wrong token is still refused.
impl OptionalFromRequestParts<AppState> for AdminAuth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Response> {
        if presented_token(parts).is_none() {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

/// The back end that sent the request, by its bearer token.
#[derive(Debug, Clone)]
pub struct CallingService(pub String);

impl FromRequestParts<AppState> for CallingService {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let services = &state.edge.services;
        if services.is_empty() {
            return Err(ApiError::new(
                ErrorCode::AssessmentDisabled,
                "the assessment API is off: configure [[services]] to enable it",
            ));
        }
        let Some(token) = presented_token(parts) else {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "send your service token as Authorization: Bearer TOKEN",
            ));
        };
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        match services
            .iter()
            .find(|service| service.digest() == &presented)
        {
            Some(service) => Ok(Self(service.name.clone())),
            None => {
                tracing::warn!(event = "service_token_rejected", "wrong service token");
                Err(ApiError::new(
                    ErrorCode::InvalidToken,
                    "the service token is not valid",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_comparison() {
        assert!(token_matches("secret-admin-token", "secret-admin-token"));
        assert!(!token_matches("secret-admin-tokeX", "secret-admin-token"));
    }
}
