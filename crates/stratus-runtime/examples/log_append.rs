//! What logging costs an invocation: building a typical invocation's lines (START, three printed
//! lines, END, REPORT) and handing them to the log writer, timed per invocation on the calling
//! thread, which is all the invocation path ever pays (the writer appends and fsyncs on its own
//! thread). Then how long until everything is durable.
//!
//! `cargo run -p stratus-runtime --example log_append [INVOCATIONS]`

use std::time::{Duration, Instant};

use stratus_runtime::LogLine;
use stratus_runtime::logs::LogStore;

fn lines(i: usize, stream: &str, now_ms: i64) -> Vec<LogLine> {
    let request_id = format!("8f5c1b2e-0000-4000-8000-{i:012}");
    let messages = [
        format!("START RequestId: {request_id} Version: $LATEST"),
        format!("processing item {i} of the batch"),
        "loaded model weights from /opt/python/model.onnx".to_owned(),
        format!("result: {{\"label\": \"cat\", \"score\": 0.{i:04}}}"),
        format!("END RequestId: {request_id}"),
        format!(
            "REPORT RequestId: {request_id}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 41 MB\t"
        ),
    ];
    messages
        .into_iter()
        .enumerate()
        .map(|(n, message)| LogLine {
            timestamp_ms: now_ms + n as i64,
            version: "$LATEST".to_owned(),
            stream: stream.to_owned(),
            message,
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn run(logs: &LogStore, count: usize, pace: Option<Duration>) -> Vec<Duration> {
    let streams: Vec<String> = (0..4)
        .map(|w| format!("2026/01/01/[$LATEST]{w:032x}"))
        .collect();
    let mut costs = Vec::with_capacity(count);
    for i in 0..count {
        let now_ms = stratus_runtime::now_ms();
        let began = Instant::now();
        logs.append("bench", "fn", lines(i, &streams[i % streams.len()], now_ms));
        costs.push(began.elapsed());
        if let Some(pace) = pace {
            std::thread::sleep(pace);
        }
    }
    costs.sort();
    costs
}

fn report(label: &str, costs: &[Duration]) {
    let mean = costs.iter().sum::<Duration>() / costs.len() as u32;
    println!(
        "{label}: {} invocations, per invocation mean {:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        costs.len(),
        mean.as_secs_f64() * 1e6,
        percentile(costs, 0.5).as_secs_f64() * 1e6,
        percentile(costs, 0.99).as_secs_f64() * 1e6,
        percentile(costs, 1.0).as_secs_f64() * 1e6,
    );
}

fn main() -> std::io::Result<()> {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dir = std::env::temp_dir().join(format!("stratus-log-bench-{}", std::process::id()));
    let logs = LogStore::open(&dir)?;
    run(&logs, 1000, None);
    logs.flush();

    let burst = run(&logs, count, None);
    report("back to back", &burst);
    let began = Instant::now();
    logs.flush();
    println!(
        "durable (written and fsynced) {:.1} ms after the last append",
        began.elapsed().as_secs_f64() * 1e3
    );
    let paced = run(&logs, 2000, Some(Duration::from_micros(500)));
    report("paced, one every 0.5 ms", &paced);
    logs.flush();
    std::fs::remove_dir_all(&dir)
}
