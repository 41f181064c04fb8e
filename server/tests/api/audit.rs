//! Consent that stands up in an audit: published policy versions, proof in every event,
//! receipts, withdrawal, GPC and expiry. Run against SQLite and PostgreSQL alike.
//!
//! Over 400 lines: one scenario per function, each a readable story from request to stored
//! row; the shared steps live in `common.rs`.

use crate::common::*;
use crate::on_both_engines;
use app::domain::{ConsentAction, ConsentSource};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use server::domain::claims::{CONSENT_AUDIENCE, ISSUER};
use server::domain::{ConsentClaims, TerminalType};
use std::collections::BTreeMap;

on_both_engines![
    admin_api_needs_the_token,
    publish_stores_versions_immutably,
    bad_policy_files_are_refused_and_change_nothing,
    policy_api_serves_the_identifier_registry,
    material_change_asks_again_non_material_does_not,
    events_carry_the_proof,
    receipts_are_signed_and_only_for_their_owner,
    withdrawal_expires_refused_identifiers_on_every_domain,
    gpc_refuses_analytics_until_the_visitor_opts_in,
    old_choices_expire,
    notice_renders_the_identifier_table,
    cli_publishes_and_running_instances_pick_it_up,
    pages_speak_the_visitors_language,
    language_choice_is_remembered_only_with_consent_to_preferences,
];

const DAY: i64 = 24 * 60 * 60;

async fn decide(app: &TestApp, cookies: &str, body: &str) -> reqwest::Response {
    app.post_json(cookies, body).await
}

fn accept_all(version: &str) -> String {
    format!(r#"{{"policy_version":"{version}","action":"accept_all"}}"#)
}

async fn admin_api_needs_the_token(engine: Engine) {
    let app = spawn(engine).await;
    let source = policy_version_of_default("2026-12-01");
    let anonymous = app
        .http
        .post(app.url("/api/v1/admin/policies"))
        .body(source.clone())
        .fetch()
        .await;
    assert_error(anonymous, 401, "unauthorized").await;
    let wrong = app
        .http
        .get(app.url("/api/v1/admin/policies"))
        .bearer_auth("not-the-admin-token")
        .fetch()
        .await;
    assert_error(wrong, 401, "invalid_token").await;

    let disabled = spawn_with(engine, |s| s.admin_token = None).await;
    let response = disabled.publish(&source, false).await;
    assert_error(response, 404, "admin_disabled").await;
}

async fn publish_stores_versions_immutably(engine: Engine) {
    let app = spawn(engine).await;
    let source = policy_version_of_default("2026-12-01");
    let response = app.publish(&source, true).await;
    assert_eq!(response.status(), 201);
    let published: serde_json::Value = response.json().await.unwrap();
    assert_eq!(published["version"], "2026-12-01");
    assert_eq!(published["material"], true);
    let hash = published["hash"].as_str().unwrap().to_owned();
    assert!(hash.starts_with("sha256:"), "{hash}");

    // The same content again, even laid out differently: nothing changes.
    let again = app.publish(&format!("# re-run\n{source}"), false).await;
    assert_eq!(again.status(), 200);
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(again["unchanged"], true);
    assert_eq!(again["material"], true, "the stored flag, not the new one");

    // Changed content under a published version id is refused with the reason.
    let changed = source.replace("Your privacy choices", "Your privacy, your choice");
    let conflict = app.publish(&changed, false).await;
    let conflict = assert_error(conflict, 409, "version_already_published").await;
    let message = conflict["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("2026-12-01") && message.contains(&hash),
        "{message}"
    );

    let listed = app.get_as_admin("/api/v1/admin/policies").await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    let versions: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, [POLICY_VERSION, "2026-12-01"]);
    let stored = app.storage.policy_versions().await.unwrap();
    assert_eq!(stored[1].hash, hash);
    assert_eq!(stored[1].source, source, "the file as first published");

    for statement in [
        "UPDATE policy_versions SET material = false",
        "DELETE FROM policy_versions",
    ] {
        let err = app.execute_raw(statement).await.expect_err(statement);
        assert!(err.to_string().contains("immutable"), "{err}");
    }
    let current: serde_json::Value = app.get("/api/v1/policy", "").await.json().await.unwrap();
    assert_eq!(current["version"], "2026-12-01");
}

