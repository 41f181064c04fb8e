//! The service's own pages and the banner's server functions, rendered by Leptos with the
//! consent service bound to each request.

use crate::http::not_saved::not_saved_pages;
use crate::http::page_cache::{PageCache, serve_cached};
use crate::http::pages::bound_consent;
use crate::http::visitor::private_to_the_visitor;
use crate::http::{Unnamed, for_visitors};
use crate::state::AppState;
use app::shell;
use axum::Router;
use leptos_axum::{AxumRouteListing, LeptosRoutes, file_and_error_handler_with_context};

/// The app's pages, rendered in order so the banner is in the HTML itself (no script needed).
fn page_routes() -> Vec<AxumRouteListing> {
    app::PAGE_PATHS
        .iter()
        .map(|path| {
            AxumRouteListing::new(
                (*path).to_owned(),
                leptos_router::SsrMode::InOrder,
                [leptos_router::Method::Get],
                Vec::new(),
            )
        })
        .collect()
}

/// Pages and server functions know the visitor by SSAID; static files and the not-found page
/// (the fallback) do not issue one.
pub fn router(state: &AppState) -> Router<AppState> {
    let context = bound_consent(state);
    let options = state.leptos_options.clone();
    let app_shell = move || shell(options.clone());
    let pages = Router::new()
        .leptos_routes_with_context(state, page_routes(), context.clone(), app_shell)
        // A plain form's choice that was not saved gets a page, not server_fn's JSON.
        .layer(axum::middleware::from_fn(not_saved_pages))
        // `/` and `/notice` rendered once per kind of visitor.
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), std::sync::Arc::new(PageCache::default())),
            serve_cached,
        ));
    // Server functions change state: only the service's own pages may call them.
    for_visitors(pages, state, Unnamed::Refuse)
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        // The not-found page shows the banner too; static files pass unchanged.
        .layer(axum::middleware::map_response(private_to_the_visitor))
}
