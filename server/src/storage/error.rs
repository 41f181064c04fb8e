//! What can go wrong in storage, whichever port was called.

use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL (use sqlite:// or postgres://)")]
    UnsupportedUrl,
    /// One failure answered to every decision of a group commit.
    #[error("{0}")]
    Shared(Arc<StorageError>),
    /// The group-commit writer has stopped (the service is shutting down).
    #[error("the decision writer has stopped")]
    WriterStopped,
}

impl StorageError {
    /// Whether the database cannot be reached for now (it is down, restarting, refusing
    /// connections, or every connection stayed busy past the pool's wait): the request may be
    /// tried again shortly, as opposed to a fault of ours.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // Connection exceptions (08…) and the server shutting down or starting (57P0…).
            Self::Database(sqlx::Error::Database(database)) => database
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
            Self::Shared(err) => err.is_unavailable(),
            Self::WriterStopped => true,
            _ => false,
        }
    }
}
