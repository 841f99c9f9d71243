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
