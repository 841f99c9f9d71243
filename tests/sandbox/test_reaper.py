"""The subreaper that starts the worker outside bubblewrap (``runtime/reaper.py``).

It runs here with no cgroup of its own, so whatever dies, dies by its sweep alone.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.sandbox.runtime import reaper

REAPER = Path(reaper.__file__).resolve()

# Leaves a daemon behind (double fork, setsid, a new name), prints its pid, then ends as asked.
LEAVER = r'''
import os, sys, time
marker, end = sys.argv[1], sys.argv[2]
r, w = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)", marker])
    os._exit(0)
os.wait()
print(os.read(r, 32).decode(), flush=True)
if end == "exit":
    sys.exit(3)
if end == "hang":
    time.sleep(120)
'''


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _start(end: str, *options: str) -> tuple[subprocess.Popen, int]:
    marker = f"diffgrade-reaper-test-{secrets.token_hex(4)}"
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(REAPER), *options, "--",
                             sys.executable, "-I", "-c", LEAVER, marker, end],
                            stdout=subprocess.PIPE, text=True)
    daemon = int(proc.stdout.readline())
    assert _alive(daemon)
    return proc, daemon


def _cleanup(pid: int) -> None:
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)  # ours: a daemon this test started


def test_daemon_dies_when_the_worker_exits():
    """Does a double-forked, setsid() daemon die before the reaper exits, with the worker's exit code?"""
    proc, daemon = _start("exit")
    try:
        assert proc.wait(timeout=30) == 3
        assert not _alive(daemon)
    finally:
        _cleanup(daemon)


def test_stopping_the_reaper_kills_worker_and_daemon():
    """Does SIGTERM to the reaper (what the grader sends) end the hanging worker and its daemon?"""
    proc, daemon = _start("hang")
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGKILL
        assert not _alive(daemon)
        assert reaper.descendants(proc.pid) == []
    finally:
        _cleanup(daemon)


def test_protocol_pipes_close_with_the_worker():
    """Does the grader see EOF on the worker's stdout as soon as the worker ends (the reaper holds no copy)?"""
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(REAPER), "--", sys.executable, "-I", "-c",
                             "print('bye')"], stdout=subprocess.PIPE, text=True)
    start = time.monotonic()
    assert proc.stdout.read() == "bye\n" and proc.wait(timeout=30) == 0
    assert time.monotonic() - start < 30


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another user needs root")
def test_worker_runs_as_nobody_with_one_capability():
    """As root: does the worker run as nobody, no groups, no_new_privs, and only CAP_DAC_READ_SEARCH?"""
    code = ("import os; s = open('/proc/self/status').read().splitlines();"
            "print(os.getuid(), os.getgid(), os.getgroups(), *[l for l in s if l.startswith(('CapEff', 'CapAmb', "
            "'NoNewPrivs'))], sep='|')")
    out = subprocess.run([sys.executable, "-I", "-S", str(REAPER), "--uid", "65534", "--gid", "65534",
                          "--read-all", "--", sys.executable, "-I", "-c", code],
                         capture_output=True, text=True, timeout=60)
    uid, gid, groups, *caps = out.stdout.strip().split("|")
    assert (uid, gid, groups) == ("65534", "65534", "[]"), out.stderr
    fields = dict(line.split(":\t") for line in caps)
    assert int(fields["CapEff"], 16) == int(fields["CapAmb"], 16) == 1 << reaper.CAP_DAC_READ_SEARCH
    assert fields["NoNewPrivs"] == "1"


def test_the_thread_that_started_it_may_end():
    """Does the worker live on when the grader's thread that started it ends (PR_SET_PDEATHSIG fires per thread)?"""
    import threading

    started = {}

    def start():
        started["both"] = _start("hang", "--parent", str(os.getpid()))

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    proc, daemon = started["both"]
    try:
        time.sleep(0.5)
        assert proc.poll() is None and _alive(daemon)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGKILL and not _alive(daemon)
    finally:
        _cleanup(daemon)


def test_everything_goes_when_the_grader_dies():
    """When the grader's process dies, does the reaper sweep the worker and its daemon and go?"""
    grader = (f"import subprocess, sys, os; p = subprocess.Popen([sys.executable, '-I', '-S', {str(REAPER)!r}, "
              f"'--parent', str(os.getpid()), '--', sys.executable, '-I', '-c', {LEAVER!r}, 'diffgrade-reaper-test', "
              f"'hang'], stdout=subprocess.PIPE, text=True); print(p.pid, p.stdout.readline().strip(), flush=True); "
              f"os._exit(0)")
    out = subprocess.run([sys.executable, "-I", "-c", grader], capture_output=True, text=True, timeout=60)
    reaper_pid, daemon = (int(x) for x in out.stdout.split())
    try:
        end = time.monotonic() + 30
        while (_alive(reaper_pid) or _alive(daemon)) and time.monotonic() < end:
            time.sleep(0.05)
        assert not _alive(daemon) and not _alive(reaper_pid)
    finally:
        _cleanup(daemon)
