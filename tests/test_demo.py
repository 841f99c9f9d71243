"""The demo: release everything and grade the shipped examples."""

import csv
import json
import shutil

from autograder.demo import demo, examples
from autograder.grading.grade import grade
from tests.conftest import REPO


def test_demo_grades_every_example_as_expected(tmp_path, capsys):
    """Does `diffgrade demo` release, grade each example to its expected outcome, and print a gradebook?"""
    assert demo(out_dir=tmp_path / "demo") == 0
    out = capsys.readouterr().out
    assert "every score as expected" in out and "submission" in out
    with open(tmp_path / "demo" / "gradebook.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["submission"] for r in rows} == {e.name for e in examples(REPO)}
    assert all(r["as_expected"] == "yes" for r in rows)
    assert (tmp_path / "demo" / "release" / "p1_forward" / "README.md").is_file()
    assert not list((tmp_path / "demo" / "release").rglob("hidden"))


def test_cheating_changes_nothing(tmp_path):
    """Does the hostile example score exactly like an honest twin with the same wrong q_sample?"""
    cheat = REPO / "examples" / "p1_forward" / "cheat"
    twin = tmp_path / "twin"
    shutil.copytree(cheat, twin)
    shutil.copy(REPO / "examples" / "p1_forward" / "perfect" / "p1_forward" / "__init__.py",
                twin / "p1_forward" / "__init__.py")
    a = grade(project="p1", submission=cheat, out_dir=tmp_path / "cheat", device="cpu")
    b = grade(project="p1", submission=twin, out_dir=tmp_path / "twin_out", device="cpu")
    assert a.score == b.score < a.max_score
    written = json.loads((tmp_path / "cheat" / "results.json").read_text())
    assert written["score"] == a.score and written["tests"]
    assert [t.name for t in a.tests if not t.passed] == [t.name for t in b.tests if not t.passed]
