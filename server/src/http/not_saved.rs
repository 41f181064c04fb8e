//! A choice submitted as a plain HTML form (JavaScript off) that was not saved gets a page
//! saying so. server_fn answers such a form's error with JSON and a `Location` back to the
//! form, which browsers ignore on a 4xx/5xx: the visitor would see raw JSON. The status stays
//! what the JSON API answers (503 with `Retry-After` while storage is down), and so do the
//! cookies; the `Location` goes.

use crate::http::language;
use app::not_saved::{NotSaved, not_saved_page};
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};

/// The header server_fn marks its error answers with.
const SERVER_FN_ERROR: &str = "serverfnerror";

/// The error page allows only this service's stylesheet: no script, no form, no framing.
const NOT_SAVED_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
                             base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/// The longest error body read back; server_fn's are a code and one sentence.
const MAX_ERROR_BODY: usize = 16 * 1024;

pub async fn not_saved_pages(request: Request, next: Next) -> Response {
    // Only a browser's plain form POST: pages (GET) and the hydrated page's calls pass as they
    // are, without reading the language.
    let plain_form = request.method() == http::Method::POST
        && request
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    if !plain_form {
        return next.run(request).await;
    }
    let language = language::of_request(request.uri(), request.headers());
    let back = request
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "/".to_owned(), back_path);
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR) || response.status().is_success() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let error: serde_json::Value = match axum::body::to_bytes(body, MAX_ERROR_BODY).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
        Err(_) => serde_json::Value::Null,
    };
    let text = |key: &str| error[key].as_str().unwrap_or_default().to_owned();
    let (code, message) = (text("code"), text("message"));
    let html = not_saved_page(&NotSaved {
        language,
        code: if code.is_empty() { "internal" } else { &code },
        message: &message,
        back: &back,
    });
    parts.headers.remove(header::LOCATION);
    parts.headers.remove(SERVER_FN_ERROR);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts.headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(NOT_SAVED_CSP),
    );
    Response::from_parts(parts, Body::from(html))
}

/// The path and query of the page the form was on, without server_fn's error parameters: a
/// link on this service whatever the `Referer` names.
fn back_path(referer: &str) -> String {
    let Ok(uri) = referer.parse::<http::Uri>() else {
        return "/".to_owned();
    };
    let path = uri.path();
    // Only an absolute path: "//host" would leave the service.
    if !path.starts_with('/') || path.starts_with("//") {
        return "/".to_owned();
    }
    let query: Vec<(String, String)> = uri
        .query()
        .map(|query| {
            form_urlencoded::parse(query.as_bytes())
                .filter(|(key, _)| key != "__path" && key != "__err")
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect()
        })
        .unwrap_or_default();
    if query.is_empty() {
        return path.to_owned();
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(query)
        .finish();
    format!("{path}?{query}")
}

#[cfg(test)]
mod tests {
    use super::back_path;

    #[test]
    fn back_leads_to_the_forms_page_on_this_service_only() {
        assert_eq!(back_path("http://consent.example/notice"), "/notice");
        assert_eq!(
            back_path("https://consent.example/preferences?lang=ja&__path=%2F_sf&__err=e30%3D"),
            "/preferences?lang=ja"
        );
        assert_eq!(back_path("https://elsewhere.example//evil.example/x"), "/");
        assert_eq!(back_path("not a url"), "/");
        assert_eq!(back_path("/relative?a=1"), "/relative?a=1");
    }
}
