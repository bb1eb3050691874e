//! The server's own cgroup, read from `/proc/self/cgroup`, as the parent of the workers'
//! groups. Under systemd with `Delegate=yes` that group is the service's and ours to divide;
//! the hierarchy's root is not. Anything that does not work out returns why, and the caller
//! falls back to a `stratus` group at the root.

use std::fs;
use std::path::{Path, PathBuf};

/// The leaf the server moves itself into on cgroup v2, where a group with processes of its
/// own cannot hand controllers to children ("no internal processes").
const SERVER_LEAF: &str = "stratus-server";
/// The group on v2 whose children are the workers'.
const WORKERS: &str = "stratus-workers";
const CONTROLLERS: &str = "+memory +cpu +pids";

/// The path of the v2 (unified) group in `/proc/self/cgroup` text (`0::/path`).
pub(super) fn v2_path(proc_self_cgroup: &str) -> Option<&str> {
    proc_self_cgroup
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
}

/// The path of the v1 group holding `controller` (`4:memory:/path`, `5:cpu,cpuacct:/path`).
pub(super) fn v1_path<'a>(proc_self_cgroup: &'a str, controller: &str) -> Option<&'a str> {
    proc_self_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        controllers
            .split(',')
            .any(|c| c == controller)
            .then_some(path)
    })
}

/// `root` joined with a path from `/proc/self/cgroup`; `None` for the root itself.
fn below(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.trim_start_matches('/');
    (!relative.is_empty()).then(|| root.join(relative))
}

/// On v2: makes the server's own group hold the server in a leaf and the workers' parent
/// beside it, with the memory, cpu and pids controllers handed down; returns that parent.
pub(super) fn v2_parent(root: &Path, own: &str) -> Result<PathBuf, String> {
    let Some(mut base) = below(root, own) else {
        return Err("the server runs in the root cgroup".into());
    };
    // A second server in the same process (tests) finds itself in the leaf already.
    if base.file_name().is_some_and(|name| name == SERVER_LEAF) {
        base.pop();
    } else {
        let pid = std::process::id().to_string();
        let procs = fs::read_to_string(base.join("cgroup.procs"))
            .map_err(|e| format!("cannot read {}/cgroup.procs: {e}", base.display()))?;
        if procs.split_whitespace().any(|other| other != pid) {
            return Err(format!(
                "other processes share its cgroup {own} (not a delegated unit: see deploy/systemd)"
            ));
        }
        let leaf = base.join(SERVER_LEAF);
        fs::create_dir_all(&leaf)
            .and_then(|()| fs::write(leaf.join("cgroup.procs"), &pid))
            .map_err(|e| format!("cannot move into {}: {e}", leaf.display()))?;
    }
    fs::write(base.join("cgroup.subtree_control"), CONTROLLERS).map_err(|e| {
        format!(
            "cannot enable controllers in {}/cgroup.subtree_control: {e}",
            base.display()
        )
    })?;
    let parent = base.join(WORKERS);
    fs::create_dir_all(&parent)
        .and_then(|()| fs::write(parent.join("cgroup.subtree_control"), CONTROLLERS))
        .map_err(|e| format!("cannot prepare {}: {e}", parent.display()))?;
    Ok(parent)
}

/// On v1: the `stratus` group below the server's own group of `controller`'s hierarchy
/// (mounted at `mount`), created.
pub(super) fn v1_parent(mount: &Path, own: Option<&str>) -> Result<PathBuf, String> {
    let Some(base) = own.and_then(|own| below(mount, own)) else {
        return Err(format!(
            "the server runs in the root of {}",
            mount.display()
        ));
    };
    // Inside a container without a cgroup namespace the path names the host's hierarchy,
    // which is not what is mounted here.
    if !base.is_dir() {
        return Err(format!("its cgroup {} is not mounted here", base.display()));
    }
    let parent = base.join("stratus");
    fs::create_dir_all(&parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    Ok(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "9:name=systemd:/user.slice\n5:cpu,cpuacct:/system.slice/stratus.service\n\
                      4:memory:/system.slice/stratus.service\n8:pids:/\n0::/\n";

    #[test]
    fn paths_are_read_per_hierarchy() {
        assert_eq!(
            v2_path("0::/system.slice/stratus.service\n"),
            Some("/system.slice/stratus.service")
        );
        assert_eq!(v2_path(V1), Some("/"));
        assert_eq!(v1_path(V1, "memory"), Some("/system.slice/stratus.service"));
        assert_eq!(v1_path(V1, "cpu"), Some("/system.slice/stratus.service"));
        assert_eq!(v1_path(V1, "pids"), Some("/"));
        assert_eq!(v1_path(V1, "blkio"), None);
    }

    #[test]
    fn the_root_or_an_unmounted_group_is_refused_with_the_reason() {
        let mount = tempfile::tempdir().expect("tempdir");
        let root = v1_parent(mount.path(), Some("/")).expect_err("root");
        assert!(root.contains("root"), "{root}");
        let elsewhere = v1_parent(mount.path(), Some("/docker/abc")).expect_err("not mounted");
        assert!(elsewhere.contains("not mounted"), "{elsewhere}");
        assert!(v2_parent(mount.path(), "/").is_err());
    }

    #[test]
    fn v1_workers_go_below_the_own_group() {
        let mount = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(mount.path().join("system.slice/stratus.service")).expect("mkdir");
        let parent = v1_parent(mount.path(), Some("/system.slice/stratus.service")).expect("own");
        assert_eq!(
            parent,
            mount.path().join("system.slice/stratus.service/stratus")
        );
        assert!(parent.is_dir());
    }

    #[test]
    fn v2_refuses_a_group_shared_with_other_processes() {
        let root = tempfile::tempdir().expect("tempdir");
        let own = root.path().join("user.slice/session-1.scope");
        fs::create_dir_all(&own).expect("mkdir");
        fs::write(
            own.join("cgroup.procs"),
            format!("1\n{}\n", std::process::id()),
        )
        .expect("procs");
        let why = v2_parent(root.path(), "/user.slice/session-1.scope").expect_err("shared");
        assert!(why.contains("other processes"), "{why}");
        assert!(!own.join(SERVER_LEAF).exists(), "nothing moved");
    }

    #[test]
    fn v2_delegated_group_gets_a_server_leaf_and_a_workers_parent() {
        // A plain directory stands in for cgroupfs: the files written are what the kernel reads.
        let root = tempfile::tempdir().expect("tempdir");
        let own = root.path().join("system.slice/stratus.service");
        fs::create_dir_all(&own).expect("mkdir");
        fs::write(own.join("cgroup.procs"), std::process::id().to_string()).expect("procs");
        let parent = v2_parent(root.path(), "/system.slice/stratus.service").expect("delegated");
        assert_eq!(parent, own.join(WORKERS));
        let moved = fs::read_to_string(own.join(SERVER_LEAF).join("cgroup.procs")).expect("leaf");
        assert_eq!(moved, std::process::id().to_string());
        for group in [&own, &parent] {
            let control =
                fs::read_to_string(group.join("cgroup.subtree_control")).expect("control");
            assert_eq!(control, CONTROLLERS);
        }
        // From the leaf (a second start in the same process) the same parent comes back.
        let again = v2_parent(root.path(), "/system.slice/stratus.service/stratus-server")
            .expect("from the leaf");
        assert_eq!(again, parent);
    }
}
