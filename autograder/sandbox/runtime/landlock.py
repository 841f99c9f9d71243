"""Landlock: the worker confines itself, unprivileged, before it imports the submission.

Landlock (Linux 5.13 and later) lets a process give up rights for good, for itself and
every process it starts. The worker calls ``restrict`` once, after importing torch and
before the student's package, with the folders of ``rules``; the grader builds them
(``autograder/sandbox/levels/landlock.py``) from what an honest worker needs:

Read (and execute) only:

* the grader's Python environment (the venv or conda env, the base interpreter's
  installation, every folder a link on the way to the interpreter passes through,
  and libpython's folder), wherever it lives, ``/tmp`` included: imports;
* the runtime folder (this file, the worker, the codec), the submission and the
  provided packages (reference code of earlier projects);
* ``/usr``, ``/bin``, ``/lib``, ``/lib64``, ``/sbin``: shared libraries and tools;
* in ``/etc`` only ``ld.so.cache``, ``ld.so.conf(.d)`` (the loader), ``localtime``,
  ``nsswitch.conf``, ``passwd``, ``group`` (user names), ``hosts``, ``resolv.conf``;
* ``/dev/urandom``, ``/dev/random``, ``/dev/zero``; ``/dev/null`` read and write;
* ``/proc``, read-only: the worker's own ``/proc/self`` (its fds, maps, status: torch
  and Python read them, in child processes too, whose pids are not known in advance)
  and the machine's ``cpuinfo``/``meminfo``/``stat``. The files of *other* processes
  that hold secrets (``environ``, ``mem``, ``fd/``, ``cwd``, ``root``, ``maps``) need
  ptrace access, which Landlock refuses towards any process outside the worker's own
  domain, whatever the user; as root the worker also runs as another user.
* ``/sys/devices/system/cpu`` and ``/sys/devices/system/node``: CPU count and
  topology (OpenMP, torch's cpuinfo);
* on a GPU: ``/dev/nvidia*`` (read, write, ioctl), ``/sys/bus/pci``, ``/sys/devices``,
  ``/usr/local/cuda``, ``/usr/local/nvidia``.

Write only in the worker's scratch folder (its HOME and TMPDIR), which the grader makes
and removes with the worker. Nothing else: not the submission, not ``/dev/shm`` (so
DataLoader workers and multiprocessing locks are not available; graded code runs with
``num_workers=0``), not the course, not the output folder.

TCP ``connect`` and ``bind`` are refused (ABI 4); signals to processes outside the
worker's domain and connections to abstract unix sockets bound outside it are refused
(ABI 6), so the worker can neither signal nor reach the grader.

Not covered by Landlock at any ABI: UDP and raw sockets, connecting to a *named* unix
socket, ``stat`` and ``readlink`` of paths outside the rules (names and sizes, not
contents). ``missing(abi)`` lists what an older kernel lacks on top of that.

This file imports nothing from ``autograder``: it runs inside the worker (loaded with
``_load_private``) and as ``python -I -S landlock.py --probe`` to test the kernel.
"""

import ctypes
import json
import os
import platform
import sys

_SYSCALLS = {"x86_64": (444, 445, 446), "aarch64": (444, 445, 446), "arm64": (444, 445, 446)}
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# File-system rights (include/uapi/linux/landlock.h), and the ABI that added each.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

_FS_BY_ABI = {1: (1 << 13) - 1, 2: REFER, 3: TRUNCATE, 5: IOCTL_DEV}
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the only ones a rule on a file may hold
READ = EXECUTE | READ_FILE | READ_DIR
WRITE = (1 << 16) - 1 & ~(MAKE_CHAR | MAKE_BLOCK | IOCTL_DEV)  # everything in the scratch folder but devices
DEVICE = READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV

# What each ABI adds that an older kernel lacks, as reports say it.
_MISSING = ((2, "files cannot be moved or linked between folders even in the scratch folder (ABI 2: refer)"),
            (3, "truncating files outside the scratch folder is not restricted (ABI 3: truncate)"),
            (4, "TCP connect and bind are not restricted (ABI 4)"),
            (5, "ioctl on devices is not restricted (ABI 5)"),
            (6, "signals and abstract unix sockets are not scoped: the worker can signal and reach processes "
                "of its own user, the grader's too unless it runs as another user (ABI 6)"))


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)) in the kernel's header
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class LandlockError(OSError):
    """Landlock is missing or refused a step; the worker must not run student code then."""


_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(index: int, *args) -> int:
    numbers = _SYSCALLS.get(platform.machine())
    if numbers is None:
        raise LandlockError(f"Landlock system call numbers unknown on {platform.machine()}")
    ret = _libc.syscall(ctypes.c_long(numbers[index]), *args)
    if ret < 0:
        err = ctypes.get_errno()
        raise LandlockError(err, os.strerror(err))
    return ret


def abi() -> int:
    """The Landlock ABI version the kernel offers; 0 where it has none (or it is disabled)."""
    try:
        return _syscall(0, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except LandlockError:
        return 0


def handled_fs(version: int) -> int:
    """Every file-system right the ABI ``version`` knows: all of them are refused unless a rule allows."""
    return sum(bits for v, bits in _FS_BY_ABI.items() if v <= version)


def missing(version: int) -> list[str]:
    """What the ABI ``version`` cannot restrict that ABI 6 can."""
    if version < 1:
        return ["Landlock is not available"]
    return [text for v, text in _MISSING if version < v]


def _attr(version: int) -> tuple[RulesetAttr, int]:
    attr = RulesetAttr(handled_fs(version), NET_BIND_TCP | NET_CONNECT_TCP if version >= 4 else 0,
                       SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24  # the struct grew with the ABI
    return attr, size


def _add(ruleset: int, path: str, rights: int, handled: int) -> bool:
    """Allow ``rights`` beneath ``path``; False when the path does not exist."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        if not os.path.isdir(f"/proc/self/fd/{fd}"):
            rights &= FILE_RIGHTS
        rule = PathBeneathAttr(rights & handled, fd)
        if rule.allowed_access:
            _syscall(1, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                     ctypes.c_uint32(0))
    finally:
        os.close(fd)
    return True


def restrict(read=(), write=(), devices=(), version: int | None = None) -> dict:
    """Confine this process (and all it starts) for good; returns what was applied, for the grader.

    ``read``: paths readable (and executable) beneath; ``write``: paths fully usable
    beneath (create, write, remove); ``devices``: device files usable (read, write, ioctl).
    ``version`` caps the ABI used (tests); by default the kernel's. Raises ``LandlockError``
    when the kernel has no Landlock or refuses: the caller must then not go on.
    """
    version = min(abi(), version or 1 << 30)
    if version < 1:
        raise LandlockError("the kernel offers no Landlock (Linux 5.13 or later, with lsm=landlock)")
    attr, size = _attr(version)
    handled = attr.handled_access_fs
    ruleset = _syscall(0, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    skipped = []
    try:
        for paths, rights in ((read, READ), (write, WRITE | READ), (devices, DEVICE)):
            for path in paths:
                if not _add(ruleset, path, rights, handled):
                    skipped.append(path)
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise LandlockError(err, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(err)}")
        _syscall(2, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)
    return {"applied": True, "abi": version, "kernel_abi": abi(), "missing": missing(version),
            "network": version >= 4, "scoped": version >= 6, "not_found": skipped}


def probe() -> int:
    """Restrict this process to nothing and check the kernel enforces it; the ABI, 0 if not."""
    try:
        report = restrict()
    except LandlockError:
        return 0
    try:
        os.listdir("/")
    except PermissionError:
        return report["abi"]
    return 0


if __name__ == "__main__" and sys.argv[1:] == ["--probe"]:
    print(json.dumps({"abi": probe()}))
