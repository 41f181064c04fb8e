//! Passive reports of undeclared identifiers (issue 31): what the embed loader's report module
//! sends to `POST /api/v1/observations`, how it is counted, bounded, limited, purged, shown on
//! the console and counted for Prometheus. Run against SQLite and PostgreSQL alike.

use crate::common::*;
use crate::embed::HOST;
use crate::on_both_engines;
use app::domain::IdentifierKind;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use server::domain::observations::{ChoiceInForce, ObservationCount};
use server::infra::clock::Clock;

on_both_engines![
    undeclared_names_are_counted_per_day_site_kind_name_and_choice,
    a_name_declared_by_any_still_valid_version_is_not_counted,
    bad_reports_are_refused_and_count_nothing,
    reports_have_a_budget_of_their_own,
    the_purge_removes_counts_older_than_their_retention,
    the_console_lists_findings_and_drafts_their_registry_entries,
    the_loader_samples_and_the_report_module_carries_the_registry,
    the_api_document_describes_the_report,
    the_console_lists_the_most_reported_findings_and_counts_the_rest,
];

/// Another allowed embedding site.
const DOCS: &str = "http://docs.zeccloud.test:3101";

async fn spawn_as_of_embedding(engine: Engine, clock: Clock) -> TestApp {
    spawn_as_of(engine, clock, |settings| {
        settings.embed_origins = vec!["http://*.zeccloud.test:3101".into()];
    })
    .await
}

/// `POST /api/v1/observations` from a page on `origin` (none: `None`), as the report module
/// sends it: JSON, no cookie.
async fn report_from(
    app: &TestApp,
    origin: Option<&str>,
    body: serde_json::Value,
) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/api/v1/observations"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.fetch().await
}

fn names(pairs: &[(&str, &str)]) -> serde_json::Value {
    pairs
        .iter()
        .map(|(kind, name)| serde_json::json!({"kind": kind, "name": name}))
        .collect()
}

/// Every stored count, from long before `start` on.
async fn counts(app: &TestApp, start: DateTime<Utc>) -> Vec<ObservationCount> {
    app.storage
        .observations_since(start.date_naive() - TimeDelta::days(400))
        .await
        .unwrap()
}

/// The count expected on the day of `at.0`, first and last seen at `at`.
fn count(
    at: (DateTime<Utc>, DateTime<Utc>),
    origin: &str,
    kind: IdentifierKind,
    name: &str,
    choice: ChoiceInForce,
    reports: i64,
) -> ObservationCount {
    ObservationCount {
        day: at.0.date_naive(),
        origin: origin.to_owned(),
        kind,
        name: name.to_owned(),
        choice,
        reports,
        first_seen: at.0,
        last_seen: at.1,
    }
}

