//! `POST /api/v1/observations`: the passive report of the cookies and storage keys an
//! embedding page holds that the registry does not declare (issue 31), sent by the module the
//! embed loader imports. Names only, never values; anonymous (no cookie is needed or read, no
//! SSAID is issued); from allowed embedding origins only (checked before the body is read),
//! within a budget of its own per client network, bounded in size.

use crate::domain::observations::{ChoiceInForce, MAX_NAME_LENGTH, MAX_NAMES_PER_REPORT};
use crate::error::{ApiError, AppJson};
use crate::http::edge::Edge;
use crate::http::origin::recorded_origin;
use crate::http::{check_origin, embed_cors};
use crate::service::observations::Observations;
use crate::state::AppState;
use app::ErrorCode;
use app::domain::IdentifierKind;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(report))]
pub struct Api;

/// The report route, behind its own budget (outermost: a refused request costs nothing
/// more) and answered cross-origin for the embedding sites. Body size: the visitor-facing
/// limit it is merged under.
pub fn router(state: &AppState) -> Router<AppState> {
    // The origin first, before the body is read: another site's page is refused unread.
    let allowed_pages_only = |State(edge): State<Arc<Edge>>, request: Request, next: Next| async move {
        match check_origin(&edge, request.headers(), true) {
            Ok(()) => next.run(request).await,
            Err(refused) => refused.into_response(),
        }
    };
    Router::new()
        .route("/api/v1/observations", post(report))
        .route_layer(from_fn_with_state(state.clone(), allowed_pages_only))
        .route_layer(state.limits.observations.layer(Arc::clone(&state.metrics)))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not accept that method",
            )
        })
        .layer(embed_cors(state))
}

/// What the report module (`embed/observe.js`) sends.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "names": [
        {"kind": "cookie", "name": "ab_bucket"},
        {"kind": "local_storage", "name": "feature_flags"}
    ],
    "choice": "rejected"
}))]
pub struct ObservationReport {
    /// The undeclared names the page holds, at most 64 (the module leaves declared ones out;
    /// the service checks again).
    #[schema(min_items = 1, max_items = 64)]
    names: Vec<ReportedName>,
    /// The choice in force on the page: none made yet, every optional category accepted, none,
    /// or some.
    choice: ChoiceInForce,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedName {
    kind: IdentifierKind,
    /// A cookie name or storage key: RFC 6265 token characters, never a value.
    #[schema(
        min_length = 1,
        max_length = 128,
        pattern = "^[A-Za-z0-9!#$%&'+.^_`|~-]+$",
        example = "ab_bucket"
    )]
    name: String,
}

/// How many of the names no still-valid policy version declares: those were counted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"undeclared": 2}))]
pub struct ObservationAnswer {
    undeclared: usize,
}

#[utoipa::path(
    post,
    path = "/api/v1/observations",
    tag = "embed",
    summary = "The embed loader's report of undeclared cookies and storage keys (names only; allowed origins only)",
    description = "Sent by the embed loader's report module from a sample of page views (`[observations] sample_rate`), \
                   after the visitor's choice is applied, without cookies. Names the registry of a \
                   still-valid policy version declares are dropped; the others are counted per day, \
                   origin, kind, name and choice.",
    params(("Origin" = String, Header, description = "The embedding page's origin: one of `embed_origins`", example = "https://docs.zeccloud.com")),
    request_body(content = ObservationReport, content_type = "application/json"),
    responses((status = 202, description = "Counted", body = ObservationAnswer))
)]
pub async fn report(
    State(observations): State<Arc<Observations>>,
    State(edge): State<Arc<Edge>>,
    headers: HeaderMap,
    AppJson(report): AppJson<ObservationReport>,
) -> Result<Response, ApiError> {
    // What is counted is the origin as stored with decisions: allowed, and plain text.
    let origin = recorded_origin(&edge, &headers).ok_or_else(|| {
        ApiError::new(
            ErrorCode::OriginNotAllowed,
            "only pages of embed_origins report identifiers",
        )
    })?;
    let names = crate::domain::observations::checked_names(
        report
            .names
            .iter()
            .map(|reported| (reported.kind, reported.name.as_str())),
    )
    .map_err(|problem| ApiError::new(ErrorCode::InvalidObservation, problem.to_string()))?;
    let undeclared = observations.record(origin, names, report.choice).await?;
    Ok((StatusCode::ACCEPTED, Json(ObservationAnswer { undeclared })).into_response())
}

// The schema's bounds are the domain's.
const _: () = assert!(MAX_NAMES_PER_REPORT == 64 && MAX_NAME_LENGTH == 128);
