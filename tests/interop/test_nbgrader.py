"""The nbgrader course: tagging, then the real ``nbgrader generate_assignment`` and ``autograde``."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import config
from autograder.interop.errors import InteropError
from autograder.interop.nbgrader import (
    NBGRADER_EXPORT_COLUMNS,
    export_nbgrader_gradebook,
    make_nbgrader_course,
    tag_notebook,
)
from autograder.interop.public_tests import public_modules
from autograder.release import find_leaks
from autograder.release.notebooks import cell_source, read_notebook
from tests.conftest import REPO

ADIR = REPO / "assignments" / "p1_forward"
NOTEBOOK = "forward_process.ipynb"
EXAMPLES = REPO / "examples" / "p1_forward"


def public_test_count() -> int:
    return sum(len(m.tests) for m in public_modules(ADIR, config.load(ADIR)))


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the real nbgrader in ``course``, keeping Jupyter's and IPython's files inside it."""
    scratch = course.parent / "scratch"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "IPYTHONDIR": str(scratch / "ipython"),
           "MPLCONFIGDIR": str(scratch / "mpl"), "TMPDIR": str(scratch)}
    scratch.mkdir(exist_ok=True)
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def test_tagging_marks_solution_cells_and_adds_public_test_cells():
    """Are the cells with solution regions autograded answers, and is there one graded cell per
    public test after a locked cell that runs them?"""
    nb = read_notebook(ADIR / NOTEBOOK, label=NOTEBOOK)
    tagged = tag_notebook(nb, label=NOTEBOOK, modules=public_modules(ADIR, config.load(ADIR)), points_per_test=2)
    answers = [nbgrader_meta(c)["grade_id"] for c in tagged["cells"] if nbgrader_meta(c).get("solution")]
    assert answers == ["answer_empirical_mean_var", "answer_run_chain"]
    graded = [c for c in tagged["cells"] if nbgrader_meta(c).get("grade")]
    assert len(graded) == public_test_count() and all(nbgrader_meta(c)["points"] == 2 for c in graded)
    assert all(nbgrader_meta(c)["locked"] and not nbgrader_meta(c)["solution"] for c in graded)
    runner = tagged["cells"][len(nb["cells"]) + 1]
    assert nbgrader_meta(runner) == {"grade": False, "grade_id": "public_tests_run", "locked": True,
                                     "schema_version": 3, "solution": False}
    assert 'check_public_test("test_schedules.py::test_get_schedule_by_name")' in \
        "".join(cell_source(c) for c in graded)
    assert all(c["outputs"] == [] for c in tagged["cells"] if c["cell_type"] == "code")
    assert len({c["id"] for c in tagged["cells"]}) == len(tagged["cells"])


