//! The Matomo gate against a recording HTTP server standing in for Matomo: exactly what is
//! forwarded for each request shape, and that nothing leaves without consent.
//!
//! Over 400 lines: one scenario per function, each a readable story from request to stored
//! row; the shared steps live in `common.rs`.

use crate::common::{
    CHROME_DESKTOP, Engine, Fetch, TestApp, assert_error, assert_error_for, assert_no_cors,
    cookies_after, decision, spawn_with,
};
use crate::on_both_engines;
use secrecy::SecretString;
use server::domain::tracking::{IDENTIFIER_PARAMS, WithoutConsent};
use server::infra::config::Settings;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

mod smuggling;

const HOST_ORIGIN: &str = "https://www.zeccloud.test";
const MATOMO_TOKEN: &str = "matomo-token-0123456789abcdef";
const JAPANESE: &str = "ja-JP,ja;q=0.9,en;q=0.8";

/// One request as Matomo's endpoint received it.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    query: Option<String>,
    headers: http::HeaderMap,
    body: String,
}

impl Recorded {
    fn query_params(&self) -> Vec<(String, String)> {
        pairs(self.query.as_deref().unwrap_or_default())
    }

    fn body_params(&self) -> Vec<(String, String)> {
        pairs(&self.body)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn pairs(encoded: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A stand-in for Matomo's tracking endpoint that records what it receives.
#[derive(Clone)]
struct Upstream {
    url: String,
    received: Arc<Mutex<Vec<Recorded>>>,
    arrived: Arc<Notify>,
    delay_ms: Arc<AtomicU64>,
    /// Requests answered, after the delay.
    answered: Arc<AtomicU64>,
}

impl Upstream {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let arrived = Arc::new(Notify::new());
        let delay_ms = Arc::new(AtomicU64::new(0));
        let answered = Arc::new(AtomicU64::new(0));
        let (r, a, d, done) = (
            received.clone(),
            arrived.clone(),
            delay_ms.clone(),
            answered.clone(),
        );
        let router = axum::Router::new().fallback(
            move |method: http::Method,
                  uri: http::Uri,
                  headers: http::HeaderMap,
                  body: axum::body::Bytes| {
                let (received, arrived, delay_ms, answered) =
                    (r.clone(), a.clone(), d.clone(), done.clone());
                async move {
                    received.lock().unwrap().push(Recorded {
                        method: method.to_string(),
                        path: uri.path().to_owned(),
                        query: uri.query().map(str::to_owned),
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    arrived.notify_waiters();
                    tokio::time::sleep(Duration::from_millis(delay_ms.load(Ordering::SeqCst)))
                        .await;
                    answered.fetch_add(1, Ordering::SeqCst);
                    http::StatusCode::NO_CONTENT
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/matomo.php", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Self {
            url,
            received,
            arrived,
            delay_ms,
            answered,
        }
    }

    fn received(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until `count` requests have arrived (at most 10 s).
    async fn wait_for(&self, count: usize) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "upstream received {} requests, expected {count}",
                    received.len()
                );
            }
        }
    }
}

struct Gate {
    app: TestApp,
    upstream: Upstream,
}

async fn gate(engine: Engine, adjust: impl FnOnce(&mut Settings)) -> Gate {
    let upstream = Upstream::start().await;
    let url = upstream.url.clone();
    let app = spawn_with(engine, move |settings| {
        settings.matomo.upstream_url = Some(url);
        settings.embed_origins = vec![HOST_ORIGIN.to_owned()];
        adjust(settings);
    })
    .await;
    Gate { app, upstream }
}

impl Gate {
    /// Cookies of a visitor who accepted (or refused) every optional category.
    async fn visitor(&self, accept: bool) -> String {
        let ssaid = self.app.new_visitor().await;
        let action = if accept { "accept_all" } else { "reject_all" };
        let response = self
            .app
            .post_json(&format!("zc_ssaid={ssaid}"), &decision(action))
            .await;
        assert_eq!(response.status(), 201);
        cookies_after(&ssaid, &response)
    }

    /// The Matomo visitor id the service computes for this visitor (as access shows it).
    async fn visitor_id(&self, cookies: &str) -> String {
        let data = self.app.get("/api/v1/me", cookies).await;
        let data: serde_json::Value = data.json().await.unwrap();
        data["matomo"]["visitor_id"].as_str().unwrap().to_owned()
    }

    fn track_get(&self, query: &str, cookies: &str) -> reqwest::RequestBuilder {
        self.app
            .http
            .get(self.app.url(&format!("/matomo.php?{query}")))
            .header("cookie", cookies)
            .header("user-agent", CHROME_DESKTOP)
            .header("accept-language", JAPANESE)
    }

    fn track_post(&self, body: &str, cookies: &str) -> reqwest::RequestBuilder {
        self.app
            .http
            .post(self.app.url("/matomo.php"))
            .header("cookie", cookies)
            .header("origin", HOST_ORIGIN)
            .header("user-agent", CHROME_DESKTOP)
            .header("accept-language", JAPANESE)
            .header(
                "content-type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            )
            .body(body.to_owned())
    }

    /// Proves that nothing sent before reached the upstream: a consented hit sent after it
    /// arrives, and alone (forwards leave in the order they are decided, each at once).
    async fn assert_nothing_forwarded_before(&self) {
        let consented = self.visitor(true).await;
        let before = self.upstream.received().len();
        assert_eq!(before, 0, "{:?}", self.upstream.received());
        let response = self
            .track_get("idsite=99&rec=1&action_name=sentinel", &consented)
            .fetch()
            .await;
        assert_eq!(response.status(), 200);
        let received = self.upstream.wait_for(1).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let received_later = self.upstream.received();
        assert_eq!(received_later.len(), 1, "{received_later:?}");
        assert_eq!(
            param(&received[0].query_params(), "action_name"),
            Some("sentinel")
        );
    }

    async fn metrics(&self) -> String {
        self.app.metrics().await
    }

    /// The value of one metric line, 0 when it has not been counted yet.
    async fn counter(&self, series: &str) -> f64 {
        self.metrics()
            .await
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    async fn wait_for_counter(&self, series: &str, at_least: f64) {
        for _ in 0..100 {
            if self.counter(series).await >= at_least {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{series} never reached {at_least}:\n{}",
            self.metrics().await
        );
    }
}

const PAGE_VIEW: &str = "idsite=1&rec=1&action_name=Home%20%E2%80%93%20ZecCloud&url=https%3A%2F%2Fwww.zeccloud.test%2F%3Fq%3D1\
    &_id=0123456789abcdef&_idts=1700000000&_idvc=3&_viewts=1700000500&_refts=1700000000&_ref=https%3A%2F%2Fsearch.example%2F\
    &cid=0123456789abcdef&uid=alice%40example.com&_idn=0&dimension1=pro&dimension2=alice%40example.com\
    &res=1920x1080&cookie=1&r=123456&ua=forged&cip=10.0.0.1&token_auth=forged&cdt=2020-01-01%2000%3A00%3A00";

/// The parameters the upstream must receive for `query` from our visitor, in order.
/// A consented hit as forwarded: the visitor's privileged fields replaced, and Matomo's
/// visitor id set from the SSAID.
fn expected_forward(query: &str, cip: Option<&str>, visitor_id: &str) -> Vec<(String, String)> {
    let mut expected: Vec<(String, String)> = pairs(query)
        .into_iter()
        // The visitor's own privileged fields never pass; a back-dated `cdt` neither.
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "ua" | "lang" | "cip" | "token_auth" | "cdt" | "cid"
            )
        })
        .collect();
    expected.push(("ua".into(), CHROME_DESKTOP.into()));
    expected.push(("lang".into(), JAPANESE.into()));
    if let Some(cip) = cip {
        expected.push(("cip".into(), cip.into()));
    }
    expected.push(("cid".into(), visitor_id.into()));
    expected
}

async fn image_hit_with_consent_is_forwarded_exactly(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let cookies = gate.visitor(true).await;
    let response = gate.track_get(PAGE_VIEW, &cookies).fetch().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/gif");
    assert!(
        response.headers().get("set-cookie").is_none(),
        "tracking sets no cookie"
    );
    assert_eq!(response.bytes().await.unwrap().len(), 43);

    let received = gate.upstream.wait_for(1).await;
    let hit = &received[0];
    assert_eq!(
        (hit.method.as_str(), hit.path.as_str()),
        ("GET", "/matomo.php")
    );
    let visitor_id = gate.visitor_id(&cookies).await;
    assert_eq!(
        hit.query_params(),
        expected_forward(PAGE_VIEW, None, &visitor_id)
    );
    assert_eq!(
        hit.header("cookie"),
        None,
        "the visitor's cookies never reach Matomo"
    );
    assert!(
        hit.header("user-agent")
            .unwrap()
            .starts_with("zeccloud-consent/")
    );
    assert!(hit.body.is_empty());
    gate.wait_for_counter(
        r#"zeccloud_matomo_hits_total{outcome="forwarded",reason="consent"}"#,
        1.0,
    )
    .await;
    gate.wait_for_counter("zeccloud_matomo_upstream_latency_seconds_count", 1.0)
        .await;

    // Older integrations still name the endpoint piwik.php; Matomo's own URL is kept upstream.
    let legacy = gate
        .app
        .get("/piwik.php?idsite=1&rec=1&action_name=legacy", &cookies)
        .await;
    assert_eq!(legacy.status(), 200);
    let received = gate.upstream.wait_for(2).await;
    assert_eq!(received[1].path, "/matomo.php");
    assert_eq!(
        param(&received[1].query_params(), "action_name"),
        Some("legacy")
    );
}

async fn xhr_and_beacon_posts_are_forwarded_as_form_posts(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let cookies = gate.visitor(true).await;
    let visitor_id = gate.visitor_id(&cookies).await;
    // XMLHttpRequest with withCredentials: Matomo's tracker asks for no image.
    let xhr = format!("{PAGE_VIEW}&send_image=0");
    let response = gate.track_post(&xhr, &cookies).fetch().await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        HOST_ORIGIN
    );
    assert_eq!(
        response.headers()["access-control-allow-credentials"],
        "true"
    );
    // navigator.sendBeacon: the same body shape, no answer read.
    let beacon = "idsite=1&rec=1&e_c=video&e_a=play&_id=0123456789abcdef&ca=1";
    let response = gate
        .track_post(beacon, &cookies)
        .header("sec-fetch-mode", "no-cors")
        .fetch()
        .await;
    assert_eq!(response.status(), 200);

    let received = gate.upstream.wait_for(2).await;
    let mut by_body: BTreeMap<bool, &Recorded> = BTreeMap::new();
    for hit in &received {
        by_body.insert(hit.body.contains("send_image"), hit);
    }
    for (hit, sent) in [(by_body[&true], xhr.as_str()), (by_body[&false], beacon)] {
        assert_eq!(
            (hit.method.as_str(), hit.path.as_str()),
            ("POST", "/matomo.php")
        );
        assert_eq!(hit.query, None);
        assert_eq!(
            hit.header("content-type"),
            Some("application/x-www-form-urlencoded; charset=UTF-8")
        );
        assert_eq!(hit.body_params(), expected_forward(sent, None, &visitor_id));
        assert_eq!(hit.header("cookie"), None);
        assert_eq!(hit.header("origin"), None);
    }
}

async fn bulk_entries_are_forwarded_in_one_request_with_token_and_ip(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.token_auth = Some(SecretString::from(MATOMO_TOKEN.to_owned()));
    })
    .await;
    let cookies = gate.visitor(true).await;
    let visitor_id = gate.visitor_id(&cookies).await;
    let entries = [
        "?idsite=1&rec=1&action_name=One&_id=0123456789abcdef",
        "?idsite=2&rec=1&e_c=cta&e_a=click&_id=0123456789abcdef",
    ];
    let body = serde_json::json!({ "requests": entries, "send_image": 0 }).to_string();
    let response = gate.track_post(&body, &cookies).fetch().await;
    assert_eq!(response.status(), 204);

