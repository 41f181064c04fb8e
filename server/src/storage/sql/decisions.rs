//! [`DecisionStore`]: decisions and their SSAIDs, written a group at a time with the statistics
//! they add to, and read back.

use super::{day_text, parse_column};
use crate::domain::log::Leaf;
use crate::domain::rollup::{CountKey, RollUp, roll_up};
use crate::domain::statistics::{DecisionCount, DecisionTally};
use crate::domain::{Ssaid, TerminalType};
use crate::storage::{ConsentEvent, DecisionPlace, DecisionStore, SsaidRecord, StorageError};
use app::domain::{ConsentAction, ConsentSource, CountrySource, PolicyVersion, Regime};
use sqlx::types::Json;
use sqlx::{QueryBuilder, Row};
use std::collections::BTreeMap;
use uuid::Uuid;

const EVENTS_OF_SSAID: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM consent_events WHERE ssaid = $1 ORDER BY created_at, id"
);

/// Tally rows per statement: far below both engines' bind limits (6 binds a row). A group
/// has one per dimension value and action or category seen, a few hundred at most.
const TALLIES_PER_STATEMENT: usize = 1000;

/// A group of decisions as written: four writes, in one order (SSAIDs, events, counts,
/// tallies) whichever way the engine takes them.
struct Group<'a> {
    /// Each SSAID once, in key order: two instances writing overlapping groups on PostgreSQL
    /// lock the same keys in the same order, so they wait for each other instead of
    /// deadlocking.
    visitors: BTreeMap<&'a str, &'a SsaidRecord>,
    decisions: &'a [(SsaidRecord, ConsentEvent)],
    /// The console's statistics, exact because they change with the decisions or not at all:
    /// one increment per key, however many decisions of the group share it.
    statistics: RollUp,
    /// The decisions' leaves in the consent log, numbered in the same transaction.
    leaves: Vec<(String, Leaf)>,
}

impl<'a> Group<'a> {
    fn of(decisions: &'a [(SsaidRecord, ConsentEvent)]) -> Self {
        let visitors = decisions
            .iter()
            .map(|(visitor, event)| {
                debug_assert_eq!(visitor.ssaid, event.ssaid);
                (visitor.ssaid.as_str(), visitor)
            })
            .collect();
        let counted: Vec<DecisionCount> =
            decisions.iter().map(|(_, event)| event.counted()).collect();
        Self {
            visitors,
            decisions,
            statistics: roll_up(&counted),
            leaves: decisions
                .iter()
                .map(|(_, event)| (event.id.to_string(), event.log_leaf()))
                .collect(),
        }
    }

    /// Whether its tallies fit in the one statement of their write.
    fn tallies_fit_one_statement(&self) -> bool {
        self.statistics.tallies.len() <= TALLIES_PER_STATEMENT
    }
}

for_both_engines! {
    #[async_trait::async_trait]
    impl DecisionStore {
        async fn insert_consent_events(
            &self,
            decisions: &[(SsaidRecord, ConsentEvent)],
        ) -> Result<(), StorageError> {
            if decisions.is_empty() {
                return Ok(());
            }
            let group = Group::of(decisions);
            if DB::GROUP_IN_ONE_STATEMENT && group.tallies_fit_one_statement() {
                self.write_as_one_statement(&group).await
            } else if DB::STATEMENTS_IN_ONE_CALL && group.tallies_fit_one_statement() {
                self.write_in_one_call(&group).await
            } else {
                self.write_statement_by_statement(&group).await
            }
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
            row.as_ref().map(Self::event_from_row).transpose()
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
            row.as_ref().map(Self::event_from_row).transpose()
        }

        async fn consent_events_for(
            &self,
            ssaid: &Ssaid,
        ) -> Result<Vec<ConsentEvent>, StorageError> {
            let rows = sqlx::query::<DB>(EVENTS_OF_SSAID)
                .bind(ssaid.as_str().to_owned())
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(Self::event_from_row).collect()
        }
    }
}

