"""An nbgrader course generated from diffgrade's projects, and grades in nbgrader's CSV format.

``make_nbgrader_course`` writes a course folder that the real nbgrader works in::

    nbgrader_config.py
    source/<project>/<notebook>.ipynb   solution regions kept, cells tagged for nbgrader
    source/<project>/...                the rest of the student bundle: stubs, tests/, README.md

so that ``nbgrader generate_assignment <project>`` makes the student release
(nbgrader replaces each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` region with
``# YOUR CODE HERE`` / ``raise NotImplementedError()``) and ``nbgrader autograde
<project>`` grades what students hand back in ``submitted/<student>/<project>/``.

Cells get nbgrader metadata as follows:

* a code cell holding a solution region becomes an *autograded answer* cell;
* at the end of the project's first notebook come a locked cell that runs the public tests once,
  with pytest in a fresh process, on the package next to the notebook, and one
  *autograder tests* cell per public test function, worth ``points_per_test``.

The student's package files (``files`` in ``assignment.toml``) are listed in
``Autograde.exclude_overwriting``, so autograding keeps the submitted code and
restores every other file (the public tests among them) from ``source/``.
nbgrader runs student code in its own kernel, without diffgrade's sandbox, and
only the public tests: the hidden tests stay with ``diffgrade grade`` (or the
Gradescope zip).
"""

import csv
import json
import re
import shutil
import tempfile
from pathlib import Path

from autograder import config, course
from autograder.interop.errors import InteropError
from autograder.interop.public_tests import PublicModule, public_modules
from autograder.release.markers import Location, find_regions
from autograder.release.notebooks import cell_source, notebook_text, read_notebook

CONFIG_HEADER = "# nbgrader configuration of a diffgrade course"
SCHEMA_VERSION = 3
_DEF = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)

# Columns of ``nbgrader export`` (its CsvExportPlugin), in order.
NBGRADER_EXPORT_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name",
                           "email", "raw_score", "late_submission_penalty", "score", "max_score")

RUN_PUBLIC_TESTS = '''\
# Runs the public tests in tests/ once, with pytest in a fresh process, on the package
# next to this notebook. Each autograded cell below checks one test function.
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path


def _last_lines(text, count=15):
    return "\\n".join(text.splitlines()[-count:])


def run_public_tests(folder="tests", timeout=__TIMEOUT__):
    """({"test_module.py::test_name": [problems]}, pytest's output) for every test that ran."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--color=no",
                   "--tb=short", f"--junitxml={report}", folder]
        try:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {}, f"the public tests ran longer than {timeout} s and were stopped"
        outcomes = {}
        if report.is_file():
            for case in ElementTree.parse(report).iter("testcase"):
                module = case.get("classname", "").rsplit(".", 1)[-1]
                name = case.get("name", "").split("[", 1)[0]
                problems = [f"[{case.get('name')}] {_last_lines(e.text or e.get('message') or '')}"
                            for e in case if e.tag in ("failure", "error")]
                outcomes.setdefault(f"{module}.py::{name}", []).extend(problems)
    return outcomes, proc.stdout + proc.stderr


PUBLIC_OUTCOMES, PUBLIC_OUTPUT = run_public_tests()


def check_public_test(test):
    """Raise AssertionError unless every case of the public test ``test`` passed."""
    if test not in PUBLIC_OUTCOMES:
        raise AssertionError(f"{test} did not run; pytest said:\\n{PUBLIC_OUTPUT[-3000:]}")
    problems = PUBLIC_OUTCOMES[test]
    if problems:
        raise AssertionError(f"{test} failed:\\n" + "\\n\\n".join(problems[:3]))
    print(f"{test}: passed")
'''


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _nbgrader_meta(grade_id: str, *, solution: bool, grade: bool, locked: bool, points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _code_cell(cell_id: str, source: str, nbgrader: dict) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id,
            "metadata": {"nbgrader": nbgrader}, "outputs": [], "source": _lines(source)}


def _answer_id(source: str, number: int, taken: set[str]) -> str:
    match = _DEF.search(source)
    grade_id = f"answer_{match.group(1)}" if match else f"answer_cell_{number}"
    while grade_id in taken:
        grade_id += "_"
    taken.add(grade_id)
    return grade_id


