"""Fixtures for batch grading: a toy course, a folder of toy submissions, and one graded batch.

The graded batch is session-scoped: several tests read its gradebook, and the
resume and Slurm tests compare their own gradebooks with it byte for byte.
"""

import os
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from autograder.batch import batch
from tests.batch.slurm_fixture import slurm_cluster  # noqa: F401  (a fixture)
from tests.conftest import TOY_HIDDEN, TOY_SOLUTION, TOY_TOML, write_package

DEADLINE = "2025-03-01T12:00:00+00:00"
EARLY = datetime(2025, 3, 1, 11, 0, tzinfo=timezone.utc).timestamp()
LATE = datetime(2025, 3, 1, 13, 0, tzinfo=timezone.utc).timestamp()

HALF = "def scale(x, factor):\n    return x * 2.0\n\n\ndef pair(x):\n    return x + 1, x - 1\n"
WRONG = "def scale(x, factor):\n    return x + factor\n\n\ndef pair(x):\n    return x + 1, x - 1\n"

# What the batch below must give: student -> (total, late, status)
EXPECTED = {"alice": (5.0, False, "graded"), "bob": (2.0, True, "graded"),
            "carol": (0.0, False, "graded"), "dave": (0.0, False, "graded")}


def make_course(root: Path) -> Path:
    """The toy course of tests/conftest.py (project p1_forward, 5 points) under ``root``."""
    write_package(root / "solutions", TOY_SOLUTION)
    adir = root / "assignments" / "p1_forward"
    (adir / "tests" / "hidden").mkdir(parents=True)
    (adir / "tests" / "public").mkdir(parents=True)
    (adir / "assignment.toml").write_text(TOY_TOML)
    (adir / "tests" / "hidden" / "test_toy.py").write_text(TOY_HIDDEN)
    return root


def set_mtime(path: Path, timestamp: float) -> None:
    """Give ``path`` and everything inside it the modification time ``timestamp``."""
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.utime(Path(dirpath) / name, (timestamp, timestamp))
    os.utime(path, (timestamp, timestamp))


def zip_folder(folder: Path, dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        for path in sorted(folder.rglob("*.py")):
            zf.write(path, path.relative_to(folder).as_posix())
    return dest


def make_submissions(folder: Path) -> Path:
    """alice: correct, as an LMS-named zip; bob: half the points, late; carol: not a zip; dave: no package."""
    folder.mkdir(parents=True)
    staging = folder.parent / f"{folder.name}-staging"
    zip_folder(write_package(staging / "alice", TOY_SOLUTION), folder / "alice_submission.zip")
    write_package(folder / "bob-p1-submission", HALF)
    (folder / "carol.zip").write_text("this is not a zip file\n")
    (folder / "dave" / "notes").mkdir(parents=True)
    (folder / "dave" / "notes" / "README.txt").write_text("I forgot the code\n")
    for entry in folder.iterdir():
        set_mtime(entry, LATE if entry.name.startswith("bob") else EARLY)
    return folder


def run_batch(course: Path, submissions: Path, out_dir: Path, **kw):
    """``batch`` on the toy course with the settings every test shares."""
    kw.setdefault("workers", 2)
    kw.setdefault("deadline", DEADLINE)
    return batch(project="p1", submissions_dir=submissions, out_dir=out_dir, root=course, device="cpu",
                 isolation="process", progress=False, **kw)


@pytest.fixture(scope="session")
def toy_batch(tmp_path_factory):
    """One toy course, its four submissions, and a finished batch of them (2 workers)."""
    base = tmp_path_factory.mktemp("toy-batch")
    course = make_course(base / "course")
    submissions = make_submissions(base / "submissions")
    result = run_batch(course, submissions, base / "out")
    return course, submissions, result
