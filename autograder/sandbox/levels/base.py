"""What every isolation level provides: whether it works here, how it starts the worker,
and the sentence that goes into every report."""

import os
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import environment
from autograder.sandbox.limits import Limits


@dataclass(frozen=True)
class Launch:
    """One start of the worker, whatever the level.

    ``provided``: folders of packages the student's code may import (reference versions
    of earlier projects). ``tmp``: the worker's HOME and TMPDIR where the level has no
    private /tmp of its own (a folder the grader makes and removes with the worker).
    """

    runtime_dir: Path
    submission_dir: Path
    package: str
    threads: int
    gpu: bool
    provided: tuple[Path, ...] = ()
    limits: Limits = Limits()
    tmp: str | None = None


class Level:
    """One way of confining the worker."""

    name = ""
    private_tmp = False  # the sandbox has a /tmp of its own, so HOME and TMPDIR are "/tmp"
    reaper = False  # its first process is runtime/reaper.py: SIGTERM makes it kill the whole sandbox

    def works(self) -> bool:
        """Whether this level can confine a worker on this machine (probed for real)."""
        raise NotImplementedError

    def unavailable(self) -> str:
        """What is missing here, for an error that names it (only asked when ``works()`` is False)."""
        return f"isolation {self.name!r} does not work on this machine"

    def description(self) -> str:
        """What this level protects and what it does not, for reports."""
        raise NotImplementedError

    def runs_as(self) -> int | None:
        """The user the worker runs as, or None for the grader's own."""
        return None

    def command(self, launch: Launch) -> tuple[list[str], str]:
        """The argv that starts the worker, and the submission path as the worker sees it."""
        raise NotImplementedError


def reaper_prefix(launch: Launch, uid: int | None) -> list[str]:
    """``python reaper.py [--uid ...] --``: the subreaper that starts the worker (``runtime/reaper.py``).

    With ``uid`` (a root grader) the worker runs as that user, keeping only the right to
    look into folders (CAP_DAC_READ_SEARCH) for the grader's environment; Landlock decides what it reads.
    """
    drop = ["--uid", str(uid), "--gid", str(uid), "--read-all"] if uid is not None else []
    return [environment.python_executable(), "-I", "-S", "-B", str(launch.runtime_dir / "reaper.py"),
            "--parent", str(os.getpid()), *drop, "--"]


def worker_args(worker: str, submission: str, provided: list[str], launch: Launch) -> list[str]:
    """``python -I -B worker.py ...``: the worker's own command line, the same at every level."""
    argv = [environment.python_executable(), "-I", "-B", worker, "--package", launch.package,
            "--submission", submission, "--threads", str(launch.threads),
            *[a for p in provided for a in ("--provided", p)]]
    if launch.gpu and launch.limits.gpu_memory_mb:
        argv += ["--gpu-memory-mb", str(launch.limits.gpu_memory_mb)]
    return argv
