"""Counting and reporting an audit's results, on results made by hand."""

from autograder.audit.mutants import Mutant
from autograder.audit.report import (
    BY_TESTS,
    BY_TIMEOUT,
    COMPILE_ERROR,
    EQUIVALENT,
    KILLED,
    SURVIVED,
    AuditReport,
    MutantResult,
    to_markdown,
)


def mutant(n: int) -> Mutant:
    return Mutant(id=f"m.py:{n}:1:add-to-sub", file="m.py", line=n, col=1, operator="add-to-sub",
                  description="`a + b` -> `a - b`", before="y = a + b", after="y = a - b", source="y = a - b\n")


def make_report() -> AuditReport:
    tests = (("test_a[1]", "test_a"), ("test_a[2]", "test_a"), ("test_b", "test_b"), ("test_c", "test_c"))
    results = (
        MutantResult(mutant(1), KILLED, killed_by=("test_a[1]", "test_a[2]"), how=BY_TESTS),
        MutantResult(mutant(2), KILLED, killed_by=("test_a[1]", "test_b"), how=BY_TESTS),
        MutantResult(mutant(3), KILLED, how=BY_TIMEOUT),
        MutantResult(mutant(4), SURVIVED),
        MutantResult(mutant(5), EQUIVALENT, note="same result"),
        MutantResult(mutant(6), COMPILE_ERROR, note="SyntaxError"),
    )
    return AuditReport(project="p1_forward", tests=tests, results=results, generated=10, include_quality=False,
                       timeout_s=10.0, reference_seconds=0.1, seconds=3.0, jobs=2, sample_seed=0,
                       warnings=("a warning",))


def test_counts_and_kill_fraction():
    """Do equivalent mutants and compile errors stay out of the kill fraction?"""
    report = make_report()
    assert (report.total, report.killed, report.survived, report.equivalent, report.compile_errors) == (6, 3, 1, 1, 1)
    assert report.kill_fraction == 3 / 4
    assert report.killed_how() == {BY_TESTS: 2, BY_TIMEOUT: 1}
    assert [r.mutant.line for r in report.survivors] == [4]


def test_kills_per_test_count_mutants_not_cases():
    """Is a mutant counted once per test function however many of its cases fail, and are sole kills found?"""
    report = make_report()
    assert report.kills_by_test() == {"test_a": 2, "test_b": 1, "test_c": 0}
    assert report.sole_kills() == {"test_a": 1, "test_b": 0, "test_c": 0}


def test_markdown_lists_survivors_with_their_diff():
    """Does the report show counts, each survivor's diff, the equivalents, per-test kills and warnings?"""
    text = to_markdown(make_report())
    assert "**75.0%** (3 / 4)" in text
    assert "A sample of 6 of 10 mutants (seed 0)" in text
    assert "- `m.py:4:1:add-to-sub`" in text and "  - y = a + b\n  + y = a - b" in text
    assert "`m.py:5:1:add-to-sub` (`a + b` -> `a - b`): same result" in text
    assert "| `test_a` | 2 | 2 | 1 |" in text and "| `test_c` | 1 | 0 | 0 |" in text
    assert "- a warning" in text
    assert "Killed by a failing test 2, by the timeout 1." in text
