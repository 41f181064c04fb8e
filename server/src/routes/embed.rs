//! The embed for other ZecCloud sites: `/embed.js` (the loader), the banner and preference
//! center as fragments of the same Leptos components, their stylesheet, and the endpoint the
//! loader records decisions with. Cross-origin calls are answered only for allowed origins.

use crate::error::ApiError;
use crate::routes::consent::with_cookies;
use crate::service::RequestContext;
use crate::startup::AppState;
use app::domain::{
    ConsentAction, ConsentRequest, ConsentSource, CurrentConsent, StorageKey, language,
};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

const LOADER_SOURCE: &str = include_str!("../../embed/loader.js");
/// Cuts the host page's inherited styles off at the shadow root and sets ours. Important
/// declarations inside a shadow tree beat the host page's important ones, so even
/// `* { font-family: … !important }` on the host page stops at the shadow host.
const SHADOW_RESET: &str = ":host{all:initial!important;font-family:var(--zc-font)!important;line-height:1.55!important;color:var(--zc-fg)!important}";

/// Whitespace and comments out of the hand-written loader, so it stays within 2 KB brotli.
/// Only whole-line comments and spacing around operators outside the config go; string
/// literals in the loader contain none of the replaced sequences (the unit test runs it).
pub fn minify_loader(source: &str) -> String {
    let body = source
        .strip_prefix("/*")
        .and_then(|rest| rest.split_once("*/"))
        .map_or(source, |(_, rest)| rest);
    let mut out = body
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for (from, to) in [
        (" => ", "=>"),
        (" = ", "="),
        (" == ", "=="),
        (" != ", "!="),
        (" || ", "||"),
        (" && ", "&&"),
        (" ? ", "?"),
        (" : ", ":"),
        (", ", ","),
        (" + ", "+"),
        ("{ ", "{"),
        (" }", "}"),
        (") {", "){"),
        (" * ", "*"),
        (" < ", "<"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// What the loader needs to decide alone whether a returning visitor's cookie still holds.
#[derive(Debug, Serialize)]
struct LoaderConfig<'a> {
    base: &'a str,
    current: &'a str,
    /// Versions a choice may have been made on without being asked again: the latest material
    /// version and every one published after it.
    versions: Vec<&'a str>,
    /// The optional categories: one missing from the cookie means "ask".
    categories: Vec<&'a str>,
}

/// A rendered loader and its compressed forms, rebuilt when its config changes.
struct Loader {
    config: String,
    etag: String,
    plain: Bytes,
    brotli: Bytes,
    gzip: Bytes,
}

#[derive(Default)]
pub struct EmbedAssets {
    loader: Mutex<Option<Arc<Loader>>>,
    css: Mutex<Option<Arc<(String, Bytes)>>>,
}

fn compress(plain: &[u8]) -> (Bytes, Bytes) {
    let mut brotli = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
        writer
            .write_all(plain)
            .expect("writing to memory cannot fail");
    }
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(plain)
        .expect("writing to memory cannot fail");
    let gzip = gzip.finish().expect("writing to memory cannot fail");
    (Bytes::from(brotli), Bytes::from(gzip))
}

fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

impl EmbedAssets {
    fn loader(&self, config: String) -> Arc<Loader> {
        let mut cached = self.loader.lock().expect("loader cache lock");
        if let Some(loader) = cached.as_ref().filter(|l| l.config == config) {
            return Arc::clone(loader);
        }
        let js = minify_loader(LOADER_SOURCE).replace("__CONFIG__", &config);
        let (brotli, gzip) = compress(js.as_bytes());
        let loader = Arc::new(Loader {
            etag: etag_of(js.as_bytes()),
            config,
            plain: Bytes::from(js),
            brotli,
            gzip,
        });
        *cached = Some(Arc::clone(&loader));
        loader
    }

    /// The site stylesheet with the shadow-root reset in front, and its content hash.
    fn css(&self, site_root: &std::path::Path) -> Result<Arc<(String, Bytes)>, ApiError> {
        let mut cached = self.css.lock().expect("css cache lock");
        if let Some(css) = cached.as_ref() {
            return Ok(Arc::clone(css));
        }
        let path = site_root
            .join("pkg")
            .join(format!("{}.css", app::SITE_NAME));
        let site_css = std::fs::read_to_string(&path)
            .map_err(|err| ApiError::internal(format!("{}: {err}", path.display())))?;
        let css = format!("{SHADOW_RESET}{site_css}");
        let hash: String = Sha256::digest(css.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let css = Arc::new((hash, Bytes::from(css)));
        *cached = Some(Arc::clone(&css));
        Ok(css)
    }
}

/// The service's public origin, for links and fetches from other sites' pages.
fn service_base(state: &AppState, headers: &HeaderMap) -> String {
    state
        .consent
        .public_url
        .clone()
        .unwrap_or_else(|| crate::routes::base_url(headers))
        .trim_end_matches('/')
        .to_owned()
}

/// Cross-origin calls must come from an allowed site. `required`: the request must name its
/// origin at all (decisions do; a same-origin GET may not).
pub(crate) fn check_origin(
    state: &AppState,
    headers: &HeaderMap,
    required: bool,
) -> Result<(), ApiError> {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let own = service_base(state, headers);
    match origin {
        Some(origin) if origin == own || state.embed_origins.allows(origin) => Ok(()),
        None if !required => Ok(()),
        other => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "origin_not_allowed",
            format!(
                "{} may not use the consent service; ask for it to be added to embed_origins",
                other.unwrap_or("a request without an Origin header")
            ),
        )),
    }
}

