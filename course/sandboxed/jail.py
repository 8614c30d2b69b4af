"""How a freshly forked child becomes a jail for learner code, before any of it runs.

The child gets its own session and output file, resource limits, a clean environment
and, where the kernel allows it (the grader runs as root), its own uid and its own
network, IPC, UTS and mount namespaces. Its mount namespace holds a new root built
from a small tmpfs: read-only views of the interpreter, the installed packages, the
course's machinery and the one submission's ``labs/``; read-write only its owner's
directory; private, size- and inode-limited ``/tmp`` and ``/dev/shm``; and a ``/proc``
that shows its own processes only. Nothing else of the machine is there: no other
submission, no hidden check, no instructor file, no service socket.

Namespaces come from ``unshare(2)`` and ``mount(2)`` through ctypes (Python 3.11 has no
``os.unshare``): the zygote forks warm children, and ``unshare(1)`` would need an exec.
Where they are missing (not root, or a container that forbids them) the jail degrades
to what it can do, and ``probe`` tells the grader, which says so in its report.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from ..config import MODE_ENV, ROOT_ENV, Mode, SandboxLimits

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET = 0x00020000, 0x04000000, 0x08000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS = 38
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
FIRST_UID = 61000
UID_COUNT = 1000
SETUP_FAILED = 70  # the child's exit code when the jail could not be built: no learner code ran
# What the learner's process may see of the environment: no secrets, no service URLs.
PASSED_ENV = ("LANG", "LC_ALL", "TZ")
DEVICES = ("null", "zero", "full", "random", "urandom")
_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Isolation:
    """What this machine lets the jail do; anything missing is said in the grading report."""

    own_uid: bool = False
    namespaces: bool = False
    cgroups: bool = False

    @property
    def shortfalls(self) -> list[str]:
        said = []
        if not self.own_uid:
            said.append("learner code ran as the grading user (the grader is not root)")
        if not self.namespaces:
            said.append("no private network, mount and IPC namespaces: learner code could see this machine's files")
        if not self.cgroups:
            said.append("no control groups: one submission's processes could take more than their share of the CPU")
        return said


@dataclass(frozen=True)
class JailSpec:
    """One jail: who it runs as, what it sees, and where its output goes."""

    workdir: Path  # its HOME and TMPDIR outside the jail's own /tmp; output.log goes here
    tree: Path  # COURSE_ROOT as the jail sees it; labs/ is mounted under it
    labs: Path | None  # the submission's labs/, seen read-only at tree/labs (None: no lab at all)
    writable: tuple[Path, ...]  # seen read-write at the same paths (the owner's directory)
    uid: int | None
    limits: SandboxLimits
    env: dict[str, str] = field(default_factory=dict)
    isolation: Isolation = Isolation()
    staging: Path | None = None  # an empty directory the new root is built on
    cgroups: tuple[Path, ...] = ()  # the owner's cgroup directories, entered before anything else


def _check(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _mount(source: str | None, target: str | Path, kind: str | None, flags: int, data: str | None = None) -> None:
    encoded = [value.encode() if value is not None else None for value in (source, str(target), kind, data)]
    _check(_libc.mount(encoded[0], encoded[1], encoded[2], flags, encoded[3]), f"mount {target}")


def _tmpfs(target: Path, limits: SandboxLimits, mode: str = "1777") -> None:
    target.mkdir(parents=True, exist_ok=True)
    options = f"size={limits.tmpfs_bytes},nr_inodes={limits.tmpfs_inodes},mode={mode}"
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options)


def _bind(source: Path, root: Path, *, writable: bool = False) -> None:
    """Show ``source`` at the same path inside the new root (read-only unless ``writable``)."""
    target = root / source.relative_to("/")
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch()
    _mount(str(source), target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (0 if writable else MS_RDONLY)
    _mount(None, target, None, flags)


def read_only_views() -> list[Path]:
    """What every jail sees read-only: the system's programs and libraries, the interpreter, the machinery."""
    import course

    machinery = Path(course.__file__).resolve().parent
    views = {Path("/usr"), Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), machinery}
    for entry in sys.path:  # installed packages outside the prefixes
        path = Path(entry).resolve()
        if entry and path.name == "site-packages" and not any(path.is_relative_to(view) for view in views):
            views.add(path)
    return sorted(views)