    let received = gate.upstream.wait_for(1).await;
    let hit = &received[0];
    assert_eq!(
        (hit.method.as_str(), hit.path.as_str()),
        ("POST", "/matomo.php")
    );
    assert_eq!(
        hit.header("content-type"),
        Some("application/json; charset=UTF-8")
    );
    let json: serde_json::Value = serde_json::from_str(&hit.body).unwrap();
    assert_eq!(json["token_auth"], MATOMO_TOKEN);
    assert_eq!(json["send_image"], 0);
    let forwarded = json["requests"].as_array().unwrap();
    assert_eq!(forwarded.len(), 2);
    for (sent, entry) in entries.iter().zip(forwarded) {
        let entry = entry.as_str().unwrap().strip_prefix('?').unwrap();
        // The test client connects from 127.0.0.1; two bytes masked.
        assert_eq!(
            pairs(entry),
            expected_forward(sent.trim_start_matches('?'), Some("127.0.0.0"), &visitor_id)
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        gate.upstream.received().len(),
        1,
        "one upstream request per bulk"
    );

    // A single image hit goes upstream as a form POST carrying the token in its body, so the
    // token never sits in a URL (or in Matomo's access log).
    gate.track_get("idsite=1&rec=1&action_name=Solo", &cookies)
        .fetch()
        .await;
    let received = gate.upstream.wait_for(2).await;
    assert_eq!(received[1].method, "POST");
    assert!(received[1].query_params().is_empty());
    let solo = received[1].body_params();
    assert_eq!(param(&solo, "token_auth"), Some(MATOMO_TOKEN));
    assert_eq!(param(&solo, "cip"), Some("127.0.0.0"));
}

async fn hits_that_come_while_matomo_is_busy_leave_together(engine: Engine) {
    let gate = gate(engine, |settings| settings.matomo.max_in_flight = 1).await;
    gate.upstream.delay_ms.store(400, Ordering::SeqCst);
    let first_visitor = gate.visitor(true).await;
    let first_id = gate.visitor_id(&first_visitor).await;
    let second_visitor = gate.visitor(true).await;
    let second_id = gate.visitor_id(&second_visitor).await;
    gate.track_get("idsite=1&rec=1&action_name=alone", &first_visitor)
        .fetch()
        .await;
    gate.upstream.wait_for(1).await;
    // Matomo holds the one permitted forward: these wait, in the order they came.
    let later = [
        ("idsite=1&rec=1&action_name=two", &first_visitor),
        ("idsite=2&rec=1&action_name=three", &second_visitor),
    ];
    for (query, cookies) in later {
        let answer = gate.track_get(query, cookies).fetch().await;
        assert_eq!(answer.status(), 200, "answered without waiting for Matomo");
    }
    let bulk = serde_json::json!({ "requests": ["?idsite=3&rec=1&action_name=four"] });
    let answer = gate
        .track_post(&bulk.to_string(), &second_visitor)
        .fetch()
        .await;
    assert_eq!(answer.status(), 200);

    let received = gate.upstream.wait_for(2).await;
    let first = &received[0];
    assert_eq!(first.method, "GET", "a hit alone keeps its shape");
    assert_eq!(param(&first.query_params(), "action_name"), Some("alone"));
    let merged = &received[1];
    assert_eq!(
        (merged.method.as_str(), merged.path.as_str()),
        ("POST", "/matomo.php")
    );
    let json: serde_json::Value = serde_json::from_str(&merged.body).unwrap();
    let entries: Vec<Vec<(String, String)>> = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| pairs(entry.as_str().unwrap().strip_prefix('?').unwrap()))
        .collect();
    // Each hit as it would have left alone: its visitor's id, nobody else's.
    assert_eq!(
        entries,
        [
            expected_forward("idsite=1&rec=1&action_name=two", None, &first_id),
            expected_forward("idsite=2&rec=1&action_name=three", None, &second_id),
            expected_forward("idsite=3&rec=1&action_name=four", None, &second_id),
        ]
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        gate.upstream.received().len(),
        2,
        "one request for the three"
    );
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_upstream_errors_total{kind="overloaded"}"#)
            .await,
        0.0
    );
    // The operator sees the merging: two forwards, four hits, the first alone.
    assert_eq!(
        gate.counter("zeccloud_matomo_hits_per_forward_count").await,
        2.0
    );
    assert_eq!(
        gate.counter("zeccloud_matomo_hits_per_forward_sum").await,
        4.0
    );
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_per_forward_bucket{le="1.0"}"#)
            .await,
        1.0
    );
}

