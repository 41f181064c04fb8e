//! Nobody but the visitor decides: a page on another site (or a sibling subdomain that is not
//! an allowed embedding site) cannot record a decision in the visitor's name.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![
    forged_decisions_from_other_pages_are_refused_and_write_nothing,
    the_services_own_pages_and_other_clients_still_decide,
    gpc_is_the_browsers_signal_not_a_claim,
    a_clients_origin_text_is_not_recorded_and_exports_evaluate_nothing,
];

const EVIL: &str = "https://evil.test";
/// A ZecCloud sibling that is not in `embed_origins`.
const SIBLING: &str = "http://blog.zeccloud.test:3101";

/// The actions recorded for a visitor, oldest first.
async fn actions_of(app: &TestApp, ssaid: &str) -> Vec<&'static str> {
    let events = app.events_of(ssaid).await;
    events.iter().map(|event| event.action.as_str()).collect()
}

/// A form post to `path` with these headers, as a browser sends it.
fn form_post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> reqwest::RequestBuilder {
    let mut request = app
        .http
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}

async fn forged_decisions_from_other_pages_are_refused_and_write_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let rejected = app
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("reject_all"))
        .await;
    assert_eq!(rejected.status(), 201);
    let cookies = cookies_after(&ssaid, &rejected);
    let accept_all = format!("policy_version={POLICY_VERSION}&action=accept_all");

    // The ways a page elsewhere could try it: an auto-submitted form (with or without the
    // visitor's cookies), a no-cors fetch from a sibling, a Referer-only request, a nameless
    // cross-site request, a post to the embed endpoint, a JSON post.
    let evil_page = format!("{EVIL}/{}", app.base);
    let with_cookies = ("cookie", cookies.as_str());
    let cross_site = ("sec-fetch-site", "cross-site");
    let embed_decision = format!("{accept_all}&via=api");
    let forgeries = [
        (
            "/_sf/record_consent",
            vec![cross_site, ("origin", EVIL), ("accept", "text/html")],
        ),
        (
            "/_sf/record_consent",
            vec![
                ("sec-fetch-site", "same-site"),
                ("origin", SIBLING),
                with_cookies,
            ],
        ),
        (
            "/_sf/record_consent",
            vec![("referer", evil_page.as_str()), with_cookies],
        ),
        ("/_sf/record_consent", vec![cross_site, with_cookies]),
        ("/embed/consent", vec![("origin", SIBLING), with_cookies]),
    ]
    .map(|(path, headers)| {
        let body = if path == "/embed/consent" {
            &embed_decision
        } else {
            &accept_all
        };
        form_post(&app, path, &headers, body)
    })
    .into_iter()
    .chain([app
        .http
        .post(app.url("/api/v1/consent"))
        .header("sec-fetch-site", "cross-site")
        .header("origin", EVIL)
        .header("cookie", &cookies)
        .header("content-type", "application/json")
        .body(decision("accept_all"))]);
    for (case, forgery) in forgeries.into_iter().enumerate() {
        let answer = forgery.fetch().await;
        assert!(
            set_cookie_headers(&answer).is_empty(),
            "case {case}: a refused request sets no cookie"
        );
        assert_error_for(answer, 403, "origin_not_allowed", &format!("case {case}")).await;
    }
    let events = app.events_of(&ssaid).await;
    assert_eq!(
        events.len(),
        1,
        "only the visitor's own rejection is recorded"
    );
    let status = app.consent_status(&cookies).await;
    assert_eq!(status["consent"]["action"], "reject_all");
}

async fn the_services_own_pages_and_other_clients_still_decide(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookie = format!("zc_ssaid={ssaid}");
    let accept_all = format!("policy_version={POLICY_VERSION}&action=accept_all");

    // A plain form from the service's own page, in a browser that sends only a Referer.
    let own = app.url("/preferences");
    let headers = [
        ("referer", own.as_str()),
        ("cookie", &cookie),
        ("accept", "text/html"),
    ];
    let own_page = form_post(&app, "/_sf/record_consent", &headers, &accept_all)
        .fetch()
        .await;
    assert_eq!(own_page.status(), 302, "sent back to the page it came from");
    assert!(set_cookie(&own_page, "zc_consent").is_some());

    // The JSON API from a client that is not a browser names no page and is answered.
    let client = app.post_json(&cookie, &decision("reject_all")).await;
    assert_eq!(client.status(), 201);

    // The same form post naming no page at all is not a browser's: refused.
    let nameless = form_post(
        &app,
        "/_sf/record_consent",
        &[("cookie", &cookie)],
        &accept_all,
    )
    .fetch()
    .await;
    assert_error_for(nameless, 403, "origin_not_allowed", "no page named").await;
    assert_eq!(actions_of(&app, &ssaid).await, ["accept_all", "reject_all"]);
}

