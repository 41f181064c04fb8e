//! [`ObservationStore`]: the counts of undeclared identifiers, one row per day, site, kind,
//! name and choice.

use super::{day_column, day_text, parse_column};
use crate::domain::observations::{ChoiceInForce, ObservationCount, ObservedNames};
use crate::storage::{ObservationStore, StorageError};
use app::domain::IdentifierKind;
use chrono::NaiveDate;
use sqlx::{QueryBuilder, Row};

for_both_engines! {
    #[async_trait::async_trait]
    impl ObservationStore {
        async fn add_observations(&self, observed: &ObservedNames) -> Result<(), StorageError> {
            if observed.names.is_empty() {
                return Ok(());
            }
            // One upsert of every name (they are distinct: PostgreSQL refuses to update one row
            // twice in a statement). Reports are sampled, so this is no hot path; instances may
            // write out of order, hence the earliest and latest times rather than the last.
            let mut query = QueryBuilder::<DB>::new(
                "INSERT INTO undeclared_identifiers \
                 (day, origin, kind, name, choice, reports, first_seen, last_seen) ",
            );
            query.push_values(&observed.names, |mut row, (kind, name)| {
                row.push_bind(day_text(observed.day))
                    .push_bind(observed.origin.clone())
                    .push_bind(kind.as_str())
                    .push_bind(name.clone())
                    .push_bind(observed.choice.as_str())
                    .push_bind(1_i64)
                    .push_bind(observed.at)
                    .push_bind(observed.at);
            });
            query.push(
                " ON CONFLICT (day, origin, kind, name, choice) DO UPDATE SET \
                 reports = undeclared_identifiers.reports + 1, \
                 first_seen = CASE WHEN excluded.first_seen < undeclared_identifiers.first_seen \
                 THEN excluded.first_seen ELSE undeclared_identifiers.first_seen END, \
                 last_seen = CASE WHEN excluded.last_seen > undeclared_identifiers.last_seen \
                 THEN excluded.last_seen ELSE undeclared_identifiers.last_seen END",
            );
            query.build().execute(&self.pool).await?;
            Ok(())
        }

        async fn observations_since(
            &self,
            from: NaiveDate,
        ) -> Result<Vec<ObservationCount>, StorageError> {
            let rows = sqlx::query::<DB>(
                "SELECT day, origin, kind, name, choice, reports, first_seen, last_seen \
                 FROM undeclared_identifiers WHERE day >= $1 \
                 ORDER BY day, origin, kind, name, choice",
            )
            .bind(day_text(from))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let text = |column: &str| row.try_get::<String, _>(column);
                    Ok(ObservationCount {
                        day: day_column(&text("day")?)?,
                        origin: text("origin")?,
                        kind: parse_column("kind", &text("kind")?, IdentifierKind::parse)?,
                        name: text("name")?,
                        choice: parse_column("choice", &text("choice")?, ChoiceInForce::parse)?,
                        reports: row.try_get("reports")?,
                        first_seen: row.try_get("first_seen")?,
                        last_seen: row.try_get("last_seen")?,
                    })
                })
                .collect()
        }
    }
}
