//! The overview's tallies (`decision_tallies`, per day and dimension value): a database whose
//! counts were written before the tallies existed gets them from its counts when migrated, and
//! decisions recorded afterwards add to them.

use crate::common::*;
use crate::on_both_engines;
use app::domain::Regime;
use chrono::NaiveDate;
use server::domain::statistics::{Counted, DecisionTally, Dimension, summarize, summarize_tallies};
use sqlx::migrate::Migrator;

on_both_engines![counts_stored_before_the_tallies_are_tallied_by_the_migration];

/// The migration that adds the tallies.
const TALLIES_MIGRATION: i64 = 20261127000008;

/// Counts as an older version wrote them: two days, the service's own pages and a site, a
/// decision granting nothing.
const OLDER_COUNTS: &str = "INSERT INTO decision_counts VALUES \
    ('2026-11-01', '2026-10-01', '', 'en', 'desktop', 'accept_all', 'banner', \
     'analytics,necessary,preferences', 5), \
    ('2026-11-01', '2026-10-01', 'https://www.zeccloud.test', 'en', 'mobile', 'custom', 'embed', \
     'analytics,necessary', 2), \
    ('2026-11-01', '2026-10-01', '', 'ja', 'desktop', 'reject_all', 'banner', 'necessary', 3), \
    ('2026-11-02', '2026-11-02', '', 'en', 'desktop', 'gpc', 'gpc', '', 1), \
    ('2026-11-02', '2026-10-01', '', 'en', 'desktop', 'accept_all', 'preference_center', \
     'analytics,necessary,preferences', 4)";

fn day(raw: &str) -> NaiveDate {
    raw.parse().unwrap()
}

fn find<'t>(
    tallies: &'t [DecisionTally],
    on: &str,
    dimension: Dimension,
    value: &str,
    counted: Counted,
) -> Option<&'t DecisionTally> {
    tallies.iter().find(|tally| {
        tally.day == day(on)
            && tally.dimension == dimension
            && tally.value == value
            && tally.counted == counted
    })
}

