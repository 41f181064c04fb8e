//! The command line: one file per command group, each with its clap types and its handler.
//! Settings come from `consent.toml` (or `ZC_CONFIG`) and `ZC_*` variables; every command but
//! `keys generate` loads them. A command's report goes to standard output, errors to standard
//! error with a failing exit code.

mod export;
mod keys;
mod log;
mod policy;
mod purge;
mod scan;
mod serve;
mod subject;
mod witness;

use clap::{Parser, Subcommand};
use server::infra::config::Settings;
use std::process::ExitCode;

/// ZecCloud Consent: the consent banner, preference center and proof-of-consent service.
/// Settings come from `consent.toml` (or `ZC_CONFIG`) and `ZC_*` variables.
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Manage consent policy versions.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Manage the token signing keys.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Run the retention purge (notice §04) now; it also runs hourly in the service.
    Purge(purge::PurgeArgs),
    /// A data subject's rights (notice §07), for staff answering a ticket.
    #[command(subcommand)]
    Subject(subject::SubjectCommand),
    /// Export every decision made from one UTC day to another (both included), for an audit;
    /// the columns are described in README.md.
    Export(export::ExportArgs),
    /// The consent log: check it whole, make a log key, witness it (docs/consent-log.md).
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Check what pages really set and contact against the identifier registry, in headless
    /// Chromium: no choice, rejected, accepted (docs/tracker-audit.md). Exit status 0 clean,
    /// 1 violations, 2 the scan could not run.
    Scan(scan::ScanArgs),
}

impl Cli {
    pub async fn run(self) -> ExitCode {
        let command = self.command.unwrap_or(Command::Serve);
        // Needs no settings: it only prints.
        if let Command::Keys(keys::KeysCommand::Generate { id }) = command {
            return keys::generate(id);
        }
        if let Command::Log(log::LogCommand::Keygen) = command {
            return log::keygen();
        }
        // Reads only the file it is given, so it works on a machine with no configuration.
        if let Command::Policy(policy::PolicyCommand::Check { file }) = &command {
            return policy::check(file);
        }
        // Reads only the service's public endpoints and its own state file.
        if let Command::Log(log::LogCommand::Witness(args)) = &command {
            return witness::run(&args.url, &args.state, args.key.as_deref()).await;
        }
        // Needs the browser and the service's public registry; settings only to keep the report.
        let command = match command {
            Command::Scan(args) if !args.record => return scan::run(args, None).await,
            other => other,
        };
        let settings = match Settings::load() {
            Ok(settings) => settings,
            Err(err) => return fail(err),
        };
        server::infra::telemetry::init(settings.log_format);
        match command {
            Command::Serve => serve::run(settings).await,
            Command::Policy(command) => policy::run(settings, command).await,
            Command::Keys(command) => keys::run(&settings, command),
            Command::Subject(command) => subject::run(settings, command).await,
            Command::Purge(args) => purge::run(settings, args).await,
            Command::Export(args) => export::run(settings, args).await,
            Command::Log(command) => log::run(settings, command).await,
            Command::Scan(args) => scan::run(args, Some(settings)).await,
        }
    }
}

/// Reports a command's failure on standard error.
fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("server").chain(args.iter().copied()))
    }

    #[test]
    fn an_ssaid_beginning_with_a_hyphen_is_a_subject_not_an_option() {
        let cli = parse(&[
            "subject",
            "erase",
            "-DPmtIXqcQMkiUUO_ooEXg",
            "--ticket",
            "ZC-77",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Subject(subject::SubjectCommand::Erase { subject, ticket })) => {
                assert_eq!(subject, "-DPmtIXqcQMkiUUO_ooEXg");
                assert_eq!(ticket.as_deref(), Some("ZC-77"));
            }
            other => panic!("{other:?}"),
        }
        let cli = parse(&["subject", "show", "-x9"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Subject(subject::SubjectCommand::Show { subject })) if subject == "-x9"
        ));
    }

    #[test]
    fn export_takes_dates_and_a_format_by_name() {
        let cli = parse(&[
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "jsonl",
        ])
        .unwrap();
        let Some(Command::Export(args)) = cli.command else {
            panic!("{:?}", cli.command)
        };
        assert_eq!(
            args.from,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap()
        );
        assert_eq!(
            args.to,
            chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
        );
        assert_eq!(args.format, export::Format::Jsonl);
        // csv unless told otherwise.
        let cli = parse(&["export", "--from", "2026-11-01", "--to", "2026-11-01"]).unwrap();
        assert!(
            matches!(cli.command, Some(Command::Export(args)) if args.format == export::Format::Csv)
        );
    }

    #[test]
    fn bad_dates_and_formats_are_refused_when_parsing() {
        use clap::error::ErrorKind::{InvalidValue, ValueValidation};
        let xml = [
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-02",
            "--format",
            "xml",
        ];
        for (args, kind) in [
            (
                &["export", "--from", "yesterday", "--to", "2026-11-01"][..],
                ValueValidation,
            ),
            (
                &["export", "--from", "2026-11-31", "--to", "2026-12-01"],
                ValueValidation,
            ),
            (&["purge", "--as-of", "2026-13-01"], ValueValidation),
            (&xml, InvalidValue),
        ] {
            assert_eq!(parse(args).unwrap_err().kind(), kind, "{args:?}");
        }
        let cli = parse(&["purge", "--dry-run", "--as-of", "2026-11-01"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Purge(args)) if args.dry_run && args.as_of == chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
        ));
    }
}
