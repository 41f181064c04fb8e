//! The operator console (`/admin`): Leptos pages rendered on the server from what
//! [`ConsoleService`](crate::service::console::ConsoleService) loads, behind a signed session
//! cookie that the admin token is exchanged for ([`ConsoleSession`](crate::http::console)).
//! One module per page; forms are plain POSTs accepted only from the console's own pages, and
//! sign-in attempts have a budget per network.

mod export;
mod identifiers;
mod log;
mod operations;
mod overview;
mod policies;
mod proof;
mod sign_in;

use crate::http::{check_own_page, limit_body};
use crate::state::AppState;
use app::console::{
    CONSOLE_PATH, EXPORT_PATH, IDENTIFIER_DRAFT_PATH, IDENTIFIERS_PATH, LOG_PATH, LOG_VERIFY_PATH,
    OPERATIONS_PATH, POLICIES_PATH, POLICY_PREVIEW_PATH, POLICY_PUBLISH_PATH, PROOF_PATH,
    SIGN_IN_PATH, SIGN_OUT_PATH,
};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{Next, from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderValue, header};
use std::sync::Arc;

/// Console forms are a token or a few fields.
const MAX_FORM_BYTES: usize = 4 * 1024;
/// A policy file (1 MiB, as the admin API takes) in a form.
const MAX_POLICY_FORM_BYTES: usize = 2 * 1024 * 1024;

pub fn router(state: &AppState) -> Router<AppState> {
    let own_pages =
        |router: Router<AppState>| router.layer(from_fn_with_state(state.clone(), own_pages_only));
    // The sign-in budget is outermost: posts refused as cross-site spend it too. Only POSTs
    // count against it (the layer passes safe methods).
    let sign_in =
        own_pages(Router::new().route(SIGN_IN_PATH, get(sign_in::page).post(sign_in::sign_in)))
            .layer(state.limits.sign_in.layer(Arc::clone(&state.metrics)));
    let pages = own_pages(
        Router::new()
            .route(CONSOLE_PATH, get(overview::overview))
            .route(PROOF_PATH, get(proof::proof))
            .route("/admin/proof/{id}/receipt", get(proof::receipt))
            .route(EXPORT_PATH, get(export::export))
            .route(POLICIES_PATH, get(policies::policies))
            .route(OPERATIONS_PATH, get(operations::operations))
            .route(LOG_PATH, get(log::log))
            .route(LOG_VERIFY_PATH, post(log::verify))
            .route(IDENTIFIERS_PATH, get(identifiers::identifiers))
            .route(IDENTIFIER_DRAFT_PATH, get(identifiers::draft))
            .route("/admin/scans/{id}", get(identifiers::scan))
            .route(SIGN_OUT_PATH, post(sign_in::sign_out)),
    );
    // A policy file with every language is larger than any other form.
    let publishing = own_pages(
        Router::new()
            .route(POLICY_PREVIEW_PATH, post(policies::preview))
            .route(POLICY_PUBLISH_PATH, post(policies::publish)),
    );
    limit_body(pages.merge(sign_in), MAX_FORM_BYTES)
        .merge(limit_body(publishing, MAX_POLICY_FORM_BYTES))
        .layer(map_response(private_answers))
}

/// State-changing requests only from the console's own pages.
async fn own_pages_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method().is_safe() {
        return next.run(request).await;
    }
    match check_own_page(&state.edge, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

/// What the console shows is for the signed-in operator only: never cached, never indexed.
async fn private_answers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    response
}
