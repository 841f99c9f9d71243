"""``diffgrade audit``: options forwarded to ``audit``, a report written, exit status 1 below --min-kill."""

import argparse

import pytest

import autograder.audit
from autograder.instructor_cli import main, register
from tests.audit.test_report import make_report
from tests.audit.toy import make_audit_course


def test_register_adds_both_verbs():
    """Does register add audit and calibrate to a parser's subcommands?"""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["audit", "p1", "--quick", "--max-mutants", "20", "-j", "2", "--min-kill", "0.9"])
    assert (args.command, args.project, args.quick, args.max_mutants, args.jobs, args.min_kill) == \
        ("audit", "p1", True, 20, 2, 0.9)
    args = parser.parse_args(["calibrate", "p2", "--seeds", "5", "--false-fail", "0.05", "--write"])
    assert (args.command, args.seeds, args.false_fail, args.write) == ("calibrate", 5, 0.05, True)
    with pytest.raises(SystemExit):
        parser.parse_args(["audit", "p1", "--min-kill", "1.5"])


def test_options_reach_the_library(monkeypatch, capsys, tmp_path):
    """Are the CLI's options passed to audit(), and is the exit status 0 at or above --min-kill?"""
    calls = []

    def fake_audit(**kwargs):
        calls.append(kwargs)
        return make_report()  # kill fraction 0.75

    monkeypatch.setattr(autograder.audit, "audit", fake_audit)
    assert main(["audit", "p1", "--quick", "--max-mutants", "7", "--sample-seed", "4", "-j", "2", "--timeout", "5",
                 "--min-kill", "0.75", "-q", "-o", str(tmp_path / "r.md")]) == 0
    assert calls == [{"project": "p1", "include_quality": False, "max_mutants": 7, "jobs": 2, "sample_seed": 4,
                      "timeout": 5.0, "device": "cpu", "on_result": None}]
    assert (tmp_path / "r.md").read_text().startswith("# Mutation audit: p1_forward")
    assert main(["audit", "p1", "-q"]) == 1
    assert calls[-1]["include_quality"] is True, "without --quick the quality tests run too"
    assert "below --min-kill 95.0%" in capsys.readouterr().err


def test_survivors_fail_the_audit(toy_course, monkeypatch, capsys, tmp_path):
    """On a real toy course with survivors, does the audit list them, write the report and exit with 1?"""
    monkeypatch.setenv("DIFFGRADE_COURSE", str(make_audit_course(toy_course)))
    report = tmp_path / "audit.md"
    assert main(["audit", "p1", "--quick", "-j", "2", "--timeout", "3", "-o", str(report)]) == 1
    out = capsys.readouterr().out
    assert "survived: toy.py:25:12:flip-bool  return False" in out
    assert "11 mutants, 9 killed, 2 survived" in out and "kill fraction 81.8%" in out
    assert "## Survivors" in report.read_text()
    assert main(["audit", "p1", "--max-mutants", "0", "-q"]) == 0
