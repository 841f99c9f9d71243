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


# -- @requires ------------------------------------------------------------------------------------
REQUIRING = ("from autograder.testing import cases, requires\n"
             "@cases(s=['a', 'b'])\ndef test_values(s):\n    pass\n"
             "@cases(s=['a', 'b'])\n@requires('test_values[{s}]')\ndef test_shape(s):\n    pass\n"
             "@requires('test_values', 'test_shape[a]')\ndef test_property():\n    pass\n")


def test_requires_resolves_names_per_case(tmp_path):
    """Does @requires name a whole test or one case, with {param} filled per case, and reach the outcomes?"""
    tests = {t.name: t for t in collect(write_tests(tmp_path / "t", REQUIRING))}
    assert tests["test_values[a]"].requires == ()
    assert tests["test_shape[a]"].requires == ("test_values[a]",)
    assert tests["test_shape[b]"].requires == ("test_values[b]",)
    assert tests["test_property"].requires == ("test_values", "test_shape[a]")
    outcomes = {o.name: o for o in run_tests(list(tests.values()), {})}
    assert outcomes["test_shape[b]"].requires == ("test_values[b]",) and outcomes["test_shape[b]"].passed


@pytest.mark.parametrize("body, message", [
    ("@requires('test_valeus')\ndef test_b():\n    pass\n", "test_b requires 'test_valeus', which is not a hidden test"),
    ("@requires('test_a[c]')\ndef test_b():\n    pass\n", "its cases are"),
    ("@cases(s=['x'])\n@requires('test_a[{t}]')\ndef test_b(s):\n    pass\n", "{t} is not a case parameter"),
    ("@requires('test_b')\ndef test_b():\n    pass\n", "a case of itself"),
    ("@requires('test_c')\ndef test_b():\n    pass\n@requires('test_b')\ndef test_c():\n    pass\n", "cycle"),
    ("@tags('quality')\ndef test_q():\n    pass\n@requires('test_q')\ndef test_b():\n    pass\n", "tagged ['quality']"),
])
def test_bad_requirement_is_a_collection_error(tmp_path, body, message):
    """Is a typo, a missing case, an unknown field, a self-requirement, a cycle or a tag mismatch
    refused when the tests are collected, naming the file and the test?"""
    from autograder.config import ConfigError

    head = ("from autograder.testing import cases, requires, tags\n"
            "@cases(s=['a', 'b'])\ndef test_a(s):\n    pass\n")
    d = write_tests(tmp_path / "t", head + body)
    with pytest.raises(ConfigError, match="test_a.py") as e:
        collect(d)
    assert message in str(e.value)


def test_requires_needs_a_name():
    """Is @requires() without names refused?"""
    from autograder.testing import requires

    with pytest.raises(ValueError, match="names of one or more hidden tests"):
        requires()
