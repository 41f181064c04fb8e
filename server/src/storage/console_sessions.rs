//! The console sessions port: sessions signed out before they expired, refused by every
//! instance.

use super::StorageError;
use chrono::{DateTime, Utc};

/// Signed-out console sessions: what the console's session extractor and sign-out use.
#[async_trait::async_trait]
pub trait ConsoleSessionStore: Send + Sync {
    /// Records that the session `session_id` is over, until it would have expired
    /// (`expires_at`), when the purge deletes the record. Revoking twice changes nothing.
    async fn revoke_console_session(
        &self,
        session_id: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError>;

    /// Whether the session `session_id` was signed out.
    async fn is_console_session_revoked(&self, session_id: &str) -> Result<bool, StorageError>;
}
