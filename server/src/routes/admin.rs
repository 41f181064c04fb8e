//! The admin API (`/api/v1/admin/…`): bearer-token protected, off unless `admin_token` is set.

use crate::error::ApiError;
use crate::http::query::Params;
use crate::http::response::{VersionInfo, export_download};
use crate::http::{AdminAuth, limit_body};
use crate::service::console::ConsoleService;
use crate::service::console::export::ExportRequest;
use crate::service::policies::{PolicyRegistry, Published};
use crate::service::retention::Retention;
use crate::state::AppState;
use app::ErrorCode;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http::StatusCode;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Largest policy file the admin API accepts: one with every language is larger than any
/// visitor request.
const MAX_POLICY_BYTES: usize = 1024 * 1024;

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_policies,
    publish_policy,
    purge_now,
    matomo_erasures,
    statistics,
    export
))]
pub struct Api;

pub fn router() -> Router<AppState> {
    let routes = Router::new()
        .route(
            "/api/v1/admin/policies",
            get(list_policies).post(publish_policy),
        )
        .route("/api/v1/admin/retention/purge", post(purge_now))
        .route("/api/v1/admin/matomo-erasures", get(matomo_erasures))
        .route("/api/v1/admin/statistics", get(statistics))
        .route("/api/v1/admin/export", get(export));
    limit_body(routes, MAX_POLICY_BYTES)
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
                ErrorCode::UnknownParameter,
                format!("unknown query parameter {key:?}; only \"material\" is accepted"),
            ));
        }
        material = match value {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("material must be true or false, not {other:?}"),
                ));
            }
        };
    }
    Ok(material)
}

/// The embedded default policy, the example of a policy file (publishing it again answers 200).
fn default_policy_file() -> serde_json::Value {
    serde_json::Value::String(app::DEFAULT_POLICY_TOML.to_owned())
}

/// `POST /api/v1/admin/policies[?material=true]` with the policy TOML as the body.
/// 201 for a new version, 200 when the same content is already published under it,
/// 409 when different content is, 422 when the file is not a valid policy.
#[utoipa::path(
    post,
    path = "/api/v1/admin/policies",
    tag = "admin",
    summary = "Publish a policy version (the TOML file as the body)",
    params(("material" = Option<bool>, Query, description = "A material change: visitors are asked again", example = false)),
    request_body(
        content = String,
        content_type = "text/plain",
        description = "The policy file (TOML, UTF-8); any content type is read as the file",
        example = default_policy_file
    ),
    responses(
        (status = 201, description = "Published", body = VersionInfo, links(("version" = (
            operation_id = "policy_version",
            parameters(("version" = "$response.body#/version")),
            description = "The version just published"
        )))),
        (status = 200, description = "The same content was already published", body = VersionInfo, example = json!({
            "version": "2026-12-07",
            "hash": "sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4",
            "material": true,
            "published_at": "2026-11-27T09:00:00Z",
            "unchanged": true
        }))
    ),
    security(("admin_token" = []))
)]
pub async fn publish_policy(
    State(policies): State<Arc<PolicyRegistry>>,
    _admin: AdminAuth,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let material = material_flag(query.as_deref())?;
    let source = std::str::from_utf8(&body).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidEncoding,
            "the policy file must be UTF-8 text",
        )
    })?;
    let published = policies.publish(source, material).await?;
    let status = match published {
        Published::New(_) => StatusCode::CREATED,
        Published::Unchanged(_) => StatusCode::OK,
    };
    let mut info = VersionInfo::from(published.record());
    info.unchanged = matches!(published, Published::Unchanged(_));
    Ok((status, Json(info)).into_response())
}

/// `GET /api/v1/admin/policies`: every published version, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/policies",
    tag = "admin",
    summary = "Every published policy version, oldest first",
    responses((status = 200, description = "The versions", body = Vec<VersionInfo>, links(("first" = (
        operation_id = "policy_version",
        parameters(("version" = "$response.body#/0/version")),
        description = "The first version ever published"
    ))), example = json!([{
        "version": "2026-12-07",
        "hash": "sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4",
        "material": true,
        "published_at": "2026-11-27T09:00:00Z"
    }]))),
    security(("admin_token" = []))
)]
pub async fn list_policies(
    State(policies): State<Arc<PolicyRegistry>>,
    _admin: AdminAuth,
) -> Json<Vec<VersionInfo>> {
    let snapshot = policies.current().await;
    Json(snapshot.records().map(VersionInfo::from).collect())
}

/// What a purge removed (or, with `dry_run`, would remove).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"dry_run": true, "rows": {
    "address_counters": 40,
    "console_session_revocations": 2,
    "consent_events": 0,
    "consent_events.ip_prefix": 12,
    "decision_counts": 0,
    "decision_tallies": 0,
    "erasures": 0,
    "matomo_erasure_jobs": 0,
    "revoked_consents": 1,
    "ssaid_sightings": 7,
    "ssaids": 0,
    "tracker_scans": 0,
    "undeclared_identifiers": 0
}}))]
pub struct PurgeReport {
    pub dry_run: bool,
    /// Rows per table (`table.column` for a column cleared, not a row deleted).
    pub rows: BTreeMap<String, u64>,
}

