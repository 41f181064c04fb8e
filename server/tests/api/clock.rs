//! The service run "as of" a date: everything it records or compares reads its one clock.

use crate::common::*;
use crate::on_both_engines;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use server::infra::clock::Clock;

on_both_engines![a_fixed_clock_dates_every_record_and_expires_choices];

fn parse_time(value: &serde_json::Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

async fn a_fixed_clock_dates_every_record_and_expires_choices(engine: Engine) {
    // Signed cookies are checked against the real time, so the clock starts from it; on a
    // whole second, as tokens hold their issue time.
    let clock = Clock::fixed(Utc::now().trunc_subsecs(0) - TimeDelta::minutes(5));
    let app = spawn_as_of(engine, clock.clone(), |_| {}).await;
    let at = clock.now();

    let versions = app.get_as_admin("/api/v1/admin/policies").await;
    let versions: serde_json::Value = versions.json().await.unwrap();
    assert_eq!(parse_time(&versions[0]["published_at"]), at);

    let ssaid = app.new_visitor().await;
    let answer = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    assert_eq!(answer.status(), 201);
    let (issued_at, _) = app
        .ssaid_record(&ssaid_of(&app.tokens, &ssaid))
        .await
        .expect("SSAID stored with the decision");
    assert_eq!(issued_at, at);
    let cookies = cookies_after(&ssaid, &answer);
    let events = app.events_of(&ssaid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].created_at, at);
    let status = app.consent_status(&cookies).await;
    assert_eq!(status["needs_prompt"], false);
    assert_eq!(status["consent"]["decided_at"], at.timestamp());

    // A year and a day later the same cookie no longer holds: the banner asks again.
    clock.advance(TimeDelta::days(366));
    let status = app.consent_status(&cookies).await;
    assert_eq!(status["needs_prompt"], true);
    assert_eq!(status["prompt"]["reason"], "expired");
}
