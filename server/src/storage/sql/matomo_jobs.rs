//! [`MatomoJobStore`]: the erasures' jobs against Matomo.

use super::parse_column;
use crate::storage::{JobSelection, MatomoJob, MatomoJobState, MatomoJobStore, StorageError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

macro_rules! matomo_job_columns {
    () => {
        "erasure_id, visitor_id, state, attempts, next_attempt_at, last_error, deleted, \
         created_at, updated_at"
    };
}

for_both_engines! {
    #[async_trait::async_trait]
    impl MatomoJobStore {
        async fn matomo_jobs(&self, which: JobSelection) -> Result<Vec<MatomoJob>, StorageError> {
            let rows = match which {
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
                JobSelection::DueBy(now) => {
                    sqlx::query::<DB>(concat!(
                        "SELECT ",
                        matomo_job_columns!(),
                        " FROM matomo_erasure_jobs ",
                        "WHERE state = 'pending' AND next_attempt_at <= $1 ",
                        "ORDER BY created_at"
                    ))
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?
                }
            };
            rows.iter()
                .map(|row| {
                    let id: String = row.try_get("erasure_id")?;
                    let state: String = row.try_get("state")?;
                    let attempts: i64 = row.try_get("attempts")?;
                    let deleted: Option<String> = row.try_get("deleted")?;
                    Ok(MatomoJob {
                        erasure_id: parse_column("erasure id", &id, |raw| {
                            Uuid::parse_str(raw).ok()
                        })?,
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
            let mut transaction = self.begin_write().await?;
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
            let mut transaction = self.begin_write().await?;
            sqlx::query::<DB>(
                "UPDATE matomo_erasure_jobs SET attempts = $2, next_attempt_at = $3, \
                 last_error = $4, state = $5, updated_at = $6 WHERE erasure_id = $1",
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
    }
}
