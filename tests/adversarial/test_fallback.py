"""The process level (no sandbox, only when asked for by name): what it still guarantees.

Where neither bubblewrap nor Landlock works, ``auto`` refuses to grade; with
``--isolation process`` the worker is a plain child process in a session of its own,
started by the subreaper of ``runtime/reaper.py``, with the same resource limits and,
where the grader may make cgroups, the same cgroups. It still guarantees what does
not depend on hiding anything:

* the score: it is computed in the grader from the data the worker sends, so
  patched comparisons, crashes and exits (and lying objects, which cross the
  same codec as in a sandbox) change nothing but the student's own tests
  (the P1 versions of these run at every level in test_p1_attacks);
* the grader's survival of a hang, a crash, a flood of output or an allocation,
  each of which ends with its call, and the next submission's full marks;
* a plain daemon's end when the worker stops (the subreaper's sweep, test_levels);
* a fork bomb's end at the sandbox's pids cgroup (or, for a grader that is not
  root, at RLIMIT_NPROC set from the user's own count).

What it does NOT guarantee, and what these tests therefore never try at this level
(``STOPPED_AT`` in conftest marks them "no"; the Landlock level stops them all), as
they would touch the machine running them (only reading is shown, by the controls
``test_the_thief_is_real_outside_the_sandbox`` and
``test_the_reference_thief_is_real_outside_the_sandbox`` in test_p1_attacks):

* secrecy: the worker runs as the grader's user and reads whatever the grader
  can read: hidden tests, reference solutions (and answers with them), other
  students' files, and the grader's environment and memory through
  /proc/<ppid>/environ and /proc/<ppid>/mem;
* integrity: it writes whatever the grader can write: the course's files, the
  grader's own source, the output folder, site-packages when that is root;
* a daemon's end when the submission first kills the subreaper (its parent) and,
  as root, moves itself out of its cgroups: it can then rewrite results.json
  after grading;
* the grader's life against a deliberate signal: ``kill(getppid(), SIGKILL)``
  and ``kill(-1, SIGKILL)`` reach the grader and every process of its user;
* the network;
* a fork bomb's end where the grader is root and no cgroup can be made (the
  kernel does not apply RLIMIT_NPROC to root).

Every report graded at this level says so in its isolation line.
"""

import errno
import os

import pytest
import torch

from autograder.sandbox import isolation as iso
from autograder.sandbox.errors import StudentCodeError, StudentException
from tests.adversarial.conftest import toy_worker
from tests.adversarial.test_exhaustion import HOGS


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
