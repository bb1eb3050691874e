//! The outside world for workers whose project may reach it, and for dependency builds (pip
//! needs the package index): `pasta` (Debian's `passt`) attached to the worker's namespace.
//!
//! pasta gives the namespace an interface with the host's address and routes, and carries its
//! connections through ordinary sockets of its own on the host, so the host needs no bridge,
//! NAT or forwarding. It is told not to map the gateway to the host (`--no-map-gw`) and to
//! forward no ports either way (but for builds, the operator's own package mirror on the host's
//! loopback, when pip's settings name one), and an nftables rule inside the namespace (which the worker,
//! without capabilities, cannot change) rejects every other address of the host itself: an
//! allowed worker reaches the world, never a service of the host or another worker.
//!
//! Starting pasta takes tens of milliseconds, so only projects allowed outside pay it.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::netns::NetNamespace;
use crate::sandbox::find_on_path;

/// Which projects' workers may open connections to the outside world.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum InternetAccess {
    /// Edge only, for every project (the default).
    #[default]
    Nobody,
    Everyone,
    Projects(std::collections::BTreeSet<String>),
}

impl InternetAccess {
    /// From the operator's list: project names, or `*` for all.
    #[must_use]
    pub fn from_list(projects: &[String]) -> Self {
        if projects.iter().any(|p| p == "*") {
            Self::Everyone
        } else if projects.is_empty() {
            Self::Nobody
        } else {
            Self::Projects(projects.iter().cloned().collect())
        }
    }

    #[must_use]
    pub fn allows(&self, project: &str) -> bool {
        match self {
            Self::Nobody => false,
            Self::Everyone => true,
            Self::Projects(projects) => projects.contains(project),
        }
    }
}

/// The programs an outbound link needs, found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pasta: PathBuf,
    nsenter: PathBuf,
    nft: PathBuf,
    /// The host's own non-loopback addresses, rejected inside the namespace.
    host_addresses: Vec<IpAddr>,
    /// Where pasta writes its pid file.
    run_dir: PathBuf,
}

impl Outbound {
    /// Finds pasta, nsenter and nft and the host's addresses; says what is missing otherwise.
    ///
    /// # Errors
    /// The missing programs, named with their Debian packages.
    pub fn detect(run_dir: &Path) -> Result<Self, String> {
        let find = |program: &str, package: &str| {
            find_on_path(program).ok_or_else(|| format!("{program} (Debian package {package})"))
        };
        let found = [
            find("pasta", "passt"),
            find("nsenter", "util-linux"),
            find("nft", "nftables"),
        ];
        let missing: Vec<String> = found.iter().filter_map(|f| f.clone().err()).collect();
        if !missing.is_empty() {
            return Err(format!("missing {}", missing.join(", ")));
        }
        let [pasta, nsenter, nft] = found.map(Result::unwrap_or_default);
        Ok(Self {
            pasta,
            nsenter,
            nft,
            host_addresses: host_addresses(),
            run_dir: run_dir.to_path_buf(),
        })
    }

