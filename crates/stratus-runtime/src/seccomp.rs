//! The system calls a worker may not make, compiled to the classic BPF program bubblewrap loads
//! (`--add-seccomp-fd`) right before it executes the worker.
//!
//! A deny list, as Docker's and Podman's default profiles are in effect: tenant code is
//! arbitrary Linux software (Python with native wheels, Rust binaries, pip builds), so an
//! allow list would break programs in ways nobody could predict, while every call below is one
//! a function has no business making and most are how container escapes begin. The workers
//! already run without capabilities, so most of these fail anyway; the filter is the second
//! wall, and it also covers what an unprivileged process *may* do: create user namespaces
//! (the door to kernel code reachable only with namespace capabilities), `ptrace` a sibling,
//! read another process's memory, use `userfaultfd` or `io_uring` (both frequent in kernel
//! exploits), or `bpf`. `docs/security.md` lists the same calls with their reasons.
//!
//! Every listed call fails with `EPERM`, which programs handle as "not allowed here". `clone`
//! fails only when asked for a new namespace; plain `fork` and threads work. `clone3` fails with
//! `ENOSYS`: its flags live in memory a filter cannot read, and `ENOSYS` makes libc fall back
//! to `clone`, where the flags are checked. On x86-64, the same calls through the x32 ABI
//! (numbers with bit 30 set) are denied too, and calls through any other architecture's ABI
//! (`int 0x80`) kill the process (the program's architecture check).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// Calls denied outright: number, name, why.
const DENIED: &[(i64, &str, &str)] = &[
    (
        libc::SYS_mount,
        "mount",
        "mounting filesystems (a devtmpfs shows the host's disks)",
    ),
    (
        libc::SYS_umount2,
        "umount2",
        "unmounting the sandbox's view",
    ),
    (
        libc::SYS_pivot_root,
        "pivot_root",
        "changing the root filesystem",
    ),
    (libc::SYS_chroot, "chroot", "changing the root directory"),
    (libc::SYS_fsopen, "fsopen", "the new mount API"),
    (libc::SYS_fsconfig, "fsconfig", "the new mount API"),
    (libc::SYS_fsmount, "fsmount", "the new mount API"),
    (libc::SYS_fspick, "fspick", "the new mount API"),
    (libc::SYS_move_mount, "move_mount", "the new mount API"),
    (libc::SYS_open_tree, "open_tree", "the new mount API"),
    (
        libc::SYS_mount_setattr,
        "mount_setattr",
        "the new mount API",
    ),
    (
        libc::SYS_ptrace,
        "ptrace",
        "tracing and controlling other processes",
    ),
    (
        libc::SYS_process_vm_readv,
        "process_vm_readv",
        "reading another process's memory",
    ),
    (
        libc::SYS_process_vm_writev,
        "process_vm_writev",
        "writing another process's memory",
    ),
    (
        libc::SYS_pidfd_getfd,
        "pidfd_getfd",
        "taking another process's file descriptors",
    ),
    (
        libc::SYS_kcmp,
        "kcmp",
        "comparing kernel objects of other processes",
    ),
    (libc::SYS_kexec_load, "kexec_load", "loading a new kernel"),
    (
        libc::SYS_kexec_file_load,
        "kexec_file_load",
        "loading a new kernel",
    ),
    (
        libc::SYS_init_module,
        "init_module",
        "loading kernel modules",
    ),
    (
        libc::SYS_finit_module,
        "finit_module",
        "loading kernel modules",
    ),
    (
        libc::SYS_delete_module,
        "delete_module",
        "unloading kernel modules",
    ),
    (
        libc::SYS_bpf,
        "bpf",
        "loading eBPF programs into the kernel",
    ),
    (
        libc::SYS_perf_event_open,
        "perf_event_open",
        "kernel and hardware performance events (side channels)",
    ),
    (
        libc::SYS_keyctl,
        "keyctl",
        "the kernel keyring is not namespaced",
    ),
    (
        libc::SYS_add_key,
        "add_key",
        "the kernel keyring is not namespaced",
    ),
    (
        libc::SYS_request_key,
        "request_key",
        "the kernel keyring is not namespaced",
    ),
    (libc::SYS_swapon, "swapon", "host swap configuration"),
    (libc::SYS_swapoff, "swapoff", "host swap configuration"),
    (libc::SYS_reboot, "reboot", "rebooting the host"),
    (
        libc::SYS_open_by_handle_at,
        "open_by_handle_at",
        "opening host files by handle, bypassing the mount view",
    ),
    (
        libc::SYS_name_to_handle_at,
        "name_to_handle_at",
        "file handles leak host inode identities",
    ),
    (
        libc::SYS_userfaultfd,
        "userfaultfd",
        "a common kernel-exploit primitive",
    ),
    (
        libc::SYS_io_uring_setup,
        "io_uring_setup",
        "a large kernel attack surface no function needs",
    ),
    (
        libc::SYS_io_uring_enter,
        "io_uring_enter",
        "a large kernel attack surface no function needs",
    ),
    (
        libc::SYS_io_uring_register,
        "io_uring_register",
        "a large kernel attack surface no function needs",
    ),
    (libc::SYS_unshare, "unshare", "new namespaces of any kind"),
    (libc::SYS_setns, "setns", "joining other namespaces"),
    (libc::SYS_acct, "acct", "host process accounting"),
    (libc::SYS_quotactl, "quotactl", "host disk quotas"),
    (libc::SYS_syslog, "syslog", "the kernel log"),
    (libc::SYS_settimeofday, "settimeofday", "the host clock"),
    (libc::SYS_clock_settime, "clock_settime", "the host clock"),
    (libc::SYS_clock_adjtime, "clock_adjtime", "the host clock"),
    (libc::SYS_adjtimex, "adjtimex", "the host clock"),
    (libc::SYS_vhangup, "vhangup", "the host's terminals"),
    (
        libc::SYS_fanotify_init,
        "fanotify_init",
        "watching the host's filesystems",
    ),
    (
        libc::SYS_lookup_dcookie,
        "lookup_dcookie",
        "kernel profiling internals",
    ),
];

