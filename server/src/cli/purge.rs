//! `server purge`: the retention purge (notice §04), now, with a progress line.

use super::fail;
use chrono::NaiveDate;
use clap::Args;
use server::infra::clock::Clock;
use server::infra::config::Settings;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// Count what would go, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Purge as of this date (YYYY-MM-DD, UTC midnight) instead of now.
    #[arg(long)]
    pub as_of: Option<NaiveDate>,
}

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
pub async fn run(settings: Settings, PurgeArgs { dry_run, as_of }: PurgeArgs) -> ExitCode {
    let consent = match server::startup::consent_service(&settings, Clock::system()).await {
        Ok(consent) => consent,
        Err(err) => return fail(err),
    };
    let retention = server::startup::retention_for(&settings, &consent, None);
    let as_of = as_of.map(|date| date.and_time(chrono::NaiveTime::MIN).and_utc());
    println!(
        "{} as of {} …",
        if dry_run {
            "counting (dry run)"
        } else {
            "purging"
        },
        as_of
            .unwrap_or_else(chrono::Utc::now)
            .format("%Y-%m-%d %H:%M UTC")
    );
    // One spinner line: the table being purged and its running count.
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let progress = {
        let bar = bar.clone();
        move |table: &str, rows: u64| bar.set_message(format!("{table}: {rows} rows"))
    };
    let outcome = retention.run_with_progress(as_of, dry_run, &progress).await;
    bar.finish_and_clear();
    match outcome {
        Ok(Some(report)) => {
            let verb = if dry_run { "would go" } else { "gone" };
            for (table, rows) in &report {
                println!("  {table:<28} {rows:>8} {verb}");
            }
            println!(
                "  {:<26} {:>8} {verb}",
                "total",
                report.values().sum::<u64>()
            );
            ExitCode::SUCCESS
        }
        Ok(None) => fail("another instance is purging right now; try again in a minute"),
        Err(err) => fail(err),
    }
}