def test_course_folder_layout(tmp_path):
    """Does the course hold nbgrader_config.py and source/p1_forward/ with the tagged notebook,
    the stubs and the public tests, and keep an nbgrader_config.py the instructor edited?"""
    course = make_nbgrader_course(root=REPO, out_dir=tmp_path / "course", projects=["p1"])
    source = course / "source" / "p1_forward"
    assert {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()} >= {
        NOTEBOOK, "README.md", "conftest.py", "p1_forward/__init__.py", "p1_forward/forward.py",
        "tests/test_schedules.py", "tests/test_forward.py"}
    assert "# BEGIN SOLUTION" in (source / NOTEBOOK).read_text()
    assert 'raise NotImplementedError("complete q_sample' in (source / "p1_forward" / "forward.py").read_text()
    text = (course / "nbgrader_config.py").read_text()
    assert '"p1_forward/forward.py"' in text and "c.Autograde.exclude_overwriting" in text
    (course / "nbgrader_config.py").write_text("c = get_config()\n")
    make_nbgrader_course(root=REPO, out_dir=course, projects=["p1_forward"])
    assert (course / "nbgrader_config.py").read_text() == "c = get_config()\n"


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A course made by make_nbgrader_course, released by the real ``nbgrader generate_assignment``."""
    course = make_nbgrader_course(root=REPO, out_dir=tmp_path_factory.mktemp("nbgrader") / "course",
                                  projects=["p1"])
    nbgrader(course, "generate_assignment", "p1_forward", "--force")
    return course


def submit(course: Path, student: str, example: str, *, fill_solutions: bool) -> Path:
    """``submitted/<student>/p1_forward``: the release, with the example's package and, if asked,
    the notebook's solution cells filled from source/."""
    dest = course / "submitted" / student / "p1_forward"
    shutil.copytree(course / "release" / "p1_forward", dest)
    shutil.rmtree(dest / "p1_forward")
    shutil.copytree(EXAMPLES / example / "p1_forward", dest / "p1_forward")
    if fill_solutions:
        source = json.loads((course / "source" / "p1_forward" / NOTEBOOK).read_text())
        answers = {nbgrader_meta(c)["grade_id"]: c["source"] for c in source["cells"] if nbgrader_meta(c)}
        nb = json.loads((dest / NOTEBOOK).read_text())
        for cell in nb["cells"]:
            if nbgrader_meta(cell).get("solution"):
                cell["source"] = answers[nbgrader_meta(cell)["grade_id"]]
        (dest / NOTEBOOK).write_text(json.dumps(nb))
    return dest


def scores(course: Path, student: str) -> tuple[float, float, set[str]]:
    """``(score, max_score, names of the grade cells that lost points)`` from nbgrader's database."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        submission = gb.find_submission("p1_forward", student)
        notebook = gb.find_submission_notebook("forward_process", "p1_forward", student)
        lost = {g.name for g in notebook.grades if g.score < g.max_score}
        return submission.score, submission.max_score, lost


@pytest.mark.slow
def test_generate_assignment_releases_stubs_not_solutions(released):
    """Does nbgrader's release replace every solution region with its stub, leaking nothing?"""
    release = released / "release" / "p1_forward"
    nb = json.loads((release / NOTEBOOK).read_text())
    answers = [cell_source(c) for c in nb["cells"] if nbgrader_meta(c).get("solution")]
    assert len(answers) == 2
    for text in answers:
        lines = [line.strip() for line in text.splitlines()]
        stub = lines.index("# YOUR CODE HERE")
        assert lines[stub + 1] == "raise NotImplementedError()" and "SOLUTION" not in text
    assert "flat.mean().item(), flat.var().item()" not in json.dumps(nb)
    assert find_leaks(released / "release", REPO) == []
    assert 'raise NotImplementedError("complete q_sample' in (release / "p1_forward" / "forward.py").read_text()


