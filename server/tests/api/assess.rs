//! The SSAID does its job: ZecCloud back ends assess the browser in front of them.

use crate::common::*;
use crate::on_both_engines;
use app::domain::ConsentAction;
use chrono::{SubsecRound, TimeDelta, Utc};
use server::domain::{Ssaid, SsaidClaims, TerminalType};
use server::infra::clock::Clock;
use server::infra::config::ServiceEntry;

on_both_engines![
    a_valid_token_gives_its_facts_and_one_row_per_day,
    each_invalid_token_gives_its_reason,
    callers_and_bodies_are_checked,
    a_burst_of_new_identifiers_raises_the_risk,
    one_noisy_address_does_not_make_its_neighbours_high,
    one_ssaid_from_many_networks_raises_the_risk,
    forged_tokens_are_counted_for_their_network,
    sightings_past_their_retention_are_purged,
    the_notice_and_preferences_say_what_the_ssaid_is_for,
    instances_sharing_storage_agree_on_network_counts,
    sightings_are_erased_with_their_ssaid,
    a_subjects_records_are_read_whole_in_one_go,
    counts_gathered_before_a_shutdown_are_not_lost,
];

async fn counts_gathered_before_a_shutdown_are_not_lost(engine: Engine) {
    let stopping = spawn_assessing(engine).await;
    let token = desktop_visitor(&stopping, "198.51.100.1").await;
    for _ in 0..6 {
        stopping
            .get_with("/", &[("x-forwarded-for", "203.0.113.50")])
            .await;
    }
    // Well within the 5 s between flushes: only the shutdown can have written them.
    stopping.server.shut_down().await;
    let next = spawn_beside(&stopping, |settings| {
        settings.services = vec![ServiceEntry {
            name: "console".to_owned(),
            token: CONSOLE_TOKEN.to_owned().into(),
        }];
    })
    .await;
    let answer = assess(&next, login(Some(&token), "203.0.113.9")).await;
    assert_eq!(
        answer["signals"]["new_identifiers_from_network"]["value"],
        6
    );
}

async fn instances_sharing_storage_agree_on_network_counts(engine: Engine) {
    let minting = spawn_assessing(engine).await;
    let asked = spawn_beside(&minting, |settings| {
        settings.services = vec![ServiceEntry {
            name: "console".to_owned(),
            token: CONSOLE_TOKEN.to_owned().into(),
        }];
    })
    .await;
    let token = desktop_visitor(&minting, "198.51.100.1").await;
    for _ in 0..7 {
        minting
            .get_with("/", &[("x-forwarded-for", "203.0.113.50")])
            .await;
    }
    // Counts reach storage within a flush (5 s); the other instance then sees them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let answer = assess(&asked, login(Some(&token), "203.0.113.9")).await;
        let seen = answer["signals"]["new_identifiers_from_network"]["value"].clone();
        if seen == 7 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other instance saw {seen}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

async fn sightings_are_erased_with_their_ssaid(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let kept = desktop_visitor(&app, "198.51.100.1").await;
    let erased = desktop_visitor(&app, "198.51.100.1").await;
    for token in [&kept, &erased] {
        assess(&app, login(Some(token), "203.0.113.9")).await;
        assess(&app, login(Some(token), "192.0.2.9")).await;
    }
    let ssaid = ssaid_of(&app.tokens, &erased);
    let since = Utc::now() - TimeDelta::days(30);
    assert_eq!(
        app.storage.sightings_of(&ssaid, since).await.unwrap().len(),
        2
    );
    let erasure = app
        .http
        .post(app.url(&format!("/api/v1/admin/subjects/{}/erase", ssaid.as_str())))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({}))
        .fetch_json()
        .await;
    assert_eq!(erasure["deleted"]["ssaid_sightings"], 2);
    assert!(
        app.storage
            .sightings_of(&ssaid, since)
            .await
            .unwrap()
            .is_empty()
    );
    let other = ssaid_of(&app.tokens, &kept);
    assert_eq!(
        app.storage.sightings_of(&other, since).await.unwrap().len(),
        2
    );
}

