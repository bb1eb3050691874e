use super::*;

fn line(stream: &str, timestamp_ms: i64, message: &str) -> LogLine {
    LogLine {
        timestamp_ms,
        version: "$LATEST".into(),
        stream: stream.into(),
        message: message.into(),
    }
}

const A: &str = "2026/01/02/[$LATEST]aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const B: &str = "2026/01/02/[$LATEST]bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[test]
fn streams_are_separate_files_and_reads_merge_them_by_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::open(dir.path()).expect("open");
    logs.append("p", "f", vec![line(A, 10, "a1"), line(A, 30, "a2")]);
    logs.append("p", "f", vec![line(B, 20, "b1")]);
    logs.append("p", "g", vec![line(A, 5, "other function")]);
    let read = logs.read("p", "f", 0, 10);
    let messages: Vec<&str> = read.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(messages, ["a1", "b1", "a2"]);
    assert_eq!(read[1].stream, B);
    assert_eq!(logs.read("p", "f", 15, 1)[0].message, "a2");
    let files = std::fs::read_dir(dir.path().join("logs/p/f"))
        .expect("dir")
        .count();
    assert_eq!(files, 2);
    let streams = logs.streams("p", "f");
    assert_eq!(
        streams.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        [A, B]
    );
    assert_eq!(
        (streams[0].first_event_ms, streams[0].last_event_ms),
        (10, 30)
    );
    assert!(streams[0].last_ingestion_ms >= 30 && streams[0].stored_bytes > 0);
    assert_eq!(logs.functions_with_logs("p"), ["f", "g"]);
    assert!(logs.functions_with_logs("q").is_empty());
}

#[test]
fn stream_events_carry_offsets_that_chain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::open(dir.path()).expect("open");
    logs.append("p", "f", vec![line(A, 1, "x"), line(A, 2, "y")]);
    logs.flush();
    let events = logs.stream_events("p", "f", A).expect("stream");
    assert_eq!(events[0].offset, 0);
    assert_eq!(events[0].next_offset, events[1].offset);
    assert!(events[1].ingestion_ms >= events[1].timestamp_ms);
    assert!(logs.stream_events("p", "f", B).is_none());
}

#[test]
fn sweeping_deletes_only_streams_whose_newest_event_is_past_the_cutoff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::open(dir.path()).expect("open");
    logs.append(
        "p",
        "f",
        vec![line(A, 100, "old"), line(A, 200, "older end")],
    );
    logs.append("p", "f", vec![line(B, 100, "old"), line(B, 900, "recent")]);
    logs.flush();
    assert_eq!(logs.sweep("p", "f", 500), 1);
    logs.flush();
    let names: Vec<String> = logs.streams("p", "f").into_iter().map(|s| s.name).collect();
    assert_eq!(names, [B]);
    // A stream appended to after the sweeper looked is kept (the writer re-checks).
    logs.append("p", "f", vec![line(A, 1000, "new")]);
    logs.queue.push(Op::RemoveIfStale {
        path: dir.path().join("logs/p/f").join(files::encode_stream(A)),
        cutoff_ms: 500,
    });
    logs.flush();
    assert_eq!(logs.read("p", "f", 0, 10).len(), 3);
}

#[test]
fn removing_a_function_removes_its_group_and_later_lines_start_afresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::open(dir.path()).expect("open");
    logs.append("p", "f", vec![line(A, 1, "before")]);
    logs.remove("p", "f");
    logs.append("p", "f", vec![line(B, 2, "after")]);
    let read = logs.read("p", "f", 0, 10);
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].message, "after");
}

#[test]
fn a_torn_last_line_is_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let logs = LogStore::open(dir.path()).expect("open");
    logs.append("p", "f", vec![line(A, 1, "whole")]);
    logs.flush();
    let path = dir.path().join("logs/p/f").join(files::encode_stream(A));
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(b"{\"timestamp_ms\":2,\"ingest");
    std::fs::write(&path, bytes).expect("write");
    let read = logs.read("p", "f", 0, 10);
    assert_eq!(read.len(), 1);
    assert_eq!(logs.streams("p", "f")[0].last_event_ms, 1);
    // A writer that opens the file after the crash starts a fresh line.
    let restarted = LogStore::open(dir.path()).expect("reopen");
    restarted.append("p", "f", vec![line(A, 3, "after restart")]);
    let read = restarted.read("p", "f", 0, 10);
    assert_eq!(read.len(), 2);
    assert_eq!(read[1].message, "after restart");
}