/// `GET /embed.js`: short cache and an ETag, since it carries the current policy version.
pub async fn loader(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let snapshot = state.consent.policies.current().await;
    let base = service_base(&state, &headers);
    let history = snapshot.history();
    let since_material = history
        .iter()
        .rposition(|published| published.material)
        .unwrap_or(0);
    let current = snapshot.current();
    let config = LoaderConfig {
        base: &base,
        current: &current.record.version,
        versions: history[since_material..]
            .iter()
            .map(|published| published.version.as_str())
            .collect(),
        categories: current
            .policy
            .categories
            .iter()
            .filter(|category| !category.required())
            .map(|category| category.id.as_str())
            .collect(),
    };
    let config = serde_json::to_string(&config).expect("loader config serialises");
    let loader = state.embed.loader(config);

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

/// `GET /embed/style.HASH.css`: immutable, so browsers keep it for a year.
pub async fn stylesheet(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let css = state
        .embed
        .css(std::path::Path::new(&*state.leptos_options.site_root))?;
    if file != format!("style.{}.css", css.0) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such embed asset (the loader names the current one)",
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        css.1.clone(),
    )
        .into_response())
}

#[derive(Debug, Serialize)]
pub struct Fragment {
    needs_prompt: bool,
    consent: Option<CurrentConsent>,
    /// The markup, when there is something to show.
    html: Option<String>,
    css: String,
}

async fn fragment(
    state: &AppState,
    context: &RequestContext,
    uri: &http::Uri,
    headers: &HeaderMap,
    preferences: bool,
) -> Result<Response, ApiError> {
    check_origin(state, headers, false)?;
    let language = language::from_request(uri, headers);
    let status = state
        .consent
        .status_for(headers, language, Some(context))
        .await?;
    let base = service_base(state, headers);
    let css = state
        .embed
        .css(std::path::Path::new(&*state.leptos_options.site_root))?;
    let needs_prompt = status.value.needs_prompt();
    let html = if preferences {
        Some(app::embed::preferences_html(status.value.clone(), &base))
    } else {
        needs_prompt.then(|| app::embed::banner_html(status.value.clone(), &base))
    };
    let mut response = Json(Fragment {
        needs_prompt,
        consent: status.value.current,
        html,
        css: format!("{base}/embed/style.{}.css", css.0),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(with_cookies(response, status.set_cookies))
}

/// `GET /embed/banner[?lang=]`: the first layer for a visitor who must be asked.
pub async fn banner(
    State(state): State<AppState>,
    context: RequestContext,
    uri: http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    fragment(&state, &context, &uri, &headers, false).await
}

/// `GET /embed/preferences[?lang=]`: the preference center as a dialog.
pub async fn preferences(
    State(state): State<AppState>,
    context: RequestContext,
    uri: http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    fragment(&state, &context, &uri, &headers, true).await
}

#[derive(Debug, Serialize)]
pub struct EmbedDecision {
    consent: CurrentConsent,
    clear_storage: Vec<StorageKey>,
}

/// `POST /embed/consent`, form-encoded like the banner's forms (so no preflight):
/// `policy_version`, `action`, `language`, `categories[NAME]=on`, and `via` = `banner`,
/// `preferences` (recorded as source `embed`) or `api` (source `api`), with the page's origin.
pub async fn record(
    State(state): State<AppState>,
    context: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_origin(&state, &headers, true)?;
    let bad =
        |code: &'static str, message: String| ApiError::new(StatusCode::BAD_REQUEST, code, message);
    let (mut version, mut action, mut language, mut via) = (None, None, None, None);
    let mut ticked = BTreeSet::new();
    for (key, value) in form_urlencoded::parse(&body) {
        match key.as_ref() {
            "policy_version" => version = Some(value.into_owned()),
            "action" => action = Some(value.into_owned()),
            "language" => language = Some(value.into_owned()),
            "via" => via = Some(value.into_owned()),
            "from" => {}
            other => match other
                .strip_prefix("categories[")
                .and_then(|rest| rest.strip_suffix(']'))
            {
                Some(name) => {
                    ticked.insert(name.to_owned());
                }
                None => {
                    return Err(bad(
                        "unknown_field",
                        format!("unknown form field {other:?}"),
                    ));
                }
            },
        }
    }
    let (Some(version), Some(action)) = (version, action) else {
        return Err(bad(
            "missing_field",
            "policy_version and action are required".to_owned(),
        ));
    };
    let action = ConsentAction::parse(&action).ok_or_else(|| {
        bad(
            "invalid_action",
            format!("unknown action {action:?}: use accept_all, reject_all, custom or withdraw"),
        )
    })?;
    let source = match via.as_deref() {
        Some("banner" | "preferences") => ConsentSource::Embed,
        Some("api") => ConsentSource::Api,
        other => {
            return Err(bad(
                "invalid_via",
                format!("via must be banner, preferences or api, not {other:?}"),
            ));
        }
    };
    let policy = app::backend::ConsentBackend::policy(state.consent.as_ref());
    let mut request = ConsentRequest::from_form(&policy, version, action, ticked);
    request.language = language.and_then(|l| language::supported(&l).map(str::to_owned));
    let recorded = state
        .consent
        .record_for(&context, request, source, &headers)
        .await?;
    let response = (
        StatusCode::CREATED,
        Json(EmbedDecision {
            consent: recorded.value.consent,
            clear_storage: recorded.value.clear_storage,
        }),
    )
        .into_response();
    Ok(with_cookies(response, recorded.set_cookies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minified_loader_is_the_same_program_in_fewer_bytes() {
        let minified = minify_loader(LOADER_SOURCE);
        assert!(minified.len() < LOADER_SOURCE.len() * 3 / 4);
        assert!(minified.contains("__CONFIG__"));
        // The one regex with "; " in it survives.
        assert!(minified.contains("(?:^|; )zc_consent="));
    }
}
