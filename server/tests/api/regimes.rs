//! What visitors see in each regime (issue 29): the embed's fragments carry the jurisdiction
//! and what is on, the first layer is the regime's, and a plain form acknowledges an opt-out
//! or notice first layer without JavaScript.

use crate::common::{Engine, Fetch, POLICY_VERSION, TestApp, set_cookie, spawn_with};
use crate::jurisdictions::COUNTRY_HEADER;
use crate::on_both_engines;
use app::domain::{ConsentAction, ConsentSource};
use serde_json::{Value, json};

on_both_engines!(
    the_fragments_follow_the_visitors_regime,
    a_plain_form_acknowledges_where_no_consent_is_needed,
    the_policy_api_carries_the_collection_details,
    the_service_pages_show_each_regimes_first_layer,
);

const HOST: &str = "http://www.zeccloud.test:3101";

/// A service behind a trusted edge reporting the country, embedded by `HOST`.
async fn spawn_regimes(engine: Engine) -> TestApp {
    let app = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
        settings.country_header = Some(COUNTRY_HEADER.to_owned());
        settings.embed_origins = vec!["http://*.zeccloud.test:3101".into()];
    })
    .await;
    // The fragments name the stylesheet by its hash: a build's stands in.
    let pkg = app.site_root().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join(format!("{}.css", app::SITE_NAME)),
        ".zc-banner{position:fixed}",
    )
    .unwrap();
    app
}

/// `GET path` from a page of `HOST`, by a visitor in `country` (none: no header).
async fn fragment(app: &TestApp, path: &str, country: Option<&str>, gpc: bool) -> Value {
    let mut request = app.http.get(app.url(path)).header("origin", HOST);
    if let Some(country) = country {
        request = request.header(COUNTRY_HEADER, country);
    }
    if gpc {
        request = request.header("sec-gpc", "1");
    }
    let answer = request.fetch().await;
    assert_eq!(answer.status(), 200, "{path} from {country:?}");
    answer.json().await.unwrap()
}

fn all(on: bool) -> Value {
    json!({"necessary": true, "preferences": on, "analytics": on})
}

