//! The visitor pages are rendered once per kind of visitor and kept (`http::page_cache`): a
//! visitor answered from the cache gets exactly the page a fresh render gives them.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![
    a_kept_page_is_the_page_a_fresh_render_gives,
    a_page_that_records_a_gpc_default_is_never_kept,
];

/// The visitor's cookies and request headers, for one kind of visitor.
pub(crate) struct Visitor {
    headers: Vec<(&'static str, String)>,
}

/// The kinds of visitor `visitor` makes.
pub(crate) const KINDS: [&str; 4] = ["undecided", "undecided, Japanese", "accepted", "rejected"];

pub(crate) async fn visitor(app: &TestApp, kind: &str) -> Visitor {
    let ssaid = app.new_visitor().await;
    let mut cookies = format!("zc_ssaid={ssaid}");
    let mut headers = Vec::new();
    match kind {
        "undecided" => {}
        "undecided, Japanese" => headers.push(("accept-language", "ja".to_owned())),
        "accepted" | "rejected" => {
            let action = if kind == "accepted" {
                "accept_all"
            } else {
                "reject_all"
            };
            let answer = app.post_json(&cookies, &decision(action)).await;
            assert_eq!(answer.status(), 201);
            cookies = cookies_after(&ssaid, &answer);
        }
        other => panic!("no visitor kind {other}"),
    }
    headers.push(("cookie", cookies));
    Visitor { headers }
}

/// The page `visitor` gets at `path`, its nonce replaced by `NONCE` in the body and the
/// Content-Security-Policy, with its status and content type.
pub(crate) async fn page(
    app: &TestApp,
    path: &str,
    visitor: &Visitor,
) -> (u16, String, String, String) {
    let headers: Vec<(&str, &str)> = visitor
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let answer = app.get_with(path, &headers).await;
    let status = answer.status().as_u16();
    let header = |name: &str| {
        answer
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let policy = header("content-security-policy");
    let content_type = header("content-type");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a page's policy names its nonce")
        .to_owned();
    let body = answer.text().await.unwrap();
    assert!(body.contains(&nonce), "the page's scripts carry its nonce");
    (
        status,
        content_type,
        policy.replace(&nonce, "NONCE"),
        body.replace(&nonce, "NONCE"),
    )
}

async fn a_kept_page_is_the_page_a_fresh_render_gives(engine: Engine) {
    let app = spawn(engine).await;
    // Another instance on the same database: its cache is empty, so it renders.
    let fresh = spawn_beside(&app, |_| {}).await;
    for path in ["/", "/notice", "/preferences"] {
        for kind in KINDS {
            let first = visitor(&app, kind).await;
            let second = visitor(&app, kind).await;
            // The first of a kind is rendered and kept; the second is answered from the cache.
            let rendered_first = page(&app, path, &first).await;
            let kept = page(&app, path, &second).await;
            let rendered = page(&fresh, path, &second).await;
            assert_eq!(kept.0, 200, "{path} for {kind}");
            assert_eq!(kept, rendered, "{path} for {kind}: kept and fresh differ");
            if kind == "accepted" || kind == "rejected" || path == "/preferences" {
                // Each visitor's own choice and data: another visitor's would be a leak.
                assert_ne!(rendered_first.3, kept.3, "{path} for {kind}");
            }
        }
    }
    let served = app.metrics().await;
    for line in [
        "zeccloud_pages_served_total{outcome=\"rendered\"} 12",
        "zeccloud_pages_served_total{outcome=\"kept\"} 12",
    ] {
        assert!(served.contains(line), "{line} in {served}");
    }
    let served = fresh.metrics().await;
    assert!(
        served.contains("zeccloud_pages_served_total{outcome=\"rendered\"} 12")
            && !served.contains("outcome=\"kept\""),
        "{served}"
    );

    // A kept `/preferences` still shows the reference of an erasure, and only its shape.
    let someone = visitor(&app, "undecided").await;
    let reference = "01a21e35-6b3d-7309-930c-4b216f05e2d5";
    for (query, shown) in [(reference, true), ("<script>x</script>", false)] {
        let (status, _, _, body) =
            page(&app, &format!("/preferences?erased={query}"), &someone).await;
        assert_eq!(status, 200);
        assert_eq!(body.contains(reference), shown, "{query}");
        assert!(!body.contains("<script>x"), "{query}");
    }
}

async fn a_page_that_records_a_gpc_default_is_never_kept(engine: Engine) {
    let app = spawn(engine).await;
    for _ in 0..2 {
        let ssaid = app.new_visitor().await;
        let answer = app
            .get_with(
                "/",
                &[("cookie", &format!("zc_ssaid={ssaid}")), ("sec-gpc", "1")],
            )
            .await;
        assert_eq!(answer.status(), 200);
        // The GPC default is recorded with the page, and its cookie comes with it.
        assert!(set_cookie(&answer, "zc_consent").is_some());
        let body = answer.text().await.unwrap();
        assert!(body.contains("data-testid=\"gpc-honoured\""), "{body}");
    }
    let served = app.metrics().await;
    assert!(
        served.contains("zeccloud_pages_served_total{outcome=\"not_kept\"} 2")
            && !served.contains("outcome=\"kept\""),
        "{served}"
    );
}
