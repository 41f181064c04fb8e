//! The embed for other ZecCloud sites: loader, fragments, CORS allowlist and decisions.
//! Run against SQLite and PostgreSQL alike.

use crate::common::*;
use crate::on_both_engines;
use app::domain::ConsentSource;

on_both_engines![
    loader_is_small_cached_and_carries_the_policy,
    only_allowed_origins_get_cors_and_answers,
    banner_fragment_is_the_service_component_with_absolute_links,
    the_banner_follows_language_policy_version_and_choice,
    decisions_from_other_sites_record_source_and_origin,
    bad_embed_decisions_are_refused_and_write_nothing,
];

pub(crate) const HOST: &str = "http://www.zeccloud.test:3101";
const STRANGER: &str = "https://evil.example";

pub(crate) async fn spawn_embed(engine: Engine) -> TestApp {
    let app = spawn_with(engine, |s| {
        s.embed_origins = vec!["http://*.zeccloud.test:3101".into()];
        s.cookie_domain = Some("zeccloud.test".into());
    })
    .await;
    let pkg = app.site_root().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join(format!("{}.css", app::SITE_NAME)),
        ".zc-banner{position:fixed}",
    )
    .unwrap();
    app
}

/// A GET from a page on `origin`, as the embed's script sends it.
pub(crate) fn get_from(app: &TestApp, path: &str, origin: &str) -> reqwest::RequestBuilder {
    app.http.get(app.url(path)).header("origin", origin)
}

