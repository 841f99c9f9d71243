"""The batch and regrade subcommands: options, forwarding and error messages."""

import argparse
from pathlib import Path

from autograder.batch.cli import main, register
from tests.batch.conftest import make_course


def parse(*argv: str):
    parser = argparse.ArgumentParser(prog="diffgrade")
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_batch_options_and_defaults():
    """Does `batch` take the project, the folder and the output, with local defaults?"""
    args = parse("batch", "p1", "subs", "-o", "out")
    assert (args.project, args.submissions, args.output) == ("p1", Path("subs"), Path("out"))
    assert (args.workers, args.executor, args.roster, args.deadline, args.device, args.isolation) == \
           (None, "local", None, None, "auto", "auto")
    assert (args.chunk_size, args.sbatch_arg, args.retry_errors, args.quiet) == (1, [], False, False)


def test_batch_slurm_options():
    """Are the Slurm options parsed, with repeatable extra sbatch arguments?"""
    args = parse("batch", "p2", "subs", "-o", "out", "--executor", "slurm", "-j", "4", "--partition", "gpu",
                 "--time-limit", "01:00:00", "--mem", "8G", "--chunk-size", "5", "--sbatch-arg=--gres=gpu:1",
                 "--sbatch-arg=--qos=course", "--cpus-per-task", "4")
    assert (args.executor, args.workers, args.partition, args.time_limit, args.mem, args.chunk_size) == \
           ("slurm", 4, "gpu", "01:00:00", "8G", 5)
    assert args.sbatch_arg == ["--gres=gpu:1", "--qos=course"] and args.cpus_per_task == 4


def test_regrade_options():
    """Does `regrade` take the project, the student and the batch folder?"""
    args = parse("regrade", "p1", "alice", "-o", "out")
    assert (args.project, args.student_id, args.output) == ("p1", "alice", Path("out"))


def test_malformed_roster_is_an_error_message(tmp_path, monkeypatch, capsys):
    """Does a malformed roster end the command with exit status 2 and the row, not a traceback?"""
    monkeypatch.setenv("DIFFGRADE_COURSE", str(make_course(tmp_path / "course")))
    (tmp_path / "subs").mkdir()
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,file\nalice,a.zip,extra\n")
    code = main(["batch", "p1", str(tmp_path / "subs"), "-o", str(tmp_path / "out"), "--roster", str(roster)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("diffgrade: error: ") and "row 2: 3 fields" in err


def test_regrade_without_batch_is_an_error_message(tmp_path, monkeypatch, capsys):
    """Does regrading in a folder that holds no batch say to run batch first?"""
    monkeypatch.setenv("DIFFGRADE_COURSE", str(make_course(tmp_path / "course")))
    code = main(["regrade", "p1", "alice", "-o", str(tmp_path)])
    assert code == 2 and "run `diffgrade batch` first" in capsys.readouterr().err
