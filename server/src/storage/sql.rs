//! The storage implementation, written once over the sqlx database: the same SQL (`$N`
//! placeholders, which both engines accept), the same column lists and the same row mapping.

use super::{
    ConsentEvent, JobSelection, MatomoJob, MatomoJobState, SsaidRecord, Storage, StorageError,
    SubjectRecords,
};
use crate::domain::retention::PurgeCutoffs;
use crate::domain::rights::ErasureRecord;
use crate::domain::risk::{CounterKind, NetworkCount, Sighting, TerminalTypes};
use crate::domain::statistics::{
    Counted, DecisionCount, DecisionTally, Dimension, TallyKey, add_to_tallies, granted_key,
    parse_granted_key,
};
use crate::domain::{PolicyRecord, PublishOutcome, Ssaid, TerminalType};
use app::domain::{ConsentAction, ConsentSource, PolicyVersion};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::migrate::Migrator;
use sqlx::types::Json;
use sqlx::{
    ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, QueryBuilder, Row, Type,
};
use std::collections::BTreeMap;
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
    fn rows_affected(result: &Self::QueryResult) -> u64;
}

/// One engine's pool behind the [`Storage`] interface.
pub struct SqlStorage<DB: Database> {
    pub(super) pool: Pool<DB>,
}

/// The column lists, as literals so that every query is one `&'static str`.
macro_rules! event_columns {
    () => {
        "id, ssaid, policy_version, categories, action, source, created_at, policy_hash, \
         banner_text_hash, language, ip_prefix, ua_class, origin, made_at"
    };
}
macro_rules! sighting_columns {
    () => {
        "ssaid, network, day, terminal_types, seen_count, first_seen, last_seen, last_service, \
         last_event"
    };
}
macro_rules! matomo_job_columns {
    () => {
        "erasure_id, visitor_id, state, attempts, next_attempt_at, last_error, deleted, \
         created_at, updated_at"
    };
}
macro_rules! policy_columns {
    () => {
        "version, hash, material, published_at, source"
    };
}

/// One SSAID's row, its decisions, its sightings since `$2`: the single reads.
const SSAID_ROW: &str = "SELECT ssaid, issued_at, terminal_type FROM ssaids WHERE ssaid = $1";
/// The SSAID's row with each of its decisions (oldest first), or alone (`action` null).
macro_rules! ssaid_with_events {
    () => {
        "SELECT s.issued_at, s.terminal_type, e.id, e.ssaid, \
         e.policy_version, e.categories, e.action, e.source, e.created_at, e.policy_hash, \
         e.banner_text_hash, e.language, e.ip_prefix, e.ua_class, e.origin, e.made_at \
         FROM ssaids s LEFT JOIN consent_events e ON e.ssaid = s.ssaid WHERE s.ssaid = $1 \
         ORDER BY e.created_at, e.id"
    };
}
const SSAID_WITH_EVENTS: &str = ssaid_with_events!();
const EVENTS_OF_SSAID: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM consent_events WHERE ssaid = $1 ORDER BY created_at, id"
);
macro_rules! sightings_of_ssaid {
    () => {
        concat!(
            "SELECT ",
            sighting_columns!(),
            " FROM ssaid_sightings WHERE ssaid = $1 AND last_seen >= $2 ORDER BY day, network"
        )
    };
}
const SIGHTINGS_OF_SSAID: &str = sightings_of_ssaid!();
/// Both reads of `subject_records` as one call, where the driver takes several statements.
const SUBJECT_IN_ONE_CALL: &str = concat!(ssaid_with_events!(), "; ", sightings_of_ssaid!());

