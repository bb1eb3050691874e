//! A workload trace: how many requests arrived in each fixed interval over a period, read
//! from CSV (`start_seconds,requests`, a header line, one row per interval) or generated
//! (`synthetic.rs`).

use serde::Serialize;

use super::CompareError;

/// Request counts per interval. Counts are `f64` so synthetic traces carry exact expected
/// counts (a mean rate of 0.01/s is 0.6 requests a minute, not a rounding to 0 or 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    interval_seconds: f64,
    requests: Vec<f64>,
}

/// What a trace amounts to, for reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TraceSummary {
    pub interval_seconds: f64,
    pub intervals: usize,
    pub period_hours: f64,
    pub requests: f64,
    /// Requests per second over the whole period.
    pub mean_rate: f64,
    /// Requests per second in the busiest interval: the fleet is sized for it.
    pub peak_rate: f64,
}

impl Trace {
    /// A trace of `requests` per interval of `interval_seconds`.
    ///
    /// # Errors
    /// `InvalidTrace` for an empty trace, a non-positive interval, or a count that is negative
    /// or not finite.
    pub fn new(interval_seconds: f64, requests: Vec<f64>) -> Result<Self, CompareError> {
        if !(interval_seconds.is_finite() && interval_seconds > 0.0) {
            return Err(invalid(format!(
                "the interval must be a positive number of seconds, not {interval_seconds}"
            )));
        }
        if requests.is_empty() {
            return Err(invalid("the trace has no intervals".to_owned()));
        }
        if let Some((index, count)) = requests
            .iter()
            .enumerate()
            .find(|(_, count)| !(count.is_finite() && **count >= 0.0))
        {
            return Err(invalid(format!(
                "interval {index} has {count} requests; counts must be non-negative numbers"
            )));
        }
        Ok(Self {
            interval_seconds,
            requests,
        })
    }

    /// Parses the CSV trace format: a header line `start_seconds,requests`, then one line per
    /// interval with strictly increasing, evenly spaced start times (the spacing is the
    /// interval; the last interval is as long as the others). Blank lines and lines starting
    /// with `#` are skipped.
    ///
    /// # Errors
    /// `InvalidTrace` naming the offending line.
    pub fn from_csv(text: &str) -> Result<Self, CompareError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
        match lines.next() {
            Some((_, header)) if header.replace(' ', "") == "start_seconds,requests" => {}
            Some((number, header)) => {
                return Err(invalid(format!(
                    "line {number}: expected the header `start_seconds,requests`, found {header:?}"
                )));
            }
            None => return Err(invalid("the trace file is empty".to_owned())),
        }
        let mut starts = Vec::new();
        let mut requests = Vec::new();
        for (number, line) in lines {
            let (start, count) = parse_row(number, line)?;
            if let Some(&previous) = starts.last()
                && start <= previous
            {
                return Err(invalid(format!(
                    "line {number}: start {start} is not after the previous start {previous}"
                )));
            }
            starts.push(start);
            requests.push(count);
        }
        let [first, second, ..] = starts[..] else {
            return Err(invalid(
                "a trace needs at least two rows (their spacing is the interval)".to_owned(),
            ));
        };
        let interval = second - first;
        for (index, pair) in starts.windows(2).enumerate() {
            let spacing = pair[1] - pair[0];
            if (spacing - interval).abs() > interval * 1e-9 {
                return Err(invalid(format!(
                    "row {}: start {} is {spacing} s after the previous one; every interval \
                     must be {interval} s",
                    index + 2,
                    pair[1]
                )));
            }
        }
        Self::new(interval, requests)
    }

    #[must_use]
    pub fn interval_seconds(&self) -> f64 {
        self.interval_seconds
    }

    /// Request counts, one per interval.
    #[must_use]
    pub fn requests(&self) -> &[f64] {
        &self.requests
    }

    #[must_use]
    pub fn summary(&self) -> TraceSummary {
        let requests: f64 = self.requests.iter().sum();
        // Interval counts are far below 2^52: exact as f64.
        let period_seconds = self.requests.len() as f64 * self.interval_seconds;
        let peak = self.requests.iter().copied().fold(0.0, f64::max);
        TraceSummary {
            interval_seconds: self.interval_seconds,
            intervals: self.requests.len(),
            period_hours: period_seconds / 3600.0,
            requests,
            mean_rate: requests / period_seconds,
            peak_rate: peak / self.interval_seconds,
        }
    }
}

fn parse_row(number: usize, line: &str) -> Result<(f64, f64), CompareError> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [start, count] = fields[..] else {
        return Err(invalid(format!(
            "line {number}: expected `start_seconds,requests`, found {line:?}"
        )));
    };
    let number_field = |name: &str, text: &str| {
        text.parse::<f64>()
            .ok()
            .filter(|value| value.is_finite() && *value >= 0.0)
            .ok_or_else(|| {
                invalid(format!(
                    "line {number}: {name} must be a non-negative number, found {text:?}"
                ))
            })
    };
    Ok((
        number_field("start_seconds", start)?,
        number_field("requests", count)?,
    ))
}

fn invalid(message: String) -> CompareError {
    CompareError::InvalidTrace(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_summary() {
        let trace = Trace::from_csv("start_seconds,requests\n0,60\n60,120\n\n# a comment\n120,0\n")
            .expect("valid");
        assert_eq!(trace.interval_seconds(), 60.0);
        assert_eq!(trace.requests(), &[60.0, 120.0, 0.0]);
        let summary = trace.summary();
        assert!((summary.mean_rate - 1.0).abs() < 1e-12);
        assert!((summary.peak_rate - 2.0).abs() < 1e-12);
        assert!((summary.period_hours - 0.05).abs() < 1e-12);
    }

    #[test]
    fn malformed_traces_are_refused_with_the_line() {
        let cases = [
            ("", "empty"),
            ("time,count\n0,1\n60,1\n", "header"),
            ("start_seconds,requests\n0,1\n", "two rows"),
            ("start_seconds,requests\n0,1\n60,-3\n", "line 3"),
            ("start_seconds,requests\n0,1\n60,x\n", "line 3"),
            ("start_seconds,requests\n60,1\n0,1\n", "not after"),
            (
                "start_seconds,requests\n0,1\n60,1\n180,1\n",
                "every interval",
            ),
            ("start_seconds,requests\n0,1,2\n60,1\n", "line 2"),
        ];
        for (text, expected) in cases {
            let error = Trace::from_csv(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
        assert!(Trace::new(60.0, vec![f64::NAN]).is_err());
        assert!(Trace::new(0.0, vec![1.0]).is_err());
    }
}
