//! `POST /api/v1/ssaid/assess`: ZecCloud back ends (console login, sign-up, ordering) ask
//! about the browser in front of them and get facts to act on (notice §01: risk control).

use crate::domain::risk::AssessedEvent;
use crate::error::{ApiError, AppJson};
use crate::http::edge::Edge;
use crate::http::origin::{Unnamed, check_source};
use crate::http::{CallingService, limit_body};
use crate::service::risk::{AssessmentRequest, RiskControl};
use crate::state::AppState;
use app::ErrorCode;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http::{HeaderMap, HeaderValue, header};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;

/// A token, an address, a User-Agent and a word: far below this.
const MAX_BODY_BYTES: usize = 8 * 1024;

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(assess))]
pub struct Api;

pub fn router() -> Router<AppState> {
    limit_body(
        Router::new().route("/api/v1/ssaid/assess", post(assess)),
        MAX_BODY_BYTES,
    )
}

/// What the back end saw.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "token": null,
    "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
    "event": "login"
}))]
#[serde(deny_unknown_fields)]
pub struct AssessBody {
    /// The `zc_ssaid` (or `__Host-zc_ssaid`) cookie value; absent when the browser sent none.
    /// Any text: a garbage token is an answer (`valid: false` and why), not an error.
    token: Option<String>,
    /// The visitor's address as the back end saw it (IPv4 or IPv6; whitespace around it is
    /// ignored); only its network is kept.
    #[schema(schema_with = ip_address)]
    ip: String,
    user_agent: Option<String>,
    /// `page`, `login`, `signup`, `order`, `api`, or up to 32 characters of the caller's own.
    #[schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]+$")]
    event: String,
}

/// An IPv4 or IPv6 address, as `IpAddr` parses it.
fn ip_address() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};
    let address = |format| {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(format)))
    };
    OneOfBuilder::new()
        .item(address(KnownFormat::Ipv4))
        .item(address(KnownFormat::Ipv6))
        .description(Some(
            "The visitor's address as the back end saw it (IPv4 or IPv6; whitespace around it is \
             ignored); only its network is kept.",
        ))
        .examples([serde_json::json!("203.0.113.7")])
        .into()
}

/// What `assess` answers for its example (a browser that sent no cookie yet), for the document.
fn assessment_example() -> serde_json::Value {
    let signal = |window: &str| serde_json::json!({"value": 0, "window": window});
    serde_json::json!({
        "valid": false,
        "reason": "missing",
        "ssaid": null,
        "age_secs": null,
        "terminal_type": null,
        "risk": "low",
        "risk_signals": [],
        "signals": {
            "forged_tokens_from_address": signal("1h"),
            "forged_tokens_from_network": signal("1h"),
            "networks": signal("24h"),
            "networks_30d": signal("30d"),
            "new_identifiers_from_address": signal("1h"),
            "new_identifiers_from_network": signal("1h"),
            "terminal_type_changed": signal("now"),
            "terminal_types": signal("24h"),
            "terminal_types_30d": signal("30d")
        },
        "consent": null
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/ssaid/assess",
    tag = "service",
    summary = "Assess the browser in front of a ZecCloud back end by its SSAID",
    request_body(content = AssessBody, content_type = "application/json"),
    responses((
        status = 200,
        description = "Validity, risk and its signals, the consent state",
        body = crate::service::risk::Assessment,
        links(
            ("subject" = (
                operation_id = "subject",
                parameters(("ssaid" = "$response.body#/ssaid")),
                description = "What the service holds under the assessed SSAID (admin)"
            ))
        ),
        example = assessment_example
    )),
    security(("service_token" = []))
)]
pub async fn assess(
    State(risk): State<Arc<RiskControl>>,
    State(edge): State<Arc<Edge>>,
    State(consent): State<Arc<crate::service::ConsentService>>,
    CallingService(service): CallingService,
    headers: HeaderMap,
    AppJson(body): AppJson<AssessBody>,
) -> Result<Response, ApiError> {
    // A server-to-server call names no page; a browser's page elsewhere may not ask.
    check_source(&edge, &headers, Unnamed::Accept)?;
    let ip: IpAddr = body.ip.trim().parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidAddress,
            format!("ip {:?} is not an IPv4 or IPv6 address", body.ip),
        )
    })?;
    let event = AssessedEvent::parse(&body.event)
        .map_err(|err| ApiError::new(ErrorCode::InvalidEvent, err.to_string()))?;
    let assessment = risk
        .assess(
            AssessmentRequest {
                token: body.token,
                ip,
                user_agent: body.user_agent,
                event,
            },
            &service,
        )
        .await
        .map_err(ApiError::internal)?;
    consent.counters.assessment(assessment.risk.as_str());
    let mut response = axum::Json(assessment).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
