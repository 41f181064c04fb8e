//! A crawler costs nothing: requests that never keep cookies write no rows, whatever they
//! send, and a visitor's GPC signal is recorded once, not on every view.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![
    cookieless_requests_write_nothing,
    gpc_is_recorded_once_per_returning_visitor,
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
