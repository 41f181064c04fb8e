//! A crawler costs nothing: requests that never keep cookies write no rows, whatever they
//! send, and a visitor's GPC signal is recorded once, not on every view.

use crate::common::*;
use crate::on_both_engines;
use std::time::{Duration, Instant};

on_both_engines![
    cookieless_requests_write_nothing,
    gpc_is_recorded_once_per_returning_visitor,
    decisions_are_limited_per_client_network,
    new_visitors_are_limited_per_client_network,
    admin_token_guesses_spend_the_sign_in_budget_per_network,
];

/// Rows in the tables a request could grow.
async fn stored_rows(app: &TestApp) -> (i64, i64) {
    (
        app.count_rows("ssaids").await,
        app.count_rows("consent_events").await,
    )
}

async fn cookieless_requests_write_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let paths = [
        "/",
        "/notice",
        "/preferences",
        "/embed/banner",
        "/embed/preferences",
        "/api/v1/consent",
        "/api/no-such-thing",
        "/_sf/no-such-function",
        "/no-such-page",
    ];
    for path in paths {
        for gpc in [None, Some(("sec-gpc", "1"))] {
            let headers: Vec<(&str, &str)> = gpc.into_iter().collect();
            let response = app.get_with(path, &headers).await;
            assert!(
                set_cookie(&response, "zc_consent").is_none(),
                "{path} {gpc:?} decided for a visitor who never came back"
            );
            assert_eq!(stored_rows(&app).await, (0, 0), "{path} {gpc:?}");
        }
    }
}

async fn gpc_is_recorded_once_per_returning_visitor(engine: Engine) {
    let app = spawn(engine).await;
    let gpc = ("sec-gpc", "1");

    // First view: the signal is honoured at once, and nothing is written yet.
    let first = app.get_with("/", &[gpc]).await;
    let ssaid = set_cookie(&first, "zc_ssaid").expect("an SSAID is issued");
    assert!(set_cookie(&first, "zc_consent").is_none());
    let page = first.text().await.unwrap();
    assert!(page.contains(r#"data-testid="gpc-honoured""#));
    assert_eq!(stored_rows(&app).await, (0, 0));

    // The browser comes back with its SSAID: GPC is recorded, with the SSAID, once.
    let second = app
        .get_with("/", &[("cookie", &format!("zc_ssaid={ssaid}")), gpc])
        .await;
    assert_eq!(second.status(), 200);
    let consent = set_cookie(&second, "zc_consent").expect("the GPC default is recorded");
    assert_eq!(stored_rows(&app).await, (1, 1));
    let cookies = format!("zc_ssaid={ssaid}; zc_consent={consent}");
    for path in ["/", "/api/v1/consent", "/preferences"] {
        let response = app.get_with(path, &[("cookie", &cookies), gpc]).await;
        assert_eq!(response.status(), 200, "{path}");
        assert!(set_cookie(&response, "zc_consent").is_none(), "{path}");
    }
    let events = app.events_of(&ssaid).await;
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["gpc"]
    );
    assert_eq!(stored_rows(&app).await, (1, 1));
}

/// A decision sent through a trusted proxy on behalf of `network`.
async fn decide_from(app: &TestApp, cookies: &str, network: &str) -> reqwest::Response {
    app.post_json_with(
        cookies,
        &decision("reject_all"),
        &[("x-forwarded-for", network)],
    )
    .await
}

/// The `Retry-After` of a 429, which must say to wait at least a second.
async fn assert_rate_limited(response: reqwest::Response) {
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(set_cookie(&response, "zc_consent").is_none());
    assert!(set_cookie(&response, "zc_ssaid").is_none());
    assert_error(response, 429, "rate_limited").await;
}

async fn decisions_are_limited_per_client_network(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned()];
        settings.rate_limits.decisions_burst = 3;
        settings.rate_limits.decisions_per_minute = 1;
    })
    .await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    for _ in 0..3 {
        assert_eq!(
            decide_from(&app, &cookies, "203.0.113.9").await.status(),
            201
        );
    }
    assert_rate_limited(decide_from(&app, &cookies, "203.0.113.9").await).await;
    // Every way of deciding draws on the same budget: the banner's form too.
    let form = app
        .post_form(
            &cookies,
            "application/json",
            &format!("policy_version={POLICY_VERSION}&action=accept_all"),
        )
        .header("x-forwarded-for", "203.0.113.9")
        .fetch()
        .await;
    assert_rate_limited(form).await;
    assert_eq!(
        app.events_of(&ssaid).await.len(),
        3,
        "nothing over budget is written"
    );

    // Reading is never limited, and another network has its own budget.
    let status = app
        .get_with(
            "/api/v1/consent",
            &[("cookie", &cookies), ("x-forwarded-for", "203.0.113.9")],
        )
        .await;
    assert_eq!(status.status(), 200);
    assert_eq!(
        decide_from(&app, &cookies, "198.51.100.7").await.status(),
        201
    );
    assert_eq!(app.events_of(&ssaid).await.len(), 4);

    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"zeccloud_rate_limited_total{limit="decisions"} 2"#),
        "{metrics}"
    );
}

