//! Faults on PostgreSQL: the database goes away and comes back under a running service.
//! Decisions are refused at once with 503 and `Retry-After` (never a hang, never a 2xx that
//! was not stored), pages answer from the cached policy, and decisions succeed again without a
//! restart. The database is reached through a TCP proxy the test cuts.

use crate::common::*;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// A TCP proxy to `upstream` that can be cut (the port refuses, open connections close) and
/// restored on the same port.
struct Cuttable {
    addr: SocketAddr,
    upstream: SocketAddr,
    forwarding: Mutex<Option<JoinHandle<()>>>,
}

impl Cuttable {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = Self {
            addr: listener.local_addr().unwrap(),
            upstream,
            forwarding: Mutex::new(None),
        };
        proxy.forward(listener);
        proxy
    }

    fn forward(&self, listener: TcpListener) {
        let upstream = self.upstream;
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) closes every connection.
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self.forwarding.lock().unwrap() = Some(task);
    }

    fn cut(&self) {
        if let Some(task) = self.forwarding.lock().unwrap().take() {
            task.abort();
        }
    }

    async fn restore(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => panic!("rebinding {}: {err}", self.addr),
            }
        };
        self.forward(listener);
    }
}

#[tokio::test]
async fn postgres_going_away_is_answered_503_at_once_and_recovered_from_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(Engine::Postgres, &dir).await;
    let (prefix, rest) = url.split_once("@").unwrap();
    let (host_port, database) = rest.split_once('/').unwrap();
    let upstream: SocketAddr = host_port.parse().unwrap();
    let proxy = Arc::new(Cuttable::start(upstream).await);
    let through = format!("{prefix}@{}/{database}", proxy.addr);
    let app = start_through(
        Engine::Postgres,
        through,
        url,
        dir,
        server::clock::Clock::system(),
        |settings| settings.policy_refresh_secs = 1,
    )
    .await;
    let ssaid = app.new_visitor().await;
    let cookies = format!("zc_ssaid={ssaid}");
    assert_eq!(
        app.post_json(&cookies, &decision("accept_all"))
            .await
            .status(),
        201
    );

    proxy.cut();
    // Past the policy's refresh period: the next page tries to reread it, once.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let started = Instant::now();
    let refused = app.post_json(&cookies, &decision("reject_all")).await;
    let took = started.elapsed();
    // At most 0.9 s by design (200 ms for the policy's reread, 700 ms for a connection); the
    // bound leaves room for a loaded machine, and is far from a pool's usual 30 s.
    assert!(took < Duration::from_millis(1500), "answered in {took:?}");
    assert_eq!(refused.headers()["retry-after"], "5");
    assert!(
        set_cookie(&refused, "zc_consent").is_none(),
        "nothing saved, nothing set"
    );
    assert_error(refused, 503, "storage_unavailable").await;
    // Pages and the loader answer from the cached policy, without waiting on the database.
    for path in ["/", "/notice", "/embed.js", "/api/v1/policy"] {
        let started = Instant::now();
        let answer = app.get(path, "").await;
        assert_eq!(answer.status(), 200, "{path}");
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{path}: {:?}",
            started.elapsed()
        );
    }
    // Readiness says so, for the load balancer.
    assert_error(
        app.ops_get("/healthz/ready").await,
        503,
        "storage_unavailable",
    )
    .await;
    assert_eq!(app.ops_get("/healthz/live").await.status(), 200);

    proxy.restore().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let answer = app.post_json(&cookies, &decision("reject_all")).await;
        if answer.status() == 201 {
            break;
        }
        assert_eq!(answer.status(), 503, "only 503 while recovering");
        assert!(
            Instant::now() < deadline,
            "decisions still refused 5 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Exactly what was acknowledged is on record: the first acceptance and the last refusal.
    let actions: Vec<String> = app
        .events_of(&ssaid)
        .await
        .iter()
        .map(|event| event.action.as_str().to_owned())
        .collect();
    assert_eq!(actions, ["accept_all", "reject_all"]);
}
