"""Grading a folder of toy submissions end to end with the local executor."""

import csv
import json
import shutil
import stat

import pytest

from autograder.batch import BatchError, regrade
from autograder.batch.executors import LocalExecutor
from tests.batch.conftest import EXPECTED, run_batch
from tests.conftest import TOY_SOLUTION, write_package


def rows(result) -> dict[str, dict]:
    with open(result.gradebook, newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


def test_gradebook_has_one_row_per_student(toy_batch):
    """Does the gradebook hold every student, sorted, with per-test points, total, max, late and status?"""
    _, _, result = toy_batch
    text = result.gradebook.read_text()
    lines = text.splitlines()
    assert lines[0] == ("student_id,test_scale,test_scale_cases[0.5],test_scale_cases[2.0],test_pair,"
                        "total,max,late,status,reason")
    assert lines[1] == "alice,2,1,1,1,5,5,no,graded,"
    assert lines[2] == "bob,0,0,1,1,2,5,yes,graded,"
    got = {sid: (float(r["total"]), r["late"] == "yes", r["status"]) for sid, r in rows(result).items()}
    assert got == EXPECTED
    assert [r.student_id for r in result.records] == sorted(EXPECTED)


def test_broken_submissions_get_zero_rows_with_reasons(toy_batch):
    """Do a file that is not a zip and a folder without the package score zero with a reason, and
    leave the others graded normally?"""
    _, _, result = toy_batch
    table = rows(result)
    assert "carol.zip: expected a folder or a .zip file" in table["carol"]["reason"]
    assert "no p1_forward/__init__.py found" in table["dave"]["reason"]
    assert result.errors == 0 and result.graded == 4
    for sid in EXPECTED:
        folder = result.out_dir / "submissions" / sid
        data = json.loads((folder / "results.json").read_text())
        assert data["score"] == EXPECTED[sid][0] and len(data["tests"]) == 4
        assert (folder / "feedback.md").is_file() and (folder / "done.json").is_file()


def test_summary_files(toy_batch):
    """Do summary.md and summary.json count students, draw the histogram and rank tests by failures?"""
    _, _, result = toy_batch
    md = result.summary.read_text()
    assert "students: 4 (graded 4, grading failed 0, missing 0)" in md and "- late: 1" in md
    assert "[  0%,  10%)    2 " in md and "[ 40%,  50%)    1 " in md and "[ 90%, 100%]    1 " in md
    data = json.loads((result.out_dir / "summary.json").read_text())
    assert [(t["name"], t["passed"]) for t in data["tests"]] == [
        ("test_scale", 1), ("test_scale_cases[0.5]", 1), ("test_scale_cases[2.0]", 2), ("test_pair", 2)]
    assert data["mean"] == 1.75 and data["graded"] == 4


def test_rerun_keeps_everything(toy_batch):
    """Does running the same batch again grade nothing and write the same gradebook?"""
    course, submissions, first = toy_batch
    before = first.gradebook.read_bytes()
    again = run_batch(course, submissions, first.out_dir)
    assert (again.graded, again.skipped) == (0, 4)
    assert again.gradebook.read_bytes() == before


def test_changed_submission_is_graded_again(toy_batch, tmp_path):
    """After a student replaces their submission, is only that student graded again?"""
    course, submissions, first = toy_batch
    subs = tmp_path / "subs"
    shutil.copytree(submissions, subs)
    out = tmp_path / "out"
    shutil.copytree(first.out_dir, out)
    write_package(subs / "bob-p1-submission", TOY_SOLUTION)
    result = run_batch(course, subs, out, deadline=None)
    assert (result.graded, result.skipped) == (1, 3)
    assert rows(result)["bob"]["total"] == "5" and rows(result)["bob"]["late"] == ""


def test_regrade_gives_the_same_score_bit_for_bit(toy_batch, tmp_path):
    """Does regrading a student reproduce their results and leave the gradebook byte-identical?"""
    course, _, first = toy_batch
    out = tmp_path / "out"
    shutil.copytree(first.out_dir, out)
    before = json.loads((out / "submissions" / "bob" / "results.json").read_text())
    gradebook, summary = (out / "gradebook.csv").read_bytes(), (out / "summary.md").read_bytes()
    done_before = (out / "submissions" / "bob" / "done.json").stat().st_mtime_ns
    record = regrade(project="p1", student_id="bob", out_dir=out, root=course, device="cpu",
                     isolation="process", progress=False)
    after = json.loads((out / "submissions" / "bob" / "results.json").read_text())
    assert (out / "submissions" / "bob" / "done.json").stat().st_mtime_ns != done_before  # really regraded
    assert record.total == 2.0 and record.status == "graded" and record.late is True
    assert after["score"] == before["score"]
    assert [(t["name"], t["score"], t["status"], t["output"]) for t in after["tests"]] == \
           [(t["name"], t["score"], t["status"], t["output"]) for t in before["tests"]]
    assert (out / "gradebook.csv").read_bytes() == gradebook
    assert (out / "summary.md").read_bytes() == summary


def test_regrade_unknown_student(toy_batch, tmp_path):
    """Does regrading a student who is not in the batch say so and list who is?"""
    course, _, first = toy_batch
    with pytest.raises(BatchError, match=r"no student 'mallory'.*alice, bob, carol, dave"):
        regrade(project="p1", student_id="mallory", out_dir=first.out_dir, root=course, device="cpu",
                isolation="process", progress=False)
    with pytest.raises(BatchError, match="run `diffgrade batch` first"):
        regrade(project="p1", student_id="alice", out_dir=tmp_path, root=course, device="cpu",
                isolation="process", progress=False)


def killing_python(tmp_path, index: int):
    """A stand-in interpreter that SIGKILLs itself for manifest entry ``index`` and runs Python otherwise."""
    import sys

    script = tmp_path / "python-that-crashes"
    script.write_text(f'#!/bin/bash\nif [ "$6" = "{index}" ]; then kill -9 $$; fi\nexec {sys.executable} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_killed_grading_process_is_an_error_row(toy_batch, tmp_path):
    """When the grading process of one student is killed, is that an error row, with the others intact?"""
    course, submissions, _ = toy_batch
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("alice_submission.zip", "bob-p1-submission"):
        src = submissions / name
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, subs / name)
    executor = LocalExecutor(workers=2, python=killing_python(tmp_path, 0))
    result = run_batch(course, subs, tmp_path / "out", executor=executor)
    table = rows(result)
    assert table["alice"]["status"] == "error" and table["alice"]["total"] == "0"
    assert "killed by SIGKILL" in table["alice"]["reason"]
    assert table["bob"]["status"] == "graded" and table["bob"]["total"] == "2"
    assert result.errors == 1
    alice = json.loads((result.out_dir / "submissions" / "alice" / "results.json").read_text())
    assert alice["score"] == 0 and "killed by SIGKILL" in alice["output"]
    assert "Grading failed (regrade these)" in result.summary.read_text()


def test_roster_batch(toy_batch, tmp_path):
    """With a roster: are ids and submission times taken from it, absent students listed as missing,
    and entries not in the roster reported but not graded?"""
    course, submissions, _ = toy_batch
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,file,submitted_at\n"
                      "u1,Alice,alice_submission.zip,2025-03-01T12:30:00Z\n"
                      "u2,Bob,bob-p1-submission,2025-03-01T09:00:00Z\n"
                      "u3,Zoe,,\n")
    result = run_batch(course, submissions, tmp_path / "out", roster=roster)
    table = rows(result)
    assert list(table) == ["u1", "u2", "u3"]
    assert (table["u1"]["total"], table["u1"]["late"]) == ("5", "yes")
    assert (table["u2"]["total"], table["u2"]["late"]) == ("2", "no")
    assert (table["u3"]["status"], table["u3"]["test_scale"], table["u3"]["reason"]) == ("missing", "", "no submission")
    assert result.unmatched == ("carol.zip", "dave") and result.missing == ("u3",)
    assert "not in the roster, not graded: carol.zip, dave" in result.summary.read_text()


def test_output_folder_in_use(toy_batch, tmp_path):
    """Does a second batch on an output folder in use stop with a clear error?"""
    import fcntl

    course, submissions, _ = toy_batch
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BatchError, match="in use by another batch"):
            run_batch(course, submissions, out)