async fn bad_policy_files_are_refused_and_change_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    assert_eq!(
        decide(&app, &cookies, &decision("accept_all"))
            .await
            .status(),
        201
    );

    let cases = [
        ("version = ", 422, "invalid_policy", "TOML"),
        (
            &policy_version_of_default("bad version!"),
            422,
            "invalid_policy",
            "bad version!",
        ),
        (
            &policy_version_of_default("2026-12-02")
                .replace("duration = \"13mo\"", "duration = \"13 months\""),
            422,
            "invalid_policy",
            "13 months",
        ),
        (
            &policy_version_of_default("2026-12-03")
                .replace("id = \"analytics\"", "id = \"Analytics\""),
            422,
            "invalid_policy",
            "Analytics",
        ),
    ];
    for (source, status, code, named) in cases {
        let response = app.publish(source, false).await;
        let json = assert_error_for(response, status, code, named).await;
        let message = json["error"]["message"].as_str().unwrap();
        assert!(message.contains(named), "{message} should name {named}");
    }
    let not_utf8 = app
        .http
        .post(app.url("/api/v1/admin/policies"))
        .bearer_auth(ADMIN_TOKEN)
        .body(vec![0xff, 0xfe, 0x00])
        .fetch()
        .await;
    assert_eq!(not_utf8.status(), 400);
    let bad_flag = app
        .http
        .post(app.url("/api/v1/admin/policies?material=maybe"))
        .bearer_auth(ADMIN_TOKEN)
        .body(policy_version_of_default("2026-12-04"))
        .fetch()
        .await;
    assert_eq!(bad_flag.status(), 400);

    assert_eq!(app.storage.policy_versions().await.unwrap().len(), 1);
    assert_eq!(
        app.events_of(&ssaid).await.len(),
        1,
        "recorded events untouched"
    );
    // An unpublished version cannot be decided on.
    let unpublished = decide(&app, &cookies, &accept_all("2026-12-02")).await;
    assert_error(unpublished, 409, "stale_policy_version").await;
}

/// The entry of a JSON array whose `key` is `value`.
fn entry<'a>(list: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    let entries = list.as_array().unwrap();
    let found = entries.iter().find(|e| e[key] == value);
    found.unwrap_or_else(|| panic!("no {key} {value} in {list}"))
}

async fn policy_api_serves_the_identifier_registry(engine: Engine) {
    let app = spawn_with(engine, |s| s.cookie_domain = Some("zeccloud.com".into())).await;
    let response = app.get("/api/v1/policy", "").await;
    assert_eq!(response.status(), 200);
    assert!(
        set_cookie(&response, "zc_ssaid").is_none(),
        "reading the policy issues no identifier"
    );
    let policy: serde_json::Value = response.json().await.unwrap();
    assert_eq!(policy["version"], POLICY_VERSION);
    assert_eq!(policy["material"], true, "the first version is material");
    assert!(policy["hash"].as_str().unwrap().starts_with("sha256:"));
    let analytics = entry(&policy["categories"], "id", "analytics");
    let pk_id = entry(&analytics["identifiers"], "name", "_pk_id.*");
    assert_eq!(pk_id["duration"], "13 months");
    assert_eq!(pk_id["domain"], ".zeccloud.com");
    assert_eq!(pk_id["kind"], "cookie");
    assert_eq!(pk_id["third_party_access"], false);
    assert!(pk_id["purpose"].as_str().unwrap().contains("visitor ID"));

    let by_version = app
        .get(&format!("/api/v1/policy/{POLICY_VERSION}"), "")
        .await;
    assert_eq!(by_version.status(), 200);
    let missing = app.get("/api/v1/policy/1999-01-01", "").await;
    assert_error(missing, 404, "policy_version_not_found").await;
}

