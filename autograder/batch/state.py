"""Resumable batches: what is already graded, and is it still valid?

Each student has a folder ``out_dir/submissions/<student_id>/`` holding
``feedback.md`` and ``results.json`` (written atomically by the grader, results
last) and then ``done.json``, the completion marker written last of all. It
records the hash of the submission's content and of the course (assignment,
hidden tests, reference solution), so a changed submission or a changed
grader is graded again; a folder without a valid ``done.json`` is redone.
"""

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder import __version__
from autograder.grading.report import write_atomic

DONE = "done.json"
RESULTS = "results.json"
FEEDBACK = "feedback.md"
STATUSES = ("graded", "error")


@dataclass(frozen=True)
class Done:
    """The completion marker of one student's folder."""

    student_id: str
    content_hash: str
    course_hash: str
    status: str          # "graded" or "error" (the grading process itself failed)
    score: float
    max_score: float
    reason: str = ""     # why the score is zero or the grading failed; empty when all is well


def _hash_tree(h, folder: Path) -> None:
    """Feed every file under ``folder`` (relative path, then bytes) into ``h``, in a fixed order."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith(".pyc"):
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(folder).as_posix()
            h.update(b"\0path\0" + rel.encode())
            if full.is_symlink():
                h.update(b"\0link\0" + os.readlink(full).encode())
            elif full.is_file():
                with open(full, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)


def content_hash(path: Path) -> str:
    """A SHA-256 of a submission: a file's bytes, or a folder's files and their paths."""
    path = Path(path)
    h = hashlib.sha256()
    if path.is_dir():
        h.update(b"folder")
        _hash_tree(h, path)
    elif path.exists():
        h.update(b"file\0")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    else:
        h.update(b"missing")
    return h.hexdigest()


def course_hash(root: Path, project: str) -> str:
    """A SHA-256 of what decides a grade: ``assignment.toml``, the hidden tests, the reference
    solution and the engine's version."""
    root = Path(root)
    adir = root / "assignments" / project
    h = hashlib.sha256(f"diffgrade {__version__}".encode())
    h.update(b"\0assignment.toml\0" + (adir / "assignment.toml").read_bytes())
    for folder in (adir / "tests" / "hidden", root / "solutions" / project):
        h.update(b"\0tree\0" + folder.relative_to(root).as_posix().encode())
        if folder.is_dir():
            _hash_tree(h, folder)
    return h.hexdigest()


def read_done(folder: Path) -> Done | None:
    """The marker of ``folder``, or ``None`` when absent or unreadable (then the student is redone)."""
    try:
        data = json.loads((Path(folder) / DONE).read_text())
        done = Done(**data)
    except (OSError, ValueError, TypeError):
        return None
    return done if done.status in STATUSES else None


def write_done(folder: Path, done: Done) -> None:
    write_atomic(Path(folder) / DONE, json.dumps(asdict(done), indent=2, sort_keys=True) + "\n")


def clear_done(folder: Path) -> None:
    """Forget that ``folder`` was finished (before grading it again)."""
    (Path(folder) / DONE).unlink(missing_ok=True)


def is_finished(folder: Path, *, content: str, course: str, retry_errors: bool = False) -> bool:
    """Whether ``folder`` holds a valid grade of this content by this course."""
    done = read_done(folder)
    if done is None or done.content_hash != content or done.course_hash != course:
        return False
    if done.status == "error" and retry_errors:
        return False
    return (Path(folder) / RESULTS).is_file()


def write_error(folder: Path, *, done: Done, project: str, title: str, submission: str,
                columns: list) -> None:
    """Record that grading itself failed: a zero ``results.json`` with the reason, then ``done.json``.

    ``columns`` lists the hidden test cases (``gradebook.Column``); each scores zero.
    """
    from autograder.grading.report import GradeResult, write
    from autograder.grading.scoring import TestScore

    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    message = f"not graded: {done.reason}"
    rows = [TestScore(c.name, c.function, 0.0, c.max_score, False, message) for c in columns]
    result = GradeResult(project=project, title=title, submission=submission, score=0.0,
                         max_score=done.max_score, tests=rows, isolation="none",
                         isolation_detail="the grading process did not finish", device="none", seconds=0.0,
                         notes=[f"The grader could not finish on this submission: {done.reason}. "
                                "Your instructors have been told; this is not a grade of your work."])
    write(result, folder)
    write_done(folder, done)
