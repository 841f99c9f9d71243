"""``diffgrade calibrate --write``: the thresholds land in assignment.toml, every other line stays."""

import datetime

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
