//! The HTTP surface, run against SQLite and PostgreSQL alike.
//!
//! Over 400 lines: one scenario per function, each a readable story from request to stored
//! row; the shared steps live in `common.rs`.

use crate::common::*;
use crate::on_both_engines;
use app::domain::{ConsentAction, ConsentSource};
use server::domain::claims::{CONSENT_AUDIENCE, ISSUER};
use server::domain::{ConsentClaims, Ssaid, SsaidClaims, TerminalType};
use std::collections::BTreeMap;

on_both_engines![
    health_check_reports_storage,
    ssaid_is_issued_once_and_stored_with_its_first_decision,
    valid_ssaid_is_reused,
    tampered_ssaid_is_replaced,
    expired_ssaid_is_replaced,
    foreign_signed_ssaid_is_replaced,
    json_consent_is_recorded_and_cookie_set,
    consent_cookie_is_read_back,
    tampered_consent_cookie_is_not_trusted,
    consent_cookie_counts_only_beside_its_own_ssaid,
    banner_is_in_the_html_until_decided,
    no_js_form_records_and_redirects_back,
    no_js_form_that_is_refused_gets_a_page_saying_so,
    late_choices_keep_the_time_they_were_made,
    hydrated_banner_call_records_without_redirect,
    server_function_rejects_bad_input_and_writes_nothing,
    bad_json_inputs_get_clear_errors_and_write_nothing,
    secure_cookies_by_default,
    unknown_api_paths_answer_json,
    static_assets_are_served_compressed,
    consent_events_cannot_be_rewritten,
    consent_events_cannot_be_rewritten_in_any_column,
];

async fn health_check_reports_storage(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.ops_token = Some(secrecy::SecretString::from(
            "ops-token-0123456789".to_owned(),
        ));
    })
    .await;
    for (path, body) in [
        ("/healthz", r#"{"status":"ok","storage":"ok"}"#),
        ("/healthz/ready", r#"{"status":"ok","storage":"ok"}"#),
        ("/healthz/live", r#"{"status":"ok"}"#),
    ] {
        let response = app.ops_get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert_eq!(response.text().await.unwrap(), body);
    }
    // With ops_token, the counters want it; the public listener has neither.
    assert_error(app.ops_get("/metrics").await, 401, "unauthorized").await;
    let counters = app
        .http
        .get(format!("{}/metrics", app.ops_base))
        .bearer_auth("ops-token-0123456789")
        .fetch()
        .await;
    assert_eq!(counters.status(), 200);
    assert!(
        counters
            .text()
            .await
            .unwrap()
            .contains("zeccloud_ssaids_issued_total 0")
    );
    // Decisions and SSAIDs are counted.
    let ssaid = app.new_visitor().await;
    let decided = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    assert_eq!(decided.status(), 201);
    let counters = app
        .http
        .get(format!("{}/metrics", app.ops_base))
        .bearer_auth("ops-token-0123456789")
        .fetch()
        .await
        .text()
        .await
        .unwrap();
    for line in [
        "zeccloud_ssaids_issued_total 1",
        "zeccloud_decisions_total{action=\"accept_all\",source=\"api\"} 1",
    ] {
        assert!(counters.contains(line), "{line} in {counters}");
    }
    assert_error(app.ops_get("/nothing").await, 404, "not_found").await;
    for path in ["/healthz", "/metrics"] {
        assert_eq!(
            app.get(path, "").await.status(),
            404,
            "{path} on the public listener"
        );
    }
}

async fn ssaid_is_issued_once_and_stored_with_its_first_decision(engine: Engine) {
    let app = spawn(engine).await;
    let response = app.get_with("/", &[("user-agent", IPHONE)]).await;
    assert_eq!(response.status(), 200);
    let header = set_cookie_header(&response, "zc_ssaid").expect("zc_ssaid set on first response");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=31536000"] {
        assert!(header.contains(attribute), "{header} lacks {attribute}");
    }
    let token = set_cookie(&response, "zc_ssaid").unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_eq!(header.kid.as_deref(), Some(app.tokens.kid()));
    let claims: SsaidClaims = app.tokens.verify(&token, "zc_ssaid").unwrap();
    assert_eq!(claims.tt.as_str(), "mobile");

    // A page view writes nothing; the first decision stores the SSAID as the token says,
    // even when made later from another device class.
    let ssaid = ssaid_of(&app.tokens, &token);
    assert_eq!(app.ssaid_record(&ssaid).await, None);
    assert_eq!(app.count_rows("ssaids").await, 0);
    let answer = app
        .post_json(&format!("zc_ssaid={token}"), &decision("reject_all"))
        .await;
    assert_eq!(answer.status(), 201);
    let (issued_at, terminal_type) = app.ssaid_record(&ssaid).await.expect("SSAID stored");
    assert_eq!(terminal_type.as_str(), "mobile");
    assert_eq!(issued_at.timestamp(), claims.iat);
    let again = app
        .post_json(&format!("zc_ssaid={token}"), &decision("accept_all"))
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(app.count_rows("ssaids").await, 1);
    assert_eq!(app.events_of(&token).await.len(), 2);
}

async fn valid_ssaid_is_reused(engine: Engine) {
    let app = spawn(engine).await;
    let token = app.new_visitor().await;
    for path in ["/", "/api/v1/consent", "/notice"] {
        let response = app.get(path, &format!("zc_ssaid={token}")).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            set_cookie(&response, "zc_ssaid"),
            None,
            "{path} must reuse the SSAID"
        );
    }
}

