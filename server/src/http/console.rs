//! The console's edge: who is signed in (the session cookie the admin token is exchanged for,
//! see [`console_session`](super::console_session)), and its pages answered as whole documents
//! under the console's content policy.

use super::console_session::SessionKeys;
use crate::error::ApiError;
use crate::infra::cookies::{self, ADMIN_SESSION_COOKIE};
use crate::state::AppState;
use crate::storage::ConsoleSessionStore;
use app::ErrorCode;
use app::console::{ConsolePage, SIGN_IN_PATH, console_document};
use axum::extract::FromRequestParts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, header};
use std::sync::Arc;

/// The console's content policy: no script at all (its pages have none), no framing, forms
/// post only to the service. The charts' SVG carries inline styles.
pub const CONSOLE_SECURITY_POLICY: &str = "default-src 'self'; script-src 'none'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The keys sessions are signed with; without an admin token the console is off.
pub fn session_keys(state: &AppState) -> Result<&Arc<SessionKeys>, ApiError> {
    state.edge.console_sessions.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::AdminDisabled,
            "the console is off: set admin_token to enable it",
        )
    })
}

/// A signed-in operator; without a valid session (none, expired, or signed out: storage says,
/// so a sign-out on one instance holds on all), the answer is a redirect to sign in.
pub struct ConsoleSession;

impl ConsoleSession {
    /// The cookie that starts a new session.
    pub fn start(state: &AppState, keys: &SessionKeys) -> HeaderValue {
        let token = keys.issue(state.consent.clock.now());
        let lifetime = keys.lifetime().to_std().unwrap_or_default();
        state.consent.cookies.admin_session(token, lifetime)
    }

    /// Ends the session the request carries, if any, for every instance: its id is kept as
    /// revoked until it would have expired. Then the cookie that ends it in the browser.
    pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<HeaderValue, ApiError> {
        let keys = session_keys(state)?;
        let now = state.consent.clock.now();
        if let Some(session) =
            cookies::read(headers, ADMIN_SESSION_COOKIE).and_then(|token| keys.session(&token, now))
        {
            let store: &dyn ConsoleSessionStore = &*state.consent.storage;
            store
                .revoke_console_session(&session.id, session.expires_at)
                .await?;
            tracing::info!(event = "console_signed_out");
        }
        Ok(state.consent.cookies.admin_session_ended())
    }
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let keys = session_keys(state).map_err(IntoResponse::into_response)?;
        let now = state.consent.clock.now();
        let Some(session) = cookies::read(&parts.headers, ADMIN_SESSION_COOKIE)
            .and_then(|token| keys.session(&token, now))
        else {
            return Err(Redirect::to(SIGN_IN_PATH).into_response());
        };
        // One primary-key lookup per console request: the console is used by a few people.
        let store: &dyn ConsoleSessionStore = &*state.consent.storage;
        match store.is_console_session_revoked(&session.id).await {
            Ok(false) => Ok(Self),
            Ok(true) => Err(Redirect::to(SIGN_IN_PATH).into_response()),
            Err(unreadable) => Err(ApiError::from(unreadable).into_response()),
        }
    }
}

/// Renders a console page: a whole document, on the server only.
pub fn render(page: ConsolePage) -> Response {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONSOLE_SECURITY_POLICY),
        )],
        Html(console_document(page)),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_console_policy_forbids_framing_and_every_script() {
        let policy = CONSOLE_SECURITY_POLICY;
        assert!(policy.contains("script-src 'none';"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(policy.contains("form-action 'self'"));
        assert!(!policy.contains("'unsafe-eval'"));
    }
}
