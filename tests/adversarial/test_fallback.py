"""The process fallback (no bubblewrap): what it still guarantees against the same attacks.

Where bubblewrap cannot run, the worker is a plain child process in a session of
its own, with the same resource limits and, where the grader may make cgroups,
the same cgroups. It still guarantees what does not depend on hiding anything:

* the score: it is computed in the grader from the data the worker sends, so
  patched comparisons, crashes and exits (and lying objects, which cross the
  same codec as in bubblewrap) change nothing but the student's own tests;
* the grader's survival of a hang, a crash, a flood of output or an allocation,
  each of which ends with its call, and the next submission's full marks;
* a fork bomb's end at the sandbox's pids cgroup (or, for a grader that is not
  root, at RLIMIT_NPROC set from the user's own count).

What it does NOT guarantee, and what these tests therefore never try, as they
would touch the machine running them (only reading is shown, by the control
``test_the_thief_is_real_outside_the_sandbox`` in test_p1_attacks):

* secrecy: the worker runs as the grader's user and reads whatever the grader
  can read: hidden tests, reference solutions, other students' files, and the
  grader's environment and memory through /proc/<ppid>/environ and /proc/<ppid>/mem;
* integrity: it writes whatever the grader can write: the course's files, the
  output folder (even after grading, from a process it left behind, since
  ``setsid`` escapes the kill of its session), site-packages when that is root;
* the grader's life against a deliberate signal: ``kill(getppid(), SIGKILL)``
  and ``kill(-1, SIGKILL)`` reach the grader and every process of its user;
* the network;
* a fork bomb's end where the grader is root and no cgroup can be made (the
  kernel does not apply RLIMIT_NPROC to root), or where a root worker moves
  itself out of its cgroups, which nothing stops it from doing.

Grade with bubblewrap; the report names the isolation that was used.
"""

import errno
import os

import pytest
import torch

from autograder.sandbox import isolation as iso
from autograder.sandbox.errors import StudentCodeError, StudentException
from tests.adversarial.conftest import assert_scores_like_twin, hostile, toy_worker
from tests.adversarial.test_exhaustion import HOGS


def noise_only(x0, t, alpha_bar, noise):
    return noise.clone()


def test_patched_comparisons_change_nothing(p1_course, tmp_path):
    """In the process fallback, do patched comparisons still score exactly like an honest twin?"""
    result = p1_course.grade(hostile("patch_comparisons"), tmp_path / "patch", isolation="process")
    assert result.score < result.max_score and result.tests  # graded, in the fallback
    assert_scores_like_twin(result, p1_course, q_sample=noise_only)
    p1_course.assert_grades_normally(tmp_path / "after", isolation="process")


CRASHES = HOGS + '''
import signal
import sys


def leave():
    sys.exit(0)


def die():
    os._exit(3)


def own_group():
    os.killpg(0, signal.SIGKILL)  # its own session: the grader is not in it


def spin():
    while True:
        pass


def hoard():
    blocks = []
    while True:
        blocks.append(bytearray(64 << 20))
'''


def test_crashes_hangs_and_hogs_cost_one_call(tmp_path):
    """In the process fallback, do exits, crashes, signals to its group, loops, floods and hoards cost one call each?"""
    limits = iso.Limits(memory_mb=2048, file_size_mb=16)
    with toy_worker(tmp_path / "sub", CRASHES, level="process", limits=limits, call_timeout=2) as (student, _):
        with pytest.raises(StudentException, match="SystemExit"):
            student.leave()
        with pytest.raises(StudentException, match="MemoryError"):
            student.hoard(_timeout=30)  # filling 2 GiB can take more than 2 s on a loaded machine
        assert student.flood(1.0) == errno.EFBIG
        for fn in ("die", "own_group", "spin"):
            with pytest.raises(StudentCodeError):
                getattr(student, fn)()
            assert student.scale(torch.ones(1), 2.0).item() == 2.0


@pytest.mark.skipif(os.geteuid() == 0 and "pids" not in iso._cgroup_parents(),
                    reason="root without a pids cgroup: nothing would stop a fork bomb in the process fallback")
def test_fork_bomb_is_stopped(tmp_path):
    """In the process fallback, does a fork bomb stop at the sandbox's process limit?"""
    limits = iso.Limits(memory_mb=2048, nproc=64)
    with toy_worker(tmp_path / "sub", HOGS, level="process", limits=limits, call_timeout=10) as (student, _):
        made, error = student.bomb(3000, 3.0)
        assert error == errno.EAGAIN and made < 64, (made, error)
        assert student.scale(torch.ones(1), 2.0).item() == 2.0
