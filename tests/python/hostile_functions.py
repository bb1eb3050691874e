"""Hostile function code for test_isolation_hostile.py.

This whole file is deployed as a function's `app.py` (handler `app.handler`); the test module
also imports it on the host for `ipv4_addresses()`. Every probe is bounded in time and count,
cleans up what it started, and runs anything that could change the worker's own state (a
namespace it entered, a chroot, a traced child) in a forked child that then exits. The
arguments of the raw syscalls are chosen so that, should the call be allowed, it fails harmlessly
with an error other than EPERM (ENOENT, EINVAL, ESRCH, EBADF...) or does nothing: an EPERM can
only come from the sandbox refusing the call.

Only the standard library is imported at module level (boto3 only in the probe that needs it).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import platform
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

MIB = 1024 * 1024
ALL_CAPS_CLEAR = "0000000000000000"

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long

# x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
NR = {
    "clone": 56, "ptrace": 101, "pivot_root": 155, "chroot": 161, "acct": 163, "settimeofday": 164,
    "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "init_module": 175,
    "delete_module": 176, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250,
    "unshare": 272, "perf_event_open": 298, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "finit_module": 313, "bpf": 321,
    "userfaultfd": 323, "clone3": 435,
}

CLONE_NEW = {
    "CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}
CLONE_NEWTIME = 0x00000080  # unshare/clone3 only: in clone()'s flags these bits are the signal
CLONE_FS = 0x00000200
PTRACE_ATTACH, PTRACE_DETACH = 16, 17
NOWHERE = b"/nonexistent-stratus-hostile"


class Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


def _arg(value):
    if value is None:
        return ctypes.c_void_p(None)
    if isinstance(value, bytes):
        return ctypes.c_char_p(value)
    if isinstance(value, int):
        return ctypes.c_long(value)
    return value  # already a ctypes object or byref()


def raw_syscall(name: str, *args) -> tuple[int, int]:
    """(return value, errno) of syscall `name`; errno is 0 when it succeeded."""
    ctypes.set_errno(0)
    ret = LIBC.syscall(ctypes.c_long(NR[name]), *[_arg(a) for a in args])
    return ret, (ctypes.get_errno() if ret == -1 else 0)


def in_child(fn, timeout: float = 10.0):
    """Runs `fn()` in a forked child and returns what it returned (JSON); the child then exits,
    so whatever it changed (namespaces, root, tracees) never touches the worker."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            try:
                result = fn()
            except BaseException as error:  # noqa: BLE001 - reported to the parent
                result = {"child_error": repr(error)}
            data = json.dumps(result).encode()
            while data:
                data = data[os.write(write_end, data):]
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                break
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_end)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    return json.loads(data) if data else {"child_error": "no answer within the time limit"}


def read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _errno_name(number: int) -> str:
    return errno.errorcode.get(number, str(number)) if number else "OK"


def _exc(error: BaseException) -> dict:
    return {"type": type(error).__name__, "errno": getattr(error, "errno", None)}


# --- 1. identity -----------------------------------------------------------------------------
def probe_identity(event):
    fields = {}
    for line in read("/proc/self/status").decode().splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name] = value.strip()

    def try_setuid():
        try:
            os.setuid(0)
            return "succeeded"
        except OSError as error:
            return _exc(error)

    def try_setgroups():
        try:
            os.setgroups([0])
            return "succeeded"
        except OSError as error:
            return _exc(error)

    return {
        "uid": os.getresuid(), "gid": os.getresgid(), "groups": os.getgroups(),
        "status": {k: fields.get(k) for k in ("Uid", "Gid", "CapInh", "CapPrm", "CapEff", "CapBnd",
                                              "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters")},
        "setuid0": in_child(try_setuid), "setgroups0": in_child(try_setgroups),
    }


# --- 2. seccomp ------------------------------------------------------------------------------
def _clone_with(flags: int):
    """Raw clone(flags|SIGCHLD) with no new stack: fork-like; the clone exits at once."""
    ret, err = raw_syscall("clone", flags | signal.SIGCHLD, 0, None, None, 0)
    if ret == 0:
        os._exit(0)
    if ret > 0:
        os.waitpid(ret, 0)
    return ret, err


def _userfaultfd():
    ret, err = raw_syscall("userfaultfd", 1)  # UFFD_USER_MODE_ONLY: allowed unprivileged
    if ret >= 0:
        os.close(ret)
    return ret, err


def _setns_own_net():
    fd = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        return raw_syscall("setns", fd, 0)
    finally:
        os.close(fd)


