//! The API's description: served, and naming what the service answers.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![
    the_document_and_its_reference_page_are_served,
    a_method_a_route_lacks_is_answered_405_before_any_budget_or_identity,
];

async fn the_document_and_its_reference_page_are_served(engine: Engine) {
    let app = spawn(engine).await;
    let document: serde_json::Value = app.get("/api/openapi.json", "").await.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 19, "{}", paths.len());
    // Every documented GET without path parameters is routed (the API's catch-all answers
    // 404 `not_found` for anything else).
    for (path, item) in paths {
        if item.get("get").is_none() || path.contains('{') {
            continue;
        }
        let answer = app.get_as_admin(path).await;
        if answer.status() == 404 {
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            assert_ne!(
                body["error"]["code"], "not_found",
                "{path} is documented, not routed"
            );
        }
    }
    let error = &document["paths"]["/api/v1/consent"]["post"]["responses"]["429"];
    assert!(
        error["description"]
            .as_str()
            .unwrap()
            .contains("rate_limited")
    );
    let page = app.get("/api/docs", "").await;
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let policy = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'none'") && policy.contains("frame-ancestors 'none'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<code>POST /api/v1/consent</code>"));
    assert!(html.contains(r#"<a href="/api/openapi.json">"#));
}

async fn a_method_a_route_lacks_is_answered_405_before_any_budget_or_identity(engine: Engine) {
    let app = spawn(engine).await;
    for path in ["/api/v1/consent", "/embed/consent", "/api/v1/me/erase"] {
        let answer = app
            .http
            .put(app.url(path))
            .header("origin", "https://evil.test")
            .fetch()
            .await;
        assert_eq!(answer.status(), 405, "{path}");
        assert!(
            set_cookie(&answer, "zc_ssaid").is_none(),
            "{path}: no SSAID for it"
        );
    }
    assert_eq!(app.count_rows("ssaids").await, 0);
}