async fn gpc_is_the_browsers_signal_not_a_claim(engine: Engine) {
    let app = spawn(engine).await;
    let ssaid = app.new_visitor().await;
    let cookie = format!("zc_ssaid={ssaid}");

    // Claimed without the header, through the JSON API or the banner's form: refused.
    let claimed = app.post_json(&cookie, &decision("gpc")).await;
    assert_error(claimed, 422, "gpc_without_signal").await;
    let form = app
        .post_form(
            &cookie,
            "application/json",
            &format!("policy_version={POLICY_VERSION}&action=gpc"),
        )
        .fetch()
        .await;
    assert!(set_cookie(&form, "zc_consent").is_none());
    assert_eq!(form.status(), 422);
    let body: serde_json::Value = form.json().await.unwrap();
    assert_eq!(body["code"], "gpc_without_signal");
    assert!(app.events_of(&ssaid).await.is_empty());

    // Sent by the browser itself: recorded as GPC.
    let signalled = app
        .post_json_with(&cookie, &decision("gpc"), &[("sec-gpc", "1")])
        .await;
    assert_eq!(signalled.status(), 201);
    assert_eq!(actions_of(&app, &ssaid).await, ["gpc"]);
}

/// A client that is not a browser passes the source check with `Sec-Fetch-Site: same-origin`
/// and may name any `Origin`: the decision counts (the visitor's own client chose), but only an
/// origin of the service's or an allowed embedding site is recorded, and no cell of the audit
/// export is one a spreadsheet would evaluate, whatever is stored.
async fn a_clients_origin_text_is_not_recorded_and_exports_evaluate_nothing(engine: Engine) {
    let app = spawn(engine).await;
    let long = format!("https://{}.evil.test", "a".repeat(60_000));
    let mut recorded = Vec::new();
    for origin in [
        "=1+1",
        "=HYPERLINK(\"https://evil.test\")",
        long.as_str(),
        EVIL,
    ] {
        let ssaid = app.new_visitor().await;
        let decided = app
            .post_json_with(
                &format!("zc_ssaid={ssaid}"),
                &decision("accept_all"),
                &[("sec-fetch-site", "same-origin"), ("origin", origin)],
            )
            .await;
        assert_eq!(decided.status(), 201);
        recorded.push(app.events_of(&ssaid).await[0].origin.clone());
    }
    assert_eq!(recorded, vec![None; 4]);
    // The service's own page is still recorded as it is.
    let ssaid = app.new_visitor().await;
    let own = app
        .post_json_with(
            &format!("zc_ssaid={ssaid}"),
            &decision("accept_all"),
            &[("origin", &app.base)],
        )
        .await;
    assert_eq!(own.status(), 201);
    assert_eq!(
        app.events_of(&ssaid).await[0].origin.as_deref(),
        Some(app.base.as_str())
    );

    // A value stored before this rule (or by anyone with the database) is exported as text.
    let id = uuid::Uuid::now_v7();
    let ssaid_column = ssaid_of(&app.tokens, &ssaid).as_str().to_owned();
    app.execute_raw(&format!(
        "INSERT INTO consent_events (id, ssaid, policy_version, categories, action, source, \
         created_at, origin) SELECT '{id}', ssaid, policy_version, categories, action, source, \
         created_at, '=1+1' FROM consent_events WHERE ssaid = '{ssaid_column}'"
    ))
    .await
    .unwrap();
    let today = chrono::Utc::now().date_naive();
    let csv = app
        .get_as_admin(&format!(
            "/api/v1/admin/export?from={today}&to={today}&format=csv"
        ))
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 6);
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} would be evaluated"
            );
        }
    }
    assert!(rows.iter().any(|row| &row[12] == "'=1+1"), "{csv}");
}
