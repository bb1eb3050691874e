//! Runs one measurement level: N workers issuing requests back to back until the level's
//! request count or time limit is reached, whichever comes first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::plan::{LARGE_SIZE, Limits, Plan};

/// What a level achieved.
#[derive(Debug, Clone, Copy)]
pub struct LevelResult {
    pub ops: u64,
    pub elapsed: Duration,
}

impl LevelResult {
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `op(i)` for i = 0, 1, 2, ... on `concurrency` tasks. Each index is handed out once, so
/// an op can derive a unique key from it. The first error ends the level (and aborts the other
/// tasks when the `JoinSet` drops): a benchmark that silently drops failures would overstate.
pub async fn run_async<F, Fut>(
    concurrency: usize,
    limits: Limits,
    op: F,
) -> anyhow::Result<LevelResult>
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..concurrency {
        let (next, done, op) = (next.clone(), done.clone(), op.clone());
        tasks.spawn(async move {
            while let Some(index) = claim(&next, start, limits) {
                op(index).await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    Ok(LevelResult {
        ops: done.load(Ordering::Relaxed),
        elapsed: start.elapsed(),
    })
}

/// Runs `op(i)` on `concurrency` OS threads, for blocking work such as write + fsync.
pub fn run_threads<F>(concurrency: usize, limits: Limits, op: F) -> anyhow::Result<LevelResult>
where
    F: Fn(u64) -> anyhow::Result<()> + Sync,
{
    let next = AtomicU64::new(0);
    let start = Instant::now();
    let per_thread: Vec<anyhow::Result<u64>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..concurrency)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0;
                    while let Some(index) = claim(&next, start, limits) {
                        op(index)?;
                        count += 1;
                    }
                    Ok(count)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("worker thread panicked")))
            })
            .collect()
    });
    let elapsed = start.elapsed();
    let mut ops = 0;
    for result in per_thread {
        ops += result?;
    }
    Ok(LevelResult { ops, elapsed })
}

/// Hands out the next request index, or `None` once either limit is reached.
fn claim(next: &AtomicU64, start: Instant, limits: Limits) -> Option<u64> {
    if start.elapsed() >= limits.max_time {
        return None;
    }
    let index = next.fetch_add(1, Ordering::Relaxed);
    (index < limits.max_ops).then_some(index)
}

/// Runs `transfer` (which moves `LARGE_SIZE` bytes) up to `large_reps` times within the time
/// limit, returning each result with its rate in MB/s.
pub fn repetitions<T>(
    plan: &Plan,
    mut transfer: impl FnMut(usize) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<(T, f64)>> {
    let start = Instant::now();
    let mut results = Vec::new();
    for rep in
        (0..plan.large_reps).take_while(|&rep| rep == 0 || start.elapsed() < plan.large_max_time)
    {
        let began = Instant::now();
        let value = transfer(rep)?;
        results.push((value, mb_per_sec(LARGE_SIZE, began)));
    }
    Ok(results)
}

/// [`repetitions`] for transfers over the network.
pub async fn repetitions_async<T>(
    plan: &Plan,
    mut transfer: impl AsyncFnMut(usize) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<(T, f64)>> {
    let start = Instant::now();
    let mut results = Vec::new();
    for rep in
        (0..plan.large_reps).take_while(|&rep| rep == 0 || start.elapsed() < plan.large_max_time)
    {
        let began = Instant::now();
        let value = transfer(rep).await?;
        results.push((value, mb_per_sec(LARGE_SIZE, began)));
    }
    Ok(results)
}

/// Megabytes (10^6 bytes) per second since `began`.
pub fn mb_per_sec(bytes: usize, began: Instant) -> f64 {
    bytes as f64 / 1e6 / began.elapsed().as_secs_f64()
}

/// Prints every repetition's rate, since the spread says how far to trust the median, and
/// returns the median.
pub fn summarize_reps<T>(what: &str, reps: &[(T, f64)]) -> f64 {
    let rates: Vec<f64> = reps.iter().map(|(_, rate)| *rate).collect();
    let each: Vec<String> = rates.iter().map(|rate| format!("{rate:.0}")).collect();
    let median = median(rates);
    eprintln!(
        "{what}: {median:.0} MB/s (median of {}: {})",
        each.len(),
        each.join(", ")
    );
    median
}

/// Median of a non-empty sample (the 64 MiB figures, where one slow outlier should not decide).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_samples() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn thread_level_stops_at_the_op_limit() {
        let limits = Limits {
            max_time: Duration::from_secs(60),
            max_ops: 100,
        };
        let result = run_threads(4, limits, |_| Ok(())).expect("level runs");
        assert_eq!(result.ops, 100);
    }

    #[tokio::test]
    async fn async_level_stops_at_the_time_limit() {
        let limits = Limits {
            max_time: Duration::from_millis(50),
            max_ops: u64::MAX,
        };
        let result = run_async(2, limits, |_| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(())
        })
        .await
        .expect("level runs");
        assert!(result.ops > 0 && result.elapsed < Duration::from_secs(5));
    }
}
