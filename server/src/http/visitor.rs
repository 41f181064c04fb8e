//! The SSAID middleware: every visitor gets a signed, server-issued identifier (notice §01).

use crate::cookies::{self, SSAID_COOKIE};
use crate::domain::claims::SSAID_AUDIENCE;
use crate::domain::{Ssaid, SsaidClaims, TerminalType};
use crate::error::ApiError;
use crate::state::AppState;
use crate::storage::SsaidRecord;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

/// The visitor behind a request, as established by [`ensure_ssaid`].
#[derive(Debug, Clone)]
pub struct Visitor {
    pub ssaid: Ssaid,
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| ApiError::internal("route is not behind the SSAID middleware"))
    }
}

/// Trusts a valid `zc_ssaid`; otherwise (none, tampered, expired, foreign-signed) issues a new
/// one, stores its issue time and terminal type, and sets the cookie on the response.
pub async fn ensure_ssaid(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let presented = cookies::read(request.headers(), SSAID_COOKIE);
    if let Some(token) = &presented {
        match state
            .consent
            .tokens
            .verify::<SsaidClaims>(token, SSAID_AUDIENCE)
        {
            Ok(claims) => {
                request
                    .extensions_mut()
                    .insert(Visitor { ssaid: claims.sub });
                return next.run(request).await;
            }
            Err(reason) => {
                tracing::warn!(event = "ssaid_rejected", %reason, "untrusted SSAID token; issuing a new one");
            }
        }
    }

    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let consent = &state.consent;
    let now = consent.clock.now();
    let ssaid = Ssaid::from_random_bytes(rand::random());
    let record = SsaidRecord {
        ssaid: ssaid.clone(),
        issued_at: now,
        terminal_type: TerminalType::from_user_agent(user_agent),
    };
    if let Err(err) = consent.storage.insert_ssaid(&record).await {
        return ApiError::internal(err).into_response();
    }
    tracing::debug!(
        event = "ssaid_issued",
        terminal_type = record.terminal_type.as_str()
    );
    let lifetime = i64::try_from(consent.cookies.ssaid_lifetime.as_secs()).unwrap_or(i64::MAX);
    let token = consent
        .tokens
        .sign(&SsaidClaims::new(ssaid.clone(), now.timestamp(), lifetime));
    request.extensions_mut().insert(Visitor { ssaid });
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .append(http::header::SET_COOKIE, consent.cookies.ssaid(token));
    response
}
