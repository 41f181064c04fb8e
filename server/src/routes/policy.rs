//! The published policy as JSON: the identifier registry of notice §06 and the version history.

use crate::domain::scan::registry::Registry;
use crate::error::{ApiError, AppQuery};
use crate::http::response::VersionInfo;
use crate::infra::cookies::SSAID_HOST_COOKIE;
use crate::service::ConsentService;
use crate::service::policies::PublishedPolicy;
use crate::state::AppState;
use app::ErrorCode;
use app::domain::PolicyView;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::DateTime;
use http::header;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(current_policy, policy_version, registry, jwks))]
pub struct Api;

/// Policy documents need no visitor identity: no SSAID is issued for them.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/api/v1/policy", get(current_policy))
        .route("/api/v1/policy/{version}", get(policy_version))
        .route("/api/v1/registry", get(registry))
}

/// A published version in one language: its identity, then the categories with their
/// identifiers, the banner texts and the notice link.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PolicyDocument {
    #[serde(flatten)]
    pub published: VersionInfo,
    /// The categories with their identifiers, banner texts and notice link, in `language`.
    #[serde(flatten)]
    pub view: PolicyView,
}

/// The embedded default policy as `GET /api/v1/policy?lang=…` shows it: the document's example,
/// from the real file, so it is always a valid answer.
pub fn document_example() -> serde_json::Value {
    let policy = app::domain::Policy::from_toml(app::DEFAULT_POLICY_TOML)
        .expect("the embedded default policy parses");
    let document = PolicyDocument {
        published: VersionInfo {
            version: policy.version.to_string(),
            hash: crate::domain::policy_hash(&policy),
            material: true,
            published_at: DateTime::from_timestamp(1_795_770_000, 0).unwrap_or_default(),
            unchanged: false,
        },
        view: policy.view(&policy.default_language, None),
    };
    serde_json::to_value(document).expect("a policy document serialises")
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
    params(("lang" = Option<String>, Query, description = "A language of the policy (`en`, `zh-Hans`, `zh-Hant`, `ja`, `ko` in the default one); its default otherwise", example = "en")),
    responses((
        status = 200,
        description = "The version, its hash and texts",
        body = PolicyDocument,
        links(("version" = (
            operation_id = "policy_version",
            parameters(("version" = "$response.body#/version")),
            description = "The same version by its id, as audits ask for it"
        ))),
        example = document_example
    ))
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
        ("version" = String, Path, min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9._-]+$", description = "A published version id", example = "2026-12-07"),
        ("lang" = Option<String>, Query, description = "A language of the policy; its default otherwise", example = "en")
    ),
    responses((status = 200, description = "The version, its hash and texts", body = PolicyDocument, example = document_example))
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

/// `GET /api/v1/registry`: the current version's identifier registry in machine form, as this
/// deployment applies it: what `server scan` and a web team's own checks compare pages against.
#[utoipa::path(
    get,
    path = "/api/v1/registry",
    tag = "policy",
    summary = "The identifier registry, for machines: names, categories, lifetimes, domains, recipients",
    responses((status = 200, description = "Every declared cookie and storage key, and every declared recipient host", body = Registry))
)]
pub async fn registry(State(consent): State<Arc<ConsentService>>) -> Response {
    let snapshot = consent.policies.current().await;
    let cookies = &consent.cookies;
    // The SSAID's real name on this deployment: without `Secure`, browsers refuse `__Host-`.
    let renamed = [(SSAID_HOST_COOKIE, cookies.ssaid_name())];
    let registry = Registry::from_policy(
        &snapshot.current().policy,
        cookies.consent_domain.as_deref(),
        &renamed,
    );
    // Changes only with a publication: a minute's cache spares a crawler's many requests.
    (
        [(header::CACHE_CONTROL, "public, max-age=60")],
        Json(registry),
    )
        .into_response()
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
