"""``diffgrade calibrate --write``: the thresholds land in assignment.toml, every other line stays."""

import datetime

import pytest

from autograder.config import load
from autograder.instructor_cli import main
from tests.calibrate.toy import make_quality_course


def test_write_round_trip_keeps_comments(toy_course, monkeypatch, capsys, tmp_path):
    """After --write, do the new thresholds load, with every other line and comment of the file unchanged?"""
    course = make_quality_course(toy_course)
    monkeypatch.setenv("DIFFGRADE_COURSE", str(course))
    adir = course / "assignments" / "p1_forward"
    before = (adir / "assignment.toml").read_text()
    report = tmp_path / "calibration.md"
    assert main(["calibrate", "p1", "--seeds", "4", "-j", "2", "--false-fail", "0.05", "--write",
                 "-o", str(report)]) == 0
    out = capsys.readouterr().out
    assert "seed 3: fid_toy=" in out and "updated [thresholds]" in out

    after = (adir / "assignment.toml").read_text()
    stamp = [line for line in after.splitlines() if line.startswith("# calibrated by diffgrade calibrate")]
    assert stamp == [f"# calibrated by diffgrade calibrate on {datetime.date.today().isoformat()}: "
                     "4 seeds of the reference, false-fail rate <= 0.05 per metric"]
    changed = {"fid_toy", "loss_toy", "# calibrated"}
    kept = [line for line in after.splitlines() if not any(line.startswith(c) for c in changed)]
    assert kept == [line for line in before.splitlines() if not line.startswith("fid_toy")]
    assert [line for line in after.splitlines() if line.startswith("fid_toy")][0].endswith("  # a first guess")

    cfg = load(adir)
    assert set(cfg.thresholds) == {"fid_toy", "unmeasured", "loss_toy"} and cfg.thresholds["unmeasured"] == 5.0
    assert cfg.thresholds["fid_toy"] > 21.0
    assert f"Wrote the new thresholds into {adir / 'assignment.toml'}" in report.read_text()


def test_budget_and_timeout_options(toy_course, monkeypatch, capsys):
    """Do --budget and --timeout reach the calibration (the metric of that budget; a bad budget refused)?"""
    from tests.calibrate.test_run import BUDGET_TEST

    adir = toy_course / "assignments" / "p1_forward"
    (adir / "tests" / "hidden" / "test_budget.py").write_text(BUDGET_TEST)
    (adir / "assignment.toml").write_text((adir / "assignment.toml").read_text() + "test_budgeted_quality = 1\n")
    monkeypatch.setenv("DIFFGRADE_COURSE", str(toy_course))
    assert main(["calibrate", "p1", "--seeds", "2", "--budget", "cuda", "--timeout", "8"]) == 0
    out = capsys.readouterr().out
    assert "seed 0: fid_cuda=3" in out and "seed 1: timeout" in out and "fid_cpu" not in out
    with pytest.raises(SystemExit):
        main(["calibrate", "p1", "--budget", "tpu"])
    assert "invalid choice: 'tpu'" in capsys.readouterr().err
