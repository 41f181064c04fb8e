//! Trust only what is configured: forwarded addresses only from the configured proxies.

use crate::common::*;
use crate::on_both_engines;

on_both_engines![forwarded_addresses_count_only_from_trusted_proxies];

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