async fn a_subjects_records_are_read_whole_in_one_go(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let subject = desktop_visitor(&app, "198.51.100.1").await;
    let other = desktop_visitor(&app, "198.51.100.1").await;
    for token in [&subject, &other] {
        for action in ["accept_all", "reject_all"] {
            let answer = app
                .post_json(&format!("zc_ssaid={token}"), &decision(action))
                .await;
            assert_eq!(answer.status(), 201);
        }
        assess(&app, login(Some(token), "203.0.113.9")).await;
        assess(&app, login(Some(token), "192.0.2.9")).await;
    }
    let ssaid = ssaid_of(&app.tokens, &subject);
    let whole = app.storage.subject_records(&ssaid).await.unwrap();
    // Exactly what the single reads give, and only this subject's.
    assert_eq!(whole.ssaid, app.stored_ssaid(&ssaid).await);
    assert!(whole.ssaid.is_some());
    assert_eq!(
        whole.consent_events,
        app.storage.consent_events_for(&ssaid).await.unwrap()
    );
    let actions: Vec<_> = whole.consent_events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [ConsentAction::AcceptAll, ConsentAction::RejectAll]
    );
    assert_eq!(whole.sightings, every_sighting(&app, &ssaid).await);
    assert_eq!(whole.sightings.len(), 2);
    assert!(whole.sightings.iter().all(|s| s.ssaid == ssaid));
    // Sightings of a visitor who never decided: no SSAID row, no decisions.
    let undecided_visitor = desktop_visitor(&app, "198.51.100.1").await;
    assess(&app, login(Some(&undecided_visitor), "203.0.113.9")).await;
    let only_seen = ssaid_of(&app.tokens, &undecided_visitor);
    let seen = app.storage.subject_records(&only_seen).await.unwrap();
    assert_eq!((seen.ssaid, seen.consent_events.len()), (None, 0));
    assert_eq!(seen.sightings, every_sighting(&app, &only_seen).await);
    assert_eq!(seen.sightings.len(), 1);
    // A row without decisions (none is written so today, but a purge may leave one).
    let undecided = Ssaid::from_random_bytes([8; 16]);
    app.execute_raw(&format!(
        "INSERT INTO ssaids (ssaid, issued_at, terminal_type) \
         VALUES ('{}', '2026-11-01T10:00:00Z', 'mobile')",
        undecided.as_str()
    ))
    .await
    .unwrap();
    let alone = app.storage.subject_records(&undecided).await.unwrap();
    assert_eq!(alone.ssaid, app.stored_ssaid(&undecided).await);
    assert_eq!(
        alone
            .ssaid
            .map(|row| (row.issued_at.to_rfc3339(), row.terminal_type)),
        Some(("2026-11-01T10:00:00+00:00".to_owned(), TerminalType::Mobile))
    );
    assert!(alone.consent_events.is_empty() && alone.sightings.is_empty());
    let unknown = Ssaid::from_random_bytes([7; 16]);
    assert_eq!(
        app.storage.subject_records(&unknown).await.unwrap(),
        Default::default()
    );
}

async fn every_sighting(app: &TestApp, ssaid: &Ssaid) -> Vec<server::domain::risk::Sighting> {
    let since = chrono::DateTime::<Utc>::UNIX_EPOCH;
    app.storage.sightings_of(ssaid, since).await.unwrap()
}

async fn the_notice_and_preferences_say_what_the_ssaid_is_for(engine: Engine) {
    let app = spawn(engine).await;
    let said = [
        ("en", "is kept for 90 days"),
        ("zh-Hans", "保留 90 天"),
        ("zh-Hant", "保留 90 天"),
        ("ja", "90 日間保存されます"),
        ("ko", "90일간 보관됩니다"),
    ];
    for (language, text) in said {
        for page in ["/notice", "/preferences"] {
            let html = app
                .get(&format!("{page}?lang={language}"), "")
                .await
                .text()
                .await
                .unwrap();
            assert!(html.contains(text), "{page} in {language} lacks {text:?}");
        }
    }
}

const CONSOLE_TOKEN: &str = "console-service-token-0123456789";

async fn spawn_assessing(engine: Engine) -> TestApp {
    spawn_assessing_as_of(engine, Clock::system()).await
}

async fn spawn_assessing_as_of(engine: Engine, clock: Clock) -> TestApp {
    spawn_as_of(engine, clock, |settings| {
        settings.services = vec![ServiceEntry {
            name: "console".to_owned(),
            token: CONSOLE_TOKEN.to_owned().into(),
        }];
        // The bursts below come through a proxy, one network each.
        settings.trusted_proxies = vec!["127.0.0.1".to_owned()];
    })
    .await
}

