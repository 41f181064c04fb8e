//! `server subject …`: a data subject's rights (notice §07), for staff answering a ticket.

use super::fail;
use clap::Subcommand;
use server::domain::Ssaid;
use server::domain::rights::{ErasureChannel, parse_ticket};
use server::infra::clock::Clock;
use server::infra::config::Settings;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
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

// The command's report is its output, not a log line.
#[allow(clippy::print_stdout)]
pub async fn run(settings: Settings, command: SubjectCommand) -> ExitCode {
    let consent = match server::startup::consent_service(&settings, Clock::system()).await {
        Ok(consent) => consent,
        Err(err) => return fail(err),
    };
    let named = match &command {
        SubjectCommand::Show { subject } | SubjectCommand::Erase { subject, .. } => subject.clone(),
    };
    // A consent id names its SSAID; anything else must be one.
    let ssaid = match uuid::Uuid::parse_str(&named) {
        Ok(id) => match consent.storage.find_consent_event(id).await {
            Ok(Some(event)) => event.ssaid,
            Ok(None) => return fail(format_args!("no consent record has the id {named}")),
            Err(err) => return fail(err),
        },
        Err(_) => match Ssaid::parse(&named) {
            Ok(ssaid) => ssaid,
            Err(_) => {
                return fail(format_args!(
                    "{named:?} is neither an SSAID nor a consent id"
                ));
            }
        },
    };
    let printed = match command {
        SubjectCommand::Show { .. } => consent
            .subject(&ssaid, None)
            .await
            .map(|data| serde_json::to_string_pretty(&data)),
        SubjectCommand::Erase { ticket, .. } => {
            let ticket = match ticket.as_deref().map(parse_ticket) {
                Some(None) => return fail("--ticket must be 1 to 64 printable characters"),
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
        Ok(Err(err)) => fail(err),
        Err(err) => fail(err),
    }
}
