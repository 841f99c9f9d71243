"""Calibrating a toy course's quality test over several seeds of the reference."""

import pytest

from autograder.calibrate import CalibrationError, calibrate, to_markdown
from autograder.calibrate.statistics import LOG_NORMAL
from tests.calibrate.toy import make_quality_course


@pytest.fixture
def quality_course(toy_course):
    return make_quality_course(toy_course)


def test_dry_run_sets_thresholds_from_the_seeds(quality_course):
    """Does each metric get a threshold above all its seed values, with the file left unchanged?"""
    toml = quality_course / "assignments" / "p1_forward" / "assignment.toml"
    before = toml.read_text()
    seen = []
    report = calibrate(project="p1", root=quality_course, seeds=6, jobs=2, on_seed=lambda k, r: seen.append(k))
    assert toml.read_text() == before and report.written is None
    assert sorted(seen) == list(range(6))
    assert report.tests == ("test_sample_quality",), "only the quality-tagged tests run"
    fid, loss = report.metrics
    assert (fid.name, loss.name) == ("fid_toy", "loss_toy")
    assert len(set(fid.values)) == 6, "each seed gives its own value"
    assert fid.fit.distribution == LOG_NORMAL and fid.threshold >= max(fid.values) * 1.02
    assert fid.current == 21.0 and loss.current is None
    assert fid.failures_at(fid.threshold) == 0
    assert len(report.failures) == fid.failures_at(21.0) > 0, "the first guess fails the reference"
    assert report.thresholds == {"fid_toy": fid.threshold, "loss_toy": loss.threshold}
    text = to_markdown(report)
    assert "| `fid_toy` | log-normal |" in text and "Method: " in text and "seed 0, `test_sample_quality`" in text


def test_a_project_without_quality_tests_is_an_error(toy_course):
    """Is calibrating a project with no quality tests refused with a clear message?"""
    with pytest.raises(CalibrationError, match="no quality-tagged hidden tests"):
        calibrate(project="p1", root=toy_course)


def test_one_seed_is_not_enough(quality_course):
    """Are fewer than 2 seeds refused?"""
    with pytest.raises(CalibrationError, match="at least 2 seeds"):
        calibrate(project="p1", root=quality_course, seeds=1)


@pytest.mark.parametrize("project", ["p2_training", "p3_sampling"])  # the projects with quality tests
def test_every_quality_test_of_the_course_can_be_calibrated(project):
    """The convention calibrate relies on: a quality test takes ``metrics`` (to record what it
    measures under its threshold's name) and ``seed`` (so runs over seeds differ)."""
    import inspect

    from autograder import course
    from autograder.grading import runner

    tests = runner.collect(course.assignment_dir(project, course.course_root()) / "tests" / "hidden")
    quality = [t for t in tests if "quality" in t.tags]
    assert quality, f"{project} has no quality-tagged hidden tests"
    for test in quality:
        wanted = inspect.signature(test.fn).parameters
        assert {"metrics", "seed"} <= set(wanted), f"{test.name} must take the metrics and seed fixtures"


BUDGET_TEST = '''
import time

from autograder.testing import tags


@tags("quality")
def test_budgeted_quality(student, check, metrics, seed, budget):
    """Records one metric per budget, as P2's FID test does (fid_cpu, fid_cuda); seed 1 of cuda is slow."""
    if (seed, budget) == (1, "cuda"):
        time.sleep(30)
    metrics.record(f"fid_{budget}", 3.0 + seed)
'''


def test_budget_and_timeout_reach_every_seed(toy_course):
    """Does --budget choose the metric the quality tests record, and --timeout bound each seed?"""
    adir = toy_course / "assignments" / "p1_forward"
    (adir / "tests" / "hidden" / "test_budget.py").write_text(BUDGET_TEST)
    (adir / "assignment.toml").write_text((adir / "assignment.toml").read_text()
                                          .replace("[points]", "[thresholds]\nfid_cuda = 10\n\n[points]")
                                          + "test_budgeted_quality = 1\n")
    report = calibrate(project="p1", root=toy_course, seeds=3, jobs=2, budget="cuda", timeout=8)
    (metric,) = report.metrics
    assert (metric.name, metric.values, metric.current) == ("fid_cuda", (3.0, 5.0), 10.0)
    assert "not recorded at seed(s) [1]" in metric.note
    assert [(f.seed, f.message.split(":")[0]) for f in report.failures] == [(1, "timeout")]
    default = calibrate(project="p1", root=toy_course, seeds=2, timeout=60)
    assert [(m.name, m.values) for m in default.metrics] == [("fid_cpu", (3.0, 4.0))], "by default: the device's kind"


def test_a_timeout_must_be_positive(quality_course):
    """Is a timeout of zero refused before any seed runs?"""
    with pytest.raises(CalibrationError, match="timeout per seed must be positive"):
        calibrate(project="p1", root=quality_course, timeout=0)
