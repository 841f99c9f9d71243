"""The command line: clear errors and the grade command."""

import json

import pytest

from autograder.cli import main
from tests.conftest import REPO


@pytest.mark.parametrize("argv, message", [
    (["grade", "p9", "x", "-o", "y"], "unknown project 'p9'"),
    (["grade", "p1", "/no/such/submission", "-o", "OUT"], "no such file or folder"),
    (["grade", "p1", str(REPO / "examples"), "-o", "OUT", "--device", "tpu"], "unknown device 'tpu'"),
])
def test_bad_input_gives_one_clear_line(argv, message, capsys, tmp_path, monkeypatch):
    """Does a mistake on the command line give exit code 2 and a message, not a traceback?"""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_grade_prints_progress_and_writes_reports(tmp_path, capsys):
    """Does `diffgrade grade` print a line per test and write results.json and feedback.md?"""
    out = tmp_path / "out"
    assert main(["grade", "p1", str(REPO / "examples" / "p1_forward" / "perfect"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pass  test_q_sample_values[linear]" in printed and "100 / 100" in printed
    assert json.loads((out / "results.json").read_text())["score"] == 100
    assert (out / "feedback.md").read_text().startswith("# P1")


def test_grade_says_which_passed_tests_have_their_points_held(tmp_path, capsys):
    """A test whose own checks pass but whose prerequisite fails printed "pass" as it ran: the
    summary says it is held, and why, so the total adds up."""
    out = tmp_path / "out"
    assert main(["grade", "p1", str(REPO / "examples" / "p1_forward" / "partial"), "-o", str(out), "--quick"]) == 0
    printed = capsys.readouterr().out
    held = [t for t in json.loads((out / "results.json").read_text())["tests"]
            if t.get("extra_data", {}).get("own_checks_passed") and t["score"] == 0]
    assert held, "the partial example no longer has a held test: pick another submission"
    for t in held:
        assert f"held  {t['name']}: its points are awarded once" in printed