def public_test_cells(modules: list[PublicModule], *, points_per_test: float, timeout: float) -> list[dict]:
    """A markdown cell, the locked cell that runs the public tests, and one graded cell per test."""
    tests = [t for m in modules for t in m.tests]
    intro = ("## Autograded checks\n\nThe cells below run the public tests of `tests/` on your package "
             f"(as `diffgrade check` does); each of the {len(tests)} checks is worth {points_per_test:g} "
             "point(s). Do not edit them.")
    cells = [{"cell_type": "markdown", "id": "nbgrader-public-intro", "metadata": {}, "source": _lines(intro)},
             _code_cell("nbgrader-public-run", RUN_PUBLIC_TESTS.replace("__TIMEOUT__", str(int(timeout))),
                        _nbgrader_meta("public_tests_run", solution=False, grade=False, locked=True))]
    for k, test in enumerate(tests, start=1):
        source = (f"# {test.doc}\n" if test.doc else "") + f'check_public_test("{test.node}")'
        grade_id = f"public_{test.module.removesuffix('.py')}_{test.name}"
        cells.append(_code_cell(f"nbgrader-public-{k:03d}", source,
                                _nbgrader_meta(grade_id, solution=False, grade=True, locked=True,
                                               points=points_per_test)))
    return cells


def tag_notebook(nb: dict, *, label: str, modules: list[PublicModule], points_per_test: float = 1.0,
                 timeout: float = 600) -> dict:
    """A copy of ``nb`` ready for ``nbgrader generate_assignment``: outputs cleared, solution
    cells tagged, the public-test cells appended (none when ``modules`` is empty)."""
    cells, taken = [], set()
    for number, cell in enumerate(nb["cells"], start=1):
        cell = {k: v for k, v in cell.items()}
        meta = {k: v for k, v in cell.get("metadata", {}).items() if k not in ("nbgrader", "execution")}
        source = cell_source(cell)
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
            if find_regions(source.splitlines(), location=Location(label, cell=number)):
                meta["nbgrader"] = _nbgrader_meta(_answer_id(source, number, taken), solution=True,
                                                  grade=False, locked=False)
        cell["metadata"] = meta
        cells.append(cell)
    if modules:
        cells += public_test_cells(modules, points_per_test=points_per_test, timeout=timeout)
    return {**nb, "cells": cells}


def config_text(root: Path, *, timeout: float) -> str:
    """``nbgrader_config.py`` for every project of the course at ``root``."""
    keep = {}
    for project in course.available_projects(root):
        keep[project] = list(config.load(course.assignment_dir(project, root)).files)
    return "\n".join([
        CONFIG_HEADER + ", written by `diffgrade nbgrader`.",
        "# Edits are kept: diffgrade rewrites this file only while its first line is as above.",
        "c = get_config()  # noqa: F821 (nbgrader defines it)",
        "",
        "# diffgrade's solution markers are '# BEGIN SOLUTION' and '# END SOLUTION'.",
        'c.ClearSolutions.begin_solution_delimeter = "BEGIN SOLUTION"',
        'c.ClearSolutions.end_solution_delimeter = "END SOLUTION"',
        'c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}',
        "",
        "# A notebook runs the public tests in one cell; give it the project's time limit.",
        f"c.Execute.timeout = {int(timeout) + 60}",
        "",
        "# Autograding restores every file from source/ except the student's package files.",
        f"c.Autograde.exclude_overwriting = {json.dumps(keep, indent=4)}",
        "",
    ])


def _source_folder(root: Path, project: str, bundle: Path, dest: Path, *, points_per_test: float) -> None:
    """``dest`` = the student bundle of ``project`` with its notebooks replaced by tagged ones."""
    adir = course.assignment_dir(project, root)
    cfg = config.load(adir)
    notebooks = sorted(adir.glob("*.ipynb"))
    if not notebooks:
        raise InteropError(f"{adir}: no notebook; nbgrader grades notebooks, so {project} cannot be exported")
    shutil.copytree(bundle, dest)  # assignment.json stays: `diffgrade check` works in nbgrader's release too
    modules = public_modules(adir, cfg)
    for path in notebooks:
        label = path.relative_to(root).as_posix()
        nb = read_notebook(path, label=label)
        # The public tests are graded once, in the first notebook.
        tagged = tag_notebook(nb, label=label, modules=modules if path == notebooks[0] else [],
                              points_per_test=points_per_test, timeout=cfg.limits.total_timeout_s)
        (dest / path.name).write_text(notebook_text(tagged), encoding="utf-8")


