//! How a worker process is confined: bubblewrap namespaces (mount, pid, ipc, uts) over a
//! minimal read-only view of the host, the code read-only at `/var/task`, a private `/tmp`,
//! volumes read-write at `/mnt/NAME`, dependencies read-only at `/opt/python`; then the cgroup
//! (see `cgroup.rs`) caps memory and CPU. Dependency builds (pip) run in the same confinement.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::cgroup::WorkerCgroup;

/// Where the code appears inside the sandbox (Lambda's `LAMBDA_TASK_ROOT`).
pub const TASK_ROOT: &str = "/var/task";
/// Where our runtime client appears inside the sandbox.
pub const RUNTIME_DIR: &str = "/opt/stratus";
/// Where a function's dependency environment appears: AWS Lambda's directory for Python layer
/// packages, on its runtimes' `sys.path` after the task root.
pub const DEPENDENCIES_DIR: &str = "/opt/python";

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

/// How workers are isolated on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    Bubblewrap {
        bwrap: PathBuf,
    },
    /// `--insecure-no-sandbox`: plain child processes (still in cgroups when available).
    None,
}

impl Isolation {
    /// `bwrap` on PATH that can actually create the namespaces, or why not.
    ///
    /// # Errors
    /// A message saying what is missing.
    pub fn detect() -> Result<Self, String> {
        let bwrap = find_on_path("bwrap").ok_or("bubblewrap (bwrap) is not installed")?;
        let probe = std::process::Command::new(&bwrap)
            .args([
                "--ro-bind",
                "/",
                "/",
                "--unshare-pid",
                "--unshare-ipc",
                "--unshare-uts",
                "--",
                "/bin/true",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bwrap.display()))?;
        if !probe.status.success() {
            return Err(format!(
                "bwrap cannot create namespaces here: {}",
                String::from_utf8_lossy(&probe.stderr).trim()
            ));
        }
        Ok(Self::Bubblewrap { bwrap })
    }

    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Bubblewrap { .. } => "bubblewrap",
            Self::None => "none",
        }
    }
}

fn find_on_path(program: &str) -> Option<PathBuf> {
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
}

/// Builds the command: `sh` joins the worker's cgroups, then execs bwrap (or the program), so
/// the process is limited from its first allocation without any unsafe pre-exec hook.
///
/// # Errors
/// The output file cannot be opened.
pub fn command(isolation: &Isolation, spec: &SandboxSpec<'_>) -> std::io::Result<Command> {
    let mut argv: Vec<String> = Vec::new();
    match isolation {
        Isolation::Bubblewrap { bwrap } => {
            argv.push(bwrap.to_string_lossy().into_owned());
            argv.extend(bwrap_args(spec));
            argv.push("--".into());
            argv.extend(spec.argv.iter().cloned());
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
    // $1..$N are cgroup.procs files, then "--", then the command.
    let script =
        r#"while [ "$1" != "--" ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@""#;
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(script)
        .arg("sh")
        .args(&procs)
        .arg("--")
        .args(&argv);
    command
        .env_clear()
        .envs(spec.env.iter().map(|(name, value)| {
            let value = match isolation {
                Isolation::None => unsandboxed_path(value, spec),
                Isolation::Bubblewrap { .. } => value.clone(),
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
    let mut args: Vec<String> = [
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        "stratus",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
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
    for path in SYSTEM_PATHS.iter().chain(ETC_FILES) {
        ro_bind(&mut args, Path::new(path), path);
    }
    for dir in spec.host_dirs {
        let path = dir.to_string_lossy().into_owned();
        args.extend(["--ro-bind".into(), path.clone(), path]);
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
    }
}
