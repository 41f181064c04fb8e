//! The published policy as JSON: the identifier registry of notice §06 and the version history.

use crate::domain::PolicyRecord;
use crate::error::{ApiError, AppQuery};
use crate::service::ConsentService;
use crate::service::policies::PublishedPolicy;
use crate::state::AppState;
use app::ErrorCode;
use app::domain::PolicyView;
use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Policy documents need no visitor identity: no SSAID is issued for them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/api/v1/policy", get(current_policy))
        .route("/api/v1/policy/{version}", get(policy_version))
}

/// A published version's identity.
#[derive(Debug, Serialize, utoipa::ToSchema)]
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
            version: record.version.to_string(),
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

fn document(
    consent: &ConsentService,
    published: &PublishedPolicy,
    lang: Option<&str>,
) -> PolicyDocument {
    let policy = &published.policy;
    PolicyDocument {
        published: VersionInfo::from(&published.record),
        view: published
            .shown(
                lang.unwrap_or(&policy.default_language),
                consent.cookies.consent_domain.as_deref(),
            )
            .view
            .clone(),
    }
}

/// `GET /api/v1/policy[?lang=ja]`: the current version.
#[utoipa::path(
    get,
    path = "/api/v1/policy",
    tag = "policy",
    summary = "The current policy version, in one language",
    params(("lang" = Option<String>, Query, description = "A language of the policy; its default otherwise")),
    responses((status = 200, description = "The version, its hash and texts", body = Object))
)]
pub async fn current_policy(
    State(consent): State<Arc<ConsentService>>,
    AppQuery(query): AppQuery<LanguageQuery>,
) -> Json<PolicyDocument> {
    let snapshot = consent.policies.current().await;
    Json(document(
        &consent,
        snapshot.current(),
        query.lang.as_deref(),
    ))
}

/// `GET /api/v1/policy/{version}`: any published version, for audits.
#[utoipa::path(
    get,
    path = "/api/v1/policy/{version}",
    tag = "policy",
    summary = "Any published policy version, for audits",
    params(
        ("version" = String, Path, description = "A published version id"),
        ("lang" = Option<String>, Query, description = "A language of the policy; its default otherwise")
    ),
    responses((status = 200, description = "The version, its hash and texts", body = Object))
)]
pub async fn policy_version(
    State(consent): State<Arc<ConsentService>>,
    Path(version): Path<String>,
    AppQuery(query): AppQuery<LanguageQuery>,
) -> Result<Json<PolicyDocument>, ApiError> {
    let snapshot = consent.policies.current().await;
    let published = snapshot.find(&version).ok_or_else(|| {
        ApiError::new(
            ErrorCode::PolicyVersionNotFound,
            format!("policy version {version:?} has not been published"),
        )
    })?;
    Ok(Json(document(&consent, published, query.lang.as_deref())))
}

/// `GET /.well-known/jwks.json`: the public key that verifies consent receipts.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "policy",
    summary = "The Ed25519 public keys that verify receipts",
    responses((status = 200, description = "A JSON Web Key Set", body = crate::infra::tokens::Jwks))
)]
pub async fn jwks(State(consent): State<Arc<ConsentService>>) -> Json<crate::infra::tokens::Jwks> {
    Json(consent.receipts.jwks())
}
