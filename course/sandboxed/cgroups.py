"""A control group per owner: one learner's processes share one CPU's worth of time, one process count, one memory.

Resource limits (``setrlimit``) hold per process, so sixty-four spinning processes of
one submission would still take the machine from everyone else. A cgroup per owner
weighs all of an owner's processes as one: a fork bomb gets no more CPU than an honest
lab, never more than ``cpu_share`` of a CPU, and never more than ``processes`` processes.
Killing an owner freezes its cgroup first, so nothing forks while it dies.

Both cgroup layouts are handled: v1 (a hierarchy per controller) and v2 (one unified
hierarchy). Where neither can be written, owners go without, and the grading report says so.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from ..config import SandboxLimits

ROOT = Path("/sys/fs/cgroup")
V1_CONTROLLERS = ("cpu", "pids", "memory", "freezer")
V2_CONTROLLERS = ("cpu", "pids", "memory")
PERIOD_US = 100_000
CPU_SHARE = 1.0  # CPUs one owner may use at most


def _write(path: Path, value: str) -> None:
    path.write_text(value)


@dataclass(frozen=True)
class Layout:
    """Where owners' cgroups go: one directory per v1 controller, or one v2 directory."""

    version: int
    parents: tuple[Path, ...]

    @classmethod
    def detect(cls, name: str) -> Layout | None:
        """Create the run's parent cgroup(s) named ``name``; None where cgroups cannot be used."""
        if os.geteuid() != 0:
            return None
        unified = ROOT / "cgroup.controllers"
        try:
            if unified.exists() and set(V2_CONTROLLERS) <= set(unified.read_text().split()):
                parent = ROOT / name
                parent.mkdir(exist_ok=True)
                _write(ROOT / "cgroup.subtree_control", " ".join(f"+{c}" for c in V2_CONTROLLERS))
                _write(parent / "cgroup.subtree_control", " ".join(f"+{c}" for c in V2_CONTROLLERS))
                return cls(2, (parent,))
            if all((ROOT / controller / "cgroup.procs").exists() for controller in V1_CONTROLLERS):
                parents = tuple(ROOT / controller / name for controller in V1_CONTROLLERS)
                for parent in parents:
                    parent.mkdir(exist_ok=True)
                return cls(1, parents)
        except OSError:
            return None
        return None

    def remove(self) -> None:
        for parent in self.parents:
            with contextlib.suppress(OSError):
                parent.rmdir()


@dataclass(frozen=True)
class OwnerCgroup:
    layout: Layout
    directories: tuple[Path, ...]

    @classmethod
    def create(cls, layout: Layout, name: str, limits: SandboxLimits) -> OwnerCgroup:
        directories = tuple(parent / name for parent in layout.parents)
        for directory in directories:
            directory.mkdir()
        group = cls(layout, directories)
        quota = f"{int(PERIOD_US * CPU_SHARE)}"
        memory = str(limits.memory_bytes)
        if layout.version == 2:
            (only,) = directories
            _write(only / "cpu.max", f"{quota} {PERIOD_US}")
            _write(only / "pids.max", str(limits.processes))
            _write(only / "memory.max", memory)
        else:
            cpu, pids, memory_dir, _ = directories
            _write(cpu / "cpu.cfs_period_us", str(PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", quota)
            _write(pids / "pids.max", str(limits.processes))
            _write(memory_dir / "memory.limit_in_bytes", memory)
        return group

    def child(self, name: str) -> OwnerCgroup:
        """A cgroup inside this one, for one jail: the owner's limits hold for it, and it can be killed alone."""
        directories = tuple(directory / name for directory in self.directories)
        for directory in directories:
            directory.mkdir()
        return OwnerCgroup(self.layout, directories)

    def enter(self) -> None:
        """Move the calling process (a jail being built, still root) into this owner's cgroup."""
        for directory in self.directories:
            _write(directory / "cgroup.procs", "0")

    def _pids(self) -> set[int]:
        """Every process in this cgroup and in the cgroups inside it."""
        found: set[int] = set()
        for directory in self.directories:
            for procs in directory.rglob("cgroup.procs"):
                with contextlib.suppress(OSError, ValueError):
                    found |= {int(line) for line in procs.read_text().split()}
        return found

    def _freeze(self, frozen: bool) -> None:
        with contextlib.suppress(OSError):
            if self.layout.version == 2:
                _write(self.directories[0] / "cgroup.freeze", "1" if frozen else "0")
            else:
                _write(self.directories[3] / "freezer.state", "FROZEN" if frozen else "THAWED")

    def kill(self, rounds: int = 50) -> None:
        """Kill every process in the cgroup, frozen first so that none can fork meanwhile."""
        for _ in range(rounds):
            pids = self._pids()
            if not pids:
                return
            self._freeze(True)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self._freeze(False)  # a frozen process dies only once thawed
            time.sleep(0.005)

    def remove(self) -> None:
        """Kill what is inside, then remove this cgroup and those inside it, the innermost first."""
        self.kill()
        nested = [path for directory in self.directories for path in directory.rglob("*") if path.is_dir()]
        for directory in sorted(nested, key=lambda path: len(path.parts), reverse=True) + list(self.directories):
            for _ in range(100):  # the last processes leave the cgroup as they are reaped
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)
