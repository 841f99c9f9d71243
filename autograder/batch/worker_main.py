"""The process that grades one submission of a batch::

    python -m autograder.batch.worker_main --manifest out/.work/manifest.json --index 3

Executors start it, one process per submission, so that a crash of the grader
on one submission (or a kill) never takes the others down. It prints a line
when it starts and its score at the end; everything it prints goes to the
student's log in ``out_dir/logs/``.

Started by the local executor, it first asks the kernel for SIGTERM when that
executor's process dies (``PR_SET_PDEATHSIG``), and turns SIGTERM into a clean
exit that closes its sandboxed worker: a batch killed with ``kill -9`` leaves
no grader behind to race the restarted one.
"""

import argparse
import ctypes
import os
import signal
import sys
from pathlib import Path

from autograder.batch.task import PARENT_PID_VARIABLE, read_manifest, run_task

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """SIGTERM when the process named by ``$DIFFGRADE_BATCH_PARENT_PID`` dies; exit now if it already has."""
    parent = os.environ.get(PARENT_PID_VARIABLE)
    if not parent:
        return  # not started by the local executor (e.g. a Slurm array task)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return  # not Linux: the executor still stops its tasks when it exits normally
    if os.getppid() != int(parent):
        sys.exit("the batch that started this grading process is gone")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.batch.worker_main",
                                     description="Grade one task of a batch manifest.")
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--index", type=int, required=True, help="0-based position in the manifest")
    args = parser.parse_args(argv)
    die_with_parent()
    # Stopped by the executor (timeout) or orphaned: unwind, so the sandbox worker is closed too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    tasks = read_manifest(args.manifest)
    if not 0 <= args.index < len(tasks):
        print(f"task index {args.index} out of range: the manifest has {len(tasks)} tasks", file=sys.stderr)
        return 2
    task = tasks[args.index]
    print(f"grading {task.student_id}", flush=True)
    from autograder.sandbox.errors import SandboxEnvironmentError

    try:
        done = run_task(task)
    except SandboxEnvironmentError as e:  # this node's setup, not the student: an error row, never a 0
        print(f"diffgrade: error: {e}", file=sys.stderr, flush=True)
        return 3
    print(f"{task.student_id}: {done.score:g} / {done.max_score:g}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