// The three ways a group is written, and its writes, one function a table.
for_both_engines! {
    impl {
        /// A `consent_events` row (`event_columns!`).
        pub(super) fn event_from_row(row: &DB::Row) -> Result<ConsentEvent, StorageError> {
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
                jurisdiction: Self::place_from_row(row)?,
                log_salt: row.try_get("log_salt")?,
            })
        }

        /// The jurisdiction columns of a `consent_events` row: all set, or all NULL (before
        /// jurisdictions existed).
        fn place_from_row(row: &DB::Row) -> Result<Option<DecisionPlace>, StorageError> {
            let name: Option<String> = row.try_get("jurisdiction")?;
            let Some(name) = name else {
                return Ok(None);
            };
            let regime: Option<String> = row.try_get("regime")?;
            let source: Option<String> = row.try_get("country_source")?;
            Ok(Some(DecisionPlace {
                name,
                regime: parse_column("regime", regime.as_deref().unwrap_or(""), Regime::parse)?,
                country: row.try_get("country")?,
                source: parse_column(
                    "country source",
                    source.as_deref().unwrap_or(""),
                    CountrySource::parse,
                )?,
            }))
        }

        /// The group as one statement of data-modifying CTEs (PostgreSQL). One statement is
        /// atomic on its own, so no BEGIN and COMMIT either: one round trip instead of six
        /// while the group holds its rows' locks. Every group has this shape (the transaction
        /// of separate statements only takes over past a thousand tallies), so instances take
        /// the rows in the same order; a deadlock would fail the group, which the writer then
        /// retries one decision at a time.
        async fn write_as_one_statement(&self, group: &Group<'_>) -> Result<(), StorageError> {
            let glue = [
                "WITH visitors AS (",
                "), events AS (",
                "), counts AS (",
                "), ",
                "",
            ];
            let mut query = Self::group_of_four(glue, group, |query| {
                Self::push_leaves_as_ctes(query, &group.leaves);
                query.push(" ");
            });
            query.build().execute(&self.pool).await?;
            Ok(())
        }

        /// The group as a transaction of four statements sent as one call (SQLite): each call
        /// is a trip to the connection's own thread and back (a wake-up and two context
        /// switches), and the seven of a group (the pool's included) were a quarter of a
        /// decision's CPU. The parameters are numbered across the statements, each binding
        /// its own.
        async fn write_in_one_call(&self, group: &Group<'_>) -> Result<(), StorageError> {
            let glue = ["BEGIN IMMEDIATE; ", "; ", "; ", "; ", "; COMMIT"];
            let mut query = Self::group_of_four(glue, group, |query| {
                Self::push_leaves_after_tip(query, &group.leaves);
                query.push("; ");
            });
            let mut connection = self.pool.acquire().await?;
            if let Err(err) = query.build().execute(&mut *connection).await {
                // The statements after the failed one, COMMIT included, did not run. The
                // writer that calls this is never cancelled, so the connection is always
                // answered for.
                let rolled_back = sqlx::query::<DB>("ROLLBACK")
                    .execute(&mut *connection)
                    .await;
                if rolled_back.is_err() {
                    connection.close_on_drop();
                }
                return Err(err.into());
            }
            Ok(())
        }

        /// The group as a transaction of separate statements: one whose tallies do not fit
        /// one statement, or an engine that takes neither shape above.
        async fn write_statement_by_statement(
            &self,
            group: &Group<'_>,
        ) -> Result<(), StorageError> {
            let mut transaction = self.begin_write().await?;
            let mut query = QueryBuilder::<DB>::new("");
            Self::push_ssaids(&mut query, &group.visitors);
            query.build().execute(&mut *transaction).await?;
            let mut query = QueryBuilder::<DB>::new("");
            Self::push_events(&mut query, group.decisions);
            query.build().execute(&mut *transaction).await?;
            let mut query = QueryBuilder::<DB>::new("");
            Self::push_counts(&mut query, &group.statistics.counts);
            query.build().execute(&mut *transaction).await?;
            // Last, just before the commit: every group updates the same few tallies (the
            // current policy version's, say), so across instances they are the rows waited
            // for longest.
            for chunk in group.statistics.tallies.chunks(TALLIES_PER_STATEMENT) {
                let mut query = QueryBuilder::<DB>::new("");
                Self::push_tallies(&mut query, chunk);
                query.build().execute(&mut *transaction).await?;
            }
            Self::append_leaves(&mut transaction, &group.leaves).await?;
            transaction.commit().await?;
            Ok(())
        }

        /// A group's writes in their one order as one query, `glue` before, between and
        /// after the four of the decisions: an engine's statement or transaction around them.
        /// `leaves` writes the group's log leaves before the tallies, the last write.
        fn group_of_four(
            glue: [&str; 5],
            group: &Group<'_>,
            leaves: impl FnOnce(&mut QueryBuilder<DB>),
        ) -> QueryBuilder<DB> {
            let mut query = QueryBuilder::<DB>::new(glue[0]);
            Self::push_ssaids(&mut query, &group.visitors);
            query.push(glue[1]);
            Self::push_events(&mut query, group.decisions);
            query.push(glue[2]);
            Self::push_counts(&mut query, &group.statistics.counts);
            query.push(glue[3]);
            leaves(&mut query);
            Self::push_tallies(&mut query, &group.statistics.tallies);
            query.push(glue[4]);
            query
        }

        fn push_ssaids(query: &mut QueryBuilder<DB>, visitors: &BTreeMap<&str, &SsaidRecord>) {
            query
                .push("INSERT INTO ssaids (ssaid, issued_at, terminal_type) ")
                .push_values(visitors, |mut row, (ssaid, visitor)| {
                    row.push_bind(ssaid.to_string())
                        .push_bind(visitor.issued_at)
                        .push_bind(visitor.terminal_type.as_str());
                })
                .push(" ON CONFLICT (ssaid) DO NOTHING");
        }

        fn push_events(query: &mut QueryBuilder<DB>, decisions: &[(SsaidRecord, ConsentEvent)]) {
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
                    let place = event.jurisdiction.as_ref();
                    row.push_bind(place.map(|p| p.name.clone()))
                        .push_bind(place.map(|p| p.regime.as_str().to_owned()))
                        .push_bind(place.and_then(|p| p.country.clone()))
                        .push_bind(place.map(|p| p.source.as_str().to_owned()))
                        .push_bind(event.log_salt.clone());
                });
        }

        fn push_counts(query: &mut QueryBuilder<DB>, counts: &[(CountKey, i64)]) {
            query
                .push(
                    "INSERT INTO decision_counts (day, policy_version, origin, language, \
                     terminal_type, action, source, granted, jurisdiction, regime, decisions) ",
                )
                .push_values(counts, |mut row, (key, decisions)| {
                    row.push_bind(day_text(key.day))
                        .push_bind(key.policy_version.clone())
                        .push_bind(key.origin.clone())
                        .push_bind(key.language.clone())
                        .push_bind(key.terminal_type.clone())
                        .push_bind(key.action.to_owned())
                        .push_bind(key.source.to_owned())
                        .push_bind(key.granted.clone())
                        .push_bind(key.jurisdiction.clone())
                        .push_bind(key.regime.to_owned())
                        .push_bind(*decisions);
                })
                .push(
                    " ON CONFLICT (day, policy_version, origin, language, terminal_type, action, \
                     source, granted, jurisdiction, regime) DO UPDATE SET \
                     decisions = decision_counts.decisions + excluded.decisions",
                );
        }

        fn push_tallies(query: &mut QueryBuilder<DB>, tallies: &[DecisionTally]) {
            query
                .push(
                    "INSERT INTO decision_tallies (day, dimension, value, kind, name, decisions) ",
                )
                .push_values(tallies, |mut row, tally| {
                    row.push_bind(day_text(tally.day))
                        .push_bind(tally.dimension.column())
                        .push_bind(tally.value.clone())
                        .push_bind(tally.counted.kind())
                        .push_bind(tally.counted.name().to_owned())
                        .push_bind(tally.decisions);
                })
                .push(
                    " ON CONFLICT (day, dimension, value, kind, name) DO UPDATE SET \
                     decisions = decision_tallies.decisions + excluded.decisions",
                );
        }
    }
}
