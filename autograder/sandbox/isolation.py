"""How the worker process is confined: the levels, and the one interface callers use.

Levels, strongest first (each a module of ``levels/``):

* ``bwrap``: bubblewrap with every namespace unshared (``levels/bwrap.py``);
* ``landlock``: the worker confines itself with the Landlock LSM, unprivileged, and runs
  as ``nobody`` where the grader is root (``levels/landlock.py``): for machines where
  user namespaces are off (Slurm nodes, shared servers);
* ``process``: a plain subprocess in its own session with resource limits, as the
  grader's user (``levels/process.py``): it keeps the score honest, not the course
  secret. ``auto`` never picks it; it must be asked for by name.

Every level applies the same resource limits (``limits.py``) and, wherever the grader
may create one, a cgroup of its own (``cgroups.py``). ``choose`` turns a requested
level into an ``Isolation``; ``command``, ``environment`` and ``preexec`` start a worker
at it.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox import cgroups, environment as _env, limits as _limits
from autograder.sandbox.environment import libpython_dirs as _libpython_dirs  # noqa: F401 - kept importable
from autograder.sandbox.environment import python_executable
from autograder.sandbox.errors import SandboxEnvironmentError
from autograder.sandbox.environment import python_roots as _python_roots  # noqa: F401 - kept importable
from autograder.sandbox.levels import BY_NAME, ORDER, Launch
from autograder.sandbox.levels.bwrap import SANDBOX_RUNTIME, SANDBOX_SUBMISSION, bwrap_works  # noqa: F401
from autograder.sandbox.limits import Limits

LEVELS = ORDER
SANDBOXES = tuple(n for n in ORDER if n != "process")  # what ``auto`` may pick, strongest first

# Kept under their old names for callers and tests.
_cgroup_parents = cgroups.parents
_cgroups_made = cgroups.made
_remove_own_cgroups = cgroups.remove_own
_tasks_of = _limits.tasks_of

__all__ = ["LEVELS", "SANDBOXES", "Isolation", "IsolationUnavailable", "Limits", "bwrap_works", "choose", "command", "environment", "preexec",
           "python_executable"]


@dataclass(frozen=True)
class Isolation:
    """The isolation level in force and a sentence for reports."""

    level: str
    description: str


class IsolationUnavailable(SandboxEnvironmentError):
    """The level asked for, or for ``auto`` any sandbox at all, does not work on this machine."""


def choose(requested: str = "auto") -> Isolation:
    """The isolation to use. ``auto``: the strongest sandbox that works here (bwrap, then landlock).

    ``auto`` never falls back to ``process``, which is no sandbox: where neither works it
    raises ``IsolationUnavailable`` naming what is missing and ``--isolation process``,
    the explicit choice that overrides it. Asking for a level by name that does not work
    here is an error too, never a silent downgrade.
    """
    if requested == "auto":
        name = next((n for n in SANDBOXES if BY_NAME[n].works()), None)
        if name is None:
            missing = "; ".join(f"{n}: {BY_NAME[n].unavailable()}" for n in SANDBOXES)
            raise IsolationUnavailable(
                f"no sandbox works on this machine ({missing}). Grading untrusted code without one lets it "
                "read the hidden tests and solutions and write the results; to grade anyway, with that risk "
                "stated in every report, pass --isolation process (isolation='process')")
    elif requested in BY_NAME:
        name = requested
        if not BY_NAME[name].works():
            raise IsolationUnavailable(f"isolation {name!r} was requested but {BY_NAME[name].unavailable()}")
    else:
        raise ValueError(f"unknown isolation {requested!r}; expected 'auto' or one of {LEVELS}")
    return Isolation(name, BY_NAME[name].description())


def command(isolation: Isolation, *, runtime_dir: Path, submission_dir: Path, package: str,
            threads: int, gpu: bool, provided: tuple[Path, ...] = (),
            limits: Limits = Limits(), tmp: str | None = None) -> tuple[list[str], str]:
    """The argv that starts the worker, and the submission path as the worker sees it.

    ``provided``: folders of packages the student's code may import (reference
    versions of earlier projects), read-only. ``tmp``: the worker's scratch folder
    where the level has no private /tmp. ``limits.tmp_mb`` sizes bwrap's /tmp and /dev/shm.
    """
    launch = Launch(runtime_dir=Path(runtime_dir), submission_dir=Path(submission_dir), package=package,
                    threads=threads, gpu=gpu, provided=tuple(provided), limits=limits, tmp=tmp)
    return BY_NAME[isolation.level].command(launch)


def runs_as(isolation: Isolation) -> int | None:
    """The user the worker runs as at this level, or None for the grader's own."""
    return BY_NAME[isolation.level].runs_as()


def private_tmp(isolation: Isolation) -> bool:
    """Whether the level gives the worker a /tmp of its own (else the grader makes it a scratch folder)."""
    return BY_NAME[isolation.level].private_tmp


def reaped(isolation: Isolation) -> bool:
    """Whether the worker's first process is the subreaper of ``runtime/reaper.py`` (stopped by SIGTERM)."""
    return BY_NAME[isolation.level].reaper


def environment(threads: int, tmp: str = "/tmp") -> dict[str, str]:
    """The worker's environment variables (``environment.variables``)."""
    return _env.variables(threads, tmp)


def preexec(limits: Limits, gpu: bool, uid: int | None = None):
    """A function run in the child before exec: new session, own cgroups and resource limits.

    Called in the parent, it prepares what the child needs (cgroups, the process count
    of ``uid``, the user the worker will run as: the grader's by default). The cgroups
    made are on the function, as ``.cgroups``, for the grader to empty them later.
    """
    folders = cgroups.for_sandbox(limits, gpu)
    nproc = _limits.tasks_of(os.getuid() if uid is None else uid) + limits.nproc

    def apply() -> None:
        os.setsid()
        cgroups.join(folders)  # before exec: bwrap and everything it starts stay inside
        _limits.apply(limits, gpu, nproc)

    apply.cgroups = folders
    return apply
