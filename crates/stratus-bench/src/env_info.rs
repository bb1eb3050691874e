//! Where and how a run happened, for the report's header. Everything here is best effort: a
//! missing detail prints as "unknown" rather than failing a run that already has its figures.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub cpu: String,
    pub memory_gib: u64,
    pub kernel: String,
}

impl Machine {
    pub fn detect() -> Self {
        Self {
            nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu: proc_field("/proc/cpuinfo", "model name").unwrap_or_else(unknown),
            memory_gib: proc_field("/proc/meminfo", "MemTotal")
                .and_then(|kb| kb.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |kb| (kb + (1 << 19)) >> 20),
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map_or_else(|_| unknown(), |s| s.trim().to_owned()),
        }
    }
}

pub fn now_utc() -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::now_utc()
        .format(format)
        .unwrap_or_else(|_| unknown())
}

/// The short commit, marked when the working tree has uncommitted changes to tracked files,
/// since then the commit alone does not say what was measured.
pub fn commit() -> String {
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return unknown();
    };
    match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(changes) if !changes.is_empty() => format!("{head} (with uncommitted changes)"),
        _ => head,
    }
}

/// The command that reproduces this run.
pub fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -p stratus-bench -- {}", args.join(" "))
}

/// "ext4 on /dev/vda (mounted at /)" for the filesystem holding `path`.
pub fn filesystem_of(path: &Path) -> String {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mounts") else {
        return unknown();
    };
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    // The longest mount point that contains the path is the one it lives on.
    let best = mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            Some((fields.next()?, fields.next()?, fields.next()?))
        })
        .filter(|(_, mount_point, _)| path.starts_with(mount_point))
        .max_by_key(|(_, mount_point, _)| mount_point.len());
    match best {
        Some((device, mount_point, fs_type)) => {
            format!("{fs_type} on {device} (mounted at {mount_point})")
        }
        None => unknown(),
    }
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The value of the first `key : value` line in a /proc file.
fn proc_field(file: &str, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_owned())
}

fn unknown() -> String {
    "unknown".to_owned()
}
