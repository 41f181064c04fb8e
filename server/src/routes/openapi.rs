//! The JSON API described as OpenAPI 3.1 with utoipa, served at `/api/openapi.json` with a
//! reference page of our own at `/api/docs` (the usual viewers fetch their scripts from a CDN
//! at build or run time; this one is plain HTML from the same document, no script).
//!
//! Each route module declares its operations beside their handlers (`#[utoipa::path]`) and
//! lists them in its own `Api`; here they are merged into one document. Bodies are described by
//! their real types (`ToSchema`, derived in the `app` crate only with its `ssr` feature, so the
//! WASM bundle carries no utoipa). Every operation answers errors from the one vocabulary
//! ([`ErrorCode`]): the document lists, per status, the codes that carry it. A test checks the
//! router's routes against the document's paths; schemathesis checks answers against it.

use crate::error::{ErrorBody, ErrorDetail};
use crate::routes;
use app::ErrorCode;
use axum::response::{Html, IntoResponse, Response};
use std::collections::BTreeMap;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// What the document says besides its operations.
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
    components(schemas(ErrorBody, ErrorDetail, ErrorCode)),
    tags(
        (name = "visitor", description = "What a visitor's browser (or a page of ours) calls"),
        (name = "embed", description = "The embedded banner on other ZecCloud sites"),
        (name = "policy", description = "Published policy versions and the receipt keys"),
        (name = "log", description = "The consent log: signed heads, keys, inclusion and consistency proofs (docs/consent-log.md)"),
        (name = "service", description = "ZecCloud back ends (bearer service token)"),
        (name = "admin", description = "Operators (bearer admin token)"),
    )
)]
struct ApiDoc;

/// Every route module's operations.
fn operations_of_each_module() -> [Document; 8] {
    [
        routes::consent::Api::openapi(),
        routes::policy::Api::openapi(),
        routes::log::Api::openapi(),
        routes::rights::Api::openapi(),
        routes::ssaid::Api::openapi(),
        routes::admin::Api::openapi(),
        routes::embed::Api::openapi(),
        routes::observations::Api::openapi(),
    ]
}

/// The error responses, per status, with the codes of the vocabulary that carry it; and the
/// security schemes. Applied once the modules' operations are merged in.
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
                    // The body, with `error.code` narrowed to this status's codes.
                    let narrowed = ObjectBuilder::new().property(
                        "error",
                        ObjectBuilder::new().property(
                            "code",
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .enum_values(Some(codes.iter().copied())),
                        ),
                    );
                    let schema = AllOfBuilder::new()
                        .item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "ErrorBody",
                        )))
                        .item(narrowed);
                    let example = serde_json::json!({"error": {
                        "code": codes[0],
                        "message": format!("what went wrong, for people ({})", codes[0]),
                    }});
                    let response = ResponseBuilder::new()
                        .description(described)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(schema))
                                .example(Some(example))
                                .build(),
                        )
                        .build();
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert(RefOr::T(response));
                }
                for response in operation.responses.responses.values_mut() {
                    if let RefOr::T(response) = response {
                        links_name_operations_as_the_specification_does(response);
                    }
                }
            }
        }
    }
}

