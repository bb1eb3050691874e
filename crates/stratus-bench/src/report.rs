//! The figures of one run and their presentation: a markdown table or JSON, with a header that
//! says where and how they were taken (they mean little without it).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::env_info::{self, Machine};
use crate::plan::{CONCURRENCY, Plan};
use crate::servers::Binaries;

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Figure {
    SmallPut { concurrency: usize },
    SmallGet { concurrency: usize },
    LargePut,
    LargeGet,
}

impl Figure {
    fn all() -> Vec<Figure> {
        let mut rows: Vec<Figure> = CONCURRENCY
            .iter()
            .map(|&concurrency| Figure::SmallPut { concurrency })
            .collect();
        rows.extend(
            CONCURRENCY
                .iter()
                .map(|&concurrency| Figure::SmallGet { concurrency }),
        );
        rows.extend([Figure::LargePut, Figure::LargeGet]);
        rows
    }

    fn label(self) -> String {
        match self {
            Figure::SmallPut { concurrency } => format!("4 KiB PUT, c={concurrency}"),
            Figure::SmallGet { concurrency } => format!("4 KiB GET, c={concurrency}"),
            Figure::LargePut => "64 MiB PUT".to_owned(),
            Figure::LargeGet => "64 MiB GET".to_owned(),
        }
    }

    fn unit(self) -> &'static str {
        match self {
            Figure::SmallPut { .. } | Figure::SmallGet { .. } => "ops/s",
            Figure::LargePut | Figure::LargeGet => "MB/s",
        }
    }

    /// What the raw-disk column measured for this row, if anything.
    fn raw_meaning(self) -> Option<&'static str> {
        match self {
            Figure::SmallPut { .. } => Some("new file: write + fsync + dir fsync"),
            Figure::SmallGet { .. } => None,
            Figure::LargePut => Some("write + fsync + dir fsync"),
            Figure::LargeGet => Some("read (page cache)"),
        }
    }
}

/// The figures measured against one target (Stratus, s3s-fs or the raw disk).
#[derive(Debug, Default, Clone)]
pub struct Measured(HashMap<Figure, f64>);

impl Measured {
    pub fn insert(&mut self, figure: Figure, value: f64) {
        self.0.insert(figure, value);
    }

    fn get(&self, figure: Figure) -> Option<f64> {
        self.0.get(&figure).copied()
    }
}

/// Every target's figures; `None` for a target that was skipped.
#[derive(Debug)]
pub struct Figures {
    pub stratus: Option<Measured>,
    pub s3s_fs: Option<Measured>,
    pub raw: Option<Measured>,
}

#[derive(Debug, Serialize)]
pub struct Row {
    pub figure: String,
    pub unit: &'static str,
    pub stratus: Option<f64>,
    pub s3s_fs: Option<f64>,
    pub raw_disk: Option<f64>,
    /// What the raw-disk figure is, since it is not an S3 operation.
    pub raw_disk_measures: Option<&'static str>,
    pub stratus_vs_s3s_fs: Option<f64>,
    pub stratus_vs_raw: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub date: String,
    pub machine: Machine,
    pub commit: String,
    pub command: String,
    pub quick: bool,
    /// How the figures were taken: client settings, limits, durability of each target.
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
}