/// `clone` flags that create namespaces: `clone` with any of them fails.
const NAMESPACE_FLAGS: &[u64] = &[
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWCGROUP as u64,
    0x80, // CLONE_NEWTIME (not in every libc release)
];

/// x86-64's x32 ABI: the same calls, numbered with this bit set.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: i64 = 0x4000_0000;

/// The names of the calls the filter denies, for documentation and diagnostics.
#[must_use]
pub fn denied_calls() -> Vec<(&'static str, &'static str)> {
    let mut names: Vec<(&str, &str)> = DENIED.iter().map(|&(_, name, why)| (name, why)).collect();
    names.push(("clone with CLONE_NEW*", "new namespaces of any kind"));
    names.push((
        "clone3 (ENOSYS)",
        "flags in memory; libc falls back to clone",
    ));
    names
}

fn target_arch() -> io::Result<TargetArch> {
    std::env::consts::ARCH
        .try_into()
        .map_err(|_| io::Error::other(format!("no seccomp filter for {}", std::env::consts::ARCH)))
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    action: SeccompAction,
) -> io::Result<BpfProgram> {
    let filter = SeccompFilter::new(rules, SeccompAction::Allow, action, target_arch()?)
        .map_err(io::Error::other)?;
    BpfProgram::try_from(filter).map_err(io::Error::other)
}

/// The EPERM program: `DENIED` plus `clone` with a namespace flag.
fn deny_program() -> io::Result<BpfProgram> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for &(number, _, _) in DENIED {
        rules.insert(number, Vec::new());
        #[cfg(target_arch = "x86_64")]
        rules.insert(number | X32_SYSCALL_BIT, Vec::new());
    }
    let clone_rules = NAMESPACE_FLAGS
        .iter()
        .map(|&flag| {
            let condition = SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )
            .map_err(io::Error::other)?;
            SeccompRule::new(vec![condition]).map_err(io::Error::other)
        })
        .collect::<io::Result<Vec<_>>>()?;
    rules.insert(libc::SYS_clone, clone_rules);
    compile(rules, SeccompAction::Errno(libc::EPERM.unsigned_abs()))
}

/// The ENOSYS program: `clone3`.
fn clone3_program() -> io::Result<BpfProgram> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    rules.insert(libc::SYS_clone3, Vec::new());
    compile(rules, SeccompAction::Errno(libc::ENOSYS.unsigned_abs()))
}

/// A program as the kernel's `struct sock_filter` array, which bubblewrap reads from its fd.
fn to_bytes(program: &BpfProgram) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(program.len() * 8);
    for instruction in program {
        bytes.extend_from_slice(&instruction.code.to_ne_bytes());
        bytes.push(instruction.jt);
        bytes.push(instruction.jf);
        bytes.extend_from_slice(&instruction.k.to_ne_bytes());
    }
    bytes
}

/// The compiled filters, written once at start; each worker's `sh` opens them for bubblewrap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeccompFiles {
    pub files: Vec<PathBuf>,
}

impl SeccompFiles {
    /// Compiles the filters into `dir` (files readable only by the server).
    ///
    /// # Errors
    /// An architecture without a filter, or the files cannot be written.
    pub fn write(dir: &Path) -> io::Result<Self> {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        for (name, program) in [
            ("deny.bpf", deny_program()?),
            ("clone3.bpf", clone3_program()?),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, to_bytes(&program))?;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            files.push(path);
        }
        Ok(Self { files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_minimum_list_is_denied() {
        let names: Vec<&str> = denied_calls().iter().map(|(name, _)| *name).collect();
        for required in [
            "mount",
            "umount2",
            "pivot_root",
            "ptrace",
            "process_vm_readv",
            "process_vm_writev",
            "kexec_load",
            "kexec_file_load",
            "bpf",
            "perf_event_open",
            "keyctl",
            "add_key",
            "request_key",
            "init_module",
            "finit_module",
            "delete_module",
            "swapon",
            "swapoff",
            "reboot",
            "open_by_handle_at",
            "userfaultfd",
            "unshare",
            "setns",
        ] {
            assert!(names.contains(&required), "{required} is not denied");
        }
    }

    #[test]
    fn the_programs_compile_and_fit_the_kernel_limit() {
        let deny = deny_program().expect("compile the filter");
        let clone3 = clone3_program().expect("compile the filter");
        // The kernel accepts at most 4096 instructions per program.
        assert!(deny.len() < 4096 && !deny.is_empty());
        assert!(!clone3.is_empty());
        assert_eq!(to_bytes(&deny).len(), deny.len() * 8);
    }

    #[test]
    fn files_are_private_to_the_server() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("compile the filter");
        let files = SeccompFiles::write(dir.path()).expect("compile the filter");
        assert_eq!(files.files.len(), 2);
        for file in files.files {
            let mode = std::fs::metadata(&file)
                .expect("compile the filter")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
