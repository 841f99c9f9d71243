"""Collecting and running hidden tests."""

import time
import types

import pytest

from autograder.grading.runner import collect, run_tests
from autograder.sandbox.local import InProcessStudent


def write_tests(folder, text):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_a.py").write_text(text)
    return folder


def test_cases_expand_with_equal_weights(tmp_path):
    """Does @cases make one test per value, each with weight 1/n?"""
    d = write_tests(tmp_path / "t", "from autograder.testing import cases\n"
                    "@cases(k=[1, 2, 3])\ndef test_k(k):\n    assert k < 3, f'k={k}'\n"
                    "def helper():\n    pass\n")
    tests = collect(d)
    assert [t.name for t in tests] == ["test_k[1]", "test_k[2]", "test_k[3]"]
    outcomes = run_tests(tests, {})
    assert [o.passed for o in outcomes] == [True, True, False]
    assert outcomes[2].message == "k=3" and abs(sum(o.weight for o in outcomes) - 1) < 1e-12


def test_errors_in_checks_are_explained(tmp_path):
    """Does a result of the wrong type become a readable failure, not a crash?"""
    d = write_tests(tmp_path / "t", "def test_shape(student):\n    student.f().shape\n")
    student = InProcessStudent(types.SimpleNamespace(f=lambda: 3))
    (outcome,) = run_tests(collect(d), {"student": student})
    assert not outcome.passed and "could not check your result" in outcome.message


def test_unknown_fixture_is_a_course_error(tmp_path):
    """Does a hidden test asking for an unknown fixture raise for the instructor?"""
    d = write_tests(tmp_path / "t", "def test_x(nonsense):\n    pass\n")
    with pytest.raises(TypeError, match="unknown fixture 'nonsense'"):
        run_tests(collect(d), {})


def test_deadline_marks_remaining_tests_not_run(tmp_path):
    """Do tests after the grading deadline fail as not run?"""
    d = write_tests(tmp_path / "t", "def test_a():\n    pass\ndef test_b():\n    pass\n")
    outcomes = run_tests(collect(d), {}, deadline=time.monotonic() - 1)
    assert all(not o.passed and "not run" in o.message for o in outcomes)


def test_tags_select_tests(tmp_path):
    """Does without_tags drop exactly the tests with an excluded tag, cases included?"""
    d = write_tests(tmp_path / "t", "from autograder.testing import cases, tags\n"
                    "@tags('quality')\n@cases(n=[1, 2])\ndef test_slow(n):\n    pass\n"
                    "def test_fast():\n    pass\n")
    from autograder.grading.runner import without_tags
    tests = collect(d)
    assert [t.name for t in without_tags(tests, {"quality"})] == ["test_fast"]
    assert len(without_tags(tests, set())) == 3
