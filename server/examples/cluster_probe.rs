//! The cluster harness's probes for the faults that are more than decisions under load. Each
//! subcommand prints one summary line of `key=value` pairs ending in `holds=yes|NO`; what did
//! not hold is described on standard error.
//!   cluster_probe upstream --listen ADDR --delay-ms N
//!       a fake Matomo: answers every request 204 after the delay; GET /count says how many came
//!   cluster_probe outage --base URL --down-secs S --stop CMD --start CMD --upstream URL
//!       probes decisions, pages, the loader and the gate through the balancer while CMD stops
//!       PostgreSQL, and measures how soon decisions succeed after it is started again
//!   cluster_probe matomo --base URL --secs S --ops URL,… --pids PID,… --expect-error KIND
//!       tracking hits from visitors who granted analytics; the gate's answers, in-flight
//!       forwards and the instances' RSS
//!   cluster_probe publish --admin URL --token T --file F --instances URL,… --within S
//!       publishes a material policy through one instance and polls every instance for it
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use clap::{Parser, Subcommand};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;
use common::{policy_version, set_cookie};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Upstream {
        #[arg(long)]
        listen: String,
        #[arg(long, default_value_t = 0)]
        delay_ms: u64,
    },
    Outage(Outage),
    Matomo(Matomo),
    Publish(Publish),
}

#[derive(clap::Args)]
struct Outage {
    /// The balancer.
    #[arg(long)]
    base: String,
    #[arg(long)]
    down_secs: f64,
    /// Executables stopping and starting PostgreSQL, each returning once it is done.
    #[arg(long)]
    stop: String,
    #[arg(long)]
    start: String,
    /// The fake Matomo, for its count of hits received.
    #[arg(long)]
    upstream: String,
    #[arg(long, default_value_t = 1.0)]
    answer_within: f64,
    #[arg(long, default_value_t = 5.0)]
    recover_within: f64,
}

#[derive(clap::Args)]
struct Matomo {
    #[arg(long)]
    base: String,
    #[arg(long, default_value_t = 8)]
    clients: usize,
    #[arg(long)]
    secs: f64,
    /// The instances' operations listeners and process ids, in the same order.
    #[arg(long, value_delimiter = ',')]
    ops: Vec<String>,
    #[arg(long, value_delimiter = ',')]
    pids: Vec<u32>,
    /// The gate's settings the answers are held to.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    #[arg(long, default_value_t = 64)]
    max_in_flight: u64,
    /// The upstream error kind the fault must show in the gate's counters (timeout, connect).
    #[arg(long)]
    expect_error: String,
}

#[derive(clap::Args)]
struct Publish {
    /// The instance published through.
    #[arg(long)]
    admin: String,
    #[arg(long)]
    token: String,
    /// A policy file with a version not yet published.
    #[arg(long)]
    file: String,
    /// Every instance, polled directly.
    #[arg(long, value_delimiter = ',')]
    instances: Vec<String>,
    /// The refresh period plus a margin.
    #[arg(long)]
    within: f64,
}

#[tokio::main]
async fn main() {
    let holds = match Cli::parse().command {
        Command::Upstream { listen, delay_ms } => {
            upstream(&listen, Duration::from_millis(delay_ms)).await;
            true
        }
        Command::Outage(args) => outage(args).await,
        Command::Matomo(args) => matomo(args).await,
        Command::Publish(args) => publish(args).await,
    };
    println!("holds={}", if holds { "yes" } else { "NO" });
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client")
}

/// A visitor who accepted everything: the `Cookie` header its browser sends from now on.
async fn consenting_visitor(client: &reqwest::Client, base: &str, version: &str) -> String {
    let first = client
        .get(format!("{base}/api/v1/consent"))
        .send()
        .await
        .expect("the status answers");
    let ssaid = set_cookie(&first, "zc_ssaid").expect("an SSAID is issued");
    let decided = client
        .post(format!("{base}/api/v1/consent"))
        .header("cookie", format!("zc_ssaid={ssaid}"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"policy_version":"{version}","action":"accept_all"}}"#
        ))
        .send()
        .await
        .expect("the decision answers");
    assert_eq!(decided.status(), 201, "the visitor's decision is recorded");
    let consent = set_cookie(&decided, "zc_consent").expect("a consent cookie");
    format!("zc_ssaid={ssaid}; zc_consent={consent}")
}

