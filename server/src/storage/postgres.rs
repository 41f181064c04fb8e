use super::{
    ConsentEvent, SsaidRecord, Storage, StorageError, outcome_for_existing, parse_action,
    parse_source, parse_terminal,
};
use crate::domain::{PolicyRecord, PublishOutcome};
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::types::Json;
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

pub struct PostgresStorage {
    pool: PgPool,
}

impl PostgresStorage {
    pub async fn connect(database_url: &str) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect(database_url)
            .await?;
        Ok(Self { pool })
    }
}

fn event_from_row(row: &PgRow) -> Result<ConsentEvent, StorageError> {
    let categories: Json<BTreeMap<String, bool>> = row.try_get("categories")?;
    Ok(ConsentEvent {
        id: row.try_get("id")?,
        ssaid: row.try_get("ssaid")?,
        policy_version: row.try_get("policy_version")?,
        categories: categories.0,
        action: parse_action(row.try_get("action")?)?,
        source: parse_source(row.try_get("source")?)?,
        created_at: row.try_get("created_at")?,
        policy_hash: row.try_get("policy_hash")?,
        banner_text_hash: row.try_get("banner_text_hash")?,
        language: row.try_get("language")?,
        ip_prefix: row.try_get("ip_prefix")?,
        ua_class: parse_terminal(row.try_get("ua_class")?)?,
        origin: row.try_get("origin")?,
    })
}

fn policy_from_row(row: &PgRow) -> Result<PolicyRecord, StorageError> {
    Ok(PolicyRecord {
        version: row.try_get("version")?,
        hash: row.try_get("hash")?,
        material: row.try_get("material")?,
        published_at: row.try_get("published_at")?,
        source: row.try_get("source")?,
    })
}

#[async_trait::async_trait]
impl Storage for PostgresStorage {
    async fn migrate(&self) -> Result<(), StorageError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_ssaid(&self, record: &SsaidRecord) -> Result<(), StorageError> {
        sqlx::query("INSERT INTO ssaids (ssaid, issued_at, terminal_type) VALUES ($1, $2, $3)")
            .bind(&record.ssaid)
            .bind(record.issued_at)
            .bind(record.terminal_type.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn find_ssaid(&self, ssaid: &str) -> Result<Option<SsaidRecord>, StorageError> {
        let row =
            sqlx::query("SELECT ssaid, issued_at, terminal_type FROM ssaids WHERE ssaid = $1")
                .bind(ssaid)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| {
            Ok(SsaidRecord {
                ssaid: row.try_get("ssaid")?,
                issued_at: row.try_get("issued_at")?,
                terminal_type: parse_terminal(row.try_get("terminal_type")?)?,
            })
        })
        .transpose()
    }

    async fn insert_consent_event(&self, event: &ConsentEvent) -> Result<(), StorageError> {
        sqlx::query(
            "INSERT INTO consent_events (id, ssaid, policy_version, categories, action, source, created_at, \
             policy_hash, banner_text_hash, language, ip_prefix, ua_class, origin) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(event.id)
        .bind(&event.ssaid)
        .bind(&event.policy_version)
        .bind(Json(&event.categories))
        .bind(event.action.as_str())
        .bind(event.source.as_str())
        .bind(event.created_at)
        .bind(&event.policy_hash)
        .bind(&event.banner_text_hash)
        .bind(&event.language)
        .bind(&event.ip_prefix)
        .bind(event.ua_class.as_str())
        .bind(&event.origin)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_consent_event(&self, id: Uuid) -> Result<Option<ConsentEvent>, StorageError> {
        let row = sqlx::query(
            "SELECT id, ssaid, policy_version, categories, action, source, created_at, \
             policy_hash, banner_text_hash, language, ip_prefix, ua_class, origin \
             FROM consent_events WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(event_from_row).transpose()
    }

    async fn consent_events_for(&self, ssaid: &str) -> Result<Vec<ConsentEvent>, StorageError> {
        let rows = sqlx::query(
            "SELECT id, ssaid, policy_version, categories, action, source, created_at, \
             policy_hash, banner_text_hash, language, ip_prefix, ua_class, origin \
             FROM consent_events WHERE ssaid = $1 ORDER BY created_at, id",
        )
        .bind(ssaid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn publish_policy(&self, record: &PolicyRecord) -> Result<PublishOutcome, StorageError> {
        // Insert-or-nothing, then compare: two instances publishing at once cannot both win.
        let inserted = sqlx::query(
            "INSERT INTO policy_versions (version, hash, material, published_at, source) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING",
        )
        .bind(&record.version)
        .bind(&record.hash)
        .bind(record.material)
        .bind(record.published_at)
        .bind(&record.source)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(PublishOutcome::Published);
        }
        let row = sqlx::query(
            "SELECT version, hash, material, published_at, source FROM policy_versions \
             WHERE version = $1",
        )
        .bind(&record.version)
        .fetch_one(&self.pool)
        .await?;
        Ok(outcome_for_existing(record, policy_from_row(&row)?))
    }

    async fn policy_versions(&self) -> Result<Vec<PolicyRecord>, StorageError> {
        let rows = sqlx::query(
            "SELECT version, hash, material, published_at, source FROM policy_versions \
             ORDER BY published_at, version",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(policy_from_row).collect()
    }
}
