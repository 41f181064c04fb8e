//! The cluster harness's load: clients posting decisions through the load balancer, as fresh
//! visitors and as returning ones, for a number of seconds. Every decision answered 201 has its
//! consent id written to a file (one per line), for the harness to look up in storage; a
//! summary line goes to standard output.
//!   cluster_load BASE_URL CLIENTS SECONDS ACKNOWLEDGED_FILE
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use std::io::Write;
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;
use common::policy_version;

#[derive(Default)]
struct Tally {
    acknowledged: Vec<String>,
    refused: u64,
    connection_errors: u64,
    latencies: Vec<Duration>,
}

/// One client: a new visitor every fifth decision, the same one in between.
async fn client(base: String, version: String, until: Instant) -> Tally {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let mut tally = Tally::default();
    let mut ssaid: Option<String> = None;
    let mut decided = 0_u64;
    while Instant::now() < until {
        if ssaid.is_none() || decided.is_multiple_of(5) {
            ssaid = match client.get(format!("{base}/api/v1/consent")).send().await {
                Ok(first) => first
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(|v| v.strip_prefix("zc_ssaid="))
                    .and_then(|v| v.split(';').next())
                    .map(str::to_owned),
                Err(_) => {
                    tally.connection_errors += 1;
                    None
                }
            };
            let Some(_) = &ssaid else { continue };
        }
        decided += 1;
        let action = if decided.is_multiple_of(2) {
            "accept_all"
        } else {
            "reject_all"
        };
        let started = Instant::now();
        let sent = client
            .post(format!("{base}/api/v1/consent"))
            .header(
                "cookie",
                format!("zc_ssaid={}", ssaid.as_deref().unwrap_or_default()),
            )
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"policy_version":"{version}","action":"{action}"}}"#
            ))
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status() == 201 => {
                // Only a 201 whose body arrived is an acknowledgement the client saw.
                if let Ok(body) = answer.json::<serde_json::Value>().await
                    && let Some(id) = body["consent"]["event_id"].as_str()
                {
                    tally.acknowledged.push(id.to_owned());
                    tally.latencies.push(started.elapsed());
                } else {
                    tally.connection_errors += 1;
                }
            }
            Ok(_) => tally.refused += 1,
            Err(_) => tally.connection_errors += 1,
        }
    }
    tally
}

fn percentile(sorted: &[Duration], share: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * share).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, clients, seconds, file] = args.as_slice() else {
        eprintln!("usage: cluster_load BASE_URL CLIENTS SECONDS ACKNOWLEDGED_FILE");
        std::process::exit(2);
    };
    let clients: usize = clients.parse().expect("CLIENTS is a number");
    let seconds: u64 = seconds.parse().expect("SECONDS is a number");
    let version = policy_version(&reqwest::Client::new(), base).await;
    let until = Instant::now() + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client(base.clone(), version.clone(), until)))
        .collect();
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await.expect("a client finishes");
        total.acknowledged.extend(tally.acknowledged);
        total.refused += tally.refused;
        total.connection_errors += tally.connection_errors;
        total.latencies.extend(tally.latencies);
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(file).expect("the file"));
    for id in &total.acknowledged {
        writeln!(out, "{id}").expect("writing the file");
    }
    out.flush().expect("writing the file");
    total.latencies.sort();
    println!(
        "acknowledged={} refused={} connection_errors={} p50_ms={:.1} p99_ms={:.1} per_second={:.0}",
        total.acknowledged.len(),
        total.refused,
        total.connection_errors,
        percentile(&total.latencies, 0.5),
        percentile(&total.latencies, 0.99),
        total.acknowledged.len() as f64 / seconds as f64,
    );
}
