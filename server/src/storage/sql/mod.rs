//! The storage implementation, written once over the sqlx database: the same SQL (`$N`
//! placeholders, which both engines accept), the same column lists and the same row mapping.
//! One file per aggregate, each implementing its port for [`SqlStorage`]; this one holds what
//! they share.

use super::{StorageError, StorageHealth};
use sqlx::migrate::Migrator;
use sqlx::{Database, Pool};
use uuid::Uuid;

/// What differs between the engines.
pub trait Engine: Database {
    /// How event ids are stored: a native UUID, or its text.
    type Id: From<Uuid> + Into<Uuid> + Send + Sync;
    /// The migrations for this engine, embedded in the binary.
    fn migrator() -> &'static Migrator;
    /// SQL that takes (answering `locked`) and releases the lock that lets one instance purge
    /// at a time, on one connection; none where one instance owns the database.
    const PURGE_LOCK: Option<(&'static str, &'static str)>;
    /// Whether a group of decisions (`insert_consent_events`) is written as one statement of
    /// data-modifying CTEs instead of a transaction of four.
    const GROUP_IN_ONE_STATEMENT: bool;
    /// Whether the driver runs several `;`-separated statements with bind parameters in one
    /// call, so a transaction of four can still be one trip to the connection.
    const STATEMENTS_IN_ONE_CALL: bool;
    /// How a transaction that writes begins. On SQLite a deferred transaction that has read
    /// cannot take the write lock once another connection wrote since (SQLITE_BUSY_SNAPSHOT,
    /// which the busy timeout does not retry): writers take the lock first and wait their turn.
    const BEGIN_WRITE: &'static str;
    /// The consent log's leaf hashes from `$1` on (at most `$2`), as one row: their count, the
    /// first index and their hex concatenated in index order. Rows come through the driver one
    /// message at a time, and a row per leaf was a tenth of the decisions' throughput.
    const LEAF_HASHES_AS_ONE_ROW: &'static str;
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// One engine's pool behind the storage ports.
pub struct SqlStorage<DB: Database> {
    pub(in crate::storage) pool: Pool<DB>,
}

/// Implements, for both engines' [`SqlStorage`], a port (`impl DecisionStore { … }`, after its
/// attributes) or helpers of its own (`impl { … }`), under the bounds the generic SQL needs:
/// the pool and a connection run queries, and every type bound or read is one both engines
/// encode and decode. One list of bounds, so that the aggregates' files hold only their SQL.
/// rustfmt does not reach into a macro's body: keep it as rustfmt would format it, four
/// spaces further in.
macro_rules! for_both_engines {
    ($(#[$attribute:meta])* impl $($port:ident)? { $($body:tt)* }) => {
        $(#[$attribute])*
        impl<DB: $crate::storage::sql::Engine> $($port for)? $crate::storage::sql::SqlStorage<DB>
        where
            for<'c> &'c ::sqlx::Pool<DB>: ::sqlx::Executor<'c, Database = DB>,
            for<'c> &'c mut DB::Connection: ::sqlx::Executor<'c, Database = DB>,
            DB::Connection: ::sqlx::migrate::Migrate,
            DB::Arguments: ::sqlx::IntoArguments<DB>,
            for<'r> &'r str: ::sqlx::ColumnIndex<DB::Row>,
            for<'r> String: ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> &'r str: ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> Option<String>:
                ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> bool: ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> DB::Id: ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> ::sqlx::types::Json<::std::collections::BTreeMap<String, bool>>:
                ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> ::chrono::DateTime<::chrono::Utc>:
                ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> Option<::chrono::DateTime<::chrono::Utc>>:
                ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> i64: ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
            for<'r> ::sqlx::types::Json<::std::collections::BTreeMap<String, u64>>:
                ::sqlx::Decode<'r, DB> + ::sqlx::Encode<'r, DB> + ::sqlx::Type<DB>,
        {
            $($body)*
        }
    };
}

/// The column lists, as literals so that every query is one `&'static str`.
macro_rules! event_columns {
    () => {
        "id, ssaid, policy_version, categories, action, source, created_at, policy_hash, \
         banner_text_hash, language, ip_prefix, ua_class, origin, made_at, jurisdiction, regime, \
         country, country_source, log_salt"
    };
}
macro_rules! sighting_columns {
    () => {
        "ssaid, network, day, terminal_types, seen_count, first_seen, last_seen, last_service, \
         last_event"
    };
}
/// One SSAID's sightings last seen at or after `$2`: risk's read, and part of a subject's.
macro_rules! sightings_of_ssaid {
    () => {
        concat!(
            "SELECT ",
            sighting_columns!(),
            " FROM ssaid_sightings WHERE ssaid = $1 AND last_seen >= $2 ORDER BY day, network"
        )
    };
}

/// [`sightings_of_ssaid!`] as one `&'static str`.
const SIGHTINGS_OF_SSAID: &str = sightings_of_ssaid!();

mod console_sessions;
mod decisions;
mod log;
mod matomo_jobs;
mod observations;
mod policies;
mod purge;
mod risk;
mod scans;
mod statistics;
mod subjects;

/// Days are stored as text on both engines, so the generic SQL compares them alike.
const DAY_FORMAT: &str = "%Y-%m-%d";

/// A day as stored (`YYYY-MM-DD`, UTC).
fn day_text(day: chrono::NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

/// A `day` column.
fn day_column(raw: &str) -> Result<chrono::NaiveDate, StorageError> {
    parse_column("day", raw, |raw| {
        chrono::NaiveDate::parse_from_str(raw, DAY_FORMAT).ok()
    })
}

/// A text column of ours; a value we never write means the row was not written by us.
fn parse_column<T>(
    column: &str,
    raw: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, StorageError> {
    parse(raw).ok_or_else(|| StorageError::Corrupt(format!("unknown {column} {raw:?}")))
}

for_both_engines! {
    impl {
        /// Applies the embedded migrations for this engine (`crate::storage::connect`).
        pub async fn migrate(&self) -> Result<(), StorageError> {
            DB::migrator().run(&self.pool).await?;
            Ok(())
        }

        /// A transaction that writes ([`Engine::BEGIN_WRITE`]).
        pub(super) async fn begin_write(
            &self,
        ) -> Result<sqlx::Transaction<'static, DB>, StorageError> {
            Ok(self.pool.begin_with(DB::BEGIN_WRITE).await?)
        }
    }
}

for_both_engines! {
    #[async_trait::async_trait]
    impl StorageHealth {
        async fn ping(&self) -> Result<(), StorageError> {
            sqlx::query::<DB>("SELECT 1").execute(&self.pool).await?;
            Ok(())
        }
    }
}