/// `POST /api/v1/admin/retention/purge[?dry_run=true]`: runs the retention purge now (it also
/// runs hourly) and says what went, per table; `dry_run` only counts.
#[utoipa::path(
    post,
    path = "/api/v1/admin/retention/purge",
    tag = "admin",
    summary = "Run the retention purge now",
    params(("dry_run" = Option<bool>, Query, description = "Only count what would go", example = true)),
    responses((status = 200, description = "Rows per table", body = PurgeReport)),
    security(("admin_token" = []))
)]
pub async fn purge_now(
    _admin: AdminAuth,
    State(retention): State<Arc<Retention>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let dry_run = match query.as_deref() {
        None | Some("") | Some("dry_run=false") => false,
        Some("dry_run=true") | Some("dry_run") => true,
        Some(other) => {
            return Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("{other:?}: the only parameter is dry_run=true|false"),
            ));
        }
    };
    match retention
        .run(None, dry_run)
        .await
        .map_err(ApiError::internal)?
    {
        Some(rows) => Ok(Json(PurgeReport { dry_run, rows }).into_response()),
        None => Err(ApiError::new(
            ErrorCode::PurgeBusy,
            "another instance is purging right now; try again in a minute",
        )),
    }
}

/// `GET /api/v1/admin/matomo-erasures`: every erasure's job against Matomo, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/matomo-erasures",
    tag = "admin",
    summary = "Every erasure's job against Matomo",
    responses((status = 200, description = "The jobs, oldest first", body = Vec<MatomoErasure>, example = json!([{
        "erasure_id": "01968f41-0c2d-7e51-8a3b-5c7d9e1f2a34",
        "visitor_id": "d8235f9a8aacecf4",
        "state": "pending",
        "attempts": 2,
        "next_attempt_at": "2026-12-05T10:05:00Z",
        "last_error": "Matomo answered 503",
        "deleted": null,
        "created_at": "2026-12-05T10:00:00Z",
        "updated_at": "2026-12-05T10:01:00Z"
    }]))),
    security(("admin_token" = []))
)]
pub async fn matomo_erasures(
    _admin: AdminAuth,
    State(storage): State<Arc<dyn crate::storage::MatomoJobStore>>,
) -> Result<Json<Vec<MatomoErasure>>, ApiError> {
    let jobs = storage
        .matomo_jobs(crate::storage::JobSelection::All)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(jobs.into_iter().map(MatomoErasure::from).collect()))
}

/// An erasure's job against Matomo, as the admin API shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "erasure_id": "01968f41-0c2d-7e51-8a3b-5c7d9e1f2a34",
    "visitor_id": null,
    "state": "done",
    "attempts": 1,
    "next_attempt_at": "2026-12-05T10:00:00Z",
    "last_error": null,
    "deleted": {"log_visit": 3, "log_link_visit_action": 17},
    "created_at": "2026-12-05T10:00:00Z",
    "updated_at": "2026-12-05T10:00:04Z"
}))]
pub struct MatomoErasure {
    /// The erasure's reference (`id` of its evidence).
    pub erasure_id: uuid::Uuid,
    /// Matomo's visitor id to delete; cleared once done.
    pub visitor_id: Option<String>,
    /// `pending`, `done`, or `failed` (gave up after `erasure_max_attempts`: a human must look).
    #[schema(pattern = "^(pending|done|failed)$")]
    pub state: &'static str,
    pub attempts: u32,
    pub next_attempt_at: chrono::DateTime<chrono::Utc>,
    pub last_error: Option<String>,
    /// Matomo's counts per table, once done.
    pub deleted: Option<BTreeMap<String, u64>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<crate::storage::MatomoJob> for MatomoErasure {
    fn from(job: crate::storage::MatomoJob) -> Self {
        Self {
            erasure_id: job.erasure_id,
            visitor_id: job.visitor_id,
            state: job.state.as_str(),
            attempts: job.attempts,
            next_attempt_at: job.next_attempt_at,
            last_error: job.last_error,
            deleted: job.deleted,
            created_at: job.created_at,
            updated_at: job.updated_at,
        }
    }
}

/// `GET /api/v1/admin/statistics[?days=N]`: the console's overview as JSON (without the
/// charts), for the last `days` days (1 to 366; 30 by default), today (UTC) included.
#[utoipa::path(
    get,
    path = "/api/v1/admin/statistics",
    tag = "admin",
    summary = "The console's overview: decisions per day by action, grants, splits",
    params(("days" = Option<u32>, Query, minimum = 1, maximum = 366, description = "Days up to today (UTC); 30 by default", example = 7)),
    responses((status = 200, description = "The overview", body = app::console::Overview, example = json!({
        "days": ["2026-12-03", "2026-12-04"],
        "total": 1,
        "decisions_per_day": [0, 1],
        "by_action": {"accept_all": [0, 0], "acknowledge": [0, 0], "custom": [0, 1], "gpc": [0, 0], "reject_all": [0, 0], "withdraw": [0, 0]},
        "grant_share": {"analytics": [null, 0.0], "preferences": [null, 100.0]},
        "categories": ["preferences", "analytics"],
        "dimensions": [{"title": "Language", "values": [{
            "value": "en",
            "decisions": 1,
            "by_action": {"accept_all": 0, "acknowledge": 0, "custom": 1, "gpc": 0, "reject_all": 0, "withdraw": 0},
            "granted": {"analytics": 0, "preferences": 1}
        }]}, {"title": "Jurisdiction", "values": [{
            "value": "eea_uk_ch",
            "decisions": 1,
            "by_action": {"accept_all": 0, "acknowledge": 0, "custom": 1, "gpc": 0, "reject_all": 0, "withdraw": 0},
            "granted": {"analytics": 0, "preferences": 1}
        }]}, {"title": "Regime", "values": [{
            "value": "opt_in",
            "decisions": 1,
            "by_action": {"accept_all": 0, "acknowledge": 0, "custom": 1, "gpc": 0, "reject_all": 0, "withdraw": 0},
            "granted": {"analytics": 0, "preferences": 1}
        }]}],
        "charts": []
    }))),
    security(("admin_token" = []))
)]
pub async fn statistics(
    _admin: AdminAuth,
    State(console): State<Arc<ConsoleService>>,
    mut params: Params,
) -> Result<Json<app::console::Overview>, ApiError> {
    let days = match params.take("days") {
        None => 30,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|days| (1..=366).contains(days))
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    format!("days must be a number from 1 to 366, not {raw:?}"),
                )
            })?,
    };
    params.finish()?;
    Ok(Json(console.overview(days).await?))
}

