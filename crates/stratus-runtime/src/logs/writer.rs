//! The log writer thread: drains the queue in rounds, appends each stream's lines to its file,
//! then fsyncs every file (and every directory that gained a file) it touched in the round, and
//! only then counts the round as written. A reader that flushed therefore reads durable lines,
//! and the invocation path never waits on a disk.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::LogLine;
use super::files::{self, StoredLine};

/// What the writer is asked to do, in queue order.
#[derive(Debug)]
pub(super) enum Op {
    /// Append lines (each to the file of its stream) in a function's directory.
    Append { dir: PathBuf, lines: Vec<LogLine> },
    /// Delete a function's directory (the function was deleted).
    RemoveDir(PathBuf),
    /// Delete a stream file if its newest event is still older than the cutoff: checked by the
    /// writer, the only one appending, so a line that arrived since the sweeper looked is kept.
    RemoveIfStale { path: PathBuf, cutoff_ms: i64 },
}

/// How long the writer gathers operations after waking, so one wake serves many invocations.
const GATHER: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
pub(super) struct Pending {
    ops: Vec<Op>,
    pub appended: u64,
    pub written: u64,
}

#[derive(Debug, Default)]
pub(super) struct Queue {
    pending: Mutex<Pending>,
    /// Signalled when the queue goes from empty to non-empty.
    ready: Condvar,
    /// Signalled after each round of writes.
    pub written: Condvar,
}

impl Queue {
    pub(super) fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn push(&self, op: Op) {
        let mut pending = self.lock();
        pending.ops.push(op);
        pending.appended += 1;
        if pending.ops.len() == 1 {
            self.ready.notify_one();
        }
    }
}

pub(super) fn run(queue: &Arc<Queue>) {
    let mut files = OpenLogs::default();
    loop {
        {
            let mut pending = queue.lock();
            while pending.ops.is_empty() {
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
        let ops = std::mem::take(&mut queue.lock().ops);
        let count = ops.len() as u64;
        let ingestion_ms = crate::now_ms();
        for op in ops {
            match op {
                Op::Append { dir, lines } => files.append(&dir, lines, ingestion_ms),
                Op::RemoveDir(dir) => files.remove_dir(&dir),
                Op::RemoveIfStale { path, cutoff_ms } => files.remove_if_stale(&path, cutoff_ms),
            }
        }
        files.sync();
        queue.lock().written += count;
        queue.written.notify_all();
    }
}

/// How many stream files the writer keeps open; beyond it the least recently written closes.
const OPEN_LOGS: usize = 64;

/// The writer's open files by path, with when each was last written, and what the current
/// round must fsync.
#[derive(Default)]
struct OpenLogs {
    files: HashMap<PathBuf, (std::fs::File, u64)>,
    clock: u64,
    dirty_files: HashSet<PathBuf>,
    dirty_dirs: HashSet<PathBuf>,
}

impl OpenLogs {
    fn append(&mut self, dir: &Path, lines: Vec<LogLine>, ingestion_ms: i64) {
        // An invocation's lines share one stream; group consecutive runs all the same.
        let mut out: Vec<u8> = Vec::with_capacity(256 * lines.len());
        let mut stream: Option<String> = None;
        for line in lines {
            if stream.as_deref() != Some(line.stream.as_str()) {
                if let Some(previous) = stream.take() {
                    self.write(dir, &previous, &out);
                    out.clear();
                }
                stream = Some(line.stream.clone());
            }
            let stored = StoredLine {
                timestamp_ms: line.timestamp_ms,
                ingestion_ms,
                version: line.version,
                message: line.message,
            };
            if let Ok(json) = serde_json::to_string(&stored) {
                out.extend_from_slice(json.as_bytes());
                out.push(b'\n');
            }
        }
        if let Some(stream) = stream {
            self.write(dir, &stream, &out);
        }
    }

    fn write(&mut self, dir: &Path, stream: &str, bytes: &[u8]) {
        self.clock += 1;
        let path = dir.join(files::encode_stream(stream));
        if !self.files.contains_key(&path) {
            if self.files.len() >= OPEN_LOGS
                && let Some(oldest) = self
                    .files
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(p, _)| p.clone())
            {
                // Its lines of this round are fsynced before it closes.
                if let Some((file, _)) = self.files.remove(&oldest)
                    && self.dirty_files.remove(&oldest)
                {
                    let _ = file.sync_data();
                }
            }
            if !dir.is_dir() {
                let _ = std::fs::create_dir_all(dir);
                // The function's and possibly the project's directory are new.
                for ancestor in dir.ancestors().skip(1).take(2) {
                    self.dirty_dirs.insert(ancestor.to_owned());
                }
            }
            if !path.exists() {
                self.dirty_dirs.insert(dir.to_owned());
            }
            match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .read(true)
                .open(&path)
            {
                Ok(mut file) => {
                    end_torn_line(&mut file);
                    self.files.insert(path.clone(), (file, self.clock));
                }
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "cannot open function log");
                    return;
                }
            }
        }
        let Some((file, used)) = self.files.get_mut(&path) else {
            return;
        };
        *used = self.clock;
        // One append per invocation: readers never see half of an invocation's lines.
        if let Err(error) = file.write_all(bytes) {
            tracing::warn!(path = %path.display(), %error, "cannot append to function log");
        }
        self.dirty_files.insert(path);
    }

    fn remove_dir(&mut self, dir: &Path) {
        self.files.retain(|path, _| !path.starts_with(dir));
        self.dirty_files.retain(|path| !path.starts_with(dir));
        let _ = std::fs::remove_dir_all(dir);
    }

    fn remove_if_stale(&mut self, path: &Path, cutoff_ms: i64) {
        if files::newest_event_ms(path).is_some_and(|newest| newest >= cutoff_ms) {
            return;
        }
        self.files.remove(path);
        self.dirty_files.remove(path);
        if std::fs::remove_file(path).is_ok() {
            tracing::debug!(path = %path.display(), "removed a log stream past its retention");
        }
    }

    /// Makes this round's appends durable: file data first, then the directory entries of
    /// files (and function directories) created in it.
    fn sync(&mut self) {
        for path in self.dirty_files.drain() {
            if let Some((file, _)) = self.files.get(&path)
                && let Err(error) = file.sync_data()
            {
                tracing::warn!(path = %path.display(), %error, "cannot fsync function log");
            }
        }
        for dir in self.dirty_dirs.drain() {
            if let Ok(handle) = std::fs::File::open(&dir) {
                let _ = handle.sync_all();
            }
        }
    }
}

/// A crash can leave half a line at a file's end; a newline after it keeps the next append a
/// line of its own (readers skip the torn one).
fn end_torn_line(file: &mut std::fs::File) {
    use std::os::unix::fs::FileExt as _;
    let Ok(len) = file.metadata().map(|m| m.len()) else {
        return;
    };
    let mut last = [0u8; 1];
    if len > 0 && file.read_exact_at(&mut last, len - 1).is_ok() && last[0] != b'\n' {
        let _ = file.write_all(b"\n");
    }
}