def make_nbgrader_course(*, root: Path, out_dir: Path, projects: list[str] | None = None,
                         points_per_test: float = 1.0) -> Path:
    """Write (or refresh) the nbgrader course folder ``out_dir`` and return it.

    Only ``source/<project>/`` of the chosen projects is replaced; the gradebook,
    submissions and an edited ``nbgrader_config.py`` are left alone.
    """
    from autograder.release.pipeline import release, select_projects

    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    chosen = select_projects(root, projects)
    if projects is None:  # every project that has a notebook
        chosen = [p for p in chosen if any(course.assignment_dir(p, root).glob("*.ipynb"))]
    with tempfile.TemporaryDirectory(prefix="diffgrade-nbgrader-") as tmp:
        tmp = Path(tmp)
        release(root=root, out_dir=tmp / "bundles", projects=chosen, template_dir=tmp / "template")
        for project in chosen:
            _source_folder(root, project, tmp / "bundles" / project, tmp / "source" / project,
                           points_per_test=points_per_test)
        for project in chosen:
            dest = out_dir / "source" / project
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(tmp / "source" / project, dest)
    config_path = out_dir / "nbgrader_config.py"
    if not config_path.exists() or config_path.read_text().startswith(CONFIG_HEADER):
        timeout = max(config.load(course.assignment_dir(p, root)).limits.total_timeout_s
                      for p in course.available_projects(root))
        config_path.write_text(config_text(root, timeout=timeout))
    return out_dir


def _pick(header: list[str], *names: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n] for n in names if n in lowered), None)


def _number(text: str | None) -> float:
    text = (text or "").strip()
    return float(text) if text else 0.0


def _split_name(name: str) -> tuple[str, str]:
    """``(last_name, first_name)`` from ``"Last, First"`` or ``"First Middle Last"``."""
    name = name.strip()
    if "," in name:
        last, first = name.split(",", 1)
        return last.strip(), first.strip()
    first, _, last = name.rpartition(" ")
    return (last, first) if first else (name, "")


def export_nbgrader_gradebook(batch_gradebook_csv: Path, output_csv: Path, *, assignment: str | None = None,
                              duedate: str = "") -> Path:
    """Convert diffgrade's batch gradebook to the CSV ``nbgrader export`` writes.

    The batch gradebook (``autograder.batch.gradebook``) has one row per student:
    ``student_id``, one column per test case, ``total``, ``max``, then ``late``,
    ``status`` and ``reason``, which nbgrader has no columns for. A student with
    nothing submitted gets a score of 0 and no timestamp, as in nbgrader. Other
    columns are used when a gradebook has them: ``project``/``assignment``,
    ``name`` (or ``first_name`` and ``last_name``), ``email``,
    ``submitted_at``/``timestamp`` and ``late_penalty``/``late_submission_penalty``;
    as in nbgrader, ``score`` is ``max(0, raw_score - late_submission_penalty)``.
    ``assignment`` names the assignment when the gradebook has no project column.
    """
    path = Path(batch_gradebook_csv)
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    col = {
        "student_id": _pick(header, "student_id", "student"),
        "raw_score": _pick(header, "total", "raw_score", "score"),
        "max_score": _pick(header, "max", "max_score"),
        "assignment": _pick(header, "assignment", "project"),
        "name": _pick(header, "name"),
        "first_name": _pick(header, "first_name"),
        "last_name": _pick(header, "last_name"),
        "email": _pick(header, "email"),
        "timestamp": _pick(header, "timestamp", "submitted_at"),
        "penalty": _pick(header, "late_submission_penalty", "late_penalty", "penalty"),
        "duedate": _pick(header, "duedate", "deadline"),
    }
    for needed, label in (("student_id", "student_id"), ("raw_score", "total"), ("max_score", "max")):
        if col[needed] is None:
            raise InteropError(f"{path}: no {label} column (the header is {', '.join(header) or 'empty'}); "
                               "expected student_id, one column per test, total and max")
    if col["assignment"] is None and not assignment:
        raise InteropError(f"{path}: no project column; say which assignment this is (--assignment)")
    out = []
    for line, row in enumerate(rows, start=2):
        try:
            raw, top, penalty = (_number(row.get(col[k])) if col[k] else 0.0
                                 for k in ("raw_score", "max_score", "penalty"))
        except ValueError as e:
            raise InteropError(f"{path}, row {line}: not a number ({e})") from None
        last, first = _split_name(row[col["name"]]) if col["name"] else ("", "")
        out.append({
            "assignment": assignment or row[col["assignment"]],
            "duedate": row[col["duedate"]] if col["duedate"] else duedate,
            "timestamp": row[col["timestamp"]] if col["timestamp"] else "",
            "student_id": row[col["student_id"]],
            "last_name": row[col["last_name"]] if col["last_name"] else last,
            "first_name": row[col["first_name"]] if col["first_name"] else first,
            "email": row[col["email"]] if col["email"] else "",
            "raw_score": str(raw),
            "late_submission_penalty": str(penalty),
            "score": str(max(0.0, raw - penalty)),
            "max_score": str(top),
        })
    output_csv = Path(output_csv)
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    with open(output_csv, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(NBGRADER_EXPORT_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(out)
    return output_csv