    /// Connects `namespace` to the outside world until the returned link is dropped. Each of
    /// `host_ports` on the namespace's loopback leads to the same port of the host's loopback
    /// (the operator's package mirror for builds); nothing else of the host is reachable.
    ///
    /// # Errors
    /// pasta or nft failing; the message carries what they printed.
    pub async fn attach(
        &self,
        namespace: &NetNamespace,
        id: &str,
        host_ports: &[u16],
    ) -> io::Result<OutboundLink> {
        let to_host = if host_ports.is_empty() {
            "none".to_owned()
        } else {
            host_ports
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        let pid_file = self.run_dir.join(format!("{id}.pasta.pid"));
        // pasta drops its capabilities before it opens the namespace, and without them it
        // cannot open another process's descriptor: `sh` (still root) opens it for pasta as
        // descriptor 5.
        let output = tokio::process::Command::new("/bin/sh")
            .args(["-c", r#"ns=$1; shift; exec "$@" 5<"$ns""#, "sh"])
            .arg(namespace.path())
            .arg(&self.pasta)
            .args(["--netns", "/proc/self/fd/5"])
            .args(["--runas", "0", "--config-net", "--no-map-gw", "--quiet"])
            .args(["-t", "none", "-u", "none", "-T", &to_host, "-U", "none"])
            .arg("--pid")
            .arg(&pid_file)
            .stdin(Stdio::null())
            .output()
            .await?;
        // pasta forks into the background once the namespace is configured: its pid file names
        // the process that must die with the worker.
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|text| text.trim().parse::<i32>().ok());
        let link = OutboundLink { pid, pid_file };
        if !output.status.success() || link.pid.is_none() {
            return Err(io::Error::other(format!(
                "pasta failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        self.reject_host_addresses(namespace).await?;
        Ok(link)
    }

    async fn reject_host_addresses(&self, namespace: &NetNamespace) -> io::Result<()> {
        let (v4, v6): (Vec<_>, Vec<_>) = self.host_addresses.iter().partition(|a| a.is_ipv4());
        let list = |addresses: &[&IpAddr]| {
            addresses
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut rules = String::from(
            "table inet stratus {\n chain output {\n  type filter hook output priority 0; policy accept;\n",
        );
        if !v4.is_empty() {
            rules.push_str(&format!(
                "  ip daddr {{ {0} }} meta l4proto tcp reject with tcp reset\n  ip daddr {{ {0} }} reject\n",
                list(&v4)
            ));
        }
        if !v6.is_empty() {
            rules.push_str(&format!(
                "  ip6 daddr {{ {0} }} meta l4proto tcp reject with tcp reset\n  ip6 daddr {{ {0} }} reject\n",
                list(&v6)
            ));
        }
        rules.push_str(" }\n}\n");
        let mut child = tokio::process::Command::new(&self.nsenter)
            .arg(format!("--net={}", namespace.path().display()))
            .arg("--")
            .arg(&self.nft)
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            use tokio::io::AsyncWriteExt as _;
            stdin.write_all(rules.as_bytes()).await?;
        }
        let output = child.wait_with_output().await?;
        if output.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "nft failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        }
    }

    /// Ends pasta processes a previous server left behind (killed before it could stop them).
    pub fn sweep(run_dir: &Path) {
        let Ok(entries) = std::fs::read_dir(run_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.to_string_lossy().ends_with(".pasta.pid") {
                drop(OutboundLink {
                    pid: std::fs::read_to_string(&path)
                        .ok()
                        .and_then(|text| text.trim().parse().ok()),
                    pid_file: path,
                });
            }
        }
    }
}

/// A running pasta; dropping it ends the process.
#[derive(Debug)]
pub struct OutboundLink {
    pid: Option<i32>,
    pid_file: PathBuf,
}

impl Drop for OutboundLink {
    fn drop(&mut self) {
        if let Some(pid) = self.pid.and_then(rustix::process::Pid::from_raw) {
            // Only the pasta this link started: the pid may have been reused. Its command name
            // says nothing reliable (Debian's pasta runs as `passt.avx2`); its arguments name our
            // pid file.
            let cmdline = std::fs::read(format!("/proc/{}/cmdline", pid.as_raw_nonzero()))
                .unwrap_or_default();
            let ours = self.pid_file.as_os_str().as_encoded_bytes();
            if cmdline.split(|byte| *byte == 0).any(|arg| arg == ours) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
        }
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

/// The host's own addresses except loopback, from `ip -j address` (empty when `ip` is missing:
/// then only pasta's own translation stands between a worker and them).
fn host_addresses() -> Vec<IpAddr> {
    let Ok(output) = std::process::Command::new("ip")
        .args(["-j", "address", "show"])
        .stdin(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    let Ok(interfaces) = serde_json::from_slice::<serde_json::Value>(&output.stdout) else {
        return Vec::new();
    };
    interfaces
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|interface| {
            interface["addr_info"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|address| address["local"].as_str()?.parse::<IpAddr>().ok())
        .filter(|address| !address.is_loopback())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_list_decides_who_goes_outside() {
        assert!(!InternetAccess::from_list(&[]).allows("lab"));
        assert!(InternetAccess::from_list(&["*".into()]).allows("lab"));
        let some = InternetAccess::from_list(&["lab".into()]);
        assert!(some.allows("lab"));
        assert!(!some.allows("other"));
    }
}
