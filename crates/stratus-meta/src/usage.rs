//! The usage meter: the invocation and S3 request paths add to an in-memory map under a short
//! mutex, and a background task flushes the sums through [`UsageRepository::add_usage`] every
//! few seconds and once more at shutdown. Deltas leave the buffer only after their commit
//! succeeds, so a failed flush is retried with the next one; a kill -9 loses at most the usage
//! of one flush interval and never counts anything twice.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::{InvocationTotals, MetaResult, RequestTotals, UsageDeltas, UsageRepository, hour_of};

/// AWS's S3 price classes. Requests AWS does not charge (DELETE, AbortMultipartUpload) are
/// simply not recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestClass {
    /// PUT, COPY, POST and LIST requests.
    Write,
    /// GET, HEAD and the rest.
    Read,
}

pub struct UsageMeter {
    repo: Arc<dyn UsageRepository>,
    pending: Mutex<UsageDeltas>,
    /// One flush at a time: a failed flush puts its deltas back before the next one takes any.
    flushing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for UsageMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageMeter").finish_non_exhaustive()
    }
}

use stratus_core::clock::now_ms;

impl UsageMeter {
    #[must_use]
    pub fn new(repo: Arc<dyn UsageRepository>) -> Self {
        Self {
            repo,
            pending: Mutex::new(UsageDeltas::default()),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    /// A poisoned lock only means a panic elsewhere while adding numbers; the sums stay usable.
    fn pending(&self) -> MutexGuard<'_, UsageDeltas> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one finished invocation: Lambda bills `billed_ms` × the configured `memory_mb`.
    pub fn record_invocation(
        &self,
        project: &str,
        function: &str,
        billed_ms: u64,
        memory_mb: u32,
        duration_ms: f64,
        failed: bool,
    ) {
        let delta = InvocationTotals {
            requests: 1,
            mb_ms: billed_ms.saturating_mul(u64::from(memory_mb)),
            duration_ms,
            errors: u64::from(failed),
        };
        let key = (project.to_owned(), function.to_owned(), hour_of(now_ms()));
        self.pending()
            .invocations
            .entry(key)
            .or_default()
            .add(&delta);
    }

    /// Counts one S3 request of `project`.
    pub fn record_s3_request(&self, project: &str, class: RequestClass) {
        let delta = match class {
            RequestClass::Write => RequestTotals {
                writes: 1,
                reads: 0,
            },
            RequestClass::Read => RequestTotals {
                writes: 0,
                reads: 1,
            },
        };
        let key = (project.to_owned(), hour_of(now_ms()));
        self.pending().requests.entry(key).or_default().add(&delta);
    }

    /// Usage recorded but not yet stored.
    #[must_use]
    pub fn unflushed(&self) -> UsageDeltas {
        self.pending().clone()
    }

    /// Stores everything recorded so far in one transaction. On failure the deltas go back to
    /// the buffer (added to what arrived meanwhile) for the next flush.
    ///
    /// # Errors
    /// The repository's, after the deltas are back in the buffer.
    pub async fn flush(&self) -> MetaResult<()> {
        let _one_at_a_time = self.flushing.lock().await;
        let deltas = std::mem::take(&mut *self.pending());
        if deltas.is_empty() {
            return Ok(());
        }
        match self.repo.add_usage(deltas.clone()).await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.pending().merge(deltas);
                Err(error)
            }
        }
    }

    /// Stored usage whose hour starts in `[since_ms, until_ms)`, of one project or of all,
    /// after a flush, so a report includes every invocation that finished before it.
    ///
    /// # Errors
    /// The repository's (a failed flush only logs: the report then lags by its deltas).
    pub async fn usage_rows(
        &self,
        project: Option<&str>,
        since_ms: i64,
        until_ms: i64,
    ) -> MetaResult<crate::UsageRows> {
        if let Err(error) = self.flush().await {
            tracing::warn!(%error, "usage flush before a report failed");
        }
        self.repo.usage_rows(project, since_ms, until_ms).await
    }

    /// Takes a storage sample now (see [`UsageRepository::add_storage_sample`]), crediting at
    /// most `interval` of storage. Returns the hours credited.
    ///
    /// # Errors
    /// The repository's.
    pub async fn sample_storage(&self, interval: Duration) -> MetaResult<f64> {
        let stored = self.repo.stored_bytes().await?;
        let max_gap_ms = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        self.repo
            .add_storage_sample(now_ms(), max_gap_ms, stored)
            .await
    }

    /// Flushes every `every` until `stop` resolves. The final flush at shutdown is the
    /// caller's, so it can await it before the process exits.
    pub async fn run_flusher(self: Arc<Self>, every: Duration, stop: impl Future<Output = ()>) {
        run_every(every, stop, || async {
            if let Err(error) = self.flush().await {
                tracing::warn!(%error, "usage flush failed; keeping the usage for the next one");
            }
        })
        .await;
    }

