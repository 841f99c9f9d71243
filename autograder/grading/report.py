"""Writing what a grading produced: Gradescope ``results.json`` and ``feedback.md``.

``results.json`` follows Gradescope's autograder schema: top-level ``score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility``,
``extra_data`` and ``tests``, each test with ``name``, ``score``, ``max_score``,
``status``, ``output`` and ``visibility``. Files are written atomically.

A test whose points wait for a prerequisite (``@requires``) is ``failed`` with
score 0 in ``results.json``, its output says what it waits for, and its
``extra_data`` holds ``requires``, ``waiting_for`` and ``own_checks_passed``;
``feedback.md`` marks it ``held`` (its own checks passed) or ``FAIL``.
"""

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.scoring import TestScore


@dataclass
class GradeResult:
    """Everything known about one graded submission."""

    project: str
    title: str
    submission: str
    score: float
    max_score: float
    tests: list[TestScore]
    isolation: str
    isolation_detail: str
    device: str
    seconds: float
    notes: list[str] = field(default_factory=list)   # problems with the submission as a whole
    hidden_visibility: str = "after_published"
    versions: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)  # numbers quality tests measured (FID, ...)


def points(x: float) -> str:
    """Points for people: ``3``, ``2.5``, ``72.67``."""
    return f"{round(x, 2):g}"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _gradescope_test(t: TestScore, number: int, visibility: str) -> dict:
    entry = {
        "name": t.name,
        "number": str(number),
        "score": t.score,
        "max_score": t.max_score,
        "status": "passed" if t.passed else "failed",
        "output": t.output,
        "visibility": visibility,
    }
    if t.requires:
        own = t.passed if t.own_checks_passed is None else t.own_checks_passed
        entry["extra_data"] = {"requires": list(t.requires), "waiting_for": list(t.waiting_for),
                               "own_checks_passed": bool(own)}
    return entry


def to_gradescope(result: GradeResult) -> dict:
    """The Gradescope ``results.json`` object."""
    tests = [_gradescope_test(t, i + 1, result.hidden_visibility) for i, t in enumerate(result.tests)]
    summary = [f"{result.title}: {points(result.score)} / {points(result.max_score)}",
               f"Isolation: {result.isolation} ({result.isolation_detail})",
               f"Device: {result.device}"] + result.notes
    return {
        "score": round(result.score, 4),
        "execution_time": round(result.seconds, 2),
        "output": "\n".join(summary),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"max_score": result.max_score, "project": result.project,
                       "isolation": result.isolation, "device": result.device,
                       "submission": result.submission, "versions": result.versions,
                       "metrics": result.metrics},
        "tests": tests,
    }


def fenced(text: str) -> list[str]:
    """``text`` as a code block whose fence is longer than any run of backticks inside it,
    so student text (messages, printed output) can never close it and pose as the report."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, text, fence]


def feedback_markdown(result: GradeResult) -> str:
    """A readable report for the student: a table, then the details of each failure."""
    lines = [f"# {result.title}: feedback", "",
             f"**Score: {points(result.score)} / {points(result.max_score)}**", "",
             f"- isolation: {result.isolation} ({result.isolation_detail})",
             f"- device: {result.device}", f"- time: {result.seconds:.1f} s", ""]
    if result.notes:
        # Notes quote the student (import errors, printed output): each goes in a code block.
        lines += ["## About the submission", ""]
        for note in result.notes:
            lines += fenced(note) + [""]
    lines += ["## Tests", "", "| test | result | points |", "| --- | --- | --- |"]
    for t in result.tests:
        mark = "pass" if t.passed else "held" if t.held else "FAIL"
        lines.append(f"| `{t.name}` | {mark} | {points(t.score)} / {points(t.max_score)} |")
    if any(t.held for t in result.tests):
        lines += ["", "*held*: your code passed the test's own checks; its points are awarded once "
                      "the test it names below passes in full."]
    failed = [t for t in result.tests if not t.passed]
    if failed:
        lines += ["", "## What went wrong", ""]
        for t in failed:
            lines += [f"### {t.name}", ""] + fenced(t.output.strip() or "(no message)") + [""]
    if result.metrics:
        lines += ["", "## Measurements", "", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {v:.4g} |" for k, v in result.metrics.items()]
    pictures = [a for t in result.tests for a in t.artifacts if a.endswith(".png")]
    if pictures:
        lines += ["", "## Plots", ""] + [f"![{p}](artifacts/{p})" for p in pictures]
    return "\n".join(lines).rstrip() + "\n"


def write(result: GradeResult, out_dir: Path) -> None:
    """``out_dir/results.json`` and ``out_dir/feedback.md``."""
    out_dir = Path(out_dir)
    write_atomic(out_dir / "feedback.md", feedback_markdown(result))
    write_atomic(out_dir / "results.json", json.dumps(to_gradescope(result), indent=2) + "\n")
