//! Lambda's log lines and error documents, exactly as Lambda writes them, so tools that parse
//! CloudWatch output (REPORT lines above all) work on ours.

use std::time::Duration;

use crate::invoke::Metering;

pub(crate) fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

pub(crate) fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

pub(crate) fn report_line(request_id: &str, m: &Metering) -> String {
    let mut line = format!(
        "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
        m.duration_ms, m.billed_ms, m.memory_mb, m.max_memory_mb
    );
    if let Some(init) = m.init_ms {
        line.push_str(&format!("Init Duration: {init:.2} ms\t"));
    }
    if m.outcome != "success" && m.outcome != "error" {
        line.push_str(&format!("Status: {}\t", m.outcome));
    }
    line
}

/// Lambda bills in 1 ms increments, rounding up.
pub(crate) fn billed_ms(duration: Duration) -> u64 {
    let nanos = duration.as_nanos();
    u64::try_from(nanos.div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

pub(crate) fn timeout_message(request_id: &str, seconds: f64) -> String {
    format!(
        "{} {request_id} Task timed out after {seconds:.2} seconds",
        rfc3339_now()
    )
}

/// The payload Lambda returns for a failure the runtime did not report itself.
pub(crate) fn platform_error(request_id: &str, error_type: &str, message: &str) -> bytes::Bytes {
    let document = serde_json::json!({
        "errorMessage": format!("RequestId: {request_id} Error: {message}"),
        "errorType": error_type,
    });
    bytes::Bytes::from(document.to_string())
}

fn rfc3339_now() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.millisecond()
    )
}

/// The last 4 KB of an invocation's log, cut at a character boundary (`LogType: Tail`).
pub(crate) fn tail(lines: &[String]) -> String {
    const LIMIT: usize = 4096;
    let text = lines.join("\n") + "\n";
    if text.len() <= LIMIT {
        return text;
    }
    let mut start = text.len() - LIMIT;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    text[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_matches_lambda() {
        let m = Metering {
            init_ms: Some(41.5),
            duration_ms: 1.234,
            billed_ms: 2,
            memory_mb: 128,
            max_memory_mb: 31,
            outcome: "success",
        };
        assert_eq!(
            report_line("abc", &m),
            "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 31 MB\tInit Duration: 41.50 ms\t"
        );
    }

    #[test]
    fn billing_rounds_up_to_the_millisecond() {
        assert_eq!(billed_ms(Duration::from_micros(1)), 1);
        assert_eq!(billed_ms(Duration::from_micros(1000)), 1);
        assert_eq!(billed_ms(Duration::from_micros(1001)), 2);
    }

    #[test]
    fn tail_keeps_the_last_4_kb() {
        let lines: Vec<String> = (0..1000).map(|i| format!("line {i}")).collect();
        let tail = tail(&lines);
        assert!(tail.len() <= 4096 && tail.ends_with("line 999\n"));
    }
}
