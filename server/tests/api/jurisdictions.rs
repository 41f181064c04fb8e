//! Jurisdictions (issue 29): the country a trusted edge reports picks the policy's regime, the
//! answers and the records carry it, and nobody else can pick it.

use crate::common::{
    Engine, POLICY_VERSION, TestApp, assert_error, cookies_after, decision,
    policy_version_of_default, spawn_with,
};
use crate::on_both_engines;
use serde_json::{Value, json};

/// The edge header the tests' proxy (the loopback peer) sets.
pub const COUNTRY_HEADER: &str = "x-test-country";

/// A service behind a trusted proxy that reports the visitor's country in `COUNTRY_HEADER`.
pub async fn behind_a_country_edge(engine: Engine) -> TestApp {
    spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
        settings.country_header = Some(COUNTRY_HEADER.to_owned());
    })
    .await
}

/// `GET /api/v1/consent` from `country` (none: no header).
async fn status_from(app: &TestApp, cookies: &str, country: Option<&str>) -> Value {
    let mut headers = vec![("cookie", cookies)];
    headers.extend(country.map(|country| (COUNTRY_HEADER, country)));
    let answer = app.get_with("/api/v1/consent", &headers).await;
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

/// A new visitor from `country` and their SSAID cookie.
async fn visitor_from(app: &TestApp, country: &str) -> String {
    let answer = app
        .get_with("/api/v1/consent", &[(COUNTRY_HEADER, country)])
        .await;
    crate::common::set_cookie(&answer, "zc_ssaid").expect("first answer sets zc_ssaid")
}

async fn decide_from(app: &TestApp, cookies: &str, country: &str, body: &str) -> reqwest::Response {
    app.post_json_with(cookies, body, &[(COUNTRY_HEADER, country)])
        .await
}

async fn each_regime_is_answered_where_the_policy_puts_it(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let cases = [
        (Some("US"), "united_states", "opt_out", "header", false),
        (Some("us-ca"), "united_states", "opt_out", "header", false),
        (Some("KR"), "korea", "opt_in", "header", true),
        (Some("JP"), "japan", "opt_in", "header", false),
        (Some("HK"), "hong_kong", "notice", "header", false),
        (Some("DE"), "eea_uk_ch", "opt_in", "header", false),
        (Some("BR"), "default", "opt_in", "header", false),
        // Cloudflare's "unknown" and Tor codes, garbage and no header: the strictest.
        (Some("XX"), "default", "opt_in", "unknown", false),
        (Some("T1"), "default", "opt_in", "unknown", false),
        (Some("United States"), "default", "opt_in", "unknown", false),
        (None, "default", "opt_in", "unknown", false),
    ];
    for (country, name, regime, source, details) in cases {
        let status = status_from(&app, "", country).await;
        let jurisdiction = &status["jurisdiction"];
        assert_eq!(jurisdiction["name"], name, "{country:?}");
        assert_eq!(jurisdiction["regime"], regime, "{country:?}");
        assert_eq!(jurisdiction["source"], source, "{country:?}");
        assert_eq!(
            jurisdiction["show_collection_details"], details,
            "{country:?}"
        );
        let expected_country = match source {
            "header" => json!(country.unwrap().to_ascii_uppercase()),
            _ => Value::Null,
        };
        assert_eq!(jurisdiction["country"], expected_country, "{country:?}");
        // Nobody asked yet: the first layer shows in every regime; what is on differs.
        assert_eq!(status["needs_prompt"], true, "{country:?}");
        let on = regime != "opt_in";
        assert_eq!(
            status["granted"],
            json!({"necessary": true, "preferences": on, "analytics": on}),
            "{country:?}"
        );
    }
}

async fn the_header_counts_only_from_a_trusted_proxy(engine: Engine) {
    // The same header, sent by the visitor itself: the service trusts no proxy.
    let direct = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["10.0.0.0/8".to_owned()];
        settings.country_header = Some(COUNTRY_HEADER.to_owned());
    })
    .await;
    let status = status_from(&direct, "", Some("US")).await;
    assert_eq!(
        status["jurisdiction"],
        json!({"name": "default", "country": null, "regime": "opt_in", "source": "unknown",
               "show_collection_details": false})
    );
    assert_eq!(status["granted"]["analytics"], false);
    // Behind a trusted proxy, another header name is not read either.
    let app = behind_a_country_edge(engine).await;
    let other = app
        .get_with("/api/v1/consent", &[("cf-ipcountry", "US")])
        .await;
    let other: Value = other.json().await.unwrap();
    assert_eq!(other["jurisdiction"]["regime"], "opt_in");
}

