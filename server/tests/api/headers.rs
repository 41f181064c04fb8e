//! Not framed, not sniffed: the security headers of pages and API answers.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![
    pages_carry_a_nonced_content_security_policy,
    every_answer_is_nosniff_and_hsts_follows_secure_cookies,
    answers_that_depend_on_identifiers_are_never_cached,
    hostile_accept_language_is_answered_normally,
];

async fn hostile_accept_language_is_answered_normally(engine: Engine) {
    let app = spawn(engine).await;
    let nan = vec!["ko;q=NaN"; 30].join(", ");
    let odd = [
        nan.as_str(),
        "*;q=NaN, ja;q=inf, zh;q=-1, en;q=1e309",
        "ko;q=0.5, ko;q=0.5, ko;q=0.5",
        ";;;;,,,,q=",
    ];
    for header in odd {
        for path in ["/", "/api/v1/consent", "/notice"] {
            let response = app.get_with(path, &[("accept-language", header)]).await;
            assert_eq!(response.status(), 200, "{path} with {header:?}");
        }
    }
}

async fn pages_carry_a_nonced_content_security_policy(engine: Engine) {
    let app = spawn(engine).await;
    let mut nonces = Vec::new();
    // Every page the app serves, so a page added later is checked too, and the not-found page.
    for path in app::PAGE_PATHS.into_iter().chain(["/no-such-page"]) {
        let page = app.get(path, "").await;
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {policy}"))
            .to_owned();
        assert_eq!(
            policy,
            format!(
                "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; object-src 'none'; \
                 base-uri 'none'; frame-ancestors 'self'"
            ),
            "{path}"
        );
        let html = page.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts > 0, "{path} hydrates with scripts");
        assert_eq!(
            html.matches(&format!("<script nonce=\"{nonce}\"")).count()
                + html
                    .matches(&format!("<script type=\"module\" nonce=\"{nonce}\""))
                    .count(),
            scripts,
            "{path}: every inline script carries the page's nonce"
        );
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(
        nonces.len(),
        app::PAGE_PATHS.len() + 1,
        "a new nonce for every page"
    );
}

async fn every_answer_is_nosniff_and_hsts_follows_secure_cookies(engine: Engine) {
    let app = spawn(engine).await;
    for path in [
        "/",
        "/api/v1/consent",
        "/api/v1/policy",
        "/admin/sign-in",
        "/embed.js",
    ] {
        let answer = app.get(path, "").await;
        assert_eq!(
            answer.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert_eq!(
            answer.headers()["referrer-policy"],
            "strict-origin-when-cross-origin",
            "{path}"
        );
        // The tests serve plain http without Secure cookies: no HSTS.
        assert!(
            answer.headers().get("strict-transport-security").is_none(),
            "{path}"
        );
    }
    let secure = spawn_with(engine, |settings| {
        settings.cookie_secure = true;
        settings.public_url = Some("https://consent.zeccloud.test".to_owned());
    })
    .await;
    let page = secure.get("/", "").await;
    assert_eq!(
        page.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

async fn answers_that_depend_on_identifiers_are_never_cached(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookie = format!("zc_ssaid={ssaid}");
    for path in [
        "/",
        "/notice",
        "/preferences",
        "/no-such-page",
        "/api/v1/consent",
    ] {
        for cookies in ["", cookie.as_str()] {
            let answer = app.get(path, cookies).await;
            assert_eq!(answer.headers()["cache-control"], "no-store", "{path}");
            let vary: Vec<_> = answer
                .headers()
                .get_all("vary")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect();
            assert!(
                vary.iter().any(|v| v.contains("Cookie")),
                "{path}: {vary:?}"
            );
        }
    }
    // What is the same for everyone keeps its own caching.
    let loader = app.get("/embed.js", "").await;
    assert_eq!(loader.headers()["cache-control"], "public, max-age=300");
    let pkg = app.site_root().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("zeccloud-consent.css"), "body{}").unwrap();
    let css = app.get("/pkg/zeccloud-consent.css", &cookie).await;
    assert_eq!(css.status(), 200);
    assert_ne!(
        css.headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
}
