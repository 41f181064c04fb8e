//! The operator console: sign-in and its protections, the overview's numbers against the
//! decisions behind them, proof at a click, the audit export (console, API, command), and the
//! consent log's heads and its check.

use crate::common::*;
use crate::on_both_engines;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use server::domain::{Ssaid, TerminalType};
use server::infra::clock::Clock;
use server::storage::{ConsentEvent, DecisionPlace, SsaidRecord};
use std::collections::BTreeMap;
use std::time::Instant;

on_both_engines![
    the_console_is_behind_a_strict_short_lived_session,
    sign_in_refuses_other_sites_and_slows_down_and_counts_wrong_tokens,
    a_signed_out_session_is_refused_by_every_instance,
    revoked_sessions_are_purged_once_they_would_have_expired,
    the_overview_counts_equal_the_decisions_behind_them,
    days_that_are_over_are_summed_once_and_open_days_reread,
    proof_finds_a_visitors_decisions_by_consent_id_or_ssaid,
    the_export_streams_every_decision_of_the_range_in_order,
    policies_are_compared_and_published_from_the_console_with_the_cli_checks,
    operations_show_this_instances_counters_and_open_erasures,
    the_log_page_shows_the_latest_signed_head_its_keys_and_the_history_of_heads,
    verify_now_records_the_log_check_that_the_page_then_shows,
];

const SITE: &str = "https://www.zeccloud.test";

/// Monday noon, a fixed day for the overview's days.
fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
}