impl Report {
    pub fn new(
        plan: &Plan,
        figures: Figures,
        work_dir: &Path,
        binaries: &Binaries,
        skipped: Option<String>,
    ) -> Self {
        let rows = Figure::all()
            .into_iter()
            .map(|figure| row(figure, &figures))
            .collect();
        let mut notes = vec![
            format!(
                "client: aws-sdk-s3 {} on a tokio multi-thread runtime, path-style, HTTP/1.1 to 127.0.0.1; \
                 request checksum calculation and response checksum validation set to \"when_required\" and \
                 payload signing disabled (UNSIGNED-PAYLOAD), so that client-side hashing does not dominate",
                aws_sdk_s3::meta::PKG_VERSION
            ),
            "client and servers run on the same machine and share its CPUs".to_owned(),
            plan.describe(),
            "MB = 10^6 bytes; ratios > 1 mean Stratus is faster".to_owned(),
            "durability: Stratus fsyncs every acknowledged write; s3s-fs does not fsync".to_owned(),
            "raw disk, same filesystem, same bytes: 4 KiB PUT = create a file, write, fsync it, fsync the \
             directory (c threads); 64 MiB PUT = write, fsync, directory fsync; 64 MiB GET = read a file \
             just written (page cache); no raw figure for 4 KiB GET"
                .to_owned(),
            format!(
                "data directories: under {}, {}",
                work_dir.parent().unwrap_or(work_dir).display(),
                env_info::filesystem_of(work_dir)
            ),
            format!("s3s-fs: {}", binaries.s3s_fs_version.as_deref().unwrap_or("not installed")),
        ];
        notes.extend(skipped);
        Self {
            date: env_info::now_utc(),
            machine: Machine::detect(),
            commit: env_info::commit(),
            command: env_info::command_line(),
            quick: plan.quick,
            notes,
            rows,
        }
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        // `writeln!` into a String cannot fail; the results are discarded deliberately.
        let _ = writeln!(out, "- date: {}", self.date);
        let _ = writeln!(
            out,
            "- machine: {} CPUs ({}), {} GiB RAM, Linux {}",
            m.nproc, m.cpu, m.memory_gib, m.kernel
        );
        let _ = writeln!(out, "- commit: {}", self.commit);
        let _ = writeln!(out, "- command: `{}`", self.command);
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        out.push('\n');
        out.push_str("| figure | Stratus | s3s-fs | raw disk | Stratus/s3s-fs | Stratus/raw |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} ({}) | {} | {} | {} | {} | {} |",
                r.figure,
                r.unit,
                r.stratus.map_or_else(dash, number),
                r.s3s_fs.map_or_else(dash, number),
                r.raw_disk.map_or_else(dash, number),
                r.stratus_vs_s3s_fs.map_or_else(dash, ratio),
                r.stratus_vs_raw.map_or_else(dash, ratio),
            );
        }
        out
    }
}

fn row(figure: Figure, figures: &Figures) -> Row {
    let stratus = figures.stratus.as_ref().and_then(|m| m.get(figure));
    let s3s_fs = figures.s3s_fs.as_ref().and_then(|m| m.get(figure));
    let raw_disk = figures.raw.as_ref().and_then(|m| m.get(figure));
    let divide = |a: Option<f64>, b: Option<f64>| Some(a? / b?).filter(|r| r.is_finite());
    Row {
        figure: figure.label(),
        unit: figure.unit(),
        stratus,
        s3s_fs,
        raw_disk,
        raw_disk_measures: figure.raw_meaning(),
        stratus_vs_s3s_fs: divide(stratus, s3s_fs),
        stratus_vs_raw: divide(stratus, raw_disk),
    }
}

fn dash() -> String {
    "—".to_owned()
}

/// Whole numbers with thousands separators: the figures are too noisy for decimals to matter.
fn number(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(number(0.4), "0");
        assert_eq!(number(999.0), "999");
        assert_eq!(number(1234.6), "1,235");
        assert_eq!(number(1_234_567.0), "1,234,567");
    }

    #[test]
    fn ratios_need_both_sides() {
        let mut stratus = Measured::default();
        stratus.insert(Figure::LargePut, 100.0);
        let mut raw = Measured::default();
        raw.insert(Figure::LargePut, 200.0);
        let figures = Figures {
            stratus: Some(stratus),
            s3s_fs: None,
            raw: Some(raw),
        };
        let r = row(Figure::LargePut, &figures);
        assert_eq!(r.stratus_vs_raw, Some(0.5));
        assert_eq!(r.stratus_vs_s3s_fs, None);
    }
}
