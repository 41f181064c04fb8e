//! `/embed.js`, `/embed/observe.js` (the report of undeclared identifiers the loader imports
//! on a sampled page view) and `/embed/style.HASH.css`.

use crate::error::ApiError;
use crate::http::edge::Edge;
use crate::http::embed_assets::EmbedAssets;
use crate::service::observations::Observations;
use crate::service::policies::PolicyRegistry;
use app::ErrorCode;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use leptos::config::LeptosOptions;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// What the loader needs to decide alone whether a returning visitor's cookie still holds, and
/// whether this page view reports undeclared identifiers.
#[derive(Debug, Serialize)]
struct LoaderConfig<'a> {
    /// The configured public URL; without one the loader takes the URL it was loaded from, so
    /// that no request's `Host` ever reaches the shared, cached loader. Left out when unset:
    /// every visitor of every embedding page downloads this config.
    #[serde(skip_serializing_if = "Option::is_none")]
    base: Option<&'a str>,
    current: &'a str,
    /// Versions a choice may have been made on without being asked again: the latest material
    /// version and every one published after it.
    versions: Vec<&'a str>,
    /// The optional categories: one missing from the cookie means "ask".
    categories: Vec<&'a str>,
    /// The share of page views that import the report (`embed/observe.js`); 0: none does.
    sample_rate: f64,
}

/// What the report needs to tell undeclared names from declared ones and the choice in force.
#[derive(Debug, Serialize)]
struct ObserverConfig<'a> {
    /// The optional categories: all accepted, some or none make the choice in force.
    categories: Vec<&'a str>,
    /// Per kind, the names (and `prefix*` patterns) the registries of the still-valid versions
    /// declare: the report names none of them, so declared names never leave the browser.
    declared: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

/// The current version's optional categories.
fn optional_categories(policy: &app::domain::Policy) -> Vec<&str> {
    policy
        .categories
        .iter()
        .filter(|category| !category.required())
        .map(|category| category.id.as_str())
        .collect()
}

/// `GET /embed.js`: short cache and an ETag, since it carries the current policy version.
pub async fn loader(
    State(policies): State<Arc<PolicyRegistry>>,
    State(assets): State<Arc<EmbedAssets>>,
    State(edge): State<Arc<Edge>>,
    State(observations): State<Arc<Observations>>,
    headers: HeaderMap,
) -> Response {
    let snapshot = policies.current().await;
    let still_valid = snapshot.still_valid();
    let current = snapshot.current();
    let config = LoaderConfig {
        base: edge
            .public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/')),
        current: current.record.version.as_str(),
        versions: still_valid
            .iter()
            .map(|published| published.record.version.as_str())
            .collect(),
        categories: optional_categories(&current.policy),
        sample_rate: observations.sample_rate,
    };
    let config = serde_json::to_string(&config).expect("loader config serialises");
    let loader = assets.loader(config);

    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == loader.etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let accepts = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let (body, encoding) = if accepts.contains("br") {
            (loader.brotli.clone(), Some("br"))
        } else if accepts.contains("gzip") {
            (loader.gzip.clone(), Some("gzip"))
        } else {
            (loader.plain.clone(), None)
        };
        let mut response = Response::new(Body::from(body));
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(&loader.etag).expect("hex etag"),
    );
    response
}

/// `GET /embed/observe.js`: a module, imported cross-origin (CORS, for the embedding sites
/// only), so that it comes without the visitor's cookies. Cached like the loader: it carries
/// the registries of the still-valid versions.
pub async fn observer(State(policies): State<Arc<PolicyRegistry>>) -> Response {
    let snapshot = policies.current().await;
    let mut declared: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for identifier in snapshot
        .still_valid()
        .iter()
        .flat_map(|published| &published.policy.categories)
        .flat_map(|category| &category.identifiers)
    {
        declared
            .entry(identifier.kind.as_str())
            .or_default()
            .insert(identifier.name.as_str());
    }
    let config = ObserverConfig {
        categories: optional_categories(&snapshot.current().policy),
        declared,
    };
    let config = serde_json::to_string(&config).expect("observer config serialises");
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        EmbedAssets::observer(&config),
    )
        .into_response()
}

/// `GET /embed/style.HASH.css`: immutable, so browsers keep it for a year.
pub async fn stylesheet(
    State(assets): State<Arc<EmbedAssets>>,
    State(options): State<LeptosOptions>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let css = assets
        .css(std::path::Path::new(&*options.site_root))
        .map_err(ApiError::internal)?;
    if file != format!("style.{}.css", css.hash) {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            "no such embed asset (the loader names the current one)",
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        css.css.clone(),
    )
        .into_response())
}
