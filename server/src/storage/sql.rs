//! The storage implementation, written once over the sqlx database: the same SQL (`$N`
//! placeholders, which both engines accept), the same column lists and the same row mapping.

use super::{ConsentEvent, SsaidRecord, Storage, StorageError};
use crate::domain::{PolicyRecord, PublishOutcome, Ssaid, TerminalType};
use app::domain::{ConsentAction, ConsentSource, PolicyVersion};
use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::types::Json;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What differs between the engines.
pub trait Engine: Database {
    /// How event ids are stored: a native UUID, or its text.
    type Id: From<Uuid> + Into<Uuid> + Send + Sync;
    /// The migrations for this engine, embedded in the binary.
    fn migrator() -> &'static Migrator;
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
         banner_text_hash, language, ip_prefix, ua_class, origin"
    };
}
macro_rules! policy_columns {
    () => {
        "version, hash, material, published_at, source"
    };
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
        policy_hash: text("policy_hash")?,
        banner_text_hash: text("banner_text_hash")?,
        language: text("language")?,
        ip_prefix: row.try_get("ip_prefix")?,
        ua_class: parse_column("terminal type", &text("ua_class")?, TerminalType::parse)?,
        origin: row.try_get("origin")?,
    })
}

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
{
    async fn migrate(&self) -> Result<(), StorageError> {
        DB::migrator().run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query::<DB>("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_consent_event(
        &self,
        visitor: &SsaidRecord,
        event: &ConsentEvent,
    ) -> Result<(), StorageError> {
        debug_assert_eq!(visitor.ssaid, event.ssaid);
        let mut transaction = self.pool.begin().await?;
        sqlx::query::<DB>(
            "INSERT INTO ssaids (ssaid, issued_at, terminal_type) VALUES ($1, $2, $3) \
             ON CONFLICT (ssaid) DO NOTHING",
        )
        .bind(visitor.ssaid.as_str().to_owned())
        .bind(visitor.issued_at)
        .bind(visitor.terminal_type.as_str())
        .execute(&mut *transaction)
        .await?;
        sqlx::query::<DB>(concat!(
            "INSERT INTO consent_events (",
            event_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(DB::Id::from(event.id))
        .bind(event.ssaid.as_str().to_owned())
        .bind(event.policy_version.to_string())
        .bind(Json(event.categories.clone()))
        .bind(event.action.as_str())
        .bind(event.source.as_str())
        .bind(event.created_at)
        .bind(event.policy_hash.clone())
        .bind(event.banner_text_hash.clone())
        .bind(event.language.clone())
        .bind(event.ip_prefix.clone())
        .bind(event.ua_class.as_str())
        .bind(event.origin.clone())
        .execute(&mut *transaction)
        .await?;
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

    async fn consent_events_for(&self, ssaid: &Ssaid) -> Result<Vec<ConsentEvent>, StorageError> {
        let rows = sqlx::query::<DB>(concat!(
            "SELECT ",
            event_columns!(),
            " FROM consent_events WHERE ssaid = $1 ORDER BY created_at, id"
        ))
        .bind(ssaid.as_str().to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row::<DB>).collect()
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
}
