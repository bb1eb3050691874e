//! Memory, CPU and process-count limits for workers through cgroups, v1 or v2, whichever the
//! host mounts.
//!
//! Each worker gets its own group (`stratus/<worker id>`), so its memory peak and OOM kills are
//! its own, and killing "every process in the group" kills exactly that worker's tree.

use std::fs;
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod own;

const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// The CPU weight of a 1769 MB function is one full share (Lambda gives one vCPU at 1769 MB).
const MB_PER_VCPU: u64 = 1769;
/// Processes and threads one worker may have at once: Lambda's limit. A fork bomb gets `EAGAIN`
/// at this count and stays inside its worker.
pub const MAX_TASKS: u32 = 1024;

/// Which cgroup hierarchy the host runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cgroups {
    /// Unified hierarchy: one directory per group with `memory.max`, `cpu.weight`.
    V2 { parent: PathBuf },
    /// Separate `memory`, `cpu` and `pids` hierarchies.
    V1 {
        memory: PathBuf,
        cpu: Option<PathBuf>,
        pids: Option<PathBuf>,
    },
}

impl Cgroups {
    /// Finds a writable hierarchy and creates our parent group in it: below the server's own
    /// group (a systemd unit with `Delegate=yes`), else at the hierarchy's root (logged why);
    /// `None` when the host has none we can use (not root, no memory controller).
    #[must_use]
    pub fn detect() -> Option<Self> {
        let root = Path::new(CGROUP_ROOT);
        let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        if root.join("cgroup.controllers").exists() {
            let parent = match own::v2_path(&own).map(|path| own::v2_parent(root, path)) {
                Some(Ok(parent)) => {
                    tracing::info!(parent = %parent.display(), "workers' cgroups go below the server's own");
                    return Some(Self::V2 { parent });
                }
                Some(Err(why)) => {
                    tracing::info!("workers' cgroups go under {CGROUP_ROOT}/stratus: {why}");
                    root.join("stratus")
                }
                None => root.join("stratus"),
            };
            fs::create_dir_all(&parent).ok()?;
            // Controllers must be enabled for children explicitly in v2; ignore failure when
            // they already are or the parent is not delegatable (then limits fail visibly).
            let _ = fs::write(root.join("cgroup.subtree_control"), "+memory +cpu +pids");
            let _ = fs::write(parent.join("cgroup.subtree_control"), "+memory +cpu +pids");
            return parent
                .join("cgroup.procs")
                .exists()
                .then_some(Self::V2 { parent });
        }
        let memory = v1_parent(root, &own, "memory")?;
        if !memory.join("memory.limit_in_bytes").exists() {
            return None;
        }
        let cpu = v1_parent(root, &own, "cpu");
        let pids = v1_parent(root, &own, "pids");
        Some(Self::V1 { memory, cpu, pids })
    }

    /// Whether workers' process counts can be limited (the `pids` controller is there).
    #[must_use]
    pub fn limits_processes(&self) -> bool {
        match self {
            Self::V2 { parent } => fs::read_to_string(parent.join("cgroup.subtree_control"))
                .is_ok_and(|controllers| controllers.split_whitespace().any(|c| c == "pids")),
            Self::V1 { pids, .. } => pids.is_some(),
        }
    }

    #[must_use]
    pub fn version(&self) -> &'static str {
        match self {
            Self::V2 { .. } => "v2",
            Self::V1 { .. } => "v1",
        }
    }

    /// Creates the group of one worker, capped at `memory_mb`, with a CPU weight proportional
    /// to it.
    ///
    /// # Errors
    /// The cgroup filesystem refusing the directory or a limit.
    pub fn create(&self, worker: &str, memory_mb: u32) -> io::Result<WorkerCgroup> {
        let bytes = u64::from(memory_mb) * 1024 * 1024;
        match self {
            Self::V2 { parent } => {
                let dir = parent.join(worker);
                fs::create_dir_all(&dir)?;
                fs::write(dir.join("memory.max"), bytes.to_string())?;
                // No swap: exceeding the limit must kill, as it does on Lambda.
                let _ = fs::write(dir.join("memory.swap.max"), "0");
                // cpu.weight ranges 1..=10000, default 100 = one 1769 MB function.
                let weight = (u64::from(memory_mb) * 100 / MB_PER_VCPU).clamp(1, 10_000);
                let _ = fs::write(dir.join("cpu.weight"), weight.to_string());
                fs::write(dir.join("pids.max"), MAX_TASKS.to_string())?;
                Ok(WorkerCgroup {
                    dirs: vec![dir.clone()],
                    memory_dir: dir,
                    v2: true,
                    peak_file: OnceLock::new(),
                })
            }
            Self::V1 { memory, cpu, pids } => {
                let memory_dir = memory.join(worker);
                fs::create_dir_all(&memory_dir)?;
                fs::write(memory_dir.join("memory.limit_in_bytes"), bytes.to_string())?;
                // memsw (memory + swap) exists only with swap accounting; where it does, equal
                // limits forbid swapping.
                let _ = fs::write(
                    memory_dir.join("memory.memsw.limit_in_bytes"),
                    bytes.to_string(),
                );
                let _ = fs::write(memory_dir.join("memory.swappiness"), "0");
                let mut dirs = vec![memory_dir.clone()];
                if let Some(cpu) = cpu {
                    let cpu_dir = cpu.join(worker);
                    if fs::create_dir_all(&cpu_dir).is_ok() {
                        // cpu.shares: 1024 = one 1769 MB function.
                        let shares = (u64::from(memory_mb) * 1024 / MB_PER_VCPU).max(2);
                        let _ = fs::write(cpu_dir.join("cpu.shares"), shares.to_string());
                        dirs.push(cpu_dir);
                    }
                }
                if let Some(pids) = pids {
                    let pids_dir = pids.join(worker);
                    fs::create_dir_all(&pids_dir)?;
                    fs::write(pids_dir.join("pids.max"), MAX_TASKS.to_string())?;
                    dirs.push(pids_dir);
                }
                Ok(WorkerCgroup {
                    dirs,
                    memory_dir,
                    v2: false,
                    peak_file: OnceLock::new(),
                })
            }
        }
    }
}

