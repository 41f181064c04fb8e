//! [`LogStore`]: the consent log's leaves, heads and verification results, and the writes that
//! append leaves inside other aggregates' transactions (decisions, policy publications,
//! deletions).

use super::parse_column;
use crate::domain::log::leaf::{self, DeletionReason, DeletionRecord, PolicyRecord};
use crate::domain::log::{Hash, Leaf, LeafKind, LogContents, RecordDigest, StoredLeaf};
use crate::storage::{LogStore, LogVerification, StorageError};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Row};
use std::collections::{BTreeMap, HashMap};

const LEAF_COLUMNS: &str = "leaf_index, kind, record_id, logged_at, commitment, leaf_hash";

/// Leaves read at a time when an instance catches up with the log.
const LEAVES_PER_READ: i64 = 50_000;

/// Unlogged records logged per transaction.
const BACKFILL_BATCH: i64 = 5_000;

for_both_engines! {
    impl {
        /// Appends leaves in the caller's transaction: their numbers are taken from the tip
        /// row, whose lock (held to the commit) puts writers in one order without gaps.
        /// Returns the first leaf's number.
        pub(super) async fn append_leaves(
            connection: &mut DB::Connection,
            leaves: &[(String, Leaf)],
        ) -> Result<u64, StorageError> {
            let count = i64::try_from(leaves.len()).unwrap_or(i64::MAX);
            let first: i64 = sqlx::query::<DB>(
                "UPDATE log_tip SET size = size + $1 WHERE id = 1 RETURNING size - $1 AS first",
            )
            .bind(count)
            .fetch_one(&mut *connection)
            .await?
            .try_get("first")?;
            if leaves.is_empty() {
                return Ok(first.unsigned_abs());
            }
            let mut query = QueryBuilder::<DB>::new("INSERT INTO log_leaves (");
            query.push(LEAF_COLUMNS).push(") ");
            query.push_values(leaves.iter().enumerate(), |mut row, (offset, (id, leaf))| {
                row.push_bind(first + offset as i64);
                Self::bind_leaf(&mut row, id, leaf);
            });
            query.build().execute(&mut *connection).await?;
            Ok(first.unsigned_abs())
        }

        /// A group's leaves as two statements after the tip's update (SQLite, in the group's one
        /// call): the tip is read back by the insert, inside the group's write transaction.
        pub(super) fn push_leaves_after_tip(query: &mut QueryBuilder<DB>, leaves: &[(String, Leaf)]) {
            let count = leaves.len() as i64;
            query
                .push("UPDATE log_tip SET size = size + ")
                .push_bind(count)
                .push(" WHERE id = 1; INSERT INTO log_leaves (")
                .push(LEAF_COLUMNS)
                .push(") ");
            query.push_values(leaves.iter().enumerate(), |mut row, (offset, (id, leaf))| {
                row.push("(SELECT size FROM log_tip) - ")
                    .push_bind_unseparated(count - offset as i64);
                Self::bind_leaf(&mut row, id, leaf);
            });
        }

        /// A group's leaves as two more CTEs of its one statement (PostgreSQL): the tip's
        /// update takes its row lock and hands the first number to the insert.
        pub(super) fn push_leaves_as_ctes(query: &mut QueryBuilder<DB>, leaves: &[(String, Leaf)]) {
            let count = leaves.len() as i64;
            query
                .push("tip AS (UPDATE log_tip SET size = size + ")
                .push_bind(count)
                .push(" WHERE id = 1 RETURNING size - ")
                .push_bind(count)
                .push(" AS first), leaves AS (INSERT INTO log_leaves (")
                .push(LEAF_COLUMNS)
                .push(") SELECT tip.first + v.o, v.k, v.r, v.t, v.c, v.h FROM tip, (");
            query.push_values(leaves.iter().enumerate(), |mut row, (offset, (id, leaf))| {
                row.push_bind(offset as i64);
                Self::bind_leaf(&mut row, id, leaf);
            });
            query.push(") AS v (o, k, r, t, c, h))");
        }

        fn bind_leaf(row: &mut sqlx::query_builder::Separated<'_, DB, &'static str>, id: &str, leaf: &Leaf) {
            row.push_bind(leaf.kind.as_str())
                .push_bind(id.to_owned())
                .push_bind(leaf.logged_at)
                .push_bind(leaf::hex(&leaf.commitment))
                .push_bind(leaf::hex(&leaf.hash().0));
        }

        fn hash_column(raw: &str) -> Result<Hash, StorageError> {
            parse_column("leaf hash", raw, |raw| {
                leaf::unhex(raw)
                    .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    .map(Hash)
            })
        }

        fn leaf_from_row(row: &DB::Row) -> Result<StoredLeaf, StorageError> {
            let index: i64 = row.try_get("leaf_index")?;
            let kind: String = row.try_get("kind")?;
            let commitment: String = row.try_get("commitment")?;
            let logged_at: DateTime<Utc> = row.try_get("logged_at")?;
            let stored_hash: String = row.try_get("leaf_hash")?;
            Ok(StoredLeaf {
                index: index.unsigned_abs(),
                record_id: row.try_get("record_id")?,
                stored_hash: Self::hash_column(&stored_hash)?,
                leaf: Leaf {
                    kind: parse_column("leaf kind", &kind, LeafKind::parse)?,
                    logged_at: leaf::to_micros(logged_at),
                    commitment: parse_column("commitment", &commitment, |raw| {
                        leaf::unhex(raw).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                    })?,
                },
            })
        }

        /// A published version's leaf.
        pub(super) fn policy_leaf(record: &crate::domain::PolicyRecord) -> (String, Leaf) {
            let version = record.version.to_string();
            let canonical = leaf::canonical(&PolicyRecord {
                version: &version,
                hash: &record.hash,
                material: record.material,
                published_at: leaf::timestamp(record.published_at),
                source: &record.source,
            });
            (
                version.clone(),
                Leaf {
                    kind: LeafKind::Policy,
                    logged_at: leaf::to_micros(record.published_at),
                    commitment: leaf::commitment(&[], &canonical),
                },
            )
        }

        /// Logs a deletion in the caller's transaction, after the records are deleted: the
        /// leaves of `records` (kind and id) are listed as erased by it. Returns the
        /// deletion's leaf number.
        pub(super) async fn log_deletion(
            connection: &mut DB::Connection,
            reason: DeletionReason,
            deleted_at: DateTime<Utc>,
            erasure_id: Option<String>,
            consent_ids: &[String],
        ) -> Result<Option<u64>, StorageError> {
            let mut leaves = Vec::with_capacity(consent_ids.len());
            for chunk in consent_ids.chunks(500) {
                let mut query = QueryBuilder::<DB>::new(
                    "SELECT leaf_index FROM log_leaves WHERE kind = 'consent' AND record_id IN (",
                );
                let mut ids = query.separated(", ");
                for id in chunk {
                    ids.push_bind(id.clone());
                }
                query.push(")");
                for row in query.build().fetch_all(&mut *connection).await? {
                    let index: i64 = row.try_get("leaf_index")?;
                    leaves.push(index.unsigned_abs());
                }
            }
            if leaves.is_empty() {
                return Ok(None);
            }
            leaves.sort_unstable();
            let record = DeletionRecord {
                id: uuid::Uuid::now_v7().to_string(),
                reason,
                deleted_at: leaf::timestamp(deleted_at),
                erasure_id,
                leaves,
            };
            sqlx::query::<DB>(
                "INSERT INTO log_deletions (id, reason, deleted_at, erasure_id) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(record.id.clone())
            .bind(reason.as_str())
            .bind(leaf::to_micros(deleted_at))
            .bind(record.erasure_id.clone())
            .execute(&mut *connection)
            .await?;
            for chunk in record.leaves.chunks(1000) {
                let mut query = QueryBuilder::<DB>::new(
                    "INSERT INTO log_erased_leaves (leaf_index, deletion_id) ",
                );
                query.push_values(chunk, |mut row, index| {
                    row.push_bind(*index as i64).push_bind(record.id.clone());
                });
                query.build().execute(&mut *connection).await?;
            }
            let deletion = Self::deletion_leaf(&record, deleted_at);
            Ok(Some(Self::append_leaves(connection, &[deletion]).await?))
        }

        fn deletion_leaf(record: &DeletionRecord, deleted_at: DateTime<Utc>) -> (String, Leaf) {
            (
                record.id.clone(),
                Leaf {
                    kind: LeafKind::Deletion,
                    logged_at: leaf::to_micros(deleted_at),
                    commitment: leaf::commitment(&[], &leaf::canonical(record)),
                },
            )
        }

        /// One batch of unlogged records, logged oldest first; how many.
        async fn log_unlogged_batch(&self) -> Result<u64, StorageError> {
            let mut transaction = self.begin_write().await?;
            // The tip's lock first: another instance logging the same records waits, then
            // finds them logged.
            sqlx::query::<DB>("UPDATE log_tip SET size = size WHERE id = 1")
                .execute(&mut *transaction)
                .await?;
            let events = sqlx::query::<DB>(concat!(
                "SELECT ",
                event_columns!(),
                " FROM consent_events e WHERE NOT EXISTS (SELECT 1 FROM log_leaves l \
                 WHERE l.record_id = CAST(e.id AS TEXT) AND l.kind = 'consent') \
                 ORDER BY created_at, id LIMIT $1"
            ))
            .bind(BACKFILL_BATCH)
            .fetch_all(&mut *transaction)
            .await?;
            let policies = sqlx::query::<DB>(
                "SELECT version, hash, material, published_at, source FROM policy_versions p \
                 WHERE NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.record_id = p.version \
                 AND l.kind = 'policy') ORDER BY published_at, version",
            )
            .fetch_all(&mut *transaction)
            .await?;
            let mut leaves = Vec::with_capacity(events.len() + policies.len());
            for row in &events {
                let event = Self::event_from_row(row)?;
                leaves.push((event.id.to_string(), event.log_leaf()));
            }
            for row in &policies {
                leaves.push(Self::policy_leaf(&Self::policy_from_row(row)?));
            }
            leaves.sort_by_key(|(_, leaf)| leaf.logged_at);
            if !leaves.is_empty() {
                Self::append_leaves(&mut transaction, &leaves).await?;
            }
            transaction.commit().await?;
            Ok(leaves.len() as u64)
        }
    }
}

for_both_engines! {
    #[async_trait::async_trait]
    impl LogStore {
        async fn log_leaves_from(
            &self,
            start: u64,
            limit: u64,
        ) -> Result<Vec<StoredLeaf>, StorageError> {
            let rows = sqlx::query::<DB>(
                "SELECT leaf_index, kind, record_id, logged_at, commitment, leaf_hash \
                 FROM log_leaves WHERE leaf_index >= $1 ORDER BY leaf_index LIMIT $2",
            )
            .bind(i64::try_from(start).unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(LEAVES_PER_READ).min(LEAVES_PER_READ))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(Self::leaf_from_row).collect()
        }

        async fn log_leaf_hashes_from(
            &self,
            start: u64,
            limit: u64,
        ) -> Result<Vec<Hash>, StorageError> {
            let row = sqlx::query::<DB>(DB::LEAF_HASHES_AS_ONE_ROW)
                .bind(i64::try_from(start).unwrap_or(i64::MAX))
                .bind(i64::try_from(limit).unwrap_or(LEAVES_PER_READ).min(LEAVES_PER_READ))
                .fetch_one(&self.pool)
                .await?;
            let leaves: i64 = row.try_get("leaves")?;
            if leaves == 0 {
                return Ok(Vec::new());
            }
            let first: Option<i64> = row.try_get("first")?;
            let last: Option<i64> = row.try_get("last")?;
            // Numbered without gaps from `start`: a gap is a removed leaf.
            let expected_last = start + leaves.unsigned_abs() - 1;
            if first.map(i64::unsigned_abs) != Some(start)
                || last.map(i64::unsigned_abs) != Some(expected_last)
            {
                return Err(StorageError::Corrupt(format!(
                    "log leaves {first:?} to {last:?} read where {start} to {expected_last} \
                     were expected"
                )));
            }
            let hashes: String = row.try_get("hashes")?;
            if hashes.len() != 64 * leaves.unsigned_abs() as usize {
                return Err(StorageError::Corrupt(
                    "log leaf hashes of the wrong length".to_owned(),
                ));
            }
            (0..hashes.len())
                .step_by(64)
                .map(|at| Self::hash_column(&hashes[at..at + 64]))
                .collect()
        }

        async fn log_leaf_of_decision(
            &self,
            event_id: uuid::Uuid,
        ) -> Result<Option<StoredLeaf>, StorageError> {
            let row = sqlx::query::<DB>(
                "SELECT leaf_index, kind, record_id, logged_at, commitment, leaf_hash \
                 FROM log_leaves WHERE record_id = $1 AND kind = 'consent'",
            )
            .bind(event_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
            row.as_ref().map(Self::leaf_from_row).transpose()
        }

        async fn log_unlogged_records(&self) -> Result<u64, StorageError> {
            let mut total = 0;
            loop {
                let logged = self.log_unlogged_batch().await?;
                total += logged;
                if logged < BACKFILL_BATCH.unsigned_abs() {
                    return Ok(total);
                }
            }
        }

        async fn store_log_head(
            &self,
            tree_size: u64,
            root_hash: &str,
            signed_at: DateTime<Utc>,
            key_id: &str,
            note: &str,
        ) -> Result<bool, StorageError> {
            let stored = sqlx::query::<DB>(
                "INSERT INTO log_heads (tree_size, root_hash, signed_at, key_id, note) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tree_size) DO NOTHING",
            )
            .bind(i64::try_from(tree_size).unwrap_or(i64::MAX))
            .bind(root_hash.to_owned())
            .bind(signed_at)
            .bind(key_id.to_owned())
            .bind(note.to_owned())
            .execute(&self.pool)
            .await?;
            Ok(DB::rows_affected(&stored) == 1)
        }

        async fn latest_log_head(&self) -> Result<Option<String>, StorageError> {
            Ok(self.recent_log_heads(1).await?.pop())
        }

        async fn log_head_of_size(&self, tree_size: u64) -> Result<Option<String>, StorageError> {
            let row = sqlx::query::<DB>("SELECT note FROM log_heads WHERE tree_size = $1")
                .bind(i64::try_from(tree_size).unwrap_or(i64::MAX))
                .fetch_optional(&self.pool)
                .await?;
            Ok(row.map(|row| row.try_get("note")).transpose()?)
        }

        async fn recent_log_heads(&self, limit: u64) -> Result<Vec<String>, StorageError> {
            let rows = sqlx::query::<DB>(
                "SELECT note FROM log_heads ORDER BY tree_size DESC LIMIT $1",
            )
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| Ok(row.try_get("note")?))
                .collect()
        }

        async fn log_contents(&self) -> Result<LogContents, StorageError> {
            let mut contents = LogContents::default();
            let mut start = 0u64;
            loop {
                let batch = self
                    .log_leaves_from(start, LEAVES_PER_READ.unsigned_abs())
                    .await?;
                let Some(last) = batch.last() else { break };
                start = last.index + 1;
                contents.leaves.extend(batch);
            }
            let mut records = HashMap::new();
            let events = sqlx::query::<DB>(concat!("SELECT ", event_columns!(), " FROM consent_events"))
                .fetch_all(&self.pool)
                .await?;
            for row in &events {
                let event = Self::event_from_row(row)?;
                let leaf = event.log_leaf();
                records.insert(
                    (LeafKind::Consent, event.id.to_string()),
                    RecordDigest {
                        commitment: leaf.commitment,
                        at: leaf.logged_at,
                    },
                );
            }
            drop(events);
            let policies = sqlx::query::<DB>(
                "SELECT version, hash, material, published_at, source FROM policy_versions",
            )
            .fetch_all(&self.pool)
            .await?;
            for row in &policies {
                let (id, leaf) = Self::policy_leaf(&Self::policy_from_row(row)?);
                records.insert(
                    (LeafKind::Policy, id),
                    RecordDigest {
                        commitment: leaf.commitment,
                        at: leaf.logged_at,
                    },
                );
            }
            let mut erased_by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
            let erased = sqlx::query::<DB>(
                "SELECT leaf_index, deletion_id FROM log_erased_leaves ORDER BY leaf_index",
            )
            .fetch_all(&self.pool)
            .await?;
            let mut erased_leaves = Vec::with_capacity(erased.len());
            for row in &erased {
                let index: i64 = row.try_get("leaf_index")?;
                let deletion: String = row.try_get("deletion_id")?;
                erased_by.entry(deletion.clone()).or_default().push(index.unsigned_abs());
                erased_leaves.push((index.unsigned_abs(), deletion));
            }
            let deletions = sqlx::query::<DB>(
                "SELECT id, reason, deleted_at, erasure_id FROM log_deletions",
            )
            .fetch_all(&self.pool)
            .await?;
            for row in &deletions {
                let id: String = row.try_get("id")?;
                let reason: String = row.try_get("reason")?;
                let deleted_at: DateTime<Utc> = row.try_get("deleted_at")?;
                let record = DeletionRecord {
                    id: id.clone(),
                    reason: parse_column("deletion reason", &reason, DeletionReason::parse)?,
                    deleted_at: leaf::timestamp(deleted_at),
                    erasure_id: row.try_get("erasure_id")?,
                    leaves: erased_by.remove(&id).unwrap_or_default(),
                };
                let (_, leaf) = Self::deletion_leaf(&record, deleted_at);
                records.insert(
                    (LeafKind::Deletion, id),
                    RecordDigest {
                        commitment: leaf.commitment,
                        at: leaf.logged_at,
                    },
                );
            }
            // A deletion's number, for the leaves it accounts for.
            let deletion_leaves: HashMap<&str, u64> = contents
                .leaves
                .iter()
                .filter(|stored| stored.leaf.kind == LeafKind::Deletion)
                .map(|stored| (stored.record_id.as_str(), stored.index))
                .collect();
            contents.erased = erased_leaves
                .into_iter()
                .filter_map(|(index, deletion)| {
                    // Listed by a deletion that is itself in the log; one slipped in around
                    // the log accounts for nothing (and is reported as unlogged).
                    deletion_leaves.get(deletion.as_str()).map(|by| (index, *by))
                })
                .collect();
            contents.records = records;
            let heads = sqlx::query::<DB>("SELECT note FROM log_heads ORDER BY tree_size")
                .fetch_all(&self.pool)
                .await?;
            contents.heads = heads
                .iter()
                .map(|row| row.try_get("note"))
                .collect::<Result<_, _>>()?;
            Ok(contents)
        }

        async fn record_log_verification(
            &self,
            verification: &LogVerification,
        ) -> Result<(), StorageError> {
            sqlx::query::<DB>(
                "INSERT INTO log_verifications (ran_at, tree_size, heads, clean, problems, \
                 first_problem) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(verification.ran_at)
            .bind(i64::try_from(verification.tree_size).unwrap_or(i64::MAX))
            .bind(i64::try_from(verification.heads).unwrap_or(i64::MAX))
            .bind(verification.clean)
            .bind(i64::try_from(verification.problems).unwrap_or(i64::MAX))
            .bind(verification.first_problem.clone())
            .execute(&self.pool)
            .await?;
            Ok(())
        }

        async fn last_log_verification(&self) -> Result<Option<LogVerification>, StorageError> {
            let row = sqlx::query::<DB>(
                "SELECT ran_at, tree_size, heads, clean, problems, first_problem \
                 FROM log_verifications ORDER BY ran_at DESC LIMIT 1",
            )
            .fetch_optional(&self.pool)
            .await?;
            row.map(|row| {
                let count = |column: &str| -> Result<u64, StorageError> {
                    let value: i64 = row.try_get(column)?;
                    Ok(value.unsigned_abs())
                };
                Ok(LogVerification {
                    ran_at: row.try_get("ran_at")?,
                    tree_size: count("tree_size")?,
                    heads: count("heads")?,
                    clean: row.try_get("clean")?,
                    problems: count("problems")?,
                    first_problem: row.try_get("first_problem")?,
                })
            })
            .transpose()
        }
    }
}