fn percentile(sorted: &[f64], share: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * share).round() as usize]
}

// ---- upstream ----------------------------------------------------------------------------

async fn upstream(listen: &str, delay: Duration) {
    let received = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&received);
    let app = axum::Router::new()
        .route(
            "/count",
            axum::routing::get(move || {
                let counted = Arc::clone(&counted);
                async move { counted.load(Ordering::SeqCst).to_string() }
            }),
        )
        .fallback(move || {
            let received = Arc::clone(&received);
            async move {
                received.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                http::StatusCode::NO_CONTENT
            }
        });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .expect("the upstream's port is free");
    axum::serve(listener, app)
        .await
        .expect("the upstream serves");
}

async fn upstream_count(client: &reqwest::Client, upstream: &str) -> Option<u64> {
    let text = client
        .get(format!("{upstream}/count"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.trim().parse().ok()
}

// ---- outage ------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Decision,
    PageNewVisitor,
    PageDecided,
    Loader,
    LoaderRevalidated,
    GateWithConsent,
    GateWithoutConsent,
    Policy,
}

impl Kind {
    /// The status a probe of this kind must get whatever storage does (decisions aside).
    fn expected(self) -> u16 {
        match self {
            Self::Decision => 201,
            Self::LoaderRevalidated => 304,
            Self::GateWithConsent | Self::GateWithoutConsent => 204,
            _ => 200,
        }
    }
}

/// One probe: when it started and took, in seconds from the start of the run.
struct Probe {
    kind: Kind,
    started: f64,
    took: f64,
    status: Option<u16>,
    retry_after: bool,
    code: Option<String>,
}

struct Prober {
    client: reqwest::Client,
    base: String,
    /// The visitor whose decisions are probed, and one who granted everything and keeps it
    /// (a later decision of the same visitor withdraws the earlier consent).
    deciding: String,
    cookies: String,
    version: String,
    etag: String,
    epoch: Instant,
}

impl Prober {
    async fn once(&self, kind: Kind, turn: u64) -> Probe {
        let base = &self.base;
        let request = match kind {
            Kind::Decision => {
                let action = if turn.is_multiple_of(2) {
                    "accept_all"
                } else {
                    "reject_all"
                };
                self.client
                    .post(format!("{base}/api/v1/consent"))
                    .header("cookie", &self.deciding)
                    .header("content-type", "application/json")
                    .body(format!(
                        r#"{{"policy_version":"{}","action":"{action}"}}"#,
                        self.version
                    ))
            }
            Kind::PageNewVisitor => self.client.get(format!("{base}/")),
            Kind::PageDecided => self
                .client
                .get(format!("{base}/"))
                .header("cookie", &self.cookies),
            Kind::Loader => self.client.get(format!("{base}/embed.js")),
            // A returning visitor's browser revalidating its cached loader.
            Kind::LoaderRevalidated => self
                .client
                .get(format!("{base}/embed.js"))
                .header("if-none-match", &self.etag),
            Kind::GateWithConsent => self
                .client
                .get(format!(
                    "{base}/matomo.php?idsite=1&rec=1&send_image=0&r={turn}"
                ))
                .header("cookie", &self.cookies),
            Kind::GateWithoutConsent => self.client.get(format!(
                "{base}/matomo.php?idsite=1&rec=1&send_image=0&r={turn}"
            )),
            Kind::Policy => self.client.get(format!("{base}/api/v1/policy")),
        };
        let started = Instant::now();
        let mut probe = Probe {
            kind,
            started: started.duration_since(self.epoch).as_secs_f64(),
            took: 0.0,
            status: None,
            retry_after: false,
            code: None,
        };
        if let Ok(answer) = request.send().await {
            probe.retry_after = answer.headers().contains_key("retry-after");
            let status = answer.status().as_u16();
            // The whole body, so that the time is the visitor's.
            match answer.bytes().await {
                Ok(body) => {
                    probe.status = Some(status);
                    probe.code = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|json| json["error"]["code"].as_str().map(str::to_owned));
                }
                Err(_) => probe.status = None,
            }
        }
        probe.took = started.elapsed().as_secs_f64();
        probe
    }
}

