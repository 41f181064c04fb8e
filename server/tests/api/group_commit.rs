//! Group commit: decisions waiting together are stored in one transaction, exactly as one by
//! one (rows, SSAIDs, the console's counts), and one faulty decision fails only itself.

use crate::common::*;
use crate::on_both_engines;
use chrono::{TimeZone, Utc};
use server::domain::statistics::{Counted, Dimension};
use server::domain::{Ssaid, TerminalType};
use server::service::consent::group_commit::DecisionWriter;
use server::storage::{ConsentEvent, SsaidRecord, StorageError};
use std::collections::BTreeMap;

on_both_engines![
    a_group_stores_every_decision_its_visitors_and_exact_counts,
    one_faulty_decision_fails_alone_and_its_group_is_stored,
    concurrent_requests_are_each_answered_after_their_own_row_is_stored,
    a_group_with_more_tallies_than_a_statement_takes_is_written_statement_by_statement,
];

fn visitor(seed: u8) -> SsaidRecord {
    SsaidRecord {
        ssaid: Ssaid::from_random_bytes([seed; 16]),
        issued_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
        terminal_type: TerminalType::Mobile,
    }
}

fn stored_decision(visitor: &SsaidRecord, analytics: bool) -> ConsentEvent {
    ConsentEvent {
        id: uuid::Uuid::now_v7(),
        ssaid: visitor.ssaid.clone(),
        policy_version: app::domain::PolicyVersion::parse(POLICY_VERSION).unwrap(),
        categories: BTreeMap::from([
            ("analytics".to_owned(), analytics),
            ("necessary".to_owned(), true),
        ]),
        action: app::domain::ConsentAction::Custom,
        source: app::domain::ConsentSource::Api,
        created_at: Utc.with_ymd_and_hms(2026, 11, 2, 10, 0, 0).unwrap(),
        made_at: None,
        policy_hash: "sha256:policy".to_owned(),
        banner_text_hash: "sha256:banner".to_owned(),
        language: "ja".to_owned(),
        ip_prefix: None,
        ua_class: TerminalType::Mobile,
        origin: None,
        jurisdiction: None,
        log_salt: None,
    }
}

/// Total decisions per granted-categories key on 2026-11-02.
async fn counts(app: &TestApp) -> BTreeMap<Vec<String>, i64> {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let mut totals = BTreeMap::new();
    for count in app.storage.decision_counts(day, day).await.unwrap() {
        *totals.entry(count.granted).or_default() += count.decisions;
    }
    totals
}

/// Every decision of the group is stored as it was, and so is its visitor's SSAID.
async fn assert_every_decision_and_visitor_stored(
    app: &TestApp,
    group: &[(SsaidRecord, ConsentEvent)],
) {
    for (visitor, event) in group {
        assert_eq!(
            app.storage
                .find_consent_event(event.id)
                .await
                .unwrap()
                .as_ref(),
            Some(event)
        );
        assert_eq!(
            app.stored_ssaid(&visitor.ssaid).await.as_ref(),
            Some(visitor)
        );
    }
}

async fn a_group_stores_every_decision_its_visitors_and_exact_counts(engine: Engine) {
    let app = spawn(engine).await;
    // Three visitors, one of them twice in the same group (its SSAID row written once), and
    // count keys shared across the group.
    let visitors = [visitor(1), visitor(2), visitor(3)];
    let group: Vec<(SsaidRecord, ConsentEvent)> = [(0, true), (1, false), (0, false), (2, true)]
        .into_iter()
        .map(|(which, analytics)| {
            let visitor = visitors[which].clone();
            let event = stored_decision(&visitor, analytics);
            (visitor, event)
        })
        .collect();
    app.storage.insert_consent_events(&group).await.unwrap();

    assert_every_decision_and_visitor_stored(&app, &group).await;
    assert_eq!(
        app.storage
            .consent_events_for(&visitors[0].ssaid)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        counts(&app).await,
        BTreeMap::from([
            (vec!["analytics".to_owned(), "necessary".to_owned()], 2),
            (vec!["necessary".to_owned()], 2),
        ])
    );
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    // 6 dimensions × (custom, analytics, necessary): one value each.
    assert_eq!(app.assert_tallies_equal_counts(day, day).await, 18);
    // A second group adds to the same counts rather than replacing them.
    let again = visitor(4);
    let event = stored_decision(&again, true);
    app.storage
        .insert_consent_events(&[(again, event)])
        .await
        .unwrap();
    assert_eq!(
        counts(&app).await,
        BTreeMap::from([
            (vec!["analytics".to_owned(), "necessary".to_owned()], 3),
            (vec!["necessary".to_owned()], 2),
        ])
    );
    assert_eq!(app.assert_tallies_equal_counts(day, day).await, 18);
    let tallies = app.storage.decision_tallies(day, day).await.unwrap();
    let analytics = tallies
        .iter()
        .find(|tally| {
            tally.dimension == Dimension::Language
                && tally.value == "ja"
                && tally.counted == Counted::Granted("analytics".to_owned())
        })
        .unwrap();
    assert_eq!(analytics.decisions, 3);
}