async fn nothing_leaves_without_consent(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let refused = gate.visitor(false).await;
    let ssaid_only = gate.app.new_visitor().await;
    // The refused visitor's cookie with analytics switched on: its signature no longer fits.
    let tampered = {
        use base64::Engine as _;
        let (head, token) = refused.split_once("zc_consent=").unwrap();
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = String::from_utf8(engine.decode(&parts[1]).unwrap()).unwrap();
        assert!(payload.contains(r#""analytics":false"#), "{payload}");
        parts[1] = engine.encode(payload.replace(r#""analytics":false"#, r#""analytics":true"#));
        format!("{head}zc_consent={}", parts.join("."))
    };
    let bulk = r#"{"requests":["?idsite=1&rec=1&action_name=a"],"send_image":0}"#;
    for cookies in [
        String::new(),
        format!("zc_ssaid={ssaid_only}"),
        refused.clone(),
        tampered,
    ] {
        let get = gate.track_get(PAGE_VIEW, &cookies).fetch().await;
        assert_eq!(get.status(), 200, "answered as Matomo would");
        assert_eq!(get.bytes().await.unwrap().len(), 43);
        let post = gate
            .track_post("idsite=1&rec=1&send_image=0", &cookies)
            .fetch()
            .await;
        assert_eq!(post.status(), 204);
        let bulk = gate.track_post(bulk, &cookies).fetch().await;
        assert_eq!(bulk.status(), 204);
    }
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="no_consent"}"#)
            .await,
        12.0
    );
    gate.assert_nothing_forwarded_before().await;
}

/// Issue 28, 7: a consent cookie planted in another browser (through the parent domain) must
/// not let the gate forward that browser's hits as consented.
async fn another_browsers_consent_cookie_is_not_honoured_at_the_gate(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let accepted = gate.visitor(true).await;
    let (_, consent) = accepted.split_once("; zc_consent=").unwrap();
    let victim = gate.app.new_visitor().await;
    let planted = format!("zc_ssaid={victim}; zc_consent={consent}");
    let bulk = r#"{"requests":["?idsite=1&rec=1&action_name=a"],"send_image":0}"#;
    let get = gate.track_get(PAGE_VIEW, &planted).fetch().await;
    assert_eq!(get.status(), 200);
    let post = gate
        .track_post("idsite=1&rec=1&send_image=0", &planted)
        .fetch()
        .await;
    assert_eq!(post.status(), 204);
    assert_eq!(gate.track_post(bulk, &planted).fetch().await.status(), 204);
    // The planted cookie without any SSAID is no better.
    let alone = format!("zc_consent={consent}");
    assert_eq!(
        gate.track_get(PAGE_VIEW, &alone).fetch().await.status(),
        200
    );
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="no_consent"}"#)
            .await,
        4.0
    );
    // The visitor who gave it still has their hits forwarded, with their own visitor id.
    let forwarded = gate.track_get(PAGE_VIEW, &accepted).fetch().await;
    assert_eq!(forwarded.status(), 200);
    let received = gate.upstream.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(gate.upstream.received().len(), 1, "only the consented hit");
    let visitor_id = gate.visitor_id(&accepted).await;
    assert_eq!(
        param(&received[0].query_params(), "cid"),
        Some(visitor_id.as_str())
    );
}