def syscall_attacks() -> dict:
    bad_time = Timeval(0, 2_000_000)  # tv_usec out of range: EINVAL if the call were allowed
    attacks = {
        "mount": lambda: raw_syscall("mount", b"none", NOWHERE, b"tmpfs", 0, None),
        "umount2": lambda: raw_syscall("umount2", NOWHERE, 0),
        "pivot_root": lambda: raw_syscall("pivot_root", NOWHERE, NOWHERE),
        "ptrace": lambda: raw_syscall("ptrace", PTRACE_ATTACH, 4194303, None, None),
        "process_vm_readv": lambda: raw_syscall("process_vm_readv", os.getpid(), None, 0, None, 0, 0),
        "process_vm_writev": lambda: raw_syscall("process_vm_writev", os.getpid(), None, 0, None, 0, 0),
        "kexec_load": lambda: raw_syscall("kexec_load", 0, 1000, None, 0),  # > KEXEC_SEGMENT_MAX
        "bpf": lambda: raw_syscall("bpf", 0, None, 0),
        "perf_event_open": lambda: raw_syscall("perf_event_open", None, 0, -1, -1, 0),
        "keyctl": lambda: raw_syscall("keyctl", 0, -2, 0),  # KEYCTL_GET_KEYRING_ID, process keyring
        "add_key": lambda: raw_syscall("add_key", b"user", b"", None, 0, -2),
        "request_key": lambda: raw_syscall("request_key", b"user", b"stratus-no-such-key", None, 0),
        "init_module": lambda: raw_syscall("init_module", None, 0, b""),
        "finit_module": lambda: raw_syscall("finit_module", -1, b"", 0),
        "delete_module": lambda: raw_syscall("delete_module", b"stratus_no_such_module", os.O_NONBLOCK),
        "swapon": lambda: raw_syscall("swapon", NOWHERE, 0),
        "swapoff": lambda: raw_syscall("swapoff", NOWHERE),
        "reboot": lambda: raw_syscall("reboot", 0, 0, 0, None),  # wrong magic: EINVAL if allowed
        "open_by_handle_at": lambda: raw_syscall("open_by_handle_at", -1, None, 0),
        "userfaultfd": _userfaultfd,
        "unshare(0)": lambda: raw_syscall("unshare", 0),
        "unshare(CLONE_FS)": lambda: raw_syscall("unshare", CLONE_FS),
        "unshare(CLONE_NEWTIME)": lambda: raw_syscall("unshare", CLONE_NEWTIME),
        "setns(-1, 0)": lambda: raw_syscall("setns", -1, 0),
        "setns(own netns, 0)": _setns_own_net,
        "chroot": lambda: raw_syscall("chroot", NOWHERE),
        "acct": lambda: raw_syscall("acct", NOWHERE + b"/acct"),
        "settimeofday": lambda: raw_syscall("settimeofday", ctypes.byref(bad_time), None),
        "clone3": lambda: raw_syscall("clone3", None, 0),
    }
    for flag, value in CLONE_NEW.items():
        attacks[f"unshare({flag})"] = lambda value=value: raw_syscall("unshare", value)
        attacks[f"clone({flag})"] = lambda value=value: _clone_with(value)
    return attacks


def probe_syscalls(event):
    if platform.machine() != "x86_64":
        return {"skip": f"syscall numbers are x86_64's; this is {platform.machine()}"}
    results = {}
    for name, attack in syscall_attacks().items():
        answer = in_child(lambda attack=attack: list(attack()))
        if isinstance(answer, dict):
            results[name] = answer
        else:
            results[name] = {"ret": answer[0], "errno": _errno_name(answer[1])}
    return {"results": results, "controls": controls()}


def controls() -> dict:
    """What must keep working: fork, threads, subprocess (clone3 → ENOSYS → clone fallback)."""
    out = {}
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    box = []
    thread = threading.Thread(target=lambda: box.append(threading.get_native_id()))
    thread.start()
    thread.join(10)
    out["thread"] = bool(box) and box[0] != threading.get_native_id()
    done = subprocess.run([sys.executable, "-c", "print('spawned')"], capture_output=True, text=True,
                          timeout=30, check=False)
    out["subprocess"] = [done.returncode, done.stdout.strip()]
    return out


def probe_controls(event):
    return controls()


