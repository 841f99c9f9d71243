"""Hostile P1 submissions graded for real, at every level that claims to stop them: can any of
them change its own score, or anything else?

Each submission in ``submissions/`` is the files of one attack (see its ``__init__.py``),
laid over the correct P1 example by ``conftest.hostile``. Each test grades it with the real hidden tests (from a
copy of the project with short time limits) and checks the three things of
``conftest``: the score equals that of an honest twin, a normal submission
graded afterwards gets full marks, and nothing outside the report was written.
``at_levels(kind)`` runs it at each level the table ``STOPPED_AT`` in ``conftest``
says stops that kind of attack, and not at the others.
"""

import os
import secrets
import time

import torch

from autograder.grading.grade import grade, load_reference
from autograder.sandbox import isolation as iso
from autograder.sandbox.client import StudentProxy, Worker
from tests.adversarial.conftest import (
    Course,
    assert_report_only,
    assert_scores_like_twin,
    at_levels,
    fails,
    hostile,
    marked_files,
    processes_with,
    requires_bwrap,
    twin_score,
)
from tests.conftest import REPO


def noise_only(x0, t, alpha_bar, noise):
    """The wrong q_sample of several attacks, honestly."""
    return noise.clone()


@at_levels("forged_results")
def test_fake_results_are_ignored(p1_course, tmp_path, level):
    """Does writing a perfect results.json everywhere it can (cwd, /tmp, /autograder, the out dir) change nothing?"""
    out = tmp_path / "out"
    result = p1_course.grade(hostile("tamper_results", tmp_path), out, level)
    assert_scores_like_twin(result, p1_course, q_sample=noise_only)
    assert result.score < result.max_score
    report = (out / "results.json").read_text() + (out / "feedback.md").read_text()
    assert "diffgrade-adversarial-tamper" not in report
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@at_levels("tamper_checkout")
def test_checkout_and_course_cannot_be_tampered_with(p1_course, tmp_path, level):
    """Does appending code to the grader's own source files and to the course's files fail everywhere?"""
    mark = "diffgrade-adversarial-tamper-checkout"
    result = p1_course.grade(hostile("tamper_checkout", tmp_path), tmp_path / "out", level)
    assert_scores_like_twin(result, p1_course, q_sample=noise_only)
    assert not marked_files(mark, REPO / "autograder", REPO / "assignments", REPO / "solutions", p1_course.root)
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@at_levels("surviving_daemon")
def test_no_daemon_outlives_the_grading(p1_course, tmp_path, level):
    """Is a daemon that kills its parent, leaves its cgroup and setsid()s gone before the report is
    written, so it cannot rewrite the results to full marks afterwards?"""
    mark = "diffgrade-adversarial-surviving-daemon"
    out = tmp_path / "out"
    try:
        result = p1_course.grade(hostile("surviving_daemon", tmp_path), out, level)
        assert processes_with(mark) == []  # gone when grade() returned, so before its report was written
        time.sleep(1.0)  # a survivor rewrites every 0.2 s
        assert_report_only(out, result)
        assert result.score == result.max_score
        p1_course.assert_untouched()
        p1_course.assert_grades_normally(tmp_path / "after", level)
    finally:
        for pid in processes_with(mark):  # ours, had the sandbox failed: named by this test's submission
            os.kill(pid, 9)


@at_levels("read_reference")
def test_the_reference_on_disk_is_out_of_reach(p1_course, tmp_path, level):
    """Does a submission that answers with the reference found on disk score like its own wrong functions?"""
    result = p1_course.grade(hostile("read_reference", tmp_path), tmp_path / "out", level)
    assert_scores_like_twin(result, p1_course, q_sample=noise_only, snr=lambda alpha_bar: alpha_bar * 0)
    assert result.score < result.max_score
    p1_course.assert_untouched()


def test_the_reference_thief_is_real_outside_the_sandbox(p1_course, tmp_path):
    """Control: at the process level (no sandbox) the same submission finds the reference and gets full marks."""
    result = p1_course.grade(hostile("read_reference", tmp_path), tmp_path / "out", "process")
    assert result.score == result.max_score


@at_levels("kill_grader")
def test_the_grader_survives_being_killed(p1_course, tmp_path, level):
    """Does SIGKILL to every ancestor (and kill(-1) where not root) leave the grader alive, and its result kept?"""
    me = os.getpid()
    result = p1_course.grade(hostile("kill_grader", tmp_path), tmp_path / "out", level)
    assert os.getpid() == me
    assert result.score == result.max_score, [t.output for t in result.tests if not t.passed][:2]
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@at_levels("steal_secrets")
def test_secrets_stay_out_of_reach(tmp_path, monkeypatch, level):
    """Can a submission read hidden tests, solutions, another student's files or the grader's secrets? (No.)

    This one grades against the repository's own course, so the hidden tests and
    solutions sit at their real, guessable paths (``/work/*/assignments/...``).
    """
    token = secrets.token_hex(16)
    monkeypatch.setenv("DIFFGRADE_ADVERSARIAL_SECRET", token)  # in the grader's memory and environment
    other = tmp_path / "other_student" / "p1_forward"
    other.mkdir(parents=True)
    (other / "forward.py").write_text(f"# OTHER-STUDENT-{token}\n")
    course = Course(tmp_path / "course")  # hashes the repository's P1 files too
    result = grade(project="p1", submission=hostile("steal_secrets", tmp_path), out_dir=tmp_path / "out", root=REPO,
                   device="cpu", isolation=level)
    assert_report_only(tmp_path / "out", result)
    report = (tmp_path / "out" / "results.json").read_text() + (tmp_path / "out" / "feedback.md").read_text()
    assert token not in report and "BEGIN SOLUTION" not in report and "def test_" not in report
    assert "STOLEN" not in report
    assert result.score == result.max_score  # it found nothing, so it answered honestly
    course.assert_untouched()
    course.assert_grades_normally(tmp_path / "after", level)