async fn undeclared_names_are_counted_per_day_site_kind_name_and_choice(engine: Engine) {
    let start = (Utc::now() - TimeDelta::days(2))
        .date_naive()
        .and_hms_opt(9, 0, 0)
        .unwrap()
        .and_utc();
    let clock = Clock::fixed(start);
    let app = spawn_as_of_embedding(engine, clock.clone()).await;
    // Declared: zc_consent, the pattern _pk_id.*, zc.lang as a local storage key. Not declared:
    // zc.lang as a cookie (the registry lists it as a storage key only), ab_bucket, a flag key.
    let first = report_from(
        &app,
        Some(HOST),
        serde_json::json!({
            "names": names(&[
                ("cookie", "ab_bucket"),
                ("cookie", "zc_consent"),
                ("cookie", "_pk_id.1.a4f2"),
                ("local_storage", "zc.lang"),
                ("cookie", "zc.lang"),
                ("local_storage", "feature_flags"),
                ("cookie", "ab_bucket"),
            ]),
            "choice": "rejected"
        }),
    )
    .await;
    assert_eq!(first.status(), 202);
    assert_eq!(first.headers()["access-control-allow-origin"], HOST);
    assert!(
        set_cookie_headers(&first).is_empty(),
        "a report is anonymous: no SSAID is issued"
    );
    assert_eq!(
        first.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"undeclared": 3})
    );
    // An hour and a half later the same page reports ab_bucket again; another site and
    // another choice are counted apart.
    let later = start + TimeDelta::minutes(90);
    clock.set(later);
    let again =
        serde_json::json!({"names": names(&[("cookie", "ab_bucket")]), "choice": "rejected"});
    assert_eq!(
        report_from(&app, Some(HOST), again.clone()).await.status(),
        202
    );
    assert_eq!(report_from(&app, Some(DOCS), again).await.status(), 202);
    let undecided =
        serde_json::json!({"names": names(&[("cookie", "ab_bucket")]), "choice": "none"});
    assert_eq!(report_from(&app, Some(HOST), undecided).await.status(), 202);
    // The next day is a row of its own.
    let next_day = start + TimeDelta::days(1);
    clock.set(next_day);
    let accepted =
        serde_json::json!({"names": names(&[("cookie", "ab_bucket")]), "choice": "accepted"});
    assert_eq!(report_from(&app, Some(HOST), accepted).await.status(), 202);

    // In storage's order: day, origin, kind, name, choice.
    use ChoiceInForce::{Accepted, Rejected};
    use IdentifierKind::{Cookie, LocalStorage};
    assert_eq!(
        counts(&app, start).await,
        [
            count((later, later), DOCS, Cookie, "ab_bucket", Rejected, 1),
            count(
                (later, later),
                HOST,
                Cookie,
                "ab_bucket",
                ChoiceInForce::None,
                1
            ),
            count((start, later), HOST, Cookie, "ab_bucket", Rejected, 2),
            count((start, start), HOST, Cookie, "zc.lang", Rejected, 1),
            count(
                (start, start),
                HOST,
                LocalStorage,
                "feature_flags",
                Rejected,
                1
            ),
            count((next_day, next_day), HOST, Cookie, "ab_bucket", Accepted, 1),
        ]
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"zeccloud_undeclared_identifier_reports_total{kind="cookie"} 6"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"zeccloud_undeclared_identifier_reports_total{kind="local_storage"} 1"#),
        "{metrics}"
    );
}

/// A policy file: the default one as `version`, with an `ab_bucket` cookie in its registry when
/// `with_ab_bucket`.
fn policy(version: &str, with_ab_bucket: bool) -> String {
    let source = policy_version_of_default(version);
    if !with_ab_bucket {
        return source;
    }
    let first = "[[categories.identifiers]]\nname = \"zc_session\"";
    assert!(source.contains(first));
    source.replacen(
        first,
        &format!(
            "[[categories.identifiers]]\nname = \"ab_bucket\"\nkind = \"cookie\"\nprovider = \"ZecCloud\"\n\
             duration = \"30d\"\ndomain = \"host\"\nthird_party_access = false\n\
             purpose.en = \"Which variant of a page test you see.\"\n\n{first}"
        ),
        1,
    )
}

