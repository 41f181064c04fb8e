//! The visitor's rights (notice §07) over what the service holds under their SSAID: access
//! (`GET /api/v1/me`) and erasure (`POST /api/v1/me/erase`); staff do the same by SSAID or by a
//! receipt's consent id through the admin API.

use crate::domain::Ssaid;
use crate::domain::rights::{ErasureChannel, parse_ticket};
use crate::error::{ApiError, AppJson};
use crate::http::form::AppForm;
use crate::http::{AdminAuth, ConsentId, Unnamed, Visitor, for_visitors, with_cookies};
use crate::infra::cookies;
use crate::service::ConsentService;
use crate::service::rights::{Erasure, SubjectData};
use crate::state::AppState;
use app::ErrorCode;
use app::domain::{CookieExpiry, expiries};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(my_data, erase_me, subject, subject_of_consent, erase_subject))]
pub struct Api;

pub fn router(state: &AppState) -> Router<AppState> {
    let visitor = Router::new()
        .route("/api/v1/me", get(my_data))
        .route("/api/v1/me/erase", post(erase_me));
    // The preference center's plain form: only the service's own pages may send it.
    let form = Router::new().route(app::preference_center::ERASE_PATH, post(erase_from_form));
    let staff = Router::new()
        .route("/api/v1/admin/subjects/{ssaid}", get(subject))
        .route("/api/v1/admin/subjects/{ssaid}/erase", post(erase_subject))
        .route(
            "/api/v1/admin/consents/{id}/subject",
            get(subject_of_consent),
        );
    for_visitors(visitor, state, Unnamed::Accept)
        .merge(for_visitors(form, state, Unnamed::Refuse))
        .merge(staff)
}

/// `GET /api/v1/me`: everything stored under the visitor's SSAID, as a JSON file.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "visitor",
    summary = "Everything stored under the visitor's SSAID, as a JSON file",
    responses((
        status = 200,
        description = "The visitor's data",
        body = SubjectData,
        links(
            ("subject" = (
                operation_id = "subject",
                parameters(("ssaid" = "$response.body#/identifier/ssaid")),
                description = "The same data as staff see it (admin)"
            )),
            ("erase_subject" = (
                operation_id = "erase_subject",
                parameters(("ssaid" = "$response.body#/identifier/ssaid")),
                description = "Erase it for a ticket (admin)"
            ))
        ),
        example = subject_example
    ))
)]
pub async fn my_data(
    State(consent): State<Arc<ConsentService>>,
    visitor: Visitor,
) -> Result<Response, ApiError> {
    let issued = &visitor.issued;
    let data = consent
        .subject(
            &issued.ssaid,
            Some((issued.issued_at, issued.terminal_type)),
        )
        .await
        .map_err(ApiError::internal)?;
    Ok(download(data))
}

/// The visitor's confirmation of an erasure.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"confirm": true}))]
#[serde(deny_unknown_fields)]
pub struct SelfErasure {
    /// `true`: the visitor confirmed that everything stored under their SSAID goes.
    confirm: bool,
}

/// `POST /api/v1/me/erase` with `{"confirm": true}`: erases it; the answer expires every
/// identifier of the service, so the browser is a new visitor and is asked again. The body is
/// JSON like every other state-changing call of the API: a page elsewhere cannot send that
/// without a CORS preflight, so a request that names no page (`Origin: null`) erases nothing.
#[utoipa::path(
    post,
    path = "/api/v1/me/erase",
    tag = "visitor",
    summary = "Erase everything stored under the visitor's SSAID",
    request_body(content = SelfErasure, content_type = "application/json"),
    responses((status = 200, description = "The erasure's evidence; every identifier expired", body = Erasure, example = erasure_example))
)]
pub async fn erase_me(
    State(consent): State<Arc<ConsentService>>,
    visitor: Visitor,
    headers: http::HeaderMap,
    AppJson(request): AppJson<SelfErasure>,
) -> Result<Response, ApiError> {
    if !request.confirm {
        return Err(ApiError::new(
            ErrorCode::ErasureNotConfirmed,
            "send {\"confirm\": true} to erase everything stored under your SSAID",
        ));
    }
    let erasure = consent
        .erase(&visitor.issued.ssaid, ErasureChannel::SelfService)
        .await
        .map_err(ApiError::internal)?;
    let expired = every_identifier(&consent, &headers);
    Ok(with_cookies(Json(erasure).into_response(), expired))
}

/// The erasure form of `/preferences`: `confirm=yes` (the ticked box) and the page's `lang`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EraseForm {
    confirm: Option<String>,
    lang: Option<String>,
}