async fn gpc_is_an_opt_out_where_opt_out_applies(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let answer = app
        .get_with(
            "/api/v1/consent",
            &[(COUNTRY_HEADER, "US"), ("sec-gpc", "1")],
        )
        .await;
    let status: Value = answer.json().await.unwrap();
    assert_eq!(
        status["granted"],
        json!({"necessary": true, "preferences": true, "analytics": false})
    );
    // Recorded as such once the browser comes back with its SSAID.
    let ssaid = visitor_from(&app, "US").await;
    let cookies = format!("zc_ssaid={ssaid}");
    let returning = app
        .get_with(
            "/api/v1/consent",
            &[
                ("cookie", &cookies),
                (COUNTRY_HEADER, "US"),
                ("sec-gpc", "1"),
            ],
        )
        .await;
    assert_eq!(returning.status(), 200);
    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action.as_str(), "gpc");
    let place = events[0].jurisdiction.as_ref().expect("recorded where");
    assert_eq!(place.name, "united_states");
    assert_eq!(place.regime.as_str(), "opt_out");
}

async fn decisions_record_where_they_were_made(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let ssaid = visitor_from(&app, "KR").await;
    let answer = decide_from(
        &app,
        &format!("zc_ssaid={ssaid}"),
        "KR",
        &decision("accept_all"),
    )
    .await;
    assert_eq!(answer.status(), 201);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["jurisdiction"]["name"], "korea");
    assert_eq!(body["needs_prompt"], false);
    assert_eq!(body["granted"]["analytics"], true);
    // The visitor sees it in their data (access, notice §07).
    let mine: Value = app
        .get("/api/v1/me", &format!("zc_ssaid={ssaid}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mine["consent_events"][0]["jurisdiction"],
        json!({"name": "korea", "regime": "opt_in", "country": "KR", "source": "header"})
    );
    let events = app.events_of(&ssaid).await;
    let place = events[0].jurisdiction.as_ref().expect("recorded where");
    assert_eq!(
        (
            place.name.as_str(),
            place.regime.as_str(),
            place.country.as_deref(),
            place.source.as_str()
        ),
        ("korea", "opt_in", Some("KR"), "header")
    );
    // Without a country: the default jurisdiction, recorded as unknown.
    let (unknown, _) = app.decided_visitor("reject_all").await;
    let events = app.events_of(&unknown).await;
    let place = events[0].jurisdiction.as_ref().expect("recorded where");
    assert_eq!(
        (
            place.name.as_str(),
            place.country.as_deref(),
            place.source.as_str()
        ),
        ("default", None, "unknown")
    );
}

async fn an_acknowledgement_is_taken_only_where_no_consent_is_needed(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let acknowledge = decision("acknowledge");
    for (country, analytics) in [("US", true), ("HK", true)] {
        let ssaid = visitor_from(&app, country).await;
        let answer = decide_from(&app, &format!("zc_ssaid={ssaid}"), country, &acknowledge).await;
        assert_eq!(answer.status(), 201, "{country}");
        let cookies = cookies_after(&ssaid, &answer);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["consent"]["action"], "acknowledge");
        assert_eq!(body["consent"]["categories"]["analytics"], analytics);
        assert_eq!(body["needs_prompt"], false, "{country}: taken note of");
        let status = status_from(&app, &cookies, Some(country)).await;
        assert_eq!(status["needs_prompt"], false);
    }
    // With GPC, an acknowledgement keeps analytics off (GPC is an opt-out).
    let ssaid = visitor_from(&app, "US").await;
    let answer = app
        .post_json_with(
            &format!("zc_ssaid={ssaid}"),
            &acknowledge,
            &[(COUNTRY_HEADER, "US"), ("sec-gpc", "1")],
        )
        .await;
    assert_eq!(answer.status(), 201);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["consent"]["categories"]["analytics"], false);
    assert_eq!(body["consent"]["categories"]["preferences"], true);
    // Where opt-in applies, taking note is no consent; nothing is recorded.
    for country in [Some("KR"), Some("DE"), None] {
        let ssaid = app.new_visitor().await;
        let mut headers = vec![];
        headers.extend(country.map(|c| (COUNTRY_HEADER, c)));
        let answer = app
            .post_json_with(&format!("zc_ssaid={ssaid}"), &acknowledge, &headers)
            .await;
        assert_error(answer, 422, "acknowledge_under_opt_in").await;
        assert!(app.events_of(&ssaid).await.is_empty());
    }
}

