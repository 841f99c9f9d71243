"""Discover the hidden tests of a project and run them with their fixtures.

The runner is trusted code in the grader process. It imports each test module
from its file under a private name, expands ``@cases``, and calls every test
with the fixtures it names (see ``autograder.testing``). Each test ends as a
``TestOutcome``: passed, or failed with a message for the student.
"""

import importlib.util
import inspect
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from autograder.sandbox.errors import (
    StudentCodeError,
    StudentException,
    StudentImportError,
)
from autograder.testing import CheckFailure


@dataclass
class TestOutcome:
    """The result of one hidden test case."""

    __test__ = False  # not a pytest class

    name: str          # e.g. "test_q_sample_values[cosine]"
    function: str      # e.g. "test_q_sample_values": the key of its points
    passed: bool
    message: str = ""
    seconds: float = 0.0
    weight: float = 1.0  # share of the function's points (1 / number of cases)
    artifacts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class HiddenTest:
    name: str
    function: str
    fn: object
    case: tuple | None  # (param name, value) or None
    weight: float
    tags: frozenset = frozenset()


def load_module(path: Path, prefix: str = "diffgrade_hidden"):
    """Import a test file under a unique private name (no sys.path changes)."""
    name = f"{prefix}_{path.parent.name}_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def collect(tests_dir: Path) -> list[HiddenTest]:
    """All ``test_*`` functions of ``tests_dir/test_*.py``, cases expanded, in file order."""
    found = []
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        module = load_module(path)
        for fname, fn in vars(module).items():
            if not fname.startswith("test_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            spec = getattr(fn, "__diffgrade_cases__", None)
            labels = getattr(fn, "__diffgrade_tags__", frozenset())
            if spec is None:
                found.append(HiddenTest(fname, fname, fn, None, 1.0, labels))
            else:
                param, values = spec
                for v in values:
                    found.append(HiddenTest(f"{fname}[{v}]", fname, fn, (param, v), 1.0 / len(values), labels))
    return found


def without_tags(tests: list[HiddenTest], excluded) -> list[HiddenTest]:
    """The tests carrying none of the ``excluded`` tags."""
    excluded = frozenset(excluded)
    return [t for t in tests if not (t.tags & excluded)]


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, CheckFailure):
        return exc.render()
    if isinstance(exc, StudentImportError):
        return f"{exc}\n{exc.traceback}".strip()
    if isinstance(exc, StudentException):
        body = f"your code raised {exc.exc_type}: {exc.message}"
        if exc.exc_type == "NotImplementedError":
            body = f"not implemented yet (your code raised NotImplementedError: {exc.message[:200]})"
        return f"{body}\n{exc.traceback}".strip()
    if isinstance(exc, StudentCodeError):
        return str(exc)
    if isinstance(exc, AssertionError):
        return str(exc) or "a check failed"
    # An error inside the test itself, usually a result of the wrong type or shape.
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return (f"the grader could not check your result: {type(exc).__name__}: {exc}{where}\n"
            "hint: check the type and shape of what your function returns")


def run_tests(tests: list[HiddenTest], fixtures: dict, on_done=None,
              deadline: float | None = None) -> list[TestOutcome]:
    """Run each test with the fixtures it asks for; one failure never stops the others.

    Tests still waiting at ``deadline`` (a ``time.monotonic()`` value) fail as not run.
    """
    outcomes = []
    artifacts_dir = fixtures.get("artifacts")
    for test in tests:
        if deadline is not None and time.monotonic() > deadline:
            outcomes.append(TestOutcome(test.name, test.function, False,
                                        "not run: the time limit for grading this submission was reached",
                                        weight=test.weight))
            continue
        wanted = inspect.signature(test.fn).parameters
        kwargs = {}
        for p in wanted:
            if test.case and p == test.case[0]:
                kwargs[p] = test.case[1]
            elif p in fixtures:
                kwargs[p] = fixtures[p]
            else:
                raise TypeError(f"hidden test {test.name} asks for unknown fixture {p!r}; "
                                f"known: {sorted(fixtures)}")
        before = set(Path(artifacts_dir).iterdir()) if artifacts_dir else set()
        start = time.perf_counter()
        try:
            test.fn(**kwargs)
            outcome = TestOutcome(test.name, test.function, True, weight=test.weight)
        except Exception as e:  # noqa: BLE001 - every failure is a failed test, never a crash
            outcome = TestOutcome(test.name, test.function, False, _describe_failure(e), weight=test.weight)
        outcome.seconds = time.perf_counter() - start
        if artifacts_dir:
            outcome.artifacts = sorted(p.name for p in set(Path(artifacts_dir).iterdir()) - before)
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes
