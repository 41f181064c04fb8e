//! `/matomo.php`: Matomo's Tracking HTTP API in front of Matomo. Every hit is decided from the
//! visitor's stored consent; the answer is Matomo's (a GIF, 204, or the bulk status) whatever
//! was decided, and comes before any forward, so the page never waits on Matomo.

use crate::domain::tracking::{BulkRequest, HitError, TrackingHit, VisitorSignals, is_bulk};
use crate::error::ApiError;
use crate::http::{HitSender, body_limits, check_origin, embed_cors};
use crate::service::matomo_gate::Shape;
use crate::state::AppState;
use app::ErrorCode;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, Method, StatusCode, header};
use serde_json::json;
use tower::ServiceBuilder;

/// Matomo's tracker posts bulk requests larger than any consent request, hence its own body
/// limit; no SSAID is issued to a tracking request.
pub fn router(state: &AppState, max_body_bytes: usize) -> Router<AppState> {
    let routes = Router::new()
        .route("/matomo.php", get(track).post(track))
        .route("/piwik.php", get(track).post(track));
    // One stack, applied once (see `every_answer`); CORS outermost, so a rejection by
    // the body limits still tells the embedding site's script why.
    routes.layer(
        ServiceBuilder::new()
            .layer(embed_cors(state))
            // CORS answers preflights itself, with an empty body of the inner body type.
            .map_response(|response: http::Response<_>| response.map(axum::body::Body::new))
            .layer(body_limits(max_body_bytes)),
    )
}

/// Matomo's 1×1 transparent GIF.
const TRANSPARENT_GIF: [u8; 43] = [
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// The request's hits, in the shape they came in.
struct Parsed {
    shape: Shape,
    hits: Vec<TrackingHit>,
    send_image: bool,
}

pub async fn track(
    State(state): State<AppState>,
    sender: HitSender,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some(gate) = state.matomo.as_ref() else {
        return Err(ApiError::new(
            ErrorCode::MatomoGateDisabled,
            "the Matomo gate is off: set matomo.upstream_url to enable it",
        ));
    };
    // Image requests name no origin; a cross-origin XHR or beacon must come from a ZecCloud site.
    check_origin(&state.edge, &headers, false).inspect_err(|err| {
        gate.metrics().rejected(err.code().as_str());
    })?;
    let parsed = parse(&method, query.as_deref(), &body).inspect_err(|err| {
        gate.metrics().rejected(err.code().as_str());
    })?;

    let signals = VisitorSignals {
        opted_in: state
            .consent
            .grants(
                sender.consent.as_ref(),
                gate.category(),
                &sender.location,
                sender.gpc,
            )
            .await,
        gpc: sender.gpc,
    };
    let mut visitor = sender.headers;
    if signals.opted_in {
        visitor.visitor_id = sender
            .ssaid
            .map(|ssaid| state.consent.matomo_visitor_id(&ssaid));
    }
    let admitted = gate.admit(&parsed.hits, signals, &visitor);
    gate.dispatch(parsed.shape, admitted);
    Ok(answer(&parsed))
}

fn parse(method: &Method, query: Option<&str>, body: &[u8]) -> Result<Parsed, HitError> {
    let query = query.unwrap_or_default();
    if *method == Method::POST && is_bulk(body) {
        let bulk = BulkRequest::parse(body)?;
        return Ok(Parsed {
            shape: Shape::Bulk,
            send_image: bulk.send_image,
            hits: bulk.hits,
        });
    }
    let (shape, hit) = if *method == Method::POST && !body.is_empty() {
        let form = std::str::from_utf8(body)
            .map_err(|_| HitError::BadEncoding("(request body)".to_owned()))?;
        // Matomo reads the query string and the body together (`$_GET + $_POST`: the query
        // string wins, so it comes last, where a repeated name keeps its value).
        let hit = if query.is_empty() {
            TrackingHit::parse(form)?
        } else {
            TrackingHit::parse(&format!("{form}&{query}"))?
        };
        (Shape::Form, hit)
    } else if *method == Method::POST {
        (Shape::Form, TrackingHit::parse(query)?)
    } else {
        (Shape::Query, TrackingHit::parse(query)?)
    };
    Ok(Parsed {
        shape,
        send_image: hit.wants_image(),
        hits: vec![hit],
    })
}

/// What Matomo answers: nothing tells the page whether its hit was forwarded.
fn answer(parsed: &Parsed) -> Response {
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    match (parsed.shape, parsed.send_image) {
        (_, false) => (StatusCode::NO_CONTENT, no_store).into_response(),
        (Shape::Bulk, true) => (
            no_store,
            axum::Json(json!({
                "status": "success",
                "tracked": parsed.hits.len(),
                "invalid": 0,
            })),
        )
            .into_response(),
        (_, true) => (
            no_store,
            [(header::CONTENT_TYPE, "image/gif")],
            TRANSPARENT_GIF.as_slice(),
        )
            .into_response(),
    }
}
