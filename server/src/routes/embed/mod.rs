//! The embed for other ZecCloud sites: `/embed.js` and its stylesheet ([`assets`]), the banner
//! and preference center as fragments of the same Leptos components ([`fragments`]), and the
//! endpoint the loader records decisions with ([`decisions`]). Cross-origin calls are answered
//! (CORS with credentials) only for the allowed origins.

mod assets;
pub mod decisions;
mod fragments;

use crate::error::ApiError;
use crate::http::visitor::private_to_the_visitor;
use crate::http::{Unnamed, ensure_ssaid, for_visitors};
use crate::state::AppState;
use app::ErrorCode;
use axum::Router;
use axum::middleware::{from_fn_with_state, map_response};
use axum::routing::{get, post};
use std::sync::Arc;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// CORS for the service's routes that other ZecCloud sites call with the visitor's cookies.
pub fn cors(state: &AppState) -> CorsLayer {
    let edge = Arc::clone(&state.edge);
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| edge.embed_origins.allows(origin))
        }))
        .allow_credentials(true)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([http::header::CONTENT_TYPE])
}

pub fn router(state: &AppState) -> Router<AppState> {
    // The fragments and decisions know the visitor; the assets are the same for everyone.
    // Decisions go through the guards for state-changing requests. The fragments are reads,
    // which those guards (the decision budget, the source check) let through untouched; they
    // are left out of their path because a first visit's fragment is the busiest per-visitor
    // request and the guards' per-request work showed in its profile. Their origin is still
    // checked (`fragments::FragmentRequest`), and they still get the visitor's SSAID and
    // private caching.
    let decisions = Router::new().route("/embed/consent", post(decisions::record));
    let fragments = Router::new()
        .route(
            "/embed/banner",
            get(fragments::fragment::<{ fragments::BANNER }>),
        )
        .route(
            "/embed/preferences",
            get(fragments::fragment::<{ fragments::PREFERENCES }>),
        )
        .route_layer(from_fn_with_state(state.clone(), ensure_ssaid))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                ErrorCode::MethodNotAllowed,
                "this endpoint does not accept that method",
            )
        })
        .layer(map_response(private_to_the_visitor));
    Router::new()
        .route("/embed.js", get(assets::loader))
        .route("/embed/{file}", get(assets::stylesheet))
        // Only browsers on allowed sites post decisions here.
        .merge(for_visitors(decisions, state, Unnamed::Refuse))
        .merge(fragments)
        .layer(cors(state))
}
