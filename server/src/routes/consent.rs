//! `/api/v1/consent`: the visitor's decision as JSON for other clients, and its receipt.

use crate::error::{ApiError, AppJson};
use crate::http::response::receipt_download;
use crate::http::{AdminAuth, ConsentId, PublicBase, Unnamed, Visitor, for_visitors, with_cookies};
use crate::service::{ConsentService, RequestContext};
use crate::state::AppState;
use app::ErrorCode;
use app::domain::{
    AppliedJurisdiction, ConsentAction, ConsentRequest, ConsentSource, CurrentConsent,
    PromptReason, StorageKey,
};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use http::StatusCode;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(get_consent, post_consent, get_receipt))]
pub struct Api;

/// The JSON API. It knows the visitor by SSAID, like the pages.
pub fn router(state: &AppState) -> Router<AppState> {
    let api = Router::new()
        .route("/api/v1/consent", get(get_consent).post(post_consent))
        .route("/api/v1/consent/{id}/receipt", get(get_receipt))
        .route("/api/{*rest}", any(api_not_found));
    // Other clients may call the JSON API too: it requires `application/json`.
    for_visitors(api, state, Unnamed::Accept)
}

/// The visitor's standing decision (the same shape after recording one).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(example = json!({
    "policy_version": "2026-12-07",
    "consent": null,
    "needs_prompt": true,
    "prompt": {"reason": "no_choice"},
    "jurisdiction": {
        "name": "united_states",
        "country": "US",
        "regime": "opt_out",
        "source": "header",
        "show_collection_details": false
    },
    "granted": {"necessary": true, "preferences": true, "analytics": true}
}))]
pub struct ConsentResponse {
    /// The current policy version.
    pub policy_version: String,
    /// The standing decision, if the visitor has one.
    pub consent: Option<CurrentConsent>,
    /// Whether the banner should be shown (`prompt` says why).
    pub needs_prompt: bool,
    /// Why the banner must ask; null while the standing decision holds.
    pub prompt: Option<PromptReason>,
    /// Where the visitor is and the regime that applies there (opt-in, opt-out, notice).
    pub jurisdiction: AppliedJurisdiction,
    /// Each category's state now, in that regime: what a page may load. Under opt-out and
    /// notice a category nobody refused is on; under opt-in only a standing consent grants.
    #[schema(schema_with = app::domain::schema::category_states)]
    pub granted: BTreeMap<String, bool>,
    /// Browser-storage keys the page must remove (refused categories); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clear_storage: Vec<StorageKey>,
}

impl ConsentResponse {
    /// The answer for a standing decision (under the current policy version), with what the
    /// page must clear.
    fn of(
        (policy_version, standing): (String, crate::service::Standing),
        clear_storage: Vec<StorageKey>,
    ) -> Self {
        Self {
            policy_version,
            needs_prompt: standing.prompt.is_some(),
            prompt: standing.prompt,
            consent: standing.current,
            jurisdiction: standing.jurisdiction,
            granted: standing.granted,
            clear_storage,
        }
    }
}

/// What `POST /api/v1/consent` answers for its example decision.
fn recorded_example() -> serde_json::Value {
    serde_json::json!({
        "policy_version": "2026-12-07",
        "consent": {
            "policy_version": "2026-12-07",
            "categories": {"necessary": true, "preferences": true, "analytics": false},
            "event_id": "01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12",
            "decided_at": 1_795_000_000,
            "action": "custom"
        },
        "needs_prompt": false,
        "prompt": null,
        "jurisdiction": {
            "name": "default",
            "country": null,
            "regime": "opt_in",
            "source": "unknown",
            "show_collection_details": false
        },
        "granted": {"necessary": true, "preferences": true, "analytics": false}
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/consent",
    tag = "visitor",
    summary = "The visitor's standing decision and whether the banner must ask",
    params(("Sec-GPC" = Option<String>, Header, description = "`1`: the browser's Global Privacy Control signal (a `gpc` decision needs it; without a decision it refuses what the policy lets it); other values are no signal", example = "1")),
    responses((status = 200, description = "The standing decision", body = ConsentResponse))
)]
pub async fn get_consent(
    State(consent): State<Arc<ConsentService>>,
    context: RequestContext,
) -> Result<Response, ApiError> {
    let standing = consent.standing(&context).await?;
    let body = ConsentResponse::of(standing.value, Vec::new());
    Ok(with_cookies(
        Json(body).into_response(),
        standing.set_cookies,
    ))
}

#[utoipa::path(
    post,
    path = "/api/v1/consent",
    tag = "visitor",
    summary = "Record a decision on the current policy version",
    params(("Sec-GPC" = Option<String>, Header, description = "`1`: the browser's Global Privacy Control signal (a `gpc` decision needs it; without a decision it refuses what the policy lets it); other values are no signal", example = "1")),
    request_body(content = ConsentRequest, content_type = "application/json"),
    responses((
        status = 201,
        description = "Recorded; `Set-Cookie: zc_consent`",
        body = ConsentResponse,
        links(
            ("receipt" = (
                operation_id = "get_receipt",
                parameters(("id" = "$response.body#/consent/event_id")),
                description = "The signed receipt of the decision just recorded"
            )),
            ("subject" = (
                operation_id = "subject_of_consent",
                parameters(("id" = "$response.body#/consent/event_id")),
                description = "What the service holds about the visitor who made it (admin)"
            ))
        ),
        example = recorded_example
    ))
)]
pub async fn post_consent(
    State(consent): State<Arc<ConsentService>>,
    context: RequestContext,
    AppJson(request): AppJson<ConsentRequest>,
) -> Result<Response, ApiError> {
    let source = if request.action == ConsentAction::Gpc {
        ConsentSource::Gpc
    } else {
        ConsentSource::Api
    };
    let recorded = consent.record(&context, request, source).await?;
    // The answer has the shape of `GET`'s: the standing decision is the one just recorded.
    let after = RequestContext {
        consent: Some(recorded.value.consent),
        ..context
    };
    let standing = consent.standing(&after).await?;
    let body = ConsentResponse::of(standing.value, recorded.value.clear_storage);
    let mut set_cookies = recorded.set_cookies;
    set_cookies.extend(standing.set_cookies);
    Ok(with_cookies(
        (StatusCode::CREATED, Json(body)).into_response(),
        set_cookies,
    ))
}

