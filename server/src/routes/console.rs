//! The operator console (`/admin`): Leptos pages rendered from what
//! [`ConsoleService`] loads, behind a signed session cookie that the admin token is exchanged
//! for. Forms are plain POSTs accepted only from the console's own pages; sign-in attempts have
//! a budget per network, and a wrong token is answered only after a second.

use crate::error::ApiError;
use crate::http::admin::token_matches;
use crate::http::console_session::SessionKeys;
use crate::http::query::Params;
use crate::http::response::{export_download, receipt_download};
use crate::http::{AppForm, ConsentId, PublicBase, check_own_page, limit_body, with_cookies};
use crate::infra::cookies::{self, ADMIN_SESSION_COOKIE};
use crate::service::ConsentService;
use crate::service::console::export::ExportRequest;
use crate::service::console::{ConsoleService, PolicyOutcome};
use crate::state::AppState;
use app::ErrorCode;
use app::console::{
    CONSOLE_PATH, ConsolePage, EXPORT_PATH, OPERATIONS_PATH, POLICIES_PATH, POLICY_PREVIEW_PATH,
    POLICY_PUBLISH_PATH, PROOF_PATH, PoliciesPage, SIGN_IN_PATH, SIGN_OUT_PATH, console_document,
};
use axum::Router;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequestParts, Multipart, Request, State};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

/// Console forms are a token or a few fields.
const MAX_FORM_BYTES: usize = 4 * 1024;
/// A policy file (1 MiB, as the admin API takes) in a form.
const MAX_POLICY_FORM_BYTES: usize = 2 * 1024 * 1024;

pub fn router(state: &AppState) -> Router<AppState> {
    let own_pages =
        |router: Router<AppState>| router.layer(from_fn_with_state(state.clone(), own_pages_only));
    // The sign-in budget is outermost: posts refused as cross-site spend it too. Only POSTs
    // count against it (the layer passes safe methods).
    let sign_in = own_pages(Router::new().route(SIGN_IN_PATH, get(sign_in_page).post(sign_in)))
        .layer(state.limits.sign_in.layer(Arc::clone(&state.metrics)));
    let pages = own_pages(
        Router::new()
            .route(CONSOLE_PATH, get(overview))
            .route(PROOF_PATH, get(proof))
            .route("/admin/proof/{id}/receipt", get(receipt))
            .route(EXPORT_PATH, get(export))
            .route(POLICIES_PATH, get(policies))
            .route(OPERATIONS_PATH, get(operations))
            .route(SIGN_OUT_PATH, post(sign_out)),
    );
    // A policy file with every language is larger than any other form.
    let publishing = own_pages(
        Router::new()
            .route(POLICY_PREVIEW_PATH, post(preview_policy))
            .route(POLICY_PUBLISH_PATH, post(publish_policy)),
    );
    limit_body(pages.merge(sign_in), MAX_FORM_BYTES)
        .merge(limit_body(publishing, MAX_POLICY_FORM_BYTES))
        .layer(map_response(private_answers))
}

/// State-changing requests only from the console's own pages.
async fn own_pages_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    match check_own_page(&state.edge, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

/// What the console shows is for the signed-in operator only: never cached, never indexed.
async fn private_answers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}

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

/// A signed-in operator; without a valid session, the answer is a redirect to sign in.
pub struct ConsoleSession;

impl ConsoleSession {
    /// The cookie that starts a new session.
    pub fn start(state: &AppState, keys: &SessionKeys) -> HeaderValue {
        let token = keys.issue(state.consent.clock.now());
        let lifetime = keys.lifetime().to_std().unwrap_or_default();
        state.consent.cookies.admin_session(token, lifetime)
    }

    /// The cookie that ends the session.
    pub fn end(state: &AppState) -> HeaderValue {
        state.consent.cookies.admin_session_ended()
    }
}

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let keys = session_keys(state).map_err(IntoResponse::into_response)?;
        match cookies::read(&parts.headers, ADMIN_SESSION_COOKIE) {
            Some(token) if keys.is_valid(&token, state.consent.clock.now()) => Ok(Self),
            _ => Err(Redirect::to(SIGN_IN_PATH).into_response()),
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

/// How long a wrong token waits for its answer.
const WRONG_TOKEN_DELAY: Duration = Duration::from_secs(1);

/// `GET /admin/sign-in`: the form.
async fn sign_in_page(State(state): State<AppState>) -> Response {
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
async fn sign_in(
    State(state): State<AppState>,
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
        tracing::warn!(event = "console_sign_in_refused", "wrong admin token");
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

/// `POST /admin/sign-out`: the session cookie expired, back to the sign-in form.
async fn sign_out(State(state): State<AppState>) -> Response {
    with_cookies(
        Redirect::to(SIGN_IN_PATH).into_response(),
        vec![ConsoleSession::end(&state)],
    )
}

/// The ranges the overview offers.
const RANGES: [u32; 2] = [30, 90];

/// `GET /admin[?days=30|90]`: decisions as charts and tables, from the daily counts.
async fn overview(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let days = match params.take("days") {
        None => RANGES[0],
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|days| RANGES.contains(days))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("days must be 30 or 90, not {raw:?}"),
                )
            })?,
    };
    params.finish()?;
    let overview = console.overview_page(days).await?;
    Ok(render(ConsolePage::Overview { days, overview }))
}

