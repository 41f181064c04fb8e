//! The tracker audit's service side: the registry in machine form (`GET /api/v1/registry`),
//! `server scan --record` over the service's own pages (clean, kept, listed), and the purge
//! of old scans. The test site's violations are checked in a browser (end2end/tests/scan.spec.ts).

use crate::common::*;
use crate::on_both_engines;
use app::domain::Policy;
use chrono::{TimeDelta, Utc};
use server::domain::retention::RetentionSettings;
use server::domain::scan::registry::Registry;
use server::storage::scans::NewScan;

on_both_engines![
    the_registry_is_the_published_policy_as_this_deployment_sets_it,
    a_scan_of_the_services_own_pages_is_clean_and_kept,
    old_scans_are_purged_with_the_statistics,
];

async fn registry(app: &TestApp) -> Registry {
    let answer = app.get("/api/v1/registry", "").await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["cache-control"],
        "public, max-age=60",
        "a crawler's many requests are spared"
    );
    answer.json().await.unwrap()
}

async fn the_registry_is_the_published_policy_as_this_deployment_sets_it(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.cookie_domain = Some("zeccloud.test".to_owned());
    })
    .await;
    let policy = Policy::from_toml(app::DEFAULT_POLICY_TOML).unwrap();
    let served = registry(&app).await;
    // Plain http: the SSAID is `zc_ssaid`, as the browser really gets it.
    assert_eq!(
        served,
        Registry::from_policy(
            &policy,
            Some("zeccloud.test"),
            &[("__Host-zc_ssaid", "zc_ssaid")]
        )
    );
    assert_eq!(served.version, POLICY_VERSION);
    let names: Vec<&str> = served.identifiers.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "zc_session",
            "zc_ssaid",
            "zc_consent",
            "mtm_consent_removed",
            "zc_lang",
            "zc.lang",
            "_pk_id.*",
            "_pk_ses.*",
            "_pk_ref.*",
            "mtm_consent"
        ]
    );
    let pk = &served.identifiers[6];
    assert_eq!(
        (pk.category.as_str(), pk.required, pk.max_age_secs),
        ("analytics", false, Some(13 * 31 * 86_400))
    );

    // A publication is the registry at once.
    app.publish_default_as("2026-12-31", false).await;
    assert_eq!(registry(&app).await.version, "2026-12-31");
}

async fn a_scan_of_the_services_own_pages_is_clean_and_kept(engine: Engine) {
    let app = spawn(engine).await;
    let json = tempfile::NamedTempFile::new().unwrap();
    let output = app
        .run_command_async(&[
            "scan",
            &app.url("/"),
            "--max-pages",
            "3",
            "--service",
            &app.base,
            "--record",
            "--settle-ms",
            "300",
            // Two cores shared with the rest of the suite: a slow page is not a finding.
            "--page-timeout",
            "120",
            "--json",
            json.path().to_str().unwrap(),
        ])
        .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(": clean"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json.path()).unwrap()).unwrap();
    assert_eq!(report["violations"], 0);
    let pages = report["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 3, "{report:#}");
    assert_eq!(pages[0]["url"], app.url("/"));
    // The rejected and accepted profiles were chosen through the page's own banner.
    assert_eq!(pages[0]["observed"]["rejected"]["choice"], "banner");
    assert_eq!(pages[0]["observed"]["accepted"]["choice"], "banner");
    // Only names: no cookie's value is kept anywhere in the report.
    let cookies = &pages[0]["observed"]["accepted"]["cookies"];
    let names: Vec<&str> = cookies
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["zc_consent", "zc_ssaid"]);
    assert!(cookies[0].get("value").is_none());

    let kept = app.storage.recent_scans(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (
            kept[0].pages,
            kept[0].violations,
            kept[0].start_urls.as_str()
        ),
        (3, 0, app.url("/").as_str())
    );
    let stored: serde_json::Value =
        serde_json::from_str(&app.storage.scan_report(kept[0].id).await.unwrap().unwrap()).unwrap();
    assert_eq!(stored["pages"], report["pages"]);

    // The console lists it beside the passive findings, and shows it page by page.
    let session = app.console_session().await;
    let list = app.get("/admin/identifiers", &session).await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    let link = format!(r#"<a href="/admin/scans/{}">"#, kept[0].id);
    assert!(
        html.contains("Last scans") && html.contains(&link),
        "{html}"
    );
    let detail = app
        .get(&format!("/admin/scans/{}", kept[0].id), &session)
        .await;
    assert_eq!(detail.status(), 200);
    assert!(detail.headers().contains_key("content-security-policy"));
    let html = detail.text().await.unwrap();
    assert!(
        html.contains(&format!("{}</code>: clean", app.url("/"))),
        "{html}"
    );
    assert!(html.contains("Nothing undeclared: no registry entry to draft."));
    for missing in ["/admin/scans/999999", "/admin/scans/abc"] {
        assert_error_for(app.get(missing, &session).await, 404, "not_found", missing).await;
    }
    // Signed out, nothing.
    let anonymous = app.get(&format!("/admin/scans/{}", kept[0].id), "").await;
    assert_ne!(anonymous.status(), 200);
}

async fn old_scans_are_purged_with_the_statistics(engine: Engine) {
    let app = spawn(engine).await;
    let now = Utc::now();
    let keep_days = i64::from(RetentionSettings::default().statistics_days);
    for age_days in [keep_days + 1, keep_days - 1] {
        let finished_at = now - TimeDelta::days(age_days);
        app.storage
            .record_scan(&NewScan {
                started_at: finished_at - TimeDelta::seconds(30),
                finished_at,
                start_urls: format!("https://www.zeccloud.com/{age_days}"),
                pages: 1,
                violations: 0,
                report: "{}".to_owned(),
            })
            .await
            .unwrap();
    }
    let cutoffs = RetentionSettings::default().cutoffs(90, TimeDelta::days(365), now);
    let report = app
        .storage
        .purge(&cutoffs, false, 1000, &|_, _| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report["tracker_scans"], 1);
    let left = app.storage.recent_scans(10).await.unwrap();
    assert_eq!(
        left.iter()
            .map(|s| s.start_urls.as_str())
            .collect::<Vec<_>>(),
        [format!("https://www.zeccloud.com/{}", keep_days - 1)]
    );
}