async fn consent_before_a_material_change_no_longer_counts(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let cookies = gate.visitor(true).await;
    gate.app.publish_default_as("2026-12-01", true).await;
    gate.track_get("idsite=1&rec=1", &cookies).fetch().await;
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="no_consent"}"#)
            .await,
        1.0
    );
    assert!(gate.upstream.received().is_empty());
}

async fn anonymous_mode_strips_every_identifier(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.without_consent = WithoutConsent::Anonymous;
        settings.matomo.personal_dimensions = vec![2];
        settings.matomo.token_auth = Some(SecretString::from(MATOMO_TOKEN.to_owned()));
    })
    .await;
    let refused = gate.visitor(false).await;
    let response = gate.track_get(PAGE_VIEW, &refused).fetch().await;
    assert_eq!(response.status(), 200);
    let received = gate.upstream.wait_for(1).await;
    // No address, so no token either: the image hit keeps its shape.
    assert_eq!(received[0].method, "GET");
    assert!(received[0].body.is_empty());
    let params = received[0].query_params();
    for key in IDENTIFIER_PARAMS
        .iter()
        .chain(&["dimension2", "cip", "cdt", "cid", "token_auth"])
    {
        assert_eq!(
            param(&params, key),
            None,
            "{key} must not be forwarded: {params:?}"
        );
    }
    assert_eq!(param(&params, "cookie"), Some("0"));
    assert_eq!(param(&params, "dimension1"), Some("pro"));
    assert_eq!(param(&params, "action_name"), Some("Home – ZecCloud"));
    assert_eq!(param(&params, "ua"), Some(CHROME_DESKTOP));
    gate.wait_for_counter(
        r#"zeccloud_matomo_hits_total{outcome="anonymised",reason="no_consent"}"#,
        1.0,
    )
    .await;
}

