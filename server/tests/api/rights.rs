//! The visitor's rights (notice §07): access to everything stored under their SSAID, and
//! erasure that leaves evidence, not data, and no longer honours the old cookies.

use crate::common::*;
use crate::on_both_engines;
use server::infra::config::ServiceEntry;

on_both_engines![
    access_lists_everything_stored,
    staff_find_a_subject_by_ssaid_or_by_a_receipts_consent_id,
    erasure_removes_everything_keeps_evidence_and_revokes_the_old_cookies,
    a_withdrawn_choices_old_cookie_no_longer_grants,
    the_preference_center_downloads_and_erases_without_javascript,
    the_preference_center_lists_the_latest_decisions_and_the_download_all,
    staff_show_and_erase_a_subject_from_the_command_line,
    erasures_succeed_while_other_visitors_decide,
    a_request_that_names_no_page_and_sends_no_json_erases_nothing,
];

/// `Origin: null` passes the source check as a client that names no page; what keeps a page
/// elsewhere from erasing the visitor (a sandboxed frame's form, a no-cors fetch) is the JSON
/// body that every state-changing API call needs, as a browser sends it only after a preflight.
async fn a_request_that_names_no_page_and_sends_no_json_erases_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let (_, cookies) = app.decided_visitor("accept_all").await;
    let erase = |content_type: Option<&str>, body: &str| {
        let mut request = app
            .http
            .post(app.url("/api/v1/me/erase"))
            .header("cookie", &cookies)
            .header("origin", "null")
            .body(body.to_owned());
        if let Some(kind) = content_type {
            request = request.header("content-type", kind);
        }
        request.fetch()
    };
    let bare = erase(None, "").await;
    assert!(
        set_cookie(&bare, "zc_consent").is_none(),
        "no cookie expired"
    );
    assert_error(bare, 415, "unsupported_media_type").await;
    let form = erase(Some("application/x-www-form-urlencoded"), "confirm=yes").await;
    assert_error(form, 415, "unsupported_media_type").await;
    let text = erase(Some("text/plain"), r#"{"confirm": true}"#).await;
    assert_error(text, 415, "unsupported_media_type").await;
    let unconfirmed = erase(Some("application/json"), r#"{"confirm": false}"#).await;
    assert_error(unconfirmed, 422, "erasure_not_confirmed").await;
    assert_eq!(app.count_rows("erasures").await, 0);
    assert_eq!(app.count_rows("consent_events").await, 1);
    // The visitor's own client, with the confirmation: erased.
    let confirmed = erase(Some("application/json"), r#"{"confirm": true}"#).await;
    assert_eq!(confirmed.status(), 200);
    assert_eq!(app.count_rows("erasures").await, 1);
    assert_eq!(app.count_rows("consent_events").await, 0);
}

/// An erasure reads, then writes: on SQLite a transaction begun deferred cannot take the write
/// lock once another connection wrote after its read (SQLITE_BUSY_SNAPSHOT, no retry), and the
/// erasure failed with a 500 while decisions were being stored (found by the fuzzer in CI).
async fn erasures_succeed_while_other_visitors_decide(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.rate_limits.decisions_burst = 1000;
        settings.rate_limits.new_visitors_burst = 1000;
    })
    .await;
    let mut visitors = Vec::new();
    for _ in 0..32 {
        visitors.push(app.new_visitor().await);
    }
    let deciding = futures_util::future::join_all(visitors.iter().map(|ssaid| {
        let app = &app;
        async move {
            let response = app
                .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
                .await;
            response.status().as_u16()
        }
    }));
    let erasing = futures_util::future::join_all((0..32u8).map(|seed| {
        let app = &app;
        async move {
            let subject = server::domain::Ssaid::from_random_bytes([seed; 16]);
            let response = app
                .http
                .post(app.url(&format!(
                    "/api/v1/admin/subjects/{}/erase",
                    subject.as_str()
                )))
                .bearer_auth(ADMIN_TOKEN)
                .json(&serde_json::json!({"ticket": "PRIV-2031"}))
                .fetch()
                .await;
            response.status().as_u16()
        }
    }));
    let (decided, erased) = tokio::join!(deciding, erasing);
    assert_eq!(decided, vec![201; 32]);
    assert_eq!(erased, vec![200; 32]);
    assert_eq!(app.count_rows("erasures").await, 32);
}

