//! Benchmark of the Matomo gate (`/matomo.php`), run with `scripts/matomo-bench`. Prints a
//! report; asserts nothing about the numbers.
//!
//! 1. Drop path: concurrent clients without consent for a fixed time (requests/s, latency),
//!    and the pure decision (`TrackingHit::parse` + `decide`) in-process for reference.
//! 2. Forward path: sequential hits, timed from sending until an upstream stub received them,
//!    sent to the stub directly and through the gate with a consent cookie; the overhead is
//!    the difference. Then concurrent forwarded throughput, direct and through the gate.
//!
//! Options (after `--`, or from the environment): `--secs S` (`MATOMO_BENCH_SECS`, default 5)
//! for the drop path, `--forward-secs S` (`MATOMO_BENCH_FORWARD_SECS`, default 3) for each
//! concurrent forward run, `--hits N` (`MATOMO_BENCH_HITS`, default 2000) sequential forwards,
//! `--clients N` (`MATOMO_BENCH_CLIENTS`, default 32) concurrent clients.
//!
//! Clients, gate and stub share one process and its CPUs: the numbers are for comparing
//! changes on one machine, not a capacity figure.
//!
//! Over 400 lines: one file per benchmark, as `cargo bench` runs it; each section above is one
//! function with its own report.

// A benchmark's report is what it prints.
#![allow(clippy::print_stdout)]

// The tests' way of configuring an app on port 0 with a temporary SQLite database.
#[path = "../tests/api/common.rs"]
mod common;

use common::{CHROME_DESKTOP as USER_AGENT, set_cookie};
use server::domain::tracking::{
    TrackingHit, UpstreamFields, VisitorSignals, WithoutConsent, decide,
};
use server::startup::Application;
use std::hint::black_box;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const ACCEPT_LANGUAGE: &str = "ja-JP,ja;q=0.9,en;q=0.8";
/// A page view as Matomo's JavaScript tracker sends it.
const HIT: &str = "idsite=1&rec=1&action_name=Pricing%20%E2%80%93%20ZecCloud\
    &url=https%3A%2F%2Fwww.zeccloud.com%2Fpricing%3Fplan%3Dpro\
    &urlref=https%3A%2F%2Fwww.google.com%2F&_id=0123456789abcdef&_idn=0&_idts=1732600000\
    &_idvc=3&_viewts=1732600000&res=1920x1080&h=14&m=3&s=27&cookie=1&pv_id=AbC123\
    &pdf=1&java=0&send_image=0";
/// Marks each sequential hit so its arrival at the stub can be matched.
const SEQ_PARAM: &str = "bench_seq";
const WARMUP_HITS: usize = 200;
const WARMUP: Duration = Duration::from_millis(500);
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(5);

struct Options {
    secs: f64,
    forward_secs: f64,
    hits: usize,
    clients: usize,
}

impl Options {
    fn parse() -> Self {
        fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(value) => value
                    .parse()
                    .unwrap_or_else(|_| usage(&format!("{name}={value} is not a valid number"))),
                Err(_) => default,
            }
        }
        let mut options = Self {
            secs: env("MATOMO_BENCH_SECS", 5.0),
            forward_secs: env("MATOMO_BENCH_FORWARD_SECS", 3.0),
            hits: env("MATOMO_BENCH_HITS", 2000),
            clients: env("MATOMO_BENCH_CLIENTS", 32),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            // `cargo bench` passes `--bench` to every bench binary.
            if name == "--bench" {
                continue;
            }
            let mut value = || -> String {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .unwrap_or_else(|| usage(&format!("{name} needs a value")))
            };
            match name.as_str() {
                "--secs" => options.secs = number(&name, &value()),
                "--forward-secs" => options.forward_secs = number(&name, &value()),
                "--hits" => options.hits = number(&name, &value()),
                "--clients" => options.clients = number(&name, &value()),
                "-h" | "--help" => usage(""),
                other => usage(&format!("unknown argument {other}")),
            }
        }
        if !(options.secs > 0.0 && options.forward_secs > 0.0)
            || options.hits == 0
            || options.clients == 0
        {
            usage("durations, --hits and --clients must be above 0");
        }
        options
    }
}

