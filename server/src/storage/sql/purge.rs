//! [`PurgeStore`]: the retention purge, step by step and batch by batch.

use super::day_text;
use crate::domain::log::DeletionReason;
use crate::domain::retention::PurgeCutoffs;
use crate::storage::{PurgeStore, StorageError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

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

const SIMPLE_STEPS: [PurgeStep; 12] = [
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
        table: "address_counters",
        count: "SELECT COUNT(*) AS n FROM address_counters WHERE window_start < $1",
        apply: "DELETE FROM address_counters WHERE (address, kind, window_start) IN \
                (SELECT address, kind, window_start FROM address_counters \
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
    // Undeclared identifiers reported by embedding pages: names and sites, no visitor.
    PurgeStep {
        table: "undeclared_identifiers",
        count: "SELECT COUNT(*) AS n FROM undeclared_identifiers WHERE day < $1",
        apply: "DELETE FROM undeclared_identifiers WHERE day IN \
                (SELECT DISTINCT day FROM undeclared_identifiers WHERE day < $1 LIMIT $2)",
        by_day: true,
    },
    PurgeStep {
        table: "revoked_consents",
        count: "SELECT COUNT(*) AS n FROM revoked_consents WHERE expires_at < $1",
        apply: "DELETE FROM revoked_consents WHERE event_id IN \
                (SELECT event_id FROM revoked_consents WHERE expires_at < $1 LIMIT $2)",
        by_day: false,
    },
    PurgeStep {
        table: "console_session_revocations",
        count: "SELECT COUNT(*) AS n FROM console_session_revocations WHERE expires_at <= $1",
        apply: "DELETE FROM console_session_revocations WHERE session_id IN \
                (SELECT session_id FROM console_session_revocations \
                 WHERE expires_at <= $1 LIMIT $2)",
        by_day: false,
    },
    // The consent log's check results (no visitor in them), kept as long as the statistics.
    PurgeStep {
        table: "log_verifications",
        count: "SELECT COUNT(*) AS n FROM log_verifications WHERE ran_at < $1",
        apply: "DELETE FROM log_verifications WHERE ran_at IN \
                (SELECT ran_at FROM log_verifications WHERE ran_at < $1 LIMIT $2)",
        by_day: false,
    },
    // The tracker audit's stored scans (no visitor in them), kept as long as the statistics.
    PurgeStep {
        table: "tracker_scans",
        count: "SELECT COUNT(*) AS n FROM tracker_scans WHERE finished_at < $1",
        apply: "DELETE FROM tracker_scans WHERE id IN \
                (SELECT id FROM tracker_scans WHERE finished_at < $1 LIMIT $2)",
        by_day: false,
    },
];

for_both_engines! {
    #[async_trait::async_trait]
    impl PurgeStore {
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
    }
}

for_both_engines! {
    impl {
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
                    "ssaid_sightings" => cutoffs.sightings_before,
                    "address_counters" => cutoffs.address_counters_before,
                    "consent_events.ip_prefix" => cutoffs.prefixes_before,
                    "erasures" | "matomo_erasure_jobs" => cutoffs.erasures_before,
                    "decision_counts" | "decision_tallies" | "log_verifications" | "tracker_scans" => {
                        cutoffs.statistics_before
                    }
                    "undeclared_identifiers" => cutoffs.observations_before,
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
                    query.bind(day_text(cutoff.date_naive()))
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
                let mut transaction = self.begin_write().await?;
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
                let mut logged = Vec::with_capacity(ids.len());
                for id in ids {
                    let id: Uuid = id.into();
                    logged.push(id.to_string());
                    sqlx::query::<DB>("DELETE FROM consent_events WHERE id = $1")
                        .bind(DB::Id::from(id))
                        .execute(&mut *transaction)
                        .await?;
                }
                // The batch's leaves stay; a deletion leaf says why their records are gone.
                Self::log_deletion(
                    &mut transaction,
                    DeletionReason::Retention,
                    cutoffs.as_of,
                    None,
                    &logged,
                )
                .await?;
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
}
