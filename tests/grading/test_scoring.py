"""Points from outcomes: shares of cases, and points held until prerequisites pass."""

import pytest

from autograder.grading.runner import TestOutcome
from autograder.grading.scoring import score, total

POINTS = {"test_values": 4, "test_shape": 2, "test_property": 3}


def outcomes(values=(True, True), shape=(True, True), prop=True):
    return ([TestOutcome(f"test_values[{c}]", "test_values", ok, "" if ok else "wrong values", weight=0.5)
             for c, ok in zip("ab", values)]
            + [TestOutcome(f"test_shape[{c}]", "test_shape", ok, "" if ok else "wrong shape", weight=0.5,
                           requires=(f"test_values[{c}]",)) for c, ok in zip("ab", shape)]
            + [TestOutcome("test_property", "test_property", prop, weight=1.0,
                           requires=("test_values", "test_shape"))])


def by_name(rows):
    return {r.name: r for r in rows}


def test_all_prerequisites_met_pay_in_full():
    """With every prerequisite passed, does every test earn its points?"""
    rows = score(outcomes(), POINTS)
    assert total(rows) == (9, 9)
    assert all(r.passed and not r.waiting_for for r in rows)


def test_failed_case_holds_only_its_dependants():
    """Does a failed case hold the case tied to it and the tests that need the whole test, and say so?"""
    rows = by_name(score(outcomes(values=(True, False)), POINTS))
    assert rows["test_shape[a]"].score == 1 and rows["test_shape[a]"].passed
    held = rows["test_shape[b]"]
    assert held.score == 0 and not held.passed and held.own_checks_passed and held.held
    assert held.waiting_for == ("test_values[b]",) and held.max_score == 1
    assert "passed this test's own checks" in held.output and "awarded once test_values[b] passes" in held.output
    assert rows["test_property"].waiting_for == ("test_values", "test_shape")  # shape[b] is held too: a chain
    assert total(rows.values()) == (3, 9)


def test_held_test_that_also_failed_keeps_its_message():
    """Does a test failing on its own keep its message, with the held note after it?"""
    rows = by_name(score(outcomes(values=(False, True), shape=(False, True)), POINTS))
    row = rows["test_shape[a]"]
    assert row.output.startswith("wrong shape") and "awarded once test_values[a] passes" in row.output
    assert not row.held and row.own_checks_passed is False


def test_prerequisite_not_run_is_not_met():
    """Is a prerequisite without outcomes (not run) unmet, so its dependant earns nothing?"""
    rows = score([TestOutcome("test_shape", "test_shape", True, requires=("test_values",))], POINTS)
    assert rows[0].score == 0 and rows[0].waiting_for == ("test_values",)


def test_missing_points_entry_is_an_error():
    with pytest.raises(KeyError, match="test_other"):
        score([TestOutcome("test_other", "test_other", True)], POINTS)
