//! [`RiskStore`]: sightings of SSAIDs and the per-address counters.

use super::{SIGHTINGS_OF_SSAID, day_column, day_text, parse_column};
use crate::domain::Ssaid;
use crate::domain::risk::{AddressCount, CounterKind, Sighting, TerminalTypes};
use crate::storage::{RiskStore, StorageError};
use chrono::{DateTime, Utc};
use sqlx::Row;

for_both_engines! {
    #[async_trait::async_trait]
    impl RiskStore {
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
            .bind(day_text(sighting.day))
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
            rows.iter().map(Self::sighting_from_row).collect()
        }

        async fn add_address_counts(&self, counts: &[AddressCount]) -> Result<(), StorageError> {
            let mut transaction = self.begin_write().await?;
            for count in counts {
                sqlx::query::<DB>(
                    "INSERT INTO address_counters (address, network, kind, window_start, count) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address, kind, window_start) \
                     DO UPDATE SET count = address_counters.count + excluded.count",
                )
                .bind(count.address.clone())
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

        async fn counts_by_address(
            &self,
            network: &str,
            kind: CounterKind,
            since: DateTime<Utc>,
        ) -> Result<Vec<(String, u64)>, StorageError> {
            let rows = sqlx::query::<DB>(
                "SELECT address, CAST(SUM(count) AS BIGINT) AS total FROM address_counters \
                 WHERE network = $1 AND kind = $2 AND window_start >= $3 GROUP BY address",
            )
            .bind(network.to_owned())
            .bind(kind.as_str())
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let total: i64 = row.try_get("total")?;
                    Ok((row.try_get("address")?, u64::try_from(total).unwrap_or(0)))
                })
                .collect()
        }
    }
}

for_both_engines! {
    impl {
        /// An `ssaid_sightings` row (`sighting_columns!`).
        pub(super) fn sighting_from_row(row: &DB::Row) -> Result<Sighting, StorageError> {
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
    }
}
