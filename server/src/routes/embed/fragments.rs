//! `/embed/banner` and `/embed/preferences`: the service's own components as HTML fragments,
//! for the loader to put into a shadow root on another site's page.

use crate::embed_assets::EmbedAssets;
use crate::error::ApiError;
use crate::http::{PublicBase, check_origin};
use crate::routes::with_cookies;
use crate::service::{ConsentService, RequestContext};
use crate::state::AppState;
use app::domain::CurrentConsent;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, header};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Fragment {
    needs_prompt: bool,
    consent: Option<CurrentConsent>,
    /// The markup, when there is something to show.
    html: Option<String>,
    css: String,
}

/// Which layer a route serves: the first layer (only while the visitor must be asked), or
/// the preference center as a dialog (always).
pub const BANNER: bool = false;
pub const PREFERENCES: bool = true;

/// `GET /embed/banner[?lang=]` ([`BANNER`]) and `GET /embed/preferences[?lang=]`
/// ([`PREFERENCES`]).
pub async fn fragment<const LAYER: bool>(
    State(state): State<AppState>,
    context: RequestContext,
    PublicBase(base): PublicBase,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_origin(&state.edge, &headers, false)?;
    let consent: &ConsentService = &state.consent;
    let status = consent.status(&context).await?;
    let assets: &EmbedAssets = &state.embed;
    let css = assets
        .css(std::path::Path::new(&*state.leptos_options.site_root))
        .map_err(ApiError::internal)?;
    let needs_prompt = status.value.needs_prompt();
    let html = if LAYER == PREFERENCES {
        Some(app::embed::preferences_html(status.value.clone(), &base))
    } else {
        needs_prompt.then(|| app::embed::banner_html(status.value.clone(), &base))
    };
    let mut response = Json(Fragment {
        needs_prompt,
        consent: status.value.current,
        html,
        css: format!("{base}/embed/style.{}.css", css.hash),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(with_cookies(response, status.set_cookies))
}
