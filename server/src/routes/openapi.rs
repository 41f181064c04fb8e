//! The JSON API described as OpenAPI 3.1 with utoipa, served at `/api/openapi.json` with a
//! reference page of our own at `/api/docs` (the usual viewers fetch their scripts from a CDN
//! at build or run time; this one is plain HTML from the same document, no script).
//!
//! Each operation is declared beside its handler (`#[utoipa::path]`), and so are the bodies
//! whose Rust types live in the `app` crate (shared with the WASM bundle, which must not carry
//! utoipa), by shape. Every operation answers errors from the one vocabulary
//! ([`ErrorCode`]): the document lists, per status, the codes that carry it. A test checks the
//! router's routes against the document's paths; schemathesis checks answers against it.

use crate::routes;
use app::ErrorCode;
use axum::response::{Html, IntoResponse, Response};
use std::collections::BTreeMap;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ZecCloud Consent API",
        description = "Consent decisions and their proof, the policy versions they are made on, \
                       the visitor's rights, SSAID risk assessment for ZecCloud back ends, and \
                       the operators' admin API. Errors are `{\"error\": {\"code\", \"message\"}}`; \
                       the code fixes the status.",
        license(name = "UNLICENSED")
    ),
    paths(
        routes::consent::get_consent,
        routes::consent::post_consent,
        routes::consent::get_receipt,
        routes::policy::current_policy,
        routes::policy::policy_version,
        routes::policy::jwks,
        routes::rights::my_data,
        routes::rights::erase_me,
        routes::rights::subject,
        routes::rights::subject_of_consent,
        routes::rights::erase_subject,
        routes::ssaid::assess,
        routes::admin::list_policies,
        routes::admin::publish_policy,
        routes::admin::purge_now,
        routes::admin::matomo_erasures,
        routes::admin::statistics,
        routes::admin::export,
        embed_banner,
        embed_preferences,
        routes::embed::decisions::record,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Vocabulary),
    tags(
        (name = "visitor", description = "What a visitor's browser (or a page of ours) calls"),
        (name = "embed", description = "The embedded banner on other ZecCloud sites"),
        (name = "policy", description = "Published policy versions and the receipt keys"),
        (name = "service", description = "ZecCloud back ends (bearer service token)"),
        (name = "admin", description = "Operators (bearer admin token)"),
    )
)]
struct ApiDoc;

/// Every error answer.
#[derive(ToSchema)]
#[allow(dead_code)] // A shape for the document.
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)] // A shape for the document.
pub struct ErrorDetail {
    /// Machine-readable; one of the vocabulary's codes (see the operation's responses).
    code: String,
    /// For people; never details of a server error.
    message: String,
}

/// The error responses, per status, with the codes of the vocabulary that carry it; and the
/// security schemes.
struct Vocabulary;

impl Modify for Vocabulary {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`admin_token` from the settings"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A `[[services]]` token from the settings"))
                    .build(),
            ),
        );
        let mut by_status: BTreeMap<u16, Vec<&'static str>> = BTreeMap::new();
        for code in ErrorCode::ALL {
            by_status
                .entry(code.status())
                .or_default()
                .push(code.as_str());
        }
        for path in document.paths.paths.values_mut() {
            for operation in operations(path) {
                for (status, codes) in &by_status {
                    let described = format!("Error; `error.code` is one of: {}", codes.join(", "));
                    let response = ResponseBuilder::new()
                        .description(described)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                    "ErrorBody",
                                ))))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(RefOr::T(response));
                }
            }
        }
    }
}

fn operations(path: &mut utoipa::openapi::path::PathItem) -> Vec<&mut Operation> {
    [
        path.get.as_mut(),
        path.post.as_mut(),
        path.put.as_mut(),
        path.patch.as_mut(),
        path.delete.as_mut(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The document.
pub fn document() -> Document {
    ApiDoc::openapi()
}

/// The document and its page never change while the service runs: made once.
static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
static PAGE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// `GET /api/openapi.json`.
pub async fn openapi_json() -> Response {
    let json =
        JSON.get_or_init(|| serde_json::to_string(&document()).expect("the document serialises"));
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        json.as_str(),
    )
        .into_response()
}

/// `GET /api/docs`: the operations as a page, from the same document. It has no script, and
/// its policy says so.
pub async fn reference_page() -> Response {
    (
        [(
            http::header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; \
             form-action 'none'; frame-ancestors 'none'",
        )],
        Html(PAGE.get_or_init(|| reference_html(&document())).as_str()),
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn reference_html(document: &Document) -> String {
    let mut body = String::new();
    for (path, item) in &document.paths.paths {
        let methods = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in methods {
            let Some(operation) = operation else { continue };
            let summary = operation.summary.as_deref().unwrap_or_default();
            let description = operation.description.as_deref().unwrap_or_default();
            let parameters: String = operation
                .parameters
                .iter()
                .flatten()
                .map(|parameter| {
                    format!(
                        "<li><code>{}</code> ({}{}) {}</li>",
                        escape(&parameter.name),
                        match parameter.parameter_in {
                            utoipa::openapi::path::ParameterIn::Path => "path",
                            utoipa::openapi::path::ParameterIn::Query => "query",
                            utoipa::openapi::path::ParameterIn::Header => "header",
                            utoipa::openapi::path::ParameterIn::Cookie => "cookie",
                        },
                        if matches!(parameter.required, utoipa::openapi::Required::True) {
                            ", required"
                        } else {
                            ""
                        },
                        escape(parameter.description.as_deref().unwrap_or_default())
                    )
                })
                .collect();
            let responses: String = operation
                .responses
                .responses
                .iter()
                .map(|(status, response)| {
                    let description = match response {
                        RefOr::T(response) => response.description.as_str(),
                        RefOr::Ref(_) => "",
                    };
                    format!(
                        "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                        escape(status),
                        escape(description)
                    )
                })
                .collect();
            body.push_str(&format!(
                "<section><h2><code>{method} {}</code></h2><p>{}</p><p>{}</p>{}\
                 <table><thead><tr><th scope=\"col\">Status</th><th scope=\"col\">Meaning</th></tr></thead>\
                 <tbody>{responses}</tbody></table></section>",
                escape(path),
                escape(summary),
                escape(description),
                if parameters.is_empty() {
                    String::new()
                } else {
                    format!("<h3>Parameters</h3><ul>{parameters}</ul>")
                },
            ));
        }
    }
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} reference</title><link rel=\"stylesheet\" href=\"/pkg/{site}.css\"></head>\
         <body><main class=\"zc-main zc-console__main\"><h1>{title}</h1>\
         <p>The machine-readable document: <a href=\"/api/openapi.json\">/api/openapi.json</a> \
         (OpenAPI {version}).</p>{body}</main></body></html>",
        title = escape(&document.info.title),
        site = app::SITE_NAME,
        version = "3.1",
    )
}

/// `GET /embed/banner[?lang=]`: the banner as a fragment for an allowed embedding site.
#[utoipa::path(
    get,
    path = "/embed/banner",
    tag = "embed",
    params(("lang" = Option<String>, Query, description = "A language of the policy")),
    responses((status = 200, description = "`{needs_prompt, consent, html, css}`", body = Object))
)]
#[allow(dead_code)] // Declares the generic handler `fragments::fragment::<BANNER>`.
fn embed_banner() {}

