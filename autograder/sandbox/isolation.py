"""How the worker process is confined.

Two levels, the strongest available chosen by default:

* ``bwrap``: bubblewrap with every namespace unshared (no network), a read-only
  view of only the interpreter and system libraries, the submission read-only,
  a private ``/tmp``, an unprivileged user; nothing of the course (hidden tests,
  solutions, results) is mounted.
* ``process``: a plain subprocess in its own session with resource limits.
  It runs as the grader's user: the file system stays readable (and writable
  where the grader's is), and it may signal the grader's processes, so reports
  say this level is weaker. It keeps the score honest, not the course secret.

Both apply the same resource limits (data size, file size, core dumps, number of
processes). The number of processes and, on the CPU, the memory of the whole
sandbox are also capped by a cgroup of its own wherever the grader may create
one (``pids`` and ``memory`` controllers): RLIMIT_NPROC alone does not hold for
root, whose processes the kernel never counts against it.
"""

import atexit
import itertools
import os
import resource
import shutil
import subprocess
import sys
import time
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
    nproc: int = 512   # processes and threads of the sandbox, on top of those the user already has
    tmp_mb: int = 512  # each writable tmpfs of the bwrap sandbox (/tmp, /dev/shm): they live in RAM
    gpu_memory_mb: int = 16384  # on a GPU: the worker's allocator cap, and the guard's (gpu_memory.py)


@dataclass(frozen=True)
class Isolation:
    """The isolation level in force and a sentence for reports."""

    level: str
    description: str


DESCRIPTIONS = {
    "bwrap": "bubblewrap sandbox: no network, read-only system, only the submission visible, "
             "unprivileged user, resource limits",
    "process": "separate process with resource limits (bubblewrap not available: the submission runs as "
               "the grader's user and can read and write what the grader can)",
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


@lru_cache(maxsize=1)
def _bwrap_sizes_tmpfs() -> bool:
    """Whether this bwrap has ``--size`` (0.8 and later) to cap a tmpfs."""
    try:
        out = subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in out.stdout + out.stderr


def _tmpfs(dest: str, limits: Limits) -> list[str]:
    size = ["--size", str(limits.tmp_mb << 20)] if _bwrap_sizes_tmpfs() else []
    return [*size, "--tmpfs", dest]


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


def python_executable() -> str:
    """The grader's interpreter as it was started, symlinks kept.

    A venv's ``bin/python`` is a symlink to the base interpreter, and Python finds
    its venv (``pyvenv.cfg``) from the path it was started by: resolving the link
    would start the worker outside the grader's environment, without its packages.
    """
    return sys.executable


def _python_roots() -> list[str]:
    """Folders holding the grader's Python environment: the venv or conda env, its base
    interpreter, and every folder a link on the way to the interpreter passes through."""
    roots = set()
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        roots.update({os.path.abspath(p), os.path.realpath(p)})
    exe = python_executable()
    for _ in range(40):  # follow the chain of links hop by hop: each hop's folder must be visible
        roots.add(str(Path(os.path.abspath(exe)).parent.parent))
        if not os.path.islink(exe):
            break
        exe = os.path.join(os.path.dirname(exe), os.readlink(exe))
    roots.add(str(Path(os.path.realpath(python_executable())).parent.parent))
    roots.update(_libpython_dirs())
    return sorted(roots)


def _libpython_dirs() -> set[str]:
    """Folders of the libpython this interpreter runs on. A relocated environment's
    interpreter may find it by an absolute RPATH outside the environment; hidden, the
    loader would pick the system's libpython instead, with another ``site`` frozen in it."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rstrip("\n").split(maxsplit=5)[-1]
                if os.path.basename(path).startswith("libpython"):
                    found.add(os.path.dirname(os.path.realpath(path)))
    except OSError:
        pass
    return found


def _python_binds() -> list[str]:
    """The interpreter's installation(s), at the same paths so shebangs, RPATHs and venv links work.

    Made after the sandbox's own ``/tmp``, so an environment under ``/tmp`` is not hidden by it.
    """
    args = []
    kept: list[str] = []
    for root in _python_roots():  # sorted: a parent comes before its children, which it covers
        if any(root == d or root.startswith(d + "/") for d in (*_SYSTEM_DIRS, *kept)) or root == "/":
            continue
        if os.path.isdir(root):
            args += ["--ro-bind", root, root]
            kept.append(root)
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
            threads: int, gpu: bool, provided: tuple[Path, ...] = (),
            limits: Limits = Limits()) -> tuple[list[str], str]:
    """The argv that starts the worker, and the submission path as the worker sees it.

    ``provided``: folders of packages the student's code may import (reference
    versions of earlier projects); mounted read-only after the submission.
    ``limits.tmp_mb`` sizes the sandbox's /tmp and /dev/shm.
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
                  *_system_binds(),
                  "--ro-bind", str(runtime_dir), SANDBOX_RUNTIME,
                  "--ro-bind", str(submission_dir), SANDBOX_SUBMISSION,
                  *[a for p, i in zip(provided, inside) for a in ("--ro-bind", str(p), i)],
                  "--proc", "/proc", "--dev", "/dev",
                  # After /proc and /dev: bwrap mounts in order, so binds made before
                  # them under /dev (the GPU's nodes) or /proc (its driver) were hidden.
                  *(_gpu_binds() if gpu else []),
                  # Every tmpfs lives in RAM and bwrap makes them half of it by default: a
                  # student writing files could fill the machine's memory. /tmp and /dev/shm
                  # get a size; the root and /dev themselves become read-only.
                  *_tmpfs("/dev/shm", limits), *_tmpfs("/tmp", limits),
                  *_python_binds(),  # after /tmp: an environment there stays visible
                  "--remount-ro", "/dev", "--remount-ro", "/",
                  "--uid", str(_NOBODY), "--gid", str(_NOBODY), "--chdir", "/tmp"]
    argv = [*prefix, python_executable(), "-I", "-B", worker,
            "--package", package, "--submission", sub, "--threads", str(threads), *provided_args]
    if gpu and limits.gpu_memory_mb:
        argv += ["--gpu-memory-mb", str(limits.gpu_memory_mb)]
    return argv, sub


