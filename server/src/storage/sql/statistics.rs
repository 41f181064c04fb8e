//! [`StatisticsStore`]: the console's tallies and the audit export's pages of decisions; and
//! the counts, which only the tests read ([`Inspect`]).

use super::{day_column, day_text, parse_column};
use crate::domain::statistics::{
    Counted, DecisionCount, DecisionTally, Dimension, parse_granted_key,
};
use crate::storage::testing::Inspect;
use crate::storage::{ConsentEvent, StatisticsStore, StorageError};
use app::domain::{ConsentAction, ConsentSource, Regime};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use uuid::Uuid;

for_both_engines! {
    #[async_trait::async_trait]
    impl StatisticsStore {
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
                        dimension: parse_column(
                            "dimension",
                            &text("dimension")?,
                            Dimension::parse,
                        )?,
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
            rows.iter().map(Self::event_from_row).collect()
        }
    }
}

for_both_engines! {
    #[async_trait::async_trait]
    impl Inspect {
        async fn decision_counts(
            &self,
            from: NaiveDate,
            to: NaiveDate,
        ) -> Result<Vec<DecisionCount>, StorageError> {
            let rows = self
                .days_between(
                    "SELECT day, policy_version, origin, language, terminal_type, action, source, \
                     granted, jurisdiction, regime, decisions FROM decision_counts \
                     WHERE day >= $1 AND day <= $2",
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
                        jurisdiction: text("jurisdiction")?,
                        regime: parse_column("regime", &text("regime")?, Regime::parse)?,
                        action: parse_column("action", &text("action")?, ConsentAction::parse)?,
                        source: parse_column("source", &text("source")?, ConsentSource::parse)?,
                        granted: parse_granted_key(&text("granted")?),
                        decisions: row.try_get("decisions")?,
                    })
                })
                .collect()
        }
    }
}

for_both_engines! {
    impl {
        /// The rows of `sql`, whose `$1` and `$2` are the first and last day (inclusive).
        async fn days_between(
            &self,
            sql: &'static str,
            from: NaiveDate,
            to: NaiveDate,
        ) -> Result<Vec<DB::Row>, StorageError> {
            Ok(sqlx::query::<DB>(sql)
                .bind(day_text(from))
                .bind(day_text(to))
                .fetch_all(&self.pool)
                .await?)
        }
    }
}