@pytest.mark.slow
def test_autograde_gives_the_reference_full_marks(released, tmp_path):
    """Does ``nbgrader autograde`` give a submission with the reference solution every point, and
    does ``nbgrader export`` write the columns our gradebook export writes?"""
    submit(released, "alice", "perfect", fill_solutions=True)
    nbgrader(released, "autograde", "p1_forward", "--student", "alice")
    score, max_score, lost = scores(released, "alice")
    assert max_score == public_test_count() and score == max_score, lost
    nbgrader(released, "export", "--to", str(tmp_path / "grades.csv"))
    with open(tmp_path / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == NBGRADER_EXPORT_COLUMNS
    assert float(next(r for r in rows if r["student_id"] == "alice")["score"]) == max_score


@pytest.mark.slow
def test_autograde_keeps_the_student_package_and_restores_the_tests(released):
    """Does autograding grade the student's own package (points lost where the partial example
    is wrong) against the course's public tests, not an edited copy?"""
    dest = submit(released, "bob", "partial", fill_solutions=False)
    (dest / "tests" / "test_forward.py").write_text("def test_nothing():\n    pass\n")
    nbgrader(released, "autograde", "p1_forward", "--student", "bob")
    score, max_score, lost = scores(released, "bob")
    assert 0 < score < max_score
    assert "public_test_forward_test_q_sample_uses_one_timestep_per_sample" in lost
    graded = released / "autograded" / "bob" / "p1_forward"
    public = ADIR / "tests" / "public" / "test_forward.py"
    assert (graded / "tests" / "test_forward.py").read_bytes() == public.read_bytes()
    assert (graded / "p1_forward" / "forward.py").read_bytes() == \
        (EXAMPLES / "partial" / "p1_forward" / "forward.py").read_bytes()


def write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_export_converts_the_batch_gradebook(tmp_path):
    """Does a gradebook written by the batch grader become one nbgrader row per student, a student
    who sent nothing included with 0?"""
    from autograder.batch.gradebook import Column, Record, missing_record, render_csv

    columns = [Column("test_q_sample_values", "test_q_sample_values", 10.0)]
    records = [Record("alice", "graded", 100.0, 100.0, late=False, points={"test_q_sample_values": 10.0}),
               Record("bob", "graded", 12.5, 100.0, late=True, points={"test_q_sample_values": 0.0}),
               missing_record("carol", 100.0)]
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_text(render_csv(records, columns))
    out = export_nbgrader_gradebook(gradebook, tmp_path / "nbgrader.csv", assignment="p1_forward",
                                    duedate="2025-03-02 00:00:00")
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == NBGRADER_EXPORT_COLUMNS
    assert rows[0] == {"assignment": "p1_forward", "duedate": "2025-03-02 00:00:00", "timestamp": "",
                       "student_id": "alice", "last_name": "", "first_name": "", "email": "",
                       "raw_score": "100.0", "late_submission_penalty": "0.0", "score": "100.0",
                       "max_score": "100.0"}
    assert [(r["student_id"], r["score"]) for r in rows] == [("alice", "100.0"), ("bob", "12.5"), ("carol", "0.0")]


def test_export_uses_names_times_and_penalties_when_given(tmp_path):
    """Are optional name, time and penalty columns carried over, names split, penalties applied?"""
    gradebook = write_csv(tmp_path / "gradebook.csv", [
        {"student_id": "alice", "name": "Alice Anders", "submitted_at": "2025-03-01T22:10:00",
         "total": "100", "max": "100", "late_penalty": ""},
        {"student_id": "bob", "name": "Brown, Bob", "submitted_at": "", "total": "12.5", "max": "100",
         "late_penalty": "20"},
    ])
    out = export_nbgrader_gradebook(gradebook, tmp_path / "nbgrader.csv", assignment="p1_forward")
    with open(out, newline="") as f:
        alice, bob = csv.DictReader(f)
    assert (alice["last_name"], alice["first_name"]) == ("Anders", "Alice")
    assert alice["timestamp"] == "2025-03-01T22:10:00"
    assert (bob["last_name"], bob["first_name"]) == ("Brown", "Bob")
    assert (bob["raw_score"], bob["late_submission_penalty"], bob["score"]) == ("12.5", "20.0", "0.0")


def test_export_names_what_is_missing(tmp_path):
    """Does a gradebook without a total column, or without any assignment name, raise a clear error?"""
    no_total = write_csv(tmp_path / "a.csv", [{"student_id": "alice", "max": "100"}])
    with pytest.raises(InteropError, match="no total column"):
        export_nbgrader_gradebook(no_total, tmp_path / "out.csv", assignment="p1_forward")
    no_name = write_csv(tmp_path / "b.csv", [{"student_id": "alice", "total": "1", "max": "2"}])
    with pytest.raises(InteropError, match="--assignment"):
        export_nbgrader_gradebook(no_name, tmp_path / "out.csv")
    project_column = write_csv(tmp_path / "c.csv", [{"student_id": "a", "project": "p1_forward", "total": "1",
                                                     "max": "2"}])
    out = export_nbgrader_gradebook(project_column, tmp_path / "out.csv")
    assert "p1_forward,,,a,,,,1.0,0.0,1.0,2.0" in out.read_text()
