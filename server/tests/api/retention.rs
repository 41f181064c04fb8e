//! Retention (notice §04): a purge as of a date removes exactly what the settings say.

use crate::common::*;
use crate::on_both_engines;
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use server::domain::statistics::{Counted, Dimension};
use server::infra::clock::Clock;
use server::infra::config::ServiceEntry;

on_both_engines![
    a_purge_removes_exactly_what_the_settings_say,
    one_instance_purges_at_a_time,
    a_purge_dropped_half_way_leaves_no_lock_behind,
    stored_and_exported_data_is_readable_by_its_owner_only,
];

/// The SQLite database (and its WAL) and `server export --output` hold SSAIDs and decisions:
/// created 0600 whatever the umask, like the signing key. The tests run with the usual 022.
async fn stored_and_exported_data_is_readable_by_its_owner_only(engine: Engine) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let decided = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    assert_eq!(decided.status(), 201);
    if let Some(file) = app.database_url.strip_prefix("sqlite://") {
        for path in [
            file.to_owned(),
            format!("{file}-wal"),
            format!("{file}-shm"),
        ] {
            assert_eq!(mode(path.as_ref()), 0o600, "{path}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let today = chrono::Utc::now().date_naive().to_string();
    let output = dir.path().join("decisions.csv");
    // An existing file is narrowed too.
    std::fs::write(&output, "old").unwrap();
    std::fs::set_permissions(&output, std::fs::Permissions::from_mode(0o644)).unwrap();
    let printed = app.command(&[
        "export",
        "--from",
        &today,
        "--to",
        &today,
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(printed, "");
    assert_eq!(mode(&output), 0o600);
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(written.lines().count(), 2, "{written}");
}

/// A purge whose future is dropped after it took the lock (a request timeout cancels it so)
/// leaves the lock free for the next purge of any instance.
async fn a_purge_dropped_half_way_leaves_no_lock_behind(engine: Engine) {
    let app = spawn(engine).await;
    let cutoffs = server::domain::retention::PurgeCutoffs {
        as_of: Utc::now(),
        sightings_before: Utc::now(),
        address_counters_before: Utc::now(),
        prefixes_before: Utc::now(),
        superseded_before: Utc::now(),
        decided_before: Utc::now(),
        unused_ssaids_before: Utc::now(),
        erasures_before: Utc::now(),
        statistics_before: Utc::now(),
        observations_before: Utc::now(),
    };
    // The first step's progress report comes after the lock is taken: the purge is dropped
    // there, as a timeout would drop it.
    let (started, mut on_start) = tokio::sync::mpsc::unbounded_channel::<()>();
    let report = move |_: &str, _: u64| {
        let _ = started.send(());
    };
    tokio::select! {
        biased;
        _ = on_start.recv() => {}
        finished = app.storage.purge(&cutoffs, true, 1, &report) => {
            panic!("the purge was to be dropped after its first step, not finish: {finished:?}")
        }
    }
    if matches!(engine, Engine::Postgres) {
        use sqlx::Connection;
        let mut other = sqlx::PgConnection::connect(&app.database_url)
            .await
            .unwrap();
        // The dropped purge's connection closes in the background: give it a moment.
        let mut free = false;
        for _ in 0..50 {
            free = sqlx::query_scalar("SELECT pg_try_advisory_lock(7426853214690517)")
                .fetch_one(&mut other)
                .await
                .unwrap();
            if free {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(free, "another instance could not take the purge lock");
        sqlx::query("SELECT pg_advisory_unlock(7426853214690517)")
            .execute(&mut other)
            .await
            .unwrap();
    }
    let next = app.storage.purge(&cutoffs, true, 1000, &|_, _| {}).await;
    assert!(matches!(next, Ok(Some(_))), "{next:?}");
}

async fn one_instance_purges_at_a_time(engine: Engine) {
    let app = spawn(engine).await;
    let dry = admin_purge(&app, "?dry_run=true")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(dry["dry_run"], true);
    let bad = admin_purge(&app, "?now=1").await;
    assert_error(bad, 400, "invalid_query").await;
    if !matches!(engine, Engine::Postgres) {
        // One SQLite file belongs to one instance: there is nobody to take turns with.
        return;
    }
    // Another instance holds the purge lock (on its own connection, as the purge does).
    use sqlx::Connection;
    let mut other = sqlx::PgConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query("SELECT pg_advisory_lock(7426853214690517)")
        .execute(&mut other)
        .await
        .unwrap();
    let busy = admin_purge(&app, "").await;
    assert_error(busy, 409, "purge_busy").await;
    sqlx::query("SELECT pg_advisory_unlock(7426853214690517)")
        .execute(&mut other)
        .await
        .unwrap();
    let free = admin_purge(&app, "").await;
    assert_eq!(free.status(), 200);
}

const SERVICE_TOKEN: &str = "console-service-token-0123456789";

/// Runs `server purge` against the test's database; its summary lines.
fn purge_command(app: &TestApp, args: &[&str]) -> String {
    app.command(&[&["purge"], args].concat())
}

/// The rows a summary says went from `table`.
fn rows_of(summary: &str, table: &str) -> u64 {
    summary
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(table)).then(|| words.next().unwrap().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("{table} missing from {summary}"))
}

/// `POST /api/v1/admin/retention/purge` with `query` (`""` or `"?…"`).
async fn admin_purge(app: &TestApp, query: &str) -> reqwest::Response {
    app.http
        .post(app.url(&format!("/api/v1/admin/retention/purge{query}")))
        .bearer_auth(ADMIN_TOKEN)
        .fetch()
        .await
}

async fn purge_as_admin(app: &TestApp) -> serde_json::Value {
    admin_purge(app, "").await.json().await.unwrap()
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d").to_string()
}

async fn a_purge_removes_exactly_what_the_settings_say(engine: Engine) {
    let start = Utc::now().trunc_subsecs(0);
    let clock = Clock::fixed(start);
    let app = spawn_as_of(engine, clock.clone(), |settings| {
        settings.services = vec![ServiceEntry {
            name: "console".to_owned(),
            token: SERVICE_TOKEN.to_owned().into(),
        }];
    })
    .await;
    // A accepts, then refuses ten days later; B accepts; A is assessed once; C erases.
    let a = app.new_visitor().await;
    let first = app
        .post_json(&format!("zc_ssaid={a}"), &decision("accept_all"))
        .await;
    let a_cookies = cookies_after(&a, &first);
    let b = app.new_visitor().await;
    app.post_json(&format!("zc_ssaid={b}"), &decision("accept_all"))
        .await;
    let c = app.new_visitor().await;
    let c_decided = app
        .post_json(&format!("zc_ssaid={c}"), &decision("accept_all"))
        .await;
    let erasure = app
        .http
        .post(app.url("/api/v1/me/erase"))
        .json(&serde_json::json!({"confirm": true}))
        .header("cookie", cookies_after(&c, &c_decided))
        .fetch()
        .await;
    assert_eq!(erasure.status(), 200);
    app.http
        .post(app.url("/api/v1/ssaid/assess"))
        .bearer_auth(SERVICE_TOKEN)
        .json(&serde_json::json!({"token": a, "ip": "203.0.113.9", "event": "login"}))
        .fetch()
        .await;
    clock.advance(TimeDelta::days(10));
    let second = app.post_json(&a_cookies, &decision("reject_all")).await;
    assert_eq!(second.status(), 201);
    let before = (
        app.count_rows("consent_events").await,
        app.count_rows("ssaids").await,
        app.count_rows("erasures").await,
        app.count_rows("revoked_consents").await,
    );
    // Revoked: C's erased decision, and A's first, which the refusal withdrew.
    assert_eq!(before, (3, 2, 1, 2));
    // The console's daily counts (day 0: three acceptances; day 10: a refusal) name no one:
    // the erasure left them.
    assert_eq!(app.count_rows("decision_counts").await, 2);
    // So did the overview's tallies of them.
    let day_0 = start.date_naive();
    let tallies = app.storage.decision_tallies(day_0, day_0).await.unwrap();
    let accepted = tallies
        .iter()
        .find(|tally| {
            tally.dimension == Dimension::PolicyVersion
                && tally.counted == Counted::Action("accept_all")
        })
        .unwrap();
    assert_eq!(accepted.decisions, 3);
    let tally_rows = app.count_rows("decision_tallies").await;
    assert!(tally_rows > 8, "{tally_rows}");

    // A dry run a year ahead counts and changes nothing.
    let year = date(start + TimeDelta::days(366));
    let dry = purge_command(&app, &["--dry-run", "--as-of", &year]);
    assert_eq!(rows_of(&dry, "consent_events.ip_prefix"), 3);
    assert_eq!(
        app.texts("SELECT ip_prefix FROM consent_events WHERE ip_prefix IS NULL")
            .await
            .len(),
        0
    );

    // A year ahead: sightings and every network prefix go (90 days); the proof stays (three
    // years after it ends), revocations whose cookies expired go, the erasure's evidence stays.
    let summary = purge_command(&app, &["--as-of", &year]);
    assert_eq!(rows_of(&summary, "ssaid_sightings"), 1);
    assert_eq!(rows_of(&summary, "consent_events.ip_prefix"), 3);
    assert_eq!(rows_of(&summary, "consent_events"), 0);
    assert_eq!(rows_of(&summary, "revoked_consents"), 2);
    assert_eq!(rows_of(&summary, "erasures"), 0);
    assert_eq!(rows_of(&summary, "ssaids"), 0);
    assert_eq!(rows_of(&summary, "decision_counts"), 0);
    assert_eq!(rows_of(&summary, "decision_tallies"), 0);
    assert_eq!(app.count_rows("consent_events").await, 3);
    assert_eq!(app.count_rows("ssaid_sightings").await, 0);
    assert_eq!(app.count_rows("revoked_consents").await, 0);

    // Three years and twenty days on: A's superseded acceptance (ended on day 10) and the
    // erasure record go; the standing choices of A and B stay.
    clock.set(start + TimeDelta::days(3 * 365 + 20));
    let rows = &purge_as_admin(&app).await["rows"];
    assert_eq!(rows["consent_events"], 1);
    assert_eq!(rows["erasures"], 1);
    assert_eq!(rows["ssaids"], 0);
    // `statistics_days` (three years) after day 0 and day 10: both days' counts.
    assert_eq!(rows["decision_counts"], 2);
    assert_eq!(rows["decision_tallies"], tally_rows);
    let actions = app
        .texts("SELECT action FROM consent_events ORDER BY created_at")
        .await;
    assert_eq!(actions, ["accept_all", "reject_all"]);

    // Four years and a month on, even the standing choices have expired and their proof period
    // passed: everything goes, and the SSAID records left without a decision with them.
    clock.set(start + TimeDelta::days(4 * 365 + 30));
    let rows = &purge_as_admin(&app).await["rows"];
    assert_eq!(rows["consent_events"], 2);
    assert_eq!(rows["ssaids"], 2);
    for table in [
        "consent_events",
        "ssaids",
        "erasures",
        "revoked_consents",
        "ssaid_sightings",
        "decision_counts",
        "decision_tallies",
    ] {
        assert_eq!(app.count_rows(table).await, 0, "{table}");
    }
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"zeccloud_retention_purged_rows_total{table="consent_events"} 3"#),
        "{metrics}"
    );
}
