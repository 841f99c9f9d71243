"""The worker's first process where there is no PID namespace: it outlives the worker and
kills every process the worker left behind before it exits.

``python -I -S reaper.py [--parent PID] [--uid U --gid G [--read-all]] -- ARGV...`` makes itself a
child subreaper (``PR_SET_CHILD_SUBREAPER``), so a process of the sandbox whose parent
dies, a daemon that double-forks and ``setsid()``s, is re-parented to it and not to the
machine's init: every process of the sandbox stays its descendant. It then starts ARGV
(the worker) and waits. When the worker exits, or when the grader asks it to stop
(SIGTERM) or its process ``PID`` dies (``PR_SET_PDEATHSIG``), it SIGKILLs all its descendants, reaps them,
and only then exits, with the worker's status. So the grader, which waits for this
process, writes no result while a process of the submission still runs.

It is a process of its own, not the grader, because a subreaper inherits and must reap
every orphan below it: in the grader, that wait would steal the exit status of the
grader's other children (the batch's subprocesses, ``multiprocessing`` pools).

With ``--uid``/``--gid`` (a root grader) the worker runs as that user, with no
supplementary groups, and ``no_new_privs``. ``--read-all`` keeps it one capability,
CAP_DAC_READ_SEARCH: the grader's environment and its scratch folders may lie where
only root may look (``/root/.pyenv``, folders made by ``mkdtemp``); Landlock, applied
by the worker before any student code, is what decides what it reads. That capability
gives no write, no signal and no ptrace: the grader's files stay unwritable, its
processes unreachable, its ``/proc/<pid>/environ`` and ``mem`` refused. This process
itself stays root: the worker, another user, cannot signal it.

It imports nothing from ``autograder`` (it runs from the worker's runtime folder).
"""

import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG, PR_SET_KEEPCAPS, PR_CAPBSET_DROP = 1, 8, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 36, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE = 47, 2
CAP_DAC_READ_SEARCH = 2
_CAP_VERSION_3 = 0x20080522
SWEEP_S = 10.0

_libc = ctypes.CDLL(None, use_errno=True)


class _Stop(Exception):
    pass


def _prctl(*args) -> None:
    if _libc.prctl(*[ctypes.c_ulong(a) for a in args], *[ctypes.c_ulong(0)] * (5 - len(args))) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl{args}: {os.strerror(err)}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _keep_only(cap: int) -> None:
    """Effective, permitted, inheritable and ambient capabilities: ``cap`` alone (survives exec)."""
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = data[0].inheritable = 1 << cap
    if _libc.capset(ctypes.byref(_CapHeader(_CAP_VERSION_3, 0)), data) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)


def _drop(uid: int, gid: int, read_all: bool) -> None:
    """Become ``uid``:``gid`` for good (in the child, before exec)."""
    try:
        last = int(open("/proc/sys/kernel/cap_last_cap").read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):  # no file capability can bring any other back after exec
        if not (read_all and cap == CAP_DAC_READ_SEARCH):
            try:
                _prctl(PR_CAPBSET_DROP, cap)
            except OSError:
                pass
    if read_all:
        _prctl(PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if read_all:
        _keep_only(CAP_DAC_READ_SEARCH)


def _children() -> dict[int, list[tuple[int, bytes]]]:
    """Parent pid -> [(pid, state)] for every process visible in /proc."""
    kids: dict[int, list[tuple[int, bytes]]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append((int(name), fields[0]))
    return kids


def descendants(root: int) -> list[tuple[int, bytes]]:
    """Every process below ``root``, with its state (``b"Z"``: a zombie)."""
    kids, out, stack = _children(), [], [root]
    while stack:
        for pid, state in kids.get(stack.pop(), []):
            out.append((pid, state))
            stack.append(pid)
    return out


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _kill(pid: int, tree: set[int]) -> None:
    """SIGKILL ``pid`` through a pidfd, once it is sure the pid still names a process of the tree."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        if int(stat[stat.rfind(b")") + 2:].split()[1]) in tree:  # not a stranger that reused the pid
            signal.pidfd_send_signal(fd, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass
    finally:
        os.close(fd)


def sweep(timeout_s: float = SWEEP_S) -> int:
    """Kill and reap every descendant; the number still there at the deadline (0: all gone)."""
    me, end = os.getpid(), time.monotonic() + timeout_s
    while True:
        _reap()
        below = descendants(me)
        if not below or time.monotonic() > end:
            return len(below)
        tree = {me, *(pid for pid, _ in below)}
        for pid, state in below:
            if state != b"Z":
                _kill(pid, tree)
        time.sleep(0.005)


def _stop(signum, frame):
    raise _Stop


def _parent_gone(parent: int):
    """SIGHUP from ``PR_SET_PDEATHSIG`` comes when the *thread* that started us ends; only a
    new parent (the grader's process itself gone) means stop."""
    def handler(signum, frame):
        if os.getppid() != parent:
            raise _Stop
    return handler


def main(argv: list[str]) -> None:
    uid = gid = None
    read_all = False
    parent = os.getppid()
    while argv and argv[0] != "--":
        flag = argv.pop(0)
        if flag == "--parent":
            parent = int(argv.pop(0))
        elif flag == "--uid":
            uid = int(argv.pop(0))
        elif flag == "--gid":
            gid = int(argv.pop(0))
        elif flag == "--read-all":
            read_all = True
        else:
            sys.exit(f"reaper: unknown option {flag}")
    command = argv[1:]
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    signal.signal(signal.SIGHUP, _parent_gone(parent))
    _prctl(PR_SET_PDEATHSIG, signal.SIGHUP)
    if os.getppid() != parent:  # the grader died before it could be told
        return _finish(None)
    worker = os.fork()
    if worker == 0:
        try:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(sig, signal.SIG_DFL)
            if uid is not None:
                _drop(uid, uid if gid is None else gid, read_all)
            _prctl(PR_SET_NO_NEW_PRIVS, 1)
            os.execv(command[0], command)
        except BaseException as e:  # noqa: BLE001 - any failure before exec ends the child
            os.write(2, f"reaper: cannot start the worker: {e}\n".encode())
        os._exit(127)
    null = os.open(os.devnull, os.O_RDWR)  # the protocol pipes belong to the worker alone: EOF when it dies
    os.dup2(null, 0)
    os.dup2(null, 1)
    status = None
    try:
        while status is None:
            pid, st = os.waitpid(-1, 0)
            if pid == worker:
                status = st
    except (_Stop, ChildProcessError):
        pass
    _finish(status)


def _finish(status) -> None:
    """Sweep, then exit as the worker ended (killed by a signal: the same signal)."""
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    left = sweep()
    if left:
        os.write(2, f"reaper: {left} process(es) of the sandbox survived the sweep\n".encode())
    if status is None or os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status) if status is not None else signal.SIGKILL
        if sig != signal.SIGKILL:
            signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)  # the grader sees the worker's own end (-9, ...)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