def test_the_thief_is_real_outside_the_sandbox(tmp_path):
    """Control: without bubblewrap (the process fallback), does the same submission find the hidden tests?

    So its empty hands above are the sandbox's doing, not a broken attack. (Reading
    the file system is what the fallback does not prevent; see test_fallback.)
    """
    with Worker(package="p1_forward", submission_dir=hostile("steal_secrets", tmp_path), isolation=iso.choose("process"),
                call_timeout=10, startup_timeout=60) as worker:
        loot = StudentProxy(worker).stolen()
    assert "def test_" in loot or "BEGIN SOLUTION" in loot, loot[:500]


@at_levels("patch_comparisons")
def test_patched_comparisons_change_nothing(p1_course, tmp_path, level):
    """Do patched comparisons (torch, numpy, math, scipy), builtins and a fake autograder module change the score?"""
    result = p1_course.grade(hostile("patch_comparisons", tmp_path), tmp_path / "out", level)
    assert_scores_like_twin(result, p1_course, q_sample=noise_only)
    assert result.score < result.max_score
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@at_levels("lying_results")
def test_lying_results_are_checked_as_data(p1_course, tmp_path, level):
    """Do a tensor subclass equal to everything, always-equal objects, an impostor and a false dtype all fail?"""
    ref = load_reference("p1_forward", p1_course.root)
    result = p1_course.grade(hostile("lying_results", tmp_path), tmp_path / "out", level)
    assert_scores_like_twin(
        result, p1_course,
        q_sample=lambda x0, t, alpha_bar, noise: torch.zeros_like(x0),
        q_posterior=lambda *args: (object(), object()),
        predict_x0_from_eps=fails,
        snr=lambda alpha_bar: ref.snr(alpha_bar).float(),
        v_target=lambda *args: object())
    assert result.score < 60
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@requires_bwrap
def test_detecting_the_grader_does_not_help(p1_course, tmp_path):
    """Grading is detectable in the worker, but is what a detecting submission returns still what is scored?

    The worker gives itself away (its command line, its private modules, the
    unprivileged user, bubblewrap as process 1): detection cannot be prevented,
    so the result is checked anyway. q_sample (right only when graded) passes,
    v_target (wrong only when graded) fails, and snr's hunt for the expected
    answer in frames and garbage-collected objects finds nothing.
    """
    with Worker(package="p1_forward", submission_dir=hostile("detect_grading", tmp_path), isolation=iso.choose("bwrap"),
                call_timeout=10) as worker:
        signals = StudentProxy(worker).grading_signals()
    assert signals, "the worker looked like a student's own session"
    frames = [s for s in signals if s.startswith("frame ")]
    assert frames and all("/grader/worker.py" in s for s in frames), frames  # no frame of the grader's

    result = p1_course.grade(hostile("detect_grading", tmp_path), tmp_path / "out")
    assert_scores_like_twin(result, p1_course,
                            v_target=lambda x0, t, alpha_bar, noise: x0.clone(),
                            snr=lambda alpha_bar: torch.zeros_like(alpha_bar))
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after")


@requires_bwrap
def test_signals_cannot_reach_the_grader(p1_course, tmp_path):
    """Do SIGSTOP/SIGKILL to the parent, SIGTERM to its group and kill(-1) at import leave the grader running?"""
    me = os.getpid()
    result = p1_course.grade(hostile("signals_at_import", tmp_path), tmp_path / "out")
    assert os.getpid() == me
    assert result.score == result.max_score, [t.output for t in result.tests if not t.passed][:2]
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after")


@at_levels("resource_hogs")
def test_resource_hogs_cost_only_their_tests(p1_course, tmp_path, level):
    """Do an unkillable loop and unbounded Python and torch allocations cost only their tests?"""
    result = p1_course.grade(hostile("resource_hogs", tmp_path), tmp_path / "out", level)
    assert_scores_like_twin(result, p1_course, snr=fails, q_posterior=fails, predict_x0_from_eps=fails)
    outputs = " ".join(t.output for t in result.tests if not t.passed)
    assert "did not return within 3 s" in outputs and ("MemoryError" in outputs or "memory" in outputs)
    assert result.seconds < 90
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@at_levels("fork_bomb")
def test_fork_bomb_is_contained(p1_course, tmp_path, level):
    """Does a fork bomb in snr cost only snr's tests, leaving the grader and the next submission unharmed?"""
    result = p1_course.grade(hostile("fork_bomb", tmp_path), tmp_path / "out", level)
    assert_scores_like_twin(result, p1_course, snr=fails)
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


@at_levels("output_flood")
def test_output_flood_is_capped(p1_course, tmp_path, level):
    """Does printing gigabytes leave the protocol intact, the report small and the score full?"""
    result = p1_course.grade(hostile("output_flood", tmp_path), tmp_path / "out", level)
    assert result.score == result.max_score, [t.output for t in result.tests if not t.passed][:2]
    assert (tmp_path / "out" / "feedback.md").stat().st_size < 64 << 10
    assert (tmp_path / "out" / "results.json").stat().st_size < 64 << 10
    p1_course.assert_untouched()
    p1_course.assert_grades_normally(tmp_path / "after", level)


def test_twin_of_the_reference_scores_full_marks(p1_course):
    """Is the yardstick sound: does the honest twin with nothing replaced get every point?"""
    score, failed_names = twin_score(p1_course)
    assert failed_names == set() and score == p1_course.config.max_score
