"""What runs inside Gradescope's container: putting loose files back into their package, crash reports."""

import jsonschema

from autograder.interop.gradescope_run import crash_results, prepare_submission
from tests.interop.gradescope_schema import RESULTS_SCHEMA

REQUIRED = ("p1_forward/__init__.py", "p1_forward/schedules.py", "p1_forward/forward.py")


def prepare(submission, tmp_path):
    return prepare_submission(submission, package="p1_forward", required=REQUIRED, scratch=tmp_path / "scratch")


def test_package_folder_is_graded_as_it_is(tmp_path):
    """Is a submission that holds p1_forward/__init__.py (at any depth) left untouched?"""
    sub = tmp_path / "submission"
    (sub / "my-work" / "p1_forward").mkdir(parents=True)
    (sub / "my-work" / "p1_forward" / "__init__.py").write_text("")
    assert prepare(sub, tmp_path) == sub


def test_loose_files_are_put_back_into_their_package(tmp_path):
    """Are loose forward.py / schedules.py / __init__.py copied into p1_forward/, and other files left out?"""
    sub = tmp_path / "submission"
    sub.mkdir()
    for name in ("__init__.py", "forward.py", "schedules.py", "notes.py"):
        (sub / name).write_text(f"# {name}\n")
    graded = prepare(sub, tmp_path)
    assert graded == tmp_path / "scratch"
    assert sorted(p.name for p in (graded / "p1_forward").iterdir()) == ["__init__.py", "forward.py", "schedules.py"]
    assert (graded / "p1_forward" / "forward.py").read_text() == "# forward.py\n"


def test_a_single_zip_is_graded_as_the_zip(tmp_path):
    """Is a lone zip (not unpacked by Gradescope, e.g. nested) handed to the grader as the submission?"""
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "work.zip").write_bytes(b"PK")
    assert prepare(sub, tmp_path) == sub / "work.zip"


def test_nothing_recognisable_is_left_for_the_grader_to_explain(tmp_path):
    """With no package, zip or loose package file, is the folder passed on for the grader to report?"""
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "answers.txt").write_text("hello")
    assert prepare(sub, tmp_path) == sub


def test_crash_results_follow_the_schema():
    """Is the crash report a valid results.json with score 0 and the error in its output?"""
    data = crash_results("ConfigError: boom", seconds=1.234, details="Traceback ...")
    jsonschema.validate(data, RESULTS_SCHEMA)
    assert data["score"] == 0 and "ConfigError: boom" in data["output"] and data["execution_time"] == 1.23
