"""The GPU memory guard: driver reports, the process tree of a sandbox, and the kill.

No GPU is needed: the driver's report is faked, everything else is real.
"""

import os
import subprocess
import sys
import time

import pytest

from autograder.sandbox import isolation as iso
from autograder.sandbox.client import RUNTIME_DIR, Worker
from autograder.sandbox.errors import GpuMemoryExceeded
from autograder.sandbox.gpu_memory import (
    CONTEXT_ALLOWANCE_MB,
    GpuMemoryGuard,
    descendants,
    parse_compute_apps,
    query_nvidia_smi,
)
from tests.conftest import write_package

SLOW = '''
import time


def nap(seconds):
    time.sleep(seconds)
    return seconds
'''


def test_parse_compute_apps_sums_per_pid_and_skips_what_is_not_a_number():
    text = "1234, 512\n99, [N/A]\n1234, 100\n  7 ,  3 \nnot a line\n"
    assert parse_compute_apps(text) == {1234: 612, 7: 3}
    assert parse_compute_apps("") == {}


@pytest.fixture
def fake_nvidia_smi(tmp_path, monkeypatch):
    """Put an ``nvidia-smi`` on PATH that prints ``report`` and exits with ``code``."""
    def install(report: str, code: int = 0):
        exe = tmp_path / "bin" / "nvidia-smi"
        exe.parent.mkdir(exist_ok=True)
        exe.write_text(f"#!/bin/sh\nprintf '{report}'\nexit {code}\n")
        exe.chmod(0o755)
        monkeypatch.setenv("PATH", f"{exe.parent}:{os.environ['PATH']}")
    return install


def test_query_reads_the_driver_report(fake_nvidia_smi):
    fake_nvidia_smi("42, 2048\\n43, 10\\n")
    assert query_nvidia_smi() == {42: 2048, 43: 10}


def test_query_is_none_when_the_driver_fails_or_is_missing(fake_nvidia_smi, monkeypatch, tmp_path):
    fake_nvidia_smi("NVIDIA-SMI has failed", code=9)
    assert query_nvidia_smi() is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert query_nvidia_smi() is None


def test_descendants_holds_children_and_grandchildren_only():
    proc = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        deadline = time.monotonic() + 10
        while len(descendants(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        tree = descendants(proc.pid)
        assert proc.pid in tree and len(tree) == 3  # sh and its two sleeps
        assert os.getpid() not in tree and os.getppid() not in tree
    finally:
        subprocess.run(["pkill", "-P", str(proc.pid)])
        proc.kill()
        proc.wait()


def test_guard_counts_only_the_tree_and_compares_with_limit_plus_allowance():
    me = os.getpid()
    reports = [{me: 100 + CONTEXT_ALLOWANCE_MB, 1: 10**6}, {me: 101 + CONTEXT_ALLOWANCE_MB}]
    guard = GpuMemoryGuard(limit_mb=100, query=lambda: reports.pop(0), interval_s=0.0)
    assert guard.over_limit(me) is None  # at the limit, and pid 1 is not ours
    assert guard.over_limit(me) == 101 + CONTEXT_ALLOWANCE_MB


def test_guard_asks_the_driver_at_most_once_per_interval():
    calls = []
    guard = GpuMemoryGuard(limit_mb=1, query=lambda: calls.append(1) or {}, interval_s=60.0)
    for _ in range(5):
        assert guard.over_limit(os.getpid()) is None
    assert len(calls) == 1


def test_guard_without_a_report_never_fires():
    guard = GpuMemoryGuard(limit_mb=1, query=lambda: None, interval_s=0.0)
    assert guard.over_limit(os.getpid()) is None


@pytest.mark.parametrize("level", ["process", "bwrap"])
def test_worker_over_its_gpu_memory_is_killed_and_the_next_call_gets_a_fresh_one(tmp_path, level):
    if level == "bwrap" and not iso.bwrap_works():
        pytest.skip("bubblewrap cannot create namespaces here")
    sub = write_package(tmp_path / "sub", SLOW)
    hog = {"on": False}
    worker: Worker | None = None

    def report():  # the driver's view: the worker's own process holds 5000 MiB while hog is on
        return {worker._proc.pid: 5000} if hog["on"] and worker._proc else {}

    guard = GpuMemoryGuard(limit_mb=256, query=report, interval_s=0.1, allowance_mb=0)
    with Worker(package="p1_forward", submission_dir=sub, isolation=iso.choose(level), call_timeout=30,
                startup_timeout=60, gpu_guard=guard) as worker:
        worker.handshake()
        hog["on"] = True
        start = time.monotonic()
        with pytest.raises(GpuMemoryExceeded, match=r"nap\(\) held 5000 MiB .* limit of 256 MiB"):
            worker.call("nap", 20)
        assert time.monotonic() - start < 10  # stopped by the guard, long before the nap or the timeout
        hog["on"] = False
        assert worker.call("nap", 0) == 0
        assert worker.starts == 2


def test_gpu_worker_is_started_with_the_allocator_cap(tmp_path):
    argv, _ = iso.command(iso.choose("process"), runtime_dir=tmp_path, submission_dir=tmp_path, package="p",
                          threads=1, gpu=True, limits=iso.Limits(gpu_memory_mb=2048))
    assert argv[-2:] == ["--gpu-memory-mb", "2048"]
    argv, _ = iso.command(iso.choose("process"), runtime_dir=tmp_path, submission_dir=tmp_path, package="p",
                          threads=1, gpu=False, limits=iso.Limits(gpu_memory_mb=2048))
    assert "--gpu-memory-mb" not in argv


def test_worker_accepts_the_cap_without_a_gpu(tmp_path):
    """On a machine without CUDA the cap is a no-op, never an error at startup."""
    sub = write_package(tmp_path / "sub", SLOW)
    out = subprocess.run([sys.executable, "-I", str(RUNTIME_DIR / "worker.py"), "--package", "p1_forward",
                          "--submission", str(sub), "--gpu-memory-mb", "64"],
                         input=b"", capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
