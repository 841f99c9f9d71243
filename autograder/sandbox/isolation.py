"""How the worker process is confined.

Two levels, the strongest available chosen by default:

* ``bwrap``: bubblewrap with every namespace unshared (no network), a read-only
  view of only the interpreter and system libraries, the submission read-only,
  a private ``/tmp``, an unprivileged user; nothing of the course (hidden tests,
  solutions, results) is mounted.
* ``process``: a plain subprocess in its own session with resource limits.
  The file system stays readable, so reports say this level is weaker.

Both apply the same resource limits (data size, file size, core dumps).
"""

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LEVELS = ("bwrap", "process")

# Files a Python interpreter needs from /etc; the rest of /etc stays hidden.
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf",
              "passwd", "group", "hosts", "resolv.conf")
_SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin")
_NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """Resource limits of one worker process."""

    memory_mb: int = 6144
    file_size_mb: int = 64
    nproc: int = 512


@dataclass(frozen=True)
class Isolation:
    """The isolation level in force and a sentence for reports."""

    level: str
    description: str


DESCRIPTIONS = {
    "bwrap": "bubblewrap sandbox: no network, read-only system, only the submission visible, "
             "unprivileged user, resource limits",
    "process": "separate process with resource limits (bubblewrap not available: the file system "
               "is readable by the submission)",
}


@lru_cache(maxsize=1)
def bwrap_works() -> bool:
    """Whether ``bwrap`` exists and can create its namespaces here."""
    exe = shutil.which("bwrap")
    if exe is None:
        return False
    probe = [exe, "--unshare-all", "--die-with-parent", *_system_binds(), "--proc", "/proc",
             "--dev", "/dev", "--uid", str(_NOBODY), "--gid", str(_NOBODY), "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def choose(requested: str = "auto") -> Isolation:
    """The isolation to use: ``auto`` picks bwrap when it works, else process.

    Asking for ``bwrap`` where it does not work is an error, never a silent downgrade.
    """
    if requested == "auto":
        level = "bwrap" if bwrap_works() else "process"
    elif requested in LEVELS:
        level = requested
        if level == "bwrap" and not bwrap_works():
            raise RuntimeError("isolation 'bwrap' was requested but bubblewrap is not installed "
                               "or cannot create namespaces here (install the 'bubblewrap' package)")
    else:
        raise ValueError(f"unknown isolation {requested!r}; expected 'auto' or one of {LEVELS}")
    return Isolation(level, DESCRIPTIONS[level])


def _system_binds() -> list[str]:
    args = []
    for d in _SYSTEM_DIRS:
        if os.path.exists(d):
            args += ["--ro-bind", d, d]
    for name in _ETC_FILES:
        p = f"/etc/{name}"
        if os.path.exists(p):
            args += ["--ro-bind", p, p]
    return args


def _python_binds() -> list[str]:
    """The interpreter's installation(s), at the same paths so shebangs and RPATHs work."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    args = []
    for root in sorted(roots):
        if not any(root.startswith(d + "/") or root == d for d in _SYSTEM_DIRS):
            args += ["--ro-bind", root, root]
    return args


def _gpu_binds() -> list[str]:
    args = []
    for dev in sorted(Path("/dev").glob("nvidia*")):
        args += ["--dev-bind", str(dev), str(dev)]
    for p in ("/proc/driver/nvidia", "/usr/local/nvidia", "/usr/local/cuda"):
        if os.path.exists(p):
            args += ["--ro-bind", p, p]
    return args


SANDBOX_RUNTIME = "/grader"
SANDBOX_SUBMISSION = "/submission"


def command(isolation: Isolation, *, runtime_dir: Path, submission_dir: Path, package: str,
            threads: int, gpu: bool, provided: tuple[Path, ...] = ()) -> tuple[list[str], str]:
    """The argv that starts the worker, and the submission path as the worker sees it.

    ``provided``: folders of packages the student's code may import (reference
    versions of earlier projects); mounted read-only after the submission.
    """
    if isolation.level == "process":
        worker = str(runtime_dir / "worker.py")
        sub = str(submission_dir)
        prefix: list[str] = []
        provided_args = [a for p in provided for a in ("--provided", str(p))]
    else:
        worker = f"{SANDBOX_RUNTIME}/worker.py"
        sub = SANDBOX_SUBMISSION
        inside = [f"/provided/{i}" for i in range(len(provided))]
        provided_args = [a for p in inside for a in ("--provided", p)]
        prefix = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                  *_system_binds(), *_python_binds(), *(_gpu_binds() if gpu else []),
                  "--ro-bind", str(runtime_dir), SANDBOX_RUNTIME,
                  "--ro-bind", str(submission_dir), SANDBOX_SUBMISSION,
                  *[a for p, i in zip(provided, inside) for a in ("--ro-bind", str(p), i)],
                  "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                  "--uid", str(_NOBODY), "--gid", str(_NOBODY), "--chdir", "/tmp"]
    argv = [*prefix, os.path.realpath(sys.executable), "-I", "-B", worker,
            "--package", package, "--submission", sub, "--threads", str(threads), *provided_args]
    return argv, sub


def environment(threads: int) -> dict[str, str]:
    """A small, fixed environment: nothing of the grader's leaks in."""
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "MPLBACKEND": "Agg"}
    for key in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def preexec(limits: Limits, gpu: bool):
    """A function run in the child before exec: new session and resource limits."""

    def apply() -> None:
        os.setsid()
        mb = 1 << 20
        # RLIMIT_DATA caps heap and anonymous mappings but not shared libraries, so
        # importing torch fits; CUDA maps huge private regions, so GPU runs skip it.
        if not gpu:
            resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.nproc,) * 2)
        except (ValueError, OSError):
            pass  # some containers forbid changing it; bwrap's PID namespace still confines

    return apply