async fn material_change_asks_again_non_material_does_not(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let decided = decide(&app, &format!("zc_ssaid={ssaid}"), &decision("accept_all")).await;
    let cookies = cookies_after(&ssaid, &decided);

    app.publish_default_as("2026-06-01", false).await;
    let status = app.consent_status(&cookies).await;
    assert_eq!(status["policy_version"], "2026-06-01");
    assert_eq!(
        status["needs_prompt"], false,
        "a non-material update does not ask"
    );
    let page = app.get("/", &cookies).await.text().await.unwrap();
    assert!(!page.contains(r#"data-testid="consent-banner""#));

    app.publish_default_as("2026-07-01", true).await;
    let status = app.consent_status(&cookies).await;
    assert_eq!(status["needs_prompt"], true);
    assert_eq!(status["prompt"]["reason"], "notice_changed");
    let page = app.get("/", &cookies).await.text().await.unwrap();
    assert!(page.contains(r#"data-testid="consent-banner""#));
    assert!(page.contains(r#"data-testid="notice-changed""#));
    assert!(page.contains(r#"name="policy_version" value="2026-07-01""#));

    // Deciding on the new version settles it; the old version is refused as stale.
    let stale = decide(&app, &cookies, &decision("accept_all")).await;
    assert_eq!(stale.status(), 409);
    let fresh = decide(&app, &cookies, &accept_all("2026-07-01")).await;
    assert_eq!(fresh.status(), 201);
    let status = app.consent_status(&cookies_after(&ssaid, &fresh)).await;
    assert_eq!(status["needs_prompt"], false);
}

async fn events_carry_the_proof(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let response = app
        .http
        .post(app.url("/api/v1/consent"))
        .header("cookie", format!("zc_ssaid={ssaid}"))
        .header("user-agent", IPHONE)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"policy_version":"{POLICY_VERSION}","action":"reject_all","language":"ko"}}"#
        ))
        .fetch()
        .await;
    assert_eq!(response.status(), 201);
    let event = &app.events_of(&ssaid).await[0];
    let published = &app.storage.policy_versions().await.unwrap()[0];
    assert_eq!(event.policy_hash, published.hash);
    assert!(event.banner_text_hash.starts_with("sha256:"));
    assert_ne!(event.banner_text_hash, event.policy_hash);
    assert_eq!(event.language, "ko");
    assert_eq!(event.ip_prefix.as_deref(), Some("127.0.0.0/24"));
    assert_eq!(event.ua_class, TerminalType::Mobile);
    assert_eq!(event.origin, None);
    assert_eq!(event.action, ConsentAction::RejectAll);

    // A language the policy has no text for is recorded as the English actually shown.
    let french = app
        .post_json(
            &format!("zc_ssaid={ssaid}"),
            &format!(
                r#"{{"policy_version":"{POLICY_VERSION}","action":"reject_all","language":"fr"}}"#
            ),
        )
        .await;
    assert_eq!(french.status(), 201);
    let events = app.events_of(&ssaid).await;
    assert_eq!(events[1].language, "en");
    assert_ne!(
        events[1].banner_text_hash, events[0].banner_text_hash,
        "different text shown"
    );
}

pub fn verify_receipt(jws: &str, jwks: &serde_json::Value) -> serde_json::Value {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let header = jsonwebtoken::decode_header(jws).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let key = set
        .find(header.kid.as_deref().unwrap())
        .expect("the receipt's key is published");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.set_issuer(&[ISSUER]);
    jsonwebtoken::decode::<serde_json::Value>(
        jws,
        &DecodingKey::from_jwk(key).unwrap(),
        &validation,
    )
    .expect("receipt verifies with the published key")
    .claims
}

async fn receipts_are_signed_and_only_for_their_owner(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let body = format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"custom","categories":{{"preferences":true,"analytics":false}}}}"#
    );
    let decided: serde_json::Value = decide(&app, &cookies, &body).await.json().await.unwrap();
    let id = decided["consent"]["event_id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/consent/{id}/receipt");

    let response = app.get(&path, &cookies).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"),
    );
    let signed: serde_json::Value = response.json().await.unwrap();
    let jwks: serde_json::Value = app
        .get("/.well-known/jwks.json", "")
        .await
        .json()
        .await
        .unwrap();
    let payload = verify_receipt(signed["jws"].as_str().unwrap(), &jwks);
    assert_eq!(
        payload, signed["receipt"],
        "the signed payload is the receipt shown"
    );

    let receipt = &signed["receipt"];
    assert_eq!(receipt["record_id"], id.as_str());
    assert_eq!(
        receipt["pii_principal_id"],
        ssaid_of(&app.tokens, &ssaid).as_str()
    );
    assert_eq!(receipt["controller"]["name"], "ZecCloud");
    assert_eq!(receipt["notice"]["version"], POLICY_VERSION);
    assert!(
        receipt["notice"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/notice")
    );
    assert_eq!(receipt["notice"]["language"], "en");
    assert_eq!(receipt["event"]["action"], "custom");
    assert_eq!(receipt["event"]["source"], "api");
    assert_eq!(receipt["state"], "active");
    assert!(
        receipt["withdrawal"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/preferences")
    );
    let states: BTreeMap<&str, &str> = receipt["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["category"].as_str().unwrap(),
                p["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        BTreeMap::from([
            ("analytics", "refused"),
            ("necessary", "granted"),
            ("preferences", "granted")
        ])
    );

    // Someone else's receipt is not found, as if it did not exist; admins may read it.
    let stranger = app.new_visitor().await;
    let response = app.get(&path, &format!("zc_ssaid={stranger}")).await;
    assert_error(response, 404, "consent_not_found").await;
    let as_admin = app.get_as_admin(&path).await;
    assert_eq!(as_admin.status(), 200);
    let bad = app
        .get("/api/v1/consent/not-a-uuid/receipt", &cookies)
        .await;
    assert_error(bad, 400, "invalid_consent_id").await;
    let unknown = app
        .get(
            &format!("/api/v1/consent/{}/receipt", uuid::Uuid::now_v7()),
            &cookies,
        )
        .await;
    assert_eq!(unknown.status(), 404);

    // A later decision supersedes it.
    decide(&app, &cookies, &decision("accept_all")).await;
    let later: serde_json::Value = app.get(&path, &cookies).await.json().await.unwrap();
    assert_eq!(later["receipt"]["state"], "superseded");
}

async fn withdrawal_expires_refused_identifiers_on_every_domain(engine: Engine) {
    let app = spawn_with(engine, |s| s.cookie_domain = Some("zeccloud.test".into())).await;
    let ssaid = app.new_visitor().await;
    let accepted = decide(&app, &format!("zc_ssaid={ssaid}"), &decision("accept_all")).await;
    // Matomo's cookies as a page on the parent domain set them.
    let cookies = format!(
        "{}; _pk_id.1.a4f2=abc; _pk_ses.1.a4f2=1; _pk_ref.1.a4f2=ref; \
         mtm_consent=1700000000000; zc_lang=ja; other=keep",
        cookies_after(&ssaid, &accepted)
    );
    let withdrawn = decide(&app, &cookies, &decision("withdraw")).await;
    assert_eq!(withdrawn.status(), 201);
    let headers = set_cookie_headers(&withdrawn);
    for name in [
        "_pk_id.1.a4f2",
        "_pk_ses.1.a4f2",
        "_pk_ref.1.a4f2",
        "mtm_consent",
        "zc_lang",
    ] {
        let expiries: Vec<_> = headers
            .iter()
            .filter(|h| h.starts_with(&format!("{name}=;")))
            .collect();
        assert!(
            expiries
                .iter()
                .any(|h| h.contains("Domain=zeccloud.test") && h.contains("Max-Age=0")),
            "{name} expired on the parent domain: {headers:?}"
        );
        assert!(
            expiries.iter().any(|h| !h.contains("Domain=")),
            "{name} expired host-only too: {headers:?}"
        );
    }
    for kept in ["other=", "zc_ssaid=", "mtm_consent_removed="] {
        assert!(
            !headers
                .iter()
                .any(|h| h.starts_with(kept) && h.contains("Max-Age=0")),
            "{kept} must stay: {headers:?}"
        );
    }
    let json: serde_json::Value = withdrawn.json().await.unwrap();
    assert_eq!(json["consent"]["action"], "withdraw");
    assert_eq!(json["consent"]["categories"]["analytics"], false);
    assert_eq!(
        json["clear_storage"],
        serde_json::json!([{ "kind": "local_storage", "name": "zc.lang" }])
    );
    let events = app.events_of(&ssaid).await;
    assert_eq!(
        events.iter().map(|e| e.action).collect::<Vec<_>>(),
        [ConsentAction::AcceptAll, ConsentAction::Withdraw]
    );
}

async fn gpc_refuses_analytics_until_the_visitor_opts_in(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let gpc = ("sec-gpc", "1");
    let status = app
        .get_with(
            "/api/v1/consent",
            &[("cookie", &format!("zc_ssaid={ssaid}")), gpc],
        )
        .await;
    let consent = set_cookie(&status, "zc_consent").expect("the GPC default is recorded");
    let json: serde_json::Value = status.json().await.unwrap();
    assert_eq!(json["consent"]["action"], "gpc");
    assert_eq!(json["consent"]["categories"]["analytics"], false);
    assert!(json["consent"]["categories"].get("preferences").is_none());
    assert_eq!(
        json["needs_prompt"], true,
        "still asks about what GPC does not decide"
    );
    assert_eq!(json["prompt"]["reason"], "undecided");

    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, ConsentSource::Gpc);
    assert_eq!(events[0].action, ConsentAction::Gpc);

    // The banner says so; the signal is not recorded twice.
    let cookies = format!("zc_ssaid={ssaid}; zc_consent={consent}");
    let page = app.get_with("/", &[("cookie", &cookies), gpc]).await;
    let page = page.text().await.unwrap();
    assert!(page.contains(r#"data-testid="gpc-honoured""#));
    assert_eq!(app.events_of(&ssaid).await.len(), 1);

    // A later explicit opt-in wins over the signal.
    let opted_in = app
        .post_json_with(&cookies, &decision("accept_all"), &[gpc])
        .await;
    assert_eq!(opted_in.status(), 201);
    let cookies = cookies_after(&ssaid, &opted_in);
    let after = app
        .get_with("/api/v1/consent", &[("cookie", &cookies), gpc])
        .await;
    let after: serde_json::Value = after.json().await.unwrap();
    assert_eq!(after["consent"]["categories"]["analytics"], true);
    assert_eq!(after["needs_prompt"], false);
    assert_eq!(app.events_of(&ssaid).await.len(), 2);
}

async fn old_choices_expire(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let now = chrono::Utc::now().timestamp();
    let cookie_for = |age_days: i64, granted: bool| {
        let claims = ConsentClaims {
            iss: ISSUER.into(),
            aud: CONSENT_AUDIENCE.into(),
            ver: POLICY_VERSION.into(),
            cats: BTreeMap::from([
                ("necessary".into(), true),
                ("preferences".into(), granted),
                ("analytics".into(), granted),
            ]),
            eid: "e".into(),
            act: ConsentAction::Custom,
            bnd: Some(consent_binding(&app.tokens, &ssaid)),
            iat: now - age_days * DAY,
            exp: now + DAY,
        };
        format!("zc_ssaid={ssaid}; zc_consent={}", app.tokens.sign(&claims))
    };
    // A consent holds a year, a refusal half a year.
    for (age_days, granted, reason) in [
        (300, true, serde_json::Value::Null),
        (366, true, "expired".into()),
        (170, false, serde_json::Value::Null),
        (183, false, "expired".into()),
    ] {
        let status = app.consent_status(&cookie_for(age_days, granted)).await;
        assert_eq!(
            status["prompt"]["reason"], reason,
            "{age_days} days old, granted: {granted}"
        );
    }

    // The cookie itself lives as long as the choice holds.
    let refused = decide(&app, &format!("zc_ssaid={ssaid}"), &decision("reject_all")).await;
    let header = set_cookie_header(&refused, "zc_consent").unwrap();
    assert!(
        header.contains(&format!("Max-Age={}", 182 * DAY)),
        "{header}"
    );
}

async fn notice_renders_the_identifier_table(engine: Engine) {
    let app = spawn(engine).await;
    let page = app.get("/notice", "").await.text().await.unwrap();
    assert!(page.contains(r#"id="identifiers""#));
    for name in [
        "_pk_id.*",
        "_pk_ses.*",
        "_pk_ref.*",
        "mtm_consent",
        "mtm_consent_removed",
        "__Host-zc_ssaid",
        "zc_consent",
        "zc_lang",
        "zc.lang",
        "zc_session",
    ] {
        assert!(
            page.contains(&format!(r#"<tr data-identifier="{name}""#)),
            "notice table lists {name}"
        );
    }
    // The banner's details list the same entries.
    assert!(page.contains(r#"<li data-identifier="_pk_id.*""#));
}

async fn cli_publishes_and_running_instances_pick_it_up(engine: Engine) {
    let app = spawn_with(engine, |s| s.policy_refresh_secs = 0).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, policy_version_of_default("2027-01-01")).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", &app.database_url)
            // The command reads the service's settings, which production completes so.
            .env("ZC_PUBLIC_URL", "https://consent.zeccloud.test")
            .env_remove("ZC_CONFIG")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let file_arg = file.to_str().unwrap();
    let out = run(&["policy", "publish", file_arg, "--material"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("published policy version 2027-01-01"),
        "{stdout}"
    );
    assert!(stdout.contains("material"), "{stdout}");

    let out = run(&["policy", "publish", file_arg]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"));

    std::fs::write(
        &file,
        policy_version_of_default("2027-01-01").replace("Accept all", "OK"),
    )
    .unwrap();
    let out = run(&["policy", "publish", file_arg]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already published"), "{stderr}");

    let status = app.consent_status("").await;
    assert_eq!(status["policy_version"], "2027-01-01");
}

async fn pages_speak_the_visitors_language(engine: Engine) {
    let app = spawn(engine).await;
    let page = |accept_language: &'static str, path: &'static str| {
        let app = &app;
        async move {
            let response = app
                .get_with(path, &[("accept-language", accept_language)])
                .await;
            response.text().await.unwrap()
        }
    };
    for (accept, lang, accept_all) in [
        ("en-US,en;q=0.9", "en", "Accept all"),
        ("zh-CN,zh;q=0.9", "zh-Hans", "全部接受"),
        ("zh-TW", "zh-Hant", "全部接受"),
        ("ja-JP", "ja", "すべて同意"),
        ("ko-KR,ko;q=0.9,en;q=0.5", "ko", "모두 수락"),
        ("fr-FR", "en", "Accept all"),
    ] {
        let html = page(accept, "/").await;
        assert!(
            html.contains(&format!(r#"<html lang="{lang}" dir="ltr""#)),
            "{accept}"
        );
        assert!(html.contains(accept_all), "{accept} shows {accept_all}");
        assert!(
            html.contains(&format!(r#"name="language" value="{lang}""#)),
            "{accept}"
        );
    }
    // An explicit choice beats the browser's.
    let html = page("ja-JP", "/?lang=ko").await;
    assert!(html.contains(r#"<html lang="ko""#));
    assert!(html.contains("모두 수락") && !html.contains("すべて同意"));
    // Traditional and Simplified differ where the scripts do.
    assert!(page("zh-TW", "/").await.contains("全部拒絕"));
    assert!(page("zh-CN", "/").await.contains("全部拒绝"));
    // The registry table speaks it too.
    let notice = page("ja", "/notice").await;
    assert!(notice.contains("13か月") && notice.contains("保存期間"));
}

async fn language_choice_is_remembered_only_with_consent_to_preferences(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let refused = decide(&app, &format!("zc_ssaid={ssaid}"), &decision("reject_all")).await;
    let response = app.get("/?lang=ja", &cookies_after(&ssaid, &refused)).await;
    assert!(
        set_cookie(&response, "zc_lang").is_none(),
        "no consent, no cookie"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"<html lang="ja""#));

    let accepted = decide(&app, &format!("zc_ssaid={ssaid}"), &decision("accept_all")).await;
    let cookies = cookies_after(&ssaid, &accepted);
    let response = app.get("/?lang=ja", &cookies).await;
    assert_eq!(set_cookie(&response, "zc_lang").as_deref(), Some("ja"));
    let remembered = app.get("/", &format!("{cookies}; zc_lang=ja")).await;
    let page = remembered.text().await.unwrap();
    assert!(page.contains(r#"<html lang="ja""#));
}
