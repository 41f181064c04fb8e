//! The consent service for Leptos: each page render and server-function call gets the
//! service bound to its own request, read from the `Parts` leptos_axum provides first. Each
//! rendered page also gets its Content-Security-Policy, which names the page's own nonce.

use crate::service::{BoundConsent, RequestContext};
use crate::state::AppState;
use app::backend::{SharedBackend, WithCookies};
use app::domain::ConsentStatus;
use http::HeaderValue;
use http::request::Parts;
use leptos::nonce::use_nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::ResponseOptions;
use std::sync::Arc;

/// The consent status a layer in front of the page (the page cache) already read for this
/// request, handed to the page in the request's extensions.
#[derive(Clone)]
pub struct StatusRead(pub WithCookies<ConsentStatus>);

/// The additional context for `leptos_routes_with_context` and the error-page fallback.
pub fn bound_consent(state: &AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    let state = state.clone();
    move || {
        let Some(parts) = use_context::<Parts>() else {
            // leptos_axum provides the request first; without one there is nothing to bind.
            return;
        };
        let request = RequestContext::read(&parts, &state.edge, &state.consent);
        let backend: SharedBackend = Arc::new(BoundConsent {
            service: Arc::clone(&state.consent),
            request,
            status: parts
                .extensions
                .get::<StatusRead>()
                .map(|read| read.0.clone()),
        });
        provide_context(backend);
        // Only page renders have a nonce (server functions answer data, not HTML).
        if let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) {
            response.insert_header(
                http::header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&content_security_policy(&nonce.to_string()))
                    .expect("a nonce is base64"),
            );
        }
    }
}

/// The policy of every page: scripts only from this origin and the page's own inline scripts
/// (Leptos marks the hydration scripts with the nonce), WebAssembly compiled, no plugins, no
/// `<base>`, and no framing by any other site (the embed inserts fragments, it never frames).
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'self'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_own_and_nonced_scripts() {
        let policy = content_security_policy("abc123");
        assert_eq!(
            policy,
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'; object-src 'none'; \
             base-uri 'none'; frame-ancestors 'self'"
        );
        assert!(!policy.contains("'unsafe-inline'") && !policy.contains("'unsafe-eval'"));
    }
}
