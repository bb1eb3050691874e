//! `stratus-bench`: measures Stratus against a peer S3 server (s3s-fs) and the raw disk in one
//! run, so that the figures can be read as ratios on the same (noisy, shared) machine. Results
//! and the commands that produced them are in `docs/benchmarks.md`.
//!
//! Files:
//! - `main.rs` — `stratus-bench s3`: arguments and the run's order.
//! - `servers.rs` — finding, starting and stopping the servers under test (stopped on drop).
//! - `client.rs` — the one S3 client configuration used against every server.
//! - `plan.rs`, `level.rs` — how much work a measurement does; one concurrency level.
//! - `s3load.rs` — the workload: 4 KiB PUT/GET per level, then sequential 64 MiB PUT/GET.
//! - `rawdisk.rs` — the raw-disk baseline, same bytes and durability, no server.
//! - `report.rs`, `env_info.rs` — the figures as markdown or JSON, with where and how they were
//!   taken.

mod client;
mod env_info;
mod level;
mod plan;
mod rawdisk;
mod report;
mod s3load;
mod servers;

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::plan::Plan;
use crate::report::{Figures, Report};
use crate::servers::Binaries;

#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// 4 KiB and 64 MiB PUT/GET over S3 against Stratus, s3s-fs and the raw disk.
    S3 {
        /// About a fifth of the full run: shorter levels, one 64 MiB repetition.
        #[arg(long)]
        quick: bool,
        /// Print the results as JSON instead of a markdown table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::S3 { quick, json } => {
            run_s3(if quick { Plan::quick() } else { Plan::full() }, json)
        }
    }
}

fn run_s3(plan: Plan, json: bool) -> anyhow::Result<()> {
    let target_dir = target_dir()?;
    let binaries = Binaries::locate(&target_dir)?;
    // Under target/ so that every data directory is on the repository's filesystem; removed
    // when `work` drops, which happens after the servers using it have been stopped.
    let tmp_root = target_dir.join("bench-tmp");
    std::fs::create_dir_all(&tmp_root)
        .with_context(|| format!("cannot create {}", tmp_root.display()))?;
    let work = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&tmp_root)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let raw = measure_raw(work.path(), &plan)?;
    let stratus = runtime.block_on(measure_stratus(&binaries, work.path(), &plan))?;
    let (s3s_fs, s3s_fs_note) = match &binaries.s3s_fs {
        Some(bin) => measure_s3s_fs(&runtime, bin, work.path(), &plan),
        None => (None, servers::s3s_fs_missing_note()),
    };

    let figures = Figures {
        stratus: Some(stratus),
        s3s_fs,
        raw: Some(raw),
    };
    let report = Report::new(&plan, figures, work.path(), &binaries, s3s_fs_note);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.to_markdown());
    }
    Ok(())
}

fn measure_raw(work: &Path, plan: &Plan) -> anyhow::Result<report::Measured> {
    let dir = work.join("raw");
    std::fs::create_dir_all(&dir)?;
    eprintln!("raw disk: measuring in {}", dir.display());
    let measured = rawdisk::run(&dir, plan).context("raw disk baseline")?;
    // Free the space (and the page cache the reads relied on) before the servers run.
    std::fs::remove_dir_all(&dir)?;
    Ok(measured)
}

async fn measure_stratus(
    binaries: &Binaries,
    work: &Path,
    plan: &Plan,
) -> anyhow::Result<report::Measured> {
    let server = servers::start_stratus(&binaries.stratus, &work.join("stratus")).await?;
    eprintln!("stratus: listening at {}", server.endpoint.url);
    let measured = s3load::run("stratus", &server.endpoint, plan).await;
    // Stop before returning the figures (or the error) so the next server runs alone.
    server.stop().await;
    measured.context("benchmarking Stratus")
}

/// s3s-fs is the comparison column, not the subject: if it fails, report why and go on.
fn measure_s3s_fs(
    runtime: &tokio::runtime::Runtime,
    bin: &Path,
    work: &Path,
    plan: &Plan,
) -> (Option<report::Measured>, Option<String>) {
    let result = runtime.block_on(async {
        let server = servers::start_s3s_fs(bin, &work.join("s3s-fs")).await?;
        eprintln!("s3s-fs: listening at {}", server.endpoint.url);
        let measured = s3load::run("s3s-fs", &server.endpoint, plan).await;
        server.stop().await;
        measured
    });
    match result {
        Ok(measured) => (Some(measured), None),
        Err(error) => {
            eprintln!("s3s-fs: skipped: {error:#}");
            (None, Some(format!("s3s-fs column skipped: {error:#}")))
        }
    }
}

/// The cargo target directory: the bench binary lives in `target/<profile>/`.
fn target_dir() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the bench binary's own path")?;
    let profile_dir = exe
        .parent()
        .context("bench binary has no parent directory")?;
    let target = profile_dir
        .parent()
        .context("bench binary is not under a target directory")?;
    Ok(target.to_path_buf())
}