/// `POST /preferences/erase`: erases, then back to the preference center, which shows the
/// erasure's reference; the answer expires every identifier like `/api/v1/me/erase`.
pub async fn erase_from_form(
    State(consent): State<Arc<ConsentService>>,
    visitor: Visitor,
    headers: http::HeaderMap,
    AppForm(form): AppForm<EraseForm>,
) -> Result<Response, ApiError> {
    if form.confirm.as_deref() != Some("yes") {
        return Err(ApiError::new(
            ErrorCode::ErasureNotConfirmed,
            "tick the box that confirms the erasure",
        ));
    }
    let erasure = consent
        .erase(&visitor.issued.ssaid, ErasureChannel::SelfService)
        .await
        .map_err(ApiError::internal)?;
    let language = form
        .lang
        .as_deref()
        .and_then(app::domain::language::supported)
        .unwrap_or(app::domain::language::DEFAULT_LANGUAGE);
    let back = format!(
        "{}?lang={language}&erased={}#zc-page-data",
        app::PREFERENCES_PATH,
        erasure.record.id
    );
    let expired = every_identifier(&consent, &headers);
    Ok(with_cookies(
        axum::response::Redirect::to(&back).into_response(),
        expired,
    ))
}

/// The service's own cookies and every optional category's identifiers, expired.
fn every_identifier(consent: &ConsentService, headers: &http::HeaderMap) -> Vec<http::HeaderValue> {
    let parent = consent.cookies.consent_domain.clone();
    let mut expired = vec![
        CookieExpiry {
            name: consent.cookies.ssaid_name().to_owned(),
            domain: None,
            path: "/".to_owned(),
        },
        CookieExpiry {
            name: cookies::CONSENT_COOKIE.to_owned(),
            domain: None,
            path: "/".to_owned(),
        },
    ];
    if let Some(parent) = &parent {
        expired.push(CookieExpiry {
            name: cookies::CONSENT_COOKIE.to_owned(),
            domain: Some(parent.clone()),
            path: "/".to_owned(),
        });
    }
    let snapshot = consent.policies.cached();
    let policy = &snapshot.current().policy;
    let optional: Vec<&str> = policy
        .categories
        .iter()
        .filter(|category| !category.required())
        .map(|category| category.id.as_str())
        .collect();
    let refused = expiries(
        policy,
        &optional,
        &cookies::names(headers),
        parent.as_deref(),
    );
    expired.extend(refused.cookies);
    expired.iter().map(cookies::expire).collect()
}

/// A JSON answer the browser saves as a file.
fn download(data: SubjectData) -> Response {
    let mut response = Json(data).into_response();
    response.headers_mut().insert(
        http::header::CONTENT_DISPOSITION,
        http::HeaderValue::from_static("attachment; filename=\"zeccloud-consent-my-data.json\""),
    );
    response
}

/// What access answers, for the document.
fn subject_example() -> serde_json::Value {
    serde_json::json!({
        "identifier": {
            "ssaid": "DufRwMy_btVimng3kkTdoQ",
            "issued_at": "2026-12-04T16:01:58Z",
            "terminal_type": "desktop",
            "stored": true
        },
        "consent_events": [{
            "id": "01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12",
            "policy_version": "2026-12-07",
            "categories": {"analytics": false, "necessary": true, "preferences": true},
            "action": "custom",
            "source": "banner",
            "created_at": "2026-12-04T16:01:58.555177Z",
            "made_at": null,
            "policy_hash": "sha256:8ae6c310e923784cf670abf2e45f6ba197d0677658cdc7503705b0e2498ca8f4",
            "banner_text_hash": "sha256:40858c39b1c434155a5d032d961ae0a515d321cbf6e54f54d426bc2d885a6ebe",
            "language": "en",
            "ip_prefix": "203.0.113.0/24",
            "terminal_type": "desktop",
            "origin": null,
            "jurisdiction": {
                "name": "korea",
                "regime": "opt_in",
                "country": "KR",
                "source": "header"
            }
        }],
        "sightings": [{
            "network": "203.0.113.0/24",
            "day": "2026-12-04",
            "seen_count": 3,
            "first_seen": "2026-12-04T16:01:58Z",
            "last_seen": "2026-12-04T17:12:04Z",
            "service": "console",
            "event": "login"
        }],
        "matomo": {"visitor_id": "d8235f9a8aacecf4"}
    })
}

