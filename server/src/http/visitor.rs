//! The SSAID middleware: every visitor gets a signed, server-issued identifier (notice §01).

use super::edge::client_ip_of;
use crate::domain::claims::{CONSENT_AUDIENCE, SSAID_AUDIENCE};
use crate::domain::risk::CounterKind;
use crate::domain::{ConsentClaims, Ssaid, SsaidClaims, TerminalType};
use crate::error::ApiError;
use crate::infra::cookies;
use crate::service::Visitor;
use crate::state::AppState;
use crate::storage::SsaidRecord;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use chrono::DateTime;
use http::HeaderValue;
use http::request::Parts;
use std::time::Duration;

// The visitor behind a request, as established by [`ensure_ssaid`].
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

/// Trusts a valid `zc_ssaid` (`__Host-zc_ssaid` when cookies are `Secure`: a plain `zc_ssaid`
/// is then ignored, as a sibling subdomain may have planted it); otherwise (none, tampered,
/// expired, foreign-signed) issues a new one, within the new-visitor budget of the client's
/// network, and sets the cookie on the response. Nothing is written here: the token carries
/// the issue time and terminal type, and the SSAID is stored with the visitor's first
/// decision, so a crawler that never keeps cookies costs no rows. Cookies signed with a key
/// other than the signing one are re-issued (key rotation).
pub async fn ensure_ssaid(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let consent = &state.consent;
    let presented = cookies::read(request.headers(), consent.cookies.ssaid_name());
    if let Some(token) = &presented {
        match consent.tokens.verify::<SsaidClaims>(token, SSAID_AUDIENCE) {
            Ok(claims) => {
                let visitor = Visitor {
                    issued: SsaidRecord {
                        ssaid: claims.sub,
                        issued_at: DateTime::from_timestamp(claims.iat, 0).unwrap_or_default(),
                        terminal_type: claims.tt,
                    },
                    returning: true,
                };
                request.extensions_mut().insert(visitor);
                let reissued = reissued_with_current_key(&state, request.headers(), token);
                let mut response = next.run(request).await;
                for cookie in reissued {
                    response
                        .headers_mut()
                        .append(http::header::SET_COOKIE, cookie);
                }
                return response;
            }
            Err(reason) => {
                if reason.is_forgery() {
                    state
                        .risk
                        .count(client_ip(&state, &request), CounterKind::Forged);
                }
                tracing::warn!(event = "ssaid_rejected", %reason, "untrusted SSAID token; issuing a new one");
            }
        }
    }

    if let Some(refused) = state
        .limits
        .new_visitors
        .over_budget(&request, &state.metrics)
    {
        return refused;
    }
    state
        .risk
        .count(client_ip(&state, &request), CounterKind::Minted);
    let user_agent = request
        .headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    // Whole seconds, as the token holds them: the stored issue time equals the signed one.
    let now = DateTime::from_timestamp(consent.clock.now().timestamp(), 0).unwrap_or_default();
    let issued = SsaidRecord {
        ssaid: Ssaid::from_random_bytes(rand::random()),
        issued_at: now,
        terminal_type: TerminalType::from_user_agent(user_agent),
    };
    consent.counters.ssaid_issued();
    tracing::debug!(
        event = "ssaid_issued",
        terminal_type = issued.terminal_type.as_str()
    );
    let lifetime = i64::try_from(consent.cookies.ssaid_lifetime.as_secs()).unwrap_or(i64::MAX);
    let token = consent.tokens.sign(&SsaidClaims::new(
        issued.ssaid.clone(),
        issued.terminal_type,
        now.timestamp(),
        lifetime,
    ));
    request.extensions_mut().insert(Visitor {
        issued,
        returning: false,
    });
    let mut response = next.run(request).await;
    response.headers_mut().append(
        http::header::SET_COOKIE,
        consent.cookies.ssaid(token, consent.cookies.ssaid_lifetime),
    );
    response
}

fn client_ip(state: &AppState, request: &Request) -> Option<std::net::IpAddr> {
    client_ip_of(
        request.headers(),
        request.extensions(),
        &state.edge.trusted_proxies,
    )
}

/// The visitor's valid SSAID and consent cookies that a key other than the signing one signed
/// (during a key rotation), signed again with the signing key: same claims, same expiry, so the
/// rotation completes on each visitor's next request without changing anything they chose.
fn reissued_with_current_key(
    state: &AppState,
    headers: &http::HeaderMap,
    ssaid_token: &str,
) -> Vec<HeaderValue> {
    let consent = &state.consent;
    let tokens = &consent.tokens;
    let now = consent.clock.now().timestamp();
    let remaining = |exp: i64| Duration::from_secs(u64::try_from(exp - now).unwrap_or(0));
    let mut cookies = Vec::new();
    if !tokens.is_signed_by_current_key(ssaid_token)
        && let Ok(claims) = tokens.verify::<SsaidClaims>(ssaid_token, SSAID_AUDIENCE)
    {
        let lifetime = remaining(claims.exp);
        cookies.push(consent.cookies.ssaid(tokens.sign(&claims), lifetime));
    }
    if let Some(token) = cookies::read(headers, cookies::CONSENT_COOKIE)
        && !tokens.is_signed_by_current_key(&token)
        && let Ok(claims) = tokens.verify::<ConsentClaims>(&token, CONSENT_AUDIENCE)
    {
        let lifetime = remaining(claims.exp);
        cookies.push(consent.cookies.consent(tokens.sign(&claims), lifetime));
    }
    cookies
}

/// Answers that depend on the visitor's identifiers (pages, the consent API, anything that sets
/// a cookie) must never be served from a shared cache to someone else: `Cache-Control:
/// no-store` unless the route chose its own, and `Vary: Cookie` for any cache that keys on it.
/// Static files (CSS, JS, WASM, images) are left alone.
pub async fn private_to_the_visitor(mut response: Response) -> Response {
    let headers = response.headers();
    let personal = headers.contains_key(http::header::SET_COOKIE)
        || headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|kind| {
                kind.starts_with("text/html") || kind.starts_with("application/json")
            });
    if !personal {
        return response;
    }
    let headers = response.headers_mut();
    if !headers.contains_key(http::header::CACHE_CONTROL) {
        headers.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
    }
    let varies_on_cookie = headers
        .get_all(http::header::VARY)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|name| name.trim().eq_ignore_ascii_case("cookie"));
    if !varies_on_cookie {
        headers.append(http::header::VARY, HeaderValue::from_static("Cookie"));
    }
    response
}