# --- 3. devices, 4. ptrace -------------------------------------------------------------------
def probe_devices(event):
    def mount_devtmpfs():
        os.makedirs("/tmp/d", exist_ok=True)
        ctypes.set_errno(0)
        ret = LIBC.mount(b"none", b"/tmp/d", b"devtmpfs", ctypes.c_ulong(0), None)
        err = ctypes.get_errno() if ret != 0 else 0
        if ret == 0:
            LIBC.umount2(b"/tmp/d", 2)  # MNT_DETACH
        return {"ret": ret, "errno": _errno_name(err)}

    def make_block_device():
        path = "/tmp/blk"
        try:
            os.mknod(path, 0o600 | 0o060000, os.makedev(8, 0))  # S_IFBLK
        except OSError as error:
            return _exc(error)
        os.unlink(path)
        return "created"

    dev = sorted(os.listdir("/dev"))
    block = [name for name in dev if name.startswith(("sd", "vd", "nvme", "loop", "xvd", "hd", "mmcblk",
                                                      "dm-", "md"))]
    return {"mount": in_child(mount_devtmpfs), "mknod": in_child(make_block_device), "dev": dev,
            "block_devices": block}


def probe_ptrace_child(event):
    def attach():
        child = os.fork()
        if child == 0:
            time.sleep(30)
            os._exit(0)
        try:
            ret, err = raw_syscall("ptrace", PTRACE_ATTACH, child, None, None)
            if ret == 0:
                os.waitpid(child, 0)  # the attach stop
                raw_syscall("ptrace", PTRACE_DETACH, child, None, None)
            return {"ret": ret, "errno": _errno_name(err), "child": child}
        finally:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)

    if platform.machine() != "x86_64":
        return {"skip": f"syscall numbers are x86_64's; this is {platform.machine()}"}
    return in_child(attach)


# --- 5. pid namespace ------------------------------------------------------------------------
def probe_pid_namespace(event):
    try:
        read(f"/proc/{event['server_pid']}/environ")
        server_environ = "readable"
    except OSError as error:
        server_environ = _exc(error)
    processes = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = read(f"/proc/{entry}/cmdline").replace(b"\0", b" ").decode(errors="replace")
            except OSError as error:
                cmdline = f"<{type(error).__name__}>"
            processes.append({"pid": int(entry), "cmdline": cmdline.strip()})
    try:
        environ = read("/proc/1/environ")
        names = [item.split(b"=", 1)[0].decode(errors="replace") for item in environ.split(b"\0") if item]
        init_environ = {"names": names, "has": [m for m in event.get("markers", []) if m.encode() in environ]}
    except OSError as error:
        init_environ = _exc(error)
    return {"server_environ": server_environ, "processes": processes, "init_environ": init_environ,
            "own_pid": os.getpid()}


# --- 6, 7. network ---------------------------------------------------------------------------
def ipv4_addresses() -> dict:
    """Interface name → its IPv4 address (None when it has none), through SIOCGIFADDR."""
    out = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))
                out[name] = socket.inet_ntoa(packed[20:24])
            except OSError:
                out[name] = None
    return out


def routes() -> list[dict]:
    rows = []
    lines = read("/proc/net/route").decode().splitlines()[1:]
    for line in lines:
        cols = line.split()
        if len(cols) >= 8:
            gateway = socket.inet_ntoa(struct.pack("<I", int(cols[2], 16)))
            rows.append({"iface": cols[0], "destination": cols[1], "gateway": gateway, "mask": cols[7]})
    return rows


def _connect(target, wait: float) -> dict:
    host, port = target
    try:
        for _ in range(3):
            if host.startswith("@"):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(wait)
                sock.connect("\0" + host[1:])
            else:
                sock = socket.create_connection((host, port), timeout=wait)
                # TCP self-connect: the ephemeral port the kernel picked was `port` itself, so
                # the socket met itself with nothing listening. Not a reach; try again.
                if sock.getsockname() == sock.getpeername():
                    sock.close()
                    continue
            sock.close()
            return {"target": [host, port], "result": "connected"}
        return {"target": [host, port], "result": "self-connect only (nothing listens)"}
    except OSError as error:
        return {"target": [host, port], "result": type(error).__name__,
                "errno": _errno_name(error.errno) if error.errno else None}


def probe_network(event):
    own = set()
    for var in ("AWS_LAMBDA_RUNTIME_API", "AWS_ENDPOINT_URL"):
        value = os.environ.get(var, "").rstrip("/")
        if value.rsplit(":", 1)[-1].isdigit():
            own.add(int(value.rsplit(":", 1)[-1]))
    results = []
    for target in event.get("targets", []):
        if not target[0].startswith("@") and target[1] in own:
            results.append({"target": target, "result": "skipped: the worker's own endpoint port"})
        else:
            results.append(_connect(target, event.get("wait", 3)))
    return {"results": results, "routes": routes(), "addresses": ipv4_addresses(),
            "endpoint": os.environ.get("AWS_ENDPOINT_URL"), "runtime_api": os.environ.get("AWS_LAMBDA_RUNTIME_API")}


def probe_boto3(event):
    import boto3

    listed = boto3.client("s3").list_objects_v2(Bucket=event["bucket"])
    return sorted(item["Key"] for item in listed.get("Contents", []))


