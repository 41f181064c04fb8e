//! The operator console (`/admin`): Leptos pages rendered from data loaded here, behind a
//! signed session cookie that the admin token is exchanged for. Forms are plain POSTs accepted
//! only from the console's own pages; sign-in attempts have a budget per network, and a wrong
//! token is answered only after a second.

use crate::domain::statistics::day_range;
use crate::domain::{Ssaid, policy_diff};
use crate::error::ApiError;
use crate::http::admin::token_matches;
use crate::http::console_session::SessionKeys;
use crate::http::query::Params;
use crate::http::response::receipt_download;
use crate::http::{AppForm, ConsentId, PublicBase, check_own_page, limit_body};
use crate::infra::cookies::{self, ADMIN_SESSION_COOKIE};
use crate::service::console::export::{DayRange, ExportFormat, Exporter, body_stream};
use crate::service::console::{charts, history};
use crate::service::policies::{PublishError, Published};
use crate::state::AppState;
use crate::storage::{ConsentEvent, JobSelection};
use app::ErrorCode;
use app::console::{
    CONSOLE_PATH, ConsolePage, CounterTable, EXPORT_PATH, ErasureJobRow, Notice, OPERATIONS_PATH,
    OperationsPage, POLICIES_PATH, POLICY_PREVIEW_PATH, POLICY_PUBLISH_PATH, PROOF_PATH,
    PendingPublish, PoliciesPage, PolicyDiff, ProofEvent, ProofOutcome, SIGN_IN_PATH,
    SIGN_OUT_PATH, VersionRow, console_document,
};
use app::domain::Policy;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::TimeDelta;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

/// Console forms are a token or a few fields.
const MAX_FORM_BYTES: usize = 4 * 1024;
/// A policy file (1 MiB, as the admin API takes) in a form.
const MAX_POLICY_FORM_BYTES: usize = 2 * 1024 * 1024;
/// How long a wrong token waits for its answer.
const WRONG_TOKEN_DELAY: Duration = Duration::from_secs(1);
/// The ranges the overview offers.
const RANGES: [u32; 2] = [30, 90];

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

fn sessions(state: &AppState) -> Result<&Arc<SessionKeys>, ApiError> {
    state.edge.console_sessions.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::AdminDisabled,
            "the console is off: set admin_token to enable it",
        )
    })
}

/// A signed-in operator; without a valid session, the answer is a redirect to sign in.
pub struct ConsoleSession;

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let keys = sessions(state).map_err(IntoResponse::into_response)?;
        match cookies::read(&parts.headers, ADMIN_SESSION_COOKIE) {
            Some(token) if keys.is_valid(&token, state.consent.clock.now()) => Ok(Self),
            _ => Err(Redirect::to(SIGN_IN_PATH).into_response()),
        }
    }
}

/// Renders a console page: a whole document, on the server only.
fn render(page: ConsolePage) -> Response {
    (
        [(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONSOLE_SECURITY_POLICY),
        )],
        Html(console_document(page)),
    )
        .into_response()
}

async fn sign_in_page(State(state): State<AppState>) -> Response {
    if let Err(disabled) = sessions(&state) {
        return disabled.into_response();
    }
    render(ConsolePage::SignIn { error: None })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SignInForm {
    token: Option<String>,
}

/// Exchanges the admin token for a session cookie, then on to the overview.
async fn sign_in(
    State(state): State<AppState>,
    AppForm(form): AppForm<SignInForm>,
) -> Result<Response, ApiError> {
    let keys = sessions(&state)?;
    let expected = state
        .edge
        .admin_token
        .as_ref()
        .expect("sessions exist only with an admin token");
    let presented = form.token.unwrap_or_default();
    let matches = token_matches(presented.trim(), expected.expose_secret());
    let counters = &state.consent.counters;
    if !matches {
        counters.sign_in("wrong_token");
        tracing::warn!(event = "console_sign_in_refused", "wrong admin token");
        tokio::time::sleep(WRONG_TOKEN_DELAY).await;
        let page = ConsolePage::SignIn {
            error: Some("That is not the admin token.".to_owned()),
        };
        let mut response = render(page);
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        return Ok(response);
    }
    counters.sign_in("signed_in");
    tracing::info!(event = "console_signed_in");
    let token = keys.issue(state.consent.clock.now());
    let lifetime = keys.lifetime().to_std().unwrap_or_default();
    let mut response = Redirect::to(CONSOLE_PATH).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        state.consent.cookies.admin_session(token, lifetime),
    );
    Ok(response)
}