/// utoipa 5.5 writes a link's `operationId` as `operation_id`, which no client reads: the id
/// moves to the link's extension fields, which are written as named.
fn links_name_operations_as_the_specification_does(response: &mut utoipa::openapi::Response) {
    for link in response.links.values_mut() {
        if let RefOr::T(link) = link
            && !link.operation_id.is_empty()
        {
            let id = std::mem::take(&mut link.operation_id);
            link.extensions
                .get_or_insert_with(Default::default)
                .insert("operationId".to_owned(), serde_json::Value::String(id));
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

/// The document: the modules' operations merged, then the error vocabulary on each.
pub fn document() -> Document {
    let mut document = ApiDoc::openapi();
    for operations in operations_of_each_module() {
        document.merge(operations);
    }
    Vocabulary.modify(&mut document);
    document
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
            include_str!("log.rs"),
            include_str!("rights.rs"),
            include_str!("ssaid.rs"),
            include_str!("embed/mod.rs"),
            include_str!("console/mod.rs"),
            include_str!("matomo.rs"),
            include_str!("observations.rs"),
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

    /// The document as it is served.
    fn served() -> serde_json::Value {
        serde_json::to_value(document()).expect("the document serialises")
    }

    /// Every operation of the served document, as `(METHOD path, operation)`.
    fn each_operation(document: &serde_json::Value) -> Vec<(String, &serde_json::Value)> {
        let mut found = Vec::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                found.push((format!("{} {path}", method.to_uppercase()), operation));
            }
        }
        found
    }

    /// A schema with its `$ref` followed (to `#/components/schemas/…`).
    fn resolved<'a>(
        document: &'a serde_json::Value,
        schema: &'a serde_json::Value,
    ) -> &'a serde_json::Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/components/schemas/")
                    .expect("references point at component schemas");
                let target = &document["components"]["schemas"][name];
                assert!(!target.is_null(), "{reference} is not in the document");
                resolved(document, target)
            }
            None => schema,
        }
    }

    /// The receipt's JSON Schema as published (`docs/consent-receipt.schema.json`).
    fn published_receipt_schema() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../docs/consent-receipt.schema.json"))
            .expect("the published receipt schema is JSON")
    }

    /// A node of the published schema with its `$ref` (to `#/$defs/…`) followed.
    fn published_node<'a>(
        published: &'a serde_json::Value,
        schema: &'a serde_json::Value,
    ) -> &'a serde_json::Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference
                    .strip_prefix("#/$defs/")
                    .expect("the published schema refers to its own $defs");
                &published["$defs"][name]
            }
            None => schema,
        }
    }

    /// A node of the document with its reference followed and a nullable wrapper
    /// (`oneOf: [null, …]`) taken off.
    fn document_node<'a>(
        document: &'a serde_json::Value,
        schema: &'a serde_json::Value,
    ) -> &'a serde_json::Value {
        let schema = resolved(document, schema);
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = schema[key].as_array() {
                let typed: Vec<_> = branches
                    .iter()
                    .filter(|branch| branch["type"] != "null")
                    .collect();
                if let [only] = typed.as_slice() {
                    return document_node(document, only);
                }
            }
        }
        schema
    }

    /// Compares one receipt node of the document with the published one: the same property
    /// names, every property the document requires required by the published schema too (it
    /// also requires the nullable ones, which are always written), the same enumerations,
    /// then each property and array item in turn. Returns the differences, by path.
    fn receipt_schema_drift(
        document: &serde_json::Value,
        ours: &serde_json::Value,
        published: &serde_json::Value,
        theirs: &serde_json::Value,
        path: &str,
    ) -> Vec<String> {
        use std::collections::BTreeSet;
        let ours = document_node(document, ours);
        let theirs = published_node(published, theirs);
        let mut drift = Vec::new();
        let names = |node: &serde_json::Value| -> BTreeSet<String> {
            node["properties"]
                .as_object()
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default()
        };
        let listed = |node: &serde_json::Value, key: &str| -> BTreeSet<String> {
            node[key]
                .as_array()
                .into_iter()
                .flatten()
                .map(|value| value.to_string())
                .collect()
        };
        if names(ours) != names(theirs) {
            drift.push(format!(
                "{path}: the document has {:?}, the published schema {:?}",
                names(ours),
                names(theirs)
            ));
        }
        let not_required: Vec<_> = listed(ours, "required")
            .difference(&listed(theirs, "required"))
            .cloned()
            .collect();
        if !not_required.is_empty() {
            drift.push(format!(
                "{path}: the published schema does not require {not_required:?}"
            ));
        }
        if ours["enum"].is_array()
            && theirs["enum"].is_array()
            && listed(ours, "enum") != listed(theirs, "enum")
        {
            drift.push(format!("{path}: the enumerations differ"));
        }
        if !names(theirs).is_empty() && theirs["additionalProperties"] != false {
            drift.push(format!("{path}: the published object is not closed"));
        }
        for name in names(ours).intersection(&names(theirs)) {
            drift.extend(receipt_schema_drift(
                document,
                &ours["properties"][name],
                published,
                &theirs["properties"][name],
                &format!("{path}.{name}"),
            ));
        }
        if ours["items"].is_object() && theirs["items"].is_object() {
            drift.extend(receipt_schema_drift(
                document,
                &ours["items"],
                published,
                &theirs["items"],
                &format!("{path}[]"),
            ));
        }
        drift
    }

    /// One source per side, and a test between them: the receipt type's schema in the
    /// document (derived from the Rust type) and the JSON Schema published for auditors must
    /// name the same fields, or this fails.
    #[test]
    fn the_published_receipt_schema_and_the_document_agree() {
        let document = served();
        let published = published_receipt_schema();
        let ours = serde_json::json!({"$ref": "#/components/schemas/ConsentReceipt"});
        let drift = receipt_schema_drift(&document, &ours, &published, &published, "receipt");
        assert!(drift.is_empty(), "{drift:#?}");
        // The comparison sees a difference when there is one.
        let mut narrowed = published.clone();
        narrowed["$defs"]["jurisdiction"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("country_source");
        let drift = receipt_schema_drift(&document, &ours, &narrowed, &narrowed, "receipt");
        assert_eq!(drift.len(), 1, "{drift:#?}");
        assert!(drift[0].starts_with("receipt.jurisdiction:"), "{drift:#?}");
    }

    /// The document's receipt example is a receipt as the published schema describes it.
    #[test]
    fn the_receipt_example_is_valid_against_the_published_schema() {
        let document = served();
        let example = &document["paths"]["/api/v1/consent/{id}/receipt"]["get"]["responses"]["200"]
            ["content"]["application/json"]["example"];
        assert!(example["receipt"].is_object(), "{example}");
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&published_receipt_schema())
            .expect("the published schema is a draft 2020-12 schema");
        let errors: Vec<String> = validator
            .iter_errors(&example["receipt"])
            .map(|error| format!("{}: {error}", error.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    fn has_example(value: &serde_json::Value) -> bool {
        !value["example"].is_null()
            || value["examples"].as_array().is_some_and(|e| !e.is_empty())
            || value["examples"].as_object().is_some_and(|e| !e.is_empty())
    }

    /// Whether a media type (or parameter) shows an example, itself or through its schema.
    fn exemplified(document: &serde_json::Value, media: &serde_json::Value) -> bool {
        has_example(media) || has_example(resolved(document, &media["schema"]))
    }

    #[test]
    fn every_operation_has_an_example_request_and_answer() {
        let document = served();
        for (operation_name, operation) in each_operation(&document) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                assert!(
                    exemplified(&document, parameter),
                    "{operation_name}: parameter {} has no example",
                    parameter["name"]
                );
            }
            if let Some(content) = operation["requestBody"]["content"].as_object() {
                for (media_type, media) in content {
                    assert!(
                        exemplified(&document, media),
                        "{operation_name}: the {media_type} body has no example"
                    );
                }
            }
            let mut answered = false;
            for (status, response) in operation["responses"].as_object().expect("responses") {
                let Some(content) = response["content"].as_object() else {
                    continue;
                };
                for (media_type, media) in content {
                    assert!(
                        exemplified(&document, media),
                        "{operation_name}: the {status} {media_type} answer has no example"
                    );
                }
                answered |= status.starts_with('2') && !content.is_empty();
            }
            assert!(answered, "{operation_name} describes no success body");
        }
    }

    /// Every node of a schema, its references followed once each.
    fn walk<'a>(
        document: &'a serde_json::Value,
        schema: &'a serde_json::Value,
        seen: &mut std::collections::BTreeSet<String>,
        visit: &mut dyn FnMut(&'a serde_json::Value),
    ) {
        if let Some(reference) = schema["$ref"].as_str()
            && !seen.insert(reference.to_owned())
        {
            return;
        }
        let schema = resolved(document, schema);
        visit(schema);
        for key in ["properties", "patternProperties"] {
            for child in schema[key]
                .as_object()
                .into_iter()
                .flat_map(|map| map.values())
            {
                walk(document, child, seen, visit);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for child in schema[key].as_array().into_iter().flatten() {
                walk(document, child, seen, visit);
            }
        }
        for key in ["items", "additionalProperties", "propertyNames"] {
            if schema[key].is_object() {
                walk(document, &schema[key], seen, visit);
            }
        }
    }

    /// `{}` or `{"type": "object"}` with nothing inside: a body the document does not describe.
    fn is_bare(schema: &serde_json::Value) -> bool {
        let Some(fields) = schema.as_object() else {
            return false;
        };
        let describes = [
            "$ref",
            "type",
            "properties",
            "additionalProperties",
            "patternProperties",
            "allOf",
            "oneOf",
            "anyOf",
            "enum",
            "const",
        ];
        let untyped = !describes.iter().any(|key| fields.contains_key(*key));
        let types: Vec<&str> = match &schema["type"] {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(many) => many.iter().filter_map(|t| t.as_str()).collect(),
            _ => Vec::new(),
        };
        let empty_object = types.contains(&"object")
            && [
                "properties",
                "additionalProperties",
                "patternProperties",
                "allOf",
                "oneOf",
                "anyOf",
            ]
            .iter()
            .all(|key| !fields.contains_key(*key));
        untyped || empty_object
    }

    #[test]
    fn no_success_answer_is_a_bare_object() {
        let document = served();
        for (operation_name, operation) in each_operation(&document) {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                if !status.starts_with('2') {
                    continue;
                }
                for (media_type, media) in response["content"].as_object().into_iter().flatten() {
                    let mut bare = Vec::new();
                    walk(
                        &document,
                        &media["schema"],
                        &mut Default::default(),
                        &mut |schema| {
                            if is_bare(schema) {
                                bare.push(schema.to_string());
                            }
                        },
                    );
                    assert!(
                        bare.is_empty(),
                        "{operation_name} {status} {media_type} has undescribed parts: {bare:?}"
                    );
                }
            }
        }
        assert!(is_bare(&serde_json::json!({"type": "object"})));
        assert!(is_bare(&serde_json::json!({"description": "anything"})));
    }

    /// Every `policy_version` / `version` an example names, anywhere in `value`.
    fn versions_in<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (key, field) in fields {
                    match (key.as_str(), field) {
                        ("policy_version" | "version", serde_json::Value::String(version)) => {
                            found.push(version);
                        }
                        _ => versions_in(field, found),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    versions_in(item, found);
                }
            }
            _ => {}
        }
    }

    /// Examples must work against a fresh service, which publishes the embedded default policy:
    /// they name its version (and publishing it again is the policy file's example).
    #[test]
    fn examples_name_the_embedded_default_policy() {
        let default = app::domain::Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
        let document = served();
        let mut versions = Vec::new();
        let mut examples = Vec::new();
        fn collect<'a>(value: &'a serde_json::Value, examples: &mut Vec<&'a serde_json::Value>) {
            match value {
                serde_json::Value::Object(fields) => {
                    for (key, field) in fields {
                        if key == "example" {
                            examples.push(field);
                        } else if key == "examples" {
                            examples.extend(field.as_array().into_iter().flatten());
                        } else {
                            collect(field, examples);
                        }
                    }
                }
                serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, examples)),
                _ => {}
            }
        }
        collect(&document, &mut examples);
        for example in &examples {
            versions_in(example, &mut versions);
        }
        assert!(versions.len() > 10, "examples name versions: {versions:?}");
        assert!(
            versions.iter().all(|v| *v == default.version.as_str()),
            "{versions:?}"
        );
        let version_parameter = document["paths"]["/api/v1/policy/{version}"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "version")
            .unwrap();
        assert_eq!(version_parameter["example"], default.version.as_str());
        let published = &document["paths"]["/api/v1/admin/policies"]["post"]["requestBody"]["content"]
            ["text/plain"]["example"];
        assert_eq!(published, app::DEFAULT_POLICY_TOML);
    }

    /// Links are how the fuzzer reaches operations that take an id made at run time: each must
    /// name an operation of the document and only parameters it has.
    #[test]
    fn links_lead_to_operations_and_their_parameters() {
        let document = served();
        let operations: BTreeMap<&str, &serde_json::Value> = each_operation(&document)
            .into_iter()
            .map(|(_, operation)| (operation["operationId"].as_str().unwrap(), operation))
            .collect();
        let mut links = 0;
        for (operation_name, operation) in each_operation(&document) {
            for (status, response) in operation["responses"].as_object().unwrap() {
                for (name, link) in response["links"].as_object().into_iter().flatten() {
                    links += 1;
                    assert!(link.get("operation_id").is_none(), "{link}");
                    let target = link["operationId"].as_str().unwrap_or_default();
                    let target = operations.get(target).unwrap_or_else(|| {
                        panic!("{operation_name} {status} link {name}: no operation {target}")
                    });
                    for parameter in link["parameters"].as_object().unwrap().keys() {
                        assert!(
                            target["parameters"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|p| p["name"] == *parameter),
                            "{operation_name} {status} link {name}: no parameter {parameter}"
                        );
                    }
                }
            }
        }
        assert!(links >= 8, "{links} links");
        // The ids the links carry: a decision's, and the visitor's SSAID.
        let recorded = &document["paths"]["/api/v1/consent"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            recorded["receipt"]["parameters"]["id"],
            "$response.body#/consent/event_id"
        );
        let mine = &document["paths"]["/api/v1/me"]["get"]["responses"]["200"]["links"];
        assert_eq!(
            mine["subject"]["parameters"]["ssaid"],
            "$response.body#/identifier/ssaid"
        );
    }
}
