//! The consent log at scale (`scripts/log-bench`): fills a database with N decisions (default
//! 1,000,000) written the way the service writes them (groups of decisions with their leaves),
//! opens the log (an instance reading the whole tree at start and signing a head), then times
//! the whole-log check and inclusion and consistency proofs over that tree. Prints one line
//! per measurement.
//!   log_verify_bench DATABASE_URL [DECISIONS]
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout)]

use chrono::{TimeDelta, TimeZone, Utc};
use server::domain::log::LogSigner;
use server::domain::{Ssaid, TerminalType};
use server::infra::clock::Clock;
use server::service::log::ConsentLog;
use server::storage::{ConsentEvent, SsaidRecord};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const GROUP: usize = 1000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .expect("usage: log_verify_bench DATABASE_URL [DECISIONS]");
    let decisions: usize = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("a number"));
    let storage = server::storage::connect(&url).await.expect("storage");
    let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let began = Instant::now();
    let mut written = 0;
    while written < decisions {
        let group: Vec<(SsaidRecord, ConsentEvent)> = (written..(written + GROUP).min(decisions))
            .map(|n| decision(n, start))
            .collect();
        written += group.len();
        storage
            .insert_consent_events(&group)
            .await
            .expect("a group");
    }
    println!(
        "wrote {decisions} decisions with their leaves in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    let signer = LogSigner::new("bench/log", &[5; 32]);
    let verifiers = vec![signer.verifier()];
    let began = Instant::now();
    let log = ConsentLog::open(
        storage.clone(),
        verifiers,
        signer,
        Duration::from_secs(5),
        Clock::system(),
    )
    .await
    .expect("the log opens");
    println!(
        "opened the log (read {} leaves into the tree, signed a head) in {:.1} s",
        log.latest_head().await.unwrap().head.size,
        began.elapsed().as_secs_f64()
    );
    let began = Instant::now();
    let report = log
        .verify(TimeDelta::seconds(60))
        .await
        .expect("the check runs");
    println!(
        "server log verify: {} leaves, {} records, clean: {} in {:.1} s",
        report.leaves,
        report.records,
        report.is_clean(),
        began.elapsed().as_secs_f64()
    );
    let size = log.latest_head().await.unwrap().head.size;
    let mut inclusion = Vec::new();
    let sample = 2000;
    for n in 0..sample {
        let id = event_id(n * (decisions / sample));
        let began = Instant::now();
        log.inclusion(id, None).await.expect("a proof");
        inclusion.push(began.elapsed());
    }
    let mut consistency = Vec::new();
    for n in 1..=sample as u64 {
        let began = Instant::now();
        log.consistency(n * (size / sample as u64).max(1), size)
            .await
            .expect("a proof");
        consistency.push(began.elapsed());
    }
    for (name, mut times) in [("inclusion", inclusion), ("consistency", consistency)] {
        times.sort();
        println!(
            "{name} proof (service, storage read included): p50 {:.3} ms, p99 {:.3} ms over {} proofs",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 99 / 100]),
            times.len()
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The id of decision `n`: fixed, so the proofs can ask for it.
fn event_id(n: usize) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n as u128)
}

fn decision(n: usize, start: chrono::DateTime<Utc>) -> (SsaidRecord, ConsentEvent) {
    let mut seed = [0u8; 16];
    seed[..8].copy_from_slice(&(n as u64).to_le_bytes());
    let visitor = SsaidRecord {
        ssaid: Ssaid::from_random_bytes(seed),
        issued_at: start,
        terminal_type: TerminalType::Desktop,
    };
    let event = ConsentEvent {
        id: event_id(n),
        ssaid: visitor.ssaid.clone(),
        policy_version: app::domain::PolicyVersion::parse("2026-12-07").unwrap(),
        categories: BTreeMap::from([
            ("analytics".to_owned(), n.is_multiple_of(2)),
            ("necessary".to_owned(), true),
        ]),
        action: app::domain::ConsentAction::Custom,
        source: app::domain::ConsentSource::Banner,
        // A decision every millisecond, in order.
        created_at: start + TimeDelta::milliseconds(n as i64),
        made_at: None,
        policy_hash: "sha256:policy".to_owned(),
        banner_text_hash: "sha256:banner".to_owned(),
        language: "en".to_owned(),
        ip_prefix: Some("192.0.2.0/24".to_owned()),
        ua_class: TerminalType::Desktop,
        origin: None,
        jurisdiction: None,
        log_salt: Some(server::domain::log::leaf::new_salt()),
    };
    (visitor, event)
}
