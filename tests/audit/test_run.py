"""Auditing a course: every mutant graded by the hidden tests in worker processes, and classified."""

import dataclasses

import pytest

from autograder.audit import AuditError, audit, project_mutants, to_markdown
from autograder.audit.report import BY_TESTS, BY_TIMEOUT, COMPILE_ERROR, EQUIVALENT, KILLED, SURVIVED
from tests.audit.test_mutants import REPO
from tests.audit.toy import add_later_project, make_audit_course, mutant_id


@pytest.fixture
def audit_course(toy_course):
    return make_audit_course(toy_course)


def test_every_fate_of_a_mutant(audit_course):
    """Are mutants killed by tests or by the timeout, surviving, equivalent or not compiling, as they should be?"""
    package = audit_course / "solutions" / "p1_forward"
    mutants = project_mutants(package)
    equivalent = mutant_id(mutants, "i = 0", "const-plus-one")
    wrongly_declared = mutant_id(mutants, "return x * factor", "drop-right")
    (audit_course / "assignments" / "p1_forward" / "audit.toml").write_text(
        f'[[equivalent]]\nid = "{equivalent}"\nreason = "the loop ends at n whether it starts at 0 or 1"\n\n'
        f'[[equivalent]]\nid = "{wrongly_declared}"\nreason = "declared by mistake"\n\n'
        f'[[equivalent]]\nid = "toy.py:99:1:add-to-sub"\nreason = "a line that is gone"\n')
    broken = dataclasses.replace(mutants[0], id="toy.py:1:1:broken", source="def broken(:\n")
    seen = []
    report = audit(project="p1", root=audit_course, jobs=2, timeout=3, mutants=[*mutants, broken],
                   on_result=seen.append)

    fate = {r.mutant.id: r for r in report.results}
    assert fate[equivalent].status == EQUIVALENT
    assert fate[mutant_id(mutants, "return True", "flip-bool")].status == SURVIVED
    for looping in (mutant_id(mutants, "i += 1", "add-to-sub"), mutant_id(mutants, "i += 1", "const-one-to-zero")):
        assert (fate[looping].status, fate[looping].how) == (KILLED, BY_TIMEOUT)
    killed_by_scale = fate[mutant_id(mutants, "return x * factor", "mul-to-div")]
    assert (killed_by_scale.status, killed_by_scale.how, killed_by_scale.killed_by) == (KILLED, BY_TESTS,
                                                                                        ("test_scale",))
    assert fate["toy.py:1:1:broken"].status == COMPILE_ERROR

    assert (report.total, report.killed, report.survived, report.equivalent, report.compile_errors) == (12, 9, 1, 1, 1)
    assert report.kill_fraction == 9 / 10
    assert report.kills_by_test() == {"test_scale": 4, "test_count_up": 3}
    assert len(seen) == 11, "on_result sees every graded mutant (not the one that does not compile)"
    assert any("toy.py:99:1:add-to-sub" in w and "no mutant" in w for w in report.warnings)
    assert any(wrongly_declared in w and "killed" in w for w in report.warnings)
    assert "flip-bool" in to_markdown(report)


def test_reference_failing_its_tests_is_an_error(audit_course):
    """Does an audit refuse to judge mutants when the reference itself fails a hidden test?"""
    hidden = audit_course / "assignments" / "p1_forward" / "tests" / "hidden" / "test_toy.py"
    hidden.write_text(hidden.read_text().replace("student.count_up(5), 5", "student.count_up(5), 6"))
    with pytest.raises(AuditError, match="(?s)the reference fails 1 of its own hidden test case.*test_count_up"):
        audit(project="p1", root=audit_course, mutants=[])


def test_later_project_imports_the_earlier_reference(toy_course):
    """Can a project whose reference imports an earlier project (as P2 imports P1) be audited?"""
    report = audit(project="p2", root=add_later_project(toy_course))
    assert report.total > 3 and report.kills_by_test() == {"test_double": report.killed}
    assert "__init__.py:9:12:swap-args-1-2" in {r.mutant.id for r in report.results}
    assert report.killed_how() == {BY_TESTS: report.killed}


def test_p1_sample():
    """Does a seeded sample of 20 P1 mutants run, with the reference passing and every mutant accounted for?"""
    report = audit(project="p1", root=REPO, max_mutants=20, jobs=2, sample_seed=3)
    assert report.total == 20 and report.generated > 20 and report.sample_seed == 3
    assert report.compile_errors == 0
    assert report.killed + report.survived + report.equivalent == 20
    assert report.killed_how().get(BY_TESTS, 0) == report.killed, "no P1 mutant should hang or crash a worker"
    assert report.kill_fraction >= 0.9, to_markdown(report)
    assert len(report.tests) > 20 and report.reference_seconds > 0
