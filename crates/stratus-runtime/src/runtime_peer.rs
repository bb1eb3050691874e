//! Who is on the other end of a Runtime API connection.
//!
//! Every worker's Runtime API listens on the host's loopback, and sandboxes share the host's
//! network namespace (functions call the edge on 127.0.0.1), so any function could connect to
//! another worker's API and take that worker's events or answer for it. A connection is served
//! only when the socket that opened it belongs to the worker's own process tree: the peer's
//! socket inode is looked up in `/proc/net/tcp`, then searched for among the descriptors of the
//! processes descended from the worker's process. Done once per connection (runtime clients
//! keep theirs alive), off the async threads.

use std::collections::{HashMap, HashSet};
use std::fs;

/// Whether the connection from loopback port `peer_port` to the API's port `api_port` was opened
/// by process `root` or one of its descendants. Fails closed: anything unreadable is a no.
#[must_use]
pub(crate) fn opened_by_tree(root: u32, api_port: u16, peer_port: u16) -> bool {
    let Some(inode) = socket_inode(peer_port, api_port) else {
        return false;
    };
    let wanted = format!("socket:[{inode}]");
    descendants(root).into_iter().any(|pid| holds(pid, &wanted))
}

/// The inode of the IPv4 socket whose local port is `local` and remote port is `remote`.
fn socket_inode(local: u16, remote: u16) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let port_of = |address: &str| {
            let (_, port) = address.split_once(':')?;
            u16::from_str_radix(port, 16).ok()
        };
        let matches = port_of(columns.get(1)?)? == local && port_of(columns.get(2)?)? == remote;
        matches.then(|| columns.get(9)?.parse().ok()).flatten()
    })
}

/// `root` and every process below it, from each process's parent in `/proc/PID/stat`.
fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            if let Some(parent) = parent_of(pid) {
                children.entry(parent).or_default().push(pid);
            }
        }
    }
    let mut seen = HashSet::from([root]);
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &child in children.get(&pid).map_or(&[][..], Vec::as_slice) {
            if seen.insert(child) {
                stack.push(child);
            }
        }
    }
    seen.into_iter().collect()
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces or parentheses.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn holds(pid: u32, socket: &str) -> bool {
    let Ok(fds) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.flatten()
        .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target.as_os_str() == socket))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_connection_of_this_process_is_its_own_and_no_one_elses() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let api_port = listener.local_addr().expect("addr").port();
        let client = TcpStream::connect(("127.0.0.1", api_port)).expect("connect");
        let peer_port = client.local_addr().expect("addr").port();
        let me = std::process::id();
        assert!(opened_by_tree(me, api_port, peer_port));
        // A process of its own (below this one, but not above it) did not open the connection.
        let mut other = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn");
        assert!(!opened_by_tree(other.id(), api_port, peer_port));
        let _ = other.kill();
        let _ = other.wait();
    }

    #[test]
    fn a_child_process_belongs_to_its_parents_tree() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn");
        let child_pid = child.id();
        assert!(descendants(std::process::id()).contains(&child_pid));
        assert!(!descendants(child_pid).contains(&std::process::id()));
        let _ = child.kill();
        let _ = child.wait();
    }
}