async fn assess(app: &TestApp, body: serde_json::Value) -> serde_json::Value {
    let response = app
        .http
        .post(app.url("/api/v1/ssaid/assess"))
        .bearer_auth(CONSOLE_TOKEN)
        .json(&body)
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

fn login(token: Option<&str>, ip: &str) -> serde_json::Value {
    serde_json::json!({ "token": token, "ip": ip, "user_agent": CHROME_DESKTOP, "event": "login" })
}

/// A new SSAID issued to a desktop browser from `network` (through the trusted proxy).
async fn desktop_visitor(app: &TestApp, network: &str) -> String {
    let page = app
        .get_with(
            "/api/v1/consent",
            &[("user-agent", CHROME_DESKTOP), ("x-forwarded-for", network)],
        )
        .await;
    set_cookie(&page, "zc_ssaid").unwrap()
}

async fn a_valid_token_gives_its_facts_and_one_row_per_day(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let token = desktop_visitor(&app, "198.51.100.1").await;
    let answer = assess(&app, login(Some(&token), "203.0.113.9")).await;
    assert_eq!(answer["valid"], true);
    assert!(answer.get("reason").is_none());
    assert_eq!(answer["ssaid"], ssaid_of(&app.tokens, &token).as_str());
    assert!((0..60).contains(&answer["age_secs"].as_i64().unwrap()));
    assert_eq!(answer["terminal_type"], "desktop");
    assert_eq!(answer["risk"], "low");
    assert_eq!(answer["risk_signals"], serde_json::json!([]));
    assert_eq!(
        answer["signals"]["networks"],
        serde_json::json!({ "value": 1, "window": "24h" })
    );
    assert_eq!(answer["signals"]["terminal_type_changed"]["value"], 0);
    assert_eq!(answer["consent"], serde_json::Value::Null);

    // The visitor decides; the next assessment says so. The same network the same day stays
    // one row.
    let decided = app
        .post_json(&format!("zc_ssaid={token}"), &decision("reject_all"))
        .await;
    assert_eq!(decided.status(), 201);
    let mut from_phone = login(Some(&token), "203.0.113.77");
    from_phone["user_agent"] = IPHONE.into();
    let answer = assess(&app, from_phone).await;
    assert_eq!(answer["consent"]["action"], "reject_all");
    assert_eq!(answer["consent"]["policy_version"], POLICY_VERSION);
    assert_eq!(answer["consent"]["categories"]["analytics"], false);
    assert_eq!(answer["signals"]["terminal_type_changed"]["value"], 1);
    assert_eq!(answer["signals"]["terminal_types"]["value"], 2);
    assert_eq!(answer["risk"], "elevated");
    assert_eq!(
        answer["risk_signals"],
        serde_json::json!(["terminal_type_changed"])
    );
    assert_eq!(app.count_rows("ssaid_sightings").await, 1);
    // No full address is kept: the row holds the /24.
    let networks = app.texts("SELECT network FROM ssaid_sightings").await;
    assert_eq!(networks, ["203.0.113.0/24"]);
}

async fn each_invalid_token_gives_its_reason(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let token = desktop_visitor(&app, "198.51.100.1").await;
    let (head, rest) = token.split_once('.').unwrap();
    let (payload, _) = rest.split_once('.').unwrap();
    let now = Utc::now().timestamp();
    let sub = Ssaid::from_random_bytes([4; 16]);
    let mut expired = SsaidClaims::new(sub.clone(), TerminalType::Desktop, now - 7200, 3600);
    expired.exp = now - 10;
    let foreign =
        server::infra::tokens::TokenSigner::new(&secrecy::SecretSlice::from(vec![9u8; 32]));
    let cases = [
        (None, "missing"),
        (Some("   ".to_owned()), "missing"),
        (Some("garbage".to_owned()), "malformed"),
        (Some(format!("{head}.{payload}.AAAA")), "bad_signature"),
        (
            Some(foreign.sign(&SsaidClaims::new(sub, TerminalType::Desktop, now, 60))),
            "unknown_key",
        ),
        (Some(app.tokens.sign(&expired)), "expired"),
    ];
    for (presented, reason) in cases {
        let answer = assess(&app, login(presented.as_deref(), "203.0.113.9")).await;
        assert_eq!(answer["valid"], false, "{reason}");
        assert_eq!(answer["reason"], reason);
        assert_eq!(answer["ssaid"], serde_json::Value::Null);
    }
    assert_eq!(
        app.count_rows("ssaid_sightings").await,
        0,
        "only valid SSAIDs are seen"
    );
}

async fn callers_and_bodies_are_checked(engine: Engine) {
    let off = spawn(engine).await;
    let answer = off
        .http
        .post(off.url("/api/v1/ssaid/assess"))
        .bearer_auth(CONSOLE_TOKEN)
        .json(&login(None, "203.0.113.9"))
        .fetch()
        .await;
    assert_error(answer, 404, "assessment_disabled").await;

    let app = spawn_assessing(engine).await;
    let post = || app.http.post(app.url("/api/v1/ssaid/assess"));
    let anonymous = post().json(&login(None, "203.0.113.9")).fetch().await;
    assert_error(anonymous, 401, "unauthorized").await;
    let wrong = post()
        .bearer_auth("console-service-token-012345678X")
        .json(&login(None, "203.0.113.9"))
        .fetch()
        .await;
    assert_error(wrong, 401, "invalid_token").await;
    let admin = post()
        .bearer_auth(ADMIN_TOKEN)
        .json(&login(None, "203.0.113.9"))
        .fetch()
        .await;
    assert_error(admin, 401, "invalid_token").await;

    let bodies = [
        ("{", 400, "malformed_json"),
        (r#"{"ip":"203.0.113.9"}"#, 422, "invalid_body"),
        (
            r#"{"ip":"203.0.113.9","event":"login","extra":1}"#,
            422,
            "invalid_body",
        ),
        (
            r#"{"ip":"203.0.113","event":"login"}"#,
            422,
            "invalid_address",
        ),
        (
            r#"{"ip":"203.0.113.9","event":"log in"}"#,
            422,
            "invalid_event",
        ),
        (r#"{"ip":"203.0.113.9","event":""}"#, 422, "invalid_event"),
    ];
    for (body, status, code) in bodies {
        let response = post()
            .bearer_auth(CONSOLE_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .fetch()
            .await;
        assert_error_for(response, status, code, body).await;
    }
    let from_a_page = post()
        .bearer_auth(CONSOLE_TOKEN)
        .header("origin", "https://evil.test")
        .json(&login(None, "203.0.113.9"))
        .fetch()
        .await;
    assert_error(from_a_page, 403, "origin_not_allowed").await;
}

async fn a_burst_of_new_identifiers_raises_the_risk(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let token = desktop_visitor(&app, "198.51.100.1").await;
    // Ten each from five addresses of one network: each adds its whole count (at most 10).
    for host in 50..55 {
        for _ in 0..10 {
            let page = app
                .get_with("/", &[("x-forwarded-for", &format!("203.0.113.{host}"))])
                .await;
            assert!(set_cookie(&page, "zc_ssaid").is_some());
        }
    }
    let answer = assess(&app, login(Some(&token), "203.0.113.9")).await;
    assert_eq!(
        answer["signals"]["new_identifiers_from_network"],
        serde_json::json!({ "value": 50, "window": "1h" })
    );
    assert_eq!(
        answer["signals"]["new_identifiers_from_address"],
        serde_json::json!({ "value": 0, "window": "1h" })
    );
    assert_eq!(answer["risk"], "elevated");
    assert_eq!(
        answer["risk_signals"],
        serde_json::json!(["new_identifiers_from_network"])
    );
    // Another network's burst is not this one's.
    let elsewhere = assess(&app, login(Some(&token), "192.0.2.1")).await;
    assert_eq!(
        elsewhere["signals"]["new_identifiers_from_network"]["value"],
        0
    );
}

/// Issue 28, 8: on a shared network (CGNAT, an office, a cloud), one address minting a
/// hundred SSAIDs is high risk itself, and no more than that for its neighbours: an
/// established SSAID presented from the next address stays low.
async fn one_noisy_address_does_not_make_its_neighbours_high(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let established = desktop_visitor(&app, "198.51.100.20").await;
    let first = assess(&app, login(Some(&established), "198.51.100.20")).await;
    assert_eq!(first["risk"], "low");
    for _ in 0..100 {
        let answer = app
            .get_with("/api/v1/consent", &[("x-forwarded-for", "198.51.100.7")])
            .await;
        assert!(set_cookie(&answer, "zc_ssaid").is_some());
    }
    let neighbour = assess(&app, login(Some(&established), "198.51.100.20")).await;
    assert_eq!(neighbour["risk"], "low", "{neighbour}");
    assert_eq!(
        neighbour["signals"]["new_identifiers_from_address"]["value"],
        1
    );
    // The noisy address adds at most 10 (100 / network_addresses_for_high), the neighbour 1.
    assert_eq!(
        neighbour["signals"]["new_identifiers_from_network"]["value"],
        11
    );
    let noisy = assess(&app, login(Some(&established), "198.51.100.7")).await;
    assert_eq!(noisy["risk"], "high", "{noisy}");
    assert_eq!(
        noisy["risk_signals"],
        serde_json::json!(["new_identifiers_from_address"])
    );
    assert_eq!(
        noisy["signals"]["new_identifiers_from_address"]["value"],
        100
    );
}

async fn one_ssaid_from_many_networks_raises_the_risk(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let token = desktop_visitor(&app, "198.51.100.1").await;
    let mut answer = serde_json::Value::Null;
    for network in 1..=5 {
        answer = assess(&app, login(Some(&token), &format!("203.0.{network}.9"))).await;
    }
    assert_eq!(answer["signals"]["networks"]["value"], 5);
    assert_eq!(answer["signals"]["networks_30d"]["value"], 5);
    assert_eq!(answer["risk"], "high");
    assert_eq!(answer["risk_signals"], serde_json::json!(["networks"]));
    assert_eq!(app.count_rows("ssaid_sightings").await, 5);
}

async fn forged_tokens_are_counted_for_their_network(engine: Engine) {
    let app = spawn_assessing(engine).await;
    let token = desktop_visitor(&app, "198.51.100.1").await;
    let (head, rest) = token.split_once('.').unwrap();
    let forged = format!("{head}.{}.AAAA", rest.split_once('.').unwrap().0);
    // Presented to the service itself from the network, and to a back end.
    let page = app
        .get_with(
            "/",
            &[
                ("cookie", &format!("zc_ssaid={forged}")),
                ("x-forwarded-for", "203.0.113.50"),
            ],
        )
        .await;
    assert!(set_cookie(&page, "zc_ssaid").is_some(), "replaced");
    for _ in 0..2 {
        assess(&app, login(Some(&forged), "203.0.113.51")).await;
    }
    let answer = assess(&app, login(Some(&token), "203.0.113.52")).await;
    assert_eq!(
        answer["signals"]["forged_tokens_from_network"],
        serde_json::json!({ "value": 3, "window": "1h" })
    );
    assert_eq!(answer["risk"], "elevated");
}

async fn sightings_past_their_retention_are_purged(engine: Engine) {
    let clock = Clock::fixed(Utc::now().trunc_subsecs(0) - TimeDelta::minutes(5));
    let app = spawn_assessing_as_of(engine, clock.clone()).await;
    let token = desktop_visitor(&app, "198.51.100.1").await;
    assess(&app, login(Some(&token), "203.0.113.9")).await;
    assert_eq!(app.count_rows("ssaid_sightings").await, 1);
    // The minting is counted for its address once the counts are flushed (every 5 s).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.count_rows("address_counters").await == 0 {
        assert!(std::time::Instant::now() < deadline, "never flushed");
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(app.count_rows("address_counters").await, 1);

    let purge = || async {
        app.http
            .post(app.url("/api/v1/admin/retention/purge"))
            .bearer_auth(ADMIN_TOKEN)
            .fetch_json()
            .await
    };
    // Per-address counts are only ever read for an hour: they go after a day.
    clock.advance(TimeDelta::hours(23));
    assert_eq!(purge().await["rows"]["address_counters"], 0);
    clock.advance(TimeDelta::hours(2));
    assert_eq!(purge().await["rows"]["address_counters"], 1);
    assert_eq!(app.count_rows("address_counters").await, 0);
    clock.advance(TimeDelta::days(88));
    assert_eq!(
        purge().await["rows"]["ssaid_sightings"],
        0,
        "kept for 90 days"
    );
    assert_eq!(app.count_rows("ssaid_sightings").await, 1);
    clock.advance(TimeDelta::days(2));
    assert_eq!(purge().await["rows"]["ssaid_sightings"], 1);
    assert_eq!(app.count_rows("ssaid_sightings").await, 0);
}
