//! The embed for other ZecCloud sites: `/embed.js`, its stylesheet and the report of
//! undeclared identifiers it imports on sampled page views ([`assets`]), the banner
//! and preference center as fragments of the same Leptos components ([`fragments`]), and the
//! endpoint the loader records decisions with ([`decisions`]). Cross-origin calls are answered
//! (CORS with credentials) only for the allowed origins.

mod assets;
pub mod decisions;
pub mod fragments;

use crate::http::{Unnamed, embed_cors, for_visitor_reads, for_visitors};
use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

/// This module's operations in the API's description (`routes::openapi` merges them).
#[derive(utoipa::OpenApi)]
#[openapi(paths(fragments::banner, fragments::preferences, decisions::record))]
pub struct Api;

pub fn router(state: &AppState) -> Router<AppState> {
    // The fragments and decisions know the visitor; the assets are the same for everyone.
    // Decisions go through the guards for state-changing requests. The fragments only read: a
    // first visit's fragment is the busiest per-visitor request, so it skips guards that let
    // reads through anyway, and checks its origin itself (`fragments::FragmentRequest`).
    let decisions = Router::new().route("/embed/consent", post(decisions::record));
    let fragments = Router::new()
        .route("/embed/banner", get(fragments::banner))
        .route("/embed/preferences", get(fragments::preferences));
    Router::new()
        .route("/embed.js", get(assets::loader))
        .route("/embed/observe.js", get(assets::observer))
        .route("/embed/{file}", get(assets::stylesheet))
        // Only browsers on allowed sites post decisions here.
        .merge(for_visitors(decisions, state, Unnamed::Refuse))
        .merge(for_visitor_reads(fragments, state))
        .layer(embed_cors(state))
}
