//! Function logs: every line a worker prints, plus the platform's START / END / REPORT lines,
//! in one log stream per worker (as Lambda names them), appended by one writer thread (an
//! invocation never waits on log IO) and broadcast to followers (`stratus logs --follow`).
//!
//! Appends go into a queue the writer drains in rounds: it wakes on the first batch, gathers for
//! a few milliseconds, then writes and fsyncs everything. Waking it per invocation (a futex wake
//! and a context switch each) cost more than the writing; readers flush first, so they still see
//! every line appended before they asked. Durability: a line is on disk within one writer round
//! (a few milliseconds plus one fsync) after its invocation ended; a reader that flushed only
//! ever reads lines that are already durable.

mod files;
pub mod filter;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub use files::{StoredEvent, StreamSummary};
use writer::{Op, Queue};

/// One log event as an invocation produces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub timestamp_ms: i64,
    /// The version that produced it (Lambda names log streams after it).
    pub version: String,
    /// The log stream (the worker) it belongs to: `YYYY/MM/DD/[VERSION]<32 hex digits>`.
    pub stream: String,
    pub message: String,
}

/// A line for one function, as followers receive it.
#[derive(Debug, Clone)]
pub struct FunctionLogLine {
    pub project: String,
    pub function: String,
    pub line: LogLine,
}

#[derive(Debug, Clone)]
pub struct LogStore {
    root: PathBuf,
    queue: Arc<Queue>,
    follow: broadcast::Sender<FunctionLogLine>,
}

impl LogStore {
    /// # Errors
    /// The log directory cannot be created.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.join("logs");
        std::fs::create_dir_all(&root)?;
        let queue = Arc::new(Queue::default());
        let drained = Arc::clone(&queue);
        std::thread::Builder::new()
            .name("stratus-logs".into())
            .spawn(move || writer::run(&drained))?;
        let (follow, _) = broadcast::channel(4096);
        Ok(Self {
            root,
            queue,
            follow,
        })
    }

    fn dir(&self, project: &str, function: &str) -> PathBuf {
        files::function_dir(&self.root, project, function)
    }

    /// Queues lines for writing and hands them to followers; never blocks.
    pub fn append(&self, project: &str, function: &str, lines: Vec<LogLine>) {
        if lines.is_empty() {
            return;
        }
        if self.follow.receiver_count() > 0 {
            for line in &lines {
                let _ = self.follow.send(FunctionLogLine {
                    project: project.to_owned(),
                    function: function.to_owned(),
                    line: line.clone(),
                });
            }
        }
        self.queue.push(Op::Append {
            dir: self.dir(project, function),
            lines,
        });
    }

    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<FunctionLogLine> {
        self.follow.subscribe()
    }

    /// The last `limit` lines at or after `since_ms`, all streams merged by time. Blocking IO:
    /// call from a blocking thread.
    #[must_use]
    pub fn read(&self, project: &str, function: &str, since_ms: i64, limit: usize) -> Vec<LogLine> {
        self.flush();
        let mut events = self.events(project, function, since_ms);
        let skip = events.len().saturating_sub(limit);
        events
            .drain(skip..)
            .map(|event| LogLine {
                timestamp_ms: event.timestamp_ms,
                version: event.version,
                stream: event.stream,
                message: event.message,
            })
            .collect()
    }

    /// Every event of a function at or after `since_ms`, by (time, stream, position). Does not
    /// flush. Blocking IO.
    #[must_use]
    pub fn events(&self, project: &str, function: &str, since_ms: i64) -> Vec<StoredEvent> {
        let mut events: Vec<StoredEvent> = files::stream_files(&self.dir(project, function))
            .into_iter()
            .flat_map(|(stream, path)| files::read_events(&path, &stream))
            .filter(|event| event.timestamp_ms >= since_ms)
            .collect();
        events.sort_by(|a, b| {
            (a.timestamp_ms, &a.stream, a.offset).cmp(&(b.timestamp_ms, &b.stream, b.offset))
        });
        events
    }

    /// Every event of one stream in the order written; `None` if there is no such stream.
    /// Does not flush. Blocking IO.
    #[must_use]
    pub fn stream_events(
        &self,
        project: &str,
        function: &str,
        stream: &str,
    ) -> Option<Vec<StoredEvent>> {
        let path = self
            .dir(project, function)
            .join(files::encode_stream(stream));
        path.is_file().then(|| files::read_events(&path, stream))
    }

    /// The functions of a project that have logs, by name. Blocking IO.
    #[must_use]
    pub fn functions_with_logs(&self, project: &str) -> Vec<String> {
        files::functions_with_logs(&self.root, project)
    }

    /// A function's streams by name, with their first and last events. Blocking IO.
    #[must_use]
    pub fn streams(&self, project: &str, function: &str) -> Vec<StreamSummary> {
        files::stream_files(&self.dir(project, function))
            .into_iter()
            .filter_map(|(stream, path)| files::summarize(&path, &stream))
            .collect()
    }

    /// Queues the deletion of every stream of a function whose newest event is older than
    /// `cutoff_ms` (the writer re-checks before deleting). Returns how many were queued.
    /// Blocking IO.
    pub fn sweep(&self, project: &str, function: &str, cutoff_ms: i64) -> usize {
        let stale: Vec<PathBuf> = files::stream_files(&self.dir(project, function))
            .into_iter()
            .filter(|(_, path)| files::newest_event_ms(path).is_some_and(|t| t < cutoff_ms))
            .map(|(_, path)| path)
            .collect();
        let count = stale.len();
        for path in stale {
            self.queue.push(Op::RemoveIfStale { path, cutoff_ms });
        }
        count
    }

    /// Waits (a few milliseconds, at most a second) until every line appended so far is
    /// written and fsynced. Blocking: call from a blocking thread or at shutdown.
    pub fn flush(&self) {
        let mut pending = self.queue.lock();
        let target = pending.appended;
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        while pending.written < target {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return;
            }
            pending = self
                .queue
                .written
                .wait_timeout(pending, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Removes a deleted function's logs (its log group).
    pub fn remove(&self, project: &str, function: &str) {
        // Through the writer, which may hold the files open.
        self.queue.push(Op::RemoveDir(self.dir(project, function)));
    }
}

#[cfg(test)]
mod tests;
