//! A worker's own network namespace.
//!
//! A sandboxed worker sees only its namespace's loopback. The server creates the namespace
//! itself and binds, inside it, the two listeners a function needs: its Runtime API (at
//! `127.0.0.1:9001`, as on Lambda) and the edge (at the edge's own port, so
//! `AWS_ENDPOINT_URL` reads the same inside and out). The server accepts on both from the
//! host side, so no proxy process and no copy sit between the function and the server, and no
//! other host service, and no other worker, is reachable at all. Projects an operator allows
//! to reach the outside world get `pasta` (see `outbound.rs`) attached to the namespace.
//!
//! A socket belongs to the namespace of the thread that created it, so every namespace
//! operation runs on a short-lived thread of its own: the async threads never change
//! namespace.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::path::PathBuf;

/// Where a worker's Runtime API listens inside its namespace (Lambda's address).
pub const RUNTIME_API_PORT: u16 = 9001;

/// How a worker's namespace reaches the edge: the composition root (which owns the edge) serves
/// the connections accepted on a listener bound inside the namespace.
pub trait EdgeGateway: Send + Sync {
    /// Serves `listener` until the future is dropped (when the worker stops); the connections
    /// accepted on it end with it.
    fn serve(
        &self,
        listener: tokio::net::TcpListener,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;
}

/// A network namespace holding nothing but a loopback interface and the listeners bound in it.
/// It lives as long as this handle, the listeners or a process inside it.
#[derive(Debug)]
pub struct NetNamespace {
    /// An open handle on the namespace (`/proc/thread-self/ns/net` of the thread that made it).
    handle: File,
}

impl NetNamespace {
    /// Creates a namespace, brings its loopback up and binds a listener on `127.0.0.1:PORT`
    /// inside it for each of `ports`, in order.
    ///
    /// # Errors
    /// The kernel refusing a new namespace (no `CAP_SYS_ADMIN`), the loopback or a port.
    pub fn create(ports: &[u16]) -> io::Result<(Self, Vec<TcpListener>)> {
        let ports = ports.to_vec();
        std::thread::Builder::new()
            .name("stratus-netns".into())
            .spawn(move || {
                enter_new_namespace()?;
                loopback_up()?;
                let listeners = ports
                    .iter()
                    .map(|&port| {
                        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))?;
                        listener.set_nonblocking(true)?;
                        Ok(listener)
                    })
                    .collect::<io::Result<Vec<_>>>()?;
                let handle = File::open("/proc/thread-self/ns/net")?;
                Ok((Self { handle }, listeners))
            })?
            .join()
            .map_err(|_| io::Error::other("the namespace thread panicked"))?
    }

    /// A path naming this namespace for other programs (`nsenter --net=`, `pasta --netns`),
    /// valid while this handle is open.
    #[must_use]
    pub fn path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.handle.as_raw_fd()
        ))
    }

    /// Connects to `127.0.0.1:port` inside the namespace: how the edge reaches a port a worker
    /// listens on.
    ///
    /// # Errors
    /// Nothing listens there, or the namespace cannot be entered.
    pub fn connect(&self, port: u16) -> io::Result<TcpStream> {
        let handle = self.handle.try_clone()?;
        std::thread::Builder::new()
            .name("stratus-netns".into())
            .spawn(move || {
                rustix::thread::move_into_link_name_space(
                    handle.as_fd(),
                    Some(rustix::thread::LinkNameSpaceType::Network),
                )?;
                TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            })?
            .join()
            .map_err(|_| io::Error::other("the namespace thread panicked"))?
    }
}

/// Moves the calling thread (and only it) into a new network namespace.
fn enter_new_namespace() -> io::Result<()> {
    // SAFETY: `unshare_unsafe` is unsafe because unsharing the file descriptor table
    // (`CLONE_FILES`) can invalidate descriptors other threads hold. Only the network namespace
    // is unshared here, on a thread that exits right after: no descriptor table changes.
    #[expect(
        unsafe_code,
        reason = "unshare(CLONE_NEWNET) on a dedicated thread; rustix marks every unshare unsafe"
    )]
    unsafe {
        rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET)?;
    }
    Ok(())
}