async fn gpc_without_opt_in_is_always_dropped(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.without_consent = WithoutConsent::Anonymous;
    })
    .await;
    let ssaid = gate.app.new_visitor().await;
    let response = gate
        .track_get(PAGE_VIEW, &format!("zc_ssaid={ssaid}"))
        .header("sec-gpc", "1")
        .fetch()
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="gpc"}"#)
            .await,
        1.0
    );
    assert!(gate.upstream.received().is_empty());

    // An explicit opt-in stands even with the signal on.
    let accepted = gate.visitor(true).await;
    gate.track_get("idsite=1&rec=1&action_name=opted-in", &accepted)
        .header("sec-gpc", "1")
        .fetch()
        .await;
    let received = gate.upstream.wait_for(1).await;
    assert_eq!(
        param(&received[0].query_params(), "action_name"),
        Some("opted-in")
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(gate.upstream.received().len(), 1);
}

/// Issue 29: where opt-out applies, a hit from a visitor who never decided is forwarded (and
/// with GPC it is not); where opt-in applies, or the country is unknown, it is dropped.
async fn without_a_choice_the_regime_decides_the_hit(engine: Engine) {
    use crate::jurisdictions::COUNTRY_HEADER;
    let gate = gate(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.1".to_owned(), "::1".to_owned()];
        settings.country_header = Some(COUNTRY_HEADER.to_owned());
    })
    .await;
    let ssaid = gate.app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    for (country, gpc) in [("KR", false), ("", false), ("US", true), ("XX", false)] {
        let mut hit = gate.track_get("idsite=1&rec=1&action_name=held", &cookies);
        if !country.is_empty() {
            hit = hit.header(COUNTRY_HEADER, country);
        }
        if gpc {
            hit = hit.header("sec-gpc", "1");
        }
        assert_eq!(hit.fetch().await.status(), 200);
    }
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="no_consent"}"#)
            .await,
        3.0
    );
    assert_eq!(
        gate.counter(r#"zeccloud_matomo_hits_total{outcome="dropped",reason="gpc"}"#)
            .await,
        1.0
    );
    assert!(gate.upstream.received().is_empty());
    for (country, name) in [("US", "opt-out"), ("HK", "notice")] {
        gate.track_get(&format!("idsite=1&rec=1&action_name={name}"), &cookies)
            .header(COUNTRY_HEADER, country)
            .fetch()
            .await;
    }
    let received = gate.upstream.wait_for(2).await;
    let names: Vec<_> = received
        .iter()
        .map(|hit| {
            param(&hit.query_params(), "action_name")
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names, ["opt-out", "notice"]);
    // A refusal made in the US holds there.
    let refused = gate
        .app
        .post_json_with(&cookies, &decision("reject_all"), &[(COUNTRY_HEADER, "US")])
        .await;
    assert_eq!(refused.status(), 201);
    let refused = cookies_after(&ssaid, &refused);
    gate.track_get("idsite=1&rec=1&action_name=refused", &refused)
        .header(COUNTRY_HEADER, "US")
        .fetch()
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(gate.upstream.received().len(), 2);
}

async fn slow_or_absent_upstream_is_counted_and_never_waited_for(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.timeout_ms = 300;
        settings.matomo.max_in_flight = 1;
    })
    .await;
    gate.upstream.delay_ms.store(5_000, Ordering::SeqCst);
    let cookies = gate.visitor(true).await;
    let first = gate
        .track_get("idsite=1&rec=1&action_name=slow", &cookies)
        .fetch()
        .await;
    assert_eq!(first.status(), 200, "answered before Matomo does");
    // The only permit is taken by the slow forward: later hits wait for it, as many as one
    // forward takes (200), and one more is shed rather than queued.
    gate.upstream.wait_for(1).await;
    let waiting: Vec<String> = (0..200)
        .map(|n| format!("?idsite=1&rec=1&action_name=waiting-{n}"))
        .collect();
    let bulk = serde_json::json!({ "requests": waiting }).to_string();
    let queued = gate.track_post(&bulk, &cookies).fetch().await;
    assert_eq!(queued.status(), 200);
    let second = gate
        .track_get("idsite=1&rec=1&action_name=shed", &cookies)
        .fetch()
        .await;
    assert_eq!(second.status(), 200);
    gate.wait_for_counter(
        r#"zeccloud_matomo_upstream_errors_total{kind="overloaded"}"#,
        1.0,
    )
    .await;
    // The first forward times out, then the waiting hits leave as one bulk (and time out).
    gate.wait_for_counter(
        r#"zeccloud_matomo_upstream_errors_total{kind="timeout"}"#,
        2.0,
    )
    .await;
    assert_eq!(
        gate.counter("zeccloud_matomo_forwards_in_flight").await,
        0.0
    );
    let received = gate.upstream.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let merged: serde_json::Value = serde_json::from_str(&received[1].body).unwrap();
    let merged: Vec<String> = merged["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            param(&pairs(&entry.as_str().unwrap()[1..]), "action_name")
                .unwrap()
                .to_owned()
        })
        .collect();
    let expected: Vec<String> = (0..200).map(|n| format!("waiting-{n}")).collect();
    assert_eq!(merged, expected, "the shed hit never left");

    // Nothing listens on the upstream port any more.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused_url = format!("http://{}/matomo.php", closed.local_addr().unwrap());
    drop(closed);
    let refused = self::gate(engine, move |settings| {
        settings.matomo.upstream_url = Some(refused_url);
    })
    .await;
    let cookies = refused.visitor(true).await;
    let response = refused.track_get("idsite=1&rec=1", &cookies).fetch().await;
    assert_eq!(response.status(), 200);
    refused
        .wait_for_counter(
            r#"zeccloud_matomo_upstream_errors_total{kind="connect"}"#,
            1.0,
        )
        .await;
}

