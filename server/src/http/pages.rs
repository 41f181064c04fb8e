//! The consent service for Leptos: each page render and server-function call gets the
//! service bound to its own request, read from the `Parts` leptos_axum provides first.

use crate::service::{BoundConsent, RequestContext};
use crate::state::AppState;
use app::backend::SharedBackend;
use http::request::Parts;
use leptos::prelude::{provide_context, use_context};
use std::sync::Arc;

/// The additional context for `leptos_routes_with_context` and the error-page fallback.
pub fn bound_consent(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let state = state.clone();
    move || {
        let Some(parts) = use_context::<Parts>() else {
            // leptos_axum provides the request first; without one there is nothing to bind.
            return;
        };
        let request = RequestContext::read(&parts, &state.edge, &state.consent.tokens);
        let backend: SharedBackend = Arc::new(BoundConsent {
            service: Arc::clone(&state.consent),
            request,
        });
        provide_context(backend);
    }
}