def environment(threads: int, tmp: str = "/tmp") -> dict[str, str]:
    """A small, fixed environment: nothing of the grader's leaks in.

    ``tmp`` becomes HOME and TMPDIR: the sandbox's own /tmp under bubblewrap, a
    folder the grader removes with the worker at the process level (else files the
    student's code or the hidden tests write there would pile up in the machine's /tmp).
    """
    env = {"PATH": "/usr/bin:/bin", "HOME": tmp, "TMPDIR": tmp, "LANG": "C.UTF-8",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "MPLBACKEND": "Agg"}
    for key in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


# -- processes and memory of the whole sandbox -------------------------------------------------
#
# RLIMIT_NPROC counts every process and thread of the worker's real user, not of the
# sandbox, and the kernel does not enforce it at all for root (uid 0 outside any user
# namespace, which is what bwrap maps the sandbox's user to when the grader is root).
# So the limit is set at spawn time to the user's current count plus ``Limits.nproc``
# (right for other users), and where the grader may create cgroups the sandbox gets
# its own: ``pids.max`` bounds its processes whoever runs it, and ``memory`` bounds
# the sum over all its processes (RLIMIT_DATA is per process, so a fork multiplies it)
# and its tmpfs files.

_CGROUP_PREFIX = "diffgrade-"
_CGROUP_STALE_S = 60.0  # an empty sandbox cgroup older than this is left over; removed
_cgroup_counter = itertools.count()
_cgroups_made: list[Path] = []  # by this process, not yet removed


def _tasks_of(uid: int) -> int:
    """Processes and threads whose real user is ``uid``, as RLIMIT_NPROC counts them."""
    n = 0
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return 0
    for pid in pids:
        real_uid, threads = None, 1
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("Uid:"):
                        real_uid = int(line.split()[1])
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if real_uid == uid:
            n += threads
    return n


@lru_cache(maxsize=1)
def _cgroup_parents() -> dict[str, Path]:
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


def _sweep_cgroups(parent: Path) -> None:
    """Remove empty sandbox cgroups left over (rmdir fails on a cgroup that still has tasks)."""
    try:
        old = [d for d in parent.glob(_CGROUP_PREFIX + "*") if time.time() - d.stat().st_mtime > _CGROUP_STALE_S]
    except OSError:
        return
    for d in old:
        try:
            d.rmdir()
        except OSError:
            pass


def _remove_own_cgroups(min_age_s: float = 0.0) -> None:
    """Remove the empty ones among the cgroups this process made (at exit, and before making more).

    ``min_age_s`` spares young ones: another thread's worker may not have joined its own yet.
    """
    for d in list(_cgroups_made):
        try:
            if min_age_s and time.time() - d.stat().st_mtime < min_age_s:
                continue
            d.rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            continue  # still has tasks: the next sweep takes it
        _cgroups_made.remove(d)


atexit.register(_remove_own_cgroups)


def _sandbox_cgroups(limits: Limits, gpu: bool) -> list[Path]:
    """Fresh cgroups capping the next sandbox; its first process joins them in ``preexec``."""
    made = []
    name = f"{_CGROUP_PREFIX}{os.getpid()}-{next(_cgroup_counter)}"
    # The memory cap leaves room for both tmpfs and the interpreter around the per-process
    # RLIMIT_DATA, so a single process still meets RLIMIT_DATA (a MemoryError) first.
    settings = {"pids": {"pids.max": limits.nproc}}
    if not gpu:  # as with RLIMIT_DATA: CUDA maps and pins memory on its own terms
        mem = (limits.memory_mb + 2 * limits.tmp_mb + 512) << 20
        settings["memory"] = {"memory.limit_in_bytes": mem, "memory.max": mem}
    for controller, parent in _cgroup_parents().items():
        if controller not in settings:
            continue
        _sweep_cgroups(parent)
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
            made.append(folder)
        else:
            folder.rmdir()
    _remove_own_cgroups(min_age_s=10.0)  # those of workers already gone
    _cgroups_made.extend(made)
    return made


def preexec(limits: Limits, gpu: bool):
    """A function run in the child before exec: new session, own cgroups and resource limits.

    Called in the parent, it prepares what the child needs (cgroups, the process count).
    """
    cgroups = _sandbox_cgroups(limits, gpu)
    nproc = _tasks_of(os.getuid()) + limits.nproc

    def apply() -> None:
        os.setsid()
        for folder in cgroups:  # join before exec: bwrap and everything it starts stay inside
            try:
                with open(folder / "cgroup.procs", "w") as f:
                    f.write(str(os.getpid()))
            except OSError:
                pass
        mb = 1 << 20
        # RLIMIT_DATA caps heap and anonymous mappings but not shared libraries, so
        # importing torch fits; CUDA maps huge private regions, so GPU runs skip it.
        if not gpu:
            resource.setrlimit(resource.RLIMIT_DATA, (limits.memory_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb * mb,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (nproc,) * 2)
        except (ValueError, OSError):
            pass  # some containers forbid changing it; the pids cgroup still confines

    return apply