/// A `day` column (`YYYY-MM-DD`, UTC).
fn day_column(raw: &str) -> Result<NaiveDate, StorageError> {
    parse_column("day", raw, |raw| {
        NaiveDate::parse_from_str(raw, DAY_FORMAT).ok()
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

fn event_from_row<DB: Engine>(row: &DB::Row) -> Result<ConsentEvent, StorageError>
where
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB> + Type<DB>,
    for<'r> DB::Id: Decode<'r, DB> + Type<DB>,
    for<'r> Json<BTreeMap<String, bool>>: Decode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, DB> + Type<DB>,
{
    let text = |column: &str| row.try_get::<String, _>(column);
    let id: DB::Id = row.try_get("id")?;
    let categories: Json<BTreeMap<String, bool>> = row.try_get("categories")?;
    Ok(ConsentEvent {
        id: id.into(),
        ssaid: parse_column("ssaid", &text("ssaid")?, |raw| Ssaid::parse(raw).ok())?,
        policy_version: parse_column("policy version", &text("policy_version")?, |raw| {
            PolicyVersion::parse(raw).ok()
        })?,
        categories: categories.0,
        action: parse_column("action", &text("action")?, ConsentAction::parse)?,
        source: parse_column("source", &text("source")?, ConsentSource::parse)?,
        created_at: row.try_get("created_at")?,
        made_at: row.try_get("made_at")?,
        policy_hash: text("policy_hash")?,
        banner_text_hash: text("banner_text_hash")?,
        language: text("language")?,
        ip_prefix: row.try_get("ip_prefix")?,
        ua_class: parse_column("terminal type", &text("ua_class")?, TerminalType::parse)?,
        origin: row.try_get("origin")?,
    })
}

fn ssaid_from_row<DB: Engine>(ssaid: &Ssaid, row: &DB::Row) -> Result<SsaidRecord, StorageError>
where
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Decode<'r, DB> + Type<DB>,
{
    let terminal: String = row.try_get("terminal_type")?;
    Ok(SsaidRecord {
        ssaid: ssaid.clone(),
        issued_at: row.try_get("issued_at")?,
        terminal_type: parse_column("terminal type", &terminal, TerminalType::parse)?,
    })
}

fn sighting_from_row<DB: Engine>(row: &DB::Row) -> Result<Sighting, StorageError>
where
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Decode<'r, DB> + Type<DB>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, DB> + Type<DB>,
{
    let text = |column: &str| row.try_get::<String, _>(column);
    Ok(Sighting {
        ssaid: parse_column("ssaid", &text("ssaid")?, |raw| Ssaid::parse(raw).ok())?,
        network: text("network")?,
        day: day_column(&text("day")?)?,
        terminal_types: TerminalTypes::from_bits(row.try_get("terminal_types")?),
        seen_count: row.try_get("seen_count")?,
        first_seen: row.try_get("first_seen")?,
        last_seen: row.try_get("last_seen")?,
        last_service: text("last_service")?,
        last_event: text("last_event")?,
    })
}

/// Days are stored as text on both engines, so the generic SQL compares them alike.
const DAY_FORMAT: &str = "%Y-%m-%d";

fn policy_from_row<DB: Engine>(row: &DB::Row) -> Result<PolicyRecord, StorageError>
where
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
    for<'r> bool: Decode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Decode<'r, DB> + Type<DB>,
{
    let version: String = row.try_get("version")?;
    Ok(PolicyRecord {
        version: parse_column("policy version", &version, |raw| {
            PolicyVersion::parse(raw).ok()
        })?,
        hash: row.try_get("hash")?,
        material: row.try_get("material")?,
        published_at: row.try_get("published_at")?,
        source: row.try_get("source")?,
    })
}

#[async_trait::async_trait]
impl<DB: Engine> Storage for SqlStorage<DB>
where
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Connection: sqlx::migrate::Migrate,
    DB::Arguments: IntoArguments<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> bool: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> DB::Id: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> Json<BTreeMap<String, bool>>: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> Option<DateTime<Utc>>: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> Json<BTreeMap<String, u64>>: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
{
    async fn migrate(&self) -> Result<(), StorageError> {
        DB::migrator().run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query::<DB>("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_consent_events(
        &self,
        decisions: &[(SsaidRecord, ConsentEvent)],
    ) -> Result<(), StorageError> {
        if decisions.is_empty() {
            return Ok(());
        }
        // Rows go in key order: two instances writing overlapping groups on PostgreSQL lock
        // the same keys in the same order, so they wait for each other instead of deadlocking.
        let visitors: BTreeMap<&str, &SsaidRecord> = decisions
            .iter()
            .map(|(visitor, event)| {
                debug_assert_eq!(visitor.ssaid, event.ssaid);
                (visitor.ssaid.as_str(), visitor)
            })
            .collect();
        // The console's statistics, exact because they change with the decisions or not at all;
        // one increment per key, however many decisions of the group share it.
        let mut counts: BTreeMap<[String; 8], i64> = BTreeMap::new();
        // And their tallies per dimension value, which the overview reads.
        let mut tallies = BTreeMap::new();
        for (_, event) in decisions {
            let count = DecisionCount {
                day: event.created_at.date_naive(),
                policy_version: event.policy_version.to_string(),
                origin: event.origin.clone().unwrap_or_default(),
                language: event.language.clone(),
                terminal_type: event.ua_class.as_str().to_owned(),
                action: event.action,
                source: event.source,
                granted: event
                    .categories
                    .iter()
                    .filter(|(_, granted)| **granted)
                    .map(|(category, _)| category.clone())
                    .collect(),
                decisions: 1,
            };
            add_to_tallies(&mut tallies, &count);
            *counts
                .entry([
                    count.day.format(DAY_FORMAT).to_string(),
                    count.policy_version,
                    count.origin,
                    count.language,
                    count.terminal_type,
                    event.action.as_str().to_owned(),
                    event.source.as_str().to_owned(),
                    granted_key(&event.categories),
                ])
                .or_default() += 1;
        }
        let tallies: Vec<_> = tallies.into_iter().collect();
        if DB::GROUP_IN_ONE_STATEMENT && tallies.len() <= TALLIES_PER_STATEMENT {
            // One statement is atomic on its own, so no BEGIN and COMMIT either: one round trip
            // instead of six while the group holds its rows' locks. Every group has this shape
            // (the transaction below only takes over past a thousand tallies), so instances
            // take the rows in the same order; a deadlock would fail the group, which the
            // writer then retries one decision at a time.
            let glue = [
                "WITH visitors AS (",
                "), events AS (",
                "), counts AS (",
                ") ",
                "",
            ];
            let mut group = group_of_four(glue, &visitors, decisions, &counts, &tallies);
            group.build().execute(&self.pool).await?;
            return Ok(());
        }
        if DB::STATEMENTS_IN_ONE_CALL && tallies.len() <= TALLIES_PER_STATEMENT {
            // The same transaction as below, sent as one call: on SQLite each call is a trip
            // to the connection's own thread and back (a wake-up and two context switches),
            // and the seven of a group (the pool's included) were a quarter of a decision's
            // CPU. The parameters are numbered across the statements, each binding its own.
            let glue = ["BEGIN IMMEDIATE; ", "; ", "; ", "; ", "; COMMIT"];
            let mut group = group_of_four(glue, &visitors, decisions, &counts, &tallies);
            let mut connection = self.pool.acquire().await?;
            if let Err(err) = group.build().execute(&mut *connection).await {
                // The statements after the failed one, COMMIT included, did not run. The writer
                // that calls this is never cancelled, so the connection is always answered for.
                let rolled_back = sqlx::query::<DB>("ROLLBACK")
                    .execute(&mut *connection)
                    .await;
                if rolled_back.is_err() {
                    connection.close_on_drop();
                }
                return Err(err.into());
            }
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        let mut query = QueryBuilder::<DB>::new("");
        push_ssaids(&mut query, &visitors);
        query.build().execute(&mut *transaction).await?;
        let mut query = QueryBuilder::<DB>::new("");
        push_events(&mut query, decisions);
        query.build().execute(&mut *transaction).await?;
        let mut query = QueryBuilder::<DB>::new("");
        push_counts(&mut query, &counts);
        query.build().execute(&mut *transaction).await?;
        // Last, just before the commit: every group updates the same few tallies (the current
        // policy version's, say), so across instances they are the rows waited for longest.
        for chunk in tallies.chunks(TALLIES_PER_STATEMENT) {
            let mut query = QueryBuilder::<DB>::new("");
            push_tallies(&mut query, chunk);
            query.build().execute(&mut *transaction).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn find_consent_event(&self, id: Uuid) -> Result<Option<ConsentEvent>, StorageError> {
        let row = sqlx::query::<DB>(concat!(
            "SELECT ",
            event_columns!(),
            " FROM consent_events WHERE id = $1"
        ))
        .bind(DB::Id::from(id))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_from_row::<DB>).transpose()
    }

    async fn latest_consent_event_for(
        &self,
        ssaid: &Ssaid,
    ) -> Result<Option<ConsentEvent>, StorageError> {
        let row = sqlx::query::<DB>(concat!(
            "SELECT ",
            event_columns!(),
            " FROM consent_events WHERE ssaid = $1 ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .bind(ssaid.as_str().to_owned())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_from_row::<DB>).transpose()
    }

    async fn consent_events_for(&self, ssaid: &Ssaid) -> Result<Vec<ConsentEvent>, StorageError> {
        let rows = sqlx::query::<DB>(EVENTS_OF_SSAID)
            .bind(ssaid.as_str().to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(event_from_row::<DB>).collect()
    }

    async fn record_sighting(&self, sighting: &Sighting) -> Result<(), StorageError> {
        sqlx::query::<DB>(concat!(
            "INSERT INTO ssaid_sightings (",
            sighting_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (ssaid, network, day) DO UPDATE SET \
             terminal_types = ssaid_sightings.terminal_types | excluded.terminal_types, \
             seen_count = ssaid_sightings.seen_count + excluded.seen_count, \
             last_seen = excluded.last_seen, last_service = excluded.last_service, \
             last_event = excluded.last_event"
        ))
        .bind(sighting.ssaid.as_str().to_owned())
        .bind(sighting.network.clone())
        .bind(sighting.day.format(DAY_FORMAT).to_string())
        .bind(sighting.terminal_types.bits())
        .bind(sighting.seen_count)
        .bind(sighting.first_seen)
        .bind(sighting.last_seen)
        .bind(sighting.last_service.clone())
        .bind(sighting.last_event.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn sightings_of(
        &self,
        ssaid: &Ssaid,
        since: DateTime<Utc>,
    ) -> Result<Vec<Sighting>, StorageError> {
        let rows = sqlx::query::<DB>(SIGHTINGS_OF_SSAID)
            .bind(ssaid.as_str().to_owned())
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(sighting_from_row::<DB>).collect()
    }

    async fn add_network_counts(&self, counts: &[NetworkCount]) -> Result<(), StorageError> {
        let mut transaction = self.pool.begin().await?;
        for count in counts {
            sqlx::query::<DB>(
                "INSERT INTO network_counters (network, kind, window_start, count) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (network, kind, window_start) \
                 DO UPDATE SET count = network_counters.count + excluded.count",
            )
            .bind(count.network.clone())
            .bind(count.kind.as_str())
            .bind(count.window_start)
            .bind(count.count)
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn network_count(
        &self,
        network: &str,
        kind: CounterKind,
        since: DateTime<Utc>,
    ) -> Result<u64, StorageError> {
        let row = sqlx::query::<DB>(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) AS total FROM network_counters \
             WHERE network = $1 AND kind = $2 AND window_start >= $3",
        )
        .bind(network.to_owned())
        .bind(kind.as_str())
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let total: i64 = row.try_get("total")?;
        Ok(u64::try_from(total).unwrap_or(0))
    }

    async fn purge(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
        batch: i64,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<Option<BTreeMap<String, u64>>, StorageError> {
        let mut lock = match DB::PURGE_LOCK {
            Some((lock_sql, _)) => {
                let mut connection = self.pool.acquire().await?;
                let row = sqlx::query::<DB>(lock_sql)
                    .fetch_one(&mut *connection)
                    .await?;
                let locked: bool = row.try_get("locked")?;
                if !locked {
                    return Ok(None);
                }
                // The lock is the session's: a purge dropped half-way (its request timed out)
                // must not hand a connection that still holds it back to the pool, where it
                // would keep every instance from purging. Closing the connection releases it.
                connection.close_on_drop();
                Some(connection)
            }
            None => None,
        };
        let report = self.purge_unlocked(cutoffs, dry_run, batch, progress).await;
        if let (Some(connection), Some((_, unlock_sql))) = (lock.as_mut(), DB::PURGE_LOCK) {
            sqlx::query::<DB>(unlock_sql)
                .execute(&mut **connection)
                .await?;
        }
        report.map(Some)
    }

    async fn erase_sightings(&self, ssaid: &Ssaid) -> Result<u64, StorageError> {
        let erased = sqlx::query::<DB>("DELETE FROM ssaid_sightings WHERE ssaid = $1")
            .bind(ssaid.as_str().to_owned())
            .execute(&self.pool)
            .await?;
        Ok(DB::rows_affected(&erased))
    }

    async fn find_ssaid(&self, ssaid: &Ssaid) -> Result<Option<SsaidRecord>, StorageError> {
        let row = sqlx::query::<DB>(SSAID_ROW)
            .bind(ssaid.as_str().to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| ssaid_from_row::<DB>(ssaid, &row)).transpose()
    }

    async fn subject_records(&self, ssaid: &Ssaid) -> Result<SubjectRecords, StorageError> {
        // Each statement is a trip to the connection (on SQLite, to its worker thread), and
        // the trips are most of the cost: the SSAID's row comes with its decisions, which
        // cannot exist without it (a foreign key), one row per decision or one row alone.
        // Not one transaction: a decision made meanwhile may be missing from the decisions
        // while its sighting shows, as a read a moment earlier would have missed both.
        let mut connection = self.pool.acquire().await?;
        let (rows, sightings) = if DB::STATEMENTS_IN_ONE_CALL {
            // One trip for both; a sighting's row is the one with a `network` column.
            let mut rows = sqlx::query::<DB>(SUBJECT_IN_ONE_CALL)
                .bind(ssaid.as_str().to_owned())
                .bind(DateTime::<Utc>::UNIX_EPOCH)
                .fetch_all(&mut *connection)
                .await?;
            let first_sighting = rows
                .iter()
                .position(|row| {
                    row.columns()
                        .iter()
                        .any(|column| sqlx::Column::name(column) == "network")
                })
                .unwrap_or(rows.len());
            let sightings = rows.split_off(first_sighting);
            (rows, sightings)
        } else {
            let rows = sqlx::query::<DB>(SSAID_WITH_EVENTS)
                .bind(ssaid.as_str().to_owned())
                .fetch_all(&mut *connection)
                .await?;
            let sightings = sqlx::query::<DB>(SIGHTINGS_OF_SSAID)
                .bind(ssaid.as_str().to_owned())
                .bind(DateTime::<Utc>::UNIX_EPOCH)
                .fetch_all(&mut *connection)
                .await?;
            (rows, sightings)
        };
        drop(connection);
        let mut consent_events = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.try_get::<Option<String>, _>("action")?.is_some() {
                consent_events.push(event_from_row::<DB>(row)?);
            }
        }
        Ok(SubjectRecords {
            ssaid: rows
                .first()
                .map(|row| ssaid_from_row::<DB>(ssaid, row))
                .transpose()?,
            consent_events,
            sightings: sightings
                .iter()
                .map(sighting_from_row::<DB>)
                .collect::<Result<_, _>>()?,
        })
    }

    async fn erase_subject(
        &self,
        ssaid: &Ssaid,
        revoke_for: chrono::TimeDelta,
        mut evidence: ErasureRecord,
        matomo_visitor_id: Option<&str>,
    ) -> Result<(ErasureRecord, Vec<Uuid>), StorageError> {
        let subject = ssaid.as_str().to_owned();
        let mut transaction = self.pool.begin().await?;
        let decisions =
            sqlx::query::<DB>("SELECT id, created_at FROM consent_events WHERE ssaid = $1")
                .bind(subject.clone())
                .fetch_all(&mut *transaction)
                .await?;
        let mut revoked = Vec::with_capacity(decisions.len());
        for decision in &decisions {
            let id: DB::Id = decision.try_get("id")?;
            let id: Uuid = id.into();
            revoked.push(id);
            let decided_at: DateTime<Utc> = decision.try_get("created_at")?;
            sqlx::query::<DB>(
                "INSERT INTO revoked_consents (event_id, expires_at) VALUES ($1, $2) \
                 ON CONFLICT (event_id) DO NOTHING",
            )
            .bind(id.to_string())
            .bind(decided_at + revoke_for)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query::<DB>(
            "INSERT INTO sanctioned_deletions (ssaid, reason) VALUES ($1, 'erasure')",
        )
        .bind(subject.clone())
        .execute(&mut *transaction)
        .await?;
        let mut deleted = BTreeMap::new();
        for (table, sql) in [
            (
                "consent_events",
                "DELETE FROM consent_events WHERE ssaid = $1",
            ),
            (
                "ssaid_sightings",
                "DELETE FROM ssaid_sightings WHERE ssaid = $1",
            ),
            ("ssaids", "DELETE FROM ssaids WHERE ssaid = $1"),
            (
                "sanctioned_deletions",
                "DELETE FROM sanctioned_deletions WHERE ssaid = $1",
            ),
        ] {
            let done = sqlx::query::<DB>(sql)
                .bind(subject.clone())
                .execute(&mut *transaction)
                .await?;
            if table != "sanctioned_deletions" {
                deleted.insert(table.to_owned(), DB::rows_affected(&done));
            }
        }
        evidence.deleted = deleted;
        if let Some(visitor_id) = matomo_visitor_id {
            evidence.matomo = MatomoJobState::Pending.as_str().to_owned();
            sqlx::query::<DB>(
                "INSERT INTO matomo_erasure_jobs (erasure_id, visitor_id, state, attempts, \
                 next_attempt_at, created_at, updated_at) VALUES ($1, $2, 'pending', 0, $3, $3, $3)",
            )
            .bind(evidence.id.to_string())
            .bind(visitor_id.to_owned())
            .bind(evidence.erased_at)
            .execute(&mut *transaction)
            .await?;
        }
        sqlx::query::<DB>(
            "INSERT INTO erasures (id, erased_at, channel, ticket, subject_hash, deleted, matomo) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(evidence.id.to_string())
        .bind(evidence.erased_at)
        .bind(evidence.channel)
        .bind(evidence.ticket.clone())
        .bind(evidence.subject_hash.clone())
        .bind(Json(evidence.deleted.clone()))
        .bind(evidence.matomo.clone())
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok((evidence, revoked))
    }

    async fn erasures_of(&self, subject_hash: &str) -> Result<Vec<ErasureRecord>, StorageError> {
        let rows = sqlx::query::<DB>(
            "SELECT id, erased_at, channel, ticket, subject_hash, deleted, matomo FROM erasures \
             WHERE subject_hash = $1 ORDER BY erased_at",
        )
        .bind(subject_hash.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                let channel: String = row.try_get("channel")?;
                let deleted: Json<BTreeMap<String, u64>> = row.try_get("deleted")?;
                Ok(ErasureRecord {
                    id: parse_column("erasure id", &id, |raw| Uuid::parse_str(raw).ok())?,
                    erased_at: row.try_get("erased_at")?,
                    channel: parse_column("channel", &channel, |raw| {
                        ["self_service", "staff"]
                            .into_iter()
                            .find(|known| *known == raw)
                    })?,
                    ticket: row.try_get("ticket")?,
                    subject_hash: row.try_get("subject_hash")?,
                    deleted: deleted.0,
                    matomo: row.try_get("matomo")?,
                })
            })
            .collect()
    }

    async fn matomo_jobs(&self, which: JobSelection) -> Result<Vec<MatomoJob>, StorageError> {
        let rows =
            match which {
                JobSelection::All => {
                    sqlx::query::<DB>(concat!(
                        "SELECT ",
                        matomo_job_columns!(),
                        " FROM matomo_erasure_jobs ORDER BY created_at"
                    ))
                    .fetch_all(&self.pool)
                    .await?
                }
                JobSelection::Open => {
                    sqlx::query::<DB>(concat!(
                        "SELECT ",
                        matomo_job_columns!(),
                        " FROM matomo_erasure_jobs WHERE state IN ('pending', 'failed') ",
                        "ORDER BY created_at"
                    ))
                    .fetch_all(&self.pool)
                    .await?
                }
                JobSelection::DueBy(now) => sqlx::query::<DB>(concat!(
                    "SELECT ",
                    matomo_job_columns!(),
                    " FROM matomo_erasure_jobs WHERE state = 'pending' AND next_attempt_at <= $1 ",
                    "ORDER BY created_at"
                ))
                .bind(now)
                .fetch_all(&self.pool)
                .await?,
            };
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("erasure_id")?;
                let state: String = row.try_get("state")?;
                let attempts: i64 = row.try_get("attempts")?;
                let deleted: Option<String> = row.try_get("deleted")?;
                Ok(MatomoJob {
                    erasure_id: parse_column("erasure id", &id, |raw| Uuid::parse_str(raw).ok())?,
                    visitor_id: row.try_get("visitor_id")?,
                    state: parse_column("job state", &state, MatomoJobState::parse)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    last_error: row.try_get("last_error")?,
                    deleted: deleted
                        .map(|raw| {
                            parse_column("deleted counts", &raw, |raw| {
                                serde_json::from_str(raw).ok()
                            })
                        })
                        .transpose()?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                })
            })
            .collect()
    }

    async fn matomo_job_counts(&self) -> Result<BTreeMap<String, i64>, StorageError> {
        let rows = sqlx::query::<DB>(
            "SELECT state, COUNT(*) AS n FROM matomo_erasure_jobs GROUP BY state",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get::<String, _>("state")?, row.try_get("n")?)))
            .collect()
    }

    async fn claim_matomo_job(
        &self,
        erasure_id: Uuid,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StorageError> {
        let claimed = sqlx::query::<DB>(
            "UPDATE matomo_erasure_jobs SET next_attempt_at = $3, updated_at = $2 \
             WHERE erasure_id = $1 AND state = 'pending' AND next_attempt_at <= $2",
        )
        .bind(erasure_id.to_string())
        .bind(now)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(DB::rows_affected(&claimed) == 1)
    }

    async fn finish_matomo_job(
        &self,
        erasure_id: Uuid,
        deleted: &BTreeMap<String, u64>,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let counts = serde_json::to_string(deleted).expect("counts serialise");
        let mut transaction = self.pool.begin().await?;
        sqlx::query::<DB>(
            "UPDATE matomo_erasure_jobs SET state = 'done', visitor_id = NULL, deleted = $2, \
             last_error = NULL, updated_at = $3 WHERE erasure_id = $1",
        )
        .bind(erasure_id.to_string())
        .bind(counts.clone())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        sqlx::query::<DB>("UPDATE erasures SET matomo = $2 WHERE id = $1")
            .bind(erasure_id.to_string())
            .bind(counts)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn retry_matomo_job(
        &self,
        erasure_id: Uuid,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        give_up: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let state = if give_up {
            MatomoJobState::Failed
        } else {
            MatomoJobState::Pending
        };
        let mut transaction = self.pool.begin().await?;
        sqlx::query::<DB>(
            "UPDATE matomo_erasure_jobs SET attempts = $2, next_attempt_at = $3, last_error = $4, \
             state = $5, updated_at = $6 WHERE erasure_id = $1",
        )
        .bind(erasure_id.to_string())
        .bind(i64::from(attempts))
        .bind(next_attempt_at)
        .bind(error.chars().take(500).collect::<String>())
        .bind(state.as_str())
        .bind(now)
        .execute(&mut *transaction)
        .await?;
        if give_up {
            sqlx::query::<DB>("UPDATE erasures SET matomo = 'failed' WHERE id = $1")
                .bind(erasure_id.to_string())
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn revoke_consent(
        &self,
        event_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        sqlx::query::<DB>(
            "INSERT INTO revoked_consents (event_id, expires_at) VALUES ($1, $2) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id.to_string())
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoked_consents(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, StorageError> {
        let rows = sqlx::query::<DB>("SELECT event_id FROM revoked_consents WHERE expires_at > $1")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("event_id")?;
                parse_column("revoked consent id", &id, |raw| Uuid::parse_str(raw).ok())
            })
            .collect()
    }

    async fn publish_policy(&self, record: &PolicyRecord) -> Result<PublishOutcome, StorageError> {
        // Insert-or-nothing, then compare: two instances publishing at once cannot both win.
        let inserted = sqlx::query::<DB>(concat!(
            "INSERT INTO policy_versions (",
            policy_columns!(),
            ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING"
        ))
        .bind(record.version.to_string())
        .bind(record.hash.clone())
        .bind(record.material)
        .bind(record.published_at)
        .bind(record.source.clone())
        .execute(&self.pool)
        .await?;
        if DB::rows_affected(&inserted) == 1 {
            return Ok(PublishOutcome::Published);
        }
        let row = sqlx::query::<DB>(concat!(
            "SELECT ",
            policy_columns!(),
            " FROM policy_versions WHERE version = $1"
        ))
        .bind(record.version.to_string())
        .fetch_one(&self.pool)
        .await?;
        let existing = policy_from_row::<DB>(&row)?;
        Ok(if existing.hash == record.hash {
            PublishOutcome::AlreadyPublished(existing)
        } else {
            PublishOutcome::Conflict(existing)
        })
    }

    async fn policy_versions(&self) -> Result<Vec<PolicyRecord>, StorageError> {
        let rows = sqlx::query::<DB>(concat!(
            "SELECT ",
            policy_columns!(),
            " FROM policy_versions ORDER BY published_at, version"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(policy_from_row::<DB>).collect()
    }

    async fn decision_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DecisionCount>, StorageError> {
        let rows = self
            .days_between(
                "SELECT day, policy_version, origin, language, terminal_type, action, source, \
                 granted, decisions FROM decision_counts WHERE day >= $1 AND day <= $2",
                from,
                to,
            )
            .await?;
        rows.iter()
            .map(|row| {
                let text = |column: &str| row.try_get::<String, _>(column);
                Ok(DecisionCount {
                    day: day_column(&text("day")?)?,
                    policy_version: text("policy_version")?,
                    origin: text("origin")?,
                    language: text("language")?,
                    terminal_type: text("terminal_type")?,
                    action: parse_column("action", &text("action")?, ConsentAction::parse)?,
                    source: parse_column("source", &text("source")?, ConsentSource::parse)?,
                    granted: parse_granted_key(&text("granted")?),
                    decisions: row.try_get("decisions")?,
                })
            })
            .collect()
    }

    async fn decision_tallies(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DecisionTally>, StorageError> {
        let rows = self
            .days_between(
                "SELECT day, dimension, value, kind, name, decisions FROM decision_tallies \
                 WHERE day >= $1 AND day <= $2",
                from,
                to,
            )
            .await?;
        rows.iter()
            .map(|row| {
                let text = |column: &str| row.try_get::<String, _>(column);
                let kind = text("kind")?;
                Ok(DecisionTally {
                    day: day_column(&text("day")?)?,
                    dimension: parse_column("dimension", &text("dimension")?, Dimension::parse)?,
                    value: text("value")?,
                    counted: parse_column("tally", &text("name")?, |name| {
                        Counted::parse(&kind, name)
                    })?,
                    decisions: row.try_get("decisions")?,
                })
            })
            .collect()
    }

    async fn events_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> Result<Vec<ConsentEvent>, StorageError> {
        let rows = match after {
            None => {
                sqlx::query::<DB>(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM consent_events WHERE created_at >= $1 AND created_at < $2 \
                     ORDER BY created_at, id LIMIT $3"
                ))
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            // Keyset paging: each page starts where the last one ended, by index.
            Some((time, id)) => {
                sqlx::query::<DB>(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM consent_events WHERE created_at >= $1 AND created_at < $2 \
                     AND (created_at > $3 OR (created_at = $3 AND id > $4)) \
                     ORDER BY created_at, id LIMIT $5"
                ))
                .bind(from)
                .bind(to)
                .bind(time)
                .bind(DB::Id::from(id))
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.iter().map(event_from_row::<DB>).collect()
    }
}

// A group's writes (`insert_consent_events`), one function a table: PostgreSQL runs them as one
// statement, SQLite as a transaction of four.

/// A group's four writes in their one order (SSAIDs, events, counts, tallies) as one query,
/// `glue` before, between and after them: an engine's statement or transaction around them.
fn group_of_four<DB: Engine>(
    glue: [&str; 5],
    visitors: &BTreeMap<&str, &SsaidRecord>,
    decisions: &[(SsaidRecord, ConsentEvent)],
    counts: &BTreeMap<[String; 8], i64>,
    tallies: &[(TallyKey, i64)],
) -> QueryBuilder<DB>
where
    for<'r> String: Encode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB>,
    for<'r> i64: Encode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Encode<'r, DB> + Type<DB>,
    for<'r> DB::Id: Encode<'r, DB> + Type<DB>,
    for<'r> Json<BTreeMap<String, bool>>: Encode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Encode<'r, DB> + Type<DB>,
    for<'r> Option<DateTime<Utc>>: Encode<'r, DB> + Type<DB>,
{
    let mut group = QueryBuilder::<DB>::new(glue[0]);
    push_ssaids(&mut group, visitors);
    group.push(glue[1]);
    push_events(&mut group, decisions);
    group.push(glue[2]);
    push_counts(&mut group, counts);
    group.push(glue[3]);
    push_tallies(&mut group, tallies);
    group.push(glue[4]);
    group
}

fn push_ssaids<DB: Engine>(query: &mut QueryBuilder<DB>, visitors: &BTreeMap<&str, &SsaidRecord>)
where
    for<'r> String: Encode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Encode<'r, DB> + Type<DB>,
{
    query
        .push("INSERT INTO ssaids (ssaid, issued_at, terminal_type) ")
        .push_values(visitors, |mut row, (ssaid, visitor)| {
            row.push_bind(ssaid.to_string())
                .push_bind(visitor.issued_at)
                .push_bind(visitor.terminal_type.as_str());
        })
        .push(" ON CONFLICT (ssaid) DO NOTHING");
}

fn push_events<DB: Engine>(query: &mut QueryBuilder<DB>, decisions: &[(SsaidRecord, ConsentEvent)])
where
    for<'r> String: Encode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB>,
    for<'r> Option<String>: Encode<'r, DB> + Type<DB>,
    for<'r> DB::Id: Encode<'r, DB> + Type<DB>,
    for<'r> Json<BTreeMap<String, bool>>: Encode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Encode<'r, DB> + Type<DB>,
    for<'r> Option<DateTime<Utc>>: Encode<'r, DB> + Type<DB>,
{
    query
        .push(concat!(
            "INSERT INTO consent_events (",
            event_columns!(),
            ") "
        ))
        .push_values(decisions, |mut row, (_, event)| {
            row.push_bind(DB::Id::from(event.id))
                .push_bind(event.ssaid.as_str().to_owned())
                .push_bind(event.policy_version.to_string())
                .push_bind(Json(event.categories.clone()))
                .push_bind(event.action.as_str())
                .push_bind(event.source.as_str())
                .push_bind(event.created_at)
                .push_bind(event.policy_hash.clone())
                .push_bind(event.banner_text_hash.clone())
                .push_bind(event.language.clone())
                .push_bind(event.ip_prefix.clone())
                .push_bind(event.ua_class.as_str())
                .push_bind(event.origin.clone())
                .push_bind(event.made_at);
        });
}

fn push_counts<DB: Engine>(query: &mut QueryBuilder<DB>, counts: &BTreeMap<[String; 8], i64>)
where
    for<'r> String: Encode<'r, DB> + Type<DB>,
    for<'r> i64: Encode<'r, DB> + Type<DB>,
{
    query
        .push(
            "INSERT INTO decision_counts (day, policy_version, origin, language, terminal_type, \
             action, source, granted, decisions) ",
        )
        .push_values(counts, |mut row, (key, decisions)| {
            for column in key {
                row.push_bind(column.clone());
            }
            row.push_bind(*decisions);
        })
        .push(
            " ON CONFLICT (day, policy_version, origin, language, terminal_type, action, source, \
             granted) DO UPDATE SET decisions = decision_counts.decisions + excluded.decisions",
        );
}

fn push_tallies<DB: Engine>(query: &mut QueryBuilder<DB>, tallies: &[(TallyKey, i64)])
where
    for<'r> String: Encode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB>,
    for<'r> i64: Encode<'r, DB> + Type<DB>,
{
    query
        .push("INSERT INTO decision_tallies (day, dimension, value, kind, name, decisions) ")
        .push_values(
            tallies,
            |mut row, ((day, dimension, value, counted), decisions)| {
                row.push_bind(day.format(DAY_FORMAT).to_string())
                    .push_bind(dimension.column())
                    .push_bind(value.clone())
                    .push_bind(counted.kind())
                    .push_bind(counted.name().to_owned())
                    .push_bind(*decisions);
            },
        )
        .push(
            " ON CONFLICT (day, dimension, value, kind, name) DO UPDATE SET \
             decisions = decision_tallies.decisions + excluded.decisions",
        );
}

/// Tally rows per statement: far below both engines' bind limits (6 binds a row). A group
/// has one per dimension value and action or category seen, a few hundred at most.
const TALLIES_PER_STATEMENT: usize = 1000;

/// Decisions whose proof period has passed: superseded by a later decision made before $1,
/// or made before $2 (even as the standing choice they have expired since).
macro_rules! ended_decisions {
    () => {
        // `e.created_at < $1` changes nothing ($2 is never after $1, and a decision superseded
        // before $1 was made before it) but lets the time index find the candidates: without
        // it the purge scanned every decision, 76 s at ten million on PostgreSQL.
        "FROM consent_events e WHERE e.created_at < $1 AND (e.created_at < $2 OR EXISTS \
         (SELECT 1 FROM consent_events later WHERE later.ssaid = e.ssaid \
         AND later.created_at > e.created_at AND later.created_at < $1))"
    };
}

/// SSAID records left without any decision, issued before $1.
const UNUSED_SSAIDS: PurgeStep = PurgeStep {
    table: "ssaids",
    count: "SELECT COUNT(*) AS n FROM ssaids s WHERE s.issued_at < $1 AND NOT EXISTS \
            (SELECT 1 FROM consent_events e WHERE e.ssaid = s.ssaid)",
    apply: "DELETE FROM ssaids WHERE ssaid IN (SELECT s.ssaid FROM ssaids s \
            WHERE s.issued_at < $1 AND NOT EXISTS \
            (SELECT 1 FROM consent_events e WHERE e.ssaid = s.ssaid) LIMIT $2)",
    by_day: false,
};

/// One step of the purge: which rows it takes (`keys`, their key columns, `LIMIT`ed) and what
/// it does with them (`apply`, on rows whose keys are in that selection).
struct PurgeStep {
    table: &'static str,
    count: &'static str,
    apply: &'static str,
    /// The table's time is a day ("YYYY-MM-DD" text): the cut-off is bound as its day.
    by_day: bool,
}

const SIMPLE_STEPS: [PurgeStep; 8] = [
    PurgeStep {
        table: "matomo_erasure_jobs",
        count: "SELECT COUNT(*) AS n FROM matomo_erasure_jobs \
                WHERE state = 'done' AND updated_at < $1",
        apply: "DELETE FROM matomo_erasure_jobs WHERE erasure_id IN \
                (SELECT erasure_id FROM matomo_erasure_jobs \
                 WHERE state = 'done' AND updated_at < $1 LIMIT $2)",
        by_day: false,
    },
    PurgeStep {
        table: "ssaid_sightings",
        count: "SELECT COUNT(*) AS n FROM ssaid_sightings WHERE last_seen < $1",
        apply: "DELETE FROM ssaid_sightings WHERE (ssaid, network, day) IN \
                (SELECT ssaid, network, day FROM ssaid_sightings WHERE last_seen < $1 LIMIT $2)",
        by_day: false,
    },
    PurgeStep {
        table: "network_counters",
        count: "SELECT COUNT(*) AS n FROM network_counters WHERE window_start < $1",
        apply: "DELETE FROM network_counters WHERE (network, kind, window_start) IN \
                (SELECT network, kind, window_start FROM network_counters \
                 WHERE window_start < $1 LIMIT $2)",
        by_day: false,
    },
    PurgeStep {
        table: "consent_events.ip_prefix",
        count: "SELECT COUNT(*) AS n FROM consent_events \
                WHERE created_at < $1 AND ip_prefix IS NOT NULL",
        apply: "UPDATE consent_events SET ip_prefix = NULL WHERE id IN \
                (SELECT id FROM consent_events \
                 WHERE created_at < $1 AND ip_prefix IS NOT NULL LIMIT $2)",
        by_day: false,
    },
    PurgeStep {
        table: "erasures",
        count: "SELECT COUNT(*) AS n FROM erasures WHERE erased_at < $1",
        apply: "DELETE FROM erasures WHERE id IN \
                (SELECT id FROM erasures WHERE erased_at < $1 LIMIT $2)",
        by_day: false,
    },
    // Keyed by day text ("YYYY-MM-DD"): the cut-off is bound as that text; whole days go at
    // a time (a day has as many rows as combinations seen, not as decisions).
    PurgeStep {
        table: "decision_counts",
        count: "SELECT COUNT(*) AS n FROM decision_counts WHERE day < $1",
        apply: "DELETE FROM decision_counts WHERE day IN \
                (SELECT DISTINCT day FROM decision_counts WHERE day < $1 LIMIT $2)",
        by_day: true,
    },
    PurgeStep {
        table: "decision_tallies",
        count: "SELECT COUNT(*) AS n FROM decision_tallies WHERE day < $1",
        apply: "DELETE FROM decision_tallies WHERE day IN \
                (SELECT DISTINCT day FROM decision_tallies WHERE day < $1 LIMIT $2)",
        by_day: true,
    },
    PurgeStep {
        table: "revoked_consents",
        count: "SELECT COUNT(*) AS n FROM revoked_consents WHERE expires_at < $1",
        apply: "DELETE FROM revoked_consents WHERE event_id IN \
                (SELECT event_id FROM revoked_consents WHERE expires_at < $1 LIMIT $2)",
        by_day: false,
    },
];

impl<DB: Engine> SqlStorage<DB>
where
    for<'c> &'c Pool<DB>: Executor<'c, Database = DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'r> &'r str: ColumnIndex<DB::Row>,
    for<'r> String: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> &'r str: Encode<'r, DB> + Type<DB>,
    for<'r> DB::Id: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> DateTime<Utc>: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
    for<'r> i64: Decode<'r, DB> + Encode<'r, DB> + Type<DB>,
{
    /// The rows of `sql`, whose `$1` and `$2` are the first and last day (inclusive).
    async fn days_between(
        &self,
        sql: &'static str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DB::Row>, StorageError> {
        Ok(sqlx::query::<DB>(sql)
            .bind(from.format(DAY_FORMAT).to_string())
            .bind(to.format(DAY_FORMAT).to_string())
            .fetch_all(&self.pool)
            .await?)
    }

    async fn purge_unlocked(
        &self,
        cutoffs: &PurgeCutoffs,
        dry_run: bool,
        batch: i64,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<BTreeMap<String, u64>, StorageError> {
        let mut report = BTreeMap::new();
        for step in &SIMPLE_STEPS {
            let cutoff = match step.table {
                "ssaid_sightings" | "network_counters" => cutoffs.sightings_before,
                "consent_events.ip_prefix" => cutoffs.prefixes_before,
                "erasures" | "matomo_erasure_jobs" => cutoffs.erasures_before,
                "decision_counts" | "decision_tallies" => cutoffs.statistics_before,
                _ => cutoffs.as_of,
            };
            let done = self
                .run_step(step, cutoff, dry_run, batch, progress)
                .await?;
            report.insert(step.table.to_owned(), done);
        }
        let decisions = if dry_run {
            self.count(
                concat!("SELECT COUNT(*) AS n ", ended_decisions!()),
                cutoffs.superseded_before,
                Some(cutoffs.decided_before),
            )
            .await?
        } else {
            self.delete_ended_decisions(cutoffs, batch, progress)
                .await?
        };
        progress("consent_events", decisions);
        report.insert("consent_events".to_owned(), decisions);
        // After the decisions, so that an SSAID whose last decision just went goes too.
        let ssaids = self
            .run_step(
                &UNUSED_SSAIDS,
                cutoffs.unused_ssaids_before,
                dry_run,
                batch,
                progress,
            )
            .await?;
        report.insert(UNUSED_SSAIDS.table.to_owned(), ssaids);
        Ok(report)
    }

    /// One step: its count, or its change applied batch by batch until a batch falls short.
    async fn run_step(
        &self,
        step: &PurgeStep,
        cutoff: DateTime<Utc>,
        dry_run: bool,
        batch: i64,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<u64, StorageError> {
        let with_cutoff = |sql: &'static str| {
            let query = sqlx::query::<DB>(sql);
            if step.by_day {
                query.bind(cutoff.date_naive().format(DAY_FORMAT).to_string())
            } else {
                query.bind(cutoff)
            }
        };
        if dry_run {
            let row = with_cutoff(step.count).fetch_one(&self.pool).await?;
            let counted = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
            progress(step.table, counted);
            return Ok(counted);
        }
        let mut total = 0;
        loop {
            let done = with_cutoff(step.apply)
                .bind(batch)
                .execute(&self.pool)
                .await?;
            let rows = DB::rows_affected(&done);
            total += rows;
            progress(step.table, total);
            // Day-keyed batches are days, not rows: only an empty batch says it is done.
            let finished = if step.by_day {
                rows == 0
            } else {
                rows < batch.unsigned_abs()
            };
            if finished {
                return Ok(total);
            }
        }
    }

    async fn count(
        &self,
        sql: &'static str,
        first: DateTime<Utc>,
        second: Option<DateTime<Utc>>,
    ) -> Result<u64, StorageError> {
        let mut query = sqlx::query::<DB>(sql).bind(first);
        if let Some(second) = second {
            query = query.bind(second);
        }
        let row = query.fetch_one(&self.pool).await?;
        let n: i64 = row.try_get("n")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Deletes ended decisions batch by batch, each batch in one transaction through the one
    /// mechanism proof admits: their SSAIDs are listed in `sanctioned_deletions` for it.
    async fn delete_ended_decisions(
        &self,
        cutoffs: &PurgeCutoffs,
        batch: i64,
        progress: &(dyn for<'t> Fn(&'t str, u64) + Send + Sync),
    ) -> Result<u64, StorageError> {
        let mut total = 0;
        loop {
            let mut transaction = self.pool.begin().await?;
            let rows = sqlx::query::<DB>(concat!(
                "SELECT e.id AS id, e.ssaid AS ssaid ",
                ended_decisions!(),
                " LIMIT $3"
            ))
            .bind(cutoffs.superseded_before)
            .bind(cutoffs.decided_before)
            .bind(batch)
            .fetch_all(&mut *transaction)
            .await?;
            let mut subjects = std::collections::BTreeSet::new();
            let mut ids = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: DB::Id = row.try_get("id")?;
                let ssaid: String = row.try_get("ssaid")?;
                ids.push(id);
                subjects.insert(ssaid);
            }
            for ssaid in &subjects {
                sqlx::query::<DB>(
                    "INSERT INTO sanctioned_deletions (ssaid, reason) VALUES ($1, 'retention') \
                     ON CONFLICT (ssaid) DO NOTHING",
                )
                .bind(ssaid.clone())
                .execute(&mut *transaction)
                .await?;
            }
            for id in ids {
                sqlx::query::<DB>("DELETE FROM consent_events WHERE id = $1")
                    .bind(id)
                    .execute(&mut *transaction)
                    .await?;
            }
            for ssaid in &subjects {
                sqlx::query::<DB>("DELETE FROM sanctioned_deletions WHERE ssaid = $1")
                    .bind(ssaid.clone())
                    .execute(&mut *transaction)
                    .await?;
            }
            transaction.commit().await?;
            let deleted = rows.len() as u64;
            total += deleted;
            progress("consent_events", total);
            if deleted < batch.unsigned_abs() {
                return Ok(total);
            }
        }
    }
}
