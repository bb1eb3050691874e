//! The raw-disk baseline: what the filesystem under the data directories can do with the same
//! bytes and the same durability, with no server, protocol or metadata in the way.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;

use crate::level::{self, LevelResult};
use crate::plan::{CONCURRENCY, LARGE_SIZE, Plan, SMALL_SIZE};
use crate::report::{Figure, Measured};

pub fn run(dir: &Path, plan: &Plan) -> anyhow::Result<Measured> {
    let mut measured = Measured::default();
    let small = crate::plan::random_bytes(SMALL_SIZE);
    for concurrency in CONCURRENCY {
        let level_dir = dir.join(format!("small-c{concurrency}"));
        std::fs::create_dir(&level_dir)?;
        let result = small_writes(&level_dir, concurrency, plan, &small)?;
        report_level("4 KiB write+fsync", concurrency, result);
        measured.insert(Figure::SmallPut { concurrency }, result.ops_per_sec());
    }
    let (write, read) = large_transfers(dir, plan)?;
    measured.insert(Figure::LargePut, write);
    measured.insert(Figure::LargeGet, read);
    Ok(measured)
}

/// Each op creates a new file, writes 4 KiB, fsyncs the file and then the directory: without the
/// directory fsync the new name could vanish in a crash, so a durable store must pay for it too.
fn small_writes(
    dir: &Path,
    concurrency: usize,
    plan: &Plan,
    bytes: &[u8],
) -> anyhow::Result<LevelResult> {
    level::run_threads(concurrency, plan.small, |index| {
        write_durably(dir, &format!("{index:08}"), bytes)?;
        Ok(())
    })
}

/// 64 MiB write+fsync and read-back figures in MB/s (medians over the plan's repetitions).
fn large_transfers(dir: &Path, plan: &Plan) -> anyhow::Result<(f64, f64)> {
    let bytes = crate::plan::random_bytes(LARGE_SIZE);
    let names = level::repetitions(plan, |rep| {
        let name = format!("large-{rep}");
        write_durably(dir, &name, &bytes)?;
        Ok(name)
    })?;
    let write = level::summarize_reps("raw disk: 64 MiB write+fsync", &names);

    let mut buffer = vec![0u8; 1024 * 1024];
    let reads = level::repetitions(plan, |rep| {
        // Read back what was just written: it is in the page cache, as a hot object would be.
        let (name, _) = &names[rep % names.len()];
        read_fully(&dir.join(name), &mut buffer)
    })?;
    let read = level::summarize_reps("raw disk: 64 MiB read", &reads);
    Ok((write, read))
}

fn write_durably(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    let mut file =
        File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    // Opening the directory per op (rather than once) is part of what a store does too.
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn read_fully(path: &Path, buffer: &mut [u8]) -> anyhow::Result<()> {
    let mut file = File::open(path)?;
    let mut total = 0;
    loop {
        let n = file.read(buffer)?;
        if n == 0 {
            break;
        }
        total += n;
    }
    anyhow::ensure!(
        total == LARGE_SIZE,
        "{} has {total} bytes, expected {LARGE_SIZE}",
        path.display()
    );
    Ok(())
}

fn report_level(what: &str, concurrency: usize, result: LevelResult) {
    eprintln!(
        "raw disk: {what} c={concurrency}: {:.0} ops/s ({} ops in {:.1} s)",
        result.ops_per_sec(),
        result.ops,
        result.elapsed.as_secs_f64()
    );
}