async fn assert_replaced(app: &TestApp, presented: &str) {
    let response = app
        .get("/api/v1/consent", &format!("zc_ssaid={presented}"))
        .await;
    let fresh = set_cookie(&response, "zc_ssaid").expect("an untrusted SSAID is replaced");
    assert_ne!(fresh, presented);
    let ssaid = ssaid_of(&app.tokens, &fresh);
    assert_eq!(
        app.ssaid_record(&ssaid).await,
        None,
        "stored only with a decision"
    );
}

async fn tampered_ssaid_is_replaced(engine: Engine) {
    let app = spawn(engine).await;
    let token = app.new_visitor().await;
    let forged_claims = SsaidClaims::new(
        Ssaid::from_random_bytes([9; 16]),
        TerminalType::Desktop,
        chrono::Utc::now().timestamp(),
        3600,
    );
    let forged_payload = app.tokens.sign(&forged_claims);
    let (header, rest) = token.split_once('.').unwrap();
    let signature = rest.split_once('.').unwrap().1;
    let payload = forged_payload.split('.').nth(1).unwrap();
    assert_replaced(&app, &format!("{header}.{payload}.{signature}")).await;
    assert_replaced(&app, "garbage").await;
}

async fn expired_ssaid_is_replaced(engine: Engine) {
    let app = spawn(engine).await;
    let now = chrono::Utc::now().timestamp();
    let mut claims = SsaidClaims::new(
        Ssaid::from_random_bytes([5; 16]),
        TerminalType::Desktop,
        now - 7200,
        3600,
    );
    claims.exp = now - 10;
    assert_replaced(&app, &app.tokens.sign(&claims)).await;
}

async fn foreign_signed_ssaid_is_replaced(engine: Engine) {
    let app = spawn(engine).await;
    let foreign =
        server::infra::tokens::TokenSigner::new(&secrecy::SecretSlice::from(vec![8u8; 32]));
    let claims = SsaidClaims::new(
        Ssaid::from_random_bytes([6; 16]),
        TerminalType::Desktop,
        chrono::Utc::now().timestamp(),
        3600,
    );
    assert_replaced(&app, &foreign.sign(&claims)).await;
}

async fn json_consent_is_recorded_and_cookie_set(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let body = format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"custom","categories":{{"preferences":true,"analytics":false}}}}"#
    );
    let response = app.post_json(&format!("zc_ssaid={ssaid}"), &body).await;
    assert_eq!(response.status(), 201);
    let consent_token = set_cookie(&response, "zc_consent").expect("zc_consent set");
    let header = set_cookie_header(&response, "zc_consent").unwrap();
    assert!(
        !header.contains("HttpOnly"),
        "pages must be able to read {header}"
    );
    assert!(
        header.contains("SameSite=Lax") && header.contains("Path=/"),
        "{header}"
    );

    let claims: ConsentClaims = app.tokens.verify(&consent_token, CONSENT_AUDIENCE).unwrap();
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.ver, POLICY_VERSION);
    let expected = BTreeMap::from([
        ("analytics".to_owned(), false),
        ("necessary".to_owned(), true),
        ("preferences".to_owned(), true),
    ]);
    assert_eq!(claims.cats, expected);

    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.id.to_string(), claims.eid);
    assert_eq!(event.policy_version.as_str(), POLICY_VERSION);
    assert_eq!(event.categories, expected);
    assert_eq!(event.action, ConsentAction::Custom);
    assert_eq!(event.source, ConsentSource::Api);
    assert_eq!(
        app.storage
            .find_consent_event(event.id)
            .await
            .unwrap()
            .as_ref(),
        Some(event)
    );

    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["consent"]["event_id"], claims.eid.as_str());
    assert_eq!(json["needs_prompt"], false);
}

async fn consent_cookie_is_read_back(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let before = app.consent_status(&cookies).await;
    assert_eq!(before["consent"], serde_json::Value::Null);
    assert_eq!(before["needs_prompt"], true);

    let response = app.post_json(&cookies, &decision("reject_all")).await;
    let after = app.consent_status(&cookies_after(&ssaid, &response)).await;
    assert_eq!(after["needs_prompt"], false);
    assert_eq!(after["consent"]["categories"]["analytics"], false);
    assert_eq!(after["consent"]["categories"]["necessary"], true);
    assert_eq!(after["consent"]["policy_version"], POLICY_VERSION);
}