/// `GET /admin/proof?q=CONSENT_ID|SSAID`: the visitor's decisions with every proof field.
async fn proof(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let query = params.take("q").unwrap_or_default();
    params.finish()?;
    let outcome = console.proof(&query).await?;
    Ok(render(ConsolePage::Proof { query, outcome }))
}

/// `GET /admin/proof/{id}/receipt`: the decision's signed receipt, as a download.
async fn receipt(
    State(consent): State<Arc<ConsentService>>,
    _session: ConsoleSession,
    PublicBase(base): PublicBase,
    ConsentId(id): ConsentId,
) -> Result<Response, ApiError> {
    let receipt = consent
        .receipt(id, None, &base)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ConsentNotFound, "no decision has this id"))?;
    Ok(receipt_download(id, receipt))
}

/// `GET /admin/export`: the form; with `from`, `to` and `format`, the file itself, streamed.
async fn export(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let from = params.take("from");
    let to = params.take("to");
    let format = params.take("format");
    params.finish()?;
    let (Some(from), Some(to), Some(format)) = (from, to, format) else {
        let days = console.export_days();
        let page = ConsolePage::Export {
            from: days.from.to_string(),
            to: days.to.to_string(),
        };
        return Ok(render(page));
    };
    tracing::info!(event = "console_export", %from, %to, %format);
    let request = ExportRequest::parse(&from, &to, &format)?;
    Ok(export_download(console.export(request)))
}

/// `GET /admin/policies[?from=V&to=V]`: the versions, and the diff between two of them.
async fn policies(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let diff = params.take("from").zip(params.take("to"));
    params.finish()?;
    let (page, outcome) = console.policies(diff).await;
    Ok(answer(page, outcome))
}

/// `POST /admin/policies/preview` (multipart: `file`, `material`): checks the file as the
/// command line does and compares it with the current version; publishes nothing.
async fn preview_policy(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    mut form: Multipart,
) -> Result<Response, ApiError> {
    let mut source = None;
    let mut material = false;
    let unreadable = |err: MultipartError| ApiError::new(ErrorCode::BadRequest, err.body_text());
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("file") => {
                let bytes = field.bytes().await.map_err(unreadable)?;
                source = Some(String::from_utf8(bytes.to_vec()).map_err(|_| {
                    ApiError::new(
                        ErrorCode::InvalidEncoding,
                        "the policy file must be UTF-8 text",
                    )
                })?);
            }
            Some("material") => material = field.text().await.map_err(unreadable)? == "true",
            other => {
                return Err(ApiError::new(
                    ErrorCode::UnknownField,
                    format!("unknown form field {:?}", other.unwrap_or_default()),
                ));
            }
        }
    }
    let source = source
        .filter(|source| !source.trim().is_empty())
        .ok_or_else(|| ApiError::new(ErrorCode::BadRequest, "choose a policy file to upload"))?;
    let (page, outcome) = console.preview_policy(source, material).await;
    Ok(answer(page, outcome))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishForm {
    source: String,
    material: Option<String>,
}

/// `POST /admin/policies/publish` (`source`, `material`): publishes with the same checks as
/// the command line and the admin API (201 new, 200 already published, 409, 422).
async fn publish_policy(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    AppForm(form): AppForm<PublishForm>,
) -> Result<Response, ApiError> {
    let material = form.material.as_deref() == Some("true");
    let (page, outcome) = console.publish_policy(&form.source, material).await?;
    let response = answer(page, outcome);
    tracing::info!(
        event = "console_policy_publish",
        status = response.status().as_u16()
    );
    Ok(response)
}

/// The policies page, with the status of what it came to.
fn answer(page: PoliciesPage, outcome: PolicyOutcome) -> Response {
    let status = match outcome {
        PolicyOutcome::Shown | PolicyOutcome::Unchanged => StatusCode::OK,
        PolicyOutcome::Published => StatusCode::CREATED,
        PolicyOutcome::UnknownVersion => StatusCode::NOT_FOUND,
        PolicyOutcome::Conflict => StatusCode::CONFLICT,
        PolicyOutcome::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, render(ConsolePage::Policies(page))).into_response()
}

/// `GET /admin/operations`: this instance's gate and risk counters over the last hours, and
/// the erasures carried through to Matomo.
async fn operations(
    State(console): State<Arc<ConsoleService>>,
    _session: ConsoleSession,
    params: Params,
) -> Result<Response, ApiError> {
    params.finish()?;
    Ok(render(ConsolePage::Operations(console.operations().await?)))
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