    /// Samples stored bytes at start and every `every` until `stop` resolves.
    pub async fn run_storage_sampler(
        self: Arc<Self>,
        every: Duration,
        stop: impl Future<Output = ()>,
    ) {
        run_every(every, stop, || async {
            if let Err(error) = self.sample_storage(every).await {
                tracing::warn!(%error, "storage sample failed");
            }
        })
        .await;
    }
}

/// Runs `task` at once and then every `every` (a late tick delays the next rather than
/// bunching them) until `stop` resolves.
async fn run_every<F, Fut>(every: Duration, stop: impl Future<Output = ()>, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    tokio::pin!(stop);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => task().await,
            () = &mut stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::{MetaError, UsageRows};

    /// A repository whose writes fail while `failing` is set, remembering what it stored.
    #[derive(Default)]
    struct Flaky {
        failing: AtomicBool,
        stored: Mutex<UsageDeltas>,
    }

    #[async_trait::async_trait]
    impl UsageRepository for Flaky {
        async fn add_usage(&self, deltas: UsageDeltas) -> MetaResult<()> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(MetaError::Commit("disk full".into()));
            }
            self.stored.lock().expect("lock").merge(deltas);
            Ok(())
        }
        async fn stored_bytes(&self) -> MetaResult<Vec<(String, u64)>> {
            Ok(Vec::new())
        }
        async fn add_storage_sample(
            &self,
            _: i64,
            _: i64,
            _: Vec<(String, u64)>,
        ) -> MetaResult<f64> {
            Ok(0.0)
        }
        async fn usage_rows(&self, _: Option<&str>, _: i64, _: i64) -> MetaResult<UsageRows> {
            Ok(UsageRows::default())
        }
    }

    fn only_invocations(deltas: &UsageDeltas) -> InvocationTotals {
        assert_eq!(deltas.invocations.len(), 1, "{deltas:?}");
        deltas
            .invocations
            .values()
            .copied()
            .next()
            .unwrap_or_default()
    }

    #[test]
    fn invocations_aggregate_per_function_with_lambdas_formula() {
        let meter = UsageMeter::new(Arc::new(Flaky::default()));
        meter.record_invocation("p", "f", 31, 256, 30.5, false);
        meter.record_invocation("p", "f", 2, 256, 1.2, true);
        meter.record_invocation("p", "g", 1, 128, 0.4, false);
        meter.record_invocation("q", "f", 1, 128, 0.4, false);
        let pending = meter.unflushed();
        assert_eq!(pending.invocations.len(), 3);
        let f = pending
            .invocations
            .iter()
            .find(|((p, f, _), _)| p == "p" && f == "f")
            .map(|(_, t)| *t)
            .expect("p/f");
        assert_eq!(f.requests, 2);
        assert_eq!(f.mb_ms, 33 * 256);
        assert_eq!(f.errors, 1);
        assert!((f.duration_ms - 31.7).abs() < 1e-9);
    }

    #[test]
    fn s3_requests_aggregate_by_class() {
        let meter = UsageMeter::new(Arc::new(Flaky::default()));
        meter.record_s3_request("p", RequestClass::Write);
        meter.record_s3_request("p", RequestClass::Read);
        meter.record_s3_request("p", RequestClass::Read);
        let pending = meter.unflushed();
        let totals: Vec<_> = pending.requests.values().copied().collect();
        assert_eq!(
            totals,
            vec![RequestTotals {
                writes: 1,
                reads: 2
            }]
        );
    }

    #[tokio::test]
    async fn a_failed_flush_keeps_its_deltas_for_the_next() {
        let repo = Arc::new(Flaky::default());
        let meter = UsageMeter::new(Arc::clone(&repo) as Arc<dyn UsageRepository>);
        meter.record_invocation("p", "f", 10, 128, 10.0, false);
        repo.failing.store(true, Ordering::SeqCst);
        assert!(meter.flush().await.is_err());
        assert_eq!(only_invocations(&meter.unflushed()).requests, 1);
        // Usage recorded while the flush failed joins the kept deltas.
        meter.record_invocation("p", "f", 10, 128, 10.0, false);
        repo.failing.store(false, Ordering::SeqCst);
        meter.flush().await.expect("flush");
        assert!(meter.unflushed().is_empty());
        let stored = only_invocations(&repo.stored.lock().expect("lock"));
        assert_eq!(stored.requests, 2);
        assert_eq!(stored.mb_ms, 2 * 10 * 128);
        // Nothing is stored twice.
        meter.flush().await.expect("empty flush");
        assert_eq!(
            only_invocations(&repo.stored.lock().expect("lock")).requests,
            2
        );
    }
}
