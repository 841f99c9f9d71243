"""From test outcomes to points: each hidden test function is worth its
``[points]`` entry, split equally over its cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the runner imports torch; scoring and reports do not need it
    from autograder.grading.runner import TestOutcome


@dataclass
class TestScore:
    """One row of a report: a test case and its points."""

    __test__ = False

    name: str
    function: str
    score: float
    max_score: float
    passed: bool
    output: str
    seconds: float = 0.0
    artifacts: list[str] = field(default_factory=list)


def score(outcomes: list[TestOutcome], points: dict[str, float]) -> list[TestScore]:
    """Points per case; a test function without a ``[points]`` entry is a configuration error."""
    rows = []
    for o in outcomes:
        if o.function not in points:
            raise KeyError(f"hidden test {o.function} has no entry in [points] of assignment.toml")
        worth = points[o.function] * o.weight
        rows.append(TestScore(o.name, o.function, worth if o.passed else 0.0, worth, o.passed,
                              o.message, o.seconds, list(o.artifacts)))
    return rows


def total(rows: list[TestScore]) -> tuple[float, float]:
    """``(score, max_score)``, rounded so float sums of shares print cleanly."""
    return round(sum(r.score for r in rows), 6), round(sum(r.max_score for r in rows), 6)