/// Brings up `lo` of the calling thread's network namespace with one rtnetlink request.
///
/// Written out by hand: the message is 32 bytes, and a netlink crate would bring a whole
/// message model for it. In a new namespace `lo` is always interface 1.
fn loopback_up() -> io::Result<()> {
    use rustix::net::{AddressFamily, RecvFlags, SendFlags, SocketType};
    const RTM_NEWLINK: u16 = 16;
    const NLM_F_REQUEST: u16 = 1;
    const NLM_F_ACK: u16 = 4;
    const NLMSG_ERROR: u16 = 2;
    const IFF_UP: u32 = 1;
    const LOOPBACK_INDEX: i32 = 1;
    let socket = rustix::net::socket(AddressFamily::NETLINK, SocketType::RAW, None)?;
    let mut message = Vec::with_capacity(32);
    // struct nlmsghdr: length, type, flags, sequence, port id.
    message.extend_from_slice(&32u32.to_ne_bytes());
    message.extend_from_slice(&RTM_NEWLINK.to_ne_bytes());
    message.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    message.extend_from_slice(&1u32.to_ne_bytes());
    message.extend_from_slice(&0u32.to_ne_bytes());
    // struct ifinfomsg: family (AF_UNSPEC), padding, type, index, flags, change mask.
    message.extend_from_slice(&[0, 0]);
    message.extend_from_slice(&0u16.to_ne_bytes());
    message.extend_from_slice(&LOOPBACK_INDEX.to_ne_bytes());
    message.extend_from_slice(&IFF_UP.to_ne_bytes());
    message.extend_from_slice(&IFF_UP.to_ne_bytes());
    rustix::net::send(&socket, &message, SendFlags::empty())?;
    let mut reply = [0u8; 256];
    let (received, _) = rustix::net::recv(&socket, &mut reply, RecvFlags::empty())?;
    // The acknowledgement is an NLMSG_ERROR message whose code is 0 on success.
    let kind = reply.get(4..6).map(|b| u16::from_ne_bytes([b[0], b[1]]));
    let code = reply
        .get(16..20)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    match (received >= 20, kind, code) {
        (true, Some(NLMSG_ERROR), Some(0)) => Ok(()),
        (true, Some(NLMSG_ERROR), Some(code)) => Err(io::Error::from_raw_os_error(-code)),
        _ => Err(io::Error::other("unexpected rtnetlink reply")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};

    fn can_create_namespaces() -> bool {
        NetNamespace::create(&[]).is_ok()
    }

    #[test]
    fn listeners_are_reachable_only_from_inside_the_namespace() {
        if !can_create_namespaces() {
            eprintln!("skipped: this process cannot create network namespaces (not root)");
            return;
        }
        let (namespace, listeners) = NetNamespace::create(&[0]).expect("namespace operation");
        let port = listeners[0]
            .local_addr()
            .expect("namespace operation")
            .port();
        listeners[0]
            .set_nonblocking(false)
            .expect("namespace operation");
        // From the host's loopback the port is not there (or is someone else's).
        let from_host = TcpStream::connect((Ipv4Addr::LOCALHOST, port));
        let accepted_from_host = from_host.is_ok() && {
            listeners[0]
                .set_nonblocking(true)
                .expect("namespace operation");
            let accepted = listeners[0].accept().is_ok();
            listeners[0]
                .set_nonblocking(false)
                .expect("namespace operation");
            accepted
        };
        assert!(!accepted_from_host, "the host reached into the namespace");
        // The edge's way in: connect from inside.
        let mut client = namespace.connect(port).expect("namespace operation");
        let (mut server, _) = listeners[0].accept().expect("namespace operation");
        client.write_all(b"ping").expect("namespace operation");
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).expect("namespace operation");
        assert_eq!(&buf, b"ping");
        assert!(namespace.path().exists());
    }

    #[test]
    fn a_port_nobody_listens_on_is_refused_inside() {
        if !can_create_namespaces() {
            eprintln!("skipped: this process cannot create network namespaces (not root)");
            return;
        }
        let (namespace, _) = NetNamespace::create(&[]).expect("namespace operation");
        let error = namespace.connect(RUNTIME_API_PORT).expect_err("must fail");
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused);
    }
}