/// `GET /embed/preferences[?lang=]`: the preference center as a fragment.
#[utoipa::path(
    get,
    path = "/embed/preferences",
    tag = "embed",
    params(("lang" = Option<String>, Query, description = "A language of the policy")),
    responses((status = 200, description = "`{needs_prompt, consent, html, css}`", body = Object))
)]
#[allow(dead_code)] // Declares the generic handler `fragments::fragment::<PREFERENCES>`.
fn embed_preferences() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_every_error_status_of_the_vocabulary() {
        let mut document = document();
        let statuses: std::collections::BTreeSet<String> = ErrorCode::ALL
            .iter()
            .map(|code| code.status().to_string())
            .collect();
        for (path, item) in document.paths.paths.iter_mut() {
            for operation in operations(item) {
                for status in &statuses {
                    assert!(
                        operation.responses.responses.contains_key(status),
                        "{path} lacks {status}"
                    );
                }
            }
        }
    }

    /// The routes the router declares (every `.route("…", method(…))` in `routes/`), as
    /// `METHOD path`, for the JSON API: `/api/…`, the receipt keys and the embed's JSON routes.
    fn declared_routes() -> std::collections::BTreeSet<String> {
        let sources = [
            include_str!("mod.rs"),
            include_str!("admin.rs"),
            include_str!("consent.rs"),
            include_str!("policy.rs"),
            include_str!("rights.rs"),
            include_str!("ssaid.rs"),
            include_str!("embed/mod.rs"),
            include_str!("console/mod.rs"),
            include_str!("matomo.rs"),
            include_str!("pages.rs"),
        ];
        let not_described = ["/api/{*rest}", "/api/openapi.json", "/api/docs"];
        let mut routes = std::collections::BTreeSet::new();
        for source in sources {
            // `.route(` then the path literal, then the method router up to the closing `)`.
            for declaration in source.split(".route(").skip(1) {
                let declaration: String = declaration.split_whitespace().collect();
                let Some(path) = declaration
                    .strip_prefix('"')
                    .and_then(|rest| rest.split_once('"'))
                    .map(|(path, _)| path.to_owned())
                else {
                    continue;
                };
                let json_api = (path.starts_with("/api/")
                    && !not_described.contains(&path.as_str()))
                    || path == "/.well-known/jwks.json"
                    || ["/embed/banner", "/embed/preferences", "/embed/consent"]
                        .contains(&path.as_str());
                if !json_api {
                    continue;
                }
                let methods = declaration.split_once('"').unwrap().1;
                let methods = methods.split_once('"').map_or(methods, |(_, rest)| rest);
                for (token, method) in [
                    ("get(", "GET"),
                    ("post(", "POST"),
                    ("put(", "PUT"),
                    ("delete(", "DELETE"),
                ] {
                    // Only up to the next route: `.post(` after `get(…)` chains on the same one.
                    let own = methods.split(".route(").next().unwrap_or_default();
                    if own.contains(token) {
                        routes.insert(format!("{method} {path}"));
                    }
                }
            }
        }
        routes
    }

    #[test]
    fn the_router_and_the_document_name_the_same_operations() {
        let mut document = document();
        let mut described = std::collections::BTreeSet::new();
        for (path, item) in document.paths.paths.iter_mut() {
            for (method, operation) in [("GET", &item.get), ("POST", &item.post)] {
                if operation.is_some() {
                    described.insert(format!("{method} {path}"));
                }
            }
        }
        let declared = declared_routes();
        assert!(
            declared.len() >= 20,
            "the scan found the routes: {declared:?}"
        );
        assert_eq!(declared, described);
    }

    #[test]
    fn the_reference_page_lists_every_operation() {
        let document = document();
        let page = reference_html(&document);
        assert!(page.contains("<code>POST /api/v1/consent</code>"));
        assert!(page.contains("<code>GET /api/v1/admin/statistics</code>"));
        assert!(page.contains("rate_limited"));
    }
}
