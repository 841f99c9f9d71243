"""The strongest level: bubblewrap with every namespace unshared.

No network, a read-only view of only the interpreter and system libraries, the
submission read-only, a private ``/tmp`` and ``/dev/shm``, an unprivileged user, its
own PID namespace (so no process of the grader can be seen or signalled, and all of
the sandbox dies with its first process); nothing of the course (hidden tests,
solutions, results) is mounted. Needs unprivileged user namespaces (or a setuid bwrap).
"""

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from autograder.sandbox import environment
from autograder.sandbox.levels.base import Launch, Level, worker_args
from autograder.sandbox.limits import Limits

SANDBOX_RUNTIME = "/grader"
SANDBOX_SUBMISSION = "/submission"


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether ``bwrap`` exists and can create its namespaces here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    probe = [exe, "--unshare-all", "--die-with-parent", *system_binds(), "--proc", "/proc",
             "--dev", "/dev", "--uid", str(environment.NOBODY), "--gid", str(environment.NOBODY), "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@lru_cache(maxsize=1)
def _sizes_tmpfs() -> bool:
    """Whether this bwrap has ``--size`` (0.8 and later) to cap a tmpfs."""
    try:
        out = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in out.stdout + out.stderr


def _tmpfs(dest: str, limits: Limits) -> list[str]:
    size = ["--size", str(limits.tmp_mb << 20)] if _sizes_tmpfs() else []
    return [*size, "--tmpfs", dest]


def system_binds() -> list[str]:
    return [a for p in environment.system_files() for a in ("--ro-bind", p, p)]


def python_binds() -> list[str]:
    """The interpreter's installation(s), at the same paths so shebangs, RPATHs and venv links work.

    Made after the sandbox's own ``/tmp``, so an environment under ``/tmp`` is not hidden by it.
    """
    args = []
    kept: list[str] = []
    for root in environment.python_roots():  # sorted: a parent comes before its children, which it covers
        if any(root == d or root.startswith(d + "/") for d in (*environment.SYSTEM_DIRS, *kept)) or root == "/":
            continue
        if os.path.isdir(root):
            args += ["--ro-bind", root, root]
            kept.append(root)
    return args


def gpu_binds() -> list[str]:
    args = []
    for dev in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(dev), str(dev)]
    for p in ("/proc/driver/nvidia", "/usr/local/nvidia", "/usr/local/cuda"):
        if os.path.exists(p):
            args += ["--ro-bind", p, p]
    return args


class Bwrap(Level):
    name = "bwrap"
    private_tmp = True

    def works(self) -> bool:
        return bwrap_works()

    def unavailable(self) -> str:
        return ("bubblewrap is not installed or cannot create namespaces here (install the 'bubblewrap' "
                "package; unprivileged user namespaces must be allowed)")

    def description(self) -> str:
        return ("bubblewrap sandbox: no network, read-only system, only the submission visible, "
                "unprivileged user, resource limits")

    def runs_as(self) -> int | None:
        return environment.NOBODY

    def command(self, launch: Launch) -> tuple[list[str], str]:
        inside = [f"/provided/{i}" for i in range(len(launch.provided))]
        limits = launch.limits
        prefix = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                  *system_binds(),
                  "--ro-bind", str(launch.runtime_dir), SANDBOX_RUNTIME,
                  "--ro-bind", str(launch.submission_dir), SANDBOX_SUBMISSION,
                  *[a for p, i in zip(launch.provided, inside) for a in ("--ro-bind", str(p), i)],
                  "--proc", "/proc", "--dev", "/dev",
                  # After /proc and /dev: bwrap mounts in order, so binds made before
                  # them under /dev (the GPU's nodes) or /proc (its driver) were hidden.
                  *(gpu_binds() if launch.gpu else []),
                  # Every tmpfs lives in RAM and bwrap makes them half of it by default: a
                  # student writing files could fill the machine's memory. /tmp and /dev/shm
                  # get a size; the root and /dev themselves become read-only.
                  *_tmpfs("/dev/shm", limits), *_tmpfs("/tmp", limits),
                  *python_binds(),  # after /tmp: an environment there stays visible
                  "--remount-ro", "/dev", "--remount-ro", "/",
                  "--uid", str(environment.NOBODY), "--gid", str(environment.NOBODY), "--chdir", "/tmp"]
        worker = worker_args(f"{SANDBOX_RUNTIME}/worker.py", SANDBOX_SUBMISSION, inside, launch)
        return [*prefix, *worker], SANDBOX_SUBMISSION
