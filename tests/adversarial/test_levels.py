"""The escapes of ``test_escape`` at every level that claims to stop them (``STOPPED_AT`` in conftest).

Toy workers, no P1: one hostile call looks, from inside, for every way out to the
grader (its environment through /proc, signals to it, TCP to this machine, an abstract
unix socket it listens on, its files), and the grader checks from outside that none
worked. Processes left behind must be gone when the worker is, at every level.
"""

import os
import secrets

import pytest

from autograder.sandbox import cgroups
from tests.adversarial.conftest import at_levels, host_listeners, toy_worker
from tests.adversarial.test_escape import DAEMON, _gone_soon, _processes_named

PROBES = '''
import os
import signal
import socket


def scale(x, factor):
    return x * factor


def _ancestors():
    found, pid = [], os.getppid()
    while pid > 1 and len(found) < 64:
        found.append(pid)
        try:
            with open(f"/proc/{pid}/status") as f:
                pid = int(next(line for line in f if line.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            break
    return found


def _try(fn):
    try:
        value = fn()
        return value if isinstance(value, str) else "ok"
    except OSError as e:
        return f"{type(e).__name__}: {e.errno}"


def escape(port, abstract_name, victim):
    """Every way out at once; what each attempt gave."""
    out = {"ancestors": {}}
    for pid in _ancestors():
        out["ancestors"][str(pid)] = {
            "environ": _try(lambda: open(f"/proc/{pid}/environ", "rb").read().decode(errors="replace")),
            "mem": _try(lambda: open(f"/proc/{pid}/mem", "rb").read(1) and "ok"),
            "signal": _try(lambda: os.kill(pid, 0)),  # the permission check of a signal, without one
        }
    out["tcp"] = _try(lambda: socket.create_connection(("127.0.0.1", port), timeout=2).close())
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    out["abstract_unix"] = _try(lambda: unix.connect("\\0" + abstract_name))
    out["read_victim"] = _try(lambda: open(victim).read())
    out["write_victim"] = _try(lambda: open(victim, "w").write("pwned"))
    out["write_next_to_victim"] = _try(lambda: open(victim + ".new", "w").write("pwned"))
    return out
'''


@at_levels("escape_probes")
def test_the_grader_is_out_of_reach(tmp_path, monkeypatch, level):
    """Do /proc/<grader>/environ and mem, signals to the grader, TCP, abstract sockets and the grader's files
    all stay out of reach?"""
    secret = secrets.token_hex(16)
    monkeypatch.setenv("DIFFGRADE_ADVERSARIAL_SECRET", secret)
    victim = tmp_path / "course" / "solutions.py"
    victim.parent.mkdir()
    victim.write_text("SAFE = True\n")
    with host_listeners() as (port, name):
        with toy_worker(tmp_path / "sub", PROBES, level=level, call_timeout=20) as (student, _):
            out = student.escape(port, name, str(victim))
        for pid, seen in out["ancestors"].items():
            assert secret not in seen["environ"] and not seen["environ"].startswith(("ok", "PATH")), (pid, seen)
            assert seen["mem"] != "ok" and seen["signal"] != "ok", (pid, seen)
        if level == "landlock":
            assert os.getpid() in {int(p) for p in out["ancestors"]}  # it saw the grader, and could not touch it
        for attempt in ("tcp", "abstract_unix", "read_victim", "write_victim", "write_next_to_victim"):
            assert out[attempt] != "ok" and out[attempt] != "SAFE = True\n", (attempt, out[attempt])
    assert victim.read_text() == "SAFE = True\n" and not victim.with_name("solutions.py.new").exists()


@at_levels("daemon_probe")
def test_processes_left_behind_die_with_the_worker(tmp_path, level):
    """Does a daemon (double fork, setsid) die with its worker, whether it is closed or killed at a timeout?"""
    marker = f"diffgrade-adversarial-daemon-{secrets.token_hex(6)}"
    with toy_worker(tmp_path / "sub", DAEMON, level=level, call_timeout=2) as (student, _):
        assert student.daemon(marker) == "left behind"
        assert _processes_named(marker)  # it runs, outside the worker's process group
        with pytest.raises(Exception, match="did not return"):
            student.spin()  # the timeout kills the worker...
        assert _gone_soon(marker)  # ...and the daemon with it
        assert student.daemon(marker) == "left behind"
    leftover = _processes_named(marker)
    for pid in leftover:  # ours: started by this test under a unique name
        os.kill(pid, 9)
    assert leftover == []  # gone as close() returns, before any result could be written


@pytest.mark.parametrize("level", ["landlock", "process"])
def test_the_subreaper_alone_sweeps_daemons(tmp_path, monkeypatch, level):
    """Without any cgroup (a machine that lends none), is a daemon still gone once close() returns?"""
    from tests.conftest import isolation_works

    if not isolation_works(level):
        pytest.skip(f"isolation {level!r} does not work on this machine")
    monkeypatch.setattr(cgroups, "for_sandbox", lambda limits, gpu: [])
    marker = f"diffgrade-adversarial-daemon-{secrets.token_hex(6)}"
    with toy_worker(tmp_path / "sub", DAEMON, level=level, call_timeout=2) as (student, worker):
        assert worker._cgroups == []
        assert student.daemon(marker) == "left behind" and _processes_named(marker)
    try:
        assert _processes_named(marker) == []
    finally:
        for pid in _processes_named(marker):  # ours: started by this test under a unique name
            os.kill(pid, 9)
