//! PostgreSQL, for production and for several instances behind a load balancer.

use super::StorageError;
use super::sql::{Engine, SqlStorage};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPoolOptions, PgQueryResult, Postgres};
use std::time::Duration;
use uuid::Uuid;

pub type PostgresStorage = SqlStorage<Postgres>;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

impl Engine for Postgres {
    /// Event ids are native UUIDs.
    type Id = Uuid;
    /// A session advisory lock: instances behind one load balancer purge one at a time.
    const PURGE_LOCK: Option<(&'static str, &'static str)> = Some((
        "SELECT pg_try_advisory_lock(7426853214690517) AS locked",
        "SELECT pg_advisory_unlock(7426853214690517)",
    ));

    /// Data-modifying CTEs: a group of decisions is one statement and one round trip.
    const GROUP_IN_ONE_STATEMENT: bool = true;
    /// The extended protocol takes one statement per call.
    const STATEMENTS_IN_ONE_CALL: bool = false;
    const BEGIN_WRITE: &'static str = "BEGIN";

    const LEAF_HASHES_AS_ONE_ROW: &'static str = "SELECT COUNT(*) AS leaves, \
        MIN(leaf_index) AS first, MAX(leaf_index) AS last, \
        string_agg(leaf_hash, '' ORDER BY leaf_index) AS hashes \
        FROM (SELECT leaf_index, leaf_hash FROM log_leaves WHERE leaf_index >= $1 \
        ORDER BY leaf_index LIMIT $2) AS batch";

    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStorage<Postgres> {
    pub async fn connect(database_url: &str) -> Result<Self, StorageError> {
        // A request waits at most this long for a connection: with the database down (or every
        // connection busy) it is answered 503 `storage_unavailable` at once rather than after
        // a long pool timeout, and the client tries again (`Retry-After`).
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_millis(700))
            .connect(database_url)
            .await?;
        Ok(Self { pool })
    }
}