/// What an erasure answers, for the document.
fn erasure_example() -> serde_json::Value {
    serde_json::json!({
        "id": "01968f41-0c2d-7e51-8a3b-5c7d9e1f2a34",
        "erased_at": "2026-12-05T10:00:00Z",
        "channel": "staff",
        "ticket": "PRIV-2031",
        "subject_hash": "4f0c5e8a2b9d7c1e3f6a8b0d2c4e6f8a1b3d5c7e9f0a2b4c6d8e0f1a3b5c7d9e",
        "deleted": {"consent_events": 1, "ssaid_sightings": 1, "ssaids": 1},
        "matomo": "not_configured",
        "repeated": false
    })
}

fn parse_ssaid(raw: &str) -> Result<Ssaid, ApiError> {
    Ssaid::parse(raw).map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidSubject,
            format!("{raw:?} is not an SSAID (22 characters of base64url)"),
        )
    })
}

/// `GET /api/v1/admin/subjects/{ssaid}`: what the service holds under an SSAID.
#[utoipa::path(
    get,
    path = "/api/v1/admin/subjects/{ssaid}",
    tag = "admin",
    summary = "What the service holds under an SSAID",
    params(("ssaid" = String, Path, min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{21}[AQgw]$", description = "An SSAID (22 characters of base64url)", example = "DufRwMy_btVimng3kkTdoQ")),
    responses((status = 200, description = "The subject's data", body = SubjectData, example = subject_example)),
    security(("admin_token" = []))
)]
pub async fn subject(
    _admin: AdminAuth,
    State(consent): State<Arc<ConsentService>>,
    Path(ssaid): Path<String>,
) -> Result<Response, ApiError> {
    let ssaid = parse_ssaid(&ssaid)?;
    let data = consent
        .subject(&ssaid, None)
        .await
        .map_err(ApiError::internal)?;
    Ok(download(data))
}

/// `GET /api/v1/admin/consents/{id}/subject`: the same, found by a consent id from a receipt
/// the visitor attached to a ticket.
#[utoipa::path(
    get,
    path = "/api/v1/admin/consents/{id}/subject",
    tag = "admin",
    summary = "The same, found by a consent id from a receipt",
    params(("id" = String, Path, format = Uuid, description = "A consent id (a UUID): `consent.event_id` of a recorded decision", example = "01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12")),
    responses((status = 200, description = "The subject's data", body = SubjectData, example = subject_example)),
    security(("admin_token" = []))
)]
pub async fn subject_of_consent(
    _admin: AdminAuth,
    State(consent): State<Arc<ConsentService>>,
    ConsentId(id): ConsentId,
) -> Result<Response, ApiError> {
    let event = consent
        .storage
        .find_consent_event(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(ErrorCode::ConsentNotFound, "no consent record has this id")
        })?;
    let data = consent
        .subject(&event.ssaid, None)
        .await
        .map_err(ApiError::internal)?;
    Ok(download(data))
}

/// The ticket a staff erasure answers.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"ticket": "PRIV-2031"}))]
#[serde(deny_unknown_fields)]
pub struct StaffErasure {
    /// The ticket's reference: 1 to 64 characters without control characters, once the
    /// whitespace around it is trimmed.
    #[schema(
        pattern = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(?:[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]{0,62}[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    ticket: Option<String>,
}

/// `POST /api/v1/admin/subjects/{ssaid}/erase` with `{"ticket": "…"}`.
#[utoipa::path(
    post,
    path = "/api/v1/admin/subjects/{ssaid}/erase",
    tag = "admin",
    summary = "Erase a subject for a ticket",
    params(("ssaid" = String, Path, min_length = 22, max_length = 22, pattern = "^[A-Za-z0-9_-]{21}[AQgw]$", description = "An SSAID (22 characters of base64url)", example = "DufRwMy_btVimng3kkTdoQ")),
    request_body(content = StaffErasure, content_type = "application/json"),
    responses((status = 200, description = "The erasure's evidence", body = Erasure, example = erasure_example)),
    security(("admin_token" = []))
)]
pub async fn erase_subject(
    _admin: AdminAuth,
    State(consent): State<Arc<ConsentService>>,
    Path(ssaid): Path<String>,
    AppJson(request): AppJson<StaffErasure>,
) -> Result<Json<Erasure>, ApiError> {
    let ssaid = parse_ssaid(&ssaid)?;
    let ticket = match request.ticket.as_deref() {
        None => None,
        Some(raw) => Some(parse_ticket(raw).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidBody,
                "ticket must be 1 to 64 printable characters",
            )
        })?),
    };
    let erasure = consent
        .erase(&ssaid, ErasureChannel::Staff { ticket })
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(erasure))
}
