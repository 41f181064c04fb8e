//! [`ConsoleSessionStore`]: signed-out console sessions, by id.

use crate::storage::{ConsoleSessionStore, StorageError};
use chrono::{DateTime, Utc};

for_both_engines! {
    #[async_trait::async_trait]
    impl ConsoleSessionStore {
        async fn revoke_console_session(
            &self,
            session_id: &str,
            expires_at: DateTime<Utc>,
        ) -> Result<(), StorageError> {
            sqlx::query::<DB>(
                "INSERT INTO console_session_revocations (session_id, expires_at) \
                 VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING",
            )
            .bind(session_id)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        async fn is_console_session_revoked(
            &self,
            session_id: &str,
        ) -> Result<bool, StorageError> {
            let revoked = sqlx::query::<DB>(
                "SELECT session_id FROM console_session_revocations WHERE session_id = $1",
            )
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
            Ok(revoked.is_some())
        }
    }
}
