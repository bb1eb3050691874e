//! Function logs: every line a worker prints, plus the platform's START / END / REPORT lines,
//! appended per function by one writer thread (an invocation never waits on log IO), and
//! broadcast to followers (`stratus logs --follow`).

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

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

#[derive(Debug, Clone)]
pub struct LogStore {
    root: PathBuf,
    writer: mpsc::Sender<Batch>,
    follow: broadcast::Sender<FunctionLogLine>,
}

impl LogStore {
    /// # Errors
    /// The log directory cannot be created.
    pub fn open(data_dir: &Path) -> std::io::Result<Self> {
        let root = data_dir.join("logs");
        std::fs::create_dir_all(&root)?;
        let (writer, batches) = mpsc::channel::<Batch>();
        std::thread::Builder::new()
            .name("stratus-logs".into())
            .spawn(move || write_batches(&batches))?;
        let (follow, _) = broadcast::channel(4096);
        Ok(Self {
            root,
            writer,
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
        let _ = self.writer.send((self.path(project, function), lines));
    }

    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<FunctionLogLine> {
        self.follow.subscribe()
    }

    /// The last `limit` lines at or after `since_ms`. Blocking IO: call from a blocking thread.
    #[must_use]
    pub fn read(&self, project: &str, function: &str, since_ms: i64, limit: usize) -> Vec<LogLine> {
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

    /// Removes a deleted function's log.
    pub fn remove(&self, project: &str, function: &str) {
        // Through the writer, which may hold the file open.
        let _ = self.writer.send((self.path(project, function), Vec::new()));
    }
}

/// How many function logs the writer keeps open; beyond it the least recently written closes.
const OPEN_LOGS: usize = 64;

fn write_batches(batches: &mpsc::Receiver<Batch>) {
    // Open files by path, with the order they were last written in: reopening (and a path
    // walk) per invocation was a measurable share of a warm invocation's cost.
    let mut open: std::collections::HashMap<PathBuf, (std::fs::File, u64)> =
        std::collections::HashMap::new();
    let mut clock = 0u64;
    while let Ok((path, lines)) = batches.recv() {
        clock += 1;
        if lines.is_empty() {
            open.remove(&path);
            let _ = std::fs::remove_file(&path);
            continue;
        }
        if !open.contains_key(&path) {
            if open.len() >= OPEN_LOGS
                && let Some(oldest) = open
                    .iter()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(p, _)| p.clone())
            {
                open.remove(&oldest);
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
                    open.insert(path.clone(), (file, clock));
                }
                Err(_) => {
                    tracing::warn!(path = %path.display(), "cannot open function log");
                    continue;
                }
            }
        }
        let Some((file, used)) = open.get_mut(&path) else {
            continue;
        };
        *used = clock;
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
