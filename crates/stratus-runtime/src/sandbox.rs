//! How a worker process is confined.
//!
//! bubblewrap builds the view: new mount, pid, ipc, uts and cgroup namespaces over a minimal
//! read-only view of the host, the code read-only at `/var/task`, a private size-limited `/tmp`,
//! volumes read-write at `/mnt/NAME`, dependencies read-only at `/opt/python`. The process joins
//! the worker's own network namespace (`netns.rs`) through `nsenter` before bubblewrap starts,
//! and bubblewrap loads the seccomp filter (`seccomp.rs`). Inside, `setpriv` drops to the
//! project's unprivileged uid with every capability set empty and `no_new_privs`; the cgroup
//! (`cgroup.rs`) caps memory, CPU and process count, and `ulimit` open files. Dependency builds
//! (pip) run in the same confinement. `docs/security.md` is the threat model.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::cgroup::WorkerCgroup;
use crate::netns::NetNamespace;
use crate::outbound::Outbound;
use crate::seccomp::SeccompFiles;

/// Where the code appears inside the sandbox (Lambda's `LAMBDA_TASK_ROOT`).
pub const TASK_ROOT: &str = "/var/task";
/// Where our runtime client appears inside the sandbox.
pub const RUNTIME_DIR: &str = "/opt/stratus";
/// Where a function's dependency environment appears: AWS Lambda's directory for Python layer
/// packages, on its runtimes' `sys.path` after the task root.
pub const DEPENDENCIES_DIR: &str = "/opt/python";
/// Open files per worker process (Lambda's limit), soft and hard.
pub const MAX_OPEN_FILES: u32 = 1024;
/// `/tmp` when a function names no size: Lambda's default ephemeral storage, in MB.
pub const DEFAULT_TMP_MB: u32 = 512;

/// Host directories a process needs to run (read-only); symlinks (merged /usr) stay symlinks.
const SYSTEM_PATHS: &[&str] = &["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32"];
/// Files under /etc that name resolution, TLS and time zones need; nothing else of /etc.
const ETC_FILES: &[&str] = &[
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/ld.so.cache",
    "/etc/alternatives",
    "/etc/passwd",
    "/etc/group",
];

/// Host directories under `/tmp` (an interpreter in a checkout under `/tmp`) appear under this
/// prefix instead: the sandbox's `/tmp` is its own, and a mount point inside it would show the
/// host's directory names there.
const RELOCATED_TMP: &str = "/run/host/tmp";

/// Where host directory `host` appears inside the sandbox.
fn inside_path(host: &Path) -> PathBuf {
    match host.strip_prefix("/tmp") {
        Ok(rest) => Path::new(RELOCATED_TMP).join(rest),
        Err(_) => host.to_path_buf(),
    }
}

/// `value` with every relocated host directory replaced by where it appears inside.
fn relocated(value: &str, spec: &SandboxSpec<'_>) -> String {
    let mut value = value.to_owned();
    for dir in spec.host_dirs {
        let inside = inside_path(dir);
        if inside != *dir {
            value = value.replace(&*dir.to_string_lossy(), &inside.to_string_lossy());
        }
    }
    value
}

/// The first uid (and gid) of the range workers run as: one per project, so that a project's
/// workers share its volumes and no two projects' workers share an identity (but for a hash
/// collision, which the namespaces still separate).
pub const WORKER_UID_BASE: u32 = 200_000;
/// How many uids the range holds.
pub const WORKER_UID_COUNT: u32 = 65_536;
/// The uid dependency builds run as, just below the workers' range.
pub const BUILD_UID: u32 = WORKER_UID_BASE - 1;
const _: () = assert!(BUILD_UID > 0 && WORKER_UID_BASE.checked_add(WORKER_UID_COUNT).is_some());

/// The unprivileged uid (= gid) the workers of `project` run as.
#[must_use]
pub fn worker_uid(project: &str) -> u32 {
    // FNV-1a: stable across releases and platforms, unlike the standard library's hasher.
    let hash = project.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    WORKER_UID_BASE + hash % WORKER_UID_COUNT
}

/// How workers are isolated on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    Bubblewrap(Box<Hardened>),
    /// `--insecure-no-sandbox`: plain child processes (still in cgroups when available).
    None,
}

/// The pieces of the hardened sandbox, found and checked at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardened {
    bwrap: PathBuf,
    setpriv: PathBuf,
    nsenter: PathBuf,
    seccomp: SeccompFiles,
    /// Where bubblewrap's argument files are written (the launcher removes each once open).
    run_dir: PathBuf,
    /// pasta and nft for workers allowed outside and for dependency builds, or what is missing.
    pub outbound: Result<Outbound, String>,
}