async fn sign_out(State(state): State<AppState>) -> Response {
    let mut response = Redirect::to(SIGN_IN_PATH).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        state.consent.cookies.admin_session_ended(),
    );
    response
}

/// `GET /admin[?days=30|90]`: decisions as charts and tables, from the daily counts.
async fn overview(
    State(state): State<AppState>,
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
    let mut overview = build_overview(&state, days).await?;
    overview.charts = charts::draw_all(&overview);
    Ok(render(ConsolePage::Overview { days, overview }))
}

/// The overview of the last `days` days (today included), without its charts.
pub async fn build_overview(
    state: &AppState,
    days: u32,
) -> Result<app::console::Overview, ApiError> {
    let now = state.consent.clock.now();
    let range = day_range(now.date_naive(), days);
    let policy = state.consent.policies.cached().current().policy.clone();
    let categories: Vec<String> = policy
        .categories
        .iter()
        .filter(|category| !category.required())
        .map(|category| category.id.to_string())
        .collect();
    Ok(state
        .day_summaries
        .overview(state.consent.storage.as_ref(), now, &range, &categories)
        .await?)
}

/// `GET /admin/proof?q=CONSENT_ID|SSAID`: the visitor's decisions with every proof field.
async fn proof(
    State(state): State<AppState>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let query = params.take("q").unwrap_or_default();
    params.finish()?;
    let outcome = if query.trim().is_empty() {
        None
    } else {
        Some(find_proof(&state, query.trim()).await?)
    };
    Ok(render(ConsolePage::Proof { query, outcome }))
}

async fn find_proof(state: &AppState, query: &str) -> Result<ProofOutcome, ApiError> {
    let storage = &state.consent.storage;
    let (ssaid, matched) = if let Ok(id) = uuid::Uuid::parse_str(query) {
        match storage.find_consent_event(id).await? {
            Some(event) => (event.ssaid, Some(id.to_string())),
            None => {
                return Ok(ProofOutcome::NotFound(format!(
                    "No decision has the consent id {id} (it may have been erased or purged)."
                )));
            }
        }
    } else if let Ok(ssaid) = Ssaid::parse(query) {
        (ssaid, None)
    } else {
        return Ok(ProofOutcome::Invalid(format!(
            "{query:?} is neither a consent id (a UUID) nor an SSAID."
        )));
    };
    let events = storage.consent_events_for(&ssaid).await?;
    if events.is_empty() {
        return Ok(ProofOutcome::NotFound(format!(
            "No decision is stored under the SSAID {}.",
            ssaid.as_str()
        )));
    }
    let snapshot = state.consent.policies.current().await;
    let parent_domain = state.consent.cookies.consent_domain.as_deref();
    let events = events
        .into_iter()
        .map(|event| proof_event(&state.consent, &snapshot, parent_domain, event))
        .collect();
    Ok(ProofOutcome::Found {
        ssaid: ssaid.as_str().to_owned(),
        matched,
        events,
    })
}

fn proof_event(
    consent: &crate::service::ConsentService,
    snapshot: &crate::service::policies::PolicySnapshot,
    parent_domain: Option<&str>,
    event: ConsentEvent,
) -> ProofEvent {
    let shown = snapshot
        .find(event.policy_version.as_str())
        .map(|published| published.policy.view(&event.language, parent_domain));
    let id = event.id.to_string();
    ProofEvent {
        revoked: consent.revoked.contains(&id),
        id,
        decided_at: event.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        action: event.action.as_str().to_owned(),
        source: event.source.as_str().to_owned(),
        categories: event.categories,
        policy_version: event.policy_version.to_string(),
        policy_hash: event.policy_hash,
        banner_text_hash: event.banner_text_hash,
        language: event.language,
        ip_prefix: event.ip_prefix,
        terminal_type: event.ua_class.as_str().to_owned(),
        origin: event.origin,
        shown,
    }
}

/// `GET /admin/proof/{id}/receipt`: the decision's signed receipt, as a download.
async fn receipt(
    State(state): State<AppState>,
    _session: ConsoleSession,
    PublicBase(base): PublicBase,
    ConsentId(id): ConsentId,
) -> Result<Response, ApiError> {
    let receipt = state
        .consent
        .receipt(id, None, &base)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::ConsentNotFound, "no decision has this id"))?;
    Ok(receipt_download(id, receipt))
}

