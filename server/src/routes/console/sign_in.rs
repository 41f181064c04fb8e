//! `/admin/sign-in` and `/admin/sign-out`: the admin token exchanged for a session cookie, and
//! the session ended (revoked in storage, so a copy of its cookie no longer works). A wrong
//! token is answered only after a second.

use crate::error::ApiError;
use crate::http::admin::{WRONG_TOKEN_DELAY, token_matches};
use crate::http::console::{ConsoleSession, render, session_keys};
use crate::http::{AppForm, with_cookies};
use crate::state::AppState;
use app::console::{CONSOLE_PATH, ConsolePage, SIGN_IN_PATH};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;

/// `GET /admin/sign-in`: the form.
pub async fn page(State(state): State<AppState>) -> Response {
    if let Err(disabled) = session_keys(&state) {
        return disabled.into_response();
    }
    render(ConsolePage::SignIn { error: None })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInForm {
    token: Option<String>,
}

/// `POST /admin/sign-in`: exchanges the admin token for a session cookie, then on to the
/// overview.
pub async fn sign_in(
    State(state): State<AppState>,
    request: Parts,
    AppForm(form): AppForm<SignInForm>,
) -> Result<Response, ApiError> {
    let keys = session_keys(&state)?;
    let expected = state
        .edge
        .admin_token
        .as_ref()
        .expect("sessions exist only with an admin token");
    let presented = form.token.unwrap_or_default();
    let counters = &state.consent.counters;
    if !token_matches(presented.trim(), expected.expose_secret()) {
        counters.sign_in("wrong_token");
        let network = state
            .limits
            .sign_in
            .network_of(&request.headers, &request.extensions);
        // The admin API's bearer attempts from this network now spend the budget too.
        state.limits.wrong_admin_tokens.record(network);
        tracing::warn!(event = "console_sign_in_refused", %network, "wrong admin token");
        tokio::time::sleep(WRONG_TOKEN_DELAY).await;
        let page = ConsolePage::SignIn {
            error: Some("That is not the admin token.".to_owned()),
        };
        return Ok((StatusCode::UNAUTHORIZED, render(page)).into_response());
    }
    counters.sign_in("signed_in");
    tracing::info!(event = "console_signed_in");
    Ok(with_cookies(
        Redirect::to(CONSOLE_PATH).into_response(),
        vec![ConsoleSession::start(&state, keys)],
    ))
}

/// `POST /admin/sign-out`: the session revoked for every instance and its cookie expired, back
/// to the sign-in form.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let ended = ConsoleSession::end(&state, &headers).await?;
    Ok(with_cookies(
        Redirect::to(SIGN_IN_PATH).into_response(),
        vec![ended],
    ))
}
