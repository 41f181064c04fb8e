//! The load of `scripts/scale-bench`: one path of the service asked by many returning visitors
//! at once, each request from a visitor drawn at random from a file, for a number of seconds;
//! prints `requests requests/s p50_ms p99_ms errors` on one line.
//!   scale_load BASE_URL PATH_KIND VISITORS_FILE SECONDS CONNECTIONS
//! PATH_KIND: `status` (GET /api/v1/consent), `decide` (POST /api/v1/consent, reject all),
//! `preferences` (GET /preferences), `receipt` (GET /api/v1/consent/{id}/receipt of one of the
//! visitor's own decisions), `overview` (GET /admin?days=30, with `ZC_SCALE_SESSION`, a
//! `zc_admin=…` console session cookie). VISITORS_FILE has one visitor a line:
//! `SSAID<TAB>event-id,event-id,…` (the visitor's decisions in the database). Their `zc_ssaid`
//! cookies are signed here with `ZC_SIGNING_KEY` (base64, the server's key), as the server
//! would have issued them.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use base64::Engine;
use secrecy::SecretSlice;
use server::domain::{Ssaid, SsaidClaims, TerminalType};
use server::infra::tokens::TokenSigner;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/mod.rs"]
mod common;

struct Visitor {
    cookie: String,
    events: Vec<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Status,
    Decide,
    Preferences,
    Receipt,
    Overview,
}

struct Plan {
    base: String,
    kind: Kind,
    visitors: Vec<Visitor>,
    session: String,
    version: String,
}

/// A small xorshift: which visitor and which of their decisions, without a lock.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

async fn one(client: &reqwest::Client, plan: &Plan, rng: &mut u64) -> bool {
    let visitor = &plan.visitors[(next(rng) % plan.visitors.len() as u64) as usize];
    let base = &plan.base;
    let request = match plan.kind {
        Kind::Status => client.get(format!("{base}/api/v1/consent")),
        Kind::Decide => client
            .post(format!("{base}/api/v1/consent"))
            .header("content-type", "application/json")
            .header("origin", base.as_str())
            .body(format!(
                r#"{{"policy_version":"{}","action":"reject_all","language":"en"}}"#,
                plan.version
            )),
        Kind::Preferences => client.get(format!("{base}/preferences")),
        Kind::Receipt => {
            let id = &visitor.events[(next(rng) % visitor.events.len() as u64) as usize];
            client.get(format!("{base}/api/v1/consent/{id}/receipt"))
        }
        Kind::Overview => {
            return client
                .get(format!("{base}/admin?days=30"))
                .header("cookie", plan.session.as_str())
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
        }
    };
    match request
        .header("cookie", visitor.cookie.as_str())
        .send()
        .await
    {
        // The whole body, as a browser would wait for it.
        Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
        _ => false,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, kind, file, secs, connections] = &args[..] else {
        eprintln!("usage: scale_load BASE_URL PATH_KIND VISITORS_FILE SECONDS CONNECTIONS");
        std::process::exit(2);
    };
    let kind = match kind.as_str() {
        "status" => Kind::Status,
        "decide" => Kind::Decide,
        "preferences" => Kind::Preferences,
        "receipt" => Kind::Receipt,
        "overview" => Kind::Overview,
        other => panic!("unknown path kind {other:?}"),
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(
            std::env::var("ZC_SIGNING_KEY")
                .expect("ZC_SIGNING_KEY")
                .trim(),
        )
        .expect("ZC_SIGNING_KEY is base64");
    let signer = TokenSigner::new(&SecretSlice::from(key));
    let now = chrono::Utc::now().timestamp();
    let visitors: Vec<Visitor> = std::fs::read_to_string(file)
        .expect("the visitors file")
        .lines()
        .filter_map(|line| {
            let (ssaid, events) = line.split_once('\t')?;
            let ssaid = Ssaid::parse(ssaid).expect("an SSAID");
            let claims = SsaidClaims::new(ssaid, TerminalType::Desktop, now - 86_400, 31_536_000);
            Some(Visitor {
                cookie: format!("zc_ssaid={}", signer.sign(&claims)),
                events: events.split(',').map(str::to_owned).collect(),
            })
        })
        .collect();
    assert!(!visitors.is_empty(), "no visitors in {file}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build()
        .expect("a client");
    let version = if kind == Kind::Decide {
        common::policy_version(&client, base).await
    } else {
        String::new()
    };
    let plan = Arc::new(Plan {
        base: base.clone(),
        kind,
        visitors,
        session: std::env::var("ZC_SCALE_SESSION").unwrap_or_default(),
        version,
    });
    let secs: f64 = secs.parse().expect("SECONDS");
    let connections: u64 = connections.parse().expect("CONNECTIONS");
    let started = Instant::now();
    let until = started + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for task in 0..connections {
        let (client, plan) = (client.clone(), Arc::clone(&plan));
        tasks.push(tokio::spawn(async move {
            let mut rng =
                0x9E37_79B9_7F4A_7C15_u64 ^ (task + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
            let (mut latencies, mut errors) = (Vec::new(), 0_u64);
            while Instant::now() < until {
                let begun = Instant::now();
                if !one(&client, &plan, &mut rng).await {
                    errors += 1;
                }
                latencies.push(begun.elapsed());
            }
            (latencies, errors)
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (mut l, e) = task.await.expect("a load task");
        latencies.append(&mut l);
        errors += e;
    }
    let took = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    println!(
        "{} {:.0} {:.2} {:.2} {}",
        latencies.len(),
        latencies.len() as f64 / took,
        at(0.50),
        at(0.99),
        errors
    );
}