impl Isolation {
    /// Ends every pasta started for this server's workers and builds (at shutdown).
    pub fn stop_outbound_links(&self) {
        if let Isolation::Bubblewrap(hardened) = self {
            Outbound::sweep(&hardened.run_dir);
        }
    }

    /// The hardened sandbox, or exactly what this host lacks for it. `state_dir` receives the
    /// compiled seccomp filter; `run_dir` pasta's pid files.
    ///
    /// # Errors
    /// A message naming every missing piece.
    pub fn detect(state_dir: &Path, run_dir: &Path) -> Result<Self, String> {
        let find = |program: &str, package: &str| {
            find_on_path(program).ok_or_else(|| format!("{program} (Debian package {package})"))
        };
        let found = [
            find("bwrap", "bubblewrap"),
            find("setpriv", "util-linux"),
            find("nsenter", "util-linux"),
        ];
        let missing: Vec<String> = found.iter().filter_map(|f| f.clone().err()).collect();
        if !missing.is_empty() {
            return Err(format!("missing {}", missing.join(", ")));
        }
        let [bwrap, setpriv, nsenter] = found.map(Result::unwrap_or_default);
        NetNamespace::create(&[])
            .map_err(|e| format!("cannot create network namespaces: {e} (run as root)"))?;
        let seccomp = SeccompFiles::write(state_dir)
            .map_err(|e| format!("cannot write the seccomp filter: {e}"))?;
        Outbound::sweep(run_dir);
        std::fs::create_dir_all(run_dir)
            .map_err(|e| format!("cannot create {}: {e}", run_dir.display()))?;
        let hardened = Hardened {
            bwrap,
            setpriv,
            nsenter,
            seccomp,
            run_dir: run_dir.to_path_buf(),
            outbound: Outbound::detect(run_dir),
        };
        hardened.probe()?;
        Ok(Self::Bubblewrap(Box::new(hardened)))
    }

    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bubblewrap(_) => "bubblewrap",
            Self::None => "none",
        }
    }

    /// How workers reach the outside world, when they may.
    #[must_use]
    pub fn outbound(&self) -> Option<&Outbound> {
        match self {
            Self::Bubblewrap(hardened) => hardened.outbound.as_ref().ok(),
            Self::None => None,
        }
    }
}

impl Hardened {
    /// Writes bubblewrap's arguments, NUL-separated, to a file only the server can read.
    fn write_args(&self, args: &[String]) -> std::io::Result<PathBuf> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = self
            .run_dir
            .join(format!("{:016x}.bwrap-args", rand::random::<u64>()));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let mut bytes = Vec::new();
        for arg in args {
            bytes.extend_from_slice(arg.as_bytes());
            bytes.push(0);
        }
        file.write_all(&bytes)?;
        Ok(path)
    }

    /// Runs `true` exactly as a worker runs, so a host that cannot (an old bubblewrap without
    /// `--size`, no setpriv privileges) is found at start, not at the first invocation.
    fn probe(&self) -> Result<(), String> {
        let argv = ["/bin/true".to_owned()];
        let (network, _) = NetNamespace::create(&[])
            .map_err(|e| format!("cannot create network namespaces: {e} (run as root)"))?;
        let spec = SandboxSpec {
            code_dir: Path::new("/"),
            runtime_dir: None,
            host_dirs: &[],
            volumes: &[],
            mounts: &[],
            env: &[],
            argv: &argv,
            output: None,
            cgroup: None,
            uid: BUILD_UID,
            network: Some(&network),
            tmp_mb: 1,
        };
        let command = command(&Isolation::Bubblewrap(Box::new(self.clone())), &spec)
            .map_err(|e| format!("cannot build the sandbox command: {e}"))?;
        let mut command = command.into_std();
        let probe = command
            .stdout(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bwrap.display()))?;
        if probe.status.success() {
            Ok(())
        } else {
            Err(format!(
                "the sandbox does not start here: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ))
        }
    }
}

pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|path| path.is_file())
}

/// A host directory shown at a fixed place inside the sandbox. Without a sandbox, arguments
/// and environment values naming `inside` are rewritten to `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub host: PathBuf,
    pub inside: &'static str,
    pub writable: bool,
}

