"""Which level ``auto`` picks, and the refusal to grade without a sandbox unless asked.

Machines without bubblewrap or without Landlock are made by monkeypatching the levels'
probes; everything else runs for real.
"""

import io
import json

import pytest

import importlib

batch_mod = importlib.import_module("autograder.batch.batch")
from autograder.batch.errors import BatchError
from autograder.batch.task import GradeTask, run_task
from autograder.cli import main as cli_main
from autograder.demo import demo_isolation
from autograder.grading.grade import grade
from autograder.sandbox import isolation as iso
from autograder.sandbox.levels import BY_NAME

needs_landlock = pytest.mark.skipif(not BY_NAME["landlock"].works(), reason="this kernel offers no Landlock")


def _without(monkeypatch, *names: str) -> None:
    for name in names:
        monkeypatch.setattr(BY_NAME[name], "works", lambda: False)


@pytest.fixture
def no_bwrap(monkeypatch):
    _without(monkeypatch, "bwrap")


@pytest.fixture
def no_sandbox(monkeypatch):
    _without(monkeypatch, "bwrap", "landlock")


def test_levels_are_ordered_strongest_first():
    """Are the levels bwrap, landlock, process, and may auto pick only the first two?"""
    assert iso.LEVELS == ("bwrap", "landlock", "process") and iso.SANDBOXES == ("bwrap", "landlock")


@needs_landlock
def test_auto_takes_landlock_without_bubblewrap(no_bwrap):
    """Without bubblewrap, does auto pick Landlock and describe it, with its ABI, in the report's words?"""
    chosen = iso.choose("auto")
    assert chosen.level == "landlock" and "Landlock sandbox (ABI" in chosen.description
    assert "killed before results are written" in chosen.description
    with pytest.raises(iso.IsolationUnavailable, match="bubblewrap"):
        iso.choose("bwrap")


def test_auto_refuses_without_any_sandbox(no_sandbox):
    """With neither, does auto refuse, naming both and the explicit option, while process still works?"""
    with pytest.raises(iso.IsolationUnavailable) as info:
        iso.choose("auto")
    message = str(info.value)
    assert "bubblewrap" in message and "Landlock" in message and "--isolation process" in message
    chosen = iso.choose("process")
    assert chosen.level == "process" and "NOT a sandbox" in chosen.description
    for risk in ("hidden tests", "environment", "network", "signal"):
        assert risk in chosen.description


def test_grade_refuses_before_writing_anything(no_sandbox, toy_course, toy_submission, tmp_path):
    """Does grade() refuse at auto, before any report exists, and grade when process is asked for?"""
    sub = toy_submission("good")
    with pytest.raises(iso.IsolationUnavailable):
        grade(project="p1", submission=sub, out_dir=tmp_path / "out", root=toy_course, device="cpu")
    assert not (tmp_path / "out").exists()
    result = grade(project="p1", submission=sub, out_dir=tmp_path / "out", root=toy_course, device="cpu",
                   isolation="process")
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert result.score == result.max_score and "NOT a sandbox" in (tmp_path / "out" / "feedback.md").read_text()
    assert data["extra_data"]["isolation"] == "process"


def test_cli_says_what_is_missing(no_sandbox, toy_submission, tmp_path, capsys):
    """Does `diffgrade grade` without a sandbox exit 2 with one line naming the override?"""
    code = cli_main(["grade", "p1", str(toy_submission("good")), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("diffgrade: error: no sandbox works") and "--isolation process" in err


def test_batch_refuses_up_front(no_sandbox):
    """Does a local batch refuse before grading anyone?"""
    with pytest.raises(BatchError, match="--isolation process"):
        batch_mod._check_local("cpu", "auto")


@needs_landlock
def test_a_task_resolves_auto_on_its_own_node(no_bwrap, toy_course, toy_submission, tmp_path):
    """A batch task keeps isolation "auto" (Slurm nodes differ): on a node without bubblewrap it grades at Landlock."""
    sub = toy_submission("good")
    task = GradeTask(student_id="s1", submission=str(sub), out_dir=str(tmp_path / "s1"), log=str(tmp_path / "log"),
                     content_hash="c", course_hash="h", project="p1_forward", root=str(toy_course), device="cpu")
    assert task.isolation == "auto"
    done = run_task(task)
    data = json.loads((tmp_path / "s1" / "results.json").read_text())
    assert done.score == done.max_score and data["extra_data"]["isolation"] == "landlock"


def test_demo_goes_on_at_process_and_says_so(no_sandbox):
    """Does the demo, on a machine without a sandbox, warn and grade its own examples at process?"""
    stream = io.StringIO()
    assert demo_isolation("auto", stream) == "process"
    assert "warning:" in stream.getvalue() and "--isolation process" in stream.getvalue()
    assert demo_isolation("bwrap", io.StringIO()) == "bwrap"  # an explicit choice is passed on as it is


def test_check_needs_no_sandbox(monkeypatch, toy_course, tmp_path):
    """Does a student's `diffgrade check` (their own code, in their own process) run the same without any sandbox?"""
    from tests.release.toy import make_releasable, release_toy
    from tests.test_check import run_check

    bundle = release_toy(make_releasable(toy_course), tmp_path)
    with_sandbox = run_check("p1_forward", bundle)
    _without(monkeypatch, "bwrap", "landlock")
    code, output = run_check("p1_forward", bundle)
    assert (code, output) == with_sandbox and "::" in output and "no sandbox works" not in output