/// `GET /admin/export`: the form; with `from`, `to` and `format`, the file itself, streamed.
async fn export(
    State(state): State<AppState>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let from = params.take("from");
    let to = params.take("to");
    let format = params.take("format");
    params.finish()?;
    let (Some(from), Some(to), Some(format)) = (from, to, format) else {
        let today = state.consent.clock.now().date_naive();
        let page = ConsolePage::Export {
            from: (today - TimeDelta::days(29)).to_string(),
            to: today.to_string(),
        };
        return Ok(render(page));
    };
    tracing::info!(event = "console_export", %from, %to, %format);
    export_download(Arc::clone(&state.consent.storage), &from, &to, &format)
}

/// The export of the UTC days `from` to `to` in `format` (`csv`, `jsonl`), streamed; 400
/// `invalid_parameter` for a range or format that is not one.
pub fn export_download(
    storage: Arc<dyn crate::storage::Storage>,
    from: &str,
    to: &str,
    format: &str,
) -> Result<Response, ApiError> {
    let range = DayRange::parse(from, to)
        .map_err(|message| ApiError::new(ErrorCode::InvalidParameter, message))?;
    let format = ExportFormat::parse(format).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("format must be csv or jsonl, not {format:?}"),
        )
    })?;
    Ok(export_response(
        Exporter::new(storage, range, format),
        range,
        format,
    ))
}

/// The export as a streamed download.
fn export_response(exporter: Exporter, range: DayRange, format: ExportFormat) -> Response {
    let filename = format!(
        "attachment; filename=\"consent-decisions-{}-to-{}.{}\"",
        range.from,
        range.to,
        format.extension()
    );
    let mut response = Body::from_stream(body_stream(exporter)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&filename).expect("dates and extensions are valid header text"),
    );
    response
}

/// The published versions, as the policies page lists them.
async fn policies_page(state: &AppState) -> PoliciesPage {
    let snapshot = state.consent.policies.current().await;
    PoliciesPage {
        versions: snapshot
            .records()
            .map(|record| VersionRow {
                version: record.version.to_string(),
                published_at: record.published_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                hash: record.hash.clone(),
                material: record.material,
            })
            .collect(),
        ..PoliciesPage::default()
    }
}

fn error_notice(text: impl Into<String>) -> Option<Notice> {
    Some(Notice {
        error: true,
        text: text.into(),
    })
}

/// `GET /admin/policies[?from=V&to=V]`: the versions, and the diff between two of them.
async fn policies(
    State(state): State<AppState>,
    _session: ConsoleSession,
    mut params: Params,
) -> Result<Response, ApiError> {
    let from = params.take("from");
    let to = params.take("to");
    params.finish()?;
    let mut page = policies_page(&state).await;
    let mut status = StatusCode::OK;
    if let (Some(from), Some(to)) = (from, to) {
        let snapshot = state.consent.policies.current().await;
        match (snapshot.find(&from), snapshot.find(&to)) {
            (Some(before), Some(after)) => {
                page.diff = Some(PolicyDiff {
                    changes: policy_diff::diff(&before.policy, &after.policy),
                    from,
                    to,
                });
            }
            _ => {
                status = StatusCode::NOT_FOUND;
                page.notice = error_notice(format!("{from} or {to} is not a published version."));
            }
        }
    }
    let mut response = render(ConsolePage::Policies(page));
    *response.status_mut() = status;
    Ok(response)
}