fn number<T: std::str::FromStr>(name: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|_| usage(&format!("{name} {value}: not a valid number")))
}

fn usage(problem: &str) -> ! {
    let text = "usage: scripts/matomo-bench [--secs S] [--forward-secs S] [--hits N] [--clients N]\n\
                (or MATOMO_BENCH_SECS, MATOMO_BENCH_FORWARD_SECS, MATOMO_BENCH_HITS, MATOMO_BENCH_CLIENTS)";
    if problem.is_empty() {
        println!("{text}");
        std::process::exit(0);
    }
    eprintln!("matomo_gate: {problem}\n{text}");
    std::process::exit(2);
}

fn main() {
    let options = Options::parse();
    // No tracing subscriber is installed: the gate's logging costs nothing here.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(Box::pin(run(options)));
}

async fn run(options: Options) {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "Matomo gate benchmark: {cpus} CPU(s); clients, gate and upstream stub share this process"
    );

    let mut stub = Stub::start().await;
    let bench = Bench::start(&stub.url, options.clients).await;

    // 1. Drop path.
    println!();
    println!(
        "1. Drop path: GET /matomo.php without consent, {} clients, {:.1} s",
        options.clients, options.secs
    );
    let gate_url = bench.url(&format!("/matomo.php?{HIT}"));
    load(&bench.client, &gate_url, None, options.clients, WARMUP).await;
    let dropped = load(
        &bench.client,
        &gate_url,
        None,
        options.clients,
        Duration::from_secs_f64(options.secs),
    )
    .await;
    print_load_header();
    print_load_row("gate, dropped (HTTP)", &dropped, None);
    let forwarded_by_drop = stub.drain();
    if forwarded_by_drop > 0 {
        println!("   !! the stub received {forwarded_by_drop} hits during the drop run");
    }
    println!();
    println!("   in-process, one thread (no HTTP):");
    let parse_decide = per_second(|| {
        let hit = TrackingHit::parse(black_box(HIT)).expect("valid hit");
        let verdict = decide(
            black_box(VisitorSignals {
                opted_in: false,
                gpc: false,
            }),
            WithoutConsent::Drop,
        );
        black_box((hit, verdict));
    });
    println!(
        "   {:<44} {:>12.0} hits/s  ({:.0} ns/hit)",
        "TrackingHit::parse + decide (drop)",
        parse_decide,
        1e9 / parse_decide
    );
    let fields = UpstreamFields {
        user_agent: Some(USER_AGENT),
        accept_language: Some(ACCEPT_LANGUAGE),
        cip: None,
        visitor_id: Some("0123456789abcdef"),
    };
    let prepare = per_second(|| {
        let hit = TrackingHit::parse(black_box(HIT)).expect("valid hit");
        let verdict = decide(
            black_box(VisitorSignals {
                opted_in: true,
                gpc: false,
            }),
            WithoutConsent::Drop,
        );
        let query = hit.upstream_query(&fields);
        black_box((query, verdict));
    });
    println!(
        "   {:<44} {:>12.0} hits/s  ({:.0} ns/hit)",
        "parse + decide + upstream_query",
        prepare,
        1e9 / prepare
    );

    // 2. Forward path, sequential.
    let cookies = bench.consenting_visitor().await;
    println!();
    println!(
        "2. Forward path: {} sequential hits with consent (after {WARMUP_HITS} warm-up), \
         direct and through the gate interleaved",
        options.hits
    );
    let mut direct_arrival = Vec::with_capacity(options.hits);
    let mut direct_response = Vec::with_capacity(options.hits);
    let mut gate_arrival = Vec::with_capacity(options.hits);
    let mut gate_response = Vec::with_capacity(options.hits);
    let direct_client = http_client(1);
    for seq in 0..WARMUP_HITS + options.hits {
        let query = format!("{HIT}&{SEQ_PARAM}={}", 2 * seq);
        let (response, arrival) = stub
            .timed(direct_client.get(format!("{}?{query}", stub.url)), 2 * seq)
            .await;
        let query = format!("{HIT}&{SEQ_PARAM}={}", 2 * seq + 1);
        let (g_response, g_arrival) = stub
            .timed(
                bench
                    .client
                    .get(bench.url(&format!("/matomo.php?{query}")))
                    .header("cookie", &cookies)
                    .header("user-agent", USER_AGENT)
                    .header("accept-language", ACCEPT_LANGUAGE),
                2 * seq + 1,
            )
            .await;
        if seq >= WARMUP_HITS {
            direct_response.push(response);
            direct_arrival.push(arrival);
            gate_response.push(g_response);
            gate_arrival.push(g_arrival);
        }
    }
    let direct_arrival = Percentiles::of(direct_arrival);
    let gate_arrival = Percentiles::of(gate_arrival);
    println!(
        "   {:<44} {:>9} {:>9} {:>9} {:>9}",
        "µs", "p50", "p95", "p99", "mean"
    );
    print_percentiles("(a) direct: send → arrival at stub", &direct_arrival);
    print_percentiles("(b) gate: send → arrival at stub", &gate_arrival);
    print_percentiles(
        "overhead (b) − (a), per percentile",
        &gate_arrival.minus(&direct_arrival),
    );
    print_percentiles(
        "gate: response to the visitor",
        &Percentiles::of(gate_response),
    );
    print_percentiles(
        "direct: stub's response (reference)",
        &Percentiles::of(direct_response),
    );

    // 2b. Forward path, concurrent.
    println!();
    println!(
        "   Concurrent forwarded hits, {} clients, {:.1} s each:",
        options.clients, options.forward_secs
    );
    let forward_duration = Duration::from_secs_f64(options.forward_secs);
    let stub_hit = format!("{}?{HIT}", stub.url);
    load(&bench.client, &stub_hit, None, options.clients, WARMUP).await;
    stub.drain();
    let direct = load(
        &bench.client,
        &stub_hit,
        None,
        options.clients,
        forward_duration,
    )
    .await;
    let direct_arrived = stub.drain();
    let gate_url = bench.url(&format!("/matomo.php?{HIT}"));
    load(
        &bench.client,
        &gate_url,
        Some(&cookies),
        options.clients,
        WARMUP,
    )
    .await;
    stub.settle().await;
    let shed_before = bench.upstream_errors().await;
    let gated = load(
        &bench.client,
        &gate_url,
        Some(&cookies),
        options.clients,
        forward_duration,
    )
    .await;
    let (gate_arrived, last_arrival) = stub.settle().await;
    print_load_header();
    print_load_row("direct to stub", &direct, Some((direct_arrived, None)));
    let drain_time = last_arrival
        .map(|at| at.saturating_duration_since(gated.started))
        .unwrap_or(gated.elapsed);
    print_load_row(
        "through the gate (consent)",
        &gated,
        Some((gate_arrived, Some(drain_time))),
    );
    let per_cpu = |run: &LoadResult| run.latencies.len() as f64 / run.cpu.as_secs_f64().max(1e-9);
    let rate = |run: &LoadResult| run.latencies.len() as f64 / run.elapsed.as_secs_f64();
    println!(
        "   gate as a share of direct: {:.1} % of the requests/s, {:.1} % per CPU second",
        100.0 * rate(&gated) / rate(&direct),
        100.0 * per_cpu(&gated) / per_cpu(&direct),
    );

    // Gate counters.
    let errors = bench.upstream_errors().await;
    println!();
    let shed = errors.get("overloaded").copied().unwrap_or(0);
    let shed_in_run = shed.saturating_sub(shed_before.get("overloaded").copied().unwrap_or(0));
    println!(
        "Gate metrics: shed (overloaded) = {shed} in total, {shed_in_run} in the concurrent \
         forward run; other upstream errors: {}",
        if errors.len() == usize::from(errors.contains_key("overloaded")) {
            "none".to_owned()
        } else {
            errors
                .iter()
                .filter(|(kind, _)| kind.as_str() != "overloaded")
                .map(|(kind, count)| format!("{kind}={count}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
}

/// The application with the gate on, pointed at the stub.
struct Bench {
    base: String,
    /// The operations listener, where `/metrics` is.
    ops_base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start(upstream_url: &str, clients: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut settings = common::settings(
            format!("sqlite://{}", dir.path().join("consent.db").display()),
            &dir,
        );
        settings.request_timeout_secs = 10;
        settings.matomo.upstream_url = Some(upstream_url.to_owned());
        settings.matomo.timeout_ms = 5_000;
        let app = Application::build(settings)
            .await
            .expect("application starts");
        let base = format!("http://{}", app.local_addr());
        let ops_base = format!("http://{}", app.ops_addr());
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        Self {
            base,
            ops_base,
            client: http_client(clients),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Cookies of a visitor who accepted every category of the current policy.
    async fn consenting_visitor(&self) -> String {
        let policy: serde_json::Value = self
            .client
            .get(self.url("/api/v1/policy"))
            .send()
            .await
            .expect("GET /api/v1/policy")
            .json()
            .await
            .expect("policy JSON");
        let version = policy["version"].as_str().expect("policy version");
        let response = self
            .client
            .get(self.url("/api/v1/consent"))
            .send()
            .await
            .expect("GET /api/v1/consent");
        let ssaid = set_cookie(&response, "zc_ssaid").expect("zc_ssaid cookie");
        let response = self
            .client
            .post(self.url("/api/v1/consent"))
            .header("cookie", format!("zc_ssaid={ssaid}"))
            .header("content-type", "application/json")
            .body(
                serde_json::json!({"policy_version": version, "action": "accept_all"}).to_string(),
            )
            .send()
            .await
            .expect("POST /api/v1/consent");
        assert_eq!(response.status(), 201, "consent recorded");
        let consent = set_cookie(&response, "zc_consent").expect("zc_consent cookie");
        format!("zc_ssaid={ssaid}; zc_consent={consent}")
    }

    /// `zeccloud_matomo_upstream_errors_total` by kind.
    async fn upstream_errors(&self) -> std::collections::BTreeMap<String, u64> {
        let text = self
            .client
            .get(format!("{}/metrics", self.ops_base))
            .send()
            .await
            .expect("GET /metrics")
            .error_for_status()
            .expect("metrics from the operations listener")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("zeccloud_matomo_upstream_errors_total{kind=\"")?;
                let (kind, rest) = rest.split_once("\"}")?;
                Some((kind.to_owned(), rest.trim().parse().ok()?))
            })
            .collect()
    }
}

fn http_client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// A stand-in for Matomo that answers 204 and reports when each request arrived.
struct Stub {
    url: String,
    arrivals: mpsc::UnboundedReceiver<Arrival>,
}

struct Arrival {
    at: Instant,
    seq: Option<usize>,
}

impl Stub {
    async fn start() -> Self {
        let (sender, arrivals) = mpsc::unbounded_channel();
        let router = axum::Router::new().fallback(
            move |axum::extract::RawQuery(query): axum::extract::RawQuery,
                  body: axum::body::Bytes| {
                let at = Instant::now();
                let sender = sender.clone();
                async move {
                    let seq_of = |query: &str| {
                        form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
                            .find(|(key, _)| key == SEQ_PARAM)
                            .and_then(|(_, value)| value.parse().ok())
                    };
                    // The gate merges hits that wait for a busy upstream into bulk requests:
                    // each entry is a hit arriving.
                    let bulk = serde_json::from_slice::<serde_json::Value>(&body).ok();
                    let entries = bulk.as_ref().and_then(|bulk| bulk["requests"].as_array());
                    // The receiver lives as long as the benchmark.
                    match entries {
                        Some(entries) => {
                            for entry in entries {
                                let seq = entry.as_str().and_then(seq_of);
                                let _ = sender.send(Arrival { at, seq });
                            }
                        }
                        None => {
                            let seq = query.as_deref().and_then(seq_of);
                            let _ = sender.send(Arrival { at, seq });
                        }
                    }
                    http::StatusCode::NO_CONTENT
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind stub");
        let url = format!(
            "http://{}/matomo.php",
            listener.local_addr().expect("stub address")
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, arrivals }
    }

    /// Sends one request and returns (time until its response was read, time until the stub
    /// received hit `seq`), both from the moment of sending.
    async fn timed(
        &mut self,
        request: reqwest::RequestBuilder,
        seq: usize,
    ) -> (Duration, Duration) {
        let sent = Instant::now();
        let response = request.send().await.expect("request sent");
        assert!(
            response.status().is_success(),
            "status {}",
            response.status()
        );
        response.bytes().await.expect("response body");
        let answered = sent.elapsed();
        let deadline = tokio::time::Instant::now() + ARRIVAL_TIMEOUT;
        loop {
            let arrival = tokio::time::timeout_at(deadline, self.arrivals.recv())
                .await
                .unwrap_or_else(|_| panic!("hit {seq} did not reach the stub within 5 s"))
                .expect("stub running");
            if arrival.seq == Some(seq) {
                return (answered, arrival.at.saturating_duration_since(sent));
            }
        }
    }

    /// Forgets the arrivals so far and returns how many there were.
    fn drain(&mut self) -> usize {
        let mut count = 0;
        while self.arrivals.try_recv().is_ok() {
            count += 1;
        }
        count
    }

    /// Waits until no hit arrived for 300 ms; returns the arrivals and the last one's time.
    async fn settle(&mut self) -> (usize, Option<Instant>) {
        let mut count = 0;
        let mut last = None;
        while let Ok(Some(arrival)) =
            tokio::time::timeout(Duration::from_millis(300), self.arrivals.recv()).await
        {
            count += 1;
            last = Some(arrival.at);
        }
        (count, last)
    }
}

struct LoadResult {
    started: Instant,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
    /// CPU time the whole process spent meanwhile (clients, gate and stub).
    cpu: Duration,
}

/// CPU time this process has used (user + system), from `/proc/self/stat`: on a machine
/// shared with other work the CPU spent per request still compares changes when requests/s
/// swing with the neighbours' load.
fn process_cpu() -> Duration {
    // Linux reports it in clock ticks of 1/100 s (USER_HZ).
    const TICKS_PER_SECOND: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: state is field 3; utime and stime are 14 and 15.
    let ticks: f64 = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .skip(11)
                .take(2)
                .filter_map(|field| field.parse::<f64>().ok())
                .sum()
        })
        .unwrap_or(0.0);
    Duration::from_secs_f64(ticks / TICKS_PER_SECOND)
}

/// `clients` tasks sending GET `url` back to back on keep-alive connections for `duration`.
async fn load(
    client: &reqwest::Client,
    url: &str,
    cookies: Option<&str>,
    clients: usize,
    duration: Duration,
) -> LoadResult {
    let started = Instant::now();
    let cpu_before = process_cpu();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let client = client.clone();
            let url = url.to_owned();
            let cookies = cookies.map(str::to_owned);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(64 * 1024);
                let mut errors = 0;
                while Instant::now() < deadline {
                    let mut request = client
                        .get(&url)
                        .header("user-agent", USER_AGENT)
                        .header("accept-language", ACCEPT_LANGUAGE);
                    if let Some(cookies) = &cookies {
                        request = request.header("cookie", cookies);
                    }
                    let sent = Instant::now();
                    let ok = match request.send().await {
                        Ok(response) => {
                            let success = response.status().is_success();
                            response.bytes().await.is_ok() && success
                        }
                        Err(_) => false,
                    };
                    if ok {
                        latencies.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut result = LoadResult {
        started,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
        errors: 0,
        cpu: Duration::ZERO,
    };
    for task in tasks {
        let (latencies, errors) = task.await.expect("load task");
        result.latencies.extend(latencies);
        result.errors += errors;
    }
    result.elapsed = started.elapsed();
    result.cpu = process_cpu().saturating_sub(cpu_before);
    result
}

fn print_load_header() {
    println!(
        "   {:<30} {:>9} {:>10} {:>8} {:>8} {:>7} {:>10} {:>11} {:>12}",
        "", "requests", "req/s", "p50 µs", "p99 µs", "errors", "at stub", "at stub/s", "CPU µs/req"
    );
}

/// One load run; `arrived` is how many hits the stub received and, when it differs from the
/// run's length, the time from the start until the last one came.
fn print_load_row(label: &str, run: &LoadResult, arrived: Option<(usize, Option<Duration>)>) {
    let count = run.latencies.len();
    let secs = run.elapsed.as_secs_f64();
    let stats = Percentiles::of(run.latencies.clone());
    let (at_stub, at_stub_rate) = match arrived {
        Some((n, until)) => {
            let span = until.unwrap_or(run.elapsed).max(run.elapsed).as_secs_f64();
            (n.to_string(), format!("{:.0}", n as f64 / span))
        }
        None => ("-".to_owned(), "-".to_owned()),
    };
    println!(
        "   {label:<30} {count:>9} {:>10.0} {:>8.0} {:>8.0} {:>7} {at_stub:>10} {at_stub_rate:>11} {:>12.1}",
        count as f64 / secs,
        stats.p50,
        stats.p99,
        run.errors,
        run.cpu.as_secs_f64() * 1e6 / count.max(1) as f64,
    );
}

/// Latency percentiles in microseconds.
struct Percentiles {
    p50: f64,
    p95: f64,
    p99: f64,
    mean: f64,
}

impl Percentiles {
    fn of(mut samples: Vec<Duration>) -> Self {
        if samples.is_empty() {
            return Self {
                p50: f64::NAN,
                p95: f64::NAN,
                p99: f64::NAN,
                mean: f64::NAN,
            };
        }
        samples.sort_unstable();
        let at = |p: f64| {
            let index = (p * (samples.len() - 1) as f64).round() as usize;
            samples[index].as_secs_f64() * 1e6
        };
        let total: Duration = samples.iter().sum();
        Self {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            mean: total.as_secs_f64() * 1e6 / samples.len() as f64,
        }
    }

    fn minus(&self, other: &Self) -> Self {
        Self {
            p50: self.p50 - other.p50,
            p95: self.p95 - other.p95,
            p99: self.p99 - other.p99,
            mean: self.mean - other.mean,
        }
    }
}

fn print_percentiles(label: &str, stats: &Percentiles) {
    println!(
        "   {label:<44} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
        stats.p50, stats.p95, stats.p99, stats.mean
    );
}

/// Calls `work` in batches for about a second; returns calls per second.
fn per_second(mut work: impl FnMut()) -> f64 {
    const BATCH: usize = 1_000;
    for _ in 0..BATCH {
        work();
    }
    let started = Instant::now();
    let mut calls = 0;
    while started.elapsed() < Duration::from_secs(1) {
        for _ in 0..BATCH {
            work();
        }
        calls += BATCH;
    }
    calls as f64 / started.elapsed().as_secs_f64()
}
