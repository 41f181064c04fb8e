//! SQLite, the embedded default: a file, created with its folder on first start.

use super::StorageError;
use super::sql::{Engine, SqlStorage};
use sqlx::ConnectOptions;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;
use uuid::fmt::Hyphenated;

pub type SqliteStorage = SqlStorage<Sqlite>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

impl Engine for Sqlite {
    /// Event ids are stored as their text.
    type Id = Hyphenated;
    /// One SQLite file, one instance: nothing to take turns with.
    const PURGE_LOCK: Option<(&'static str, &'static str)> = None;

    /// No data-modifying CTEs in SQLite.
    const GROUP_IN_ONE_STATEMENT: bool = false;
    /// sqlx runs every statement of a call on the connection's thread.
    const STATEMENTS_IN_ONE_CALL: bool = true;
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    const LEAF_HASHES_AS_ONE_ROW: &'static str = "SELECT COUNT(*) AS leaves, \
        MIN(leaf_index) AS first, MAX(leaf_index) AS last, \
        group_concat(leaf_hash, '' ORDER BY leaf_index) AS hashes \
        FROM (SELECT leaf_index, leaf_hash FROM log_leaves WHERE leaf_index >= $1 \
        ORDER BY leaf_index LIMIT $2) AS batch";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStorage<Sqlite> {
    /// Opens (and creates, with its folder) the database file the URL names.
    pub async fn connect(database_url: &str) -> Result<Self, StorageError> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A decision acknowledged is on disk: the commit waits for the WAL's fsync, so
            // neither a killed process nor a lost machine loses an answered 2xx.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .log_statements(tracing::log::LevelFilter::Trace);
        if let Some(dir) = options
            .get_filename()
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| StorageError::Database(sqlx::Error::Io(e)))?;
        }
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        if !in_memory {
            create_private(options.get_filename())
                .map_err(|e| StorageError::Database(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A connection to a file cannot go stale while idle, so the ping sqlx sends before
            // handing one out is a wasted trip to its worker thread on every request (sqlx
            // still pings on release, which catches a connection left mid-statement).
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }
}

/// Creates the database file readable by its owner only (0600), as the signing key is: it
/// holds SSAIDs and decisions. SQLite gives its `-wal` and `-shm` files the database file's
/// mode. A file that exists is left as it is (its owner chose), with a warning when others
/// may read it.
fn create_private(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format_args!("{:o}", mode & 0o777),
                    "the database file may be read by other users: chmod 600 it"
                );
            }
            Ok(())
        }
        Err(err) => Err(err),
    }
}
