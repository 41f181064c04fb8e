//! `server policy …`: consent policy versions (notice §11).

use super::fail;
use app::domain::Policy;
use app::domain::language::SUPPORTED_LANGUAGES;
use clap::Subcommand;
use server::infra::clock::Clock;
use server::infra::config::Settings;
use server::service::policies::{self, Published};
use std::path::{Path, PathBuf};
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
    /// Check a policy file without publishing it: that it would be accepted, and which texts
    /// each jurisdiction's visitors would read in the default language instead of their own.
    /// Exits 1 when the file would be refused or a text is missing.
    Check {
        /// The policy TOML file.
        file: PathBuf,
    },
}

pub async fn run(settings: Settings, command: PolicyCommand) -> ExitCode {
    match command {
        PolicyCommand::Publish { file, material } => publish(settings, file, material).await,
        PolicyCommand::Check { file } => check(&file),
    }
}

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
pub fn check(file: &Path) -> ExitCode {
    let source = match std::fs::read_to_string(file) {
        Ok(source) => source,
        Err(err) => return fail(format_args!("cannot read {}: {err}", file.display())),
    };
    let policy = match Policy::from_toml(&source) {
        Ok(policy) => policy,
        Err(err) => return fail(format_args!("{}: {err}", file.display())),
    };
    let missing = policy.missing_texts(&SUPPORTED_LANGUAGES);
    let jurisdictions = policy.jurisdictions.len();
    if missing.is_empty() {
        println!(
            "{}: policy version {} is valid; every text of its {jurisdictions} jurisdictions \
             (and the default) is there in {}",
            file.display(),
            policy.version,
            SUPPORTED_LANGUAGES.join(", ")
        );
        return ExitCode::SUCCESS;
    }
    println!(
        "{}: policy version {} is valid, but visitors would read these texts in the default \
         language {:?}:",
        file.display(),
        policy.version,
        policy.default_language
    );
    let mut current: Option<(&str, &str)> = None;
    for text in &missing {
        let group = (text.jurisdiction.as_str(), text.language.as_str());
        if current != Some(group) {
            println!("  jurisdiction {}, language {}:", group.0, group.1);
            current = Some(group);
        }
        println!("    {}", text.text);
    }
    ExitCode::FAILURE
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