/// Everything needed to start one sandboxed process.
#[derive(Debug)]
pub struct SandboxSpec<'a> {
    /// Read-only at `/var/task`, and the working directory.
    pub code_dir: &'a Path,
    /// Our runtime client, read-only at `/opt/stratus` (none for dependency builds).
    pub runtime_dir: Option<&'a Path>,
    /// Extra host directories to show read-only at the same path (the Python installation).
    pub host_dirs: &'a [PathBuf],
    /// `(host directory, name)`: mounted read-write at `/mnt/NAME`.
    pub volumes: &'a [(PathBuf, String)],
    pub mounts: &'a [Mount],
    pub env: &'a [(String, String)],
    /// The program and its arguments, as seen inside the sandbox.
    pub argv: &'a [String],
    /// Receives the process's stdout and stderr (appended); `None` leaves both piped to the
    /// caller.
    pub output: Option<&'a Path>,
    pub cgroup: Option<&'a WorkerCgroup>,
    /// The unprivileged uid (and gid) the program runs as.
    pub uid: u32,
    /// The network namespace the program joins; required by the hardened sandbox.
    pub network: Option<&'a NetNamespace>,
    /// The size of the private `/tmp`, in MB (memory-backed: it counts toward the cgroup's
    /// memory as well).
    pub tmp_mb: u32,
}

/// Joins the cgroups named before `--` (`$$` is this shell, then the program: no unsafe pre-exec
/// hook needed), caps open files, then runs the command after `--`. With `-s SECCOMP SECCOMP
/// ARGS` first, the two seccomp programs are opened on descriptors 3 and 4 and bubblewrap's
/// arguments file on 5 (then removed): bubblewrap stays the sandbox's pid 1, and its command
/// line, readable by the worker, must not show the host's paths.
const LAUNCHER: &str = r#"while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift
ulimit -n "$1" || exit 125; shift
if [ "$1" = "-s" ]; then a=$2; b=$3; c=$4; shift 4; exec 5<"$c" || exit 125; rm -f -- "$c"; exec "$@" 3<"$a" 4<"$b"; fi
exec "$@""#;

