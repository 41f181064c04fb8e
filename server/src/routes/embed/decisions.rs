//! `POST /embed/consent`: decisions made on other ZecCloud sites' pages.

use crate::error::ApiError;
use crate::http::{AppForm, with_cookies};
use crate::service::{ConsentService, RequestContext};
use app::ErrorCode;
use app::domain::{ConsentAction, ConsentSource, DecisionForm, RecordedChoice, language};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The banner's form fields, plus where on the page the decision was made.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedDecision {
    policy_version: Option<String>,
    action: Option<String>,
    categories: Option<BTreeMap<String, String>>,
    language: Option<String>,
    /// `banner` or `preferences` (recorded as source `embed`), or `api` (source `api`).
    via: Option<String>,
    /// Set by the loader when it delivers a choice late, after the service could not save it.
    decided_ms_ago: Option<String>,
    /// Sent by the shared form markup; `via` says the same for the embed.
    #[serde(rename = "from")]
    _from: Option<String>,
}

/// The form as it travels: flat fields, the ticked categories as `categories[NAME]=on` (which
/// the decoder reads into `categories`). Written by hand: derive would describe the decoded
/// map as one `categories` field, which no form sends.
impl utoipa::PartialSchema for EmbedDecision {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
        let text = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        let words = |description: &str, words: &[&str]| {
            text(description).enum_values(Some(words.iter().copied()))
        };
        let actions: Vec<&str> = ConsentAction::ALL.iter().map(|a| a.as_str()).collect();
        ObjectBuilder::new()
            .property(
                "policy_version",
                text("The policy version the banner showed: the current one")
                    .min_length(Some(1))
                    .max_length(Some(64))
                    .pattern(Some("^[A-Za-z0-9._-]+$")),
            )
            .required("policy_version")
            .property("action", words("The choice", &actions))
            .required("action")
            .property(
                "via",
                words(
                    "Where on the page: `banner` or `preferences` (recorded as source `embed`), \
                     or `api` (source `api`)",
                    &["banner", "preferences", "api"],
                ),
            )
            .required("via")
            .property(
                "language",
                text("The host page's language; a language we write in is recorded, others are ignored"),
            )
            .property(
                "decided_ms_ago",
                text("Set by the loader when it delivers a choice late: milliseconds, at most an hour (empty: none)")
                    .pattern(Some(
                        "^(\\+?0*([0-9]{1,6}|[0-2][0-9]{6}|3[0-5][0-9]{5}|3600000))?$",
                    )),
            )
            .property(
                "from",
                text("Sent by the shared form markup; `via` says the same for the embed"),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .extensions(Some(utoipa::openapi::extensions::Extensions::from_iter([(
                // JSON Schema's own keyword, which utoipa's builder lacks: the ticked boxes.
                "patternProperties",
                serde_json::json!({
                    "^categories\\[[a-z][a-z0-9_]{0,31}\\]$": {
                        "type": "string",
                        "description": "A ticked category (`categories[NAME]=on`); any value ticks it"
                    }
                }),
            )])))
            .examples([serde_json::json!({
                "policy_version": "2026-12-07",
                "action": "custom",
                "categories[preferences]": "on",
                "language": "en",
                "via": "banner"
            })])
            .into()
    }
}

impl utoipa::ToSchema for EmbedDecision {}

/// Form-encoded like the banner's own forms, so no preflight; recorded with the page's origin.
/// Only allowed sites get here (`http::pages_only`, in the router).
#[utoipa::path(
    post,
    path = "/embed/consent",
    tag = "embed",
    summary = "A decision from the embedded banner (form-encoded, allowed origins only)",
    params(("Sec-GPC" = Option<String>, Header, description = "`1`: the browser's Global Privacy Control signal (a `gpc` decision needs it; without a decision it refuses what the policy lets it); other values are no signal", example = "1")),
    request_body(content = EmbedDecision, content_type = "application/x-www-form-urlencoded"),
    responses((
        status = 201,
        description = "Recorded; `Set-Cookie: zc_consent`",
        body = RecordedChoice,
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
        example = json!({
            "consent": {
                "policy_version": "2026-12-07",
                "categories": {"necessary": true, "preferences": true, "analytics": false},
                "event_id": "01968f3e-7b7a-7c3e-9f1d-2b4c6d8e0a12",
                "decided_at": 1_795_000_000,
                "action": "custom"
            },
            "clear_storage": []
        })
    ))
)]
pub async fn record(
    State(consent): State<Arc<ConsentService>>,
    context: RequestContext,
    AppForm(form): AppForm<EmbedDecision>,
) -> Result<Response, ApiError> {
    let source = match form.via.as_deref() {
        Some("banner" | "preferences") => ConsentSource::Embed,
        Some("api") => ConsentSource::Api,
        other => {
            return Err(ApiError::new(
                ErrorCode::InvalidVia,
                format!("via must be banner, preferences or api, not {other:?}"),
            ));
        }
    };
    let policy = consent.policies.cached().current().policy.clone();
    let decision = DecisionForm {
        policy_version: form.policy_version,
        action: form.action,
        categories: form.categories,
        // The host page's language, when it is one we write in.
        language: form
            .language
            .and_then(|l| language::supported(&l).map(str::to_owned)),
        decided_ms_ago: form.decided_ms_ago,
    };
    let request = decision.into_request(&policy)?;
    let recorded = consent.record(&context, request, source).await?;
    let response = (StatusCode::CREATED, Json(recorded.value)).into_response();
    Ok(with_cookies(response, recorded.set_cookies))
}