async fn run_command(path: &str) {
    let command = path.to_owned();
    let status = tokio::task::spawn_blocking(move || std::process::Command::new(command).status())
        .await
        .expect("the command's thread")
        .expect("the command runs");
    assert!(status.success(), "{path} failed");
}

async fn outage(args: Outage) -> bool {
    let client = http();
    let base = args.base.trim_end_matches('/').to_owned();
    let version = policy_version(&client, &base).await;
    let deciding = consenting_visitor(&client, &base, &version).await;
    let cookies = consenting_visitor(&client, &base, &version).await;
    let etag = client
        .get(format!("{base}/embed.js"))
        .send()
        .await
        .expect("the loader answers")
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .expect("the loader has an ETag")
        .to_owned();
    let epoch = Instant::now();
    let prober = Arc::new(Prober {
        client: client.clone(),
        base,
        deciding,
        cookies,
        version,
        etag,
        epoch,
    });
    let probes = Arc::new(Mutex::new(Vec::<Probe>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let kinds = [
        Kind::Decision,
        Kind::Decision,
        Kind::PageNewVisitor,
        Kind::PageDecided,
        Kind::Loader,
        Kind::LoaderRevalidated,
        Kind::GateWithConsent,
        Kind::GateWithoutConsent,
        Kind::Policy,
    ];
    let tasks: Vec<_> = kinds
        .into_iter()
        .map(|kind| {
            let (prober, probes, done) =
                (Arc::clone(&prober), Arc::clone(&probes), Arc::clone(&done));
            tokio::spawn(async move {
                let mut turn = 0_u64;
                while !done.load(Ordering::SeqCst) {
                    turn += 1;
                    let probe = prober.once(kind, turn).await;
                    probes.lock().expect("probes").push(probe);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            })
        })
        .collect();
    let now = || epoch.elapsed().as_secs_f64();

    tokio::time::sleep(Duration::from_secs(1)).await;
    let upstream_before = upstream_count(&client, &args.upstream).await;
    let stop_began = now();
    run_command(&args.stop).await;
    let stopped = now();
    tokio::time::sleep(Duration::from_secs_f64(args.down_secs)).await;
    let upstream_after = upstream_count(&client, &args.upstream).await;
    let start_began = now();
    run_command(&args.start).await;
    let started = now();
    // Until a decision sent after the start succeeds (or long past the limit).
    let recovered = loop {
        let first = probes
            .lock()
            .expect("probes")
            .iter()
            .filter(|p| p.kind == Kind::Decision && p.started >= started && p.status == Some(201))
            .map(|p| p.started + p.took)
            .reduce(f64::min);
        if let Some(at) = first {
            break Some(at - started);
        }
        if now() - started > args.recover_within + 5.0 {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::SeqCst);
    for task in tasks {
        task.await.expect("a prober finishes");
    }
    let probes = probes.lock().expect("probes");

    let mut holds = true;
    let mut fail = |what: String| {
        eprintln!("outage: {what}");
        holds = false;
    };
    // While PostgreSQL is down (sent after the stop, answered before the start): every
    // decision a 503 with Retry-After and the JSON error, soon.
    let while_down = |p: &Probe| p.started >= stopped && p.started + p.took < start_began;
    let down: Vec<_> = probes
        .iter()
        .filter(|p| p.kind == Kind::Decision && while_down(p))
        .collect();
    let answered_right = |p: &&&Probe| {
        p.status == Some(503)
            && p.retry_after
            && p.code.as_deref() == Some("storage_unavailable")
            && p.took < args.answer_within
    };
    let right = down.iter().filter(answered_right).count();
    let max_503 = down.iter().map(|p| p.took).fold(0.0, f64::max);
    let min_503 = down.iter().map(|p| p.took).reduce(f64::min).unwrap_or(0.0);
    if down.is_empty() || right < down.len() {
        fail(format!(
            "{} of {} decisions while PostgreSQL was down were a 503 with Retry-After and \
             storage_unavailable within {} s",
            right,
            down.len(),
            args.answer_within
        ));
        for p in down.iter().filter(|p| !answered_right(p)).take(5) {
            eprintln!(
                "  at {:.2} s: status {:?}, Retry-After {}, code {:?}, {:.3} s",
                p.started, p.status, p.retry_after, p.code, p.took
            );
        }
    }
    // Around the stop and the start a decision may succeed or be refused, but no other way.
    let decisions_max = probes
        .iter()
        .filter(|p| p.kind == Kind::Decision)
        .map(|p| p.took)
        .fold(0.0, f64::max);
    for p in probes.iter().filter(|p| {
        p.kind == Kind::Decision
            && (!matches!(p.status, Some(201 | 503)) || p.took >= args.answer_within)
    }) {
        fail(format!(
            "a decision at {:.2} s: status {:?}, code {:?}, {:.3} s",
            p.started, p.status, p.code, p.took
        ));
    }
    // Pages, the loader, the gate and the policy answer as always, storage or not.
    let others: Vec<_> = probes.iter().filter(|p| p.kind != Kind::Decision).collect();
    let wrong: Vec<_> = others
        .iter()
        .filter(|p| p.status != Some(p.kind.expected()) || p.took >= args.answer_within)
        .collect();
    let others_max = others.iter().map(|p| p.took).fold(0.0, f64::max);
    if !wrong.is_empty() {
        fail(format!(
            "{} of {} page, loader, gate and policy probes did not answer as expected",
            wrong.len(),
            others.len()
        ));
        for p in wrong.iter().take(8) {
            eprintln!(
                "  {:?} at {:.2} s: status {:?} (expected {}), code {:?}, {:.3} s",
                p.kind,
                p.started,
                p.status,
                p.kind.expected(),
                p.code,
                p.took
            );
        }
    }
    let down_probes = others.iter().filter(|p| while_down(p)).count();
    // The gate kept forwarding consented hits while storage was down.
    let forwarded = match (upstream_before, upstream_after) {
        (Some(before), Some(after)) => after.saturating_sub(before),
        _ => 0,
    };
    if forwarded == 0 {
        fail("no consented hit reached Matomo while PostgreSQL was down".to_owned());
    }
    match recovered {
        Some(secs) if secs <= args.recover_within => {}
        Some(secs) => fail(format!("decisions succeeded again only after {secs:.2} s")),
        None => fail("decisions did not succeed again".to_owned()),
    }
    print!(
        "down_decisions={} down_503_ok={} min_503_s={:.3} max_503_s={:.3} decisions_max_s={:.3} \
         down_other_probes={} other_failures={} other_max_s={:.3} forwarded_while_down={} \
         stop_s={:.2} start_s={:.2} recovered_s={} ",
        down.len(),
        right,
        min_503,
        max_503,
        decisions_max,
        down_probes,
        wrong.len(),
        others_max,
        forwarded,
        stopped - stop_began,
        started - start_began,
        recovered.map_or("never".to_owned(), |secs| format!("{secs:.2}")),
    );
    holds
}

// ---- matomo ------------------------------------------------------------------------------

/// The sum of the samples of `name` (with any labels starting with `labels`) in an
/// OpenMetrics text.
fn metric(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            let rest = key.strip_prefix(name)?;
            let matches = if labels.is_empty() {
                rest.is_empty() || rest.starts_with('{')
            } else {
                rest.starts_with(&format!("{{{labels}"))
            };
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}

async fn metrics_text(client: &reqwest::Client, ops: &str) -> String {
    match client.get(format!("{ops}/metrics")).send().await {
        Ok(answer) => answer.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The counters the scenario reports, summed over the instances.
async fn gate_counters(client: &reqwest::Client, ops: &[String]) -> [f64; 4] {
    let mut sums = [0.0; 4];
    for ops in ops {
        let text = metrics_text(client, ops).await;
        let errors = "zeccloud_matomo_upstream_errors_total";
        sums[0] += metric(
            &text,
            "zeccloud_matomo_hits_total",
            r#"outcome="forwarded""#,
        );
        sums[1] += metric(&text, errors, r#"kind="timeout""#);
        sums[2] += metric(&text, errors, r#"kind="connect""#);
        sums[3] += metric(&text, errors, r#"kind="overloaded""#);
    }
    sums
}

/// Resident memory of a process, in MB.
fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

#[derive(Default)]
struct Hits {
    answered: u64,
    refused: u64,
    connection_errors: u64,
    latencies: Vec<f64>,
}

async fn matomo(args: Matomo) -> bool {
    let client = http();
    let base = args.base.trim_end_matches('/').to_owned();
    let version = policy_version(&client, &base).await;
    let mut visitors = Vec::new();
    for _ in 0..args.clients {
        visitors.push(consenting_visitor(&client, &base, &version).await);
    }
    let counted_before = gate_counters(&client, &args.ops).await;
    let epoch = Instant::now();
    let until = epoch + Duration::from_secs_f64(args.secs);
    let tasks: Vec<_> = visitors
        .into_iter()
        .map(|cookies| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let mut hits = Hits::default();
                let mut turn = 0_u64;
                while Instant::now() < until {
                    turn += 1;
                    let started = Instant::now();
                    let sent = client
                        .get(format!(
                            "{base}/matomo.php?idsite=1&rec=1&action_name=cluster\
                             &url=https%3A%2F%2Fwww.zeccloud.com%2F&r={turn}"
                        ))
                        .header("cookie", &cookies)
                        .send()
                        .await;
                    match sent {
                        Ok(answer) if answer.status().is_success() => {
                            if answer.bytes().await.is_ok() {
                                hits.answered += 1;
                                hits.latencies.push(started.elapsed().as_secs_f64());
                            } else {
                                hits.connection_errors += 1;
                            }
                        }
                        Ok(_) => hits.refused += 1,
                        Err(_) => hits.connection_errors += 1,
                    }
                }
                hits
            })
        })
        .collect();

    // In flight, sampled until the load ends; RSS once the load has warmed up and at the end.
    let warm_up = (args.secs / 5.0).min(30.0);
    let mut in_flight_max = vec![0.0_f64; args.ops.len()];
    let mut rss_start: Option<Vec<f64>> = None;
    while Instant::now() < until {
        for (max, ops) in in_flight_max.iter_mut().zip(&args.ops) {
            let text = metrics_text(&client, ops).await;
            *max = max.max(metric(&text, "zeccloud_matomo_forwards_in_flight", ""));
        }
        if rss_start.is_none() && epoch.elapsed().as_secs_f64() >= warm_up {
            rss_start = Some(args.pids.iter().map(|pid| rss_mb(*pid)).collect());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut total = Hits::default();
    for task in tasks {
        let hits = task.await.expect("a client finishes");
        total.answered += hits.answered;
        total.refused += hits.refused;
        total.connection_errors += hits.connection_errors;
        total.latencies.extend(hits.latencies);
    }
    let rss_end: Vec<f64> = args.pids.iter().map(|pid| rss_mb(*pid)).collect();
    let rss_start = rss_start.unwrap_or_else(|| rss_end.clone());
    // Forwards still under way finish (or time out) after the load.
    tokio::time::sleep(Duration::from_millis(args.timeout_ms + 500)).await;
    let counted_after = gate_counters(&client, &args.ops).await;
    let delta: Vec<f64> = counted_after
        .iter()
        .zip(counted_before)
        .map(|(after, before)| after - before)
        .collect();
    total.latencies.sort_by(f64::total_cmp);
    let p99 = percentile(&total.latencies, 0.99);
    let max = total.latencies.last().copied().unwrap_or(0.0);

    let mut holds = true;
    let mut fail = |what: String| {
        eprintln!("matomo: {what}");
        holds = false;
    };
    if total.answered < 10 || total.refused > 0 || total.connection_errors > 0 {
        fail(format!(
            "{} hits answered, {} refused, {} connection errors",
            total.answered, total.refused, total.connection_errors
        ));
    }
    let timeout = args.timeout_ms as f64 / 1000.0;
    if max >= timeout {
        fail(format!(
            "a hit waited {max:.3} s, the gate's timeout is {timeout} s"
        ));
    }
    let in_flight = in_flight_max.iter().copied().fold(0.0, f64::max);
    if in_flight > args.max_in_flight as f64 {
        fail(format!(
            "{in_flight} forwards in flight, max_in_flight is {}",
            args.max_in_flight
        ));
    }
    for ((pid, start), end) in args.pids.iter().zip(&rss_start).zip(&rss_end) {
        if *end > start * 1.2 + 10.0 {
            fail(format!(
                "instance {pid}: RSS grew from {start:.0} to {end:.0} MB"
            ));
        }
    }
    let expected = match args.expect_error.as_str() {
        "timeout" => delta[1],
        "connect" => delta[2],
        _ => 0.0,
    };
    if expected < 1.0 {
        fail(format!(
            "no upstream error of kind {} was counted: the fault did not happen",
            args.expect_error
        ));
    }
    let mbs = |values: &[f64]| {
        values
            .iter()
            .map(|mb| format!("{mb:.0}"))
            .collect::<Vec<_>>()
            .join("+")
    };
    print!(
        "answered={} refused={} connection_errors={} p99_ms={:.1} max_ms={:.1} per_second={:.0} \
         in_flight_max={} forwarded={} timeouts={} connect_errors={} shed={} rss_start_mb={} \
         rss_end_mb={} ",
        total.answered,
        total.refused,
        total.connection_errors,
        p99 * 1000.0,
        max * 1000.0,
        total.answered as f64 / args.secs,
        in_flight,
        delta[0],
        delta[1],
        delta[2],
        delta[3],
        mbs(&rss_start),
        mbs(&rss_end),
    );
    holds
}

// ---- publish -----------------------------------------------------------------------------

async fn publish(args: Publish) -> bool {
    let client = http();
    let source = std::fs::read_to_string(&args.file).expect("the policy file");
    let answer = client
        .post(format!(
            "{}/api/v1/admin/policies?material=true",
            args.admin.trim_end_matches('/')
        ))
        .bearer_auth(&args.token)
        .header("content-type", "application/toml")
        .body(source)
        .send()
        .await
        .expect("the admin API answers");
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    if status != 201 {
        eprintln!("publish: the admin API answered {status}: {body}");
        print!("published=no ");
        return false;
    }
    let version = body["version"]
        .as_str()
        .expect("the published version")
        .to_owned();
    let published = Instant::now();
    let mut served = vec![None; args.instances.len()];
    while served.iter().any(Option::is_none)
        && published.elapsed().as_secs_f64() < args.within + 5.0
    {
        for (at, instance) in served.iter_mut().zip(&args.instances) {
            if at.is_none() && policy_version(&client, instance).await == version {
                *at = Some(published.elapsed().as_secs_f64());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let slowest = served
        .iter()
        .map(|at| at.unwrap_or(f64::INFINITY))
        .fold(0.0, f64::max);
    let holds = slowest <= args.within;
    if !holds {
        eprintln!(
            "publish: not every instance served {version} within {} s",
            args.within
        );
    }
    print!(
        "version={version} served_s={} max_s={slowest:.2} ",
        served
            .iter()
            .map(|at| at.map_or("never".to_owned(), |secs| format!("{secs:.2}")))
            .collect::<Vec<_>>()
            .join(",")
    );
    holds
}