async fn staff_show_and_erase_a_subject_from_the_command_line(engine: Engine) {
    let app = spawn_rights(engine).await;
    let (ssaid, cookies) = busy_visitor(&app).await;
    let own: serde_json::Value = app.get("/api/v1/me", &cookies).await.json().await.unwrap();
    let run =
        |args: &[&str]| serde_json::from_str::<serde_json::Value>(&app.command(args)).unwrap();
    let consent_id = own["consent_events"][0]["id"].as_str().unwrap();
    let shown = run(&["subject", "show", consent_id]);
    assert_eq!(shown["consent_events"], own["consent_events"]);
    assert_eq!(shown["matomo"], own["matomo"], "the same pseudonym key");

    let id = ssaid_of(&app.tokens, &ssaid);
    let erased = run(&["subject", "erase", id.as_str(), "--ticket", "ZC-77"]);
    assert_eq!(erased["channel"], "staff");
    assert_eq!(erased["ticket"], "ZC-77");
    assert_eq!(erased["deleted"]["consent_events"], 2);
    assert_eq!(app.count_rows("consent_events").await, 0);
}

/// The preference center's erasure form, as a browser sends it from `site`.
async fn erase_form(app: &TestApp, cookies: &str, site: &str, body: &str) -> reqwest::Response {
    app.http
        .post(app.url("/preferences/erase"))
        .header("cookie", cookies)
        .header("sec-fetch-site", site)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .fetch()
        .await
}