def _build_root(spec: JailSpec) -> None:
    """Make the new root at ``spec.staging`` and move into it (pivot_root), leaving the old one behind."""
    assert spec.staging is not None and PIVOT_ROOT is not None
    root = spec.staging
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,nr_inodes=4096,mode=0755")
    # Private /tmp, /dev and /dev/shm first: the checkout, the tree and the owner's directory may lie
    # under /tmp or /dev/shm, and are mounted after them, on top.
    _tmpfs(root / "tmp", spec.limits)
    (root / "dev").mkdir()
    _mount("tmpfs", root / "dev", "tmpfs", MS_NOSUID, "size=64k,nr_inodes=64,mode=0755")
    for device in DEVICES:
        (root / "dev" / device).touch()
        _mount(f"/dev/{device}", root / "dev" / device, None, MS_BIND)
    os.symlink("/proc/self/fd", root / "dev" / "fd")
    _tmpfs(root / "dev" / "shm", spec.limits)
    (root / "proc").mkdir()
    _mount("proc", root / "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
    for view in read_only_views():
        _bind(view, root)
    for name in ("bin", "lib", "lib64", "sbin"):  # merged-/usr systems link these into /usr
        if os.path.islink(f"/{name}"):
            os.symlink(os.readlink(f"/{name}"), root / name)
    if spec.labs is not None:
        tree = root / spec.tree.relative_to("/")
        (tree / "labs").mkdir(parents=True)
        _mount(str(spec.labs), tree / "labs", None, MS_BIND | MS_REC)
        _mount(None, tree / "labs", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    for path in spec.writable:
        _bind(path, root, writable=True)
    if not any(spec.workdir.is_relative_to(path) for path in spec.writable):
        _bind(spec.workdir, root, writable=True)
    etc = root / "etc"
    etc.mkdir()
    uid = spec.uid if spec.uid is not None else os.getuid()
    (etc / "passwd").write_text(f"root:x:0:0::/:/bin/false\nlearner:x:{uid}:{uid}::{spec.workdir}:/bin/false\n")
    (etc / "group").write_text(f"root:x:0:\nlearner:x:{uid}:\n")
    (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    if Path("/etc/localtime").exists():
        os.symlink(os.path.realpath("/etc/localtime"), etc / "localtime")
    _mount(None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chdir(root)
    _check(_libc.syscall(PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "detach the old root")  # the old root sat on top of the new
    os.chdir("/")


def _namespaces(spec: JailSpec) -> None:
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here reaches the machine, and back
    _build_root(spec)


def _limit(limits: SandboxLimits) -> None:
    for name, value in (
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(name, (value, value))


def jail_env(spec: JailSpec) -> dict[str, str]:
    """The whole environment of the jail: nothing inherited but the locale and the time zone."""
    env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
    env.update(
        {
            "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin",
            "HOME": str(spec.workdir),
            "TMPDIR": "/tmp" if spec.isolation.namespaces else str(spec.workdir),
            "PYTHONDONTWRITEBYTECODE": "1",
            ROOT_ENV: str(spec.tree),
            MODE_ENV: Mode.EMBEDDED.value,  # a jail has no services to reach
        }
    )
    return {**env, **spec.env}


def enter(spec: JailSpec) -> None:
    """Turn the calling, freshly forked process into the jail ``spec`` describes. Never returns on failure."""
    try:
        for directory in spec.cgroups:  # first, so that all the jail does is counted
            (directory / "cgroup.procs").write_text("0")
        os.setsid()
        log = os.open(spec.workdir / "output.log", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        if spec.uid is not None:
            os.fchown(log, spec.uid, spec.uid)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, 65536)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - lives as long as the process
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - as above
        if spec.isolation.namespaces:
            _namespaces(spec)
        _limit(spec.limits)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no new privileges")
        if spec.uid is not None:
            os.setgroups([])
            os.setgid(spec.uid)
            os.setuid(spec.uid)
        os.chdir(spec.tree)
        env = jail_env(spec)
        os.environ.clear()
        os.environ.update(env)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    except BaseException as exc:
        lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == __file__]
        os.write(2, f"sandbox set-up failed: {exc!r} (jail.py line {lines[-1] if lines else '?'})\n".encode())
        os._exit(SETUP_FAILED)


def probe(staging: Path, limits: SandboxLimits, cgroups: bool = False) -> Isolation:
    """What a jail can have on this machine: tried once, in a throwaway child."""
    own_uid = os.geteuid() == 0
    if not own_uid or PIVOT_ROOT is None:
        return Isolation(own_uid=own_uid)
    pid = os.fork()
    if pid == 0:
        code = 1
        with contextlib.suppress(BaseException):
            _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            _mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k")
            _mount("proc", staging, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible")
            code = 0
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return Isolation(own_uid=True, namespaces=os.waitstatus_to_exitcode(status) == 0, cgroups=cgroups)


def run_and_exit(work: Callable[[], object]) -> NoReturn:
    """In a freshly forked child: run ``work``, then end the child with its exit code.

    The child never returns into its parent's loop, whatever ``work`` raises.
    """
    code = 0
    try:
        work()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def processes_of(uid: int) -> list[int]:
    """Every living process that runs as ``uid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        # A zombie is already dead; only its parent's wait removes it.
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(int(entry.name))
    return found


def kill_all(uid: int | None, patience: float = 10.0) -> None:
    """Kill every process of ``uid``, the uid of one owner's jails.

    A process of the uid itself sends ``kill(-1, SIGKILL)``, which reaches every process of
    the uid in one sweep, so even a fork bomb cannot outrun it for long.
    """
    if uid is None:
        return
    deadline = time.monotonic() + patience  # a process with much memory takes a while to die
    while time.monotonic() < deadline:
        if not processes_of(uid):
            return
        killer = os.fork()
        if killer == 0:
            with contextlib.suppress(BaseException):
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            os._exit(0)
        os.waitpid(killer, 0)
        time.sleep(0.005)


def unmount(path: Path) -> bool:
    """Detach a mount (an owner's tmpfs): its files go when the last jail that sees them is gone."""
    return bool(_libc.umount2(str(path).encode(), MNT_DETACH) == 0)


def mount_tmpfs(path: Path, limits: SandboxLimits, mode: str = "0711") -> None:
    _tmpfs(path, limits, mode)
