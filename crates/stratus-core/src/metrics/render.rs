//! The Prometheus text exposition format, version 0.0.4.

use std::fmt::Write as _;

/// The `Content-Type` of a rendered exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A sample value: counters print as integers, everything else as a float with Prometheus's
/// spellings of the infinities and NaN.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    Int(u64),
    Float(f64),
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Self::Int(n) => write!(f, "{n}"),
            Self::Float(x) if x.is_nan() => f.write_str("NaN"),
            Self::Float(x) if x == f64::INFINITY => f.write_str("+Inf"),
            Self::Float(x) if x == f64::NEG_INFINITY => f.write_str("-Inf"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

/// `# HELP` (with `\` and newline escaped) and `# TYPE`.
pub fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value with `\`, `"` and newline escaped.
#[must_use]
pub fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// `k1="v1",k2="v2"` (without braces).
#[must_use]
pub fn labels(names: &[&str], values: &[String]) -> String {
    let mut text = String::new();
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        if i > 0 {
            text.push(',');
        }
        let _ = write!(text, "{name}=\"{}\"", escape_label_value(value));
    }
    text
}

/// One sample line: `name_suffix{labels} value`.
pub fn sample(out: &mut String, name: &str, labels: &str, suffix: &str, value: Number) {
    if labels.is_empty() {
        let _ = writeln!(out, "{name}{suffix} {value}");
    } else {
        let _ = writeln!(out, "{name}{suffix}{{{labels}}} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::super::registry::{Counter, Family, Gauge, Histogram};
    use super::*;

    #[test]
    fn escapes_backslash_quote_and_newline_in_label_values() {
        assert_eq!(escape_label_value(r#"a\b"c"#), r#"a\\b\"c"#);
        assert_eq!(escape_label_value("line\nnext"), "line\\nnext");
        assert_eq!(escape_label_value("plain-name_1"), "plain-name_1");
    }

    #[test]
    fn help_escapes_backslash_and_newline_but_not_quotes() {
        let mut out = String::new();
        header(&mut out, "m", "a \"b\" \\ c\nd", "counter");
        assert_eq!(out, "# HELP m a \"b\" \\\\ c\\nd\n# TYPE m counter\n");
    }

    #[test]
    fn numbers_use_prometheus_spellings() {
        assert_eq!(Number::Float(f64::INFINITY).to_string(), "+Inf");
        assert_eq!(Number::Float(f64::NEG_INFINITY).to_string(), "-Inf");
        assert_eq!(Number::Float(f64::NAN).to_string(), "NaN");
        assert_eq!(Number::Float(0.25).to_string(), "0.25");
        assert_eq!(Number::Float(3.0).to_string(), "3");
        assert_eq!(Number::Int(42).to_string(), "42");
    }

    #[test]
    fn series_render_sorted_by_label_values_whatever_the_insertion_order() {
        let family: Family<Counter> = Family::new("c_total", "help", &["project", "function"]);
        family.with(&["p", "zeta"]).add(2);
        family.with(&["p", "alpha"]).inc();
        family.with(&["a", "zeta"]).inc();
        family.with(&["p", "alpha"]).inc();
        let mut out = String::new();
        family.render(&mut out);
        assert_eq!(
            out,
            "# HELP c_total help\n# TYPE c_total counter\n\
             c_total{project=\"a\",function=\"zeta\"} 1\n\
             c_total{project=\"p\",function=\"alpha\"} 2\n\
             c_total{project=\"p\",function=\"zeta\"} 2\n"
        );
    }

    #[test]
    fn label_values_are_escaped_when_rendered() {
        let family: Family<Gauge> = Family::new("g", "h", &["name"]);
        family.with(&["say \"hi\"\\\n"]).set(1.5);
        let mut out = String::new();
        family.render(&mut out);
        assert!(
            out.ends_with("g{name=\"say \\\"hi\\\"\\\\\\n\"} 1.5\n"),
            "{out}"
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_end_with_inf() {
        static BOUNDS: [f64; 3] = [0.1, 1.0, 10.0];
        let family = Family::histogram("d_seconds", "h", &["f"], &BOUNDS);
        let series = family.with(&["x"]);
        for value in [0.05, 0.1, 0.5, 2.0, 20.0, 30.0] {
            series.observe(value);
        }
        let mut out = String::new();
        family.render(&mut out);
        let expected = "# HELP d_seconds h\n# TYPE d_seconds histogram\n\
            d_seconds_bucket{f=\"x\",le=\"0.1\"} 2\n\
            d_seconds_bucket{f=\"x\",le=\"1\"} 3\n\
            d_seconds_bucket{f=\"x\",le=\"10\"} 4\n\
            d_seconds_bucket{f=\"x\",le=\"+Inf\"} 6\n\
            d_seconds_sum{f=\"x\"} 52.65\n\
            d_seconds_count{f=\"x\"} 6\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn unlabeled_series_have_no_braces() {
        let family: Family<Gauge> = Family::new("up", "h", &[]);
        family.with(&[]).set(1.0);
        let mut out = String::new();
        family.render(&mut out);
        assert!(out.ends_with("\nup 1\n"), "{out}");
        let histogram = Histogram::new(&[1.0]);
        histogram.observe(0.5);
        let mut lines = String::new();
        crate::metrics::registry::Metric::render(&histogram, "h", "", &mut lines);
        assert_eq!(
            lines,
            "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\nh_count 1\n"
        );
    }

    #[test]
    fn gauges_go_up_and_down() {
        let gauge = Gauge::default();
        gauge.add(1.0);
        gauge.add(1.0);
        gauge.add(-1.0);
        assert!((gauge.get() - 1.0).abs() < f64::EPSILON);
    }
}