async fn malformed_requests_get_clear_errors_and_forward_nothing(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let cookies = gate.visitor(true).await;
    // Every malformed shape is refused with a code and a message saying why.
    let check = |response: reqwest::Response,
                 status: u16,
                 code: &'static str,
                 case: &'static str| async move {
        let json = assert_error_for(response, status, code, case).await;
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    };
    for query in ["", "idsite=abc&rec=1", "idsite=1", "idsite=1&rec=1&url=%FF"] {
        let response = gate.track_get(query, &cookies).fetch().await;
        check(response, 400, "invalid_tracking_request", query).await;
    }
    let post = |body: &str| gate.track_post(body, &cookies).fetch();
    for (body, code) in [
        ("{\"requests\": [", "invalid_bulk_json"),
        (r#"{"requests":"?idsite=1&rec=1"}"#, "invalid_bulk_request"),
        (r#"{"send_image":0}"#, "invalid_bulk_request"),
        (
            r#"{"requests":["?idsite=1&rec=1","?idsite=1&rec=1&url=%FF"]}"#,
            "invalid_bulk_request",
        ),
    ] {
        check(post(body).await, 400, code, body).await;
    }
    let huge = format!(
        r#"{{"requests":["?idsite=1&rec=1&action_name={}"]}}"#,
        "a".repeat(10 * 1024 * 1024)
    );
    let too_large = post(&huge).await;
    // The embedding site's script can read why: the rejection carries the CORS headers too.
    assert_eq!(
        too_large.headers()["access-control-allow-origin"],
        HOST_ORIGIN
    );
    check(too_large, 413, "payload_too_large", "10 MiB").await;
    let not_utf8 = gate
        .track_post("", &cookies)
        .body(vec![b'i', b'd', 0xff, 0xfe])
        .fetch()
        .await;
    check(not_utf8, 400, "invalid_tracking_request", "not UTF-8").await;
    assert!(
        gate.counter(r#"zeccloud_matomo_rejected_requests_total{code="invalid_bulk_request"}"#)
            .await
            >= 3.0
    );
    gate.assert_nothing_forwarded_before().await;
}

async fn foreign_origins_are_refused(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    let cookies = gate.visitor(true).await;
    let response = gate
        .app
        .http
        .post(gate.app.url("/matomo.php"))
        .header("cookie", &cookies)
        .header("origin", "https://evil.test")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=UTF-8",
        )
        .body("idsite=1&rec=1")
        .fetch()
        .await;
    assert_no_cors(&response);
    assert_error(response, 403, "origin_not_allowed").await;
    // A CORS preflight from the foreign origin gets no permission either.
    let preflight = gate.app.preflight("/matomo.php", "https://evil.test").await;
    assert_no_cors(&preflight);
    gate.assert_nothing_forwarded_before().await;
}

async fn gate_is_off_without_an_upstream(engine: Engine) {
    let app = spawn_with(engine, |_| {}).await;
    let response = app.get("/matomo.php?idsite=1&rec=1", "").await;
    assert_error(response, 404, "matomo_gate_disabled").await;
    // The counters are on the operations listener only.
    let public = app.http.get(app.url("/metrics")).fetch().await;
    assert_eq!(public.status(), 404);
    assert!(!public.text().await.unwrap().contains("zeccloud_"));
}

on_both_engines!(
    image_hit_with_consent_is_forwarded_exactly,
    xhr_and_beacon_posts_are_forwarded_as_form_posts,
    bulk_entries_are_forwarded_in_one_request_with_token_and_ip,
    nothing_leaves_without_consent,
    consent_before_a_material_change_no_longer_counts,
    anonymous_mode_strips_every_identifier,
    gpc_without_opt_in_is_always_dropped,
    without_a_choice_the_regime_decides_the_hit,
    the_gate_is_never_rate_limited,
    shutdown_waits_for_forwards_in_flight,
    erased_or_withdrawn_consent_is_not_honoured_at_the_gate,
    another_browsers_consent_cookie_is_not_honoured_at_the_gate,
    consented_hits_carry_a_visitor_id_the_service_can_compute_again,
    shutdown_gives_up_on_forwards_at_its_deadline,
    slow_or_absent_upstream_is_counted_and_never_waited_for,
    hits_that_come_while_matomo_is_busy_leave_together,
    malformed_requests_get_clear_errors_and_forward_nothing,
    foreign_origins_are_refused,
    gate_is_off_without_an_upstream,
);

async fn the_gate_is_never_rate_limited(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.rate_limits.decisions_burst = 1;
        settings.rate_limits.new_visitors_burst = 1;
    })
    .await;
    // The visitor used up both budgets of this network.
    let consented = gate.visitor(true).await;
    for _ in 0..30 {
        let forwarded = gate.track_get(PAGE_VIEW, &consented).fetch().await;
        assert_eq!(forwarded.status(), 200);
        let dropped = gate.track_get(PAGE_VIEW, "").fetch().await;
        assert_eq!(dropped.status(), 200);
    }
    assert_eq!(gate.upstream.wait_for(30).await.len(), 30);
}

