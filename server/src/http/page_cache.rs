//! The visitor pages rendered once per kind of visitor instead of once per request (issue 17).
//!
//! Everything these pages show follows from the request's consent status: the policy version
//! and language, why the banner asks (if it does), the GPC signal, and the standing choice.
//! Only a few things in their HTML belong to one request: the CSP nonce, the choice's event id
//! (the receipt link), the time it was made, and on `/preferences` the "Your data" section. So a page is rendered by Leptos the first time
//! its kind is seen, those three values are cut out of it, and later visitors of the same kind
//! get the same HTML with their own values put back. A status that sets a cookie (a GPC default
//! being recorded) or cannot be read is rendered as before.

use crate::error::ApiError;
use crate::http::pages::{StatusRead, content_security_policy};
use crate::service::{BoundConsent, RequestContext};
use crate::state::AppState;
use app::backend::ConsentBackend;
use app::domain::date::format_utc;
use app::domain::{ConsentAction, ConsentStatus, PromptReason};
use app::preference_center::{erased_reference, your_data_html};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The pages served from the cache.
const CACHED_PATHS: [&str; 4] = app::PAGE_PATHS;

/// How many kinds of page are kept; the cache starts over when full. Kinds are few (paths ×
/// languages × prompt reasons × choices), and none can be made up by a client: a standing
/// choice comes from a signed cookie or storage.
const MAX_KINDS: usize = 512;

/// A rendered page larger than this is served but not kept.
const MAX_PAGE_BYTES: usize = 1 << 20;

/// What a page's HTML depends on, apart from the values cut out of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKind {
    path: &'static str,
    version: String,
    language: String,
    prompt: Option<PromptReason>,
    gpc_signal: bool,
    /// The regime decides the first layer; the country itself is shown nowhere.
    jurisdiction: (String, app::domain::Regime, bool),
    choice: Option<ChoiceKind>,
}

/// A standing choice without what is the visitor's own (its event id and time).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ChoiceKind {
    policy_version: String,
    categories: Vec<(String, bool)>,
    action: ConsentAction,
}

impl PageKind {
    fn of(path: &'static str, status: &ConsentStatus) -> Self {
        Self {
            path,
            version: status.policy.version.clone(),
            language: status.policy.language.clone(),
            prompt: status.prompt.clone(),
            gpc_signal: status.gpc_signal,
            jurisdiction: (
                status.jurisdiction.name.clone(),
                status.jurisdiction.regime,
                status.jurisdiction.show_collection_details,
            ),
            choice: status.current.as_ref().map(|current| ChoiceKind {
                policy_version: current.policy_version.clone(),
                categories: current.categories.clone().into_iter().collect(),
                action: current.action,
            }),
        }
    }
}

/// The values of one request that its page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holes {
    nonce: String,
    event_id: Option<String>,
    decided_at: Option<String>,
    /// `/preferences`' "Your data", rendered for this visitor.
    your_data: Option<String>,
}

impl Holes {
    fn of(nonce: String, status: &ConsentStatus, your_data: Option<String>) -> Self {
        Self {
            nonce,
            event_id: status.current.as_ref().map(|c| c.event_id.clone()),
            decided_at: status.current.as_ref().map(|c| format_utc(c.decided_at)),
            your_data,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hole {
    Nonce,
    EventId,
    DecidedAt,
    YourData,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Hole(Hole),
}

/// A page with its request's values cut out.
#[derive(Debug, PartialEq, Eq)]
struct Template {
    pieces: Vec<Piece>,
    /// The length of the text pieces, to size the page once.
    text_len: usize,
}

impl Template {
    /// Cuts `holes` out of `html`. `None` when a visitor's value is not exactly once in the
    /// page (it could then also be some other text that must not be replaced), or the nonce is
    /// missing: such a page is served but not kept.
    fn cut(html: &str, holes: &Holes) -> Option<Self> {
        let mut pieces = vec![Piece::Text(html.to_owned())];
        // "Your data" first: the visitor's values inside it (a decision's time) go with it.
        for (hole, value) in [
            (Hole::YourData, holes.your_data.as_deref()),
            (Hole::EventId, holes.event_id.as_deref()),
            (Hole::DecidedAt, holes.decided_at.as_deref()),
        ] {
            if let Some(value) = value {
                pieces = split(pieces, hole, value, Some(1))?;
            }
        }
        let pieces = split(pieces, Hole::Nonce, &holes.nonce, None)?;
        let text_len = pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => text.len(),
                Piece::Hole(_) => 0,
            })
            .sum();
        Some(Self { pieces, text_len })
    }

    /// The page with `holes` put back; `None` if the template has a hole this request has no
    /// value for (a kind of page is either decided or not, so this does not happen).
    fn fill(&self, holes: &Holes) -> Option<String> {
        let mut page = String::with_capacity(self.text_len + 256);
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => page.push_str(text),
                Piece::Hole(Hole::Nonce) => page.push_str(&holes.nonce),
                Piece::Hole(Hole::EventId) => page.push_str(holes.event_id.as_deref()?),
                Piece::Hole(Hole::DecidedAt) => page.push_str(holes.decided_at.as_deref()?),
                Piece::Hole(Hole::YourData) => page.push_str(holes.your_data.as_deref()?),
            }
        }
        Some(page)
    }
}

