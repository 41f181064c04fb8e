//! Trust only what is configured: forwarded addresses only from the configured proxies.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![
    forwarded_addresses_count_only_from_trusted_proxies,
    the_host_header_chooses_nothing_signed_or_cached,
];

const EVIL_HOST: &str = "evil.test";

/// `/embed.js` as fetched with this `Host`: its ETag and its bytes.
async fn loader_as_seen_from(app: &TestApp, host: Option<&str>) -> (String, String) {
    let mut request = app.http.get(app.url("/embed.js"));
    if let Some(host) = host {
        request = request.header("host", host);
    }
    let response = request.fetch().await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (etag, response.text().await.unwrap())
}

async fn the_host_header_chooses_nothing_signed_or_cached(engine: Engine) {
    // Development (no public_url): the loader names no base at all and finds the service from
    // its own URL, so one cached loader serves every Host.
    let development = spawn(engine).await;
    let (etag, js) = loader_as_seen_from(&development, None).await;
    assert!(!js.contains(r#""base""#), "{js}");
    assert!(js.contains(r#"={"current":"#), "{js}");
    assert_eq!(
        loader_as_seen_from(&development, Some(EVIL_HOST)).await,
        (etag, js)
    );

    // Production: the configured URL, whatever the Host says.
    let public = "https://consent.zeccloud.test";
    let production = spawn_with(engine, |settings| {
        settings.public_url = Some(public.to_owned());
    })
    .await;
    let (_, js) = loader_as_seen_from(&production, Some(EVIL_HOST)).await;
    assert!(js.contains(&format!(r#""base":"{public}""#)), "{js}");
    assert!(!js.contains(EVIL_HOST));

    let receipt = receipt_as_seen_from(&production, EVIL_HOST).await;
    let receipt = receipt.to_string();
    assert!(receipt.contains(&format!("{public}/notice")), "{receipt}");
    assert!(!receipt.contains(EVIL_HOST), "{receipt}");
    // Development keeps the request's host (which shows that the header did reach the service).
    let receipt = receipt_as_seen_from(&development, EVIL_HOST)
        .await
        .to_string();
    assert!(receipt.contains("http://evil.test/notice"), "{receipt}");
}

/// A new decision's receipt, fetched with this `Host`.
async fn receipt_as_seen_from(app: &TestApp, host: &str) -> serde_json::Value {
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    let decided = app.post_json(&cookies, &decision("accept_all")).await;
    let decided: serde_json::Value = decided.json().await.unwrap();
    let id = decided["consent"]["event_id"].as_str().unwrap();
    app.http
        .get(app.url(&format!("/api/v1/consent/{id}/receipt")))
        .header("cookie", &cookies)
        .header("host", host)
        .fetch_json()
        .await
}

/// The network recorded for one decision sent with this `X-Forwarded-For`.
async fn recorded_network(app: &TestApp, forwarded_for: &str) -> Option<String> {
    let ssaid = app.new_visitor().await;
    let answer = app
        .post_json_with(
            &format!("zc_ssaid={ssaid}"),
            &decision("reject_all"),
            &[("x-forwarded-for", forwarded_for)],
        )
        .await;
    assert_eq!(answer.status(), 201);
    app.events_of(&ssaid).await[0].ip_prefix.clone()
}

async fn forwarded_addresses_count_only_from_trusted_proxies(engine: Engine) {
    // The visitor wrote 198.51.100.1 into the header itself; the proxy appended the real
    // peer, 203.0.113.9, and connects from 127.0.0.1.
    let chain = "198.51.100.1, 203.0.113.9";
    let behind_proxy = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["127.0.0.0/8".to_owned()];
    })
    .await;
    assert_eq!(
        recorded_network(&behind_proxy, chain).await.as_deref(),
        Some("203.0.113.0/24")
    );
    // No proxy configured: the header is nobody's word, the peer is the visitor.
    let direct = spawn(engine).await;
    assert_eq!(
        recorded_network(&direct, chain).await.as_deref(),
        Some("127.0.0.0/24")
    );
    // A proxy elsewhere is not this connection's.
    let other_proxy = spawn_with(engine, |settings| {
        settings.trusted_proxies = vec!["10.0.0.0/8".to_owned()];
    })
    .await;
    assert_eq!(
        recorded_network(&other_proxy, chain).await.as_deref(),
        Some("127.0.0.0/24")
    );
}
