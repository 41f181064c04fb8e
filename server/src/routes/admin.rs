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
use std::sync::Arc;

/// Largest policy file the admin API accepts: one with every language is larger than any
/// visitor request.
const MAX_POLICY_BYTES: usize = 1024 * 1024;

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

/// `POST /api/v1/admin/policies[?material=true]` with the policy TOML as the body.
/// 201 for a new version, 200 when the same content is already published under it,
/// 409 when different content is, 422 when the file is not a valid policy.
#[utoipa::path(
    post,
    path = "/api/v1/admin/policies",
    tag = "admin",
    summary = "Publish a policy version (the TOML file as the body)",
    params(("material" = Option<bool>, Query, description = "A material change: visitors are asked again")),
    request_body(
        content = String,
        content_type = "text/plain",
        description = "The policy file (TOML, UTF-8); any content type is read as the file"
    ),
    responses(
        (status = 201, description = "Published", body = VersionInfo),
        (status = 200, description = "The same content was already published", body = VersionInfo)
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
    responses((status = 200, description = "The versions", body = Vec<VersionInfo>)),
    security(("admin_token" = []))
)]
pub async fn list_policies(
    State(policies): State<Arc<PolicyRegistry>>,
    _admin: AdminAuth,
) -> Json<Vec<VersionInfo>> {
    let snapshot = policies.current().await;
    Json(snapshot.records().map(VersionInfo::from).collect())
}

/// `POST /api/v1/admin/retention/purge[?dry_run=true]`: runs the retention purge now (it also
/// runs hourly) and says what went, per table; `dry_run` only counts.
#[utoipa::path(
    post,
    path = "/api/v1/admin/retention/purge",
    tag = "admin",
    summary = "Run the retention purge now",
    params(("dry_run" = Option<bool>, Query, description = "Only count what would go")),
    responses((status = 200, description = "Rows per table", body = Object)),
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
        Some(report) => {
            Ok(Json(serde_json::json!({ "dry_run": dry_run, "rows": report })).into_response())
        }
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
    responses((status = 200, description = "The jobs, oldest first", body = Vec<Object>)),
    security(("admin_token" = []))
)]
pub async fn matomo_erasures(
    _admin: AdminAuth,
    State(storage): State<Arc<dyn crate::storage::Storage>>,
) -> Result<Json<Vec<crate::storage::MatomoJob>>, ApiError> {
    Ok(Json(
        storage
            .matomo_jobs(crate::storage::JobSelection::All)
            .await
            .map_err(ApiError::internal)?,
    ))
}

/// `GET /api/v1/admin/statistics[?days=N]`: the console's overview as JSON (without the
/// charts), for the last `days` days (1 to 366; 30 by default), today (UTC) included.
#[utoipa::path(
    get,
    path = "/api/v1/admin/statistics",
    tag = "admin",
    summary = "The console's overview: decisions per day by action, grants, splits",
    params(("days" = Option<u32>, Query, minimum = 1, maximum = 366, description = "Days up to today (UTC); 30 by default")),
    responses((status = 200, description = "The overview", body = Object)),
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
        ("from" = String, Query, format = Date, description = "First day, YYYY-MM-DD"),
        ("to" = String, Query, format = Date, description = "Last day, YYYY-MM-DD"),
        ("format" = Option<String>, Query, description = "`csv` (default) or `jsonl`")
    ),
    responses((status = 200, description = "The file", content(
        (String = "text/csv"),
        (String = "application/jsonl")
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
