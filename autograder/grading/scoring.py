"""From test outcomes to points: each hidden test function is worth its
``[points]`` entry, split equally over its cases.

A case whose test is marked ``@requires(...)`` (``autograder.testing``) earns its
points only when every prerequisite passed in full: each of its cases passed and
had its own prerequisites met (so requirements chain). Otherwise it scores 0 and
its output says which prerequisites it waits for; ``passed`` is then False even
when its own checks passed (``own_checks_passed`` tells the two apart).
"""

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
    passed: bool       # earned its points
    output: str
    seconds: float = 0.0
    artifacts: list[str] = field(default_factory=list)
    requires: tuple[str, ...] = ()  # prerequisites named by @requires
    waiting_for: tuple[str, ...] = ()  # those not passed in full: why the points are held
    own_checks_passed: bool | None = None  # the test's own result; None means the same as passed

    @property
    def held(self) -> bool:
        """Its own checks passed, but its points wait for a prerequisite."""
        return bool(self.own_checks_passed) and bool(self.waiting_for)


def awarded_note(waiting_for: tuple[str, ...]) -> str:
    """The feedback line of a test whose points wait for ``waiting_for``."""
    names = ", ".join(waiting_for)
    verb = "passes" if len(waiting_for) == 1 else "pass"
    return f"its points are awarded once {names} {verb} in full (they are tied to that work)"


def _met(outcomes: list[TestOutcome]):
    """``met(requirement)``: did that test (or case) pass in full, its own prerequisites included?"""
    by_name = {o.name: o for o in outcomes}
    by_function: dict[str, list[TestOutcome]] = {}
    for o in outcomes:
        by_function.setdefault(o.function, []).append(o)
    memo: dict[str, bool] = {}

    def earned(o: TestOutcome, visiting: frozenset) -> bool:
        return o.passed and all(met(r, visiting) for r in o.requires)

    def met(requirement: str, visiting: frozenset = frozenset()) -> bool:
        if requirement in memo:
            return memo[requirement]
        if requirement in visiting:  # collect() refuses cycles; outcomes made elsewhere might not
            return False
        visiting = visiting | {requirement}
        group = [by_name[requirement]] if "[" in requirement and requirement in by_name \
            else by_function.get(requirement, [])
        memo[requirement] = bool(group) and all(earned(o, visiting) for o in group)  # not run: not met
        return memo[requirement]

    return met


def score(outcomes: list[TestOutcome], points: dict[str, float]) -> list[TestScore]:
    """Points per case; a test function without a ``[points]`` entry is a configuration error."""
    met = _met(outcomes)
    rows = []
    for o in outcomes:
        if o.function not in points:
            raise KeyError(f"hidden test {o.function} has no entry in [points] of assignment.toml")
        worth = points[o.function] * o.weight
        requires = tuple(getattr(o, "requires", ()))
        waiting = tuple(r for r in requires if not met(r))
        earned = o.passed and not waiting
        output = o.message
        if waiting:
            note = awarded_note(waiting)
            output = (f"your code passed this test's own checks; {note}" if o.passed
                      else f"{o.message}\n({note})")
        rows.append(TestScore(o.name, o.function, worth if earned else 0.0, worth, earned,
                              output, o.seconds, list(o.artifacts), requires, waiting, o.passed))
    return rows


def total(rows: list[TestScore]) -> tuple[float, float]:
    """``(score, max_score)``, rounded so float sums of shares print cleanly."""
    return round(sum(r.score for r in rows), 6), round(sum(r.max_score for r in rows), 6)
