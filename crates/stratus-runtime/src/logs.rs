//! Function logs: every line a worker prints, plus the platform's START / END / REPORT lines,
//! appended per function by one writer thread (an invocation never waits on log IO), and
//! broadcast to followers (`stratus logs --follow`).
//!
//! Appends go into a queue the writer drains in rounds: it wakes on the first batch, gathers for
//! a few milliseconds, then writes everything. Waking it per invocation (a futex wake and a
//! context switch each) cost more than the writing; readers flush first, so they still see
//! every line appended before they asked.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// One log event, as CloudWatch Logs would hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub timestamp_ms: i64,
    /// The version that produced it (Lambda names log streams after it).
    pub version: String,
    pub message: String,
}

/// A line for one function, as followers receive it.
#[derive(Debug, Clone)]
pub struct FunctionLogLine {
    pub project: String,
    pub function: String,
    pub line: LogLine,
}

/// Lines to append to a log; no lines means "delete this log" (ordered after earlier appends).
type Batch = (PathBuf, Vec<LogLine>);

/// How long the writer gathers batches after waking, so one wake serves many invocations.
const GATHER: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct Pending {
    batches: Vec<Batch>,
    appended: u64,
    written: u64,
}

#[derive(Debug, Default)]
struct Queue {
    pending: Mutex<Pending>,
    /// Signalled when the queue goes from empty to non-empty.
    ready: Condvar,
    /// Signalled after each round of writes.
    written: Condvar,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn push(&self, batch: Batch) {
        let mut pending = self.lock();
        pending.batches.push(batch);
        pending.appended += 1;
        if pending.batches.len() == 1 {
            self.ready.notify_one();
        }
    }
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
            .spawn(move || write_batches(&drained))?;
        let (follow, _) = broadcast::channel(4096);
        Ok(Self {
            root,
            queue,
            follow,
        })
    }

    fn path(&self, project: &str, function: &str) -> PathBuf {
        self.root.join(project).join(format!("{function}.jsonl"))
    }

    /// Queues lines for writing and hands them to followers; never blocks.
    pub fn append(&self, project: &str, function: &str, lines: Vec<LogLine>) {
        if lines.is_empty() {
            return;
        }
        for line in &lines {
            let _ = self.follow.send(FunctionLogLine {
                project: project.to_owned(),
                function: function.to_owned(),
                line: line.clone(),
            });
        }
        self.queue.push((self.path(project, function), lines));
    }

    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<FunctionLogLine> {
        self.follow.subscribe()
    }

    /// The last `limit` lines at or after `since_ms`. Blocking IO: call from a blocking thread.
    #[must_use]
    pub fn read(&self, project: &str, function: &str, since_ms: i64, limit: usize) -> Vec<LogLine> {
        self.flush();
        let Ok(file) = std::fs::File::open(self.path(project, function)) else {
            return Vec::new();
        };
        let mut lines: std::collections::VecDeque<LogLine> = std::collections::VecDeque::new();
        for text in std::io::BufReader::new(file).lines().map_while(Result::ok) {
            let Ok(line) = serde_json::from_str::<LogLine>(&text) else {
                continue;
            };
            if line.timestamp_ms >= since_ms {
                if lines.len() == limit {
                    lines.pop_front();
                }
                lines.push_back(line);
            }
        }
        lines.into()
    }

    /// Waits (a few milliseconds, at most a second) until every line appended so far is
    /// written. Blocking: call from a blocking thread or at shutdown.
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

    /// Removes a deleted function's log.
    pub fn remove(&self, project: &str, function: &str) {
        // Through the writer, which may hold the file open.
        self.queue.push((self.path(project, function), Vec::new()));
    }
}

/// How many function logs the writer keeps open; beyond it the least recently written closes.
const OPEN_LOGS: usize = 64;

fn write_batches(queue: &Arc<Queue>) {
    let mut files = OpenLogs::default();
    loop {
        {
            let mut pending = queue.lock();
            while pending.batches.is_empty() {
                // The store is gone when only this thread holds the queue.
                if Arc::strong_count(queue) == 1 {
                    return;
                }
                pending = queue
                    .ready
                    .wait_timeout(pending, Duration::from_secs(1))
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        }
        std::thread::sleep(GATHER);
        let batches = std::mem::take(&mut queue.lock().batches);
        let count = batches.len() as u64;
        for (path, lines) in batches {
            files.write(path, lines);
        }
        queue.lock().written += count;
        queue.written.notify_all();
    }
}

/// The writer's open files by path, with when each was last written.
#[derive(Default)]
struct OpenLogs {
    files: std::collections::HashMap<PathBuf, (std::fs::File, u64)>,
    clock: u64,
}

impl OpenLogs {
    fn write(&mut self, path: PathBuf, lines: Vec<LogLine>) {
        self.clock += 1;
        if lines.is_empty() {
            self.files.remove(&path);
            let _ = std::fs::remove_file(&path);
            return;
        }
        if !self.files.contains_key(&path) {
            if self.files.len() >= OPEN_LOGS
                && let Some(oldest) = self
                    .files
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(p, _)| p.clone())
            {
                self.files.remove(&oldest);
            }
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
            {
                Ok(file) => {
                    self.files.insert(path.clone(), (file, self.clock));
                }
                Err(_) => {
                    tracing::warn!(path = %path.display(), "cannot open function log");
                    return;
                }
            }
        }
        let Some((file, used)) = self.files.get_mut(&path) else {
            return;
        };
        *used = self.clock;
        let mut out = Vec::with_capacity(256 * lines.len());
        for line in lines {
            if let Ok(json) = serde_json::to_string(&line) {
                out.extend_from_slice(json.as_bytes());
                out.push(b'\n');
            }
        }
        // One append per batch: readers never see half a batch's line.
        let _ = file.write_all(&out);
    }
}