/// `POST /admin/policies/preview` (multipart: `file`, `material`): checks the file as the
/// command line does and compares it with the current version; publishes nothing.
async fn preview_policy(
    State(state): State<AppState>,
    _session: ConsoleSession,
    mut form: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    let mut source = None;
    let mut material = false;
    let unreadable = |err: axum::extract::multipart::MultipartError| {
        ApiError::new(ErrorCode::BadRequest, err.body_text())
    };
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
    let mut page = policies_page(&state).await;
    let status = match Policy::from_toml(&source) {
        Err(invalid) => {
            page.notice = error_notice(format!("The file is not a valid policy: {invalid}"));
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Ok(uploaded) => {
            let snapshot = state.consent.policies.current().await;
            let current = snapshot.current();
            page.diff = Some(PolicyDiff {
                from: current.record.version.to_string(),
                to: format!("{} (uploaded)", uploaded.version),
                changes: policy_diff::diff(&current.policy, &uploaded),
            });
            page.pending = Some(PendingPublish {
                version: uploaded.version.to_string(),
                source,
                material,
            });
            StatusCode::OK
        }
    };
    Ok(render_policies(page, status))
}

/// The policies page as the answer to one of its forms.
fn render_policies(page: PoliciesPage, status: StatusCode) -> Response {
    let mut response = render(ConsolePage::Policies(page));
    *response.status_mut() = status;
    response
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishForm {
    source: String,
    material: Option<String>,
}

/// `POST /admin/policies/publish` (`source`, `material`): publishes with the same checks as
/// the command line and the admin API (201 new, 200 already published, 409, 422).
async fn publish_policy(
    State(state): State<AppState>,
    _session: ConsoleSession,
    AppForm(form): AppForm<PublishForm>,
) -> Result<Response, ApiError> {
    let material = form.material.as_deref() == Some("true");
    let outcome = state.consent.policies.publish(&form.source, material).await;
    let (status, notice) = match outcome {
        Ok(Published::New(record)) => (
            StatusCode::CREATED,
            Notice {
                error: false,
                text: format!(
                    "Version {} is published{}.",
                    record.version,
                    if material {
                        " as a material change: visitors are asked again"
                    } else {
                        ""
                    }
                ),
            },
        ),
        Ok(Published::Unchanged(record)) => (
            StatusCode::OK,
            Notice {
                error: false,
                text: format!(
                    "Version {} was already published with this content.",
                    record.version
                ),
            },
        ),
        Err(PublishError::Storage(err)) => return Err(err.into()),
        Err(refused @ PublishError::Conflict { .. }) => (
            StatusCode::CONFLICT,
            Notice {
                error: true,
                text: refused.to_string(),
            },
        ),
        Err(refused @ PublishError::Invalid(_)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Notice {
                error: true,
                text: refused.to_string(),
            },
        ),
    };
    tracing::info!(event = "console_policy_publish", status = status.as_u16());
    let mut page = policies_page(&state).await;
    page.notice = Some(notice);
    Ok(render_policies(page, status))
}

/// The operations page's steps.
const OPERATIONS_BUCKET_MINUTES: u32 = 10;

/// `GET /admin/operations`: this instance's gate and risk counters over the last hours, and
/// the erasures carried through to Matomo.
async fn operations(
    State(state): State<AppState>,
    _session: ConsoleSession,
    params: Params,
) -> Result<Response, ApiError> {
    params.finish()?;
    let bucket = TimeDelta::minutes(i64::from(OPERATIONS_BUCKET_MINUTES));
    let exposition = state.metrics.encode();
    let table = |id: &str, title: &str, tracked: &[history::Tracked]| {
        let totals = history::totals(&exposition, tracked);
        CounterTable {
            id: id.to_owned(),
            title: title.to_owned(),
            columns: tracked
                .iter()
                .map(|series| series.title.to_owned())
                .collect(),
            rows: state
                .history
                .increments(tracked, bucket)
                .into_iter()
                .map(|(at, values)| (at.format("%H:%M").to_string(), values))
                .collect(),
            totals: tracked
                .iter()
                .map(|series| totals.get(series.key).copied().unwrap_or(0.0) as u64)
                .collect(),
        }
    };
    let tables = vec![
        table("gate", "Matomo gate", &history::GATE),
        table("risk", "Risk control", &history::RISK),
    ];
    let charts = tables
        .iter()
        .map(|table| {
            let labels: Vec<String> = table.rows.iter().map(|(at, _)| at.clone()).collect();
            let series: Vec<(String, Vec<Option<f64>>)> = table
                .columns
                .iter()
                .enumerate()
                .map(|(position, column)| {
                    let points = table
                        .rows
                        .iter()
                        .map(|(_, values)| Some(values[position] as f64))
                        .collect();
                    (column.clone(), points)
                })
                .collect();
            charts::chart(
                &format!("chart-{}", table.id),
                &format!("{} per {OPERATIONS_BUCKET_MINUTES} minutes", table.title),
                |svg| {
                    charts::line_chart(
                        &labels,
                        "Time (UTC)",
                        &series,
                        charts::Scale::Count("Count"),
                        svg,
                    )
                },
            )
        })
        .collect();
    let storage = &state.consent.storage;
    let open_erasures = storage
        .matomo_jobs(JobSelection::Open)
        .await?
        .into_iter()
        .map(|job| ErasureJobRow {
            erasure_id: job.erasure_id.to_string(),
            state: job.state.as_str().to_owned(),
            attempts: job.attempts,
            next_attempt_at: job.next_attempt_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            last_error: job.last_error,
        })
        .collect();
    let page = OperationsPage {
        started_at: state
            .history
            .started_at()
            .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default(),
        bucket_minutes: OPERATIONS_BUCKET_MINUTES,
        gate_configured: state.matomo.is_some(),
        tables,
        charts,
        erasures_configured: state.matomo_eraser.is_some(),
        erasure_counts: storage.matomo_job_counts().await?,
        open_erasures,
    };
    Ok(render(ConsolePage::Operations(page)))
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
