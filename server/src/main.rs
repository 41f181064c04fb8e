#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use server::infra::clock::Clock;
use server::infra::config::Settings;
use server::service::policies::{self, Published};
use server::startup::{Application, shutdown_signal};
use std::path::PathBuf;
use std::process::ExitCode;

/// Page rendering is mostly allocation: with glibc's malloc, allocating and freeing took about
/// a third of a page's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ZecCloud Consent: the consent banner, preference center and proof-of-consent service.
/// Settings come from `consent.toml` (or `ZC_CONFIG`) and `ZC_*` variables.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Manage consent policy versions.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Manage the token signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Run the retention purge (notice §04) now; it also runs hourly in the service.
    Purge {
        /// Count what would go, delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Purge as of this date (YYYY-MM-DD, UTC midnight) instead of now.
        #[arg(long)]
        as_of: Option<chrono::NaiveDate>,
    },
    /// A data subject's rights (notice §07), for staff answering a ticket.
    #[command(subcommand)]
    Subject(SubjectCommand),
    /// Export every decision made from one UTC day to another (both included), for an audit;
    /// the columns are described in README.md.
    Export {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// csv or jsonl.
        #[arg(long, default_value = "csv")]
        format: String,
        /// Write here instead of to standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SubjectCommand {
    /// Print everything stored under an SSAID (or the SSAID of a receipt's consent id), JSON.
    Show {
        /// An SSAID, or a consent id (UUID) from a receipt.
        // An SSAID is base64url: one in 32 begins with `-`, which is not an option here.
        #[arg(allow_hyphen_values = true)]
        subject: String,
    },
    /// Erase everything stored under it; prints the erasure's evidence, JSON.
    Erase {
        /// An SSAID, or a consent id (UUID) from a receipt.
        #[arg(allow_hyphen_values = true)]
        subject: String,
        /// The ticket this erasure answers.
        #[arg(long)]
        ticket: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Print the pseudonym key in use (set it as `pseudonym_key` before rotating keys, so
    /// Matomo visitor ids and erasure hashes stay the same).
    Pseudonym,
    /// Print a new random key as a `signing_keys` entry (TOML); README: "Rotating keys".
    Generate {
        /// The key's id (default: this year and month, e.g. 2026-11).
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
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

fn main() -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    // Needs no settings: it only prints.
    if let Some(Command::Keys(KeysCommand::Generate { id })) = &cli.command {
        return generate_key(id.clone());
    }
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    server::infra::telemetry::init(settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Policy(PolicyCommand::Publish { file, material }) => {
            publish(settings, file, material).await
        }
        Command::Keys(KeysCommand::Pseudonym) => print_pseudonym_key(&settings),
        Command::Keys(KeysCommand::Generate { .. }) => {
            unreachable!("handled before the settings are loaded")
        }
        Command::Subject(command) => subject(settings, command).await,
        Command::Purge { dry_run, as_of } => purge(settings, dry_run, as_of).await,
        Command::Export {
            from,
            to,
            format,
            output,
        } => export(settings, &from, &to, &format, output).await,
    }
}

/// Streams the export to a file or standard output, page by page; on a terminal, a progress
/// line on standard error counts the rows.
async fn export(
    settings: Settings,
    from: &str,
    to: &str,
    format: &str,
    output: Option<PathBuf>,
) -> ExitCode {
    use server::service::console::export::{DayRange, ExportFormat, Exporter};
    use std::io::Write;

    let range = match DayRange::parse(from, to) {
        Ok(range) => range,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let Some(format) = ExportFormat::parse(format) else {
        eprintln!("error: --format must be csv or jsonl, not {format:?}");
        return ExitCode::FAILURE;
    };
    let storage = match server::storage::connect(&settings.database_url).await {
        Ok(storage) => storage,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let mut sink: Box<dyn Write> = match &output {
        Some(path) => match std::fs::File::create(path) {
            Ok(file) => Box::new(std::io::BufWriter::new(file)),
            Err(err) => {
                eprintln!("error: cannot write {}: {err}", path.display());
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // Hidden unless standard error is a terminal: scripts get clean output.
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut exporter = Exporter::new(storage, range, format);
    loop {
        match exporter.next_chunk().await {
            Ok(Some(chunk)) => {
                if let Err(err) = sink.write_all(&chunk) {
                    bar.finish_and_clear();
                    eprintln!("error: writing the export: {err}");
                    return ExitCode::FAILURE;
                }
                bar.set_message(format!("{} decisions", exporter.rows));
            }
            Ok(None) => break,
            Err(err) => {
                bar.finish_and_clear();
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    bar.finish_and_clear();
    if let Err(err) = sink.flush() {
        eprintln!("error: writing the export: {err}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "{} decisions from {} to {} exported",
        exporter.rows, range.from, range.to
    );
    ExitCode::SUCCESS
}

async fn serve(settings: Settings) -> ExitCode {
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %err, "could not start");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "listening on http://{} (operations: http://{}/healthz, /metrics)",
        app.local_addr(),
        app.ops_addr()
    );
    if let Err(err) = app.run_until_stopped(shutdown_signal()).await {
        tracing::error!(error = %err, "server failed");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
async fn publish(settings: Settings, file: PathBuf, material: bool) -> ExitCode {
    let source = match std::fs::read_to_string(&file) {
        Ok(source) => source,
        Err(err) => {
            eprintln!("error: cannot read {}: {err}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let storage = match server::storage::connect(&settings.database_url).await {
        Ok(storage) => storage,
        Err(err) => {
            eprintln!("error: storage: {err}");
            return ExitCode::FAILURE;
        }
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
        Err(err) => {
            eprintln!("error: {}: {err}", file.display());
            ExitCode::FAILURE
        }
    }
}

// The command's output is the key entry itself.
#[allow(clippy::print_stdout)]
fn generate_key(id: Option<String>) -> ExitCode {
    let id = id.unwrap_or_else(|| chrono::Utc::now().format("%Y-%m").to_string());
    match server::infra::config::KeyEntry::generate(&id) {
        Ok(entry) => {
            println!("{entry}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
async fn subject(settings: Settings, command: SubjectCommand) -> ExitCode {
    use server::domain::Ssaid;
    use server::domain::rights::{ErasureChannel, parse_ticket};
    let fail = |message: String| {
        eprintln!("error: {message}");
        ExitCode::FAILURE
    };
    let consent = match server::startup::consent_service(&settings, Clock::system()).await {
        Ok(consent) => consent,
        Err(err) => return fail(err.to_string()),
    };
    let named = match &command {
        SubjectCommand::Show { subject } | SubjectCommand::Erase { subject, .. } => subject.clone(),
    };
    // A consent id names its SSAID; anything else must be one.
    let ssaid = match uuid::Uuid::parse_str(&named) {
        Ok(id) => match consent.storage.find_consent_event(id).await {
            Ok(Some(event)) => event.ssaid,
            Ok(None) => return fail(format!("no consent record has the id {named}")),
            Err(err) => return fail(err.to_string()),
        },
        Err(_) => match Ssaid::parse(&named) {
            Ok(ssaid) => ssaid,
            Err(_) => return fail(format!("{named:?} is neither an SSAID nor a consent id")),
        },
    };
    let printed = match command {
        SubjectCommand::Show { .. } => consent
            .subject(&ssaid, None)
            .await
            .map(|data| serde_json::to_string_pretty(&data)),
        SubjectCommand::Erase { ticket, .. } => {
            let ticket = match ticket.as_deref().map(parse_ticket) {
                Some(None) => return fail("--ticket must be 1 to 64 printable characters".into()),
                Some(Some(ticket)) => Some(ticket),
                None => None,
            };
            consent
                .erase(&ssaid, ErasureChannel::Staff { ticket })
                .await
                .map(|erasure| serde_json::to_string_pretty(&erasure))
        }
    };
    match printed {
        Ok(Ok(json)) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok(Err(err)) => fail(err.to_string()),
        Err(err) => fail(err.to_string()),
    }
}

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
async fn purge(settings: Settings, dry_run: bool, as_of: Option<chrono::NaiveDate>) -> ExitCode {
    let consent = match server::startup::consent_service(&settings, Clock::system()).await {
        Ok(consent) => consent,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
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
                println!("  {table:<26} {rows:>8} {verb}");
            }
            println!(
                "  {:<26} {:>8} {verb}",
                "total",
                report.values().sum::<u64>()
            );
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("error: another instance is purging right now; try again in a minute");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

// The command's output is the setting itself.
#[allow(clippy::print_stdout)]
fn print_pseudonym_key(settings: &Settings) -> ExitCode {
    use base64::Engine as _;
    use secrecy::ExposeSecret;
    let key = settings
        .load_key_ring()
        .and_then(|ring| settings.load_pseudonym_key(&ring));
    match key {
        Ok(key) => {
            let encoded = base64::engine::general_purpose::STANDARD.encode(key.expose_secret());
            println!("pseudonym_key = \"{encoded}\"");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ssaid_beginning_with_a_hyphen_is_a_subject_not_an_option() {
        let cli = Cli::try_parse_from([
            "server",
            "subject",
            "erase",
            "-DPmtIXqcQMkiUUO_ooEXg",
            "--ticket",
            "ZC-77",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Subject(SubjectCommand::Erase { subject, ticket })) => {
                assert_eq!(subject, "-DPmtIXqcQMkiUUO_ooEXg");
                assert_eq!(ticket.as_deref(), Some("ZC-77"));
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["server", "subject", "show", "-x9"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Subject(SubjectCommand::Show { subject })) if subject == "-x9"
        ));
    }
}
