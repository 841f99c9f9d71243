"""Discover the hidden tests of a project and run them with their fixtures.

The runner is trusted code in the grader process. It imports each test module
from its file under a private name, expands ``@cases``, and calls every test
with the fixtures it names (see ``autograder.testing``). Each test ends as a
``TestOutcome``: passed, or failed with a message for the student.
"""

import importlib.util
import inspect
import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from autograder.config import ConfigError
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
    requires: tuple[str, ...] = ()  # tests or cases that must pass in full for its points


@dataclass(frozen=True)
class HiddenTest:
    name: str
    function: str
    fn: object
    case: tuple | None  # (param name, value) or None
    weight: float
    tags: frozenset = frozenset()
    requires: tuple[str, ...] = ()  # resolved for this case: "test_f" or "test_f[value]"
    path: Path | None = None        # the file it was collected from, for error messages


def load_module(path: Path, prefix: str = "diffgrade_hidden"):
    """Import a test file under a unique private name (no sys.path changes)."""
    name = f"{prefix}_{path.parent.name}_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def collect(tests_dir: Path) -> list[HiddenTest]:
    """All ``test_*`` functions of ``tests_dir/test_*.py``, cases expanded, in file order.

    ``@requires`` names are resolved per case and checked (``ConfigError`` naming the file and test).
    """
    found = []
    for path in sorted(Path(tests_dir).glob("test_*.py")):
        module = load_module(path)
        for fname, fn in vars(module).items():
            if not fname.startswith("test_") or not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            spec = getattr(fn, "__diffgrade_cases__", None)
            labels = getattr(fn, "__diffgrade_tags__", frozenset())
            wanted = getattr(fn, "__diffgrade_requires__", ())
            if spec is None:
                found.append(HiddenTest(fname, fname, fn, None, 1.0, labels,
                                        _resolve(wanted, None, path, fname), path))
            else:
                param, values = spec
                for v in values:
                    found.append(HiddenTest(f"{fname}[{v}]", fname, fn, (param, v), 1.0 / len(values), labels,
                                            _resolve(wanted, (param, v), path, fname), path))
    _check_requirements(found, Path(tests_dir))
    return found


_FIELD = re.compile(r"\{([^{}]*)\}")


def _resolve(names: tuple[str, ...], case: tuple | None, path: Path, fname: str) -> tuple[str, ...]:
    """``names`` with ``{param}`` replaced by this case's value."""
    resolved = []
    for name in names:
        def fill(m, name=name):
            if case is None or m.group(1) != case[0]:
                have = f"its case parameter is {case[0]!r}" if case else "it has no @cases"
                raise ConfigError(f"{path}: {fname} requires {name!r}, but {{{m.group(1)}}} is not a case "
                                  f"parameter of {fname} ({have})")
            return str(case[1])
        resolved.append(_FIELD.sub(fill, name))
    return tuple(dict.fromkeys(resolved))


def _check_requirements(tests: list[HiddenTest], tests_dir: Path) -> None:
    """Every prerequisite exists, none is the test itself or depends on it, none carries a tag the
    test lacks (``without_tags`` would drop the prerequisite but keep the test)."""
    functions: dict[str, list[HiddenTest]] = {}
    for t in tests:
        functions.setdefault(t.function, []).append(t)
    names = {t.name: t for t in tests}
    for t in tests:
        for req in t.requires:
            function = req.split("[", 1)[0]
            if function not in functions or ("[" in req and req not in names):
                known = (f"its cases are {[c.name for c in functions[function]]}" if function in functions
                         else f"the hidden tests in {tests_dir} are {sorted(functions)}")
                raise ConfigError(f"{t.path}: {t.name} requires {req!r}, which is not a hidden test; {known}")
            if function == t.function:
                raise ConfigError(f"{t.path}: {t.name} requires {req!r}, a case of itself")
            extra = set().union(*(p.tags for p in _cases_of(req, functions, names))) - t.tags
            if extra:
                raise ConfigError(f"{t.path}: {t.name} requires {req!r}, tagged {sorted(extra)} which "
                                  f"{t.name} is not: leaving those tests out would leave it unpayable")
    for t in tests:
        _no_cycle(t, functions, names, ())


def _cases_of(req: str, functions: dict, names: dict) -> list[HiddenTest]:
    return [names[req]] if "[" in req else functions[req]


def _no_cycle(test: HiddenTest, functions: dict, names: dict, chain: tuple[str, ...]) -> None:
    if test.function in chain:
        loop = " -> ".join(chain[chain.index(test.function):] + (test.function,))
        raise ConfigError(f"{test.path}: the @requires of hidden tests form a cycle: {loop}")
    for req in test.requires:
        for prerequisite in _cases_of(req, functions, names):
            _no_cycle(prerequisite, functions, names, chain + (test.function,))


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
                                        weight=test.weight, requires=test.requires))
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
            outcome = TestOutcome(test.name, test.function, True, weight=test.weight, requires=test.requires)
        except Exception as e:  # noqa: BLE001 - every failure is a failed test, never a crash
            outcome = TestOutcome(test.name, test.function, False, _describe_failure(e), weight=test.weight,
                                  requires=test.requires)
        outcome.seconds = time.perf_counter() - start
        if artifacts_dir:
            outcome.artifacts = sorted(p.name for p in set(Path(artifacts_dir).iterdir()) - before)
        outcomes.append(outcome)
        if on_done:
            on_done(outcome)
    return outcomes
