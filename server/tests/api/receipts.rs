//! Receipts an auditor recognises (issue 29 §5): decisions of every action, in each regime,
//! first or after another, and one recorded before jurisdictions existed; each served receipt
//! is valid against the published JSON Schema (`docs/consent-receipt.schema.json`), its JWS
//! carries the same record, and it states the event type, the jurisdiction, the controller's
//! address and where the record is kept.

use crate::common::{
    Engine, POLICY_VERSION, TestApp, cookies_after, decision, set_cookie, spawn_with,
};
use crate::jurisdictions::COUNTRY_HEADER;
use crate::on_both_engines;
use serde_json::{Value, json};

on_both_engines![every_receipt_is_valid_against_the_published_schema];

const ADDRESS: &str = "ZecCloud Ltd., 1 Example Road, Hong Kong";

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(include_str!("../../../docs/consent-receipt.schema.json"))
            .expect("the published schema is JSON");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a draft 2020-12 schema")
}

/// A new visitor from `country`, and their SSAID.
async fn visitor_from(app: &TestApp, country: &str) -> String {
    let answer = app
        .get_with("/api/v1/consent", &[(COUNTRY_HEADER, country)])
        .await;
    set_cookie(&answer, "zc_ssaid").expect("first answer sets zc_ssaid")
}

/// Records `body` for the visitor from `country`; returns the decision's id and the cookies
/// to send next.
async fn decide(
    app: &TestApp,
    cookies: &str,
    ssaid: &str,
    country: &str,
    body: &str,
) -> (String, String) {
    let answer = app
        .post_json_with(cookies, body, &[(COUNTRY_HEADER, country)])
        .await;
    assert_eq!(answer.status(), 201, "{body} from {country}");
    let cookies = cookies_after(ssaid, &answer);
    let answer: Value = answer.json().await.unwrap();
    let id = answer["consent"]["event_id"].as_str().unwrap().to_owned();
    (id, cookies)
}

/// The receipt of decision `id` as an admin fetches it, checked against the schema and its
/// own signature's payload.
async fn receipt(app: &TestApp, validator: &jsonschema::Validator, id: &str) -> Value {
    let answer = app
        .get_as_admin(&format!("/api/v1/consent/{id}/receipt"))
        .await;
    assert_eq!(answer.status(), 200, "{id}");
    let signed: Value = answer.json().await.unwrap();
    let receipt = signed["receipt"].clone();
    let errors: Vec<String> = validator
        .iter_errors(&receipt)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{receipt:#}\n{errors:#?}");
    // The signed payload is the same record.
    use base64::Engine as _;
    let payload = signed["jws"].as_str().unwrap().split('.').nth(1).unwrap();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload, receipt);
    receipt
}

fn custom(preferences: bool, analytics: bool) -> String {
    format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"custom","categories":{{"preferences":{preferences},"analytics":{analytics}}}}}"#
    )
}

async fn every_receipt_is_valid_against_the_published_schema(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
        settings.country_header = Some(COUNTRY_HEADER.to_owned());
        settings.controller_address = Some(ADDRESS.to_owned());
        settings.record_locations = vec!["JP".to_owned(), "KR".to_owned()];
    })
    .await;
    let validator = validator();
    // (decision id, event type, jurisdiction, regime, country)
    let mut expected: Vec<(String, &str, &str, &str, Value)> = Vec::new();

    // Germany (opt-in): given, amended, withdrawn, then a refusal after nothing was granted.
    let ssaid = visitor_from(&app, "DE").await;
    let cookies = format!("zc_ssaid={ssaid}");
    let de = |event_type| (event_type, "eea_uk_ch", "opt_in", json!("DE"));
    for (body, event_type) in [
        (decision("accept_all"), "given"),
        (custom(true, false), "amended"),
        (decision("withdraw"), "withdrawn"),
        (decision("reject_all"), "amended"),
    ] {
        let (id, _) = decide(&app, &cookies, &ssaid, "DE", &body).await;
        let (event_type, name, regime, country) = de(event_type);
        expected.push((id, event_type, name, regime, country));
    }
    // A first refusal; a first custom choice granting something.
    for (body, event_type) in [
        (decision("reject_all"), "refused"),
        (custom(false, true), "given"),
    ] {
        let ssaid = visitor_from(&app, "JP").await;
        let (id, _) = decide(&app, &format!("zc_ssaid={ssaid}"), &ssaid, "JP", &body).await;
        expected.push((id, event_type, "japan", "opt_in", json!("JP")));
    }

    // The United States (opt-out): acknowledging the first layer keeps the regime's defaults;
    // refusing everything afterwards withdraws them.
    let ssaid = visitor_from(&app, "US-CA").await;
    let (id, cookies) = decide(
        &app,
        &format!("zc_ssaid={ssaid}"),
        &ssaid,
        "US-CA",
        &decision("acknowledge"),
    )
    .await;
    expected.push((
        id,
        "regime_default",
        "united_states",
        "opt_out",
        json!("US-CA"),
    ));
    let (id, _) = decide(&app, &cookies, &ssaid, "US-CA", &decision("reject_all")).await;
    expected.push((id, "withdrawn", "united_states", "opt_out", json!("US-CA")));

    // GPC signals of returning visitors who have not chosen: an opt-out in the US, a refusal
    // where opt-in applies (nothing was on), with the country unknown.
    for (country, event_type, name, regime, recorded_country) in [
        (
            Some("US"),
            "gpc_opt_out",
            "united_states",
            "opt_out",
            json!("US"),
        ),
        (None, "refused", "default", "opt_in", Value::Null),
    ] {
        let mut headers = vec![];
        headers.extend(country.map(|country| (COUNTRY_HEADER, country)));
        let first = app.get_with("/api/v1/consent", &headers).await;
        let ssaid = set_cookie(&first, "zc_ssaid").unwrap();
        let cookies = format!("zc_ssaid={ssaid}");
        headers.extend([("cookie", cookies.as_str()), ("sec-gpc", "1")]);
        assert_eq!(
            app.get_with("/api/v1/consent", &headers).await.status(),
            200
        );
        let events = app.events_of(&ssaid).await;
        assert_eq!(events.len(), 1, "the signal was recorded");
        assert_eq!(events[0].action.as_str(), "gpc");
        expected.push((
            events[0].id.to_string(),
            event_type,
            name,
            regime,
            recorded_country,
        ));
    }

    for (id, event_type, name, regime, country) in &expected {
        let receipt = receipt(&app, &validator, id).await;
        assert_eq!(receipt["event"]["event_type"], *event_type, "{receipt:#}");
        let jurisdiction = &receipt["jurisdiction"];
        assert_eq!(jurisdiction["name"], *name, "{id}");
        assert_eq!(jurisdiction["regime"], *regime, "{id}");
        assert_eq!(jurisdiction["country"], *country, "{id}");
        let source = if country.is_null() {
            "unknown"
        } else {
            "header"
        };
        assert_eq!(jurisdiction["country_source"], source, "{id}");
        assert_eq!(jurisdiction["recorded"], true);
        assert_eq!(receipt["controller"]["address"], ADDRESS);
        assert_eq!(receipt["record_storage"]["locations"], json!(["JP", "KR"]));
        assert_eq!(receipt["record_storage"]["retention_days"], 3 * 365);
    }
    let actions: std::collections::BTreeSet<String> = stored_actions(&app, &expected).await;
    assert_eq!(
        actions,
        [
            "accept_all",
            "acknowledge",
            "custom",
            "gpc",
            "reject_all",
            "withdraw"
        ]
        .map(str::to_owned)
        .into()
    );

    // A decision recorded before jurisdictions existed says so, and what it was made under.
    let older = store_older_decision(&app).await;
    let receipt = receipt(&app, &validator, &older).await;
    assert_eq!(
        receipt["jurisdiction"],
        json!({"name": "default", "regime": "opt_in", "country": null,
               "country_source": "unknown", "recorded": false})
    );
}

/// The actions of the decisions behind `expected`, as stored.
async fn stored_actions(
    app: &TestApp,
    expected: &[(String, &str, &str, &str, Value)],
) -> std::collections::BTreeSet<String> {
    let mut actions = std::collections::BTreeSet::new();
    for (id, ..) in expected {
        let event = app
            .storage
            .find_consent_event(id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        actions.insert(event.action.as_str().to_owned());
    }
    actions
}

/// A decision as the service stored them before jurisdictions existed; returns its id.
async fn store_older_decision(app: &TestApp) -> String {
    use server::domain::{Ssaid, TerminalType};
    use server::storage::{ConsentEvent, SsaidRecord};
    let now = chrono::Utc::now();
    let visitor = SsaidRecord {
        ssaid: Ssaid::from_random_bytes([7; 16]),
        issued_at: now,
        terminal_type: TerminalType::Desktop,
    };
    let event = ConsentEvent {
        id: uuid::Uuid::now_v7(),
        ssaid: visitor.ssaid.clone(),
        policy_version: app::domain::PolicyVersion::parse(POLICY_VERSION).unwrap(),
        categories: [
            ("necessary", true),
            ("preferences", true),
            ("analytics", true),
        ]
        .into_iter()
        .map(|(category, granted)| (category.to_owned(), granted))
        .collect(),
        action: app::domain::ConsentAction::AcceptAll,
        source: app::domain::ConsentSource::Banner,
        created_at: now,
        made_at: None,
        policy_hash: "sha256:policy".to_owned(),
        banner_text_hash: "sha256:banner".to_owned(),
        language: "en".to_owned(),
        ip_prefix: None,
        ua_class: TerminalType::Desktop,
        origin: None,
        jurisdiction: None,
        log_salt: None,
    };
    let id = event.id.to_string();
    app.storage
        .insert_consent_events(&[(visitor, event)])
        .await
        .unwrap();
    id
}
