"""Run one public test against a notebook's variables: the code inside each otter test file.

``autograder.interop.otter`` copies this module's code (everything after this
docstring) into every test file it writes, so the files stand alone as otter
expects. Keep it to the standard library and pytest.

``run_public_test`` runs one public test function with pytest, in the notebook's
process. The names the test module imports from the student's package are taken
from the notebook's globals when the notebook defines them (a function redefined
in a cell is what gets tested), else from the package itself.
"""

import ast
import contextlib
import importlib
import io
import shutil
import sys
import tempfile
import types
from pathlib import Path


class _Outcomes:
    """A pytest plugin that sorts what each test reported by test function."""

    def __init__(self):
        self.passed = {}     # function name -> number of passed cases
        self.problems = {}   # function name (None: the whole module) -> [(node id, report text)]

    @staticmethod
    def _function(nodeid):
        parts = nodeid.split("::")
        return parts[1].split("[", 1)[0] if len(parts) > 1 else None

    def pytest_runtest_logreport(self, report):
        name = self._function(report.nodeid)
        if report.failed:
            self.problems.setdefault(name, []).append((report.nodeid, report.longreprtext))
        elif report.when == "call" and report.passed:
            self.passed[name] = self.passed.get(name, 0) + 1

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.setdefault(None, []).append((report.nodeid or "collection", report.longreprtext))


def _imported_names(source, package):
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == package:
            names += [alias.name for alias in node.names if alias.name != "*"]
    return names


def _package_view(package, names, env):
    """A module named ``package``: the real package's names, overridden by the notebook's."""
    view = types.ModuleType(package)
    try:
        real = importlib.import_module(package)
    except Exception:  # a broken package: the notebook's names may still be enough
        real = None
    if real is not None:
        view.__dict__.update({k: v for k, v in vars(real).items() if k != "__name__"})
    for name in names:
        if name in env:
            mine, theirs = env[name], getattr(real, name, None)
            if callable(mine) or not callable(theirs):  # skip a variable that shadows a function
                setattr(view, name, mine)
    return view


def _explain(problems, limit=12, width=240):
    """The assertion lines of pytest's report (``E ...``, without pytest's ``+ where`` details),
    or its last lines, for at most three failures."""
    parts = []
    for nodeid, text in problems[:3]:
        lines = text.splitlines()
        errors = [line[1:].strip() for line in lines if line.startswith("E ")]
        errors = [line for line in errors if not line.lstrip("+ ").startswith("where ")]
        shown = [line if len(line) <= width else line[:width] + " ..." for line in (errors or lines)[:limit]]
        parts.append(f"{nodeid}:\n  " + "\n  ".join(shown))
    return "\n".join(parts)


def _run_module(env, *, package, module, source):
    """Run every test of the public module with pytest; ``(_Outcomes, exit status, printed text)``."""
    folder = Path(tempfile.mkdtemp(prefix="otter-public-"))
    path = folder / module
    path.write_text(source, encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    outcomes, printed = _Outcomes(), io.StringIO()
    view = _package_view(package, _imported_names(source, package), env)
    saved = sys.modules.get(package)  # the real package, imported by _package_view when it imports
    sys.modules[package] = view
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            import pytest

            code = pytest.main([str(path), "-c", str(folder / "pytest.ini"), "-q", "--color=no",
                                "-p", "no:cacheprovider", "-p", "no:faulthandler", "--capture=sys",
                                "--import-mode=importlib"], plugins=[outcomes])
    finally:
        if saved is None:
            sys.modules.pop(package, None)
        else:
            sys.modules[package] = saved
        for name, mod in list(sys.modules.items()):
            if str(getattr(mod, "__file__", None) or "").startswith(str(folder)):
                del sys.modules[name]
        shutil.rmtree(folder, ignore_errors=True)
    return outcomes, int(code), printed.getvalue()


def run_public_test(env, *, package, module, source, test, cache=None):
    """Check the public test function ``test`` of ``module`` (whose text is ``source``).

    The whole module runs once per ``cache`` (a dict; otter re-reads a test file,
    and so starts a fresh one, for every check). Raises ``AssertionError`` with
    pytest's explanation unless every case of ``test`` passed.
    """
    cache = {} if cache is None else cache
    if module not in cache:
        cache[module] = _run_module(env, package=package, module=module, source=source)
    outcomes, code, printed = cache[module]
    problems = outcomes.problems.get(None, []) + outcomes.problems.get(test, [])
    if problems:
        raise AssertionError(_explain(problems))
    if not outcomes.passed.get(test):
        raise AssertionError(f"{module}::{test} did not run (pytest exit status {code}):\n"
                             + "\n".join(printed.splitlines()[-15:]))
