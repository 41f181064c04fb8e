//! The consent log's service (docs/consent-log.md): the tree kept in memory and caught up with
//! the database, signed heads made every few seconds and at shutdown, proofs, and the
//! whole-log check.

use crate::domain::log::{
    Hash, LogSigner, LogVerifier, MerkleTree, ProofError, Report, SignedHead, StoredLeaf, TreeHead,
    head,
};
use crate::infra::clock::Clock;
use crate::storage::{LogStore, LogVerification, StorageError};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// Leaves read per trip when catching up.
const CATCH_UP_BATCH: u64 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("no leaf for decision {0}")]
    EntryNotFound(Uuid),
    #[error("no signed head of {0} leaves")]
    HeadNotFound(u64),
    #[error(
        "decision {event_id} is leaf {index}, after the latest signed head ({size} leaves); a head is signed every {interval} s"
    )]
    NotYetSigned {
        event_id: Uuid,
        index: u64,
        size: u64,
        interval: u64,
    },
    #[error(transparent)]
    Range(#[from] ProofError),
    #[error("a stored head does not verify: {0}")]
    BadStoredHead(head::HeadError),
    #[error("the log has no signed head yet")]
    NoHead,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// An inclusion proof and the head it is against.
#[derive(Debug, Clone)]
pub struct Inclusion {
    pub leaf: StoredLeaf,
    pub leaf_hash: Hash,
    pub audit_path: Vec<Hash>,
    pub head: SignedHead,
}

/// A consistency proof between two tree sizes.
#[derive(Debug, Clone)]
pub struct Consistency {
    pub first: u64,
    pub second: u64,
    pub first_root: Hash,
    pub second_root: Hash,
    pub proof: Vec<Hash>,
}

pub struct ConsentLog {
    store: Arc<dyn LogStore>,
    signer: LogSigner,
    /// The current key first, then retired ones.
    verifiers: Vec<LogVerifier>,
    tree: RwLock<MerkleTree>,
    /// One catch-up at a time; the tree itself is only locked to append or read.
    catching_up: tokio::sync::Mutex<()>,
    latest: RwLock<Option<SignedHead>>,
    interval: Duration,
    clock: Clock,
}

impl ConsentLog {
    /// Logs what was written without leaves (records from before the log, or from an older
    /// release), reads the whole tree and signs a head for it.
    pub async fn open(
        store: Arc<dyn LogStore>,
        verifiers: Vec<LogVerifier>,
        signer: LogSigner,
        interval: Duration,
        clock: Clock,
    ) -> Result<Arc<Self>, LogError> {
        let logged = store.log_unlogged_records().await?;
        if logged > 0 {
            tracing::info!(logged, "logged records written without a leaf");
        }
        let log = Arc::new(Self::unopened(store, verifiers, signer, interval, clock));
        log.make_head().await?;
        Ok(log)
    }

    /// The log as it is stored, with nothing logged or signed: what the whole-log check
    /// reads (it must not log what it is checking).
    pub fn unopened(
        store: Arc<dyn LogStore>,
        verifiers: Vec<LogVerifier>,
        signer: LogSigner,
        interval: Duration,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            signer,
            verifiers,
            tree: RwLock::default(),
            catching_up: tokio::sync::Mutex::new(()),
            latest: RwLock::default(),
            interval,
            clock,
        }
    }

    pub fn verifiers(&self) -> &[LogVerifier] {
        &self.verifiers
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Signs a head every interval while the log grows, until the process ends.
    pub fn spawn_heads(self: &Arc<Self>) {
        let log = Arc::downgrade(self);
        let interval = self.interval;
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(log) = log.upgrade() else { return };
                if let Err(err) = log.make_head().await {
                    tracing::warn!(error = %err, "could not sign a log head");
                }
            }
        });
    }

    /// Reads the leaves this instance has not seen into the tree: their stored hashes only
    /// (rehashing every leaf's data here cost a tenth of the decisions' throughput; the whole-log
    /// check recomputes each from its columns).
    pub async fn catch_up(&self) -> Result<u64, LogError> {
        let _one_at_a_time = self.catching_up.lock().await;
        loop {
            let start = self.size();
            let hashes = self
                .store
                .log_leaf_hashes_from(start, CATCH_UP_BATCH)
                .await?;
            let read = hashes.len() as u64;
            {
                let mut tree = self
                    .tree
                    .write()
                    .expect("the log tree lock is never poisoned");
                for hash in hashes {
                    tree.push(hash);
                }
            }
            if read < CATCH_UP_BATCH {
                return Ok(self.size());
            }
        }
    }

    fn size(&self) -> u64 {
        self.tree
            .read()
            .expect("the log tree lock is never poisoned")
            .size()
    }

    /// Signs and stores a head for the whole log if it grew since the latest head; either
    /// way returns the latest head.
    pub async fn make_head(&self) -> Result<SignedHead, LogError> {
        let size = self.catch_up().await?;
        let stored = self.stored_latest().await?;
        if let Some(latest) = stored.as_ref().filter(|latest| latest.head.size >= size) {
            return Ok(latest.clone());
        }
        let root = self
            .tree
            .read()
            .expect("the log tree lock is never poisoned")
            .root(size)?;
        // Never before the previous head: a witness reads time forward.
        let mut timestamp = self.clock.now().trunc_subsecs(3);
        if let Some(latest) = &stored {
            timestamp = timestamp.max(latest.head.timestamp);
        }
        let signed = self.signer.sign(TreeHead {
            origin: self.signer.name().to_owned(),
            size,
            root,
            timestamp,
        });
        let root_text = base64_hash(root);
        let inserted = self
            .store
            .store_log_head(size, &root_text, timestamp, &signed.key_id, &signed.note)
            .await?;
        if !inserted {
            // Another instance signed this size first: its head is the one served.
            return self.stored_latest().await?.ok_or(LogError::NoHead);
        }
        *self
            .latest
            .write()
            .expect("the head lock is never poisoned") = Some(signed.clone());
        Ok(signed)
    }

    async fn stored_latest(&self) -> Result<Option<SignedHead>, LogError> {
        let Some(note) = self.store.latest_log_head().await? else {
            return Ok(None);
        };
        let signed = self.open_note(&note)?;
        *self
            .latest
            .write()
            .expect("the head lock is never poisoned") = Some(signed.clone());
        Ok(Some(signed))
    }

    fn open_note(&self, note: &str) -> Result<SignedHead, LogError> {
        head::open(note, &self.verifiers).map_err(LogError::BadStoredHead)
    }

    /// The latest signed head (as of this instance's last head tick).
    pub async fn latest_head(&self) -> Result<SignedHead, LogError> {
        let cached = self
            .latest
            .read()
            .expect("the head lock is never poisoned")
            .clone();
        match cached {
            Some(head) => Ok(head),
            None => self.stored_latest().await?.ok_or(LogError::NoHead),
        }
    }

    /// The stored head of `size` leaves.
    pub async fn head_of_size(&self, size: u64) -> Result<SignedHead, LogError> {
        let note = self
            .store
            .log_head_of_size(size)
            .await?
            .ok_or(LogError::HeadNotFound(size))?;
        self.open_note(&note)
    }

    /// The `limit` latest heads, latest first.
    pub async fn recent_heads(&self, limit: u64) -> Result<Vec<SignedHead>, LogError> {
        self.store
            .recent_log_heads(limit)
            .await?
            .iter()
            .map(|note| self.open_note(note))
            .collect()
    }

    /// A decision's leaf, if it is logged.
    pub async fn leaf_of(&self, event_id: Uuid) -> Result<Option<StoredLeaf>, LogError> {
        Ok(self.store.log_leaf_of_decision(event_id).await?)
    }

    /// The inclusion proof of a decision against the head of `tree_size`, or the latest.
    pub async fn inclusion(
        &self,
        event_id: Uuid,
        tree_size: Option<u64>,
    ) -> Result<Inclusion, LogError> {
        let leaf = self
            .leaf_of(event_id)
            .await?
            .ok_or(LogError::EntryNotFound(event_id))?;
        let head = match tree_size {
            Some(size) => self.head_of_size(size).await?,
            None => self.latest_head().await?,
        };
        if leaf.index >= head.head.size {
            return Err(LogError::NotYetSigned {
                event_id,
                index: leaf.index,
                size: head.head.size,
                interval: self.interval.as_secs(),
            });
        }
        self.ensure_size(head.head.size).await?;
        let audit_path = self
            .tree
            .read()
            .expect("the log tree lock is never poisoned")
            .inclusion(leaf.index, head.head.size)?;
        Ok(Inclusion {
            leaf_hash: leaf.leaf.hash(),
            leaf,
            audit_path,
            head,
        })
    }

    /// The consistency proof from the tree of `first` leaves to the tree of `second`, both at
    /// most the latest head's size.
    pub async fn consistency(&self, first: u64, second: u64) -> Result<Consistency, LogError> {
        let latest = self.latest_head().await?;
        if first == 0 || first > second || second > latest.head.size {
            return Err(ProofError::BadRange { first, second }.into());
        }
        self.ensure_size(second).await?;
        let tree = self
            .tree
            .read()
            .expect("the log tree lock is never poisoned");
        Ok(Consistency {
            first,
            second,
            first_root: tree.root(first)?,
            second_root: tree.root(second)?,
            proof: tree.consistency(first, second)?,
        })
    }

    /// Catches up when a head (another instance's) is larger than this instance's tree.
    async fn ensure_size(&self, size: u64) -> Result<(), LogError> {
        if self.size() < size {
            self.catch_up().await?;
        }
        Ok(())
    }

    /// Checks the whole log (`server log verify`, the console's "Verify now") and records the
    /// result.
    pub async fn verify(&self, tolerance: TimeDelta) -> Result<Report, LogError> {
        let contents = self.store.log_contents().await?;
        let verifiers = self.verifiers.clone();
        let report = tokio::task::spawn_blocking(move || {
            crate::domain::log::verify::verify(&contents, &verifiers, tolerance)
        })
        .await
        .map_err(|err| StorageError::Corrupt(format!("the log check stopped: {err}")))?;
        self.store
            .record_log_verification(&LogVerification {
                ran_at: self.clock.now(),
                tree_size: report.leaves,
                heads: report.heads,
                clean: report.is_clean(),
                problems: report.problems.len() as u64,
                first_problem: report.problems.first().map(ToString::to_string),
            })
            .await?;
        Ok(report)
    }

    pub async fn last_verification(&self) -> Result<Option<LogVerification>, LogError> {
        Ok(self.store.last_log_verification().await?)
    }
}

/// Hashes as the API and the checkpoints write them.
pub fn base64_hash(hash: Hash) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(hash.0)
}

/// A head's time as the API writes it.
pub fn head_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
