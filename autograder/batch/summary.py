"""What a batch says as a whole: ``summary.md`` for people, ``summary.json`` for tools.

The summary counts students by status, gives score statistics and a text
histogram of scores (as a percentage of the maximum), and for each hidden test
case its pass rate among graded students, hardest first: the tests most
students fail are where the next lecture should go. Students whose grading
failed (``error``) or who sent nothing (``missing``) are counted, but not in
the statistics.
"""

import json
import statistics
from dataclasses import asdict, dataclass
from pathlib import Path

from autograder.batch.gradebook import Column, Record, number
from autograder.grading.report import write_atomic

BINS = 10
BAR_WIDTH = 40


@dataclass(frozen=True)
class CaseRate:
    """Pass rate of one hidden test case."""

    name: str
    passed: int
    graded: int
    rate: float          # passed / graded, 0 when nobody was graded
    max_score: float


@dataclass(frozen=True)
class Summary:
    project: str
    title: str
    students: int
    graded: int
    errors: int
    missing: int
    late: int
    unmatched: tuple[str, ...]
    max_score: float
    mean: float | None
    median: float | None
    minimum: float | None
    maximum: float | None
    histogram: tuple[tuple[int, int, int], ...]   # (from %, to %, count)
    tests: tuple[CaseRate, ...]                    # hardest first
    errors_by_student: tuple[tuple[str, str], ...]  # (student id, reason)


def histogram(percentages: list[float], bins: int = BINS) -> tuple[tuple[int, int, int], ...]:
    """Counts in ``bins`` equal bins over 0..100 %; 100 % falls in the last bin."""
    width = 100 // bins
    counts = [0] * bins
    for p in percentages:
        counts[min(bins - 1, max(0, int(p // width)))] += 1
    return tuple((i * width, (i + 1) * width, c) for i, c in enumerate(counts))


def summarize(records: list[Record], columns: list[Column], *, project: str, title: str,
              unmatched: tuple[str, ...] = ()) -> Summary:
    graded = [r for r in records if r.status == "graded"]
    max_score = max((r.max_score for r in records), default=0.0)
    totals = [r.total for r in graded]
    percentages = [100.0 * r.total / r.max_score if r.max_score else 0.0 for r in graded]
    rates = []
    for c in columns:
        passed = sum(c.name in r.passed for r in graded)
        rates.append(CaseRate(c.name, passed, len(graded), round(passed / len(graded), 4) if graded else 0.0,
                              c.max_score))
    order = {c.name: i for i, c in enumerate(columns)}
    rates.sort(key=lambda t: (t.rate, order[t.name]))
    stat = (lambda f: round(f(totals), 4) if totals else None)  # noqa: E731
    return Summary(
        project=project, title=title, students=len(records), graded=len(graded),
        errors=sum(r.status == "error" for r in records), missing=sum(r.status == "missing" for r in records),
        late=sum(bool(r.late) for r in records), unmatched=tuple(unmatched), max_score=max_score,
        mean=stat(statistics.fmean), median=stat(statistics.median), minimum=stat(min), maximum=stat(max),
        histogram=histogram(percentages), tests=tuple(rates),
        errors_by_student=tuple((r.student_id, r.reason) for r in sorted(records, key=lambda r: r.student_id)
                                if r.status == "error"))


def _bar(count: int, largest: int) -> str:
    return "#" * (round(BAR_WIDTH * count / largest) if largest else 0)


def render_markdown(s: Summary) -> str:
    lines = [f"# {s.title}: batch summary", "",
             f"- students: {s.students} (graded {s.graded}, grading failed {s.errors}, missing {s.missing})",
             f"- late: {s.late}"]
    if s.mean is not None:
        lines.append(f"- score out of {number(s.max_score)}: mean {number(s.mean)}, median {number(s.median)}, "
                     f"min {number(s.minimum)}, max {number(s.maximum)}")
    if s.unmatched:
        lines.append(f"- not in the roster, not graded: {', '.join(s.unmatched)}")
    largest = max((c for _, _, c in s.histogram), default=0)
    lines += ["", "## Scores (percent of the maximum, graded students)", "", "```"]
    for lo, hi, count in s.histogram:
        bracket = "]" if hi == 100 else ")"
        lines.append(f"[{lo:3d}%, {hi:3d}%{bracket} {count:4d} {_bar(count, largest)}".rstrip())
    lines += ["```", "", "## Tests, hardest first", "", "| test | passed | pass rate | points |",
              "| --- | --- | --- | --- |"]
    for t in s.tests:
        lines.append(f"| `{t.name}` | {t.passed} / {t.graded} | {100 * t.rate:.0f}% | {number(t.max_score)} |")
    if s.errors_by_student:
        lines += ["", "## Grading failed (regrade these)", ""]
        lines += [f"- `{sid}`: {reason}" for sid, reason in s.errors_by_student]
    return "\n".join(lines) + "\n"


def write_summary(out_dir: Path, summary: Summary) -> tuple[Path, Path]:
    """``out_dir/summary.md`` and ``out_dir/summary.json``."""
    out_dir = Path(out_dir)
    write_atomic(out_dir / "summary.md", render_markdown(summary))
    write_atomic(out_dir / "summary.json", json.dumps(asdict(summary), indent=2) + "\n")
    return out_dir / "summary.md", out_dir / "summary.json"