/// `GET /api/v1/consent/{id}/receipt`: the signed receipt of one decision, for the visitor who
/// made it or an admin; anyone else gets 404, as for an unknown id.
#[utoipa::path(
    get,
    path = "/api/v1/consent/{id}/receipt",
    tag = "visitor",
    summary = "The signed receipt of one decision (its visitor, or an admin)",
    params(("id" = String, Path, format = Uuid, description = "The consent id (a UUID): `consent.event_id` of a recorded decision", example = "01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12")),
    responses((status = 200, description = "The receipt and its compact JWS", body = crate::service::SignedReceipt, example = receipt_example)),
    security((), ("admin_token" = []))
)]
pub async fn get_receipt(
    State(consent): State<Arc<ConsentService>>,
    visitor: Visitor,
    admin: Option<AdminAuth>,
    PublicBase(base): PublicBase,
    ConsentId(id): ConsentId,
) -> Result<Response, ApiError> {
    let requester = admin.is_none().then_some(&visitor.issued.ssaid);
    let receipt = consent
        .receipt(id, requester, &base)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ConsentNotFound,
                "no consent record with this id belongs to you",
            )
        })?;
    Ok(receipt_download(id, receipt))
}

/// A receipt as the service makes one (on the embedded default policy, signed with a key of
/// The example receipt's log entry: a real leaf of a real (example) record.
fn example_log_entry(
    decided_at: chrono::DateTime<chrono::Utc>,
    base: &str,
) -> crate::domain::receipt::ReceiptLogEntry {
    use crate::domain::log::{Leaf, LeafKind, leaf};
    let salt = "5f0c2a9d8e7b6a5f4e3d2c1b0a998877";
    let record =
        r#"{"id":"01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12","ssaid":"DufRwMy_btVimng3kkTdoQ"}"#;
    let entry = Leaf {
        kind: LeafKind::Consent,
        logged_at: decided_at,
        commitment: leaf::commitment(&leaf::salt_bytes(Some(salt)), record.as_bytes()),
    };
    crate::domain::receipt::ReceiptLogEntry {
        leaf_index: 17,
        leaf_hash: crate::service::log::base64_hash(entry.hash()),
        leaf_data: entry.data(),
        record: record.to_owned(),
        salt: Some(salt.to_owned()),
        inclusion: format!(
            "{base}/api/v1/log/inclusion?event_id=01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12"
        ),
    }
}

/// the example's own), for the document.
fn receipt_example() -> serde_json::Value {
    use crate::domain::receipt::{Controller, ReceiptInput, ReceiptJurisdiction, RecordStorage};
    let policy = app::domain::Policy::from_toml(app::DEFAULT_POLICY_TOML)
        .expect("the embedded default policy parses");
    let decided_at = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    let base = "https://consent.zeccloud.com";
    let categories = std::collections::BTreeMap::from([
        ("necessary".to_owned(), true),
        ("preferences".to_owned(), true),
        ("analytics".to_owned(), false),
    ]);
    let view = policy.view(&policy.default_language, None);
    let receipt = crate::domain::ConsentReceipt::build(ReceiptInput {
        record_id: "01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12".to_owned(),
        ssaid: "DufRwMy_btVimng3kkTdoQ",
        policy: &policy,
        policy_hash: &crate::domain::policy_hash(&policy),
        language: &view.language,
        shown_text_hash: &crate::domain::banner_text_hash(&view),
        categories: &categories,
        action: ConsentAction::Custom,
        source: ConsentSource::Banner.as_str(),
        origin: None,
        decided_at,
        made_at: None,
        superseded: false,
        previous: None,
        jurisdiction: ReceiptJurisdiction {
            name: "eea_uk_ch".to_owned(),
            regime: app::domain::Regime::OptIn,
            country: Some("DE".to_owned()),
            country_source: app::domain::CountrySource::Header,
            recorded: true,
        },
        controller: Controller {
            name: "ZecCloud".to_owned(),
            contact: "Submit a ticket in the ZecCloud console (Data Protection Notice §07)"
                .to_owned(),
            address: Some("ZecCloud Ltd., 1 Example Road, Hong Kong".to_owned()),
        },
        record_storage: RecordStorage::new(
            ["HK", "JP", "KR", "US"].map(str::to_owned).to_vec(),
            3 * 365,
        ),
        log: Some(example_log_entry(decided_at, base)),
        notice_url: format!("{base}{}", policy.notice_url),
        preferences_url: format!("{base}/preferences"),
        expiry: &app::domain::ExpiryRules::from_days(365, 182),
        now: decided_at,
    });
    let signer =
        crate::infra::tokens::ReceiptSigner::derive(&secrecy::SecretSlice::from(vec![7; 32]));
    let signed = crate::service::SignedReceipt {
        jws: signer.sign(&receipt),
        receipt,
        kid: signer.kid().to_owned(),
        jwks_url: format!("{base}/.well-known/jwks.json"),
    };
    serde_json::to_value(signed).expect("a receipt serialises")
}

pub async fn api_not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such API endpoint")
}
