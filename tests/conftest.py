"""Shared fixtures: a tiny course in tmp_path, so engine tests do not depend on real projects."""

import os
import textwrap
from pathlib import Path

import pytest
import torch

# Under pytest-xdist each test process gets its share of the cores: torch's default of
# one thread per core in every process would make them all wait on each other.
_PROCESSES = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
if _PROCESSES > 1:
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // _PROCESSES))

REPO = Path(__file__).resolve().parent.parent

TOY_SOLUTION = '''
import torch


def scale(x, factor):
    """Return ``x * factor``, keeping dtype and device."""
    # BEGIN SOLUTION
    return x * factor
    # END SOLUTION


def pair(x):
    """Return ``(x + 1, x - 1)``."""
    # BEGIN SOLUTION
    return x + 1, x - 1
    # END SOLUTION
'''

TOY_HIDDEN = '''
import torch
from autograder.testing import cases


def test_scale(student, ref, check, device):
    """Does scale multiply?"""
    x = torch.arange(6.0, device=device).reshape(2, 3)
    check.close(student.scale(x, 3.0), ref.scale(x, 3.0), "scale(x, 3)", hint="multiply")


@cases(factor=[0.5, 2.0])
def test_scale_cases(student, ref, check, factor):
    """Does scale work for several factors?"""
    x = torch.ones(4, dtype=torch.float64)
    check.close(student.scale(x, factor), ref.scale(x, factor), f"scale(x, {factor})")


def test_pair(student, ref, check):
    """Does pair return both neighbours?"""
    x = torch.zeros(3)
    got = student.pair(x)
    check.true(isinstance(got, tuple) and len(got) == 2, "pair(x)", "expected a tuple of two tensors")
    for g, e in zip(got, ref.pair(x)):
        check.close(g, e, "pair(x)")
'''

TOY_TOML = '''
[project]
name = "p1_forward"
title = "Toy project"
package = "p1_forward"
files = ["p1_forward/__init__.py", "p1_forward/toy.py"]

[limits]
call_timeout_s = 4
startup_timeout_s = 60
total_timeout_s = 120
memory_mb = 2048

[tolerances.default]
atol = 1e-6
rtol = 1e-6

[points]
test_scale = 2
test_scale_cases = 2
test_pair = 1
'''


def write_package(folder: Path, body: str) -> Path:
    """A package ``p1_forward`` in ``folder`` whose toy.py is ``body``."""
    pkg = folder / "p1_forward"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("from .toy import *  # noqa: F403\n")
    (pkg / "toy.py").write_text(textwrap.dedent(body))
    return folder


@pytest.fixture
def toy_course(tmp_path) -> Path:
    """A course with one project (named p1_forward) whose package is a toy."""
    root = tmp_path / "course"
    write_package(root / "solutions", TOY_SOLUTION)
    adir = root / "assignments" / "p1_forward"
    (adir / "tests" / "hidden").mkdir(parents=True)
    (adir / "tests" / "public").mkdir(parents=True)
    (adir / "assignment.toml").write_text(TOY_TOML)
    (adir / "tests" / "hidden" / "test_toy.py").write_text(TOY_HIDDEN)
    return root


@pytest.fixture
def toy_submission(tmp_path):
    """Make a submission folder from a toy.py body: ``toy_submission("name", body)``."""

    def make(name: str, body: str = TOY_SOLUTION) -> Path:
        return write_package(tmp_path / "submissions" / name, body)

    return make


def isolation_works(level: str) -> bool:
    """Whether the isolation ``level`` can confine a worker on this machine (probed for real)."""
    from autograder.sandbox import isolation as iso

    try:
        iso.choose(level)
    except (RuntimeError, ValueError):
        return False
    return True


def isolation_levels() -> list[str]:
    """The levels that work here, strongest first; ``process`` always does."""
    from autograder.sandbox import isolation as iso

    return [level for level in iso.LEVELS if level == "process" or isolation_works(level)]