async fn new_visitors_are_limited_per_client_network(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned()];
        settings.rate_limits.new_visitors_burst = 2;
        settings.rate_limits.new_visitors_per_minute = 1;
    })
    .await;
    let from = |network| [("x-forwarded-for", network)];
    let first = app.get_with("/", &from("203.0.113.9")).await;
    let ssaid = set_cookie(&first, "zc_ssaid").expect("issued");
    assert_eq!(app.get_with("/", &from("203.0.113.9")).await.status(), 200);
    assert_rate_limited(app.get_with("/", &from("203.0.113.9")).await).await;
    // A visitor who kept the SSAID is not new; static files and other networks are unaffected.
    let returning = app
        .get_with(
            "/",
            &[
                ("cookie", &format!("zc_ssaid={ssaid}")),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        )
        .await;
    assert_eq!(returning.status(), 200);
    assert_eq!(
        app.get_with("/api/v1/policy", &from("203.0.113.9"))
            .await
            .status(),
        200
    );
    assert_eq!(app.get_with("/", &from("198.51.100.7")).await.status(), 200);
}

/// `GET /api/v1/admin/policies` with `token`, through a trusted proxy on behalf of `network`.
async fn admin_from(app: &TestApp, token: &str, network: &str) -> reqwest::Response {
    app.http
        .get(app.url("/api/v1/admin/policies"))
        .bearer_auth(token)
        .header("x-forwarded-for", network)
        .fetch()
        .await
}

async fn admin_token_guesses_spend_the_sign_in_budget_per_network(engine: Engine) {
    let app = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned()];
        settings.rate_limits.sign_in_burst = 3;
        settings.rate_limits.sign_in_per_minute = 1;
    })
    .await;
    // A network that never guessed wrong is not counted: scripts keep working.
    for _ in 0..5 {
        assert_eq!(
            admin_from(&app, ADMIN_TOKEN, "203.0.113.9").await.status(),
            200
        );
    }
    // Each wrong token waits a second, as at the console's sign-in, and spends its budget.
    let started = Instant::now();
    for _ in 0..3 {
        let wrong = admin_from(&app, "not-the-admin-token-0", "203.0.113.9").await;
        assert_error(wrong, 401, "invalid_token").await;
    }
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "wrong tokens wait"
    );
    // Over budget: 429 at once, for a wrong token and the right one alike (a right guess must
    // not stand out), and the console's sign-in form shares the budget.
    let started = Instant::now();
    assert_rate_limited(admin_from(&app, "not-the-admin-token-1", "203.0.113.9").await).await;
    assert_rate_limited(admin_from(&app, ADMIN_TOKEN, "203.0.113.9").await).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a 429 does not wait"
    );
    let sign_in = app
        .http
        .post(app.url("/admin/sign-in"))
        .header("sec-fetch-site", "same-origin")
        .header("origin", &app.base)
        .header("x-forwarded-for", "203.0.113.9")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={ADMIN_TOKEN}"))
        .fetch()
        .await;
    assert_rate_limited(sign_in).await;
    // Another network has its own budget.
    assert_eq!(
        admin_from(&app, ADMIN_TOKEN, "198.51.100.7").await.status(),
        200
    );
    let elsewhere = admin_from(&app, "not-the-admin-token-2", "198.51.100.7").await;
    assert_error(elsewhere, 401, "invalid_token").await;

    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"zeccloud_rate_limited_total{limit="sign_in"} 3"#),
        "{metrics}"
    );
}