/// `pieces` with every `needle` in their text replaced by `hole`: `None` if the needle is
/// empty, absent, or not `exactly` as many times as asked.
fn split(
    pieces: Vec<Piece>,
    hole: Hole,
    needle: &str,
    exactly: Option<usize>,
) -> Option<Vec<Piece>> {
    let count: usize = pieces
        .iter()
        .map(|piece| match piece {
            Piece::Text(text) => text.matches(needle).count(),
            Piece::Hole(_) => 0,
        })
        .sum();
    if needle.is_empty() || count == 0 || exactly.is_some_and(|exactly| count != exactly) {
        return None;
    }
    let mut out = Vec::with_capacity(pieces.len() + 2 * count);
    for piece in pieces {
        let Piece::Text(text) = piece else {
            out.push(piece);
            continue;
        };
        for (i, part) in text.split(needle).enumerate() {
            if i > 0 {
                out.push(Piece::Hole(hole));
            }
            if !part.is_empty() {
                out.push(Piece::Text(part.to_owned()));
            }
        }
    }
    Some(out)
}

/// The pages kept, by kind.
#[derive(Default)]
pub struct PageCache {
    templates: RwLock<HashMap<PageKind, Arc<Template>>>,
}

impl PageCache {
    fn get(&self, kind: &PageKind) -> Option<Arc<Template>> {
        self.templates
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(kind)
            .cloned()
    }

    fn keep(&self, kind: PageKind, template: Template) {
        let mut templates = self
            .templates
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if templates.len() >= MAX_KINDS {
            templates.clear();
        }
        templates.insert(kind, Arc::new(template));
    }
}