async fn shutdown_waits_for_forwards_in_flight(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.timeout_ms = 10_000;
        settings.matomo.max_in_flight = 1;
    })
    .await;
    let consented = gate.visitor(true).await;
    gate.upstream.delay_ms.store(1_000, Ordering::SeqCst);
    let response = gate.track_get(PAGE_VIEW, &consented).fetch().await;
    assert_eq!(
        response.status(),
        200,
        "answered before the forward is done"
    );
    gate.upstream.wait_for(1).await;
    assert_eq!(gate.upstream.answered.load(Ordering::SeqCst), 0);
    // A hit that waits for the one permit leaves before the process exits, too.
    let waiting = gate
        .track_get("idsite=1&rec=1&action_name=waiting", &consented)
        .fetch()
        .await;
    assert_eq!(waiting.status(), 200);
    // While it drains, readiness says "send traffic elsewhere" and liveness still answers.
    let ops = gate.app.ops_base.clone();
    let probe = tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            let ready = client.get(format!("{ops}/healthz/ready")).fetch().await;
            if ready.status() == 503 {
                let code =
                    ready.json::<serde_json::Value>().await.unwrap()["error"]["code"].clone();
                let live = client
                    .get(format!("{ops}/healthz/live"))
                    .fetch()
                    .await
                    .status();
                return (code, live);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    // SIGTERM: the server returns only once the forward has been answered, so the process
    // that exits next loses no hit.
    gate.app.server.shut_down().await;
    assert_eq!(gate.upstream.answered.load(Ordering::SeqCst), 2);
    let merged = &gate.upstream.received()[1];
    assert!(merged.body.contains("action_name=waiting"), "{merged:?}");
    let (code, live) = tokio::time::timeout(Duration::from_secs(5), probe)
        .await
        .expect("readiness turned 503 while draining")
        .unwrap();
    assert_eq!(code, "shutting_down");
    assert_eq!(live, 200);
}

