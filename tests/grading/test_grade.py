"""Grading one submission end to end on a toy course."""

import json

import pytest

from autograder.grading.grade import grade
from autograder.sandbox import isolation as iso

GRADESCOPE_TEST_KEYS = {"name", "number", "score", "max_score", "status", "output", "visibility"}


def run(toy_course, submission, tmp_path, name="out", **kw):
    out = tmp_path / name
    result = grade(project="p1", submission=submission, out_dir=out, root=toy_course,
                   isolation=kw.pop("isolation", "process"), device="cpu", **kw)
    return result, json.loads((out / "results.json").read_text()), (out / "feedback.md").read_text()


def validate_gradescope(data: dict) -> None:
    """The fields and types Gradescope's results.json specification asks for."""
    assert isinstance(data["score"], (int, float)) and isinstance(data["execution_time"], (int, float))
    assert data["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert isinstance(data["tests"], list) and data["tests"]
    for t in data["tests"]:
        assert GRADESCOPE_TEST_KEYS <= set(t), t
        assert 0 <= t["score"] <= t["max_score"] and t["status"] in ("passed", "failed")
        assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert abs(sum(t["score"] for t in data["tests"]) - data["score"]) < 1e-6


@pytest.mark.parametrize("level", ["process", pytest.param("bwrap", marks=pytest.mark.skipif(
    not iso.bwrap_works(), reason="bubblewrap is not installed or cannot create namespaces here"))])
def test_correct_submission_gets_full_marks(toy_course, toy_submission, tmp_path, level):
    """Does the reference-equivalent submission score every point, in each isolation level?"""
    result, data, feedback = run(toy_course, toy_submission("good"), tmp_path, isolation=level)
    validate_gradescope(data)
    assert result.score == result.max_score == 5
    assert data["extra_data"]["isolation"] == level and level in feedback
    assert [t["name"] for t in data["tests"]] == ["test_scale", "test_scale_cases[0.5]",
                                                 "test_scale_cases[2.0]", "test_pair"]


def test_wrong_values_cost_points_with_feedback(toy_course, toy_submission, tmp_path):
    """Does a wrong function lose its points and get expected-vs-got feedback?"""
    body = "def scale(x, factor):\n    return x + factor\n\n\ndef pair(x):\n    return x + 1, x - 1\n"
    result, data, feedback = run(toy_course, toy_submission("wrong", body), tmp_path)
    assert result.score == 1  # only test_pair
    failing = {t["name"]: t["output"] for t in data["tests"] if t["status"] == "failed"}
    assert set(failing) == {"test_scale", "test_scale_cases[0.5]", "test_scale_cases[2.0]"}
    assert "expected" in failing["test_scale"] and "max abs error" in failing["test_scale"]
    assert "hint: multiply" in feedback


def test_cases_share_points(toy_course, toy_submission, tmp_path):
    """Does passing one of two cases earn half the test's points?"""
    body = ("def scale(x, factor):\n    return x * 2.0\n\n\n"
            "def pair(x):\n    return x + 1, x - 1\n")
    result, data, _ = run(toy_course, toy_submission("half", body), tmp_path)
    by_name = {t["name"]: t["score"] for t in data["tests"]}
    assert by_name["test_scale_cases[2.0]"] == 1 and by_name["test_scale_cases[0.5]"] == 0
    assert result.score == 2


def test_hang_and_crash_cost_only_their_tests(toy_course, toy_submission, tmp_path):
    """Do an infinite loop in one function and os._exit in another leave the other points intact?"""
    body = ("import os\n\ndef scale(x, factor):\n    while True:\n        pass\n\n\n"
            "def pair(x):\n    os._exit(1)\n")
    result, data, _ = run(toy_course, toy_submission("bad", body), tmp_path)
    assert result.score == 0
    outputs = " ".join(t["output"] for t in data["tests"])
    assert "did not return within" in outputs and "died" in outputs and "earlier test" in outputs
    assert result.seconds < 30


def test_import_error_scores_zero_with_a_note(toy_course, toy_submission, tmp_path):
    """Does a package that does not import score zero and say why?"""
    result, data, feedback = run(toy_course, toy_submission("broken", "def scale(x:\n"), tmp_path)
    assert result.score == 0 and "failed to import" in data["output"]
    assert "SyntaxError" in feedback


def test_unloadable_submission_still_writes_results(toy_course, tmp_path):
    """Does a missing package give a zero results.json instead of a crash?"""
    empty = tmp_path / "empty"
    empty.mkdir()
    result, data, _ = run(toy_course, empty, tmp_path)
    validate_gradescope(data)
    assert result.score == 0 and "could not be loaded" in data["output"]


def test_regrading_is_identical(toy_course, toy_submission, tmp_path):
    """Does grading the same submission twice give the same scores and outputs?"""
    sub = toy_submission("good")
    _, a, _ = run(toy_course, sub, tmp_path, name="a")
    _, b, _ = run(toy_course, sub, tmp_path, name="b")
    strip = lambda d: [(t["name"], t["score"], t["output"]) for t in d["tests"]]  # noqa: E731
    assert strip(a) == strip(b) and a["score"] == b["score"]


def test_progress_callback_sees_every_test(toy_course, toy_submission, tmp_path):
    """Is on_test called once per test case, in order?"""
    seen = []
    run(toy_course, toy_submission("good"), tmp_path, on_test=lambda o: seen.append(o.name))
    assert seen == ["test_scale", "test_scale_cases[0.5]", "test_scale_cases[2.0]", "test_pair"]


def test_grading_fixtures_seed_and_budget(toy_course, toy_submission, tmp_path):
    """When grading, is ``seed`` 0 and ``budget`` the device's kind (the quality tests' usual run)?"""
    adir = toy_course / "assignments" / "p1_forward"
    (adir / "tests" / "hidden" / "test_fixtures.py").write_text(
        "def test_fixtures(check, seed, budget):\n"
        "    check.true((seed, budget) == (0, 'cpu'), 'the fixtures', f'got seed={seed}, budget={budget!r}')\n")
    (adir / "assignment.toml").write_text((adir / "assignment.toml").read_text() + "test_fixtures = 1\n")
    result, data, _ = run(toy_course, toy_submission("good"), tmp_path)
    assert {t["name"]: t["status"] for t in data["tests"]}["test_fixtures"] == "passed"
    assert result.score == result.max_score == 6


REQUIRING_HIDDEN = '''
import torch
from autograder.testing import requires


@requires("test_scale")
def test_scale_shape(student, check):
    """Does scale keep the shape? (Points once test_scale passes.)"""
    check.shape(student.scale(torch.ones(2, 3), 3.0), (2, 3), "scale(x, 3)")
'''


def test_held_points_show_in_results_and_feedback(toy_course, toy_submission, tmp_path):
    """Does a test that passes its own checks, but whose prerequisite fails, score 0 and say why in
    results.json and feedback.md, and pay once the prerequisite passes?"""
    adir = toy_course / "assignments" / "p1_forward"
    (adir / "tests" / "hidden" / "test_shape.py").write_text(REQUIRING_HIDDEN)
    (adir / "assignment.toml").write_text((adir / "assignment.toml").read_text() + "test_scale_shape = 1\n")
    body = "def scale(x, factor):\n    return x + factor\n\n\ndef pair(x):\n    return x + 1, x - 1\n"
    result, data, feedback = run(toy_course, toy_submission("wrong", body), tmp_path)
    validate_gradescope(data)
    (held,) = [t for t in data["tests"] if t["name"] == "test_scale_shape"]
    assert held["status"] == "failed" and held["score"] == 0 and held["max_score"] == 1
    assert "awarded once test_scale passes" in held["output"]
    assert held["extra_data"] == {"requires": ["test_scale"], "waiting_for": ["test_scale"], "own_checks_passed": True}
    assert "| `test_scale_shape` | held | 0 / 1 |" in feedback and "awarded once test_scale passes" in feedback
    assert result.score == 1  # test_pair only

    result, data, feedback = run(toy_course, toy_submission("good"), tmp_path, name="good")
    assert result.score == result.max_score == 6
    (paid,) = [t for t in data["tests"] if t["name"] == "test_scale_shape"]
    assert paid["status"] == "passed" and paid["extra_data"]["waiting_for"] == []
    assert "held" not in feedback


RAISING_HIDDEN = '''
def test_refuses(student, check):
    """Does scale refuse a negative factor with ValueError?"""
    check.raises("ValueError", lambda: student.scale(1.0, -1.0), "scale(1.0, -1.0)")
'''
RAISING_SUBMISSION = '''
class NegativeFactor(ValueError):
    """A ValueError of the student's own."""


class Unrelated(Exception):
    pass


def scale(x, factor):
    if factor < 0:
        raise {exc}("factor must not be negative")
    return x * factor


def pair(x):
    return x + 1, x - 1
'''


@pytest.mark.parametrize("exc, passes", [("ValueError", True), ("NegativeFactor", True), ("Unrelated", False),
                                         ("TypeError", False)])
def test_raises_accepts_subclasses_through_the_worker(toy_course, toy_submission, tmp_path, exc, passes):
    """Through the real worker, does check.raises('ValueError') accept ValueError and a student's
    subclass of it, and refuse other exceptions, naming what was raised?"""
    adir = toy_course / "assignments" / "p1_forward"
    (adir / "tests" / "hidden" / "test_raise.py").write_text(RAISING_HIDDEN)
    (adir / "assignment.toml").write_text((adir / "assignment.toml").read_text() + "test_refuses = 1\n")
    result, data, _ = run(toy_course, toy_submission(exc, RAISING_SUBMISSION.format(exc=exc)), tmp_path)
    (row,) = [t for t in data["tests"] if t["name"] == "test_refuses"]
    assert (row["status"] == "passed") == passes, row["output"]
    if not passes:
        assert f"raised {exc} instead of ValueError" in row["output"]


def test_load_reference_takes_this_courses_package_after_another_course(tmp_path):
    """Two courses graded in one process, in turn: each gets its own reference, whichever came first."""
    from pathlib import Path

    from autograder.grading.grade import load_reference

    courses = []
    for name in ("a", "b"):
        package = tmp_path / name / "solutions" / "p1_forward"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"COURSE = {name!r}\n")
        courses.append(tmp_path / name)
    for root in (courses[0], courses[1], courses[0], courses[1]):
        module = load_reference("p1_forward", root)
        assert module.COURSE == root.name
        assert Path(module.__file__).resolve().is_relative_to(root.resolve())