# --- 8. paths --------------------------------------------------------------------------------
def probe_paths(event):
    out = {}
    for path in event["paths"]:
        try:
            if os.path.isdir(path) or path.endswith("/"):
                os.listdir(path)
            else:
                with open(path, "rb") as file:
                    file.read(1)
            out[path] = "readable"
        except OSError as error:
            out[path] = type(error).__name__
    return out


def probe_tmp(event):
    names = sorted(os.listdir("/tmp"))
    return {"tmp": names, "exists": {p: os.path.exists(p) for p in event.get("paths", [])}}


# --- 9. processes ----------------------------------------------------------------------------
def probe_fork_bomb(event):
    cap, hold, budget = event.get("max", 2048), event.get("hold", 5), event.get("seconds", 30)
    children, error = [], None
    started = time.monotonic()
    try:
        while len(children) < cap and time.monotonic() - started < budget:
            pid = os.fork()
            if pid == 0:
                try:
                    os.execv("/bin/sleep", ["sleep", str(budget + hold + 30)])
                finally:
                    os._exit(0)
            children.append(pid)
    except OSError as exc:
        error = _exc(exc)
    saturated_s = time.monotonic() - started
    if error:
        time.sleep(hold)  # stay at the limit while the test checks its neighbours
    for pid in children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for pid in children:
        os.waitpid(pid, 0)
    try:
        pids_max = read("/sys/fs/cgroup/pids.max").decode().strip()
    except OSError:
        pids_max = None
    return {"count": len(children), "error": error, "saturated_s": round(saturated_s, 2),
            "nproc": resource.getrlimit(resource.RLIMIT_NPROC), "pids_max": pids_max}


# --- 10. /tmp --------------------------------------------------------------------------------
def _tmp_mount():
    """The last (topmost) mount on /tmp: its filesystem type and options."""
    found = None
    for line in read("/proc/self/mounts").decode().splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[1] == "/tmp":
            found = {"type": fields[2], "options": fields[3]}
    return found


def probe_fill_tmp(event):
    cap_mib, budget = event.get("max_mib", 700), event.get("seconds", 60)
    chunk = b"\xa5" * MIB
    written, error = 0, None
    started = time.monotonic()
    fd = os.open("/tmp/fill.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while written < cap_mib * MIB and time.monotonic() - started < budget:
            view = memoryview(chunk)
            while view:
                n = os.write(fd, view)
                written += n
                view = view[n:]
    except OSError as exc:
        error = _exc(exc)
    finally:
        os.close(fd)
    stat = os.statvfs("/tmp")
    return {"written_mib": written / MIB, "error": error, "seconds": round(time.monotonic() - started, 2),
            "tmp_size_mib": stat.f_blocks * stat.f_frsize / MIB, "mount": _tmp_mount()}


def probe_clean_tmp(event):
    for name in os.listdir("/tmp"):
        try:
            os.unlink(os.path.join("/tmp", name))
        except OSError:
            pass
    return sorted(os.listdir("/tmp"))


# --- 11. descriptors -------------------------------------------------------------------------
def probe_open_files(event):
    cap = event.get("max", 4096)
    fds, error = [], None
    limits = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        while len(fds) < cap:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as exc:
        error = _exc(exc)
    finally:
        for fd in fds:
            os.close(fd)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
        raised = "succeeded"
    except (ValueError, OSError) as exc:
        raised = {"type": type(exc).__name__, "message": str(exc)}
    if raised == "succeeded":
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)  # put back what it was
        except (ValueError, OSError):
            pass
    return {"opened": len(fds), "error": error, "limits": limits, "setrlimit": raised}


# --- 12. CPU ---------------------------------------------------------------------------------
def probe_burn(event):
    seconds, workers = event.get("seconds", 8), event.get("workers", 2)
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            end = time.monotonic() + seconds
            x = 0
            while time.monotonic() < end:
                for _ in range(10000):
                    x += 1
            os._exit(0)
        children.append(pid)
    cpu = 0.0
    for pid in children:
        _, _, usage = os.wait4(pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
    return {"cpu_s": round(cpu, 2), "workers": workers, "seconds": seconds}


def probe_noop(event):
    return event.get("nonce")


# --- 13. dependencies ------------------------------------------------------------------------
def probe_dependency(event):
    import importlib

    module = importlib.import_module(event["module"])
    return {"version": getattr(module, "__version__", None), "file": module.__file__}


PROBES = {name[len("probe_"):]: fn for name, fn in list(globals().items()) if name.startswith("probe_")}


def handler(event, context):
    return PROBES[event["probe"]](event)
