"""``diffgrade check``: run a bundle's public tests and show one row per test.

The tests run with pytest in a subprocess, from the bundle root and with it
first on ``PYTHONPATH`` (so ``import p1_forward`` finds the student's package),
isolated from any pytest configuration around the bundle. Outcomes are read
from pytest's JUnit XML report, not from its text output. A failure caused by
a ``NotImplementedError`` is shown as NOT IMPLEMENTED: a stub still to complete.
"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from autograder.course import CourseError
from autograder.release.bundle import TESTS, BundleError, find_bundle_info

PASS, FAIL, NOT_IMPLEMENTED, ERROR, SKIP = "PASS", "FAIL", "NOT IMPLEMENTED", "ERROR", "SKIP"
REASON_WIDTH = 72
HIDDEN_REMINDER = ("Hidden tests grade your submission and check more cases: "
                   "passing every public test does not guarantee full marks.")


class CheckError(ValueError):
    """The bundle cannot be checked: no package folder, no tests, or pytest could not run."""


@dataclass(frozen=True)
class Outcome:
    """One public test: its name, PASS / FAIL / NOT IMPLEMENTED / ERROR / SKIP, and why."""

    name: str
    status: str
    reason: str = ""


def _short(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= REASON_WIDTH else line[:REASON_WIDTH - 3] + "..."


def _last_error_line(text: str) -> str:
    """The last ``E   ...`` line of a pytest traceback (the exception), or ``""``."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return lines[-1] if lines else ""


def _outcome(case: ET.Element) -> Outcome:
    module = case.get("classname", "").removeprefix(f"{TESTS}.")
    name = case.get("name", "?")
    # A module that fails to import has no classname and is named like "tests.test_forward".
    name = f"{module}::{name}" if module else f"{name.removeprefix(f'{TESTS}.')} (import)"
    for tag, status in (("failure", FAIL), ("error", ERROR), ("skipped", SKIP)):
        child = case.find(tag)
        if child is None:
            continue
        message = child.get("message") or ""
        if status == ERROR or not message:
            message = _last_error_line(child.text or "") or message
        if status != SKIP and message.startswith("NotImplementedError"):
            detail = message.removeprefix("NotImplementedError").lstrip(": ")
            return Outcome(name, NOT_IMPLEMENTED, _short(detail or "a stub still raises NotImplementedError"))
        return Outcome(name, status, _short(message))
    return Outcome(name, PASS)


def parse_junit(path: Path) -> list[Outcome]:
    """One ``Outcome`` per ``<testcase>`` of a pytest JUnit XML report."""
    return [_outcome(case) for case in ET.parse(path).getroot().iter("testcase")]


def run_public_tests(*, path: Path, tests: Path, timeout_s: float = 600.0) -> list[Outcome]:
    """Run the tests in ``tests`` with ``path`` as the root; raise ``CheckError`` if pytest could not."""
    with tempfile.TemporaryDirectory(prefix="diffgrade-check-") as tmp:
        report, ini = Path(tmp) / "report.xml", Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",
                   PYTHONPATH=os.pathsep.join([str(path)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-c", str(ini),
                   "--rootdir", str(path), "--confcutdir", str(path), f"--junitxml={report}", str(tests)]
        try:
            proc = subprocess.run(command, cwd=path, env=env, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise CheckError(f"the public tests in {tests} did not finish within {timeout_s:g} s; "
                             f"look for an endless loop") from None
        outcomes = parse_junit(report) if report.is_file() else []
    if proc.returncode == 5 or (proc.returncode == 0 and not outcomes):
        raise CheckError(f"no tests found in {tests}")
    if proc.returncode not in (0, 1) and not outcomes:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise CheckError(f"pytest could not run the tests in {tests} (exit {proc.returncode}):\n{tail}")
    return outcomes


def render(outcomes: list[Outcome], *, title: str) -> str:
    """The table, the summary line and the reminder about hidden tests."""
    width = max([len("test")] + [len(o.name) for o in outcomes])
    status_width = len(NOT_IMPLEMENTED)
    lines = [title, "", f"  {'test':<{width}}  {'result':<{status_width}}  reason",
             f"  {'-' * width}  {'-' * status_width}  {'-' * 6}"]
    lines += [f"  {o.name:<{width}}  {o.status:<{status_width}}  {o.reason}".rstrip() for o in outcomes]
    passed = sum(o.status == PASS for o in outcomes)
    failed = sum(o.status in (FAIL, NOT_IMPLEMENTED, ERROR) for o in outcomes)
    todo = sum(o.status == NOT_IMPLEMENTED for o in outcomes)
    skipped = sum(o.status == SKIP for o in outcomes)
    summary = f"public tests: {passed} passed, {failed} failed"
    if todo:
        summary += f" ({todo} not implemented)"
    if skipped:
        summary += f", {skipped} skipped"
    return "\n".join(lines + ["", summary, HIDDEN_REMINDER]) + "\n"


def _locate(project: str, path: Path) -> tuple[str, Path]:
    """The title and the tests folder of the bundle at ``path``; ``CheckError`` saying what is missing."""
    if not path.is_dir():
        raise CheckError(f"{path}: no such folder; run this in the folder of your {project} release")
    info, _ = find_bundle_info(project=project, path=path)
    package, tests = path / info.package, path / TESTS
    if not (package / "__init__.py").is_file():
        raise CheckError(f"no package folder {info.package}/ in {path} (expected {package / '__init__.py'}); "
                         f"run this in the folder of your {info.project} release")
    if not tests.is_dir():
        raise CheckError(f"no tests folder in {path} (expected the public tests in {tests}); "
                         f"copy tests/ back from your {info.project} release")
    return info.title, tests


def check(*, project: str, path: Path, stream: TextIO | None = None, timeout_s: float = 600.0) -> int:
    """Run the public tests of ``project`` in the bundle at ``path`` and print a table to ``stream``.

    Returns 0 when every test passes, 1 when one does not, 2 when the bundle
    cannot be checked (the message says what is missing and where).
    """
    stream = stream or sys.stdout
    path = Path(path).resolve()
    try:
        title, tests = _locate(project, path)
        outcomes = run_public_tests(path=path, tests=tests, timeout_s=timeout_s)
    except (CheckError, BundleError, CourseError) as e:
        print(f"diffgrade check: error: {e}", file=stream)
        return 2
    stream.write(render(outcomes, title=f"{title}: public tests in {tests}"))
    return 0 if all(o.status in (PASS, SKIP) for o in outcomes) else 1