async fn shutdown_gives_up_on_forwards_at_its_deadline(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.timeout_ms = 60_000;
        settings.shutdown_timeout_secs = 1;
    })
    .await;
    let consented = gate.visitor(true).await;
    gate.upstream.delay_ms.store(30_000, Ordering::SeqCst);
    let response = gate.track_get(PAGE_VIEW, &consented).fetch().await;
    assert_eq!(response.status(), 200);
    gate.upstream.wait_for(1).await;
    let started = std::time::Instant::now();
    gate.app.server.shut_down().await;
    // Far below the forward's 30 s: the deadline, not the upstream, ended the wait.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(gate.upstream.answered.load(Ordering::SeqCst), 0);
}

async fn erased_or_withdrawn_consent_is_not_honoured_at_the_gate(engine: Engine) {
    let gate = gate(engine, |_| {}).await;
    // One visitor erases their data, another withdraws; both keep a copy of the old cookie.
    let erased = gate.visitor(true).await;
    let erasure = gate
        .app
        .http
        .post(gate.app.url("/api/v1/me/erase"))
        .json(&serde_json::json!({"confirm": true}))
        .header("cookie", &erased)
        .fetch()
        .await;
    assert_eq!(erasure.status(), 200);
    let withdrawn = gate.visitor(true).await;
    let withdrawal = gate.app.post_json(&withdrawn, &decision("withdraw")).await;
    assert_eq!(withdrawal.status(), 201);
    for old in [&erased, &withdrawn] {
        let response = gate.track_get(PAGE_VIEW, old).fetch().await;
        assert_eq!(response.status(), 200);
    }
    gate.assert_nothing_forwarded_before().await;
}

async fn consented_hits_carry_a_visitor_id_the_service_can_compute_again(engine: Engine) {
    let gate = gate(engine, |settings| {
        settings.matomo.without_consent = WithoutConsent::Anonymous;
    })
    .await;
    let consented = gate.visitor(true).await;
    let expected = gate.app.get("/api/v1/me", &consented).await;
    let expected: serde_json::Value = expected.json().await.unwrap();
    let visitor_id = expected["matomo"]["visitor_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The tracker's own id is replaced, on every hit of this browser.
    for _ in 0..2 {
        let response = gate
            .track_get(
                "idsite=1&rec=1&action_name=a&cid=ffffffffffffffff&_id=eeeeeeeeeeeeeeee",
                &consented,
            )
            .fetch()
            .await;
        assert_eq!(response.status(), 200);
    }
    // A refusing visitor's hit, anonymised, carries none.
    let refused = gate.visitor(false).await;
    gate.track_get(
        "idsite=1&rec=1&action_name=b&cid=ffffffffffffffff",
        &refused,
    )
    .fetch()
    .await;
    let received = gate.upstream.wait_for(3).await;
    for hit in &received[..2] {
        assert_eq!(param(&hit.query_params(), "cid"), Some(visitor_id.as_str()));
    }
    assert_eq!(param(&received[2].query_params(), "cid"), None);
}
