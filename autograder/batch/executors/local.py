"""The local executor: a pool of subprocesses on this machine, one per submission.

``workers`` processes run at a time. Each is ``python -m autograder.batch.worker_main``
in its own session, so a crash or a kill takes down that submission only. With
GPUs, worker slot ``k`` is pinned to ``gpus[k % len(gpus)]`` through
``CUDA_VISIBLE_DEVICES``. A task that outlives ``task_timeout`` is stopped
(SIGTERM, then SIGKILL). If the batch process itself dies, even by ``kill -9``,
the kernel stops its tasks too (they ask for it, see ``worker_main``), so a
restarted batch never races a stray grader.
"""

import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from autograder.batch.executors.base import Finished, log_tail
from autograder.batch.task import PARENT_PID_VARIABLE, GradeTask, write_manifest

PACKAGE_PARENT = Path(__file__).resolve().parents[3]  # the folder holding autograder/
_GRACE_S = 5.0


def task_environment(*, threads: int, gpu: str | None) -> dict[str, str]:
    """The environment of one task: ours, with the package importable, threads and GPU pinned,
    and our pid, so that the task can ask to be stopped when we die (see ``worker_main``)."""
    env = dict(os.environ)
    env[PARENT_PID_VARIABLE] = str(os.getpid())
    paths = [str(PACKAGE_PARENT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu
    return env


def exit_reason(returncode: int, log: Path) -> str:
    """Why a task process failed, in one line."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        what = f"the grading process was killed by {name}"
    else:
        what = f"the grading process failed with exit status {returncode}"
    tail = log_tail(log)
    return f"{what}: {tail}" if tail else what


@dataclass
class _Running:
    proc: subprocess.Popen
    task: GradeTask
    slot: int
    start: float
    log: object


@dataclass(frozen=True)
class LocalExecutor:
    """Grade on this machine with a pool of ``workers`` subprocesses."""

    workers: int = 1
    gpus: tuple[str, ...] = ()
    task_timeout: float | None = None
    python: str = sys.executable
    name: str = "local"

    def describe(self) -> str:
        pinned = f", pinned to GPUs {','.join(self.gpus)}" if self.gpus else ""
        return f"{self.workers} local worker{'s' if self.workers != 1 else ''}{pinned}"

    def _start(self, index: int, task: GradeTask, slot: int, manifest: Path) -> _Running:
        Path(task.log).parent.mkdir(parents=True, exist_ok=True)
        log = open(task.log, "wb")
        gpu = self.gpus[slot % len(self.gpus)] if self.gpus else None
        proc = subprocess.Popen(
            [self.python, "-m", "autograder.batch.worker_main", "--manifest", str(manifest), "--index", str(index)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, close_fds=True,
            env=task_environment(threads=task.threads, gpu=gpu), start_new_session=True)
        return _Running(proc, task, slot, time.monotonic(), log)

    @staticmethod
    def _stop(run: _Running) -> None:
        """SIGTERM the task's process group (it closes its sandbox), then SIGKILL."""
        for sig, wait in ((signal.SIGTERM, _GRACE_S), (signal.SIGKILL, None)):
            try:
                os.killpg(run.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                run.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue

    def run(self, tasks: Sequence[GradeTask], *, workdir: Path) -> Iterator[Finished]:
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        manifest = workdir / "manifest.json"
        write_manifest(manifest, list(tasks))
        pending = deque(enumerate(tasks))
        free = list(range(max(1, self.workers)))
        running: list[_Running] = []
        try:
            while pending or running:
                while pending and free:
                    index, task = pending.popleft()
                    running.append(self._start(index, task, free.pop(0), manifest))
                ended = []
                for run in running:
                    code = run.proc.poll()
                    elapsed = time.monotonic() - run.start
                    if code is None and self.task_timeout is not None and elapsed > self.task_timeout:
                        self._stop(run)
                        ended.append((run, Finished(run.task, False, f"the grading process took longer than "
                                                    f"{self.task_timeout:g} s and was stopped", elapsed)))
                    elif code is not None:
                        reason = "" if code == 0 else exit_reason(code, Path(run.task.log))
                        ended.append((run, Finished(run.task, code == 0, reason, elapsed)))
                for run, finished in ended:
                    running.remove(run)
                    run.log.close()
                    free.append(run.slot)
                    free.sort()
                    yield finished
                if not ended:
                    time.sleep(0.05)
        finally:
            for run in running:  # interrupted or closed early: stop what is still running
                self._stop(run)
                run.log.close()
