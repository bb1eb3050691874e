//! The on-disk layout of function logs and everything that reads it.
//!
//! ```text
//! logs/PROJECT/FUNCTION/STREAM.jsonl   one file per log stream (one worker), append-only
//! ```
//!
//! A stream's name (`2026/01/02/[$LATEST]0123…`) becomes its file name with `%` written `%25`
//! and `/` written `%2F`, so every name maps to one file inside the function's directory and
//! back. Each line is one [`StoredLine`]; a line's byte offset in its file identifies the event
//! (CloudWatch's tokens and event ids are built from it), and offsets never move because files
//! are only appended to, or deleted whole.

use std::io::{BufRead as _, Read as _, Seek as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One line of a stream file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredLine {
    pub timestamp_ms: i64,
    /// When the writer wrote it (CloudWatch's `ingestionTime`).
    pub ingestion_ms: i64,
    pub version: String,
    pub message: String,
}

/// One event read back from a stream file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub stream: String,
    /// Where the event's line starts in its stream file.
    pub offset: u64,
    /// Where the next line starts.
    pub next_offset: u64,
    pub timestamp_ms: i64,
    pub ingestion_ms: i64,
    pub version: String,
    pub message: String,
}

impl StoredEvent {
    /// A CloudWatch-style event id: unique in its group (timestamp, stream hash, offset), all
    /// digits, as AWS's are.
    #[must_use]
    pub fn event_id(&self) -> String {
        format!(
            "{:020}{:010}{:020}",
            self.timestamp_ms.max(0),
            fnv1a(self.stream.as_bytes()),
            self.offset
        )
    }
}

/// A stream as DescribeLogStreams shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSummary {
    pub name: String,
    pub first_event_ms: i64,
    pub last_event_ms: i64,
    pub last_ingestion_ms: i64,
    pub stored_bytes: u64,
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

const EXTENSION: &str = ".jsonl";

#[must_use]
pub(crate) fn encode_stream(name: &str) -> String {
    format!(
        "{}{EXTENSION}",
        name.replace('%', "%25").replace('/', "%2F")
    )
}

#[must_use]
pub(crate) fn decode_stream(file_name: &str) -> Option<String> {
    let encoded = file_name.strip_suffix(EXTENSION)?;
    Some(encoded.replace("%2F", "/").replace("%25", "%"))
}

/// The directory holding a function's streams.
pub(crate) fn function_dir(root: &Path, project: &str, function: &str) -> PathBuf {
    root.join(project).join(function)
}

/// The functions of a project that have at least one stream, by name.
pub(crate) fn functions_with_logs(root: &Path, project: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(project)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|entry| !stream_files(&entry.path()).is_empty())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// A function's streams as `(name, file)`, by name.
pub(crate) fn stream_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut streams: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = decode_stream(entry.file_name().to_str()?)?;
            Some((name, entry.path()))
        })
        .collect();
    streams.sort();
    streams
}

/// Every event of a stream file in file order. A line that does not parse (the torn tail of a
/// write a crash interrupted) is skipped.
pub(crate) fn read_events(path: &Path, stream: &str) -> Vec<StoredEvent> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut reader = std::io::BufReader::new(file);
    let mut events = Vec::new();
    let mut offset = 0u64;
    let mut text = String::new();
    loop {
        text.clear();
        let Ok(read) = reader.read_line(&mut text) else {
            break;
        };
        if read == 0 {
            break;
        }
        let next_offset = offset + read as u64;
        if let Ok(line) = serde_json::from_str::<StoredLine>(text.trim_end()) {
            events.push(StoredEvent {
                stream: stream.to_owned(),
                offset,
                next_offset,
                timestamp_ms: line.timestamp_ms,
                ingestion_ms: line.ingestion_ms,
                version: line.version,
                message: line.message,
            });
        }
        offset = next_offset;
    }
    events
}

/// How much of a file's end is read to find its last line before reading it all.
const TAIL_BYTES: u64 = 64 * 1024;

/// First and last event of a stream without reading the middle of its file.
pub(crate) fn summarize(path: &Path, stream: &str) -> Option<StreamSummary> {
    let mut file = std::fs::File::open(path).ok()?;
    let stored_bytes = file.metadata().ok()?.len();
    let mut first = String::new();
    std::io::BufReader::new(&file).read_line(&mut first).ok()?;
    let first: StoredLine = serde_json::from_str(first.trim_end()).ok()?;
    let start = stored_bytes.saturating_sub(TAIL_BYTES);
    file.seek(std::io::SeekFrom::Start(start)).ok()?;
    let mut tail = String::new();
    file.read_to_string(&mut tail).ok()?;
    let last = tail
        .lines()
        .rev()
        .find_map(|text| serde_json::from_str::<StoredLine>(text).ok())
        .or_else(|| {
            // A last line longer than the tail read: read the file whole.
            let events = read_events(path, stream);
            events.last().map(|e| StoredLine {
                timestamp_ms: e.timestamp_ms,
                ingestion_ms: e.ingestion_ms,
                version: e.version.clone(),
                message: String::new(),
            })
        })?;
    Some(StreamSummary {
        name: stream.to_owned(),
        first_event_ms: first.timestamp_ms,
        last_event_ms: last.timestamp_ms,
        last_ingestion_ms: last.ingestion_ms,
        stored_bytes,
    })
}

/// The newest event time in a stream file (`None` for an empty or unreadable one).
pub(crate) fn newest_event_ms(path: &Path) -> Option<i64> {
    summarize(path, "").map(|s| s.last_event_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_round_trip_through_file_names() {
        for name in ["2026/01/02/[$LATEST]0123abcd", "a%2Fb/c", "..", "x%"] {
            let file = encode_stream(name);
            assert!(!file.contains('/'), "{file}");
            assert_eq!(decode_stream(&file).as_deref(), Some(name));
        }
        assert_eq!(decode_stream("other.txt"), None);
    }

    #[test]
    fn event_ids_differ_by_stream_and_offset() {
        let event = |stream: &str, offset| StoredEvent {
            stream: stream.into(),
            offset,
            next_offset: offset + 1,
            timestamp_ms: 5,
            ingestion_ms: 6,
            version: "$LATEST".into(),
            message: String::new(),
        };
        let ids = [
            event("a", 0).event_id(),
            event("b", 0).event_id(),
            event("a", 10).event_id(),
        ];
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert!(ids[0].bytes().all(|b| b.is_ascii_digit()));
    }
}
