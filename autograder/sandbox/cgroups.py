"""Processes and memory of the whole sandbox, where the grader may create cgroups.

The sandbox gets its own cgroup per controller: ``pids.max`` bounds its processes
whoever runs it, and ``memory`` bounds the sum over all its processes (RLIMIT_DATA
is per process, so a fork multiplies it) and its tmpfs files. Its first process
joins them before exec, so everything it starts stays inside, and ``kill_all``
empties them when the worker is stopped: no process of the sandbox outlives it,
whichever session or parent it moved to (a worker that is not root, or that is
under Landlock, cannot move itself out).
"""

import atexit
import itertools
import os
import signal
import time
from functools import lru_cache
from pathlib import Path

from autograder.sandbox.limits import Limits

PREFIX = "diffgrade-"
STALE_S = 60.0  # an empty sandbox cgroup older than this is left over; removed
_counter = itertools.count()
made: list[Path] = []  # by this process, not yet removed


@lru_cache(maxsize=1)
def parents() -> dict[str, Path]:
    """Our own cgroup folder per controller ("pids", "memory") where we may create children.

    cgroup v1: the hierarchy of that controller; v2: only where the controller is
    enabled for our cgroup's children (the root, or a delegated subtree).
    """
    mounts = []  # (mount point, hierarchy path mounted there, controllers or None for v2)
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields, kind = left.split(), right.split()
                if len(fields) >= 5 and len(kind) >= 3 and kind[0] in ("cgroup", "cgroup2"):
                    mounts.append((fields[4], fields[3], None if kind[0] == "cgroup2" else set(kind[2].split(","))))
        with open("/proc/self/cgroup") as f:
            memberships = [line.rstrip("\n").split(":", 2) for line in f if line.count(":") >= 2]
    except OSError:
        return {}
    found: dict[str, Path] = {}
    for _, names, path in memberships:
        for mount_point, root, options in mounts:
            if (options is None) != (names == "") or not (path + "/").startswith(root.rstrip("/") + "/"):
                continue
            if options is not None and not set(names.split(",")) <= options:
                continue
            folder = Path(mount_point) / os.path.relpath(path, root)
            if not os.access(folder, os.W_OK):
                continue
            if options is None:
                try:
                    wanted = set((folder / "cgroup.subtree_control").read_text().split())
                except OSError:
                    continue
            else:
                wanted = options
            for controller in ("pids", "memory"):
                if controller in wanted:
                    found.setdefault(controller, folder)
    return found


def _sweep_stale(parent: Path) -> None:
    """Remove empty sandbox cgroups left over (rmdir fails on a cgroup that still has tasks)."""
    try:
        old = [d for d in parent.glob(PREFIX + "*") if time.time() - d.stat().st_mtime > STALE_S]
    except OSError:
        return
    for d in old:
        try:
            d.rmdir()
        except OSError:
            pass


def remove_own(min_age_s: float = 0.0) -> None:
    """Remove the empty ones among the cgroups this process made (at exit, and before making more).

    ``min_age_s`` spares young ones: another thread's worker may not have joined its own yet.
    """
    for d in list(made):
        try:
            if min_age_s and time.time() - d.stat().st_mtime < min_age_s:
                continue
            d.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            continue  # still has tasks: the next sweep takes it
        made.remove(d)


atexit.register(remove_own)


def for_sandbox(limits: Limits, gpu: bool) -> list[Path]:
    """Fresh cgroups capping the next sandbox; its first process joins them in ``join``."""
    new = []
    name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
    # The memory cap leaves room for both tmpfs and the interpreter around the per-process
    # RLIMIT_DATA, so a single process still meets RLIMIT_DATA (a MemoryError) first.
    settings = {"pids": {"pids.max": limits.nproc}}
    if not gpu:  # as with RLIMIT_DATA: CUDA maps and pins memory on its own terms
        mem = (limits.memory_mb + 2 * limits.tmp_mb + 512) << 20
        settings["memory"] = {"memory.limit_in_bytes": mem, "memory.max": mem}
    for controller, parent in parents().items():
        if controller not in settings:
            continue
        _sweep_stale(parent)
        folder = parent / name
        try:
            folder.mkdir()
        except OSError:
            continue
        written = False
        for key, value in settings[controller].items():  # v1 and v2 name some files differently
            try:
                (folder / key).write_text(str(value))
                written = True
            except OSError:
                pass
        if written:
            new.append(folder)
        else:
            folder.rmdir()
    remove_own(min_age_s=10.0)  # those of workers already gone
    made.extend(new)
    return new


def join(folders: list[Path]) -> None:
    """Move this process into ``folders`` (in the child, before exec)."""
    for folder in folders:
        try:
            with open(folder / "cgroup.procs", "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            pass


def members(folders: list[Path]) -> set[int]:
    """Processes still in any of ``folders``."""
    pids: set[int] = set()
    for folder in folders:
        try:
            pids.update(int(p) for p in (folder / "cgroup.procs").read_text().split())
        except (OSError, ValueError):
            pass
    return pids


def kill_all(folders: list[Path], timeout_s: float = 5.0) -> bool:
    """SIGKILL every process of the sandbox's cgroups until none is left; True when they are empty."""
    for folder in folders:
        try:
            (folder / "cgroup.kill").write_text("1")  # cgroup v2: the kernel kills them all at once
        except OSError:
            pass
    end = time.monotonic() + timeout_s
    while True:
        left = members(folders)
        if not left:
            return True
        if time.monotonic() > end:
            return False
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)
