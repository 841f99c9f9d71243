"""Resuming a batch killed with ``kill -9`` half way, through the command line."""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.batch.conftest import DEADLINE


def command(submissions: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "autograder.batch.cli", "batch", "p1", str(submissions), "-o", str(out),
            "--workers", str(workers), "--device", "cpu", "--isolation", "process", "--deadline", DEADLINE]


def graders_of(out: Path) -> list[int]:
    """Pids of grading processes still working for ``out`` (read from /proc, never signalled)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"worker_main" in cmdline and str(out).encode() in cmdline:
            pids.append(int(proc.name))
    return pids


def test_resume_after_kill_9_gives_the_same_gradebook(toy_batch, tmp_path):
    """Killed with SIGKILL after its first result and started again, does the batch keep what was
    finished, redo the interrupted submission, and write a gradebook byte-identical to an
    uninterrupted run?"""
    course, submissions, reference = toy_batch
    out = tmp_path / "out"
    env = dict(os.environ, DIFFGRADE_COURSE=str(course))
    first = subprocess.Popen(command(submissions, out, 1), env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    give_up = time.monotonic() + 90
    while not list(out.glob("submissions/*/done.json")):
        assert first.poll() is None, first.stdout.read().decode()
        assert time.monotonic() < give_up, "no result within 90 s"
        time.sleep(0.02)
    first.kill()
    first.wait()
    first.stdout.close()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/done.json")}
    assert 1 <= len(finished) < 4 and not (out / "gradebook.csv").exists()

    give_up = time.monotonic() + 20  # the kernel stops the orphaned grader (PR_SET_PDEATHSIG)
    while graders_of(out) and time.monotonic() < give_up:
        time.sleep(0.1)
    assert graders_of(out) == []

    second = subprocess.run(command(submissions, out, 2), env=env, capture_output=True, text=True, timeout=150)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{len(finished)} already graded, {4 - len(finished)} to grade" in second.stdout
    for sid, mtime in finished.items():
        assert (out / "submissions" / sid / "done.json").stat().st_mtime_ns == mtime, f"{sid} was graded again"
    assert (out / "gradebook.csv").read_bytes() == reference.gradebook.read_bytes()
    assert (out / "summary.md").read_bytes() == reference.summary.read_bytes()
