//! Group commit for decisions: concurrent decisions share one transaction and one fsync, and
//! each request is still answered only once its own row is durable. One writer per instance
//! takes whatever decisions are waiting (up to [`MOST_PER_COMMIT`]) and commits them together;
//! under load the groups grow by themselves, idle a group is one decision, so nothing waits
//! for a timer. On SQLite this also ends the fight of several connections for the one write
//! lock (whose busy handler sleeps for up to 100 ms at a time).

use crate::storage::{ConsentEvent, DecisionStore, SsaidRecord, StorageError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Bounds one transaction (and its bind parameters: 14 per event, far below both engines'
/// limits), so one group's commit stays short.
pub const MOST_PER_COMMIT: usize = 256;

struct Pending {
    visitor: SsaidRecord,
    event: ConsentEvent,
    stored: oneshot::Sender<Result<(), StorageError>>,
}

/// The handle requests record their decisions through; cheap to clone.
#[derive(Clone)]
pub struct DecisionWriter {
    queue: mpsc::Sender<Pending>,
}

impl DecisionWriter {
    /// Starts the writer; it stops when the last handle is dropped and the queue is empty.
    pub fn spawn(storage: Arc<dyn DecisionStore>) -> Self {
        // Bounded, so a stalled database pushes back on requests instead of queueing without
        // limit; the requests' own deadlines and the storage breaker answer them meanwhile.
        let (queue, mut waiting) = mpsc::channel::<Pending>(MOST_PER_COMMIT * 4);
        tokio::spawn(async move {
            let mut group = Vec::with_capacity(MOST_PER_COMMIT);
            while waiting.recv_many(&mut group, MOST_PER_COMMIT).await > 0 {
                commit(storage.as_ref(), std::mem::take(&mut group)).await;
            }
        });
        Self { queue }
    }

    /// Stores one decision (and its SSAID unless stored already); returns once it is durable.
    pub async fn insert(
        &self,
        visitor: SsaidRecord,
        event: ConsentEvent,
    ) -> Result<(), StorageError> {
        let (stored, outcome) = oneshot::channel();
        self.queue
            .send(Pending {
                visitor,
                event,
                stored,
            })
            .await
            .map_err(|_| StorageError::WriterStopped)?;
        outcome.await.map_err(|_| StorageError::WriterStopped)?
    }
}

async fn commit(storage: &dyn DecisionStore, group: Vec<Pending>) {
    let (decisions, answers): (Vec<_>, Vec<_>) = group
        .into_iter()
        .map(|pending| ((pending.visitor, pending.event), pending.stored))
        .unzip();
    match storage.insert_consent_events(&decisions).await {
        Ok(()) => {
            for answer in answers {
                // A request that went away meanwhile still has its decision stored.
                let _ = answer.send(Ok(()));
            }
        }
        Err(err) if answers.len() == 1 || err.is_unavailable() => {
            // The database is unreachable: every decision of the group fails the same way.
            let shared = Arc::new(err);
            for answer in answers {
                let _ = answer.send(Err(StorageError::Shared(Arc::clone(&shared))));
            }
        }
        Err(err) => {
            // One decision's fault must not fail the others: each is tried on its own.
            tracing::warn!(error = %err, size = answers.len(), "group commit failed; storing one by one");
            for (decision, answer) in decisions.iter().zip(answers) {
                let alone = storage
                    .insert_consent_events(std::slice::from_ref(decision))
                    .await;
                let _ = answer.send(alone);
            }
        }
    }
}