async fn moving_never_widens_a_refusal(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let ssaid = visitor_from(&app, "DE").await;
    let refused = decide_from(
        &app,
        &format!("zc_ssaid={ssaid}"),
        "DE",
        &decision("reject_all"),
    )
    .await;
    assert_eq!(refused.status(), 201);
    let cookies = cookies_after(&ssaid, &refused);
    for country in ["US", "HK", "DE"] {
        let status = status_from(&app, &cookies, Some(country)).await;
        assert_eq!(status["granted"]["analytics"], false, "{country}");
        assert_eq!(status["granted"]["preferences"], false, "{country}");
        assert_eq!(status["needs_prompt"], false, "{country}");
    }
    // The other way: on by default in the US, asked (and off) in the EEA.
    let us_visitor = visitor_from(&app, "US").await;
    let cookies = format!("zc_ssaid={us_visitor}");
    assert_eq!(
        status_from(&app, &cookies, Some("US")).await["granted"]["analytics"],
        true
    );
    let in_eea = status_from(&app, &cookies, Some("FR")).await;
    assert_eq!(in_eea["granted"]["analytics"], false);
    assert_eq!(in_eea["needs_prompt"], true);
}

/// Publishing a version that changes a jurisdiction's regime asks again only its visitors.
async fn a_regime_change_asks_again_only_where_it_applies(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let mut cookies = Vec::new();
    for country in ["US", "KR"] {
        let ssaid = visitor_from(&app, country).await;
        let decided = decide_from(
            &app,
            &format!("zc_ssaid={ssaid}"),
            country,
            &decision("accept_all"),
        )
        .await;
        assert_eq!(decided.status(), 201);
        cookies.push((country, cookies_after(&ssaid, &decided)));
    }
    // The United States becomes opt-in; published as not material.
    let stricter = policy_version_of_default("2026-12-08").replacen(
        "name = \"united_states\"\nregime = \"opt_out\"",
        "name = \"united_states\"\nregime = \"opt_in\"",
        1,
    );
    assert!(stricter.contains("name = \"united_states\"\nregime = \"opt_in\""));
    let published = app.publish(&stricter, false).await;
    assert_eq!(published.status(), 201);
    let us = status_from(&app, &cookies[0].1, Some("US")).await;
    assert_eq!(us["jurisdiction"]["regime"], "opt_in");
    assert_eq!(us["prompt"], json!({"reason": "notice_changed"}));
    assert_eq!(
        us["granted"]["analytics"], false,
        "asked again before anything"
    );
    let kr = status_from(&app, &cookies[1].1, Some("KR")).await;
    assert_eq!(kr["prompt"], Value::Null, "Korea's regime did not change");
    assert_eq!(kr["granted"]["analytics"], true);
    assert_ne!(POLICY_VERSION, "2026-12-08");
}

/// With a GeoIP database, the visitor's forwarded address gives the country; the trusted
/// header still wins, and an untrusted peer's `X-Forwarded-For` names no address.
async fn a_geoip_database_locates_the_forwarded_address(engine: Engine) {
    use server::infra::geoip::testing::{EXAMPLE_NETWORKS, write_country_database};
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("country.mmdb");
    write_country_database(&database, EXAMPLE_NETWORKS).unwrap();
    let path = database.clone();
    let app = spawn_with(engine, move |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
        settings.country_header = Some(COUNTRY_HEADER.to_owned());
        settings.geoip_database = Some(path);
    })
    .await;
    let located = |headers: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let answer = app.get_with("/api/v1/consent", &headers).await;
            let status: Value = answer.json().await.unwrap();
            (
                status["jurisdiction"]["name"].as_str().unwrap().to_owned(),
                status["jurisdiction"]["source"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        }
    };
    let pair = |name: &str, source: &str| (name.to_owned(), source.to_owned());
    assert_eq!(
        located(vec![("x-forwarded-for", "203.0.113.7")]).await,
        pair("korea", "geoip")
    );
    assert_eq!(
        located(vec![("x-forwarded-for", "198.51.100.20")]).await,
        pair("united_states", "geoip")
    );
    assert_eq!(
        located(vec![("x-forwarded-for", "2001:db8:1::5")]).await,
        pair("eea_uk_ch", "geoip")
    );
    assert_eq!(
        located(vec![
            ("x-forwarded-for", "203.0.113.7"),
            (COUNTRY_HEADER, "HK")
        ])
        .await,
        pair("hong_kong", "header")
    );
    assert_eq!(
        located(vec![("x-forwarded-for", "192.0.2.1")]).await,
        pair("default", "unknown")
    );
    // Not behind a trusted proxy: the forwarded address is the client's claim, not read.
    let direct_path = database.clone();
    let direct = spawn_with(engine, move |settings| {
        settings.geoip_database = Some(direct_path);
    })
    .await;
    let answer = direct
        .get_with("/api/v1/consent", &[("x-forwarded-for", "203.0.113.7")])
        .await;
    let status: Value = answer.json().await.unwrap();
    assert_eq!(status["jurisdiction"]["source"], "unknown");
    // A database that cannot be read stops the start, naming the setting.
    let mut settings = crate::common::settings_for(&direct);
    settings.geoip_database = Some(dir.path().join("missing.mmdb"));
    let err = server::startup::Application::build(settings)
        .await
        .err()
        .expect("no start without the database");
    assert!(err.to_string().contains("geoip_database"), "{err}");
}