/// Issue 28, 7: a consent cookie planted in another browser (anyone who can set cookies on
/// the parent domain could) is no consent there: that visitor is asked.
async fn consent_cookie_counts_only_beside_its_own_ssaid(engine: Engine) {
    let app = spawn(engine).await;
    let giver = app.new_visitor().await;
    let accepted = app
        .post_json(&format!("zc_ssaid={giver}"), &decision("accept_all"))
        .await;
    assert_eq!(accepted.status(), 201);
    let own = cookies_after(&giver, &accepted);
    let consent = set_cookie(&accepted, "zc_consent").unwrap();
    let victim = app.new_visitor().await;
    for cookies in [
        format!("zc_ssaid={victim}; zc_consent={consent}"),
        format!("zc_consent={consent}"),
    ] {
        let json = app.consent_status(&cookies).await;
        assert_eq!(json["consent"], serde_json::Value::Null, "{cookies}");
        assert_eq!(json["needs_prompt"], true, "{cookies}");
        let html = app.get("/", &cookies).await.text().await.unwrap();
        assert!(
            html.contains(r#"data-testid="consent-banner""#),
            "{cookies}"
        );
    }
    let json = app.consent_status(&own).await;
    assert_eq!(json["consent"]["categories"]["analytics"], true);
    assert_eq!(json["needs_prompt"], false);
}

async fn tampered_consent_cookie_is_not_trusted(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    // Validly signed, but as an SSAID: the audience must keep it from passing as consent.
    let wrong_audience = ssaid.clone();
    let foreign =
        server::infra::tokens::TokenSigner::new(&secrecy::SecretSlice::from(vec![1u8; 32]));
    let claims = ConsentClaims {
        iss: ISSUER.into(),
        aud: CONSENT_AUDIENCE.into(),
        ver: POLICY_VERSION.into(),
        cats: BTreeMap::from([("analytics".into(), true)]),
        eid: "forged".into(),
        act: ConsentAction::AcceptAll,
        bnd: Some(consent_binding(&app.tokens, &ssaid)),
        iat: chrono::Utc::now().timestamp(),
        exp: chrono::Utc::now().timestamp() + 60,
    };
    for consent in [wrong_audience, foreign.sign(&claims)] {
        let cookies = format!("zc_ssaid={ssaid}; zc_consent={consent}");
        let json = app.consent_status(&cookies).await;
        assert_eq!(json["consent"], serde_json::Value::Null);
        let html = app.get("/", &cookies).await;
        assert!(
            html.text()
                .await
                .unwrap()
                .contains(r#"data-testid="consent-banner""#)
        );
    }
}

async fn banner_is_in_the_html_until_decided(engine: Engine) {
    let app = spawn(engine).await;
    let response = app.http.get(app.url("/")).fetch().await;
    let ssaid = set_cookie(&response, "zc_ssaid").unwrap();
    let html = response.text().await.unwrap();
    let banner = html
        .find(r#"data-testid="consent-banner""#)
        .expect("banner rendered on the server");
    assert!(
        !html[..banner].contains("<template"),
        "the banner must not wait for a script"
    );
    for needed in [
        "Accept all",
        "Reject all",
        "Customize",
        r#"href="/notice""#,
        r#"name="categories[analytics]""#,
    ] {
        assert!(html.contains(needed), "banner lacks {needed}");
    }
    assert!(
        !html.contains("checked"),
        "no optional category may be pre-ticked"
    );

    let response = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    let cookies = cookies_after(&ssaid, &response);
    // The not-found page is outside the SSAID middleware: it still knows the choice.
    for path in ["/", "/notice", "/no-such-page"] {
        let html = app.get(path, &cookies).await.text().await.unwrap();
        assert!(
            !html.contains(r#"data-testid="consent-banner""#),
            "{path}: a decided visitor sees no banner"
        );
    }
}

async fn no_js_form_records_and_redirects_back(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let body =
        format!("policy_version={POLICY_VERSION}&action=custom&categories%5Banalytics%5D=on");
    let response = app
        .post_form(&cookies, "text/html,application/xhtml+xml", &body)
        .header("referer", app.url("/notice"))
        .fetch()
        .await;
    assert_eq!(response.status(), 302);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&app.url("/notice"))
    );
    assert!(set_cookie(&response, "zc_consent").is_some());
    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, ConsentSource::NoJsForm);
    assert!(events[0].categories["analytics"]);
    assert!(!events[0].categories["preferences"]);

    // Without a Referer the visitor lands on the start page rather than on raw JSON.
    let body = format!("policy_version={POLICY_VERSION}&action=reject_all");
    let response = app.post_form(&cookies, "text/html", &body).fetch().await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], "/");
    assert_eq!(app.events_of(&ssaid).await.len(), 2);
}

