//! `server log …`: the consent log (docs/consent-log.md): checking the whole log against the
//! stored records, and making a log key.

use super::fail;
use clap::Subcommand;
use server::infra::clock::Clock;
use server::infra::config::Settings;
use server::service::log::ConsentLog;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Recompute every leaf from the stored records, rebuild the tree and check every signed
    /// head; exit 1 naming the first record altered, removed, inserted around the log,
    /// reordered or back-dated, 2 when the check cannot run. The result is stored for the
    /// console.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// How far, in seconds, a record's time may trail the heads and the leaf before it.
        #[arg(long, default_value_t = 60)]
        tolerance_secs: u32,
    },
    /// Print a new random log key as a `[log] key` setting (TOML); docs/consent-log.md,
    /// "The log key".
    Keygen,
    /// Check that the service's log only grew since the last head this witness saw (kept in
    /// the state file): exit 1 on a fork, a rollback or a bad signature, 2 when the check
    /// cannot run. Needs no settings: run it from cron on another machine.
    Witness(super::witness::WitnessArgs),
}

/// Exit status of a check that found problems.
const PROBLEMS: u8 = 1;
/// Exit status of a check that could not run.
const CANNOT_RUN: u8 = 2;

pub async fn run(settings: Settings, command: LogCommand) -> ExitCode {
    match command {
        LogCommand::Verify {
            json,
            tolerance_secs,
        } => verify(settings, json, tolerance_secs).await,
        LogCommand::Keygen => keygen(),
        LogCommand::Witness(args) => {
            super::witness::run(&args.url, &args.state, args.key.as_deref()).await
        }
    }
}

// The key is the command's output.
#[allow(clippy::print_stdout)]
pub fn keygen() -> ExitCode {
    use base64::Engine as _;
    let mut seed = [0u8; 32];
    rand::fill(&mut seed[..]);
    let key = base64::engine::general_purpose::STANDARD.encode(seed);
    println!("[log]\nkey = \"{key}\"");
    ExitCode::SUCCESS
}

// The report is the command's output.
#[allow(clippy::print_stdout)]
async fn verify(settings: Settings, json: bool, tolerance_secs: u32) -> ExitCode {
    let cannot_run = |err: &dyn std::fmt::Display| {
        eprintln!("error: the log check could not run: {err}");
        ExitCode::from(CANNOT_RUN)
    };
    let signer = match settings.load_log_signer() {
        Ok(signer) => signer,
        Err(err) => return cannot_run(&err),
    };
    let storage = match server::storage::connect(&settings.database_url).await {
        Ok(storage) => storage,
        Err(err) => return cannot_run(&err),
    };
    let log = ConsentLog::unopened(
        storage,
        settings.log_verifiers(&signer),
        signer,
        Duration::from_secs(settings.log.head_interval_secs),
        Clock::system(),
    );
    let report = match log
        .verify(chrono::TimeDelta::seconds(i64::from(tolerance_secs)))
        .await
    {
        Ok(report) => report,
        Err(err) => return cannot_run(&err),
    };
    if json {
        match serde_json::to_string_pretty(&report) {
            Ok(text) => println!("{text}"),
            Err(err) => return fail(err),
        }
    } else {
        println!(
            "{} leaves, {} records, {} deleted, {} signed heads; verified up to {} leaves",
            report.leaves, report.records, report.erased, report.heads, report.verified_size
        );
        match report.problems.first() {
            None => println!("the log is intact: every record matches its leaf and every head"),
            Some(first) => {
                println!("FIRST PROBLEM: {first}");
                for problem in report.problems.iter().skip(1).take(20) {
                    println!("  also: {problem}");
                }
                if report.problems.len() > 21 {
                    println!("  … and {} more", report.problems.len() - 21);
                }
            }
        }
    }
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(PROBLEMS)
    }
}
