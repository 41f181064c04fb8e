//! [`PolicyStore`]: published policy versions.

use super::parse_column;
use crate::domain::{PolicyRecord, PublishOutcome};
use crate::storage::{PolicyStore, StorageError};
use app::domain::PolicyVersion;
use sqlx::Row;

macro_rules! policy_columns {
    () => {
        "version, hash, material, published_at, source"
    };
}

for_both_engines! {
    #[async_trait::async_trait]
    impl PolicyStore {
        async fn publish_policy(
            &self,
            record: &PolicyRecord,
        ) -> Result<PublishOutcome, StorageError> {
            // Insert-or-nothing, then compare: two instances publishing at once cannot both win.
            // A version published is logged in the same transaction.
            let mut transaction = self.begin_write().await?;
            let inserted = sqlx::query::<DB>(concat!(
                "INSERT INTO policy_versions (",
                policy_columns!(),
                ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING"
            ))
            .bind(record.version.to_string())
            .bind(record.hash.clone())
            .bind(record.material)
            .bind(crate::domain::log::leaf::to_micros(record.published_at))
            .bind(record.source.clone())
            .execute(&mut *transaction)
            .await?;
            if DB::rows_affected(&inserted) == 1 {
                Self::append_leaves(&mut transaction, &[Self::policy_leaf(record)]).await?;
                transaction.commit().await?;
                return Ok(PublishOutcome::Published);
            }
            transaction.rollback().await?;
            let row = sqlx::query::<DB>(concat!(
                "SELECT ",
                policy_columns!(),
                " FROM policy_versions WHERE version = $1"
            ))
            .bind(record.version.to_string())
            .fetch_one(&self.pool)
            .await?;
            let existing = Self::policy_from_row(&row)?;
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
            rows.iter().map(Self::policy_from_row).collect()
        }
    }
}

for_both_engines! {
    impl {
        /// A `policy_versions` row (`policy_columns!`).
        pub(super) fn policy_from_row(row: &DB::Row) -> Result<PolicyRecord, StorageError> {
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
    }
}