async fn one_faulty_decision_fails_alone_and_its_group_is_stored(engine: Engine) {
    let app = spawn(engine).await;
    let writer = DecisionWriter::spawn(app.storage.clone());
    let (first, second, third) = (visitor(1), visitor(2), visitor(3));
    let stored = stored_decision(&first, true);
    // Reuses a stored decision's id: the group's transaction fails on it.
    let faulty = ConsentEvent {
        id: stored.id,
        ..stored_decision(&second, false)
    };
    let fine = stored_decision(&third, false);
    writer
        .insert(first.clone(), stored.clone())
        .await
        .expect("stored");
    // Sent together, so the writer takes them as one group.
    let (faulty_outcome, fine_outcome) = tokio::join!(
        writer.insert(second.clone(), faulty),
        writer.insert(third.clone(), fine.clone()),
    );
    let err = faulty_outcome.expect_err("a taken id is refused");
    assert!(
        matches!(err, StorageError::Database(_)) && !err.is_unavailable(),
        "{err:?}"
    );
    fine_outcome.expect("the rest of the group is stored");
    assert_eq!(
        app.storage.find_consent_event(fine.id).await.unwrap(),
        Some(fine)
    );
    assert_eq!(
        app.storage
            .find_consent_event(stored.id)
            .await
            .unwrap()
            .map(|event| event.ssaid),
        Some(first.ssaid)
    );
    assert_eq!(app.stored_ssaid(&second.ssaid).await, None);
    assert_eq!(
        counts(&app).await,
        BTreeMap::from([
            (vec!["analytics".to_owned(), "necessary".to_owned()], 1),
            (vec!["necessary".to_owned()], 1),
        ])
    );
    // The failed transaction took its tallies with it.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    app.assert_tallies_equal_counts(day, day).await;
}

async fn concurrent_requests_are_each_answered_after_their_own_row_is_stored(engine: Engine) {
    // All from one address: its budgets for new visitors and decisions are raised.
    let app = spawn_with(engine, |settings| {
        settings.rate_limits.decisions_burst = 100;
        settings.rate_limits.new_visitors_burst = 100;
    })
    .await;
    let mut visitors = Vec::new();
    for _ in 0..48 {
        visitors.push(app.new_visitor().await);
    }
    // 48 visitors deciding at once: every answer names a consent id that is stored, and the
    // console's counts equal the answers.
    let answers =
        futures_util::future::join_all(visitors.iter().enumerate().map(|(index, ssaid)| {
            let app = &app;
            async move {
                let action = if index % 2 == 0 {
                    "accept_all"
                } else {
                    "reject_all"
                };
                let response = app
                    .post_json(&format!("zc_ssaid={ssaid}"), &decision(action))
                    .await;
                assert_eq!(response.status(), 201);
                let body: serde_json::Value = response.json().await.unwrap();
                body["consent"]["event_id"].as_str().unwrap().to_owned()
            }
        }))
        .await;
    for id in &answers {
        let event = app
            .storage
            .find_consent_event(id.parse().unwrap())
            .await
            .unwrap();
        assert!(event.is_some(), "{id} answered but not stored");
    }
    let today = Utc::now().date_naive();
    let stored: i64 = app
        .storage
        .decision_counts(today, today)
        .await
        .unwrap()
        .iter()
        .map(|count| count.decisions)
        .sum();
    assert_eq!(stored, 48);
    app.assert_tallies_equal_counts(today, today).await;
}

async fn a_group_with_more_tallies_than_a_statement_takes_is_written_statement_by_statement(
    engine: Engine,
) {
    let app = spawn(engine).await;
    // 250 decisions, each on its own site in its own language: five tallies each on average,
    // more than the thousand one statement takes, so the group is written as a transaction of
    // separate statements, its tallies in two.
    let group: Vec<(SsaidRecord, ConsentEvent)> = (0..250_u8)
        .map(|seed| {
            let visitor = visitor(seed);
            let event = ConsentEvent {
                origin: Some(format!("https://site-{seed}.test")),
                jurisdiction: None,
                log_salt: None,
                language: format!("x-{seed}"),
                ..stored_decision(&visitor, seed % 2 == 0)
            };
            (visitor, event)
        })
        .collect();
    app.storage.insert_consent_events(&group).await.unwrap();
    assert_every_decision_and_visitor_stored(&app, &group).await;
    assert_eq!(
        counts(&app).await,
        BTreeMap::from([
            (vec!["analytics".to_owned(), "necessary".to_owned()], 125),
            (vec!["necessary".to_owned()], 125),
        ])
    );
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    let tallies = app.assert_tallies_equal_counts(day, day).await;
    // Per site and language: the action and one or two categories; the one version, terminal
    // type, jurisdiction (none: recorded as before jurisdictions) and regime: three each.
    assert_eq!(tallies, 250 * 2 * 2 + 125 * 2 + 3 * 4);
}
