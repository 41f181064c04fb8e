//! Storage, one narrow port per aggregate: [`DecisionStore`], [`SubjectStore`],
//! [`MatomoJobStore`], [`RiskStore`], [`StatisticsStore`], [`PolicyStore`], [`PurgeStore`],
//! [`ConsoleSessionStore`], [`LogStore`], [`ObservationStore`], [`ScanStore`] and
//! [`StorageHealth`]; a consumer takes the ports it uses, and [`Storage`] is all of them.
//! One implementation of every port ([`sql`], a file per aggregate), written once for both
//! engines: SQLite (the embedded default) and PostgreSQL. The engine files hold only what
//! differs: how to connect, the migrations, and the type of event ids.

mod console_sessions;
mod decisions;
mod error;
mod health;
mod log;
mod matomo_jobs;
mod observations;
mod policies;
mod postgres;
mod purge;
mod risk;
pub mod scans;
mod sql;
mod sqlite;
mod statistics;
mod subjects;
#[doc(hidden)]
pub mod testing;

pub use console_sessions::ConsoleSessionStore;
pub use decisions::{ConsentEvent, DecisionPlace, DecisionStore, SsaidRecord};
pub use error::StorageError;
pub use health::StorageHealth;
pub use log::{LogStore, LogVerification};
pub use matomo_jobs::{JobSelection, MatomoJob, MatomoJobState, MatomoJobStore};
pub use observations::ObservationStore;
pub use policies::PolicyStore;
pub use postgres::PostgresStorage;
pub use purge::PurgeStore;
pub use risk::RiskStore;
pub use scans::ScanStore;
pub use sqlite::SqliteStorage;
pub use statistics::StatisticsStore;
pub use subjects::{SubjectRecords, SubjectStore};

use std::sync::Arc;

/// Every port: what the console and the admin API take, and what [`connect`] opens.
pub trait Storage:
    DecisionStore
    + SubjectStore
    + MatomoJobStore
    + RiskStore
    + StatisticsStore
    + PolicyStore
    + PurgeStore
    + ConsoleSessionStore
    + LogStore
    + ObservationStore
    + ScanStore
    + StorageHealth
{
}

impl<T> Storage for T where
    T: DecisionStore
        + SubjectStore
        + MatomoJobStore
        + RiskStore
        + StatisticsStore
        + PolicyStore
        + PurgeStore
        + ConsoleSessionStore
        + LogStore
        + ObservationStore
        + ScanStore
        + StorageHealth
        + ?Sized
{
}

/// Opens the engine the URL names and applies its migrations.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(match Opened::open(database_url).await? {
        Opened::Sqlite(storage) => Arc::new(storage),
        Opened::Postgres(storage) => Arc::new(storage),
    })
}

/// An engine connected to and migrated.
enum Opened {
    Sqlite(SqliteStorage),
    Postgres(PostgresStorage),
}

impl Opened {
    async fn open(database_url: &str) -> Result<Self, StorageError> {
        if database_url.starts_with("sqlite:") {
            let storage = SqliteStorage::connect(database_url).await?;
            storage.migrate().await?;
            Ok(Self::Sqlite(storage))
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            let storage = PostgresStorage::connect(database_url).await?;
            storage.migrate().await?;
            Ok(Self::Postgres(storage))
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }
}
