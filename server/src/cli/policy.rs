//! `server policy …`: consent policy versions (notice §11).

use super::fail;
use clap::Subcommand;
use server::infra::clock::Clock;
use server::infra::config::Settings;
use server::service::policies::{self, Published};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Publish a policy file as a new, immutable version.
    Publish {
        /// The policy TOML file.
        file: PathBuf,
        /// The change is material (notice §11): visitors who chose under an earlier version are
        /// asked again.
        #[arg(long)]
        material: bool,
    },
}

pub async fn run(settings: Settings, command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Publish { file, material } => publish(settings, file, material).await,
    }
}

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
async fn publish(settings: Settings, file: PathBuf, material: bool) -> ExitCode {
    let source = match std::fs::read_to_string(&file) {
        Ok(source) => source,
        Err(err) => return fail(format_args!("cannot read {}: {err}", file.display())),
    };
    let storage = match server::storage::connect(&settings.database_url).await {
        Ok(storage) => storage,
        Err(err) => return fail(format_args!("storage: {err}")),
    };
    match policies::publish(storage.as_ref(), &source, material, Clock::system().now()).await {
        Ok(Published::New(record)) => {
            println!(
                "published policy version {} ({}, {}); running instances pick it up within {} s",
                record.version,
                record.hash,
                if record.material {
                    "material"
                } else {
                    "not material"
                },
                settings.policy_refresh_secs,
            );
            ExitCode::SUCCESS
        }
        Ok(Published::Unchanged(record)) => {
            println!(
                "policy version {} is already published with this content ({}); nothing changed",
                record.version, record.hash
            );
            ExitCode::SUCCESS
        }
        Err(err) => fail(format_args!("{}: {err}", file.display())),
    }
}
