//! Slow clients cannot pin the server: a header-read timeout and a cap on open connections.

use crate::common::*;
use crate::on_both_engines;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

on_both_engines![
    a_client_too_slow_with_its_headers_is_disconnected,
    connections_beyond_the_cap_wait_for_one_to_close,
];

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

async fn a_client_too_slow_with_its_headers_is_disconnected(engine: Engine) {
    let app = spawn_with(engine, |settings| settings.header_read_timeout_secs = 1).await;
    let mut slow = connect(&app).await;
    // Half a request, and then nothing.
    slow.write_all(b"GET /api/v1/policy HTTP/1.1\r\nHost: consent\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection is still open after 10 s");
    // A client that sends its request in time is answered.
    assert_eq!(app.get("/api/v1/policy", "").await.status(), 200);
}

async fn connections_beyond_the_cap_wait_for_one_to_close(engine: Engine) {
    let app = spawn_with(engine, |settings| settings.max_connections = 2).await;
    let first = connect(&app).await;
    let _second = connect(&app).await;
    let fresh_client = || reqwest::Client::builder().build().unwrap();
    let waiting = fresh_client()
        .get(app.url("/api/v1/policy"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(
        waiting.is_err_and(|err| err.is_timeout()),
        "a third connection is served while two are open"
    );
    drop(first);
    let served = fresh_client()
        .get(app.url("/api/v1/policy"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
}