async fn the_preference_center_downloads_and_erases_without_javascript(engine: Engine) {
    let app = spawn(engine).await;
    let (ssaid, cookies) = app.decided_visitor("accept_all").await;
    let page = app
        .get("/preferences?lang=ja", &cookies)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"data-testid="your-data""#));
    assert!(page.contains(r#"href="/api/v1/me""#));
    assert!(page.contains(r#"action="/preferences/erase""#));
    assert!(page.contains("データを消去"));
    // The section shows what is stored, in short, without JavaScript.
    let id = ssaid_of(&app.tokens, &ssaid);
    assert!(
        page.contains(&format!(
            r#"<code data-testid="stored-ssaid">{}</code>"#,
            id.as_str()
        )),
        "{page}"
    );
    assert!(page.contains(r#"<li data-action="accept_all">"#));
    assert!(page.contains("あなたの選択"));

    // Not confirmed, or from another site: nothing is erased.
    let unconfirmed = erase_form(&app, &cookies, "same-origin", "lang=ja").await;
    assert_error(unconfirmed, 422, "erasure_not_confirmed").await;
    let forged = erase_form(&app, &cookies, "cross-site", "confirm=yes&lang=ja").await;
    assert_error(forged, 403, "origin_not_allowed").await;
    assert_eq!(app.count_rows("consent_events").await, 1);

    let erased = erase_form(&app, &cookies, "same-origin", "confirm=yes&lang=ja").await;
    assert_eq!(erased.status(), 303);
    let location = erased.headers()["location"].to_str().unwrap().to_owned();
    let id = location
        .strip_prefix("/preferences?lang=ja&erased=")
        .and_then(|rest| rest.strip_suffix("#zc-page-data"))
        .unwrap_or_else(|| panic!("{location}"))
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(
        set_cookie_header(&erased, "zc_consent")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(app.count_rows("consent_events").await, 0);
    let ids = app.texts("SELECT id FROM erasures").await;
    assert_eq!(ids, std::slice::from_ref(&id));

    // Back on the page, as a new visitor: the reference is shown.
    let back = app.get(location.split('#').next().unwrap(), "").await;
    let back = back.text().await.unwrap();
    assert!(
        back.contains(&format!("お問い合わせの際はこの番号をお伝えください：{id}")),
        "{back}"
    );
}

const SERVICE_TOKEN: &str = "console-service-token-0123456789";

async fn spawn_rights(engine: Engine) -> TestApp {
    spawn_with(engine, |settings| {
        settings.services = vec![ServiceEntry {
            name: "console".to_owned(),
            token: SERVICE_TOKEN.to_owned().into(),
        }];
    })
    .await
}

/// A visitor who accepted, then refused, and was assessed once by a back end.
async fn busy_visitor(app: &TestApp) -> (String, String) {
    let ssaid = app.new_visitor().await;
    let first = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    let cookies = cookies_after(&ssaid, &first);
    let second = app.post_json(&cookies, &decision("reject_all")).await;
    assert_eq!(second.status(), 201);
    let assessed = app
        .http
        .post(app.url("/api/v1/ssaid/assess"))
        .bearer_auth(SERVICE_TOKEN)
        .json(&serde_json::json!({"token": ssaid, "ip": "203.0.113.9", "event": "login"}))
        .fetch()
        .await;
    assert_eq!(assessed.status(), 200);
    (ssaid.clone(), cookies_after(&ssaid, &second))
}

async fn access_lists_everything_stored(engine: Engine) {
    let app = spawn_rights(engine).await;
    let (ssaid, cookies) = busy_visitor(&app).await;
    let response = app.get("/api/v1/me", &cookies).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let data: serde_json::Value = response.json().await.unwrap();
    let id = ssaid_of(&app.tokens, &ssaid);
    assert_eq!(data["identifier"]["ssaid"], id.as_str());
    assert_eq!(data["identifier"]["stored"], true);
    assert_eq!(data["identifier"]["terminal_type"], "unknown");
    let events = data["consent_events"].as_array().unwrap();
    assert_eq!(
        events
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["accept_all", "reject_all"]
    );
    for field in [
        "id",
        "policy_version",
        "policy_hash",
        "banner_text_hash",
        "ip_prefix",
        "language",
        "source",
        "created_at",
    ] {
        assert!(!events[0][field].is_null(), "{field}");
    }
    assert_eq!(events[0]["ip_prefix"], "127.0.0.0/24");
    let sightings = data["sightings"].as_array().unwrap();
    assert_eq!(sightings.len(), 1);
    assert_eq!(sightings[0]["network"], "203.0.113.0/24");
    assert_eq!(sightings[0]["service"], "console");
    let visitor_id = data["matomo"]["visitor_id"].as_str().unwrap();
    assert_eq!(visitor_id.len(), 16);

    // A visitor who never decided: the identifier as its token says, nothing stored.
    let newcomer = app.new_visitor().await;
    let data = app
        .get("/api/v1/me", &format!("zc_ssaid={newcomer}"))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(data["identifier"]["stored"], false);
    assert!(!data["identifier"]["issued_at"].is_null());
    assert_eq!(data["consent_events"], serde_json::json!([]));
    assert_eq!(data["sightings"], serde_json::json!([]));
}

async fn staff_find_a_subject_by_ssaid_or_by_a_receipts_consent_id(engine: Engine) {
    let app = spawn_rights(engine).await;
    let (ssaid, cookies) = busy_visitor(&app).await;
    let own = app
        .get("/api/v1/me", &cookies)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let id = ssaid_of(&app.tokens, &ssaid);
    let by_ssaid = app
        .get_as_admin(&format!("/api/v1/admin/subjects/{}", id.as_str()))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(by_ssaid["consent_events"], own["consent_events"]);
    assert_eq!(by_ssaid["sightings"], own["sightings"]);
    assert_eq!(by_ssaid["matomo"], own["matomo"]);
    let consent_id = own["consent_events"][0]["id"].as_str().unwrap();
    let by_consent = app
        .get_as_admin(&format!("/api/v1/admin/consents/{consent_id}/subject"))
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(by_consent, by_ssaid);

    let anonymous = app
        .get(&format!("/api/v1/admin/subjects/{}", id.as_str()), &cookies)
        .await;
    assert_error(anonymous, 401, "unauthorized").await;
    assert_error(
        app.get_as_admin("/api/v1/admin/subjects/not-an-ssaid")
            .await,
        400,
        "invalid_subject",
    )
    .await;
    assert_error(
        app.get_as_admin("/api/v1/admin/consents/0190f5b8-0000-7000-8000-000000000000/subject")
            .await,
        404,
        "consent_not_found",
    )
    .await;
}

async fn erasure_removes_everything_keeps_evidence_and_revokes_the_old_cookies(engine: Engine) {
    let app = spawn_rights(engine).await;
    let (_, cookies) = busy_visitor(&app).await;
    let other = app.new_visitor().await;
    let kept = app
        .post_json(&format!("zc_ssaid={other}"), &decision("accept_all"))
        .await;
    assert_eq!(kept.status(), 201);

    let erased = app
        .http
        .post(app.url("/api/v1/me/erase"))
        .json(&serde_json::json!({"confirm": true}))
        .header("cookie", &cookies)
        .fetch()
        .await;
    assert_eq!(erased.status(), 200);
    for name in ["zc_ssaid", "zc_consent", "zc_lang"] {
        let header = set_cookie_header(&erased, name).unwrap_or_else(|| panic!("{name} expired"));
        assert!(header.contains("Max-Age=0"), "{header}");
    }
    let evidence: serde_json::Value = erased.json().await.unwrap();
    assert_eq!(evidence["channel"], "self_service");
    assert_eq!(evidence["repeated"], false);
    assert_eq!(
        evidence["deleted"],
        serde_json::json!({"consent_events": 2, "ssaid_sightings": 1, "ssaids": 1})
    );
    assert_eq!(evidence["subject_hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        app.count_rows("consent_events").await,
        1,
        "only the other visitor's"
    );
    assert_eq!(app.count_rows("ssaids").await, 1);
    assert_eq!(app.count_rows("ssaid_sightings").await, 0);
    assert_eq!(app.count_rows("erasures").await, 1);

    // The old consent cookie (a copy in a second tab) is not honoured any more.
    let status = app.consent_status(&cookies).await;
    assert_eq!(status["needs_prompt"], true);
    assert_eq!(status["consent"], serde_json::Value::Null);

    // Staff erase the same subject again for a ticket: recognised as a repeat.
    let ssaid = cookies
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("zc_ssaid=");
    let id = ssaid_of(&app.tokens, ssaid);
    let again = app
        .http
        .post(app.url(&format!("/api/v1/admin/subjects/{}/erase", id.as_str())))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"ticket": "ZC-2026-1123"}))
        .fetch_json()
        .await;
    assert_eq!(again["repeated"], true);
    assert_eq!(again["channel"], "staff");
    assert_eq!(again["ticket"], "ZC-2026-1123");
    assert_eq!(
        again["deleted"],
        serde_json::json!({"consent_events": 0, "ssaid_sightings": 0, "ssaids": 0})
    );
    // Proof is still append-only outside the erasure.
    assert!(app.execute_raw("DELETE FROM consent_events").await.is_err());
}

async fn a_withdrawn_choices_old_cookie_no_longer_grants(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let accepted = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    let old = cookies_after(&ssaid, &accepted);
    assert_eq!(app.consent_status(&old).await["needs_prompt"], false);
    let withdrawn = app.post_json(&old, &decision("withdraw")).await;
    assert_eq!(withdrawn.status(), 201);
    let current = cookies_after(&ssaid, &withdrawn);
    assert_eq!(app.consent_status(&current).await["needs_prompt"], false);
    // The accepting cookie, replayed, counts for nothing.
    let replayed = app.consent_status(&old).await;
    assert_eq!(replayed["consent"], serde_json::Value::Null);
    assert_eq!(replayed["needs_prompt"], true);
}

async fn the_preference_center_lists_the_latest_decisions_and_the_download_all(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.rate_limits.decisions_burst = 100;
    })
    .await;
    let ssaid = app.new_visitor().await;
    let mut cookies = format!("zc_ssaid={ssaid}");
    for index in 0..25 {
        let action = if index % 2 == 0 {
            "accept_all"
        } else {
            "reject_all"
        };
        let decided = app.post_json(&cookies, &decision(action)).await;
        assert_eq!(decided.status(), 201);
        cookies = cookies_after(&ssaid, &decided);
    }
    let page = app
        .get("/preferences?lang=ko", &cookies)
        .await
        .text()
        .await
        .unwrap();
    // The latest 20, oldest first (the 6th decision, a reject, to the 25th, an accept), and
    // how many earlier ones the download holds.
    let listed: Vec<&str> = page
        .match_indices(r#"<li data-action=""#)
        .map(|(at, found)| page[at + found.len()..].split('"').next().unwrap())
        .collect();
    let expected: Vec<&str> = (5..25)
        .map(|index| {
            if index % 2 == 0 {
                "accept_all"
            } else {
                "reject_all"
            }
        })
        .collect();
    assert_eq!(listed, expected);
    assert!(
        page.contains(r#"<p data-testid="stored-earlier">이전 항목 5개가 더 있으며, 모두 아래 다운로드에 포함됩니다.</p>"#),
        "{page}"
    );
    let all: serde_json::Value = app.get("/api/v1/me", &cookies).await.json().await.unwrap();
    assert_eq!(all["consent_events"].as_array().unwrap().len(), 25);
}
