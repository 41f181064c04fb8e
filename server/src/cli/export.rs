//! `server export`: every decision of a range of UTC days, as CSV or JSON lines, for an audit.

use super::fail;
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use server::infra::config::Settings;
use server::service::console::export::{DayRange, ExportFormat, Exporter};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// First day, YYYY-MM-DD.
    #[arg(long)]
    pub from: NaiveDate,
    /// Last day, YYYY-MM-DD.
    #[arg(long)]
    pub to: NaiveDate,
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    pub format: Format,
    /// Write here instead of to standard output.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// The export's format, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl From<Format> for ExportFormat {
    fn from(format: Format) -> Self {
        match format {
            Format::Csv => ExportFormat::Csv,
            Format::Jsonl => ExportFormat::JsonLines,
        }
    }
}

/// Streams the export to a file or standard output, page by page; on a terminal, a progress
/// line on standard error counts the rows.
pub async fn run(settings: Settings, args: ExportArgs) -> ExitCode {
    let range = match DayRange::new(args.from, args.to) {
        Ok(range) => range,
        Err(message) => return fail(message),
    };
    let storage = match server::storage::connect(&settings.database_url).await {
        Ok(storage) => storage,
        Err(err) => return fail(err),
    };
    let mut sink: Box<dyn Write> = match &args.output {
        // Decisions with SSAIDs: readable by the one who exported them only, like the database.
        Some(path) => match private_file(path) {
            Ok(file) => Box::new(std::io::BufWriter::new(file)),
            Err(err) => return fail(format_args!("cannot write {}: {err}", path.display())),
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    // Hidden unless standard error is a terminal: scripts get clean output.
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut exporter = Exporter::new(storage, range, args.format.into());
    loop {
        match exporter.next_chunk().await {
            Ok(Some(chunk)) => {
                if let Err(err) = sink.write_all(&chunk) {
                    bar.finish_and_clear();
                    return fail(format_args!("writing the export: {err}"));
                }
                bar.set_message(format!("{} decisions", exporter.rows));
            }
            Ok(None) => break,
            Err(err) => {
                bar.finish_and_clear();
                return fail(err);
            }
        }
    }
    bar.finish_and_clear();
    if let Err(err) = sink.flush() {
        return fail(format_args!("writing the export: {err}"));
    }
    eprintln!(
        "{} decisions from {} to {} exported",
        exporter.rows, range.from, range.to
    );
    ExitCode::SUCCESS
}

/// `path` created (or emptied) with mode 0600.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its mode through `open`: narrowed too.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}