async fn no_js_form_that_is_refused_gets_a_page_saying_so(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}; zc_lang=ja");
    let body = "policy_version=1999-01-01&action=accept_all";
    let response = app
        .post_form(&cookies, "text/html", body)
        .header("referer", app.url("/preferences?lang=ja"))
        .fetch()
        .await;
    assert_eq!(response.status(), 409);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'self'"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.headers().get("location").is_none());
    assert!(response.headers().get("serverfnerror").is_none());
    let html = response.text().await.unwrap();
    let ui = app::i18n::ui_text("ja");
    assert!(
        html.starts_with(r#"<!DOCTYPE html><html lang="ja""#),
        "{html}"
    );
    assert!(html.contains(ui.not_saved_title) && html.contains(ui.not_saved_refused));
    assert!(html.contains(r#"data-error-code="stale_policy_version""#));
    assert!(
        html.contains(r#"<a href="/preferences?lang=ja">"#),
        "{html}"
    );
    assert!(app.events_of(&ssaid).await.is_empty());

    // The hydrated page asks for JSON and still gets it.
    let json = app
        .post_form(&cookies, "application/json", body)
        .fetch()
        .await;
    assert_eq!(json.status(), 409);
    let error: serde_json::Value = json.json().await.unwrap();
    assert_eq!(error["code"], "stale_policy_version");
}

async fn late_choices_keep_the_time_they_were_made(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    // The JSON API, then the banner's server function as the hydrated page retries it.
    let late = format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"reject_all","decided_ms_ago":90000}}"#
    );
    assert_eq!(app.post_json(&cookies, &late).await.status(), 201);
    let form = format!("policy_version={POLICY_VERSION}&action=accept_all&decided_ms_ago=1500");
    let retried = app
        .post_form(&cookies, "application/json", &form)
        .fetch()
        .await;
    assert_eq!(retried.status(), 200);
    let events = app.events_of(&ssaid).await;
    let ages: Vec<i64> = events
        .iter()
        .map(|event| (event.created_at - event.made_at.unwrap()).num_milliseconds())
        .collect();
    assert_eq!(ages, [90_000, 1_500]);

    // A made time the page cannot know, or an age past an hour, is refused and writes nothing.
    for (age, status, code) in [
        ("3600001", 400, "invalid_decision_age"),
        ("-5", 422, "invalid_body"),
    ] {
        let body = format!(
            r#"{{"policy_version":"{POLICY_VERSION}","action":"reject_all","decided_ms_ago":{age}}}"#
        );
        let refused = app.post_json(&cookies, &body).await;
        assert_error_for(refused, status, code, &body).await;
    }
    let form = format!("policy_version={POLICY_VERSION}&action=accept_all&decided_ms_ago=soon");
    let refused = app
        .post_form(&cookies, "application/json", &form)
        .fetch()
        .await;
    assert_eq!(refused.status(), 400);
    let error: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(error["code"], "invalid_decision_age");
    assert_eq!(app.events_of(&ssaid).await.len(), 2);

    // The receipt and the visitor's own copy of their data say when it was made.
    let receipt = app
        .get(
            &format!("/api/v1/consent/{}/receipt", events[0].id),
            &cookies,
        )
        .await;
    assert_eq!(receipt.status(), 200);
    let receipt: serde_json::Value = receipt.json().await.unwrap();
    assert_eq!(
        receipt["receipt"]["event"]["made_at"],
        events[0]
            .made_at
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
}

async fn hydrated_banner_call_records_without_redirect(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let body = format!("policy_version={POLICY_VERSION}&action=accept_all");
    let response = app
        .post_form(&format!("zc_ssaid={ssaid}"), "application/json", &body)
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert!(set_cookie(&response, "zc_consent").is_some());
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["consent"]["categories"]["analytics"], true);
    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source, ConsentSource::Banner);
    assert_eq!(events[0].action, ConsentAction::AcceptAll);
}

async fn server_function_rejects_bad_input_and_writes_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    for (body, status, code) in [
        (
            "policy_version=old&action=accept_all".to_owned(),
            409,
            "stale_policy_version",
        ),
        (
            format!("policy_version={POLICY_VERSION}&action=custom&categories%5Bads%5D=on"),
            422,
            "unknown_category",
        ),
        (
            format!("policy_version={POLICY_VERSION}&action=maybe"),
            400,
            "invalid_action",
        ),
        ("action=accept_all".to_owned(), 400, "missing_field"),
    ] {
        let response = app
            .post_form(&format!("zc_ssaid={ssaid}"), "application/json", &body)
            .fetch()
            .await;
        assert_eq!(response.status(), status, "{body}");
        assert!(set_cookie(&response, "zc_consent").is_none());
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["code"], code, "{body}: {json}");
        assert!(!json["message"].as_str().unwrap().is_empty());
    }
    assert!(app.events_of(&ssaid).await.is_empty());
}