async fn the_fragments_follow_the_visitors_regime(engine: Engine) {
    let app = spawn_regimes(engine).await;
    let policy = app::domain::Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
    // (country, GPC, regime, what is on, a text only that first layer shows)
    let en = policy.view("en", None).banner;
    let zh = policy.view("zh-Hant", None).banner;
    let ko = policy.view("ko", None);
    let cases = [
        (
            Some("US"),
            false,
            "opt_out",
            all(true),
            en.opt_out_body.clone().unwrap(),
            "en",
        ),
        (
            Some("HK"),
            false,
            "notice",
            all(true),
            zh.notice_body.clone().unwrap(),
            "zh-Hant",
        ),
        (
            Some("KR"),
            false,
            "opt_in",
            all(false),
            ko.categories[2].items.clone().unwrap(),
            "ko",
        ),
        (None, false, "opt_in", all(false), en.body.clone(), "en"),
    ];
    for (country, gpc, regime, granted, shown, lang) in cases {
        let answer = fragment(&app, &format!("/embed/banner?lang={lang}"), country, gpc).await;
        assert_eq!(answer["needs_prompt"], true, "{country:?}");
        assert_eq!(answer["consent"], Value::Null);
        assert_eq!(answer["jurisdiction"]["regime"], regime, "{country:?}");
        assert_eq!(answer["granted"], granted, "{country:?}");
        let html = answer["html"].as_str().unwrap();
        assert!(
            html.contains(&format!(r#"data-regime="{regime}""#)),
            "{country:?}: {html}"
        );
        assert!(html.contains(&shown), "{country:?} lacks {shown}");
        // Banners are kept per key: Korea's details must not leak into the others.
        assert_eq!(
            html.contains("collection-details"),
            country == Some("KR"),
            "{country:?}"
        );
        let center = fragment(&app, "/embed/preferences", country, gpc).await;
        assert_eq!(center["jurisdiction"], answer["jurisdiction"]);
        assert_eq!(center["granted"], granted);
    }

    // GPC is an opt-out where opt-out applies: analytics is off before any decision, and the
    // first layer says why.
    let answer = fragment(&app, "/embed/banner?lang=en", Some("US"), true).await;
    assert_eq!(
        answer["granted"],
        json!({"necessary": true, "preferences": true, "analytics": false})
    );
    assert!(answer["html"].as_str().unwrap().contains("gpc-honoured"));
}

async fn a_plain_form_acknowledges_where_no_consent_is_needed(engine: Engine) {
    let app = spawn_regimes(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let body = format!("policy_version={POLICY_VERSION}&action=acknowledge&language=en");
    let answer = app
        .post_form(&cookies, "text/html,application/xhtml+xml", &body)
        .header(COUNTRY_HEADER, "US")
        .header("referer", app.url("/notice"))
        .fetch()
        .await;
    assert_eq!(answer.status(), 302);
    assert!(
        answer.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&app.url("/notice"))
    );
    let consent = set_cookie(&answer, "zc_consent").expect("the choice's cookie");
    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ConsentAction::Acknowledge);
    assert_eq!(events[0].source, ConsentSource::NoJsForm);
    assert!(events[0].categories["analytics"] && events[0].categories["preferences"]);

    // The first layer is gone: the fragment says so, and what is on stays on.
    let after = app
        .http
        .get(app.url("/embed/banner"))
        .header("origin", HOST)
        .header(COUNTRY_HEADER, "US")
        .header("cookie", format!("{cookies}; zc_consent={consent}"))
        .fetch_json()
        .await;
    assert_eq!(after["needs_prompt"], false);
    assert_eq!(after["html"], Value::Null);
    assert_eq!(after["granted"], all(true));
    assert_eq!(after["consent"]["action"], "acknowledge");

    // Where consent is needed, taking note is no consent: the plain form gets the page saying
    // the choice was not saved, and nothing is recorded.
    let other = app.new_visitor().await;
    let refused = app
        .post_form(&format!("zc_ssaid={other}"), "text/html", &body)
        .header(COUNTRY_HEADER, "KR")
        .fetch()
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(
        html.contains(r#"data-error-code="acknowledge_under_opt_in""#),
        "{html}"
    );
    assert!(app.events_of(&other).await.is_empty());
    // And the JSON answer of the hydrated page carries the code.
    let json_answer = app
        .post_form(&format!("zc_ssaid={other}"), "application/json", &body)
        .header(COUNTRY_HEADER, "KR")
        .fetch()
        .await;
    assert_eq!(json_answer.status(), 422);
    let error: Value = json_answer.json().await.unwrap();
    assert_eq!(error["code"], "acknowledge_under_opt_in");
}

async fn the_policy_api_carries_the_collection_details(engine: Engine) {
    let app = spawn_regimes(engine).await;
    let answer: Value = app
        .get("/api/v1/policy?lang=ko", "")
        .await
        .json()
        .await
        .unwrap();
    let categories = answer["categories"].as_array().unwrap();
    for category in categories {
        let optional = category["required"] == false;
        for field in ["items", "retention", "refusal"] {
            assert_eq!(
                category[field].is_string(),
                optional,
                "{} {field}",
                category["id"]
            );
        }
    }
    assert_eq!(answer["banner"]["acknowledge"], "확인");
}

async fn the_service_pages_show_each_regimes_first_layer(engine: Engine) {
    let app = spawn_regimes(engine).await;
    // Twice each, in turns: the page cache keeps one page per regime, never another's.
    for _ in 0..2 {
        for (country, regime, details) in [
            (Some("US"), "opt_out", false),
            (Some("KR"), "opt_in", true),
            (Some("HK"), "notice", false),
            (None, "opt_in", false),
        ] {
            let headers: Vec<(&str, &str)> =
                country.map(|c| (COUNTRY_HEADER, c)).into_iter().collect();
            let page = app.get_with("/", &headers).await;
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(
                html.contains(&format!(r#"data-regime="{regime}""#)),
                "{country:?}"
            );
            assert_eq!(html.contains("collection-details"), details, "{country:?}");
        }
    }
}