/// `server policy check FILE`: valid and complete, valid with texts a jurisdiction's visitors
/// would read in the default language, or refused.
async fn policy_check_reports_what_each_jurisdiction_would_miss(engine: Engine) {
    let app = crate::common::spawn(engine).await;
    let default = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../app/policy/default-policy.toml"
    );
    let complete = app.command(&["policy", "check", default]);
    assert!(
        complete.contains("is valid; every text of its 5 jurisdictions"),
        "{complete}"
    );

    let dir = tempfile::tempdir().unwrap();
    let source = std::fs::read_to_string(default).unwrap();
    let opt_out_in_korean = "opt_out = \"거부하기\"\n";
    assert!(source.contains(opt_out_in_korean));
    let lacking = dir.path().join("lacking.toml");
    std::fs::write(&lacking, source.replacen(opt_out_in_korean, "", 1)).unwrap();
    let (ok, stdout, _) = run_server(&["policy", "check", lacking.to_str().unwrap()]);
    assert!(!ok, "a missing text fails the check");
    assert!(
        stdout.contains("  jurisdiction united_states, language ko:\n    banner.ko.opt_out\n"),
        "{stdout}"
    );
    // Only the opt-out jurisdiction's visitors see that text.
    assert_eq!(stdout.matches("banner.ko.opt_out").count(), 1, "{stdout}");

    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        source.replacen("regime = \"opt_out\"", "regime = \"maybe\"", 1),
    )
    .unwrap();
    let (ok, _, stderr) = run_server(&["policy", "check", broken.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("broken.toml") && stderr.contains("maybe"),
        "{stderr}"
    );
}

/// Runs the `server` command with no configuration; whether it succeeded, and its output.
fn run_server(args: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env_remove("ZC_CONFIG")
        .current_dir(dir.path())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// The preference center ticks what is on: under opt-out a category nobody refused, under
/// opt-in only a consent; a refusal stays unticked everywhere.
async fn the_preference_center_ticks_what_the_regime_grants(engine: Engine) {
    let app = behind_a_country_edge(engine).await;
    let ticked = |html: &str, category: &str| {
        let name = format!(r#"name="categories[{category}]""#);
        let at = html
            .find(&name)
            .unwrap_or_else(|| panic!("{category} in {html}"));
        let start = html[..at].rfind("<input").unwrap();
        let end = at + html[at..].find('>').unwrap();
        html[start..end].contains("checked")
    };
    let page = |cookies: String, country: &'static str| {
        let app = &app;
        async move {
            let answer = app
                .get_with(
                    "/preferences",
                    &[("cookie", &cookies), (COUNTRY_HEADER, country)],
                )
                .await;
            assert_eq!(answer.status(), 200);
            answer.text().await.unwrap()
        }
    };
    let ssaid = visitor_from(&app, "US").await;
    let undecided = format!("zc_ssaid={ssaid}");
    let us = page(undecided.clone(), "US").await;
    assert!(ticked(&us, "analytics") && ticked(&us, "preferences"));
    let eea = page(undecided.clone(), "DE").await;
    assert!(!ticked(&eea, "analytics") && !ticked(&eea, "preferences"));
    let refused = decide_from(&app, &undecided, "US", &decision("reject_all")).await;
    let refused = cookies_after(&ssaid, &refused);
    let us = page(refused, "US").await;
    assert!(!ticked(&us, "analytics") && !ticked(&us, "preferences"));
}

on_both_engines!(
    the_preference_center_ticks_what_the_regime_grants,
    policy_check_reports_what_each_jurisdiction_would_miss,
    a_geoip_database_locates_the_forwarded_address,
    each_regime_is_answered_where_the_policy_puts_it,
    the_header_counts_only_from_a_trusted_proxy,
    gpc_is_an_opt_out_where_opt_out_applies,
    decisions_record_where_they_were_made,
    an_acknowledgement_is_taken_only_where_no_consent_is_needed,
    moving_never_widens_a_refusal,
    a_regime_change_asks_again_only_where_it_applies,
);
