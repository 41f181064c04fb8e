//! The consent log's page: the log's name and keys, its latest signed head and the history of
//! heads a witness could have seen, the last whole-log check, and running one now.

use super::ConsoleService;
use crate::domain::log::{Report, SignedHead};
use crate::service::log::{LogError, base64_hash, head_time};
use crate::storage::LogVerification;
use app::console::{LogHeadRow, LogKeyRow, LogPage, LogVerificationRow};
use chrono::TimeDelta;

/// The heads the page lists.
const HEADS_SHOWN: u64 = 50;
/// How far a record's time may trail the heads and the leaf ahead of it (instances whose
/// clocks differ a little), as `server log verify` allows by default.
const VERIFY_TOLERANCE: TimeDelta = TimeDelta::seconds(60);

impl ConsoleService {
    pub async fn log_page(&self) -> Result<LogPage, LogError> {
        // A stored head that does not verify is what the page is for: it says so rather than
        // failing, and "Verify now" names it.
        let (heads, heads_unreadable) = match self.log.recent_heads(HEADS_SHOWN).await {
            Ok(heads) => (heads, None),
            Err(LogError::BadStoredHead(err)) => (
                Vec::new(),
                Some(format!(
                    "The stored heads cannot be listed: one does not verify ({err}). Verify the log to find which."
                )),
            ),
            Err(other) => return Err(other),
        };
        // The largest stored head (any instance's), else this instance's own.
        let latest = match heads.first() {
            Some(head) => Some(head.clone()),
            None => match self.log.latest_head().await {
                Ok(head) => Some(head),
                Err(LogError::NoHead | LogError::BadStoredHead(_)) => None,
                Err(other) => return Err(other),
            },
        };
        Ok(LogPage {
            origin: self.log.origin().to_owned(),
            keys: self
                .log
                .verifiers()
                .iter()
                .enumerate()
                .map(|(position, verifier)| LogKeyRow {
                    key_id: verifier.key_id_hex(),
                    verifier_key: verifier.verifier_key(),
                    current: position == 0,
                })
                .collect(),
            latest: latest.as_ref().map(head_row),
            heads: heads.iter().map(head_row).collect(),
            heads_unreadable,
            head_interval_secs: self.log.interval().as_secs(),
            verification: self
                .log
                .last_verification()
                .await?
                .map(|run| verification_row(&run)),
        })
    }

    /// Checks the whole log now, as `server log verify` does, and records the result the page
    /// then shows.
    pub async fn verify_log(&self) -> Result<Report, LogError> {
        self.log.verify(VERIFY_TOLERANCE).await
    }
}

fn head_row(signed: &SignedHead) -> LogHeadRow {
    LogHeadRow {
        tree_size: signed.head.size,
        root_hash: base64_hash(signed.head.root),
        timestamp: head_time(signed.head.timestamp),
        key_id: signed.key_id.clone(),
        checkpoint: signed.note.clone(),
    }
}

fn verification_row(run: &LogVerification) -> LogVerificationRow {
    LogVerificationRow {
        ran_at: run.ran_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        leaves: run.tree_size,
        heads: run.heads,
        clean: run.clean,
        problems: run.problems,
        first_problem: run.first_problem.clone(),
    }
}
