//! The published policy as JSON: the identifier registry of notice §06 and the version history.

use crate::domain::PolicyRecord;
use crate::error::ApiError;
use crate::policies::PublishedPolicy;
use crate::startup::AppState;
use app::domain::PolicyView;
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};

/// A published version's identity.
#[derive(Debug, Serialize)]
pub struct VersionInfo {
    pub version: String,
    pub hash: String,
    pub material: bool,
    pub published_at: DateTime<Utc>,
    /// Set when a publish found the same content already published.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unchanged: bool,
}

impl From<&PolicyRecord> for VersionInfo {
    fn from(record: &PolicyRecord) -> Self {
        Self {
            version: record.version.clone(),
            hash: record.hash.clone(),
            material: record.material,
            published_at: record.published_at,
            unchanged: false,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PolicyDocument {
    #[serde(flatten)]
    pub published: VersionInfo,
    /// The categories with their identifiers, banner texts and notice link, in `language`.
    #[serde(flatten)]
    pub view: PolicyView,
}

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    pub lang: Option<String>,
}

fn document(state: &AppState, published: &PublishedPolicy, lang: Option<&str>) -> PolicyDocument {
    let policy = &published.policy;
    PolicyDocument {
        published: VersionInfo::from(&published.record),
        view: policy.view(
            lang.unwrap_or(&policy.default_language),
            state.consent.cookies.consent_domain.as_deref(),
        ),
    }
}

fn language(
    query: Result<Query<LanguageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Option<String>, ApiError> {
    query
        .map(|Query(q)| q.lang)
        .map_err(|err| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", err.body_text()))
}

/// `GET /api/v1/policy[?lang=ja]`: the current version.
pub async fn current_policy(
    State(state): State<AppState>,
    query: Result<Query<LanguageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PolicyDocument>, ApiError> {
    let lang = language(query)?;
    let snapshot = state.consent.policies.current().await;
    Ok(Json(document(&state, snapshot.current(), lang.as_deref())))
}

/// `GET /api/v1/policy/{version}`: any published version, for audits.
pub async fn policy_version(
    State(state): State<AppState>,
    Path(version): Path<String>,
    query: Result<Query<LanguageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PolicyDocument>, ApiError> {
    let lang = language(query)?;
    let snapshot = state.consent.policies.current().await;
    let published = snapshot.find(&version).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "policy_version_not_found",
            format!("policy version {version:?} has not been published"),
        )
    })?;
    Ok(Json(document(&state, published, lang.as_deref())))
}

/// `GET /.well-known/jwks.json`: the public key that verifies consent receipts.
pub async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.consent.receipts.jwks())
}