async fn bad_json_inputs_get_clear_errors_and_write_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let v = POLICY_VERSION;
    let cases = [
        (
            "{not json".to_owned(),
            "application/json",
            400,
            "malformed_json",
        ),
        (
            format!(r#"{{"policy_version":"{v}","action":"sometimes"}}"#),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            format!(r#"{{"policy_version":"{v}","action":"accept_all","extra":1}}"#),
            "application/json",
            422,
            "invalid_body",
        ),
        (
            format!(
                r#"{{"policy_version":"{v}","action":"custom","categories":{{"preferences":true,"analytics":true,"ads":true}}}}"#
            ),
            "application/json",
            422,
            "unknown_category",
        ),
        (
            format!(
                r#"{{"policy_version":"{v}","action":"custom","categories":{{"preferences":true}}}}"#
            ),
            "application/json",
            422,
            "missing_category",
        ),
        (
            format!(
                r#"{{"policy_version":"{v}","action":"custom","categories":{{"necessary":false,"preferences":true,"analytics":true}}}}"#
            ),
            "application/json",
            422,
            "necessary_refused",
        ),
        (
            format!(
                r#"{{"policy_version":"{v}","action":"reject_all","categories":{{"analytics":true}}}}"#
            ),
            "application/json",
            422,
            "contradicts_action",
        ),
        (
            r#"{"policy_version":"1999-01-01","action":"accept_all"}"#.to_owned(),
            "application/json",
            409,
            "stale_policy_version",
        ),
        (
            format!(r#"{{"policy_version":"{v}","action":"accept_all"}}"#),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            format!(
                r#"{{"policy_version":"{v}","action":"accept_all","pad":"{}"}}"#,
                "x".repeat(64 * 1024)
            ),
            "application/json",
            413,
            "payload_too_large",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let response = app
            .http
            .post(app.url("/api/v1/consent"))
            .header("cookie", &cookies)
            .header("content-type", content_type)
            .body(body.clone())
            .fetch()
            .await;
        let shown = &body[..body.len().min(80)];
        assert!(set_cookie(&response, "zc_consent").is_none(), "{shown}");
        let json = assert_error_for(response, status, code, shown).await;
        assert!(!json["error"]["message"].as_str().unwrap().is_empty());
    }
    assert!(
        app.events_of(&ssaid).await.is_empty(),
        "bad input must write nothing"
    );
}

async fn secure_cookies_by_default(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.cookie_secure = true;
        settings.public_url = Some("https://consent.zeccloud.test".to_owned());
    })
    .await;
    let response = app.http.get(app.url("/")).fetch().await;
    // Secure, host-only and `__Host-`: a sibling subdomain cannot plant an SSAID.
    let header = set_cookie_header(&response, "__Host-zc_ssaid").unwrap();
    for attribute in ["Secure", "HttpOnly", "Path=/"] {
        assert!(header.contains(attribute), "{header}");
    }
    assert!(!header.contains("Domain"), "{header}");
    assert!(set_cookie(&response, "zc_ssaid").is_none());
    let token = set_cookie(&response, "__Host-zc_ssaid").unwrap();

    let own = app
        .get("/api/v1/consent", &format!("__Host-zc_ssaid={token}"))
        .await;
    assert!(
        set_cookie(&own, "__Host-zc_ssaid").is_none(),
        "the host's own SSAID holds"
    );
    // The same valid token without the prefix is what a sibling could set: not trusted.
    let planted = app
        .get("/api/v1/consent", &format!("zc_ssaid={token}"))
        .await;
    let fresh = set_cookie(&planted, "__Host-zc_ssaid").expect("a new SSAID is issued");
    assert_ne!(fresh, token);
}

async fn unknown_api_paths_answer_json(engine: Engine) {
    let app = spawn(engine).await;
    let response = app.http.get(app.url("/api/v1/nothing")).fetch().await;
    assert_error(response, 404, "not_found").await;
    let response = app.http.delete(app.url("/api/v1/consent")).fetch().await;
    assert_error(response, 405, "method_not_allowed").await;
    let page = app.http.get(app.url("/no-such-page")).fetch().await;
    assert_eq!(page.status(), 404);
}

async fn static_assets_are_served_compressed(engine: Engine) {
    let app = spawn(engine).await;
    let pkg = app.site_root().join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        pkg.join("zeccloud-consent.js"),
        "export const banner = 1;\n".repeat(500),
    )
    .unwrap();
    let response = app.get_compressed("/pkg/zeccloud-consent.js", "br").await;
    assert!(
        set_cookie(&response, "zc_ssaid").is_none(),
        "assets must not issue SSAIDs"
    );
    let compressed = response.bytes().await.unwrap();
    assert!(compressed.len() < 500, "{} bytes", compressed.len());
}