async fn counts_stored_before_the_tallies_are_tallied_by_the_migration(engine: Engine) {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(engine, &dir).await;
    // The migrations before the tallies, read from the same files the binary embeds.
    let folder = match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(folder);
    let earlier = Migrator::new(path).await.unwrap();
    match engine {
        Engine::Sqlite => {
            let options = url
                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                .unwrap()
                .create_if_missing(true);
            let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
            earlier.run_to(TALLIES_MIGRATION - 1, &pool).await.unwrap();
            sqlx::raw_sql(OLDER_COUNTS).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Engine::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            earlier.run_to(TALLIES_MIGRATION - 1, &pool).await.unwrap();
            sqlx::raw_sql(OLDER_COUNTS).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    // What the service does on start: the remaining migrations, the tallies' among them.
    let storage = server::storage::testing::connect(&url).await.unwrap();
    let (from, to) = (day("2026-11-01"), day("2026-11-02"));
    let counts = storage.decision_counts(from, to).await.unwrap();
    assert_eq!(counts.len(), 5);
    let tallies = storage.decision_tallies(from, to).await.unwrap();
    assert_eq!(summarize_tallies(&tallies), summarize(&counts));
    let decisions = |tally: Option<&DecisionTally>| tally.map(|tally| tally.decisions);
    let analytics = || Counted::Granted("analytics".to_owned());
    assert_eq!(
        decisions(find(
            &tallies,
            "2026-11-01",
            Dimension::Language,
            "en",
            analytics()
        )),
        Some(7)
    );
    assert_eq!(
        decisions(find(
            &tallies,
            "2026-11-01",
            Dimension::Origin,
            "",
            Counted::Action("accept_all")
        )),
        Some(5)
    );
    let necessary = || Counted::Granted("necessary".to_owned());
    assert_eq!(
        decisions(find(
            &tallies,
            "2026-11-01",
            Dimension::TerminalType,
            "desktop",
            necessary()
        )),
        Some(8)
    );
    // The GPC decision granted nothing: its version has an action and no category.
    let gpc_version: Vec<_> = tallies
        .iter()
        .filter(|tally| tally.dimension == Dimension::PolicyVersion && tally.value == "2026-11-02")
        .map(|tally| (tally.counted.clone(), tally.decisions))
        .collect();
    assert_eq!(gpc_version, [(Counted::Action("gpc"), 1)]);
    // One tally per value and action or category seen together on the day.
    assert_eq!(
        tallies
            .iter()
            .filter(|tally| tally.day == day("2026-11-01"))
            .count(),
        // version: 3 actions + 3 categories; own pages: 2 + 3, site: 1 + 2; en: 2 + 3,
        // ja: 1 + 1; desktop: 2 + 3, mobile: 1 + 2; and (migration 13) jurisdiction '' (before
        // jurisdictions) and regime opt_in: 3 + 3 each.
        6 + 5 + 3 + 5 + 2 + 5 + 3 + 6 + 6
    );
    // Counted before jurisdictions: no jurisdiction, opt-in.
    assert!(
        counts
            .iter()
            .all(|count| count.jurisdiction.is_empty() && count.regime == Regime::OptIn)
    );
    assert_eq!(
        decisions(find(
            &tallies,
            "2026-11-01",
            Dimension::Regime,
            "opt_in",
            Counted::Action("reject_all")
        )),
        Some(3)
    );

    // A decision recorded now adds to the tallies it shares with the older counts.
    let visitor = server::storage::SsaidRecord {
        ssaid: server::domain::Ssaid::from_random_bytes([9; 16]),
        issued_at: "2026-11-02T08:00:00Z".parse().unwrap(),
        terminal_type: server::domain::TerminalType::Desktop,
    };
    let event = server::storage::ConsentEvent {
        id: uuid::Uuid::now_v7(),
        ssaid: visitor.ssaid.clone(),
        policy_version: app::domain::PolicyVersion::parse("2026-10-01").unwrap(),
        categories: [
            ("analytics", true),
            ("necessary", true),
            ("preferences", false),
        ]
        .into_iter()
        .map(|(category, granted)| (category.to_owned(), granted))
        .collect(),
        action: app::domain::ConsentAction::Custom,
        source: app::domain::ConsentSource::Banner,
        created_at: "2026-11-02T09:00:00Z".parse().unwrap(),
        made_at: None,
        policy_hash: "sha256:policy".to_owned(),
        banner_text_hash: "sha256:banner".to_owned(),
        language: "en".to_owned(),
        ip_prefix: None,
        ua_class: server::domain::TerminalType::Desktop,
        origin: None,
        // Made where opt-out applies: its own jurisdiction and regime tallies.
        jurisdiction: Some(server::storage::DecisionPlace {
            name: "united_states".to_owned(),
            regime: Regime::OptOut,
            country: Some("US".to_owned()),
            source: app::domain::CountrySource::Header,
        }),
        log_salt: None,
    };
    storage
        .insert_consent_events(&[(visitor, event)])
        .await
        .unwrap();
    let counts = storage.decision_counts(from, to).await.unwrap();
    let tallies = storage.decision_tallies(from, to).await.unwrap();
    assert_eq!(summarize_tallies(&tallies), summarize(&counts));
    assert_eq!(
        decisions(find(
            &tallies,
            "2026-11-02",
            Dimension::Language,
            "en",
            analytics()
        )),
        Some(5)
    );
    for (dimension, value) in [
        (Dimension::Jurisdiction, "united_states"),
        (Dimension::Regime, "opt_out"),
    ] {
        assert_eq!(
            decisions(find(
                &tallies,
                "2026-11-02",
                dimension,
                value,
                Counted::Action("custom")
            )),
            Some(1),
            "{value}"
        );
    }
    assert_eq!(
        decisions(find(
            &tallies,
            "2026-11-02",
            Dimension::Regime,
            "opt_in",
            Counted::Action("custom")
        )),
        None,
        "the older counts had no custom decision that day"
    );
}