/// The `stratus` group of `controller`'s v1 hierarchy: below the server's own group when it can
/// be made there, else at the root (today's place when run from a shell), created.
fn v1_parent(root: &Path, own: &str, controller: &str) -> Option<PathBuf> {
    let mount = root.join(controller);
    match own::v1_parent(&mount, own::v1_path(own, controller)) {
        Ok(parent) => {
            tracing::debug!(parent = %parent.display(), "workers' {controller} cgroups go below the server's own");
            return Some(parent);
        }
        Err(why) => tracing::debug!("workers' {controller} cgroups go under the root: {why}"),
    }
    let parent = mount.join("stratus");
    fs::create_dir_all(&parent).ok().map(|()| parent)
}

/// One worker's group(s). Removed when dropped (after its processes are gone).
#[derive(Debug)]
pub struct WorkerCgroup {
    dirs: Vec<PathBuf>,
    memory_dir: PathBuf,
    v2: bool,
    /// The peak-memory file, opened once: every invocation reads and resets it, and a path
    /// walk through cgroupfs per access costs more than the rest of the bookkeeping.
    peak_file: OnceLock<Option<fs::File>>,
}

impl WorkerCgroup {
    /// The `cgroup.procs` files a process writes its pid into to join every hierarchy.
    #[must_use]
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs
            .iter()
            .map(|dir| dir.join("cgroup.procs"))
            .collect()
    }

    fn peak_file(&self) -> Option<&fs::File> {
        self.peak_file
            .get_or_init(|| {
                let name = if self.v2 {
                    "memory.peak"
                } else {
                    "memory.max_usage_in_bytes"
                };
                let path = self.memory_dir.join(name);
                // Read-write to reset it; v2's memory.peak is read-only before kernel 6.12.
                fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(&path)
                    .or_else(|_| fs::File::open(&path))
                    .ok()
            })
            .as_ref()
    }

    /// The highest memory use since the group was created (or the peak was last reset), in
    /// bytes.
    #[must_use]
    pub fn peak_memory_bytes(&self) -> Option<u64> {
        let peak = self.peak_file().and_then(|file| {
            // Kernel files regenerate their contents on a read at offset 0.
            let mut buf = [0u8; 32];
            let n = file.read_at(&mut buf, 0).ok()?;
            std::str::from_utf8(&buf[..n]).ok()?.trim().parse().ok()
        });
        // Kernels before 5.19 have no memory.peak; the current use is the best we have.
        peak.or_else(|| read_u64(&self.memory_dir.join("memory.current")))
    }

    /// Resets the peak so that the next invocation reports its own maximum (v1; v2's
    /// `memory.peak` is reset by writing to it on kernels ≥ 6.12, and the write fails before).
    pub fn reset_peak(&self) {
        if let Some(file) = self.peak_file() {
            let _ = file.write_at(b"0", 0);
        }
    }

    /// How many times the kernel's OOM killer fired in this group.
    #[must_use]
    pub fn oom_kills(&self) -> u64 {
        let (file, key) = if self.v2 {
            ("memory.events", "oom_kill")
        } else {
            ("memory.oom_control", "oom_kill")
        };
        let text = fs::read_to_string(self.memory_dir.join(file)).unwrap_or_default();
        let counted = text.lines().find_map(|line| {
            let (name, value) = line.split_once(' ')?;
            (name == key).then(|| value.trim().parse().ok())?
        });
        match counted {
            Some(count) => count,
            // Old v1 kernels have no oom_kill counter: hitting the limit is the best signal.
            None if !self.v2 => read_u64(&self.memory_dir.join("memory.failcnt")).unwrap_or(0),
            None => 0,
        }
    }

    /// Kills every process in the group (the worker and anything it forked).
    pub fn kill_all(&self) {
        if self.v2 && fs::write(self.memory_dir.join("cgroup.kill"), "1").is_ok() {
            return;
        }
        let procs = fs::read_to_string(self.memory_dir.join("cgroup.procs")).unwrap_or_default();
        for pid in procs
            .lines()
            .filter_map(|line| line.trim().parse::<i32>().ok())
        {
            if let Some(pid) = rustix::process::Pid::from_raw(pid) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
    }
}

impl Drop for WorkerCgroup {
    fn drop(&mut self) {
        for dir in &self.dirs {
            // Fails while processes remain (they are being reaped); the parent is cleaned at
            // the next start.
            let _ = fs::remove_dir(dir);
        }
    }
}

fn read_u64(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}