async fn a_name_declared_by_any_still_valid_version_is_not_counted(engine: Engine) {
    let app = spawn_as_of_embedding(engine, Clock::system()).await;
    let report =
        || serde_json::json!({"names": names(&[("cookie", "ab_bucket")]), "choice": "accepted"});
    // Declared by a version published after the current one…
    let published = app.publish(&policy("2026-12-20", true), false).await;
    assert_eq!(
        published.status(),
        201,
        "{}",
        published.text().await.unwrap()
    );
    let undeclared = |answer: serde_json::Value| answer["undeclared"].as_u64().unwrap();
    let answer = report_from(&app, Some(HOST), report()).await;
    assert_eq!(undeclared(answer.json().await.unwrap()), 0);
    // …and still by the valid versions once a later, non-material one drops it: a visitor's
    // choice on the earlier one still holds, and covers it.
    app.publish(&policy("2026-12-21", false), false).await;
    let answer = report_from(&app, Some(HOST), report()).await;
    assert_eq!(undeclared(answer.json().await.unwrap()), 0);
    // The report module lists it too, so the page never sends it.
    let module = || async {
        crate::embed::get_from(&app, "/embed/observe.js", HOST)
            .fetch()
            .await
            .text()
            .await
            .unwrap()
    };
    assert!(module().await.contains(r#""ab_bucket""#));
    // A material version without it ends the earlier ones: now it is undeclared.
    app.publish(&policy("2026-12-22", false), true).await;
    assert!(!module().await.contains(r#""ab_bucket""#));
    let answer = report_from(&app, Some(HOST), report()).await;
    assert_eq!(undeclared(answer.json().await.unwrap()), 1);
    let stored = counts(&app, Utc::now()).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(
        (stored[0].name.as_str(), stored[0].reports),
        ("ab_bucket", 1)
    );
}

async fn bad_reports_are_refused_and_count_nothing(engine: Engine) {
    let app = spawn_as_of_embedding(engine, Clock::system()).await;
    let fine = || serde_json::json!({"names": names(&[("cookie", "ab_bucket")]), "choice": "none"});
    let refused = report_from(&app, Some("https://evil.example"), fine()).await;
    assert_no_cors(&refused);
    assert_error(refused, 403, "origin_not_allowed").await;
    assert_error(
        report_from(&app, None, fine()).await,
        403,
        "origin_not_allowed",
    )
    .await;

    let too_many: Vec<(String, String)> = (0..65)
        .map(|n| ("cookie".to_owned(), format!("n{n}")))
        .collect();
    let too_many: Vec<(&str, &str)> = too_many
        .iter()
        .map(|(kind, name)| (kind.as_str(), name.as_str()))
        .collect();
    let long = "n".repeat(129);
    let cases = [
        (
            "65 names",
            serde_json::json!({"names": names(&too_many), "choice": "none"}),
            422,
            "invalid_observation",
        ),
        (
            "no names",
            serde_json::json!({"names": [], "choice": "none"}),
            422,
            "invalid_observation",
        ),
        (
            "a name of 129 characters",
            serde_json::json!({"names": names(&[("cookie", &long)]), "choice": "none"}),
            422,
            "invalid_observation",
        ),
        (
            "a value",
            serde_json::json!({"names": names(&[("cookie", "ab_bucket=SECRETVALUE123")]), "choice": "none"}),
            422,
            "invalid_observation",
        ),
        (
            "a cookie header",
            serde_json::json!({"names": names(&[("cookie", "a;b")]), "choice": "none"}),
            422,
            "invalid_observation",
        ),
        (
            "an unknown kind",
            serde_json::json!({"names": names(&[("indexed_db", "x")]), "choice": "none"}),
            422,
            "invalid_body",
        ),
        (
            "an unknown choice",
            serde_json::json!({"names": names(&[("cookie", "x")]), "choice": "accept_all"}),
            422,
            "invalid_body",
        ),
        (
            "a value field",
            serde_json::json!({"names": [{"kind": "cookie", "name": "x", "value": "SECRETVALUE123"}], "choice": "none"}),
            422,
            "invalid_body",
        ),
    ];
    for (case, body, status, code) in cases {
        let answer = assert_error_for(
            report_from(&app, Some(HOST), body).await,
            status,
            code,
            case,
        )
        .await;
        assert!(
            !answer.to_string().contains("SECRETVALUE123"),
            "{case}: a refusal never repeats a value: {answer}"
        );
    }
    let form = app
        .http
        .post(app.url("/api/v1/observations"))
        .header("origin", HOST)
        .header("content-type", "text/plain")
        .body(fine().to_string())
        .fetch()
        .await;
    assert_error(form, 415, "unsupported_media_type").await;
    let huge =
        serde_json::json!({"names": names(&[("cookie", &"n".repeat(20_000))]), "choice": "none"});
    assert_error(
        report_from(&app, Some(HOST), huge).await,
        413,
        "payload_too_large",
    )
    .await;
    assert_eq!(app.count_rows("undeclared_identifiers").await, 0);
}

async fn reports_have_a_budget_of_their_own(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.embed_origins = vec!["http://*.zeccloud.test:3101".into()];
        settings.rate_limits.observations_per_minute = 1;
        settings.rate_limits.observations_burst = 2;
    })
    .await;
    let report =
        || serde_json::json!({"names": names(&[("cookie", "ab_bucket")]), "choice": "none"});
    for _ in 0..2 {
        assert_eq!(report_from(&app, Some(HOST), report()).await.status(), 202);
    }
    let over = report_from(&app, Some(HOST), report()).await;
    assert!(over.headers().contains_key("retry-after"));
    assert_error(over, 429, "rate_limited").await;
    assert_eq!(
        app.texts("SELECT CAST(reports AS TEXT) FROM undeclared_identifiers")
            .await,
        ["2"]
    );
    // The visitor's decisions have their own budget: reports spent none of it.
    let ssaid = app.new_visitor().await;
    let decided = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("reject_all"))
        .await;
    assert_eq!(decided.status(), 201);
    assert!(
        app.metrics()
            .await
            .contains(r#"zeccloud_rate_limited_total{limit="observations"} 1"#)
    );
}

async fn the_purge_removes_counts_older_than_their_retention(engine: Engine) {
    let start = Utc::now().trunc_subsecs(0);
    let clock = Clock::fixed(start);
    let app = spawn_as_of_embedding(engine, clock.clone()).await;
    let report = serde_json::json!({"names": names(&[("cookie", "ab_bucket"), ("session_storage", "tab")]), "choice": "custom"});
    assert_eq!(report_from(&app, Some(HOST), report).await.status(), 202);
    let purge = |app: &TestApp| {
        let request = app
            .http
            .post(app.url("/api/v1/admin/retention/purge"))
            .bearer_auth(ADMIN_TOKEN);
        async move { request.fetch_json().await["rows"]["undeclared_identifiers"].clone() }
    };
    // `observations_days` is 90: on the 90th day the day's counts are still kept…
    clock.set(start + TimeDelta::days(90));
    assert_eq!(purge(&app).await, 0);
    assert_eq!(app.count_rows("undeclared_identifiers").await, 2);
    // …and the day after, they go.
    clock.set(start + TimeDelta::days(91));
    assert_eq!(purge(&app).await, 2);
    assert_eq!(app.count_rows("undeclared_identifiers").await, 0);
}

async fn the_console_lists_findings_and_drafts_their_registry_entries(engine: Engine) {
    let app = spawn_as_of_embedding(engine, Clock::system()).await;
    for choice in ["rejected", "rejected", "accepted"] {
        let report = serde_json::json!({"names": names(&[("cookie", "ab_bucket"), ("local_storage", "a&b")]), "choice": choice});
        assert_eq!(report_from(&app, Some(HOST), report).await.status(), 202);
    }
    let session = app.console_session().await;
    let page = app.get("/admin/identifiers", &session).await;
    assert_eq!(page.status(), 200);
    assert_eq!(
        page.headers()["content-security-policy"],
        server::http::console::CONSOLE_SECURITY_POLICY
    );
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let row = |kind: &str, name: &str, choice: &str, reports: u32| {
        format!(
            "<tr><th scope=\"row\">{HOST}</th><td>{kind}</td><td><code>{name}</code></td><td>{choice}</td><td>{reports}</td>"
        )
    };
    for expected in [
        row("cookie", "ab_bucket", "rejected", 2),
        row("local_storage", "a&amp;b", "rejected", 2),
        row("cookie", "ab_bucket", "accepted", 1),
        r#"<a href="/admin/identifiers/draft?kind=local_storage&amp;name=a%26b">Draft</a>"#
            .to_owned(),
        r#"id="chart-undeclared""#.to_owned(),
        "5.00 % of page views".to_owned(),
    ] {
        assert!(html.contains(&expected), "{expected} missing from {html}");
    }
    assert!(!html.contains("<script"), "{html}");

    let draft = app
        .get(
            "/admin/identifiers/draft?kind=local_storage&name=a%26b",
            &session,
        )
        .await;
    assert_eq!(draft.status(), 200);
    let html = draft.text().await.unwrap();
    let start = html.find(r#"<pre id="identifier-draft""#).unwrap();
    let toml = &html[start..];
    let toml = &toml[toml.find('>').unwrap() + 1..toml.find("</pre>").unwrap()];
    let toml = toml
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let identifier = server::service::observations::parse_draft(&toml).unwrap();
    assert_eq!(identifier.name, "a&b");
    assert_eq!(identifier.kind, IdentifierKind::LocalStorage);
    assert_eq!(
        identifier.purpose["en"],
        "TODO: what it is for, in the visitor's words"
    );

    for bad in [
        "/admin/identifiers/draft?kind=indexed_db&name=x",
        "/admin/identifiers/draft?kind=cookie&name=a%3Db",
        "/admin/identifiers/draft?kind=cookie",
    ] {
        assert_error_for(app.get(bad, &session).await, 400, "invalid_parameter", bad).await;
    }
    let unsigned = app
        .get("/admin/identifiers/draft?kind=cookie&name=x", "")
        .await;
    assert_eq!(unsigned.status(), 303);
}

async fn the_loader_samples_and_the_report_module_carries_the_registry(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.embed_origins = vec!["http://*.zeccloud.test:3101".into()];
        settings.observations.sample_rate = 0.25;
    })
    .await;
    let loader = app.get("/embed.js", "").await.text().await.unwrap();
    assert!(loader.contains(r#""sample_rate":0.25"#), "{loader}");
    assert!(loader.contains("/embed/observe.js"), "{loader}");
    let module = crate::embed::get_from(&app, "/embed/observe.js", HOST)
        .fetch()
        .await;
    assert_eq!(module.status(), 200);
    assert_eq!(module.headers()["access-control-allow-origin"], HOST);
    assert_eq!(module.headers()["cache-control"], "public, max-age=300");
    assert!(
        module.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let js = module.text().await.unwrap();
    assert!(
        js.contains(r#""categories":["preferences","analytics"]"#),
        "{js}"
    );
    assert!(
        js.contains(r#""zc_consent""#) && js.contains(r#""_pk_id.*""#),
        "{js}"
    );
    assert!(js.contains(r#""local_storage":["zc.lang"]"#), "{js}");
    assert!(js.contains("/api/v1/observations"), "{js}");
    assert!(!js.contains("__CONFIG__"), "{js}");
    // Another site's page gets no access to it.
    let stranger = crate::embed::get_from(&app, "/embed/observe.js", "https://evil.example")
        .fetch()
        .await;
    assert_no_cors(&stranger);
}

async fn the_api_document_describes_the_report(engine: Engine) {
    let app = spawn(engine).await;
    let document = app
        .get("/api/openapi.json", "")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let report = &document["paths"]["/api/v1/observations"]["post"];
    let body = &report["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(
        body["$ref"], "#/components/schemas/ObservationReport",
        "{report}"
    );
    let schema = &document["components"]["schemas"]["ObservationReport"];
    assert_eq!(schema["example"]["choice"], "rejected", "{schema}");
    assert_eq!(schema["properties"]["names"]["maxItems"], 64, "{schema}");
    let answer = &report["responses"]["202"]["content"]["application/json"]["schema"];
    assert_eq!(
        answer["$ref"], "#/components/schemas/ObservationAnswer",
        "{report}"
    );
    let refused = report["responses"]["422"]["description"].as_str().unwrap();
    assert!(refused.contains("invalid_observation"), "{refused}");
}

/// Names with a random tail can make a finding per report: the page lists the most reported.
async fn the_console_lists_the_most_reported_findings_and_counts_the_rest(engine: Engine) {
    let app = spawn_as_of_embedding(engine, Clock::system()).await;
    // 8 reports of "popular" and 63 names seen once each: 505 findings.
    for report in 0..8 {
        let mut sent = vec![("cookie".to_owned(), "popular".to_owned())];
        sent.extend((0..63).map(|n| ("cookie".to_owned(), format!("session_{report}_{n}"))));
        let sent: Vec<(&str, &str)> = sent.iter().map(|(k, n)| (k.as_str(), n.as_str())).collect();
        let body = serde_json::json!({"names": names(&sent), "choice": "none"});
        assert_eq!(report_from(&app, Some(HOST), body).await.status(), 202);
    }
    let session = app.console_session().await;
    let html = app
        .get("/admin/identifiers", &session)
        .await
        .text()
        .await
        .unwrap();
    let listed = html.matches(">Draft</a>").count();
    assert_eq!(listed, server::service::observations::FINDINGS_SHOWN);
    assert!(
        html.contains("5 less reported findings are not listed."),
        "{html}"
    );
    let first_row = html.find("<tbody><tr>").unwrap();
    assert!(
        html[first_row..].starts_with(&format!(
            "<tbody><tr><th scope=\"row\">{HOST}</th><td>cookie</td><td><code>popular</code></td><td>none</td><td>8</td>"
        )),
        "{}",
        &html[first_row..first_row + 300]
    );
}
