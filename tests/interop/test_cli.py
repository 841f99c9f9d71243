"""The interop verbs: ``register`` adds them, and each forwards to its library function."""

import argparse
import csv
import zipfile

from autograder.interop.cli import register
from autograder.interop.nbgrader import NBGRADER_EXPORT_COLUMNS


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="diffgrade")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_gradescope_verb_writes_the_zip(tmp_path, capsys):
    """Does `diffgrade gradescope p1 -o DIR` write the autograder zip, with torch from PyPI when asked?"""
    assert run("gradescope", "p1", "-o", str(tmp_path), "--torch-index", "") == 0
    path = tmp_path / "p1_forward-autograder.zip"
    with zipfile.ZipFile(path) as zf:
        assert "--extra-index-url" not in zf.read("requirements.txt").decode()
    assert str(path) in capsys.readouterr().out


def test_otter_verb_writes_questions_and_notebook(tmp_path):
    """Does `diffgrade otter p1 -o DIR` write tests/q1.py, tests/q2.py and the notebook?"""
    assert run("otter", "p1", "-o", str(tmp_path)) == 0
    assert sorted(p.name for p in (tmp_path / "tests").iterdir()) == ["q1.py", "q2.py"]
    assert (tmp_path / "forward_process.ipynb").is_file()


def test_nbgrader_verbs(tmp_path):
    """Do `diffgrade nbgrader` and `diffgrade nbgrader-export` write the course and the grades CSV?"""
    assert run("nbgrader", "p1", "-o", str(tmp_path / "course"), "--points-per-test", "2") == 0
    assert (tmp_path / "course" / "source" / "p1_forward" / "forward_process.ipynb").is_file()
    gradebook = tmp_path / "gradebook.csv"
    gradebook.write_text("student_id,test_a,total,max,late,status,reason\nalice,1,1,2,,graded,\n")
    assert run("nbgrader-export", str(gradebook), "-o", str(tmp_path / "grades.csv"), "--assignment", "p1") == 0
    with open(tmp_path / "grades.csv", newline="") as f:
        assert tuple(next(csv.reader(f))) == NBGRADER_EXPORT_COLUMNS
