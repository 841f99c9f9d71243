"""The Landlock module of the worker (``runtime/landlock.py``) and the rules the grader gives it.

A child process restricts itself with rules for folders under ``tmp_path`` and then
tries what a hostile submission would: read and write outside them, connect over TCP
to a server this test runs, signal this test's process. Each attempt is first shown
to work without the restriction, so a refusal is Landlock's doing.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import environment
from autograder.sandbox.levels import landlock as level
from autograder.sandbox.levels.base import Launch
from autograder.sandbox.runtime import landlock
from tests.conftest import REPO

RUNTIME = Path(landlock.__file__).resolve().parent

pytestmark = pytest.mark.skipif(landlock.abi() < 1, reason="this kernel offers no Landlock")

CHILD = r'''
import json, os, signal, socket, sys
sys.path.insert(0, sys.argv[1])
import landlock
spec = json.loads(sys.argv[2])
report = landlock.restrict(spec["read"], spec["write"], spec.get("devices", ()), version=spec.get("version")) \
    if spec["restrict"] else {}
out = {"report": report}

def attempt(name, fn):
    try:
        fn()
        out[name] = "ok"
    except OSError as e:
        out[name] = e.errno

attempt("read_inside", lambda: open(spec["inside"] + "/data.txt").read())
attempt("read_outside", lambda: open(spec["outside"] + "/secret.txt").read())
attempt("list_outside", lambda: os.listdir(spec["outside"]))
attempt("write_scratch", lambda: open(spec["scratch"] + "/new.txt", "w").write("x"))
attempt("write_outside", lambda: open(spec["outside"] + "/new.txt", "w").write("x"))
attempt("write_inside", lambda: open(spec["inside"] + "/new.txt", "w").write("x"))
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", spec["port"]), timeout=5).close())
attempt("signal_parent", lambda: os.kill(os.getppid(), 0))
print(json.dumps(out))
'''


@pytest.fixture
def server():
    """A TCP server on the loopback address: a child that may connect will reach it."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        s.listen(8)
        yield s.getsockname()[1]


def run_child(tmp_path: Path, port: int, restrict: bool, version: int | None = None) -> dict:
    inside, outside, scratch = (tmp_path / n for n in ("inside", "outside", "scratch"))
    for d in (inside, outside, scratch):
        d.mkdir(exist_ok=True)
    (inside / "data.txt").write_text("ok")
    (outside / "secret.txt").write_text("secret")
    for leftover in (outside / "new.txt", scratch / "new.txt", inside / "new.txt"):
        leftover.unlink(missing_ok=True)
    spec = {"read": [*environment.python_roots(), *environment.system_files(), str(RUNTIME), str(inside)],
            "write": [str(scratch)], "devices": ["/dev/null"], "restrict": restrict, "version": version,
            "inside": str(inside), "outside": str(outside), "scratch": str(scratch), "port": port}
    out = subprocess.run([sys.executable, "-I", "-c", CHILD, str(RUNTIME), json.dumps(spec)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_abi_is_detected_and_probed():
    """Does the module read the kernel's ABI, and does the grader's probe (a child restricting itself) agree?"""
    lsm = Path("/sys/kernel/security/lsm")
    if lsm.exists():
        assert "landlock" in lsm.read_text()
    assert landlock.abi() >= 1
    assert level.landlock_abi() == landlock.abi()


def test_what_each_abi_lacks_is_named():
    """Is every right of an ABI handled, and does an older ABI name what it cannot restrict?"""
    assert landlock.handled_fs(1) == (1 << 13) - 1
    assert landlock.handled_fs(3) & landlock.TRUNCATE and not landlock.handled_fs(3) & landlock.IOCTL_DEV
    assert landlock.handled_fs(7) == (1 << 16) - 1
    assert landlock.missing(6) == landlock.missing(7) == []
    assert any("TCP" in m for m in landlock.missing(3)) and any("signal" in m for m in landlock.missing(5))
    assert not any("TCP" in m for m in landlock.missing(4))
    assert landlock.missing(0) == ["Landlock is not available"]


def test_rules_name_the_environment_the_submission_and_the_scratch_only(tmp_path):
    """Do the grader's rules allow reading the environment, runtime, submission and provided packages,
    writing only the scratch folder, and nothing of the course?"""
    for d in ("runtime", "sub", "provided", "tmp"):
        (tmp_path / d).mkdir()
    launch = Launch(runtime_dir=tmp_path / "runtime", submission_dir=tmp_path / "sub", package="p", threads=1,
                    gpu=False, provided=(tmp_path / "provided",), tmp=str(tmp_path / "tmp"))
    rules = level.rules(launch)
    for path in (*environment.python_roots(), *(str(tmp_path / d) for d in ("runtime", "sub", "provided"))):
        assert path in rules["read"] or not os.path.exists(path), path
    assert rules["write"] == [str(tmp_path / "tmp")] and rules["devices"] == ["/dev/null"]
    for secret in (REPO / "solutions", REPO / "assignments", tmp_path):
        assert not any(str(secret) == r or str(secret).startswith(r.rstrip("/") + "/") for r in rules["read"]), secret
    with pytest.raises(ValueError, match="scratch"):
        level.rules(Launch(runtime_dir=tmp_path, submission_dir=tmp_path, package="p", threads=1, gpu=False))


def test_unrestricted_child_can_do_it_all(tmp_path, server):
    """Control: without Landlock the same child reads and writes everywhere, connects and signals."""
    out = run_child(tmp_path, server, restrict=False)
    for attempt in ("read_inside", "read_outside", "list_outside", "write_scratch", "write_outside",
                    "write_inside", "tcp", "signal_parent"):
        assert out[attempt] == "ok", (attempt, out)


def test_restricted_child_is_confined(tmp_path, server):
    """Restricted: it reads only inside its rules, writes only in its scratch, cannot connect or signal."""
    out = run_child(tmp_path, server, restrict=True)
    assert out["report"]["applied"] and out["report"]["abi"] == landlock.abi()
    assert out["read_inside"] == "ok" and out["write_scratch"] == "ok"
    assert out["read_outside"] == out["list_outside"] == out["write_outside"] == out["write_inside"] == 13
    if landlock.abi() >= 4:
        assert out["tcp"] == 13
    if landlock.abi() >= 6:
        assert out["signal_parent"] == 1  # EPERM: the test's process is outside the child's domain


def test_an_older_abi_restricts_files_and_says_what_it_lacks(tmp_path, server):
    """With the ABI capped at 3 (a 6.1 kernel), are files still confined, and TCP and signals left open and named?"""
    out = run_child(tmp_path, server, restrict=True, version=3)
    assert out["report"]["abi"] == 3 and not out["report"]["network"] and not out["report"]["scoped"]
    assert any("TCP" in m for m in out["report"]["missing"])
    assert out["read_outside"] == out["write_outside"] == 13 and out["write_scratch"] == "ok"
    assert out["tcp"] == "ok" and out["signal_parent"] == "ok"
