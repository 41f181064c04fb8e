//! `server keys …`: the token signing keys and the pseudonym key (README: "Rotating keys").

use super::fail;
use clap::Subcommand;
use server::infra::config::{KeyEntry, Settings};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
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

pub fn run(settings: &Settings, command: KeysCommand) -> ExitCode {
    match command {
        KeysCommand::Pseudonym => print_pseudonym_key(settings),
        KeysCommand::Generate { id } => generate(id),
    }
}

// The command's output is the key entry itself.
#[allow(clippy::print_stdout)]
pub fn generate(id: Option<String>) -> ExitCode {
    let id = id.unwrap_or_else(|| chrono::Utc::now().format("%Y-%m").to_string());
    match KeyEntry::generate(&id) {
        Ok(entry) => {
            println!("{entry}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(err),
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
        Err(err) => fail(err),
    }
}