/// The middleware: inside the visitor layer (the request knows its SSAID), around the Leptos
/// pages.
pub async fn serve_cached(
    State((state, cache)): State<(AppState, Arc<PageCache>)>,
    request: Request,
    next: Next,
) -> Response {
    let Some(path) = CACHED_PATHS
        .into_iter()
        .find(|&path| path == request.uri().path())
    else {
        return next.run(request).await;
    };
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let context = RequestContext::read(&parts, &state.edge, &state.consent);
    let Ok(read) = state.consent.status(&context).await else {
        // Storage trouble: the page as Leptos renders it, with its error.
        state.metrics.page_served("not_kept");
        return next.run(Request::from_parts(parts, body)).await;
    };
    // The page, if rendered, uses this status rather than reading it again.
    parts.extensions.insert(StatusRead(read.clone()));
    if !read.set_cookies.is_empty() {
        // A GPC default just recorded: its cookie is this visitor's alone.
        state.metrics.page_served("not_kept");
        return next.run(Request::from_parts(parts, body)).await;
    }
    let status = read.value;
    let your_data = if path == app::PREFERENCES_PATH {
        let erased = form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .find(|(name, _)| name == "erased")
            .and_then(|(_, value)| erased_reference(Some(&value)));
        let visitor = BoundConsent {
            service: Arc::clone(&state.consent),
            request: context,
            status: None,
        };
        match visitor.my_data().await {
            Ok(data) => Some(your_data_html(Ok(data), &status.policy.language, erased)),
            Err(_) => {
                // The page as Leptos renders it, with the error where the data would be.
                state.metrics.page_served("not_kept");
                return next.run(Request::from_parts(parts, body)).await;
            }
        }
    } else {
        None
    };
    let kind = PageKind::of(path, &status);
    if let Some(template) = cache.get(&kind) {
        let nonce = leptos::nonce::Nonce::new().to_string();
        if let Some(page) = template.fill(&Holes::of(nonce.clone(), &status, your_data.clone())) {
            state.metrics.page_served("kept");
            return page_response(page, &nonce);
        }
    }
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let Some(nonce) = response
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|value| value.to_str().ok())
        .and_then(nonce_in)
        .map(str::to_owned)
    else {
        return response;
    };
    let (parts, body) = response.into_parts();
    // The page is our own render, read whole to be cut; only its keeping is bounded.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => bytes,
        // The render failed part-way: there is no page to send.
        Err(error) => return ApiError::internal(error).into_response(),
    };
    if bytes.len() <= MAX_PAGE_BYTES
        && let Ok(html) = std::str::from_utf8(&bytes)
        && let Some(template) = Template::cut(html, &Holes::of(nonce, &status, your_data))
    {
        cache.keep(kind, template);
        state.metrics.page_served("rendered");
    } else {
        state.metrics.page_served("not_kept");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The nonce a page's Content-Security-Policy names.
fn nonce_in(policy: &str) -> Option<&str> {
    let start = policy.find("'nonce-")? + "'nonce-".len();
    let len = policy[start..].find('\'')?;
    Some(&policy[start..start + len])
}

/// A page as the Leptos handler answers it: the outer layers add the rest of the headers.
fn page_response(page: String, nonce: &str) -> Response {
    let mut response = Response::new(Body::from(page));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(nonce)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holes(nonce: &str, event: Option<&str>, at: Option<&str>) -> Holes {
        Holes {
            nonce: nonce.to_owned(),
            event_id: event.map(str::to_owned),
            decided_at: at.map(str::to_owned),
            your_data: None,
        }
    }

    #[test]
    fn the_visitors_own_section_takes_their_values_inside_it_along() {
        let html = "<i nonce=\"N\"></i><p>D</p><section>D · E</section>";
        let mut mine = holes("N", None, Some("D"));
        mine.your_data = Some("<section>D · E</section>".to_owned());
        let template = Template::cut(html, &mine).expect("the time is once outside the section");
        let mut theirs = holes("M", None, Some("F"));
        theirs.your_data = Some("<section>F · G</section>".to_owned());
        assert_eq!(
            template.fill(&theirs).as_deref(),
            Some("<i nonce=\"M\"></i><p>F</p><section>F · G</section>")
        );
    }

    #[test]
    fn a_page_cut_and_filled_with_its_own_values_is_the_same_page() {
        let html = "<script nonce=\"N1\">x</script><a href=\"/r/E1\">E</a><p>Made on D1.</p><i nonce=\"N1\"></i>";
        let mine = holes("N1", Some("E1"), Some("D1"));
        let template = Template::cut(html, &mine).expect("cut");
        assert_eq!(template.fill(&mine).as_deref(), Some(html));
        assert_eq!(
            template
                .fill(&holes("N2", Some("E2"), Some("D2")))
                .as_deref(),
            Some(
                "<script nonce=\"N2\">x</script><a href=\"/r/E2\">E</a><p>Made on D2.</p><i nonce=\"N2\"></i>"
            )
        );
        assert_eq!(template.fill(&holes("N2", None, None)), None);
    }

    #[test]
    fn a_visitor_value_that_is_not_exactly_once_in_the_page_is_not_kept() {
        let twice = "<b nonce=\"N\"></b>D D";
        assert_eq!(
            Template::cut(twice, &holes("N", Some("x"), Some("D"))),
            None
        );
        assert_eq!(Template::cut("<b></b>", &holes("N", None, None)), None);
        assert!(Template::cut("<b nonce=\"N\"></b>", &holes("N", None, None)).is_some());
    }

    #[test]
    fn the_nonce_is_read_from_the_policy() {
        assert_eq!(nonce_in(&content_security_policy("abc123")), Some("abc123"));
        assert_eq!(nonce_in("script-src 'self'"), None);
    }
}
