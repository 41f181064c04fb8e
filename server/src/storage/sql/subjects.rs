//! [`SubjectStore`]: everything stored under one SSAID, read whole or erased, and revoked
//! consent ids.

use super::{SIGHTINGS_OF_SSAID, parse_column};
use crate::domain::Ssaid;
use crate::domain::TerminalType;
use crate::domain::log::DeletionReason;
use crate::domain::rights::ErasureRecord;
use crate::storage::{MatomoJobState, SsaidRecord, StorageError, SubjectRecords, SubjectStore};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The SSAID's row with each of its decisions (oldest first), or alone (`action` null).
macro_rules! ssaid_with_events {
    () => {
        "SELECT s.issued_at, s.terminal_type, e.id, e.ssaid, \
         e.policy_version, e.categories, e.action, e.source, e.created_at, e.policy_hash, \
         e.banner_text_hash, e.language, e.ip_prefix, e.ua_class, e.origin, e.made_at, \
         e.jurisdiction, e.regime, e.country, e.country_source, e.log_salt \
         FROM ssaids s LEFT JOIN consent_events e ON e.ssaid = s.ssaid WHERE s.ssaid = $1 \
         ORDER BY e.created_at, e.id"
    };
}
const SSAID_WITH_EVENTS: &str = ssaid_with_events!();
/// Both reads of `subject_records` as one call, where the driver takes several statements.
const SUBJECT_IN_ONE_CALL: &str = concat!(ssaid_with_events!(), "; ", sightings_of_ssaid!());

/// Revokes consent id `$1` until `$2`; an id revoked already keeps its first expiry.
const REVOKE: &str = "INSERT INTO revoked_consents (event_id, expires_at) VALUES ($1, $2) \
                      ON CONFLICT (event_id) DO NOTHING";

for_both_engines! {
    #[async_trait::async_trait]
    impl SubjectStore {
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
                    consent_events.push(Self::event_from_row(row)?);
                }
            }
            Ok(SubjectRecords {
                ssaid: rows
                    .first()
                    .map(|row| Self::ssaid_from_row(ssaid, row))
                    .transpose()?,
                consent_events,
                sightings: sightings
                    .iter()
                    .map(Self::sighting_from_row)
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
            let mut transaction = self.begin_write().await?;
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
                sqlx::query::<DB>(REVOKE)
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
            // Every table that names the SSAID. Not the daily counts (`decision_counts`,
            // `decision_tallies`) nor `undeclared_identifiers` (reports come without cookies):
            // no row there is linked to a visitor, so there is nothing of theirs to erase.
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
            let erased: Vec<String> = revoked.iter().map(Uuid::to_string).collect();
            Self::log_deletion(
                &mut transaction,
                DeletionReason::Erasure,
                evidence.erased_at,
                Some(evidence.id.to_string()),
                &erased,
            )
            .await?;
            if let Some(visitor_id) = matomo_visitor_id {
                evidence.matomo = MatomoJobState::Pending.as_str().to_owned();
                sqlx::query::<DB>(
                    "INSERT INTO matomo_erasure_jobs (erasure_id, visitor_id, state, attempts, \
                     next_attempt_at, created_at, updated_at) \
                     VALUES ($1, $2, 'pending', 0, $3, $3, $3)",
                )
                .bind(evidence.id.to_string())
                .bind(visitor_id.to_owned())
                .bind(evidence.erased_at)
                .execute(&mut *transaction)
                .await?;
            }
            sqlx::query::<DB>(
                "INSERT INTO erasures (id, erased_at, channel, ticket, subject_hash, deleted, \
                 matomo) VALUES ($1, $2, $3, $4, $5, $6, $7)",
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

        async fn erasures_of(
            &self,
            subject_hash: &str,
        ) -> Result<Vec<ErasureRecord>, StorageError> {
            let rows = sqlx::query::<DB>(
                "SELECT id, erased_at, channel, ticket, subject_hash, deleted, matomo \
                 FROM erasures WHERE subject_hash = $1 ORDER BY erased_at",
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

        async fn revoke_consent(
            &self,
            event_id: Uuid,
            expires_at: DateTime<Utc>,
        ) -> Result<(), StorageError> {
            sqlx::query::<DB>(REVOKE)
                .bind(event_id.to_string())
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
            Ok(())
        }

        async fn revoked_consents(&self, now: DateTime<Utc>) -> Result<Vec<Uuid>, StorageError> {
            let rows =
                sqlx::query::<DB>("SELECT event_id FROM revoked_consents WHERE expires_at > $1")
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
    }
}

for_both_engines! {
    impl {
        /// An `ssaids` row (as joined in [`SSAID_WITH_EVENTS`]).
        fn ssaid_from_row(ssaid: &Ssaid, row: &DB::Row) -> Result<SsaidRecord, StorageError> {
            let terminal: String = row.try_get("terminal_type")?;
            Ok(SsaidRecord {
                ssaid: ssaid.clone(),
                issued_at: row.try_get("issued_at")?,
                terminal_type: parse_column("terminal type", &terminal, TerminalType::parse)?,
            })
        }
    }
}