/// `GET /api/v1/admin/export?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv|jsonl]`: every decision
/// made in the range (UTC days, both included), streamed; CSV by default.
#[utoipa::path(
    get,
    path = "/api/v1/admin/export",
    tag = "admin",
    summary = "Every decision of a range of UTC days, streamed (columns in the README)",
    params(
        ("from" = String, Query, format = Date, description = "First day, YYYY-MM-DD", example = "2026-12-01"),
        ("to" = String, Query, format = Date, description = "Last day, YYYY-MM-DD (not before `from`)", example = "2026-12-31"),
        ("format" = Option<String>, Query, pattern = "^(csv|jsonl)$", description = "`csv` (default) or `jsonl`", example = "csv")
    ),
    responses((status = 200, description = "The file", content(
        (String = "text/csv", example = json!("consent_id,decided_at,ssaid,policy_version,policy_hash,banner_text_hash,language,action,source,categories,network_prefix,terminal_type,origin,made_at,jurisdiction,regime,country,country_source\r\n01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12,2026-12-04T16:01:58.555177Z,DufRwMy_btVimng3kkTdoQ,2026-12-07,sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4,sha256:40858c39b1c434155a5d032d961ae0a515d321cbf6e54f54d426bc2d885a6ebe,en,custom,banner,\"{\"\"analytics\"\":false,\"\"necessary\"\":true,\"\"preferences\"\":true}\",203.0.113.0/24,desktop,,,eea_uk_ch,opt_in,DE,header\r\n")),
        (String = "application/jsonl", example = json!("{\"action\":\"custom\",\"banner_text_hash\":\"sha256:40858c39b1c434155a5d032d961ae0a515d321cbf6e54f54d426bc2d885a6ebe\",\"categories\":{\"analytics\":false,\"necessary\":true,\"preferences\":true},\"consent_id\":\"01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12\",\"country\":\"DE\",\"country_source\":\"header\",\"decided_at\":\"2026-12-04T16:01:58.555177Z\",\"jurisdiction\":\"eea_uk_ch\",\"language\":\"en\",\"made_at\":null,\"network_prefix\":\"203.0.113.0/24\",\"origin\":null,\"policy_hash\":\"sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4\",\"policy_version\":\"2026-12-07\",\"regime\":\"opt_in\",\"source\":\"banner\",\"ssaid\":\"DufRwMy_btVimng3kkTdoQ\",\"terminal_type\":\"desktop\"}\n"))
    ))),
    security(("admin_token" = []))
)]
pub async fn export(
    _admin: AdminAuth,
    State(console): State<Arc<ConsoleService>>,
    mut params: Params,
) -> Result<Response, ApiError> {
    let (from, to) = match (params.take("from"), params.take("to")) {
        (Some(from), Some(to)) => (from, to),
        _ => {
            return Err(ApiError::new(
                ErrorCode::InvalidParameter,
                "from and to (YYYY-MM-DD) are required",
            ));
        }
    };
    let format = params.take("format").unwrap_or_else(|| "csv".to_owned());
    params.finish()?;
    let request = ExportRequest::parse(&from, &to, &format)?;
    Ok(export_download(console.export(request)))
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
}