async fn the_console_is_behind_a_strict_short_lived_session(engine: Engine) {
    let clock = Clock::fixed(noon());
    let app = spawn_as_of(engine, clock.clone(), |settings| {
        settings.admin_session_minutes = 30;
    })
    .await;
    // Every page of the console, so a page added later is checked too.
    for path in app::console::CONSOLE_PAGE_PATHS
        .into_iter()
        .chain(["/admin/proof?q=x"])
    {
        let answer = app.get(path, "").await;
        assert_eq!(answer.status(), 303, "{path}");
        assert_eq!(answer.headers()["location"], "/admin/sign-in", "{path}");
    }
    let form = app.get("/admin/sign-in", "").await;
    assert_eq!(form.status(), 200);
    let headers = form.headers().clone();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let html = form.text().await.unwrap();
    assert!(html.contains(r#"<form method="post" action="/admin/sign-in""#));
    // Server-rendered only: no script, no WASM for the console.
    assert!(!html.contains("<script"), "{html}");
    assert!(policy.contains("script-src 'none'"), "{policy}");

    let answer = app.sign_in_with(ADMIN_TOKEN).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/admin");
    let cookie = set_cookie_header(&answer, "zc_admin").unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=1800"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = format!("zc_admin={}", set_cookie(&answer, "zc_admin").unwrap());
    // Every page signed in: the console's policy, never cached nor indexed, no script.
    for path in app::console::CONSOLE_PAGE_PATHS {
        let page = app.get(path, &session).await;
        assert_eq!(page.status(), 200, "{path}");
        let headers = page.headers().clone();
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-robots-tag"], "noindex", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(
            headers["content-security-policy"],
            server::http::console::CONSOLE_SECURITY_POLICY,
            "{path}"
        );
        let html = page.text().await.unwrap();
        assert!(!html.contains("<script"), "{path}: {html}");
        assert!(
            html.contains(&format!(r#"<a href="{path}" aria-current="page">"#)),
            "{path} is in the navigation, as the current page"
        );
    }
    let overview = app.get("/admin", &session).await;
    assert_eq!(overview.status(), 200);
    assert!(
        overview
            .text()
            .await
            .unwrap()
            .contains("Decisions per day, by action")
    );

    // A tampered session, the bearer token instead of a session, an expired session: sign in.
    let tampered = format!("{session}x");
    assert_eq!(app.get("/admin", &tampered).await.status(), 303);
    let bearer = app.get_as_admin("/admin").await;
    assert_eq!(bearer.status(), 303);
    clock.advance(TimeDelta::minutes(31));
    assert_eq!(app.get("/admin", &session).await.status(), 303);

    // Signing out ends the session in the browser.
    let out = app
        .http
        .post(app.url("/admin/sign-out"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &session)
        .fetch()
        .await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/admin/sign-in");
    assert!(
        set_cookie_header(&out, "zc_admin")
            .unwrap()
            .contains("Max-Age=0")
    );

    // Without an admin token there is no console.
    let off = spawn_with(engine, |settings| settings.admin_token = None).await;
    assert_error(off.get("/admin/sign-in", "").await, 404, "admin_disabled").await;
    assert_error(off.get("/admin", "").await, 404, "admin_disabled").await;
}

async fn sign_in_refuses_other_sites_and_slows_down_and_counts_wrong_tokens(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.embed_origins = vec![SITE.to_owned()];
    })
    .await;
    // Another site (even an allowed embedding one) cannot post the console's forms.
    for (site, origin) in [("cross-site", "https://evil.test"), ("same-site", SITE)] {
        let answer = app
            .http
            .post(app.url("/admin/sign-in"))
            .header("sec-fetch-site", site)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={ADMIN_TOKEN}"))
            .fetch()
            .await;
        assert!(set_cookie_header(&answer, "zc_admin").is_none());
        assert_error_for(answer, 403, "origin_not_allowed", origin).await;
    }
    let unnamed = app.http.post(app.url("/admin/sign-out")).fetch().await;
    assert_error(unnamed, 403, "origin_not_allowed").await;

    let started = Instant::now();
    let wrong = app.sign_in_with("not-the-admin-token").await;
    assert!(started.elapsed().as_millis() >= 1000, "a wrong token waits");
    assert_eq!(wrong.status(), 401);
    assert!(set_cookie_header(&wrong, "zc_admin").is_none());
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("That is not the admin token.")
    );

    // Five attempts a minute per network: the two refused posts above took two of them.
    assert_eq!(app.sign_in_with(ADMIN_TOKEN).await.status(), 303);
    assert_eq!(
        app.sign_in_with("wrong-again-wrong-again").await.status(),
        401
    );
    let limited = app.sign_in_with(ADMIN_TOKEN).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;

    let metrics = app.metrics().await;
    for line in [
        "zeccloud_console_sign_ins_total{outcome=\"wrong_token\"} 2",
        "zeccloud_console_sign_ins_total{outcome=\"signed_in\"} 1",
        "zeccloud_rate_limited_total{limit=\"sign_in\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

/// `POST /admin/sign-out` from the console's own page, with `session`.
async fn sign_out(app: &TestApp, session: &str) -> reqwest::Response {
    app.http
        .post(app.url("/admin/sign-out"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", session)
        .fetch()
        .await
}

/// Whether `answer` sends the browser to sign in, as the console does without a session.
fn sent_to_sign_in(answer: &reqwest::Response) -> bool {
    answer.status() == 303 && answer.headers()["location"] == "/admin/sign-in"
}

async fn a_signed_out_session_is_refused_by_every_instance(engine: Engine) {
    let app = spawn(engine).await;
    let other = spawn_beside(&app, |_| {}).await;
    let copied = app.console_session().await;
    let kept = app.console_session().await;
    assert_eq!(other.get("/admin", &copied).await.status(), 200);

    let out = sign_out(&app, &copied).await;
    assert!(sent_to_sign_in(&out));
    assert_eq!(app.count_rows("console_session_revocations").await, 1);

    // The copied cookie, replayed on either instance, on a page and on a form that changes
    // state, is a signed-out session: sign in again.
    for instance in [&app, &other] {
        let page = instance.get("/admin", &copied).await;
        assert!(sent_to_sign_in(&page), "{}", page.status());
        let publish =
            publish_form(instance, &copied, "same-origin", app::DEFAULT_POLICY_TOML).await;
        assert!(sent_to_sign_in(&publish), "{}", publish.status());
        // A session that was not signed out still works.
        assert_eq!(instance.get("/admin", &kept).await.status(), 200);
    }
    // Signed out on the other instance: refused here at once.
    assert!(sent_to_sign_in(&sign_out(&other, &kept).await));
    assert!(sent_to_sign_in(&app.get("/admin", &kept).await));
    assert_eq!(app.count_rows("console_session_revocations").await, 2);
}

async fn revoked_sessions_are_purged_once_they_would_have_expired(engine: Engine) {
    let clock = Clock::fixed(noon());
    let app = spawn_as_of(engine, clock.clone(), |settings| {
        settings.admin_session_minutes = 60;
    })
    .await;
    // One session signed out at noon (it would have expired at 13:00), one at 12:30 (13:30).
    let first = app.console_session().await;
    assert!(sent_to_sign_in(&sign_out(&app, &first).await));
    clock.advance(TimeDelta::minutes(30));
    let second = app.console_session().await;
    assert!(sent_to_sign_in(&sign_out(&app, &second).await));
    assert_eq!(app.count_rows("console_session_revocations").await, 2);

    let purge = |app: &TestApp| {
        app.http
            .post(app.url("/api/v1/admin/retention/purge"))
            .bearer_auth(ADMIN_TOKEN)
            .fetch()
    };
    let rows: serde_json::Value = purge(&app).await.json().await.unwrap();
    assert_eq!(rows["rows"]["console_session_revocations"], 0);
    clock.set(noon() + TimeDelta::minutes(70));
    let rows: serde_json::Value = purge(&app).await.json().await.unwrap();
    assert_eq!(rows["rows"]["console_session_revocations"], 1);
    assert_eq!(app.count_rows("console_session_revocations").await, 1);
    // The one still standing is still refused.
    assert!(sent_to_sign_in(&app.get("/admin", &second).await));
    clock.set(noon() + TimeDelta::minutes(100));
    let rows: serde_json::Value = purge(&app).await.json().await.unwrap();
    assert_eq!(rows["rows"]["console_session_revocations"], 1);
    assert_eq!(app.count_rows("console_session_revocations").await, 0);
}

/// A visitor with the given User-Agent deciding `body` (JSON) through the API.
async fn decide(app: &TestApp, user_agent: &str, cookies: &str, body: &str) -> String {
    let cookies = if cookies.is_empty() {
        let first = app
            .get_with("/api/v1/consent", &[("user-agent", user_agent)])
            .await;
        format!("zc_ssaid={}", set_cookie(&first, "zc_ssaid").unwrap())
    } else {
        cookies.to_owned()
    };
    let answer = app
        .post_json_with(&cookies, body, &[("user-agent", user_agent)])
        .await;
    assert_eq!(answer.status(), 201, "{body}");
    cookies
}

fn body(action: &str, language: &str, categories: &str) -> String {
    format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"{action}","language":"{language}"{categories}}}"#
    )
}

async fn the_overview_counts_equal_the_decisions_behind_them(engine: Engine) {
    let clock = Clock::fixed(noon() - TimeDelta::days(2));
    let app = spawn_as_of(engine, clock.clone(), |_| {}).await;
    // Two days ago: an accept (desktop, en) and a reject (iPhone, ja).
    let desktop = decide(&app, CHROME_DESKTOP, "", &body("accept_all", "en", "")).await;
    let phone = decide(&app, IPHONE, "", &body("reject_all", "ja", "")).await;
    // Yesterday: the desktop visitor keeps preferences only; a new visitor accepts (ko).
    clock.advance(TimeDelta::days(1));
    let custom = r#","categories":{"preferences":true,"analytics":false}"#;
    decide(
        &app,
        CHROME_DESKTOP,
        &desktop,
        &body("custom", "en", custom),
    )
    .await;
    decide(&app, CHROME_DESKTOP, "", &body("accept_all", "ko", "")).await;
    // Today: the phone visitor accepts after all.
    clock.advance(TimeDelta::days(1));
    decide(&app, IPHONE, &phone, &body("accept_all", "ja", "")).await;

    let stats = app
        .get_as_admin("/api/v1/admin/statistics?days=3")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(
        stats["days"],
        serde_json::json!(["2026-11-21", "2026-11-22", "2026-11-23"])
    );
    assert_eq!(stats["total"], 5);
    assert_eq!(
        app.count_rows("consent_events").await,
        5,
        "as many as stored"
    );
    assert_eq!(stats["decisions_per_day"], serde_json::json!([2, 2, 1]));
    let by_action = &stats["by_action"];
    assert_eq!(by_action["accept_all"], serde_json::json!([1, 1, 1]));
    assert_eq!(by_action["reject_all"], serde_json::json!([1, 0, 0]));
    assert_eq!(by_action["custom"], serde_json::json!([0, 1, 0]));
    assert_eq!(by_action["withdraw"], serde_json::json!([0, 0, 0]));
    assert_eq!(by_action["gpc"], serde_json::json!([0, 0, 0]));
    assert_eq!(
        stats["categories"],
        serde_json::json!(["preferences", "analytics"])
    );
    assert_eq!(
        stats["grant_share"]["preferences"],
        serde_json::json!([50.0, 100.0, 100.0])
    );
    assert_eq!(
        stats["grant_share"]["analytics"],
        serde_json::json!([50.0, 50.0, 100.0])
    );
    let table = |title: &str| {
        stats["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|table| table["title"] == title)
            .unwrap()["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| {
                (
                    value["value"].as_str().unwrap().to_owned(),
                    value["decisions"].as_i64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let pairs = |pairs: &[(&str, i64)]| {
        pairs
            .iter()
            .map(|(value, count)| ((*value).to_owned(), *count))
            .collect::<Vec<_>>()
    };
    assert_eq!(table("Language"), pairs(&[("en", 2), ("ja", 2), ("ko", 1)]));
    assert_eq!(
        table("Terminal type"),
        pairs(&[("desktop", 3), ("mobile", 2)])
    );
    assert_eq!(table("Policy version"), pairs(&[(POLICY_VERSION, 5)]));
    assert_eq!(table("Embedding site"), pairs(&[("(own pages)", 5)]));
    // Nobody placed (no country header): the policy's default jurisdiction and regime.
    assert_eq!(table("Jurisdiction"), pairs(&[("default", 5)]));
    assert_eq!(table("Regime"), pairs(&[("opt_in", 5)]));
    // Outside the range nothing is counted; a bad range is refused.
    let one_day = app
        .get_as_admin("/api/v1/admin/statistics?days=1")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(one_day["total"], 1);
    for bad in [
        "days=0",
        "days=400",
        "days=x",
        "days=",
        "dayz=3",
        "days=3&days=4",
    ] {
        let answer = app
            .get_as_admin(&format!("/api/v1/admin/statistics?{bad}"))
            .await;
        assert_eq!(answer.status(), 400, "{bad}");
    }

    // The console shows the same numbers, with a chart and a table for each.
    let session = app.console_session().await;
    let page = app.get("/admin?days=30", &session).await;
    assert_eq!(page.status(), 200);
    // Without the hydration markers Leptos places between a list and its neighbours.
    let html = page.text().await.unwrap().replace("<!>", "");
    assert!(html.contains(r#"data-total="5""#), "total");
    assert!(html.contains(r#"<tr><th scope="row">2026-11-21</th><td>1</td><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td><td>2</td></tr>"#), "the day's row");
    for chart in [
        "chart-actions",
        "chart-grants",
        "chart-dimension-0",
        "chart-dimension-3",
        "chart-dimension-4",
        "chart-dimension-5",
    ] {
        assert!(html.contains(&format!(r#"id="{chart}""#)), "{chart}");
    }
    assert!(html.contains("<svg"));
    assert_error(
        app.get("/admin?days=7", &session).await,
        400,
        "invalid_parameter",
    )
    .await;
}

async fn proof_finds_a_visitors_decisions_by_consent_id_or_ssaid(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    assert_eq!(
        app.post_json(&cookies, &decision("accept_all"))
            .await
            .status(),
        201
    );
    let second = app
        .post_json(&cookies, &body("reject_all", "ko", ""))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let consent_id = second["consent"]["event_id"].as_str().unwrap().to_owned();
    let session = app.console_session().await;

    let page = app
        .get(&format!("/admin/proof?q={consent_id}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(page.matches(r#"class="zc-console__event""#).count(), 2);
    assert!(page.contains(&format!(
        r#"data-event-id="{consent_id}" data-match="true""#
    )));
    // The policy as shown, in the decision's language (Korean), and the proof's hashes.
    let event = &app.events_of(&ssaid).await[1];
    assert!(page.contains(&event.banner_text_hash));
    assert!(page.contains(&event.policy_hash));
    assert!(page.contains("(ko)"));
    let id = ssaid_of(&app.tokens, &ssaid);
    let by_ssaid = app
        .get(&format!("/admin/proof?q={}", id.as_str()), &session)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(by_ssaid.matches(r#"class="zc-console__event""#).count(), 2);

    let receipt = app
        .get(&format!("/admin/proof/{consent_id}/receipt"), &session)
        .await;
    assert_eq!(receipt.status(), 200);
    assert!(
        receipt.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let receipt: serde_json::Value = receipt.json().await.unwrap();
    assert_eq!(receipt["receipt"]["record_id"], consent_id);
    assert_eq!(
        app.get(&format!("/admin/proof/{consent_id}/receipt"), "")
            .await
            .status(),
        303,
        "no receipt without a session"
    );

    for (query, says) in [
        (
            "00000000-0000-7000-8000-000000000000",
            "No decision has the consent id",
        ),
        ("not-an-id", "is neither a consent id"),
    ] {
        let page = app
            .get(&format!("/admin/proof?q={query}"), &session)
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(says), "{query}");
    }
}

/// `count` decisions stored directly, one every `step` from `start`, alternating two visitors.
async fn store_decisions(app: &TestApp, start: DateTime<Utc>, step: TimeDelta, count: u32) {
    let visitors = [1_u8, 2].map(|seed| SsaidRecord {
        ssaid: Ssaid::from_random_bytes([seed; 16]),
        issued_at: start,
        terminal_type: TerminalType::Desktop,
    });
    for index in 0..count {
        let visitor = &visitors[index as usize % 2];
        let event = ConsentEvent {
            id: uuid::Uuid::now_v7(),
            ssaid: visitor.ssaid.clone(),
            policy_version: app::domain::PolicyVersion::parse(POLICY_VERSION).unwrap(),
            categories: BTreeMap::from([
                ("analytics".to_owned(), index % 3 == 0),
                ("necessary".to_owned(), true),
            ]),
            action: app::domain::ConsentAction::Custom,
            source: app::domain::ConsentSource::Api,
            created_at: start + step * i32::try_from(index).unwrap(),
            // Every fourth delivered late, 90 s after it was made.
            made_at: (index % 4 == 0)
                .then(|| start + step * i32::try_from(index).unwrap() - TimeDelta::seconds(90)),
            policy_hash: "sha256:policy".to_owned(),
            banner_text_hash: "sha256:banner".to_owned(),
            language: "en".to_owned(),
            ip_prefix: Some("192.0.2.0/24".to_owned()),
            ua_class: TerminalType::Desktop,
            origin: (index % 2 == 0).then(|| SITE.to_owned()),
            // Every third placed in an opt-out jurisdiction; the others recorded as before
            // jurisdictions existed.
            jurisdiction: (index % 3 == 1).then(|| DecisionPlace {
                name: "united_states".to_owned(),
                regime: app::domain::Regime::OptOut,
                country: Some("US-CA".to_owned()),
                source: app::domain::CountrySource::Header,
            }),
            log_salt: None,
        };
        app.storage
            .insert_consent_events(&[(visitor.clone(), event)])
            .await
            .unwrap();
    }
}

async fn the_export_streams_every_decision_of_the_range_in_order(engine: Engine) {
    let app = spawn(engine).await;
    // 2,400 decisions a minute apart from 2026-11-01 00:00: 1,440 on the 1st, 960 on the 2nd;
    // more than two pages of the export's keyset paging.
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    store_decisions(&app, start, TimeDelta::minutes(1), 2400).await;
    // One just before the range and one on the first instant after it.
    store_decisions(&app, start - TimeDelta::seconds(1), TimeDelta::zero(), 1).await;
    store_decisions(&app, start + TimeDelta::days(2), TimeDelta::zero(), 1).await;

    let session = app.console_session().await;
    let csv = app
        .get(
            "/admin/export?from=2026-11-01&to=2026-11-02&format=csv",
            &session,
        )
        .await;
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.headers()["content-disposition"],
        "attachment; filename=\"consent-decisions-2026-11-01-to-2026-11-02.csv\""
    );
    assert!(
        !csv.headers().contains_key("content-length"),
        "streamed, not buffered"
    );
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "consent_id",
            "decided_at",
            "ssaid",
            "policy_version",
            "policy_hash",
            "banner_text_hash",
            "language",
            "action",
            "source",
            "categories",
            "network_prefix",
            "terminal_type",
            "origin",
            "made_at",
            "jurisdiction",
            "regime",
            "country",
            "country_source",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2400);
    assert_eq!(&rows[0][1], "2026-11-01T00:00:00.000000Z");
    assert_eq!(&rows[2399][1], "2026-11-02T15:59:00.000000Z");
    assert!(
        rows.windows(2).all(|pair| pair[0][1] < pair[1][1]),
        "in time order"
    );
    assert_eq!(&rows[0][9], r#"{"analytics":true,"necessary":true}"#);
    assert_eq!(&rows[0][12], SITE);
    assert_eq!(&rows[1][12], "");
    assert_eq!(&rows[0][13], "2026-10-31T23:58:30.000000Z");
    assert_eq!(&rows[1][13], "");
    let place =
        |row: &csv::StringRecord| row.iter().skip(14).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        place(&rows[0]),
        ["", "", "", ""],
        "recorded before jurisdictions"
    );
    assert_eq!(
        place(&rows[1]),
        ["united_states", "opt_out", "US-CA", "header"]
    );

    // The same rows as JSON Lines, from the admin API and from the command line.
    let jsonl = app
        .get_as_admin("/api/v1/admin/export?from=2026-11-02&to=2026-11-02&format=jsonl")
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 960);
    assert_eq!(lines[0]["decided_at"], "2026-11-02T00:00:00.000000Z");
    assert_eq!(lines[0]["made_at"], "2026-11-01T23:58:30.000000Z");
    assert_eq!(lines[1]["made_at"], serde_json::Value::Null);
    // Row 1440 of the day before: index 1440 is 0 modulo 3, 1441 is placed.
    assert_eq!(lines[0]["regime"], serde_json::Value::Null);
    assert_eq!(lines[1]["regime"], "opt_out");
    assert_eq!(lines[1]["country"], "US-CA");
    assert_eq!(lines[0]["categories"]["necessary"], true);
    assert_eq!(lines[0]["consent_id"], rows[1440][0]);
    // Compressed as a browser asks for it, to the end.
    let compressed = app
        .http
        .get(app.url("/admin/export?from=2026-11-01&to=2026-11-02&format=csv"))
        .header("cookie", &session)
        .header("accept-encoding", "br")
        .fetch()
        .await;
    assert_eq!(compressed.headers()["content-encoding"], "br");
    let mut plain = Vec::new();
    brotli::BrotliDecompress(&mut &compressed.bytes().await.unwrap()[..], &mut plain).unwrap();
    assert_eq!(String::from_utf8(plain).unwrap(), text);
    let command = app.command(&[
        "export",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-02",
        "--format",
        "csv",
    ]);
    assert_eq!(command, text, "the command writes the same file");

    for bad in [
        "from=2026-11-02&to=2026-11-01&format=csv",
        "from=2026-13-01&to=2026-11-01&format=csv",
        "from=2026-11-01&to=2026-11-02&format=xlsx",
        "from=2026-11-01&to=2026-11-02&format=csv&limit=5",
    ] {
        let answer = app.get(&format!("/admin/export?{bad}"), &session).await;
        assert_eq!(answer.status(), 400, "{bad}");
    }
    assert_error(
        app.get_as_admin("/api/v1/admin/export?from=2026-11-01")
            .await,
        400,
        "invalid_parameter",
    )
    .await;
}

/// The policy upload as a browser posts it: multipart, from the console's own page.
async fn upload_policy(
    app: &TestApp,
    session: &str,
    source: &str,
    material: bool,
) -> reqwest::Response {
    let boundary = "zc-test-boundary-7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"policy.toml\"\r\n\
         Content-Type: application/toml\r\n\r\n{source}\r\n"
    );
    if material {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"material\"\r\n\r\ntrue\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    app.http
        .post(app.url("/admin/policies/preview"))
        .header("sec-fetch-site", "same-origin")
        .header("cookie", session)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .fetch()
        .await
}

async fn publish_form(app: &TestApp, session: &str, site: &str, source: &str) -> reqwest::Response {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("source", source)
        .append_pair("material", "true")
        .finish();
    app.http
        .post(app.url("/admin/policies/publish"))
        .header("sec-fetch-site", site)
        .header("cookie", session)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .fetch()
        .await
}

async fn policies_are_compared_and_published_from_the_console_with_the_cli_checks(engine: Engine) {
    let app = spawn(engine).await;
    let session = app.console_session().await;
    let page = app.get("/admin/policies", &session).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains(&format!("{POLICY_VERSION} (current)")),
        "listed"
    );

    // An invalid file is refused with the parser's reason; nothing is published.
    let invalid = upload_policy(&app, &session, "version = \"2027-01-01\"\n", false).await;
    assert_eq!(invalid.status(), 422);
    assert!(
        invalid
            .text()
            .await
            .unwrap()
            .contains("The file is not a valid policy")
    );
    assert_eq!(app.count_rows("policy_versions").await, 1);

    // A valid file is compared with the current version first, still publishing nothing.
    let next = policy_version_of_default("2027-01-01").replace(
        "title = \"Your privacy choices\"",
        "title = \"Your privacy, your choices\"",
    );
    assert_ne!(
        next,
        policy_version_of_default("2027-01-01"),
        "the title changed"
    );
    let preview = upload_policy(&app, &session, &next, true).await;
    assert_eq!(preview.status(), 200);
    let html = preview.text().await.unwrap().replace("<!>", "");
    assert!(html.contains(
        r#"<tr data-change="changed"><th scope="row"><code>banner.en.title</code></th>"#
    ));
    assert!(html.contains(r#"<code>version</code>"#));
    assert!(html.contains("Publish as a material change"));
    assert_eq!(app.count_rows("policy_versions").await, 1);

    // Another site cannot publish; the console can, with the same outcomes as the CLI.
    let refused = publish_form(&app, &session, "cross-site", &next).await;
    assert_error(refused, 403, "origin_not_allowed").await;
    let published = publish_form(&app, &session, "same-origin", &next).await;
    assert_eq!(published.status(), 201);
    assert!(
        published
            .text()
            .await
            .unwrap()
            .contains("Version 2027-01-01 is published as a material change")
    );
    assert_eq!(app.count_rows("policy_versions").await, 2);
    let current: serde_json::Value = app.get("/api/v1/policy", "").await.json().await.unwrap();
    assert_eq!(current["version"], "2027-01-01");
    assert_eq!(
        publish_form(&app, &session, "same-origin", &next)
            .await
            .status(),
        200
    );
    let conflicting = next.replace("Your privacy, your choices", "Something else");
    assert_eq!(
        publish_form(&app, &session, "same-origin", &conflicting)
            .await
            .status(),
        409
    );

    // The two published versions compare the same way.
    let diff = app
        .get(
            &format!("/admin/policies?from={POLICY_VERSION}&to=2027-01-01"),
            &session,
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(diff.contains("banner.en.title"));
    let unknown = app
        .get("/admin/policies?from=1999-01-01&to=2027-01-01", &session)
        .await;
    assert_eq!(unknown.status(), 404);
    // Without a session, nothing.
    assert_eq!(
        publish_form(&app, "", "same-origin", &next).await.status(),
        303
    );
}

async fn operations_show_this_instances_counters_and_open_erasures(engine: Engine) {
    let app = spawn(engine).await;
    for _ in 0..2 {
        app.new_visitor().await;
    }
    let session = app.console_session().await;
    let page = app.get("/admin/operations", &session).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap().replace("<!>", "");
    // SSAIDs issued, tokens refused, forged, assessments, over a rate limit.
    assert!(
        html.contains(r#"<tfoot><tr><th scope="row">Since the start</th><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td></tr></tfoot>"#),
        "risk totals"
    );
    for id in ["table-gate", "table-risk", "chart-gate", "chart-risk"] {
        assert!(html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    assert!(html.contains("The Matomo gate is not configured here"));
    assert!(
        html.contains("Matomo&#x27;s Reporting API is not configured")
            || html.contains("Matomo's Reporting API is not configured")
    );
    assert_error(
        app.get("/admin/operations?hours=3", &session).await,
        400,
        "unknown_parameter",
    )
    .await;
}

async fn days_that_are_over_are_summed_once_and_open_days_reread(engine: Engine) {
    use server::domain::statistics::{day_range, overview};
    use server::service::console::day_summaries::DaySummaries;
    let app = spawn(engine).await;
    let categories = vec!["analytics".to_owned()];
    // Decisions every 3 hours from 2026-11-01 to 2026-11-03 09:00.
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    store_decisions(&app, start, TimeDelta::hours(3), 20).await;
    let summaries = DaySummaries::default();
    let expected = |range: &[chrono::NaiveDate]| {
        let storage = app.storage.clone();
        let range = range.to_vec();
        let categories = categories.clone();
        async move {
            let counts = storage
                .decision_counts(range[0], *range.last().unwrap())
                .await
                .unwrap();
            overview(&range, &categories, &counts)
        }
    };
    // 2026-11-03 00:05: the 2nd is over but still settling, so the days up to the 1st are kept.
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 0, 5, 0).unwrap();
    let range = day_range(now.date_naive(), 30);
    let first = summaries
        .overview(app.storage.as_ref(), now, &range, &categories)
        .await
        .unwrap();
    assert_eq!(first, expected(&range).await);
    assert_eq!(first.total, 20);
    assert_eq!(summaries.kept(), 28);
    // At 12:00 the 2nd is over too; a decision made today is counted at once.
    store_decisions(
        &app,
        Utc.with_ymd_and_hms(2026, 11, 3, 11, 0, 0).unwrap(),
        TimeDelta::zero(),
        1,
    )
    .await;
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 12, 0, 0).unwrap();
    let later = summaries
        .overview(app.storage.as_ref(), now, &range, &categories)
        .await
        .unwrap();
    assert_eq!(later, expected(&range).await);
    assert_eq!(later.total, 21);
    assert_eq!(summaries.kept(), 29);
    // A 90-day range from the next day reads only the days not kept yet.
    let now = Utc.with_ymd_and_hms(2026, 11, 4, 12, 0, 0).unwrap();
    let range = day_range(now.date_naive(), 90);
    assert_eq!(
        summaries
            .overview(app.storage.as_ref(), now, &range, &categories)
            .await
            .unwrap(),
        expected(&range).await
    );
    assert_eq!(summaries.kept(), 89);
}

/// A new visitor's decision through the JSON API: its consent id.
async fn decided_event(app: &TestApp, action: &str) -> String {
    let ssaid = app.new_visitor().await;
    let decided = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision(action))
        .await;
    assert_eq!(decided.status(), 201);
    let answer: serde_json::Value = decided.json().await.unwrap();
    answer["consent"]["event_id"].as_str().unwrap().to_owned()
}

/// The console's log page, once its latest signed head covers every stored leaf (a head is
/// signed every second in tests); its HTML and the number of leaves.
async fn log_page_once_signed(app: &TestApp, session: &str) -> (String, i64) {
    let leaves = app.count_rows("log_leaves").await;
    let signed = format!(r#"<dd data-field="tree-size">{leaves}</dd>"#);
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let page = app.get("/admin/log", session).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap().replace("<!>", "");
        if html.contains(&signed) {
            return (html, leaves);
        }
        assert!(
            Instant::now() < deadline,
            "no head of {leaves} leaves: {html}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// `POST /admin/log/verify` with `session`, from the page `site` says.
async fn verify_now(app: &TestApp, session: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/admin/log/verify"))
        .header("cookie", session)
        .header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.fetch().await
}

async fn the_log_page_shows_the_latest_signed_head_its_keys_and_the_history_of_heads(
    engine: Engine,
) {
    let app = spawn(engine).await;
    let session = app.console_session().await;
    let event_id = decided_event(&app, "accept_all").await;
    let (html, leaves) = log_page_once_signed(&app, &session).await;
    assert!(leaves >= 2, "the policy's leaf and the decision's");

    // The latest head is the one the public API proves the decision against.
    let proof: serde_json::Value = app
        .get(
            &format!("/api/v1/log/inclusion?event_id={event_id}&tree_size={leaves}"),
            "",
        )
        .await
        .json()
        .await
        .unwrap();
    let root = proof["root_hash"].as_str().unwrap();
    let checkpoint = proof["checkpoint"].as_str().unwrap();
    assert!(
        html.contains(&format!(
            r#"<dd data-field="root-hash"><code>{root}</code></dd>"#
        )),
        "{root} in {html}"
    );
    assert!(
        html.contains(&format!(
            r#"<pre id="zc-log-checkpoint" class="zc-console__checkpoint">{checkpoint}</pre>"#
        )),
        "the whole signed note: {checkpoint}"
    );
    // The log's name and its verifier key, as the public key endpoint gives them.
    let keys: serde_json::Value = app.get("/api/v1/log/key", "").await.json().await.unwrap();
    let key = &keys["keys"][0];
    assert!(html.contains(&format!(
        r#"<code id="zc-log-origin">{}</code>"#,
        key["name"].as_str().unwrap()
    )));
    assert!(html.contains(&format!(
        r#"<tr data-key-state="current"><th scope="row"><code>{}</code></th><td><code class="zc-console__long">{}</code></td>"#,
        key["key_id"].as_str().unwrap(),
        key["verifier_key"].as_str().unwrap()
    )));
    // Every stored head (fewer than 50 here), latest first; the latest with its root.
    let heads = usize::try_from(app.count_rows("log_heads").await).unwrap();
    assert!(heads >= 2, "the first start's head and the decision's");
    assert_eq!(html.matches("<tr data-tree-size=").count(), heads);
    assert!(html.contains(&format!(
        r#"<tbody><tr data-tree-size="{leaves}"><th scope="row">{leaves}</th><td><code>{root}</code></td>"#
    )));
    // Never checked yet: the command that does it.
    assert!(html.contains(r#"data-outcome="never""#));
    assert!(html.contains("<code>server log verify</code>"));
    assert!(html.contains(r#"<form method="post" action="/admin/log/verify""#));
    assert_error(
        app.get("/admin/log?size=3", &session).await,
        400,
        "unknown_parameter",
    )
    .await;
}

async fn verify_now_records_the_log_check_that_the_page_then_shows(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.embed_origins = vec![SITE.to_owned()];
    })
    .await;
    let session = app.console_session().await;
    let altered = decided_event(&app, "accept_all").await;
    decided_event(&app, "reject_all").await;
    let (html, leaves) = log_page_once_signed(&app, &session).await;
    assert!(html.contains(r#"data-outcome="never""#));

    // Another site (even an allowed embedding one), a request that names no page, and a
    // request without a session run nothing.
    for (case, headers) in [
        (
            "cross-site",
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://evil.test"),
            ],
        ),
        (
            "same-site",
            vec![("sec-fetch-site", "same-site"), ("origin", SITE)],
        ),
        ("foreign origin", vec![("origin", "https://evil.test")]),
        ("unnamed", vec![]),
    ] {
        assert_error_for(
            verify_now(&app, &session, &headers).await,
            403,
            "origin_not_allowed",
            case,
        )
        .await;
    }
    let signed_out = verify_now(&app, "", &[("sec-fetch-site", "same-origin")]).await;
    assert!(sent_to_sign_in(&signed_out));
    assert_eq!(app.count_rows("log_verifications").await, 0);

    // From the console's own page: checked, recorded, and back to the page that shows it.
    let own_page = [
        ("sec-fetch-site", "same-origin"),
        ("origin", app.base.as_str()),
    ];
    let verified = verify_now(&app, &session, &own_page).await;
    assert_eq!(verified.status(), 303);
    assert_eq!(verified.headers()["location"], "/admin/log");
    assert_eq!(app.count_rows("log_verifications").await, 1);
    let heads = app.count_rows("log_heads").await;
    let html = app
        .get("/admin/log", &session)
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(html.contains(r#"data-outcome="clean""#), "{html}");
    assert!(html.contains(&format!(r#"<dd data-field="leaves">{leaves}</dd>"#)));
    assert!(html.contains(&format!(r#"<dd data-field="heads">{heads}</dd>"#)));
    assert!(html.contains("Clean: every record matches its leaf"));

    // A decision altered behind the service's back: the next check names it.
    let disable = match engine {
        Engine::Sqlite => "DROP TRIGGER consent_events_no_update",
        Engine::Postgres => "ALTER TABLE consent_events DISABLE TRIGGER consent_events_no_update",
    };
    app.execute_raw(disable).await.unwrap();
    let changed = app
        .execute_raw(&format!(
            "UPDATE consent_events SET action = 'reject_all' WHERE id = '{altered}'"
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let leaf: serde_json::Value = app
        .get(&format!("/api/v1/log/inclusion?event_id={altered}"), "")
        .await
        .json()
        .await
        .unwrap();
    let index = leaf["leaf_index"].as_u64().unwrap();
    let verified = verify_now(&app, &session, &own_page).await;
    assert_eq!(verified.status(), 303);
    let html = app
        .get("/admin/log", &session)
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(html.contains(r#"data-outcome="problems""#), "{html}");
    assert!(
        html.contains(&format!(
            "1 problem(s). The first: consent {altered} (leaf {index}) was altered: it no longer matches its leaf"
        )),
        "{html}"
    );
    assert_eq!(app.count_rows("log_verifications").await, 2);

    // A stored head whose signature no longer verifies (its root rewritten): the page says the
    // history cannot be listed rather than failing, and the next check names the head first.
    let disable = match engine {
        Engine::Sqlite => "DROP TRIGGER log_heads_no_update",
        Engine::Postgres => "ALTER TABLE log_heads DISABLE TRIGGER log_heads_no_change",
    };
    app.execute_raw(disable).await.unwrap();
    let forged = format!("{}=", "A".repeat(43));
    let changed = app
        .execute_raw(&format!(
            "UPDATE log_heads SET note = replace(note, root_hash, '{forged}') \
             WHERE tree_size = (SELECT MIN(tree_size) FROM log_heads)"
        ))
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let page = app.get("/admin/log", &session).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap().replace("<!>", "");
    assert!(
        html.contains(r#"<p role="alert" class="zc-error">The stored heads cannot be listed"#),
        "{html}"
    );
    assert!(html.contains(&format!(r#"<dd data-field="tree-size">{leaves}</dd>"#)));
    assert_eq!(verify_now(&app, &session, &own_page).await.status(), 303);
    let html = app
        .get("/admin/log", &session)
        .await
        .text()
        .await
        .unwrap()
        .replace("<!>", "");
    assert!(
        html.contains("2 problem(s). The first: stored head #0 does not verify"),
        "{html}"
    );
}
