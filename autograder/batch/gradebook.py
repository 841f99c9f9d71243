"""The gradebook: one row per student, read back from the per-student folders.

``gradebook.csv`` has the columns ``student_id``, one per hidden test case (its
points), ``total``, ``max``, ``late`` (``yes``, ``no`` or empty when unknown),
``status`` (``graded``, ``error`` when the grader itself failed, ``missing``
when an enrolled student sent nothing) and ``reason`` (why a score is zero or
missing). Rows are sorted by student id and hold nothing that changes from one
run to the next (no times, no absolute paths), so a resumed batch writes the
same bytes as an uninterrupted one.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.batch import state
from autograder.config import AssignmentConfig
from autograder.grading import runner
from autograder.grading.report import write_atomic


@dataclass(frozen=True)
class Column:
    """One hidden test case: its name, the test function it belongs to, and its points."""

    name: str
    function: str
    max_score: float


@dataclass(frozen=True)
class Record:
    """One student's row."""

    student_id: str
    status: str                       # "graded", "error" or "missing"
    total: float
    max_score: float
    late: bool | None = None
    reason: str = ""
    points: dict[str, float] = field(default_factory=dict)   # test case -> points earned
    passed: frozenset[str] = frozenset()


def columns_for(assignment_dir: Path, cfg: AssignmentConfig) -> list[Column]:
    """The hidden test cases of a project, in the order the grader runs them."""
    tests = runner.collect(Path(assignment_dir) / "tests" / "hidden")
    return [Column(t.name, t.function, round(cfg.points.get(t.function, 0.0) * t.weight, 4)) for t in tests]


def missing_record(student_id: str, max_score: float, reason: str = "no submission") -> Record:
    return Record(student_id, "missing", 0.0, max_score, None, reason)


def read_record(folder: Path, *, student_id: str, late: bool | None, max_score: float) -> Record:
    """The row of a graded (or failed) student from ``done.json`` and ``results.json``."""
    folder = Path(folder)
    done = state.read_done(folder)
    try:
        results = json.loads((folder / state.RESULTS).read_text())
    except (OSError, ValueError):
        results = None
    if done is None or results is None:
        return Record(student_id, "error", 0.0, max_score, late, "not graded (the batch was interrupted?)")
    tests = results.get("tests", [])
    return Record(student_id=student_id, status=done.status, total=float(results.get("score", 0.0)),
                  max_score=done.max_score or max_score, late=late, reason=done.reason,
                  points={t["name"]: float(t["score"]) for t in tests},
                  passed=frozenset(t["name"] for t in tests if t.get("status") == "passed"))


def number(x: float) -> str:
    """Points as the gradebook prints them: ``2``, ``0.5``, ``0.6667``."""
    return f"{round(x, 6):.10g}"


def _late(flag: bool | None) -> str:
    return "" if flag is None else ("yes" if flag else "no")


def render_csv(records: list[Record], columns: list[Column]) -> str:
    """The gradebook's CSV text, rows sorted by student id."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["student_id", *(c.name for c in columns), "total", "max", "late", "status", "reason"])
    for r in sorted(records, key=lambda r: r.student_id):
        cells = [number(r.points[c.name]) if c.name in r.points else ("" if r.status == "missing" else "0")
                 for c in columns]
        writer.writerow([r.student_id, *cells, number(r.total), number(r.max_score), _late(r.late),
                         r.status, r.reason])
    return buf.getvalue()


def write_gradebook(path: Path, records: list[Record], columns: list[Column]) -> Path:
    write_atomic(Path(path), render_csv(records, columns))
    return Path(path)
