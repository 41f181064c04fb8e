//! Faults on PostgreSQL: the database goes away and comes back under a running service.
//! Decisions are refused at once with 503 and `Retry-After` (never a hang, never a 2xx that
//! was not stored), pages answer from the cached policy, and decisions succeed again without a
//! restart. The database is reached through a TCP proxy the test cuts.

use crate::common::*;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
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
        server::infra::clock::Clock::system(),
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
    // The next decisions do not wait for the pool again: storage was unreachable a moment ago.
    let started = Instant::now();
    let again = app.post_json(&cookies, &decision("reject_all")).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "answered in {:?}",
        started.elapsed()
    );
    assert_error(again, 503, "storage_unavailable").await;
    assert!(
        set_cookie(&refused, "zc_consent").is_none(),
        "nothing saved, nothing set"
    );
    assert_error(refused, 503, "storage_unavailable").await;
    // Without JavaScript the visitor gets a page that says the choice was not saved.
    let body = format!("policy_version={POLICY_VERSION}&action=reject_all&language=ko");
    let page = app
        .post_form(&cookies, "text/html", &body)
        .header("referer", app.url("/notice?__path=x&__err=y"))
        .fetch()
        .await;
    assert_eq!(page.status(), 503);
    assert_eq!(page.headers()["retry-after"], "5");
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.headers().get("location").is_none());
    let html = page.text().await.unwrap();
    assert!(
        html.contains(app::i18n::ui_text("en").not_saved_unavailable),
        "{html}"
    );
    assert!(html.contains(r#"data-error-code="storage_unavailable""#));
    assert!(html.contains(r#"<a href="/notice">"#), "{html}");
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
    // Readiness reports the outage but stays ready: storage is every instance's, and a balancer
    // dropping them all would take the pages above down with it.
    let ready = app.ops_get("/healthz/ready").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.text().await.unwrap(),
        r#"{"status":"ok","storage":"unavailable"}"#
    );
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
    // The hydrated banner delivers the choice it kept, saying how long ago it was made.
    let late = format!(
        r#"{{"policy_version":"{POLICY_VERSION}","action":"accept_all","decided_ms_ago":7000}}"#
    );
    assert_eq!(app.post_json(&cookies, &late).await.status(), 201);
    // Exactly what was acknowledged is on record: the first acceptance, the refusal, and the
    // late acceptance with the time it was made.
    let events = app.events_of(&ssaid).await;
    let actions: Vec<&str> = events.iter().map(|event| event.action.as_str()).collect();
    assert_eq!(actions, ["accept_all", "reject_all", "accept_all"]);
    assert_eq!(events[1].made_at, None);
    assert_eq!(
        events[2].made_at,
        Some(events[2].created_at - chrono::TimeDelta::milliseconds(7000))
    );
}

/// A free port on loopback, for a process started by the test.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `server` binary serving `database_url` on `port`, as an operator starts it.
fn start_server(database_url: &str, port: u16, dir: &std::path::Path) -> std::process::Child {
    use base64::Engine as _;
    std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", database_url)
        .env("ZC_LISTEN", format!("127.0.0.1:{port}"))
        .env("ZC_OPS_LISTEN", "127.0.0.1:0")
        .env(
            "ZC_SIGNING_KEY",
            base64::engine::general_purpose::STANDARD.encode(SIGNING_KEY),
        )
        .env("ZC_COOKIE_SECURE", "false")
        .env("ZC_RATE_LIMITS__DECISIONS_PER_MINUTE", "1000000")
        .env("ZC_RATE_LIMITS__DECISIONS_BURST", "1000000")
        .env("ZC_RATE_LIMITS__NEW_VISITORS_PER_MINUTE", "1000000")
        .env("ZC_RATE_LIMITS__NEW_VISITORS_BURST", "1000000")
        .env("RUST_LOG", "off")
        .env_remove("ZC_CONFIG")
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_until_serving(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/api/v1/policy")).await.is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fresh visitors deciding in a loop until the server goes away; the consent ids of the
/// decisions answered 201.
async fn decide_until_gone(base: String, answered: Arc<AtomicUsize>) -> Vec<uuid::Uuid> {
    let client = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    loop {
        let Ok(first) = client.get(format!("{base}/api/v1/consent")).send().await else {
            return acknowledged;
        };
        let Some(ssaid) = set_cookie(&first, "zc_ssaid") else {
            return acknowledged;
        };
        let sent = client
            .post(format!("{base}/api/v1/consent"))
            .header("cookie", format!("zc_ssaid={ssaid}"))
            .header("content-type", "application/json")
            .body(decision("accept_all"))
            .send()
            .await;
        let Ok(answer) = sent else {
            return acknowledged;
        };
        if answer.status() != 201 {
            continue;
        }
        // A 201 whose body did not arrive is not an acknowledgement the client saw.
        if let Ok(body) = answer.json::<serde_json::Value>().await
            && let Some(id) = body["consent"]["event_id"].as_str()
        {
            acknowledged.push(id.parse().unwrap());
            answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The `server` binary on a fresh SQLite database with eight clients deciding through it.
struct UnderLoad {
    dir: tempfile::TempDir,
    database_url: String,
    port: u16,
    server: std::process::Child,
    clients: Vec<JoinHandle<Vec<uuid::Uuid>>>,
    answered: Arc<AtomicUsize>,
}

impl UnderLoad {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}", dir.path().join("consent.db").display());
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let server = start_server(&database_url, port, dir.path());
        wait_until_serving(&base).await;
        let answered = Arc::new(AtomicUsize::new(0));
        let clients = (0..8)
            .map(|_| tokio::spawn(decide_until_gone(base.clone(), Arc::clone(&answered))))
            .collect();
        Self {
            dir,
            database_url,
            port,
            server,
            clients,
            answered,
        }
    }

    /// Waits until the clients have had `count` decisions acknowledged: a fixed sleep measures
    /// the machine's speed, not the load.
    async fn until_answered(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.answered.load(Ordering::Relaxed) < count {
            assert!(Instant::now() < deadline, "the load did not get going");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Once the server is gone: every decision answered 201 must be on record.
    async fn assert_every_acknowledged_decision_stored(&mut self) {
        let mut acknowledged = Vec::new();
        for client in self.clients.drain(..) {
            acknowledged.extend(client.await.unwrap());
        }
        assert!(
            acknowledged.len() >= 50,
            "the load was real: {}",
            acknowledged.len()
        );
        let storage = server::storage::connect(&self.database_url).await.unwrap();
        let mut missing = 0;
        for id in &acknowledged {
            if storage.find_consent_event(*id).await.unwrap().is_none() {
                missing += 1;
            }
        }
        assert_eq!(missing, 0, "of {} acknowledged", acknowledged.len());
    }
}

#[tokio::test]
async fn kill_9_on_sqlite_loses_no_acknowledged_decision() {
    let mut load = UnderLoad::start().await;
    load.until_answered(50).await;
    load.server.kill().unwrap(); // SIGKILL: no shutdown, no flush, no goodbye.
    load.server.wait().unwrap();
    load.assert_every_acknowledged_decision_stored().await;
    // And the service starts again on that database.
    let mut restarted = start_server(&load.database_url, load.port, load.dir.path());
    wait_until_serving(&format!("http://127.0.0.1:{}", load.port)).await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

#[tokio::test]
async fn a_material_version_published_through_one_instance_reaches_the_others_in_a_refresh() {
    fn refresh_each_second(settings: &mut server::infra::config::Settings) {
        settings.policy_refresh_secs = 1;
    }
    let first = spawn_with(Engine::Postgres, refresh_each_second).await;
    let others = [
        spawn_beside(&first, refresh_each_second).await,
        spawn_beside(&first, refresh_each_second).await,
    ];
    // A visitor of the third instance decides on the current version.
    let ssaid = others[1].new_visitor().await;
    let decided = others[1]
        .post_json(&format!("zc_ssaid={ssaid}"), &decision("accept_all"))
        .await;
    let cookies = cookies_after(&ssaid, &decided);
    first.publish_default_as("2027-02-01", true).await;
    let published = Instant::now();
    for other in &others {
        loop {
            let status = other.consent_status(&cookies).await;
            if status["policy_version"] == "2027-02-01" {
                // The material change asks that visitor again, on every instance.
                assert_eq!(status["prompt"]["reason"], "notice_changed");
                break;
            }
            assert!(
                published.elapsed() < Duration::from_secs(3),
                "not served within the refresh period (1 s) and a margin"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn sigterm_under_load_finishes_what_was_started_and_exits_0() {
    let mut load = UnderLoad::start().await;
    load.until_answered(50).await;
    let terminated = std::process::Command::new("kill")
        .args(["-TERM", &load.server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let started = Instant::now();
    let exit = load.server.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "within the drain deadline (10 s)"
    );
    load.assert_every_acknowledged_decision_stored().await;
}
