//! SQS-compatible durable queues. Every public method takes the caller's `Principal` and checks
//! its project and role (reads for Get/List, writes for the rest); queues are per project, and
//! another project's queue answers "does not exist". A message is accepted once committed; a
//! receive claims messages in one transaction; long polls wake right after a send commits.
//! The `*_for` methods are the system-level interface (no principal) for event-source pollers.

mod attributes;
mod errors;
mod manage;
mod receipt;
mod receive;
mod send;
mod system;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stratus_core::Action;
use stratus_identity::Principal;
use stratus_meta::{QueueRecord, QueueRepository};
use tokio::sync::Notify;

pub use attributes::{Redrive, Settings, valid_queue_name};
pub use errors::{QueueError, QueueResult};
pub use manage::QueueList;
pub use receive::{ReceiveRequest, ReceivedMessage, VisibilityEntry};
pub use send::{SendRequest, Sent};

/// How long a FIFO deduplication id (and a system delivery's id) is remembered.
pub const DEDUP_WINDOW: Duration = Duration::from_secs(300);
/// The most entries in one batch request.
pub const MAX_BATCH: usize = 10;
/// How often the sweeper removes expired messages.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// The queue service.
pub struct Queues {
    meta: Arc<dyn QueueRepository>,
    /// One wake-up per queue that has had a long poll, keyed by (project, queue).
    wakers: Mutex<HashMap<(String, String), Arc<Notify>>>,
    /// Counts sent, received and deleted messages when the server shares its metrics.
    metrics: Option<Arc<stratus_core::metrics::Metrics>>,
}

impl std::fmt::Debug for Queues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queues").finish_non_exhaustive()
    }
}

pub(crate) use stratus_core::clock::now_ms;

fn require(principal: &Principal, action: Action) -> QueueResult<()> {
    if principal.may(action) {
        Ok(())
    } else {
        Err(QueueError::AccessDenied(format!(
            "the key's role {:?} does not allow this operation",
            principal.role
        )))
    }
}

impl Queues {
    #[must_use]
    pub fn new(meta: Arc<dyn QueueRepository>) -> Self {
        Self {
            meta,
            wakers: Mutex::new(HashMap::new()),
            metrics: None,
        }
    }

    /// Records message counts in `metrics` (`GET /metrics`).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<stratus_core::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Adds `n` to one of the message counters (chosen by `family`) of a queue.
    pub(crate) fn count(
        &self,
        family: fn(
            &stratus_core::metrics::Metrics,
        ) -> &stratus_core::metrics::Family<stratus_core::metrics::Counter>,
        project: &str,
        queue: &str,
        n: usize,
    ) {
        if let Some(metrics) = &self.metrics
            && n > 0
        {
            family(metrics).with(&[project, queue]).add(n as u64);
        }
    }

    /// The queue's record, or `QueueDoesNotExist` (also for another project's queue: its
    /// name is looked up in the caller's project only).
    pub(crate) async fn queue(&self, project: &str, name: &str) -> QueueResult<QueueRecord> {
        self.meta
            .get_queue(project, name)
            .await?
            .ok_or(QueueError::QueueDoesNotExist)
    }

    fn waker(&self, project: &str, queue: &str) -> Arc<Notify> {
        let mut wakers = self
            .wakers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            wakers
                .entry((project.to_owned(), queue.to_owned()))
                .or_default(),
        )
    }

    /// Wakes every long poll waiting on the queue; called right after a send commits.
    fn wake(&self, project: &str, queue: &str) {
        let waker = self
            .wakers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&(project.to_owned(), queue.to_owned()))
            .cloned();
        if let Some(waker) = waker {
            waker.notify_waiters();
        }
    }

    fn forget_waker(&self, project: &str, queue: &str) {
        if let Some(waker) = self
            .wakers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&(project.to_owned(), queue.to_owned()))
        {
            waker.notify_waiters();
        }
    }

    /// Deletes messages past their queue's retention period and expired deduplication ids,
    /// every few seconds, until `shutdown` resolves.
    pub async fn run_sweeper(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(SWEEP_EVERY) => {}
            }
            match self.meta.sweep_queues(now_ms()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "expired queue messages removed"),
                Err(error) => tracing::warn!(?error, "queue sweep failed"),
            }
        }
    }
}