async fn consent_events_cannot_be_rewritten(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    assert_eq!(
        app.post_json(&format!("zc_ssaid={ssaid}"), &decision("reject_all"))
            .await
            .status(),
        201
    );
    let mut attempts = vec![
        "UPDATE consent_events SET action = 'accept_all'",
        // Clearing the prefix is admitted only alone, not to smuggle another change in.
        "UPDATE consent_events SET ip_prefix = NULL, action = 'accept_all'",
        "UPDATE consent_events SET ip_prefix = '1.2.3.0/24'",
        "DELETE FROM consent_events WHERE action = 'reject_all'",
        "DELETE FROM consent_events",
    ];
    if matches!(engine, Engine::Postgres) {
        attempts.push("TRUNCATE consent_events CASCADE");
    }
    for sql in attempts {
        let err = app
            .execute_raw(sql)
            .await
            .expect_err("proof of consent is append-only");
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, ConsentAction::RejectAll);
    assert_eq!(events[0].ip_prefix.as_deref(), Some("127.0.0.0/24"));
    // The one change retention makes.
    assert_eq!(
        app.execute_raw("UPDATE consent_events SET ip_prefix = NULL")
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.events_of(&ssaid).await[0].ip_prefix, None);
    if matches!(engine, Engine::Postgres) {
        let err = app
            .execute_raw("TRUNCATE policy_versions CASCADE")
            .await
            .expect_err("published policies are immutable");
        assert!(err.to_string().contains("immutable"), "{err}");
    }
}

/// Every column the table has, read from the database itself, so a column added later is tried
/// too: clearing any of them (each is set on this decision), alone or along with the network
/// prefix (the one change retention makes), is refused.
async fn consent_events_cannot_be_rewritten_in_any_column(engine: Engine) {
    // Behind an edge that names the country, so the jurisdiction columns are set too.
    let app = crate::jurisdictions::behind_a_country_edge(engine).await;
    let ssaid = app.new_visitor().await;
    // Late (so `made_at` is set) and from a named page (so `origin` is).
    let late = format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"reject_all","decided_ms_ago":90000}}"#
    );
    let decided = app
        .post_json_with(
            &format!("zc_ssaid={ssaid}"),
            &late,
            &[
                ("origin", &app.base),
                (crate::jurisdictions::COUNTRY_HEADER, "JP"),
            ],
        )
        .await;
    assert_eq!(decided.status(), 201);
    let columns_query = match engine {
        Engine::Sqlite => "SELECT name FROM pragma_table_info('consent_events') ORDER BY name",
        Engine::Postgres => {
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'consent_events' ORDER BY column_name"
        }
    };
    let columns = app.texts(columns_query).await;
    assert!(columns.contains(&"made_at".to_owned()), "{columns:?}");
    let mut tried = 0;
    for column in &columns {
        let unset = app
            .texts(&format!(
                "SELECT 'unset' FROM consent_events WHERE {column} IS NULL"
            ))
            .await;
        assert!(unset.is_empty(), "{column} is set on the decision");
        if column == "ip_prefix" {
            continue;
        }
        // Alone, and riding along with the prefix's clearing.
        for clear in [
            format!("UPDATE consent_events SET {column} = NULL"),
            format!("UPDATE consent_events SET ip_prefix = NULL, {column} = NULL"),
        ] {
            let err = app
                .execute_raw(&clear)
                .await
                .expect_err("proof of consent is append-only");
            assert!(err.to_string().contains("append-only"), "{clear}: {err}");
            tried += 1;
        }
    }
    assert_eq!(tried, 2 * (columns.len() - 1));
    let event = &app.events_of(&ssaid).await[0];
    assert!(event.made_at.is_some());
    assert_eq!(event.origin.as_deref(), Some(app.base.as_str()));
}