/// Builds the command: `sh` joins the worker's cgroups and sets its limits, then execs the
/// sandbox (or the program), so the process is limited from its first allocation.
///
/// # Errors
/// The output file cannot be opened, or a hardened sandbox was asked for without a network
/// namespace.
pub fn command(isolation: &Isolation, spec: &SandboxSpec<'_>) -> std::io::Result<Command> {
    let mut argv: Vec<String> = Vec::new();
    match isolation {
        Isolation::Bubblewrap(hardened) => {
            let network = spec.network.ok_or_else(|| {
                std::io::Error::other("a sandboxed process needs its own network namespace")
            })?;
            // The options (the host paths) go through a file; bubblewrap wants the command on its
            // command line, where it shows only the worker's own program.
            let args_file = hardened.write_args(&bwrap_args(spec))?;
            argv.push("-s".into());
            argv.extend(
                hardened
                    .seccomp
                    .files
                    .iter()
                    .map(|f| f.to_string_lossy().into_owned()),
            );
            argv.push(args_file.to_string_lossy().into_owned());
            argv.push(hardened.nsenter.to_string_lossy().into_owned());
            argv.push(format!("--net={}", network.path().display()));
            argv.push("--".into());
            argv.push(hardened.bwrap.to_string_lossy().into_owned());
            argv.extend(["--args".into(), "5".into(), "--".into()]);
            argv.extend(setpriv_args(&hardened.setpriv, spec.uid));
            argv.extend(spec.argv.iter().map(|arg| relocated(arg, spec)));
        }
        Isolation::None => argv.extend(spec.argv.iter().map(|arg| unsandboxed_path(arg, spec))),
    }
    let procs: Vec<String> = spec
        .cgroup
        .map(|group| {
            group
                .procs_files()
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(LAUNCHER)
        .arg("sh")
        .args(&procs)
        .arg("--")
        .arg(MAX_OPEN_FILES.to_string())
        .args(&argv);
    command
        .env_clear()
        .envs(spec.env.iter().map(|(name, value)| {
            let value = match isolation {
                Isolation::None => unsandboxed_path(value, spec),
                Isolation::Bubblewrap(_) => relocated(value, spec),
            };
            (name.clone(), value)
        }))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    match spec.output {
        Some(path) => {
            let output = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            command.stdout(output.try_clone()?).stderr(output);
        }
        None => {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
    }
    if matches!(isolation, Isolation::None) {
        command.current_dir(spec.code_dir);
    }
    Ok(command)
}

/// Drops from root (which bubblewrap keeps, with only the capabilities `setpriv` needs) to
/// `uid`: every capability set empty, no supplementary groups, `no_new_privs`.
fn setpriv_args(setpriv: &Path, uid: u32) -> Vec<String> {
    vec![
        setpriv.to_string_lossy().into_owned(),
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".into(),
        "--bounding-set=-all".into(),
        "--inh-caps=-all".into(),
        "--ambient-caps=-all".into(),
        "--no-new-privs".into(),
        "--".into(),
    ]
}

/// `--dir` for every directory above a mount point that bubblewrap would otherwise create
/// itself, mode 0700 and root's: the worker's uid could not reach what is mounted below it
/// (`/etc/ssl`, the interpreter under `/root/.pyenv`). They live on the sandbox's own root.
fn parent_dirs(spec: &SandboxSpec<'_>) -> Vec<String> {
    let mut targets: Vec<PathBuf> = ETC_FILES.iter().map(PathBuf::from).collect();
    targets.extend(spec.host_dirs.iter().map(|dir| inside_path(dir)));
    targets.extend([TASK_ROOT, RUNTIME_DIR].map(PathBuf::from));
    targets.extend(spec.mounts.iter().map(|m| PathBuf::from(m.inside)));
    targets.extend(
        spec.volumes
            .iter()
            .map(|(_, name)| Path::new("/mnt").join(name)),
    );
    let under_system = |dir: &Path| SYSTEM_PATHS.iter().any(|system| dir.starts_with(system));
    let parents: std::collections::BTreeSet<PathBuf> = targets
        .iter()
        .flat_map(|target| target.ancestors().skip(1).map(Path::to_path_buf))
        .filter(|dir| dir != Path::new("/") && !under_system(dir))
        .collect();
    parents
        .into_iter()
        .flat_map(|dir| {
            [
                "--perms".to_owned(),
                "0755".to_owned(),
                "--dir".to_owned(),
                dir.to_string_lossy().into_owned(),
            ]
        })
        .collect()
}

/// Without a sandbox nothing is mounted: paths that name sandbox locations are rewritten to
/// the host directories behind them.
fn unsandboxed_path(value: &str, spec: &SandboxSpec<'_>) -> String {
    let mut value = value.replace(TASK_ROOT, &spec.code_dir.to_string_lossy());
    if let Some(runtime_dir) = spec.runtime_dir {
        value = value.replace(RUNTIME_DIR, &runtime_dir.to_string_lossy());
    }
    for mount in spec.mounts {
        value = value.replace(mount.inside, &mount.host.to_string_lossy());
    }
    value
}

fn bwrap_args(spec: &SandboxSpec<'_>) -> Vec<String> {
    let tmp_bytes = u64::from(spec.tmp_mb) * 1024 * 1024;
    let mut args: Vec<String> = [
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "stratus",
        "--new-session",
        // bubblewrap runs as root (it needs no user namespace then); the program gets only
        // what setpriv needs to drop to the worker's uid, and setpriv drops those too.
        "--cap-drop",
        "ALL",
        "--cap-add",
        "CAP_SETUID",
        "--cap-add",
        "CAP_SETGID",
        "--cap-add",
        "CAP_SETPCAP",
        "--add-seccomp-fd",
        "3",
        "--add-seccomp-fd",
        "4",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend([tmp_bytes.to_string(), "--tmpfs".into(), "/tmp".into()]);
    let ro_bind = |args: &mut Vec<String>, host: &Path, inside: &str| match std::fs::read_link(host)
    {
        Ok(target) => {
            args.extend([
                "--symlink".into(),
                target.to_string_lossy().into_owned(),
                inside.to_owned(),
            ]);
        }
        Err(_) if host.exists() => {
            args.extend([
                "--ro-bind".into(),
                host.to_string_lossy().into_owned(),
                inside.to_owned(),
            ]);
        }
        Err(_) => {}
    };
    args.extend(parent_dirs(spec));
    for path in SYSTEM_PATHS.iter().chain(ETC_FILES) {
        ro_bind(&mut args, Path::new(path), path);
    }
    for dir in spec.host_dirs {
        args.extend([
            "--ro-bind".into(),
            dir.to_string_lossy().into_owned(),
            inside_path(dir).to_string_lossy().into_owned(),
        ]);
    }
    ro_bind(&mut args, spec.code_dir, TASK_ROOT);
    if let Some(runtime_dir) = spec.runtime_dir {
        ro_bind(&mut args, runtime_dir, RUNTIME_DIR);
    }
    for mount in spec.mounts {
        let kind = if mount.writable {
            "--bind"
        } else {
            "--ro-bind"
        };
        args.extend([
            kind.into(),
            mount.host.to_string_lossy().into_owned(),
            mount.inside.to_owned(),
        ]);
    }
    for (host, name) in spec.volumes {
        args.extend([
            "--bind".into(),
            host.to_string_lossy().into_owned(),
            format!("/mnt/{name}"),
        ]);
    }
    args.extend(["--chdir".into(), TASK_ROOT.into()]);
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_keep_their_access_and_are_rewritten_without_a_sandbox() {
        let mounts = [
            Mount {
                host: PathBuf::from("/srv/envs/h/python"),
                inside: DEPENDENCIES_DIR,
                writable: false,
            },
            Mount {
                host: PathBuf::from("/srv/build"),
                inside: "/opt/build",
                writable: true,
            },
        ];
        let spec = SandboxSpec {
            code_dir: Path::new("/srv/code"),
            runtime_dir: None,
            host_dirs: &[],
            volumes: &[],
            mounts: &mounts,
            env: &[],
            argv: &[],
            output: None,
            cgroup: None,
            uid: worker_uid("lab"),
            network: None,
            tmp_mb: DEFAULT_TMP_MB,
        };
        let args = bwrap_args(&spec);
        let has = |triple: [&str; 3]| args.windows(3).any(|w| w == triple);
        assert!(has(["--ro-bind", "/srv/envs/h/python", "/opt/python"]));
        assert!(has(["--bind", "/srv/build", "/opt/build"]));
        assert!(
            !args.iter().any(|a| a == RUNTIME_DIR),
            "no runtime client asked for"
        );
        assert_eq!(
            unsandboxed_path("/var/task:/opt/python", &spec),
            "/srv/code:/srv/envs/h/python"
        );
        assert!(
            has(["--size", "536870912", "--tmpfs"]),
            "/tmp is Lambda's 512 MB"
        );
        // Directories above mount points are reachable by the worker's uid.
        assert!(
            args.windows(4)
                .any(|w| w == ["--perms", "0755", "--dir", "/etc"])
        );
        assert!(
            args.windows(4)
                .any(|w| w == ["--perms", "0755", "--dir", "/opt"])
        );
        assert!(args.windows(2).any(|w| w == ["--cap-drop", "ALL"]));
    }

    #[test]
    fn host_directories_under_tmp_stay_out_of_the_sandboxs_tmp() {
        let host_dirs = [
            PathBuf::from("/tmp/checkout/.venv"),
            PathBuf::from("/usr/lib/python3"),
        ];
        let argv = ["/tmp/checkout/.venv/bin/python".to_owned()];
        let spec = SandboxSpec {
            code_dir: Path::new("/srv/code"),
            runtime_dir: None,
            host_dirs: &host_dirs,
            volumes: &[],
            mounts: &[],
            env: &[],
            argv: &argv,
            output: None,
            cgroup: None,
            uid: worker_uid("lab"),
            network: None,
            tmp_mb: DEFAULT_TMP_MB,
        };
        let args = bwrap_args(&spec);
        assert!(args.windows(3).any(|w| w
            == [
                "--ro-bind",
                "/tmp/checkout/.venv",
                "/run/host/tmp/checkout/.venv"
            ]));
        assert!(
            !args
                .iter()
                .any(|a| a.starts_with("/tmp/") && a != "/tmp/checkout/.venv")
        );
        assert_eq!(
            relocated("/tmp/checkout/.venv/bin:/usr/bin", &spec),
            "/run/host/tmp/checkout/.venv/bin:/usr/bin"
        );
    }

    #[test]
    fn setpriv_leaves_no_capability_and_no_root() {
        let args = setpriv_args(Path::new("/usr/bin/setpriv"), 200_123);
        for wanted in [
            "--reuid=200123",
            "--regid=200123",
            "--clear-groups",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--ambient-caps=-all",
            "--no-new-privs",
        ] {
            assert!(args.iter().any(|a| a == wanted), "{wanted} missing");
        }
    }

    #[test]
    fn projects_get_stable_unprivileged_uids_in_the_range() {
        let lab = worker_uid("lab");
        assert_eq!(lab, worker_uid("lab"));
        assert_ne!(lab, worker_uid("other"));
        for project in ["a", "lab", "zzzzzzzzzzzzzzzz"] {
            let uid = worker_uid(project);
            assert!((WORKER_UID_BASE..WORKER_UID_BASE + WORKER_UID_COUNT).contains(&uid));
        }
    }
}