async fn loader_is_small_cached_and_carries_the_policy(engine: Engine) {
    let app = spawn_embed(engine).await;
    let response = app.get_compressed("/embed.js", "br, gzip").await;
    assert_eq!(response.headers()["cache-control"], "public, max-age=300");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(
        set_cookie(&response, "zc_ssaid").is_none(),
        "the loader sets no identifier"
    );
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();

    let plain = app.get("/embed.js", "").await.text().await.unwrap();
    assert!(
        plain.contains(&format!(r#""current":"{POLICY_VERSION}""#)),
        "{plain}"
    );
    assert!(plain.contains(r#""categories":["preferences","analytics"]"#));
    assert!(!plain.contains("__CONFIG__"));

    let not_modified = app.get_with("/embed.js", &[("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status(), 304);

    // A material version makes every earlier choice stale: the loader stops accepting them.
    app.publish_default_as("2026-12-24", true).await;
    let after = app.get("/embed.js", "").await;
    assert_ne!(after.headers()["etag"].to_str().unwrap(), etag);
    let js = after.text().await.unwrap();
    assert!(js.contains(r#""versions":["2026-12-24"]"#), "{js}");
    // A non-material one keeps them.
    app.publish_default_as("2026-12-25", false).await;
    let js = app.get("/embed.js", "").await.text().await.unwrap();
    assert!(
        js.contains(r#""versions":["2026-12-24","2026-12-25"]"#),
        "{js}"
    );
}

async fn only_allowed_origins_get_cors_and_answers(engine: Engine) {
    let app = spawn_embed(engine).await;
    let allowed = app.preflight("/embed/consent", HOST).await;
    assert_eq!(allowed.headers()["access-control-allow-origin"], HOST);
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let refused = app.preflight("/embed/consent", STRANGER).await;
    assert_no_cors(&refused);

    let banner = get_from(&app, "/embed/banner", HOST).fetch().await;
    assert_eq!(banner.status(), 200);
    assert_eq!(banner.headers()["access-control-allow-origin"], HOST);

    let stranger = get_from(&app, "/embed/banner", STRANGER).fetch().await;
    assert_no_cors(&stranger);
    assert_error(stranger, 403, "origin_not_allowed").await;
}

async fn banner_fragment_is_the_service_component_with_absolute_links(engine: Engine) {
    let app = spawn_embed(engine).await;
    let fragment = get_from(&app, "/embed/banner?lang=ja", HOST)
        .fetch_json()
        .await;
    assert_eq!(fragment["needs_prompt"], true);
    let html = fragment["html"].as_str().unwrap();
    assert!(html.contains(r#"data-testid="consent-banner""#));
    assert!(html.contains("すべて同意"), "in the page's language");
    assert!(
        html.contains(&format!(r#"href="{}/notice""#, app.base)),
        "{html}"
    );
    assert!(html.contains(&format!(r#"href="{}/preferences?lang=ja""#, app.base)));
    let css_url = fragment["css"].as_str().unwrap();
    assert!(css_url.starts_with(&format!("{}/embed/style.", app.base)));

    let css = app.http.get(css_url).fetch().await;
    assert_eq!(css.status(), 200);
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        css.text()
            .await
            .unwrap()
            .starts_with(":host{all:initial!important;")
    );
    assert_eq!(app.get("/embed/style.0000.css", "").await.status(), 404);

    let preferences = get_from(&app, "/embed/preferences?lang=ko", HOST)
        .fetch_json()
        .await;
    let html = preferences["html"].as_str().unwrap();
    assert!(html.starts_with("<dialog"), "{html}");
    assert!(html.contains("개인정보 설정"));
    assert!(html.contains(&format!(r#"href="{}/notice#identifiers""#, app.base)));
}

/// The banner fragment as a page on [`HOST`] asks for it, with `headers` added.
async fn banner_for(app: &TestApp, lang: &str, headers: &[(&str, &str)]) -> serde_json::Value {
    let mut request = get_from(app, &format!("/embed/banner?lang={lang}"), HOST);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.fetch_json().await
}

/// The banner is rendered once per policy version, language and base, and kept: what a
/// visitor gets must still be the banner for their language, the current version and their
/// standing choice.
async fn the_banner_follows_language_policy_version_and_choice(engine: Engine) {
    let app = spawn_embed(engine).await;
    let html = |fragment: &serde_json::Value| fragment["html"].as_str().unwrap().to_owned();
    let english = html(&banner_for(&app, "en", &[]).await);
    let japanese = html(&banner_for(&app, "ja", &[]).await);
    assert_eq!(html(&banner_for(&app, "en", &[]).await), english);
    assert!(english.contains(r#"lang="en""#) && english.contains("Accept all"));
    assert!(japanese.contains(r#"lang="ja""#) && japanese.contains("すべて同意"));
    let version_field = |version: &str| format!(r#"name="policy_version" value="{version}""#);
    assert!(
        english.contains(&version_field(POLICY_VERSION)),
        "{english}"
    );
    assert!(!english.contains(r#"data-testid="gpc-honoured""#));
    let gpc = html(&banner_for(&app, "en", &[("sec-gpc", "1")]).await);
    assert!(gpc.contains(r#"data-testid="gpc-honoured""#), "{gpc}");
    assert!(
        !html(&banner_for(&app, "en", &[]).await).contains("gpc-honoured"),
        "GPC's banner is not everyone's"
    );

    // A visitor who chose is not asked, and the answer carries their choice.
    let ssaid = app.new_visitor().await;
    let chosen = app
        .http
        .post(app.url("/embed/consent"))
        .header("origin", HOST)
        .header("cookie", format!("zc_ssaid={ssaid}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "policy_version={POLICY_VERSION}&action=reject_all&via=banner"
        ))
        .fetch()
        .await;
    assert_eq!(chosen.status(), 201);
    let cookies = cookies_after(&ssaid, &chosen);
    let decided = banner_for(&app, "en", &[("cookie", &cookies)]).await;
    assert_eq!(decided["needs_prompt"], false);
    assert_eq!(decided["html"], serde_json::Value::Null);
    assert_eq!(decided["consent"]["policy_version"], POLICY_VERSION);
    // Nothing to show, so no stylesheet either, even when asked for.
    let nothing_to_show = banner_for(&app, "en&style=1", &[("cookie", &cookies)]).await;
    assert_eq!(nothing_to_show["html"], serde_json::Value::Null);
    assert!(nothing_to_show.get("style").is_none());

    // A new version is a new banner at once, for first visits and for that visitor, who is
    // told the notice changed; nobody else is.
    app.publish_default_as("2026-12-24", true).await;
    let first = html(&banner_for(&app, "en", &[]).await);
    assert!(first.contains(&version_field("2026-12-24")), "{first}");
    assert!(!first.contains(&version_field(POLICY_VERSION)));
    assert!(!first.contains(r#"data-testid="notice-changed""#));
    let asked_again = banner_for(&app, "en", &[("cookie", &cookies)]).await;
    assert_eq!(asked_again["needs_prompt"], true);
    assert_eq!(asked_again["consent"]["policy_version"], POLICY_VERSION);
    let changed = html(&asked_again);
    assert!(
        changed.contains(r#"data-testid="notice-changed""#),
        "{changed}"
    );
    assert!(changed.contains(&version_field("2026-12-24")));
    let japanese_now = html(&banner_for(&app, "ja", &[]).await);
    assert_ne!(japanese_now, japanese);
    assert!(japanese_now.contains("すべて同意"));

    // With style=1 the stylesheet comes along with the markup, so a first visit needs no
    // second round trip; the loader asks only while it has none.
    let plain = banner_for(&app, "en", &[]).await;
    assert!(plain.get("style").is_none());
    let styled = banner_for(&app, "en&style=1", &[]).await;
    assert_eq!(styled["html"], plain["html"]);
    let css = app
        .http
        .get(styled["css"].as_str().unwrap())
        .fetch()
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(styled["style"], css.as_str());
    let preferences = get_from(&app, "/embed/preferences?lang=ko&style=1", HOST)
        .fetch_json()
        .await;
    assert_eq!(preferences["style"], css.as_str());

    // The fragments take GET alone, and another method mints no SSAID.
    let posted = app
        .http
        .post(app.url("/embed/banner"))
        .header("origin", HOST)
        .fetch()
        .await;
    assert!(set_cookie(&posted, "zc_ssaid").is_none());
    assert_error(posted, 405, "method_not_allowed").await;
}

async fn decisions_from_other_sites_record_source_and_origin(engine: Engine) {
    let app = spawn_embed(engine).await;
    let ssaid = app.new_visitor().await;
    let post = |body: &'static str| {
        app.http
            .post(app.url("/embed/consent"))
            .header("origin", HOST)
            .header("cookie", format!("zc_ssaid={ssaid}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.replace("VERSION", POLICY_VERSION))
            .fetch()
    };
    let banner = post(
        "policy_version=VERSION&action=custom&categories%5Banalytics%5D=on&language=ja&via=banner",
    )
    .await;
    assert_eq!(banner.status(), 201);
    assert_eq!(banner.headers()["access-control-allow-origin"], HOST);
    let cookie = set_cookie_header(&banner, "zc_consent").unwrap();
    assert!(
        cookie.contains("Domain=zeccloud.test"),
        "one choice for every site: {cookie}"
    );
    let json: serde_json::Value = banner.json().await.unwrap();
    assert_eq!(json["consent"]["categories"]["analytics"], true);
    assert_eq!(json["consent"]["categories"]["preferences"], false);

    let api = post("policy_version=VERSION&action=reject_all&via=api").await;
    assert_eq!(api.status(), 201);
    let events = app.events_of(&ssaid).await;
    assert_eq!(
        events
            .iter()
            .map(|e| (e.source, e.origin.as_deref(), e.language.as_str()))
            .collect::<Vec<_>>(),
        [
            (ConsentSource::Embed, Some(HOST), "ja"),
            (ConsentSource::Api, Some(HOST), "en"),
        ]
    );
}

async fn bad_embed_decisions_are_refused_and_write_nothing(engine: Engine) {
    let app = spawn_embed(engine).await;
    let ssaid = app.new_visitor().await;
    let cases: [(Option<&str>, String, u16, &str); 6] = [
        (
            None,
            format!("policy_version={POLICY_VERSION}&action=accept_all&via=banner"),
            403,
            "origin_not_allowed",
        ),
        (
            Some(STRANGER),
            format!("policy_version={POLICY_VERSION}&action=accept_all&via=banner"),
            403,
            "origin_not_allowed",
        ),
        (
            Some(HOST),
            format!("policy_version={POLICY_VERSION}&action=accept_all&via=fax"),
            400,
            "invalid_via",
        ),
        (
            Some(HOST),
            format!("policy_version={POLICY_VERSION}&action=maybe&via=api"),
            400,
            "invalid_action",
        ),
        (
            Some(HOST),
            "action=accept_all&via=api".to_owned(),
            400,
            "missing_field",
        ),
        (
            Some(HOST),
            format!("policy_version={POLICY_VERSION}&action=custom&categories%5Bads%5D=on&via=api"),
            422,
            "unknown_category",
        ),
    ];
    for (origin, body, status, code) in cases {
        let mut request = app
            .http
            .post(app.url("/embed/consent"))
            .header("cookie", format!("zc_ssaid={ssaid}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone());
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.fetch().await;
        assert_error_for(response, status, code, &body).await;
    }
    assert!(app.events_of(&ssaid).await.is_empty());
}
