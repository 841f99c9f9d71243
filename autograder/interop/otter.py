"""otter-grader checks for a project's notebook: ``grader.check("q1")`` runs public tests.

``make_otter_tests`` writes into ``out_dir``:

* ``tests/q1.py``, ``tests/q2.py``, ...: otter test files in otter's exception-based
  format (``OK_FORMAT = False``), one question per public test module, in the order
  of the package files in ``assignment.toml``. For P1: ``q1`` is ``schedules.py``
  (the three schedules, ``get_schedule``, ``alpha_bar``) and ``q2`` is ``forward.py``
  (``q_sample``, ``q_posterior``, ``predict_x0_from_eps``, ``snr``, ``v_target``).
  Each public test function is one test case worth one point; it runs that
  function with pytest against the notebook's variables (``otter_runtime``), so a
  function the student redefines in a cell is the one tested. The files stand alone.
* ``<notebook>.ipynb`` for each notebook of the project: the student version
  (solutions cleared) with, after the cell that imports the package, a cell
  ``grader = otter.Notebook(tests_dir="tests")`` and one ``grader.check("qN")`` cell
  per question.

Keep ``tests/`` next to the notebook and the package, as in a student bundle
(whose own ``tests/`` holds the pytest files: give otter its own folder there).
"""

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder import config, course
from autograder.interop import otter_runtime
from autograder.interop.errors import InteropError
from autograder.interop.public_tests import PublicModule, public_modules
from autograder.release.notebooks import cell_source, clear_notebook, notebook_text, read_notebook


@dataclass(frozen=True)
class OtterTests:
    """What ``make_otter_tests`` wrote: the tests folder, ``{question: public module}``, the notebooks."""

    tests_dir: Path
    questions: dict[str, str]
    notebooks: tuple[Path, ...]


def runtime_code() -> str:
    """The code of ``otter_runtime`` without its module docstring, to paste into test files."""
    text = Path(otter_runtime.__file__).read_text(encoding="utf-8")
    first = ast.parse(text).body[0]
    return "\n".join(text.splitlines()[first.end_lineno:]).strip() + "\n"


def _string_lines(text: str) -> str:
    """``text`` as a Python expression, one quoted line per source line (readable in a diff)."""
    body = "".join(f"    {line!r}\n" for line in text.splitlines(keepends=True))
    return f"\"\".join([\n{body}])"


def question_file(question: str, module: PublicModule, *, project: str, package: str) -> str:
    """The otter test file of ``question``, which mirrors the public test ``module``."""
    header = (f'"""{question}: {module.topic}. Mirrors {module.name}, the public tests of {project}.\n\n'
              "Written by `diffgrade otter`. Each case runs one public test function with pytest,\n"
              "against the notebook's variables.\n\"\"\"\n")
    cases = []
    for test in module.tests:
        doc = f'    """{test.doc}"""\n' if test.doc and '"""' not in test.doc else ""
        cases.append(f"@test_case(name={test.name!r}, points=1, hidden=False)\n"
                     f"def case_{test.name}(env):\n{doc}"
                     f"    run_public_test(env, package=PACKAGE, module=MODULE, source=SOURCE, test={test.name!r},\n"
                     f"                    cache=RUNS)\n")
    return "\n".join([
        header,
        "from otter.test_files import test_case",
        "",
        "OK_FORMAT = False",
        "",
        f"name = {question!r}",
        "points = None  # the sum of the cases' points",
        "",
        runtime_code(),
        "",
        f"PACKAGE = {package!r}",
        f"MODULE = {module.name!r}",
        f"SOURCE = {_string_lines(module.source)}",
        "RUNS = {}  # the first case of a check runs the whole module; the others read its outcomes",
        "",
        "",
        "\n\n".join(cases),
    ])


def _markdown(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text.splitlines(keepends=True)}


def _code(cell_id: str, text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {}, "outputs": [],
            "source": text.splitlines(keepends=True)}


def with_checks(nb: dict, *, package: str, questions: dict[str, PublicModule], tests_dir: str = "tests") -> dict:
    """``nb`` with the otter cells inserted after the first cell that imports ``package``
    (at the end when none does)."""
    imports = re.compile(rf"^\s*(from\s+{re.escape(package)}[\s.]|import\s+{re.escape(package)}\b)", re.MULTILINE)
    cells = list(nb["cells"])
    at = next((i + 1 for i, c in enumerate(cells) if c.get("cell_type") == "code" and imports.search(cell_source(c))),
              len(cells))
    listing = "\n".join(f"* `{q}`: `{m.topic}` ({len(m.tests)} public tests)" for q, m in questions.items())
    added = [
        _markdown("otter-intro", "### Check your package with otter\n\n`grader.check(\"q1\")` runs public tests "
                                 "on the functions this notebook imports, or on your own version if you "
                                 f"redefine one in a cell.\n\n{listing}"),
        _code("otter-init", f"import otter\n\ngrader = otter.Notebook(tests_dir={json.dumps(tests_dir)})"),
    ]
    added += [_code(f"otter-{q}", f"grader.check({json.dumps(q)})") for q in questions]
    return {**nb, "cells": cells[:at] + added + cells[at:]}


def make_otter_tests(*, project: str, out_dir: Path, root: Path | None = None) -> OtterTests:
    """Write ``out_dir/tests/q*.py`` and the notebooks with otter checks; see the module docstring."""
    root = Path(root).resolve() if root else course.course_root()
    project = course.project_name(project)
    adir = course.assignment_dir(project, root)
    cfg = config.load(adir)
    modules = public_modules(adir, cfg)
    if not modules:
        raise InteropError(f"{adir / 'tests' / 'public'}: no public tests to turn into otter checks")
    questions = {f"q{i}": m for i, m in enumerate(modules, start=1)}
    out_dir = Path(out_dir)
    tests_dir = out_dir / "tests"
    tests_dir.mkdir(parents=True, exist_ok=True)
    for stale in tests_dir.glob("q*.py"):
        if re.fullmatch(r"q\d+\.py", stale.name):
            stale.unlink()
    for question, module in questions.items():
        text = question_file(question, module, project=project, package=cfg.package)
        (tests_dir / f"{question}.py").write_text(text, encoding="utf-8")
    notebooks = []
    for path in sorted(adir.glob("*.ipynb")):
        label = path.relative_to(root).as_posix()
        nb = clear_notebook(read_notebook(path, label=label), label=label)
        dest = out_dir / path.name
        dest.write_text(notebook_text(with_checks(nb, package=cfg.package, questions=questions)), encoding="utf-8")
        notebooks.append(dest)
    return OtterTests(tests_dir, {q: m.name for q, m in questions.items()}, tuple(notebooks))
